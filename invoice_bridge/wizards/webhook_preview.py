import json

from odoo import fields, models


class InvoiceBridgeWebhookPreview(models.TransientModel):
    _name = "invoice_bridge.webhook.preview"
    _description = "Invoice Bridge Webhook Payload Preview"

    move_id = fields.Many2one("account.move", required=True, readonly=True)
    event = fields.Char(readonly=True)
    payload = fields.Text(readonly=True, help="The JSON document a new_invoice event would carry now.")

    def _fill(self):
        for preview in self:
            document = preview.move_id._ib_webhook_document(preview.event or "new_invoice", "msg_preview")
            preview.payload = json.dumps(document, indent=2, ensure_ascii=False)
