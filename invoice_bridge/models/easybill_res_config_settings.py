from odoo import fields, models


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
