from odoo import _, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ib_sync_log_count = fields.Integer("Sync", compute="_compute_ib_sync_log_count",
                                       groups="invoice_bridge.group_invoice_bridge_user")

    def _compute_ib_sync_log_count(self):
        counts = self.env["invoice_bridge.sync.log"]._counts_by("partner_id", self)
        for partner in self:
            partner.ib_sync_log_count = counts.get(partner, 0)

    def action_ib_open_sync_log(self):
        self.ensure_one()
        return self.env["invoice_bridge.sync.log"]._action_open_for(
            [("partner_id", "=", self.id)], _("Sync: %s", self.display_name))
