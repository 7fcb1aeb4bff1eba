"""The easybill channel in the delivery engine: each step of an export is one message (see easybill_export.py)."""
from odoo import _, fields, models

from ..lib.core_outcome import FAIL, Outcome
from .easybill_export import STEPS


class InvoiceBridgeOutbox(models.Model):
    _inherit = "invoice_bridge.outbox"

    channel = fields.Selection(selection_add=[("easybill", "easybill")], ondelete={"easybill": "cascade"})
    easybill_step = fields.Selection(STEPS, "easybill step", readonly=True)

    def _easybill_exports(self):
        return {msg.id: self.env["invoice_bridge.easybill.export"].sudo().browse(msg.res_id).exists() for msg in self}

    # Override of the engine's extension point: the API key is added when the request is sent
    def _channel_requests(self):
        mine = self.filtered(lambda m: m.channel == "easybill")
        prepared = super(InvoiceBridgeOutbox, self - mine)._channel_requests()
        exports = mine._easybill_exports()
        for msg in mine:
            export = exports[msg.id]
            prepared[msg.id] = export._request_for(msg) if export else Outcome(FAIL, _("The export was deleted."))
        return prepared

    # Override of the engine's extension point: easybill's answers carry the ids of the next steps
    def _channel_interpret(self, exchange):
        if self.channel != "easybill":
            return super()._channel_interpret(exchange)
        return self.env["invoice_bridge.easybill.export"]._interpret(self, exchange)

    # Override of the engine's extension point: store the step's result, queue the next step
    def _channel_after_attempts(self, attempts):
        mine = self.filtered(lambda m: m.channel == "easybill")
        result = super(InvoiceBridgeOutbox, self - mine)._channel_after_attempts(attempts)
        exports = mine._easybill_exports()
        for msg in mine:
            if exports[msg.id]:
                exports[msg.id]._on_step_result(msg, attempts[msg.id])
        return result


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"

    channel = fields.Selection(selection_add=[("easybill", "easybill")], ondelete={"easybill": "cascade"})

    # Override of the sync log's extension point: the companies' easybill API keys
    def _ib_known_secrets(self):
        self.env.cr.execute("SELECT ib_easybill_api_key FROM res_company WHERE ib_easybill_api_key IS NOT NULL")
        return (*super()._ib_known_secrets(), *(row[0] for row in self.env.cr.fetchall()))
