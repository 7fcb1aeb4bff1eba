from odoo import fields, models


class InvoiceBridgeApiKeyShow(models.TransientModel):
    """Shows a freshly issued key once (transient: vacuumed by Odoo, like ``res.users.apikeys.show``)."""

    _name = "invoice_bridge.api.key.show"
    _description = "Show an Invoice Bridge API key once"

    api_key_id = fields.Many2one("invoice_bridge.api.key", required=True, ondelete="cascade")
    key = fields.Char(readonly=True)
