"""easybill tells Odoo what became of each draft: the back-sync of the exports (#18 item 6).

Every read goes through the outbox (channel ``easybill``, one message per request, in the sync log), to the
company's target ``easybill-sync:<company>`` whose request budget is :func:`sync_budget` of the plan (20 %);
the export's own target keeps the rest, so both together never exceed the plan.

What wakes a read:

* easybill's webhooks (registered from the settings, received at a URL carrying an unguessable token): only a
  wake-up, the body is never read; it queues the company's reads below;
* the polling cron (fallback): the invoices edited since the last poll (``GET /documents?edited_at=…``, pages of
  1000) and the open drafts (``GET /documents?is_draft=1``): a draft of ours missing from that list was finalised
  or deleted, and is read by itself (404: deleted);
* the export's *Refresh from easybill* button.

The state is always read back through the API: number, date, draft/paid/cancelled from the document's fields, sent
from its post-box entries; the final PDF is fetched once the document is no longer a draft.
"""
import secrets
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.core_outcome import FAIL, SUCCESS, Outcome, classify_http
from ..lib.easybill_client import (
    DEFAULT_DOCUMENT_URL,
    DOCUMENT_STATES,
    MAX_LIST_LIMIT,
    document_facts,
    document_state,
    document_url,
    error_message,
    is_sent,
    list_page,
    parse_id,
    sync_budget,
)

EXPORT = "invoice_bridge.easybill.export"
COMPANY = "res.company"
#: steps of a company (res_model res.company), not of one export
COMPANY_STEPS = {"sync_edited", "sync_drafts", "webhook_register"}
#: states after which nothing changes any more: not read again
CLOSED_STATES = ("cancelled", "deleted")
#: the polling cron reads no further back than this on its first run
FIRST_POLL_DAYS = 31


class InvoiceBridgeEasybillExport(models.Model):
    _inherit = "invoice_bridge.easybill.export"

    #: items per list page the back-sync asks for (easybill's maximum)
    _easybill_page_size = MAX_LIST_LIMIT

    # no tracking: a note names the change with its number, date and payment (see _apply_state)
    easybill_state = fields.Selection(list(DOCUMENT_STATES), "In easybill", readonly=True, copy=False, index=True)
    easybill_number = fields.Char("easybill number", readonly=True, copy=False)
    easybill_date = fields.Date("easybill date", readonly=True, copy=False)
    easybill_amount = fields.Monetary("easybill total", readonly=True, copy=False)
    easybill_paid_amount = fields.Monetary("Paid", readonly=True, copy=False)
    easybill_open_amount = fields.Monetary("Still open", compute="_compute_easybill_open_amount", store=True)
    easybill_paid_at = fields.Date("Paid on", readonly=True, copy=False)
    easybill_sent = fields.Boolean("Sent by easybill", readonly=True, copy=False)
    easybill_pdf_id = fields.Many2one("ir.attachment", "Final PDF", readonly=True, copy=False)
    easybill_synced_at = fields.Datetime("Read from easybill", readonly=True, copy=False)
    easybill_url = fields.Char("Open in easybill", compute="_compute_easybill_url")
    # the pivot's measures (#18 item 8): sums per month
    customer_count = fields.Integer("Exported customers", compute="_compute_counts", store=True,
                                    help="1 for a month's first export of a customer (a supplement is 0).")
    done_count = fields.Integer("Documents done", compute="_compute_counts", store=True,
                                help="1 once easybill's document is no longer a draft (not cancelled or deleted).")

    @api.depends("easybill_amount", "easybill_paid_amount", "easybill_state")
    def _compute_easybill_open_amount(self):
        for export in self:
            open_ = export.easybill_state in ("final", "sent", "partial")
            export.easybill_open_amount = export.easybill_amount - export.easybill_paid_amount if open_ else 0.0

    @api.depends("supplement", "state", "easybill_state")
    def _compute_counts(self):
        for export in self:
            export.customer_count = 1 if export.state == "done" and not export.supplement else 0
            export.done_count = 1 if export.easybill_state in ("final", "sent", "partial", "paid") else 0

    @api.depends("easybill_document_id", "easybill_number", "company_id.ib_easybill_document_url")
    def _compute_easybill_url(self):
        for export in self:
            pattern = export.company_id.ib_easybill_document_url or DEFAULT_DOCUMENT_URL
            export.easybill_url = document_url(pattern, export.easybill_document_id, export.easybill_number) \
                if export.easybill_document_id and export.easybill_document_id.isdigit() else False

    # ------------------------------------------------------------------------------------------ queue
    @api.model
    def _sync_target(self, company):
        return f"easybill-sync:{company.id}"

    @api.model
    def _sync_queue(self, company, step, request=None, export=None, again=False):
        """Queue one back-sync read (of ``export``, or of the company) unless the same one is already waiting
        (``again``: queue it anyway, e.g. the next page). ``request``: what to send (None: built when sent, e.g.
        the webhook registration and its secrets)."""
        outbox = self.env["invoice_bridge.outbox"].sudo()
        res_model, res_id = (EXPORT, export.id) if export else (COMPANY, company.id)
        if not again and outbox.search_count([
                ("channel", "=", "easybill"), ("easybill_step", "=", step), ("res_model", "=", res_model),
                ("res_id", "=", res_id), ("state", "=", "pending")], limit=1):
            return outbox.browse()
        rate = int(company.ib_easybill_rate_limit or 10)
        self.env["invoice_bridge.outbox.target"].sudo()._set_rate_limit(self._sync_target(company),
                                                                         sync_budget(rate))
        vals = {
            "channel": "easybill", "company_id": company.id, "target": self._sync_target(company),
            "ordering_key": self._sync_target(company), "easybill_step": step,
            "res_model": res_model, "res_id": res_id, "partner_id": export.partner_id.id if export else False,
            "url": request.url if request else False, "method": request.method if request else "POST",
            # the key is added when the request is sent (see _request_for): never stored
            "headers": {k: v for k, v in request.headers.items() if k != "Authorization"} if request else {},
            "payload": "", "idempotency_key": f"easybill-sync:{res_model}:{res_id}:{step}:{secrets.token_hex(8)}",
        }
        return outbox._enqueue(vals, check_existing=False)

    def _sync_read(self, step):
        """Queue ``step`` (a read of one export's document) for each export of ``self`` that easybill has."""
        for export in self.filtered(lambda e: e.easybill_document_id and e.easybill_state not in CLOSED_STATES):
            client = self._company_client(export.company_id)
            if client is None:
                continue
            document_id = int(export.easybill_document_id)
            if step == "sync_post_boxes":
                request = client.post_boxes([document_id])
            else:
                request = (client.get_document if step == "sync_document" else client.document_pdf)(document_id)
            self._sync_queue(export.company_id, step, request, export=export)

    @api.model
    def _sync_company(self, company):
        """Queue the company's reads: the invoices edited since the last read, and the open drafts."""
        client = self._company_client(company)
        tracked = self.sudo().search([("company_id", "=", company.id), ("state", "=", "done"),
                                      ("easybill_document_id", "!=", False),
                                      ("easybill_state", "not in", CLOSED_STATES)])
        if client is None or not tracked:
            return False
        today = self._local_today(company)
        since = company.ib_easybill_synced_on or max(
            min(tracked.mapped("create_date")).date(), today - timedelta(days=FIRST_POLL_DAYS))
        self._sync_queue(company, "sync_edited", client.edited_documents(
            min(since, today), today, limit=self._easybill_page_size))
        if tracked.filtered(lambda e: e.easybill_state == "draft"):
            self._sync_queue(company, "sync_drafts", client.draft_documents(limit=self._easybill_page_size))
        return True

    @api.model
    def _cron_easybill_sync(self):
        """The fallback of the webhooks: every company's reads (see :meth:`_sync_company`)."""
        for company in self.env["res.company"].sudo().search([("ib_easybill_enabled", "=", True)]):
            self.with_company(company)._sync_company(company)

    @api.model
    def _easybill_webhook_wake(self, company):
        """A webhook of ``company`` came in: read back (its body is not trusted and not read)."""
        return self._sync_company(company)

    def action_easybill_refresh(self):
        """Read the document back from easybill now (the button)."""
        self._check_may("invoice_bridge.group_invoice_bridge_user",
                        _("Only Invoice Bridge users may read exports back from easybill."))
        self.sudo()._sync_read("sync_document")
        return True

    def action_open_easybill(self):
        self.ensure_one()
        if not self.easybill_url:
            raise UserError(_("easybill has no document for this export yet."))
        return {"type": "ir.actions.act_url", "target": "new", "url": self.easybill_url}

    # ---------------------------------------------------------------------------------------- sending
    @api.model
    def _sync_company_request(self, msg):
        """The request of a company's back-sync message (the webhook registration is built only now: its URL
        token and secret are derived, never stored)."""
        company = self.env["res.company"].sudo().browse(msg.res_id).exists()
        client = company and self._company_client(company)
        if not client:
            return Outcome(FAIL, _("No easybill API key is configured."),
                           hint=_("Set the API key in Settings ▸ Invoice Bridge ▸ easybill."))
        if msg.easybill_step == "webhook_register":
            url, secret = company._ib_easybill_webhook_url(), company._ib_easybill_derived("webhook-secret")
            if not url:
                return Outcome(FAIL, _("The webhook was not prepared: press Register webhooks again."))
            request = client.register_webhook(url, secret, company.ib_easybill_webhook_id or None)
            request.secrets = (*request.secrets, url.rsplit("/", 1)[-1], secret)
            return request
        return self._stored_request(msg, client)

    @api.model
    def _interpret_sync(self, msg, exchange, label):
        """What a back-sync answer means; its ``data`` is what :meth:`_on_sync_result` applies."""
        step = msg.easybill_step
        if step == "sync_document" and exchange.status == 404:
            return Outcome(SUCCESS, f"{label}: HTTP 404 (deleted in easybill)", data=None)
        outcome = classify_http(exchange, retry_client_errors=False)
        if outcome.result != SUCCESS:
            message = error_message(exchange.status, exchange.body) if exchange.status else outcome.message
            return Outcome(outcome.result, f"{label}: {message}", delay=outcome.delay,
                           pause_target=outcome.pause_target,
                           hint=_("Read again by the next poll; nothing to do unless it keeps failing."))
        try:
            if step == "sync_document":
                data = document_facts(exchange.body)
            elif step in ("sync_edited", "sync_drafts"):
                items, pages = list_page(exchange.body)
                data = {"facts": [document_facts(item) for item in items], "pages": pages}
            elif step == "sync_post_boxes":
                data = is_sent(list_page(exchange.body)[0])
            elif step == "sync_pdf":
                data = exchange.content or b""
                if not data.startswith(b"%PDF"):
                    raise ValueError("the answer is not a PDF")
                exchange.body = f"(a PDF of {len(data)} bytes)"  # what the sync log keeps of it
            else:  # webhook_register
                data = parse_id(exchange.body)
        except ValueError as exc:
            return Outcome(FAIL, f"{label}: HTTP {exchange.status}: {exc}",
                           hint=_("easybill's answer was not understood; check the API URL in the settings."))
        return Outcome(SUCCESS, f"{label}: HTTP {exchange.status}", data=data)

    # ---------------------------------------------------------------------------------------- results
    @api.model
    def _on_company_sync_result(self, msg, attempt):
        outcome = attempt.outcome
        company = self.env["res.company"].sudo().browse(msg.res_id).exists()
        if not company or outcome.result != SUCCESS:
            return
        step = msg.easybill_step
        if step == "webhook_register":
            company.ib_easybill_webhook_id = str(outcome.data)
            return
        facts = {f["id"]: f for f in outcome.data["facts"]}
        exports = self.sudo().search([("company_id", "=", company.id), ("state", "=", "done"),
                                      ("easybill_document_id", "in", [str(i) for i in facts])])
        for export in exports:
            export._apply_document(facts[int(export.easybill_document_id)])
        if step == "sync_edited":
            query = dict(parse_qsl(urlsplit(msg.url).query))
            page = int(query.get("page", 1))
            if page < outcome.data["pages"]:
                since, until = query["edited_at"].split(",")
                self._sync_queue(company, step, self._company_client(company).edited_documents(
                    since, until, page=page + 1, limit=self._easybill_page_size), again=True)
                return
            company.ib_easybill_synced_on = fields.Date.to_date(query["edited_at"].split(",")[1])
        elif outcome.data["pages"] == 1:  # every open draft is listed: one of ours missing was finalised/deleted
            missing = self.sudo().search([("company_id", "=", company.id), ("state", "=", "done"),
                                          ("easybill_state", "=", "draft"), ("easybill_document_id", "!=", False),
                                          ("easybill_document_id", "not in", [str(i) for i in facts])])
            missing._sync_read("sync_document")

    def _on_sync_result(self, msg, attempt):
        self.ensure_one()
        outcome = attempt.outcome
        if outcome.result != SUCCESS:
            return
        step = msg.easybill_step
        if step == "sync_document":
            self._apply_document(outcome.data)
        elif step == "sync_post_boxes":
            if outcome.data and not self.easybill_sent:
                self._apply_state({"easybill_sent": True})
        elif step == "sync_pdf" and not self.easybill_pdf_id:
            name = f"{self.easybill_number or self.easybill_document_id}.pdf".replace("/", "_")
            self.easybill_pdf_id = self.env["ir.attachment"].sudo().create({
                "name": name, "raw": outcome.data, "mimetype": "application/pdf", "res_model": self._name,
                "res_id": self.id, "company_id": self.company_id.id})
            self.message_post(body=_("easybill's final PDF is attached: %s", name),
                              attachment_ids=self.easybill_pdf_id.ids, subtype_xmlid="mail.mt_note")

    def _apply_document(self, facts):
        """Store what easybill says of the document (None: it was deleted), note a change of state, and queue
        what is still to be read (the sendings of a final invoice, its PDF)."""
        self.ensure_one()
        if facts is None:
            self._apply_state({"easybill_state": "deleted"})
            return
        self._apply_state({
            "easybill_number": facts["number"] or False,
            "easybill_date": facts["document_date"] or False,
            "easybill_amount": float(facts["amount"]),
            "easybill_paid_amount": float(facts["paid_amount"]),
            "easybill_paid_at": facts["paid_at"] or False,
            "finalized": not facts["is_draft"],
        }, facts)
        if self.easybill_state == "final":
            self._sync_read("sync_post_boxes")
        if self.easybill_state not in ("draft", *CLOSED_STATES) and not self.easybill_pdf_id:
            self._sync_read("sync_pdf")

    def _apply_state(self, vals, facts=None):
        before = self.easybill_state
        self.write({**vals, "easybill_synced_at": fields.Datetime.now()})
        if facts is not None or "easybill_sent" in vals:
            facts = facts or {"cancel_id": None, "is_draft": False, "paid_at": self.easybill_paid_at,
                              "amount": self.easybill_amount, "paid_amount": self.easybill_paid_amount}
            if before not in CLOSED_STATES:
                self.easybill_state = document_state(facts, sent=self.easybill_sent)
        after = self.easybill_state
        if after != before:
            labels = dict(self._fields["easybill_state"]._description_selection(self.env))
            details = []
            if self.easybill_number:
                details.append(_("number %s", self.easybill_number))
            if self.easybill_date:
                details.append(_("dated %s", fields.Date.to_string(self.easybill_date)))
            if after in ("partial", "paid"):
                details.append(_("paid %(amount).2f %(currency)s", amount=self.easybill_paid_amount,
                                 currency=self.currency_id.name))
            self.message_post(body=Markup("%s%s") % (
                _("easybill: %(before)s → %(after)s", before=labels.get(before, _("unknown")),
                  after=labels[after]), f" ({', '.join(details)})" if details else ""),
                subtype_xmlid="mail.mt_note")
