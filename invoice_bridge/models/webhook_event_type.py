from odoo import fields, models

from .core_compat import Constraint


class InvoiceBridgeWebhookEventType(models.Model):
    _name = "invoice_bridge.webhook.event.type"
    _description = "Invoice Bridge Webhook Event Type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, index=True, help="The value of the body's 'event' key.")
    description = fields.Char(translate=True)
    sequence = fields.Integer(default=10)

    _code_uniq = Constraint("unique(code)", "An event type code is unique.")
