from odoo import api, fields, models


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    channel = fields.Selection(selection_add=[("import_api", "Import API")], ondelete={"import_api": "cascade"})

    @api.model
    def _cron_vacuum(self, batch=10000):
        """The nightly vacuum forgets the import API's idempotency keys older than their 24 hours too."""
        count = super()._cron_vacuum(batch=batch)
        self.env["invoice_bridge.api.idempotency"].sudo()._vacuum()
        return count
