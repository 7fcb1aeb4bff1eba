from odoo import _, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_easybill_enabled = fields.Boolean(related="company_id.ib_easybill_enabled", readonly=False)
    ib_easybill_url = fields.Char(related="company_id.ib_easybill_url", readonly=False)
    ib_easybill_api_key = fields.Char(related="company_id.ib_easybill_api_key", readonly=False,
                                      groups="base.group_system")
    ib_easybill_rate_limit = fields.Selection(related="company_id.ib_easybill_rate_limit", readonly=False)
    ib_easybill_line_selection = fields.Selection(related="company_id.ib_easybill_line_selection", readonly=False)
    ib_easybill_move_state = fields.Selection(related="company_id.ib_easybill_move_state", readonly=False)
    ib_easybill_auto_finalize = fields.Boolean(related="company_id.ib_easybill_auto_finalize", readonly=False)
    ib_easybill_document_url = fields.Char(related="company_id.ib_easybill_document_url", readonly=False)
    ib_easybill_webhook_id = fields.Char(related="company_id.ib_easybill_webhook_id")

    def action_ib_easybill_register_webhook(self):
        """The settings' button: register the back-sync's webhook of the company (administrators)."""
        self.ensure_one()
        self.execute()  # the API key just typed counts
        self.company_id.action_ib_easybill_register_webhook()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "sticky": False, "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            "message": _("The webhook is being registered in easybill (see the sync log).")}}
