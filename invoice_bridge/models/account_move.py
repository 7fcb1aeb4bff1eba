from odoo import _, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    ib_sync_log_count = fields.Integer("Sync", compute="_compute_ib_sync_log_count",
                                       groups="invoice_bridge.group_invoice_bridge_user")

    def _compute_ib_sync_log_count(self):
        counts = dict(self.env["invoice_bridge.sync.log"]._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["__count"]))
        for move in self:
            move.ib_sync_log_count = counts.get(move, 0)

    def action_ib_open_sync_log(self):
        self.ensure_one()
        return self.env["invoice_bridge.sync.log"]._action_open_for(
            [("move_id", "=", self.id)], _("Sync: %s", self.display_name))
