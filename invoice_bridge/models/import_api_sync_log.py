from odoo import fields, models


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    channel = fields.Selection(selection_add=[("import_api", "Import API")], ondelete={"import_api": "cascade"})
