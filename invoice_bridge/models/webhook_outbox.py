"""The webhook channel in the delivery engine: signed requests to the endpoints, their health afterwards."""
from odoo import _, fields, models

from ..lib.core_outcome import FAIL, RETRY, SUCCESS, Outcome
from ..lib.core_transport import DEFAULT_TIMEOUT, Request
from ..lib.webhook_signer import WebhookSigner
from .webhook_endpoint import ARCHIVED_PAUSE


class InvoiceBridgeOutbox(models.Model):
    _inherit = "invoice_bridge.outbox"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    channel = fields.Selection(selection_add=[("webhook", "Webhook")], ondelete={"webhook": "cascade"})
    webhook_endpoint_id = fields.Many2one("invoice_bridge.webhook.endpoint", "Endpoint", readonly=True,
                                          index="btree_not_null", ondelete="set null")
    webhook_event = fields.Char("Event", readonly=True, help="The event the message announces (its body's 'event').")

    # Override of the engine's extension point: "New invoice INV/2026/00002 to ERP"
    def _channel_describe(self):
        mine = self.filtered(lambda m: m.channel == "webhook")
        described = super(InvoiceBridgeOutbox, self - mine)._channel_describe()
        events = dict(self.env["invoice_bridge.webhook.event.type"].sudo().search_fetch(
            [("code", "in", list(set(mine.mapped("webhook_event"))))], ["code", "name"]).mapped(
            lambda e: (e.code, e.name))) if mine else {}
        for msg in mine:
            what = events.get(msg.webhook_event) or (
                _("Test event") if msg.webhook_event == "test" else msg.webhook_event or _("Webhook"))
            endpoint = msg.webhook_endpoint_id.sudo().with_context(active_test=False).name or _("a deleted endpoint")
            described[msg.id] = _("%(what)s %(record)s to %(endpoint)s", what=what, record=msg.res_name or "",
                                  endpoint=endpoint).replace("  ", " ")
        return described

    # Override of the engine's extension point: a delivery changes its endpoint's health, shown on its form
    def _channel_live_records(self):
        records = super()._channel_live_records()
        if self.channel == "webhook" and self.webhook_endpoint_id:
            records.append([self.webhook_endpoint_id._name, self.webhook_endpoint_id.id])
        return records

    # Override of the engine's extension point: an endpoint's target is shown by the endpoint's name
    def _channel_target_labels(self, targets):
        labels = super()._channel_target_labels(targets)
        for target, endpoint in self._webhook_endpoints_of(targets):
            labels[target] = _("Webhook endpoint %s", endpoint.name)
        return labels

    # Override of the engine's extension point: an endpoint's own limit of deliveries under way at once
    def _channel_target_concurrency(self, targets):
        limits = super()._channel_target_concurrency(targets)
        for target, endpoint in self._webhook_endpoints_of(targets):
            limits[target] = endpoint.max_in_flight
        return limits

    def _webhook_endpoints_of(self, targets):
        """``(target, endpoint)`` for the targets that are webhook endpoints (``webhook:<id>``), archived too."""
        ids = {int(t.split(":", 1)[1]): t for t in targets if t.startswith("webhook:") and t[8:].isdigit()}
        if not ids:
            return []
        endpoints = self.env["invoice_bridge.webhook.endpoint"].sudo().with_context(active_test=False)
        return [(ids[endpoint.id], endpoint) for endpoint in endpoints.browse(list(ids)).exists()]

    # Override of the engine's extension point: webhook messages are signed when they are sent
    def _channel_requests(self):
        mine = self.filtered(lambda m: m.channel == "webhook")
        prepared = super(InvoiceBridgeOutbox, self - mine)._channel_requests()
        for msg in mine:
            endpoint = msg.webhook_endpoint_id.sudo()
            if not endpoint:
                prepared[msg.id] = Outcome(FAIL, _("The endpoint was deleted."),
                                           hint=_("Nothing can deliver this message any more."))
                continue
            if not endpoint.active:  # archived between the claim and now: held with the others, not failed
                prepared[msg.id] = Outcome(RETRY, _("The endpoint is archived: the message waits until it is "
                                                    "unarchived."), pause_target=ARCHIVED_PAUSE.total_seconds(),
                                           hint=_("Unarchive the endpoint to send its waiting messages."))
                continue
            secrets = endpoint._signing_secrets()
            headers = {**endpoint._static_headers(), "Content-Type": "application/json",
                       **WebhookSigner(secrets).headers(msg.idempotency_key, msg.payload)}
            prepared[msg.id] = Request(method="POST", url=endpoint.url, body=msg.payload.encode(),
                                       headers=headers, timeout=endpoint.timeout or DEFAULT_TIMEOUT,
                                       secrets=tuple(secrets))
        return prepared

    # Override of the engine's extension point: endpoint health, and the PDFs of announced invoices
    def _channel_after_attempts(self, attempts):
        mine = self.filtered(lambda m: m.channel == "webhook")
        result = super(InvoiceBridgeOutbox, self - mine)._channel_after_attempts(attempts)
        if any(m.webhook_event == "new_invoice" and attempts[m.id].outcome.result == SUCCESS for m in mine):
            # the announced invoices' legal PDFs are rendered next, by their own cron (not in this batch)
            self.env.ref("invoice_bridge.ir_cron_render_invoice_pdfs").sudo()._trigger()
        gone = mine.filtered(lambda m: attempts[m.id].outcome.gone).webhook_endpoint_id
        gone.sudo()._archive_gone()
        failing = mine.filtered(lambda m: attempts[m.id].outcome.result != SUCCESS).webhook_endpoint_id - gone
        if failing:
            failing.sudo()._disable_if_failing_too_long()
        return result


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    channel = fields.Selection(selection_add=[("webhook", "Webhook")], ondelete={"webhook": "cascade"})

    # Override of the sync log's extension point: the signing secrets, current and previous
    def _ib_known_secrets(self):
        self.env["invoice_bridge.webhook.endpoint"].flush_model(["secret", "previous_secret"])  # this transaction's
        self.env.cr.execute("SELECT secret, previous_secret FROM invoice_bridge_webhook_endpoint")
        mine = [s for row in self.env.cr.fetchall() for s in row if s]  # before super(): it reuses the cursor
        return (*super()._ib_known_secrets(), *mine)
