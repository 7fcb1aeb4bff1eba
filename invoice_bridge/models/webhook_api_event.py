from odoo import api, models


class InvoiceBridgeApiEvent(models.Model):
    _inherit = "invoice_bridge.api.event"

    # Override of the import API's events: each is announced to the subscribed webhook endpoints too
    @api.model
    def _emit(self, event, moves):
        events = super()._emit(event, moves)
        if events:
            moves._ib_emit_webhook(event, key_suffix=str(events[-1].id))
        return events
