"""The easybill channel in the delivery engine: each step of an export is one message (see easybill_export.py).

There is one Retry for an export: the export's, the one of its requests (Deliveries) and the one of its sync-log
lines all resume the export at its failed step.
"""
from odoo import _, api, fields, models

from ..lib.core_outcome import FAIL, Outcome
from ..lib.easybill_client import SYNC_STEPS
from .easybill_export import STEPS

EXPORT = "invoice_bridge.easybill.export"
#: the back-sync's reads of a whole company (easybill_sync.py) are the company's messages
COMPANY = "res.company"


class InvoiceBridgeOutbox(models.Model):
    _inherit = "invoice_bridge.outbox"

    channel = fields.Selection(selection_add=[("easybill", "easybill")], ondelete={"easybill": "cascade"})
    easybill_step = fields.Selection(STEPS + SYNC_STEPS, "easybill step", readonly=True)

    def _easybill_exports(self):
        """``{message id: its export}`` (empty for a company's message, or when the export was deleted)."""
        exports = self.env[EXPORT].sudo()
        return {msg.id: exports.browse(msg.res_id).exists() if msg.res_model == EXPORT else exports.browse()
                for msg in self}

    # Override of the engine's extension point: "easybill: draft invoice for Müller GmbH (November 2026) · Find
    # the customer"
    def _channel_describe(self):
        mine = self.filtered(lambda m: m.channel == "easybill")
        described = super(InvoiceBridgeOutbox, self - mine)._channel_describe()
        steps = dict(self._fields["easybill_step"]._description_selection(self.env))
        exports = mine._easybill_exports()
        for msg in mine:
            export = exports[msg.id]
            if msg.res_model == COMPANY:
                company = self.env[COMPANY].sudo().browse(msg.res_id)
                described[msg.id] = _("easybill back-sync of %(company)s · %(step)s", company=company.name,
                                      step=steps.get(msg.easybill_step))
                continue
            what = _("easybill: draft invoice for %(customer)s (%(month)s)",
                     customer=export.partner_id.display_name, month=export._month_label()) if export else \
                _("easybill: a deleted export")
            step = steps.get(msg.easybill_step)
            described[msg.id] = f"{what} · {step}" if step else what
        return described

    # Override of the engine's extension point: a company's easybill target is shown as its easybill account
    def _channel_target_labels(self, targets):
        labels = super()._channel_target_labels(targets)
        for prefix, label in (("easybill:", _("easybill account of %s")),
                              ("easybill-sync:", _("easybill back-sync of %s"))):
            ids = {int(t[len(prefix):]): t for t in targets if t.startswith(prefix) and t[len(prefix):].isdigit()}
            for company in self.env["res.company"].sudo().browse(list(ids)).exists():
                labels[ids[company.id]] = label % company.name
        return labels

    # Override of the engine's action: retrying an export's request resumes the export (one Retry)
    def action_retry(self):
        result = super().action_retry()
        mine = self.filtered(lambda m: m.channel == "easybill" and m.state == "pending")
        exports = self.env[EXPORT].sudo().union(*mine._easybill_exports().values())
        exports.filtered(lambda e: e.state == "failed").write({"state": "sending", "last_error": False})
        return result

    # Override of the engine's extension point: the API key is added when the request is sent
    def _channel_requests(self):
        mine = self.filtered(lambda m: m.channel == "easybill")
        prepared = super(InvoiceBridgeOutbox, self - mine)._channel_requests()
        exports = mine._easybill_exports()
        for msg in mine:
            export = exports[msg.id]
            if msg.res_model == COMPANY:
                prepared[msg.id] = self.env[EXPORT].sudo()._sync_company_request(msg)
                continue
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
            if msg.res_model == COMPANY:
                self.env[EXPORT].sudo()._on_company_sync_result(msg, attempts[msg.id])
            elif exports[msg.id]:
                exports[msg.id]._on_step_result(msg, attempts[msg.id])
        return result


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"

    channel = fields.Selection(selection_add=[("easybill", "easybill")], ondelete={"easybill": "cascade"})

    def _easybill_export_lines(self):
        return self.filtered(lambda log: log.channel == "easybill" and log.res_model == EXPORT and log.res_id)

    # Override of the sync log's compute: an export's line offers Retry while the export failed, on its latest
    # line only (also a line without a request: an invalid CSV, a missing API key)
    @api.depends("res_model", "res_id")
    def _compute_followup(self):
        result = super()._compute_followup()
        mine = self._easybill_export_lines()
        if mine:
            exports = self.env[EXPORT].sudo().browse(set(mine.mapped("res_id"))).exists()
            failed = set(exports.filtered(lambda e: e.state == "failed").ids)
            latest = dict(self.sudo()._read_group(
                [("channel", "=", "easybill"), ("res_model", "=", EXPORT), ("res_id", "in", list(failed))],
                ["res_id"], ["id:max"])) if failed else {}
            for log in mine:
                log.retryable = log.res_id in failed and bool(log.id) and log.id >= latest.get(log.res_id, 0)
        return result

    # Override of the sync log's action: Retry on an export's line retries the export (the export's Retry)
    def action_retry(self):
        mine = self._easybill_export_lines()
        others = self - mine
        exports = self.env[EXPORT].browse(set(mine.filtered("retryable").mapped("res_id"))).exists()
        if not exports:
            return super().action_retry()
        exports.action_retry()
        if others.filtered("retryable"):
            super(InvoiceBridgeSyncLog, others).action_retry()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "sticky": False, "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            "message": _("%s easybill export(s) will be retried in a moment.", len(exports))}}

    # Override of the sync log's action: an export's line cancels the export (managers), not only its request
    def action_cancel_message(self):
        mine = self._easybill_export_lines()
        exports = self.env[EXPORT].browse(set(mine.filtered("retryable").mapped("res_id"))).exists()
        if exports:
            exports.action_cancel()
            exports.sudo().outbox_ids.filtered(lambda m: m.state in ("pending", "failed", "dead")).action_cancel()
        return super(InvoiceBridgeSyncLog, self - mine).action_cancel_message()

    # Override of the sync log's extension point: the companies' easybill API keys
    def _ib_known_secrets(self):
        self.env[COMPANY].flush_model(["ib_easybill_api_key"])  # a key saved in this transaction is masked too
        self.env.cr.execute("SELECT ib_easybill_api_key FROM res_company WHERE ib_easybill_api_key IS NOT NULL")
        keys = [row[0] for row in self.env.cr.fetchall()]
        # the back-sync's webhook URL tokens and secrets (derived, see easybill_sync.py)
        companies = self.env[COMPANY].sudo().search([("ib_easybill_webhook_nonce", "!=", False)])
        derived = [c._ib_easybill_derived(purpose) for c in companies for purpose in ("webhook-token",
                                                                                       "webhook-secret")]
        return (*super()._ib_known_secrets(), *keys, *derived)
