from odoo import fields, models


class InvoiceBridgeWebhookEventType(models.Model):
    _name = "invoice_bridge.webhook.event.type"
    _description = "Invoice Bridge Webhook Event Type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True, help="The value of the body's 'event' key.")
    description = fields.Char(translate=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [("code_uniq", "unique(code)", "An event type code is unique.")]
