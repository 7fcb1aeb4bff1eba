from odoo import models


class AccountMove(models.Model):
    """The invoice's *Sync* smart button: every exchange about it, on any channel."""

    _name = "account.move"
    _inherit = ["account.move", "invoice_bridge.sync.log.mixin"]

    def _ib_sync_log_field(self):
        return "move_id"
