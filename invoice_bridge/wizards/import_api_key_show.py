from odoo import fields, models


class InvoiceBridgeApiKeyShow(models.AbstractModel):
    """Shows a freshly issued key once, as Odoo's ``res.users.apikeys.show`` does: nothing is stored, the key
    travels in the action's context (``default_key``) to the form that displays it."""

    _name = "invoice_bridge.api.key.show"
    _description = "Show an Invoice Bridge API key once"

    # the field 'id' is necessary for the onchange that returns the value of 'key'
    id = fields.Id()
    key = fields.Char(readonly=True)
