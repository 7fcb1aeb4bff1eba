from odoo import models


class ResPartner(models.Model):
    """The partner's *Sync* smart button: every exchange with or about it, on any channel."""

    _name = "res.partner"
    _inherit = ["res.partner", "invoice_bridge.sync.log.mixin"]

    def _ib_sync_log_field(self):
        return "partner_id"
