"""One customer's services of one month, sent to easybill as a CSV file and a draft invoice.

The export is a small state machine driven by the outbox (channel ``easybill``): each API step is one outbox
message, queued when the previous step succeeded, so a failure resumes at the failed step. The results of the
steps (easybill customer id, document id, attachment id) are stored here; a step whose answer got lost (a
timeout or a 5xx after a create) looks up what it may have created before creating it again.
"""
import base64
import calendar
import dataclasses
import json
import logging
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from ..lib.core_outcome import FAIL, RETRY, SUCCESS, Outcome, classify_http
from ..lib.core_retry import parse_retry_after
from ..lib.core_transport import Request
from ..lib.easybill_client import (
    DEFAULT_BASE_URL,
    FILE_FORMATS,
    RETRY_LATER_STATUSES,
    SYNC_STEP_NAMES,
    EasybillClient,
    error_message,
    export_budget,
    first_item_id,
    parse_id,
)
from ..lib.easybill_csv import CsvCustomer, CsvPosition, CsvValidationError, build_csv, validate_csv
from .core_compat import Constraint

_logger = logging.getLogger(__name__)

DEFAULT_TZ = "Europe/Berlin"  # easybill's own time zone

STATES = [
    ("draft", "Prepared"),
    ("sending", "Sending"),
    ("done", "Sent"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
#: the API steps, in order; ``customer_create`` only runs when ``customer_find`` found nothing
STEPS = [
    ("customer_find", "Find the customer"),
    ("customer_create", "Create the customer"),
    ("document_create", "Create the draft invoice"),
    ("attachment_upload", "Upload the CSV"),
    ("attachment_link", "Attach the CSV"),
    ("document_finalize", "Finalise the invoice"),
    ("done", "Done"),
]
#: create steps whose answer may be lost after the object was created: look it up before creating again
UNCERTAIN_LOOKUP = {"customer_create", "document_create"}
#: requests one export may queue at most (a normal run needs 3 to 6; lookups after lost answers add some)
MAX_STEPS = 20


def month_bounds(day):
    """First and last day of the month of ``day``."""
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def previous_month(day):
    return month_bounds(day.replace(day=1) - timedelta(days=1))[0]


def month_label(env, day):
    """``November 2026`` in the user's language."""
    return format_date(env, day, date_format="MMMM y") if day else ""


class InvoiceBridgeEasybillExport(models.Model):
    _name = "invoice_bridge.easybill.export"
    _description = "Invoice Bridge easybill Export"
    _inherit = ["mail.thread", "invoice_bridge.sync.log.mixin"]
    _order = "period_start desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True,
                                 default=lambda self: self.env.company)
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, readonly=True,
                                 ondelete="restrict")
    period_start = fields.Date("First day", required=True, readonly=True)
    period_end = fields.Date(required=True, readonly=True)
    period_label = fields.Char("Month", compute="_compute_period_label")  # "November 2026" (the user's language)
    supplement = fields.Integer(readonly=True, help="0 for a month's first export; 1, 2... for later ones "
                                                    "carrying services recorded after it.")
    state = fields.Selection(STATES, required=True, default="draft", index=True, readonly=True, tracking=True)
    step = fields.Selection(STEPS, default="customer_find", readonly=True, tracking=True)
    uncertain_step = fields.Char(readonly=True, copy=False,
                                 help="A create step whose answer got lost: look up before creating again.")
    line_ids = fields.One2many("invoice_bridge.easybill.export.line", "export_id", string="Services",
                               readonly=True)
    line_count = fields.Integer("Lines", compute="_compute_totals", store=True)
    amount_net = fields.Monetary("Net total", compute="_compute_totals", store=True)
    currency_id = fields.Many2one("res.currency", related="company_id.currency_id")
    customer_number = fields.Char("easybill customer number", readonly=True)
    easybill_customer_id = fields.Char("easybill customer id", readonly=True, copy=False)
    easybill_document_id = fields.Char("easybill document id", readonly=True, copy=False)
    easybill_attachment_id = fields.Char("easybill attachment id", readonly=True, copy=False)
    attachment_linked = fields.Boolean("CSV attached in easybill", readonly=True, copy=False)
    finalized = fields.Boolean("Finalised in easybill", readonly=True, copy=False)
    file_format = fields.Selection(list(FILE_FORMATS), "e-invoice format", readonly=True, copy=False,
                                   help="The customer's e-invoice format when the draft invoice was created.")
    csv_attachment_id = fields.Many2one("ir.attachment", "CSV", readonly=True, copy=False)
    csv_errors = fields.Text("CSV errors", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    outbox_ids = fields.One2many("invoice_bridge.outbox", "res_id", domain=[("res_model", "=", _name)],
                                 string="Requests", readonly=True)
    step_seq = fields.Integer(readonly=True, copy=False, help="Number of steps queued (idempotency keys).")

    _period_uniq = Constraint("unique(company_id, partner_id, period_start, supplement)",
                              "This month was already exported for this customer.")

    @api.depends("partner_id", "period_start", "supplement")
    def _compute_name(self):
        """``2026-11 Müller GmbH``; a later export of the month: ``2026-11 Müller GmbH (supplement 1)``."""
        for export in self:
            month = export.period_start.strftime("%Y-%m") if export.period_start else "?"
            name = f"{month} {export.partner_id.display_name or ''}".strip()
            export.name = _("%(name)s (supplement %(n)s)", name=name, n=export.supplement) \
                if export.supplement else name

    @api.depends("period_start", "supplement")
    def _compute_period_label(self):
        for export in self:
            export.period_label = export._month_label() if export.period_start else False

    def _month_label(self):
        """``November 2026``, or ``November 2026, supplement 1`` (the user's language)."""
        self.ensure_one()
        month = month_label(self.env, self.period_start)
        return _("%(month)s, supplement %(n)s", month=month, n=self.supplement) if self.supplement else month

    @api.depends("line_ids.subtotal")
    def _compute_totals(self):
        for export in self:
            export.line_count = len(export.line_ids)
            export.amount_net = sum(export.line_ids.mapped("subtotal"))

    # ------------------------------------------------------------------------------------- selection
    @api.model
    def _company_tz(self, company):
        return ZoneInfo(company.partner_id.tz or DEFAULT_TZ)

    @api.model
    def _local_today(self, company, now=None):
        now = now or fields.Datetime.now()
        return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(self._company_tz(company)).date()

    @api.model
    def _candidate_lines(self, company, period_start, partners=None):
        """``{commercial partner id: [move line ids]}``: not yet exported service lines of the month (one query)."""
        period_start, period_end = month_bounds(period_start)
        move_state = company.ib_easybill_move_state or "draft"
        only_services = company.ib_easybill_line_selection == "services"
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """SELECT m.commercial_partner_id, array_agg(l.id ORDER BY m.date, m.id, l.sequence, l.id)
                 FROM account_move_line l
                 JOIN account_move m ON m.id = l.move_id
                 JOIN account_journal j ON j.id = m.journal_id
                 LEFT JOIN product_product pp ON pp.id = l.product_id
                 LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
                WHERE j.ib_easybill AND m.company_id = %(company)s
                  AND m.move_type IN ('out_invoice', 'out_refund') AND m.state = %(state)s
                  AND l.display_type = 'product' AND m.date BETWEEN %(start)s AND %(end)s
                  AND (NOT %(only_services)s OR pt.type = 'service' OR pt.ib_cancellation_fee)
                  AND (%(partners)s IS NULL OR m.commercial_partner_id = ANY(%(partners)s))
                  AND NOT EXISTS (SELECT 1 FROM invoice_bridge_easybill_export_line x WHERE x.move_line_id = l.id)
                GROUP BY m.commercial_partner_id""",
            company=company.id, state=move_state, start=period_start, end=period_end, only_services=only_services,
            partners=partners.commercial_partner_id.ids if partners else None))
        return dict(self.env.cr.fetchall())

    # ---------------------------------------------------------------------------------------- creation
    @api.model
    def _line_snapshots(self, line_ids):
        """``{line id: export line values}`` for the CSV and the API (a constant number of queries)."""
        lines = self.env["account.move.line"].browse(line_ids)
        lines.fetch(["move_id", "product_id", "name", "quantity", "price_unit", "discount", "price_subtotal",
                     "product_uom_id", "tax_ids"])
        lines.move_id.fetch(["move_type"])
        lines.product_id.fetch(["default_code", "product_tmpl_id"])
        lines.product_id.product_tmpl_id.fetch(["ib_cancellation_fee", "name"])
        lines.product_uom_id.fetch(["name"])
        lines.tax_ids.fetch(["amount", "amount_type", "price_include"])
        snapshots = {}
        for line in lines:
            sign = -1 if line.move_id.move_type == "out_refund" else 1
            quantity = line.quantity or 1.0
            # the net unit price after discount: easybill receives one net price per position
            unit_net = line.price_subtotal / quantity if line.quantity else line.price_subtotal
            vat = sum(t.amount for t in line.tax_ids if t.amount_type == "percent")
            product = line.product_id
            snapshots[line.id] = {
                "move_line_id": line.id,
                "position_type": "cancellation_fee" if product.product_tmpl_id.ib_cancellation_fee else "service",
                "item_number": product.default_code or "",
                "description": (line.name or product.product_tmpl_id.name or "").strip(),
                "quantity": sign * quantity,
                "unit": line.product_uom_id.name or "",
                "price_unit": unit_net,
                "vat_percent": vat,
                "subtotal": sign * line.price_subtotal,
            }
        return snapshots

    @api.model
    def _export_period(self, company, period_start, partners=None, send=True):
        """Create (and start sending) the exports of one month: one per customer with unexported services."""
        period_start, period_end = month_bounds(period_start)
        candidates = self._candidate_lines(company, period_start, partners)
        if not candidates:
            return self.browse()
        snapshots = self._line_snapshots([lid for ids in candidates.values() for lid in ids])
        self.env.cr.execute(SQL(
            """SELECT partner_id, max(supplement) FROM invoice_bridge_easybill_export
                WHERE company_id = %s AND period_start = %s AND partner_id = ANY(%s) GROUP BY partner_id""",
            company.id, period_start, list(candidates)))
        previous = dict(self.env.cr.fetchall())
        exports = self.sudo().with_company(company).create([{
            "company_id": company.id,
            "partner_id": partner_id,
            "period_start": period_start,
            "period_end": period_end,
            "supplement": previous[partner_id] + 1 if partner_id in previous else 0,
            # the company is given, not left to the stored related field: its recomputation would write every
            # line again (one UPDATE per 100 lines)
            "line_ids": [fields.Command.create({**snapshots[lid], "company_id": company.id}) for lid in line_ids],
        } for partner_id, line_ids in candidates.items()])
        exports._assign_customer_numbers()
        exports._build_csv_files()
        if send:
            exports.filtered(lambda e: e.state == "draft")._start()
        return exports.with_env(self.env)

    def _assign_customer_numbers(self):
        """The partner's reference, else a generated number written back to the partner."""
        sequence = self.env["ir.sequence"].sudo()
        for export in self:
            partner = export.partner_id
            if not partner.ref:
                partner.sudo().ref = sequence.next_by_code("invoice_bridge.easybill.customer") or f"OD{partner.id}"
            export.customer_number = partner.ref

    def _csv_customer(self):
        partner = self.partner_id
        is_company = partner.is_company or not partner.parent_id and bool(partner.vat)
        names = (partner.name or "").rsplit(" ", 1)
        return CsvCustomer(
            number=self.customer_number,
            company_name=partner.name if is_company else "",
            first_name="" if is_company or len(names) < 2 else names[0],
            last_name="" if is_company else names[-1],
            street=", ".join(p for p in (partner.street, partner.street2) if p),
            zip_code=partner.zip or "",
            city=partner.city or "",
            country=partner.country_id.code or "",
            vat_id=partner.vat or "",
            email=(partner.email or "").split(",")[0].strip(),
        )

    def _csv_positions(self):
        positions = []
        for line in self.line_ids:
            quantity, price = line.quantity, line.price_unit
            if price < 0:  # a negative line (discount, correction): easybill wants a positive price
                quantity, price = -quantity, -price
            # whole cents in both the CSV and the API (easybill's integer cents), so both show the same totals
            positions.append(CsvPosition(
                position_type=line.position_type, item_number=line.item_number or "",
                description=line.description, quantity=Decimal(repr(round(quantity, 4))), unit=line.unit or "",
                net_unit_price=Decimal(repr(round(price, 2))), vat_percent=Decimal(repr(round(line.vat_percent, 2))),
            ))
        return positions

    def _csv_bytes(self):
        """This export's CSV (``CsvValidationError`` when its data cannot make a valid file)."""
        return build_csv(self._csv_customer(), self._document_date(), self.period_start, self.period_end,
                         self._csv_positions())

    def _document_date(self):
        return self.period_end

    def _build_csv_files(self):
        """Build, validate and attach each export's CSV; an invalid CSV stops that export (nothing is sent)."""
        attachments = []
        for export in self:
            try:
                data = export._csv_bytes()
                errors = validate_csv(data)  # the file as written, read back: what easybill's import will see
            except CsvValidationError as exc:
                errors = exc.errors
            if errors:
                export.write({"state": "failed", "csv_errors": "\n".join(errors),
                              "last_error": _("The CSV is invalid; nothing was sent.")})
                export._log_local_failure(_("Invalid CSV: %s", "; ".join(errors[:5])),
                                          _("Fix the customer or the service lines, then press Retry."))
                continue
            attachments.append({
                "name": export._csv_file_name(), "raw": data, "mimetype": "text/csv",
                "res_model": self._name, "res_id": export.id, "company_id": export.company_id.id,
            })
        created = self.env["ir.attachment"].sudo().create(attachments) if attachments else []
        for attachment in created:
            self.browse(attachment.res_id).csv_attachment_id = attachment

    def _csv_file_name(self):
        suffix = f"_{self.supplement}" if self.supplement else ""
        number = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.customer_number or "")
        return f"easybill_{number}_{self.period_start:%Y-%m}{suffix}.csv"

    def _document_title(self):
        supplement = _(" (supplement %s)", self.supplement) if self.supplement else ""
        return _("Services %(month)s%(supplement)s · Odoo export %(id)s", month=self.period_start.strftime("%m/%Y"),
                 supplement=supplement, id=self.id)

    # -------------------------------------------------------------------------------------------- flow
    def _start(self):
        for export in self:
            stored = export.partner_id.with_company(export.company_id).ib_easybill_customer_id
            if stored and not export.easybill_customer_id:
                export.easybill_customer_id = stored
            export.write({"state": "sending", "step": export._pending_step(), "last_error": False})
            export._queue_step()

    def _pending_step(self):
        """The first step whose result is not stored yet (``customer_create`` is queued by ``customer_find``)."""
        if not self.easybill_customer_id:
            return "customer_find"
        if not self.easybill_document_id:
            return "document_create"
        if not self.easybill_attachment_id:
            return "attachment_upload"
        if not self.attachment_linked:
            return "attachment_link"
        if self.company_id.ib_easybill_auto_finalize and not self.finalized:
            return "document_finalize"
        return "done"

    def _target(self):
        return f"easybill:{self.company_id.id}"

    def _queue_step(self):
        """Queue the request of the current step (one outbox message), or close the export when done."""
        self.ensure_one()
        if self.step == "done":
            self.write({"state": "done", "last_error": False,
                        "easybill_state": "final" if self.finalized else "draft"})
            self.message_post(body=Markup("%s<br/>%s") % (
                _("Sent to easybill: draft invoice %s with the CSV attached.", self.easybill_document_id),
                _("Review and finalise it in easybill.")), subtype_xmlid="mail.mt_note")
            return
        if self.step_seq >= MAX_STEPS:
            self.write({"state": "failed", "last_error": _("Gave up after %s requests.", MAX_STEPS)})
            return
        client = self._client()
        if client is None:
            message = _("No easybill API key is configured for %s.", self.company_id.name)
            self.write({"state": "failed", "last_error": message})
            self._log_local_failure(message, _("Set the API key in Settings ▸ Invoice Bridge ▸ easybill, then "
                                               "press Retry on the export."))
            return
        self.step_seq += 1
        company = self.company_id
        # the plan's limit less the back-sync's share (easybill_sync.py): both together never exceed it
        self.env["invoice_bridge.outbox.target"].sudo()._set_rate_limit(
            self._target(), export_budget(company.ib_easybill_rate_limit or 10))
        request = self._step_request(client, self.step)
        self.env["invoice_bridge.outbox"]._enqueue({
            "channel": "easybill",
            "company_id": company.id,
            "target": self._target(),
            # one request at a time per company: the steps run in order and the rate budget is never raced
            "ordering_key": self._target(),
            "url": request.url,
            "method": request.method,
            # the key is added when the request is sent (see _request_for): never stored
            "headers": {k: v for k, v in request.headers.items() if k != "Authorization"},
            "content_type": request.headers.get("Content-Type") or False,
            "payload": request.body.decode("utf-8"),
            "idempotency_key": f"easybill:{self.id}:{self.step_seq}",
            "easybill_step": self.step,
            "res_model": self._name,
            "res_id": self.id,
            "partner_id": self.partner_id.id,
        }, check_existing=False)

    def _client(self):
        return self._company_client(self.company_id)

    @api.model
    def _company_client(self, company):
        """The easybill client of ``company`` (None without an API key): the export's and the back-sync's."""
        company = company.sudo()
        key = company.ib_easybill_api_key
        return EasybillClient(company.ib_easybill_url or DEFAULT_BASE_URL, key) if key else None

    def _step_request(self, client, step):
        """The request of ``step``, built from what the earlier steps stored."""
        if step == "customer_find":
            return client.find_customer(self.customer_number)
        if step == "customer_create":
            return client.create_customer(self._csv_customer())
        if step == "document_create":
            # the customer's e-invoice format when the request is queued (shown on the export)
            self.file_format = self.partner_id.commercial_partner_id.sudo().ib_easybill_file_format or False
            return client.create_document(
                int(self.easybill_customer_id), self._document_date(), (self.period_start, self.period_end),
                self._document_title(), self._csv_positions(), file_format=self.file_format or None)
        if step == "attachment_upload":
            return client.upload_attachment(self.csv_attachment_id.name, base64.b64decode(self.csv_attachment_id.datas))
        if step == "attachment_link":
            return client.link_attachment(int(self.easybill_attachment_id), int(self.easybill_document_id))
        if step == "document_finalize":
            return client.finalize_document(int(self.easybill_document_id))
        raise ValueError(f"unknown easybill step {step}")

    def _request_for(self, msg):
        """What ``msg`` sends: its stored request with the API key, or the lookup of a create whose answer got
        lost (what it may have created is found again, not created twice)."""
        self.ensure_one()
        client = self._client()
        if client is None:
            return Outcome(FAIL, _("No easybill API key is configured for %s.", self.company_id.name),
                           hint=_("Set the API key in Settings ▸ Invoice Bridge ▸ easybill, then retry."))
        step = msg.easybill_step
        if step == "customer_create" and self.partner_id.sudo().with_company(
                self.company_id).ib_easybill_customer_id:
            # another export of this customer (a supplement, another month) created it since our lookup
            self.uncertain_step = step
        if step in UNCERTAIN_LOOKUP and self.uncertain_step == step:
            if step == "customer_create":
                return client.find_customer(self.customer_number)
            return client.find_documents(self.easybill_customer_id, self._document_title())
        return self._stored_request(msg, client)

    @api.model
    def _stored_request(self, msg, client):
        """The request ``msg`` stored, with the API key (never stored) added."""
        headers = dict(json.loads(msg.headers or "{}"), Authorization=f"Bearer {client.api_key}")
        return Request(msg.method, msg.url, (msg.payload or "").encode("utf-8"), headers, timeout=client.timeout,
                       secrets=(client.api_key,))

    @api.model
    def _interpret(self, msg, exchange):
        """easybill's answers: 409 (locked), 429 and 5xx are retried later (429 pauses the company's requests),
        other 4xx fail. Every message names its step in words."""
        step = msg.easybill_step
        label = dict(msg._fields["easybill_step"]._description_selection(self.env)).get(step, step)
        if step in SYNC_STEP_NAMES:
            return self._interpret_sync(msg, exchange, label)
        outcome = classify_http(exchange, retry_client_errors=False)
        if exchange.status in RETRY_LATER_STATUSES:
            # 409: easybill is still working on the document ("locked, try again later"); 429: slow down.
            # Neither is a failure: the message waits and is sent again on the retry schedule.
            retry = outcome if outcome.result == RETRY else Outcome(RETRY, delay=parse_retry_after(
                exchange.headers.get("Retry-After") or exchange.headers.get("retry-after")))
            outcome = dataclasses.replace(
                retry, message=f"{label}: {error_message(exchange.status, exchange.body)}",
                hint=_("easybill is busy (the document is locked or too many requests): sent again "
                       "automatically, nothing to do."))
        elif outcome.result == FAIL and exchange.status:
            outcome = dataclasses.replace(
                outcome, message=f"{label}: {error_message(exchange.status, exchange.body)}",
                hint=_("easybill refused the request: correct the customer or the services (or the API key in "
                       "the settings), then press Retry on the export."))
        elif outcome.result != SUCCESS:
            outcome = dataclasses.replace(outcome, message=f"{label}: {outcome.message}")
        elif outcome.result == SUCCESS:
            try:  # the next steps need what this answer carries: an answer without it is a failure
                if exchange.request.method == "GET":  # a lookup (also a create's lookup after a lost answer)
                    found = first_item_id(exchange.body)
                elif exchange.request.method == "POST":
                    found = parse_id(exchange.body)
                else:
                    found = None
            except ValueError as exc:
                outcome = Outcome(FAIL, f"{label}: HTTP {exchange.status}: {exc}", hint=_(
                    "easybill's answer was not understood; check the API URL in the settings, then press Retry."))
            else:
                outcome = dataclasses.replace(outcome, data=found, message=f"{label}: HTTP {exchange.status}")
        # which customer, in the log line of every request (Odoo's partner is on the line too)
        export = self.sudo().browse(msg.res_id).exists()
        if export:
            customer = export.easybill_customer_id
            if not customer and msg.easybill_step in ("customer_find", "customer_create"):
                customer = outcome.data
            easybill_id = f" (easybill {customer})" if customer else ""
            outcome = dataclasses.replace(
                outcome, message=f"{outcome.message} · customer {export.customer_number}{easybill_id}")
        return outcome

    def _on_step_result(self, msg, attempt):
        """Store the step's result and queue the next step (or record the failure)."""
        self.ensure_one()
        step, outcome = msg.easybill_step, attempt.outcome
        if step in SYNC_STEP_NAMES:  # a read of the back-sync: the export itself is done
            return self._on_sync_result(msg, attempt)
        if outcome.result == FAIL or attempt.given_up:
            self.write({"state": "failed", "last_error": outcome.message})
            return
        if outcome.result == RETRY:
            # a create whose answer got lost may have created the object: the next attempt looks it up first
            if step in UNCERTAIN_LOOKUP and attempt.answer_lost and self.uncertain_step != step:
                self.uncertain_step = step
            return
        found = outcome.data  # the id the answer carried (None: a lookup found nothing)
        was_lookup = self.uncertain_step == step
        self.uncertain_step = False
        if step == "customer_find" or (was_lookup and step == "customer_create"):
            if found is None:
                self.step = "customer_create"
                self._queue_step()
                return
            self._store_customer(found)
        elif step == "customer_create":
            self._store_customer(found)
        elif step == "document_create":
            if found is None:  # the lookup found nothing: the lost answer created nothing, create it now
                self._queue_step()
                return
            self.easybill_document_id = str(found)
        elif step == "attachment_upload":
            self.easybill_attachment_id = str(found)
        elif step == "attachment_link":
            self.attachment_linked = True
        elif step == "document_finalize":
            self.finalized = True
        self.step = self._pending_step()
        self._queue_step()

    def _store_customer(self, customer_id):
        self.easybill_customer_id = str(customer_id)
        self.partner_id.sudo().with_company(self.company_id).ib_easybill_customer_id = str(customer_id)

    def _log_local_failure(self, message, hint):
        self.env["invoice_bridge.sync.log"]._log({
            "channel": "easybill", "direction": "outbound", "state": "failed", "company_id": self.company_id.id,
            "partner_id": self.partner_id.id, "res_model": self._name, "res_id": self.id,
            "message": message, "hint": hint,
        })
        self.message_post(body=message, subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------------------------------- cron
    @api.model
    def _cron_monthly_export(self, now=None):
        """From the 1st (company time zone), export the previous month of every company using easybill.

        Every run exports what is not exported yet: the month's first run its services, a later run the services
        of that month booked since (late services: a supplement per customer). A month is never "done": an
        empty run marks nothing, so services booked after it are still exported by the next run."""
        companies = self.env["res.company"].sudo().search([("ib_easybill_enabled", "=", True)])
        for company in companies:
            today = self._local_today(company, now)
            period = previous_month(today)
            exports = self.with_company(company)._export_period(company, period)
            if not exports:
                continue
            if not company.ib_easybill_last_period or company.ib_easybill_last_period < period:
                company.ib_easybill_last_period = period
            _logger.info("invoice_bridge: easybill export of %s for %s: %d customer(s)%s", period, company.name,
                         len(exports), " (late services)" if any(exports.mapped("supplement")) else "")

    # ---------------------------------------------------------------------------------------- actions
    def _check_may(self, group, what):
        """Exports are changed only through their actions (nobody writes them directly): who may do ``what``."""
        if not self.env.user.has_group(group):
            raise AccessError(what)
        self.check_access("read")

    def action_retry(self):
        """Retry a failed export from its failed step (rebuilding the CSV if it was invalid)."""
        self._check_may("invoice_bridge.group_invoice_bridge_user", _("Only Invoice Bridge users may retry exports."))
        for export in self.sudo().filtered(lambda e: e.state == "failed"):
            if not export.csv_attachment_id:
                export.write({"state": "draft", "csv_errors": False})
                export._build_csv_files()
                if export.state == "draft":
                    export._start()
                continue
            failed = export.outbox_ids.filtered(lambda m: m.state in ("failed", "dead"))
            export.write({"state": "sending", "last_error": False})
            if failed:
                failed.sorted("id")[-1:].action_retry()
            else:
                export._queue_step()
        return True

    def action_cancel(self):
        self._check_may("invoice_bridge.group_invoice_bridge_manager",
                        _("Only Invoice Bridge managers may cancel exports."))
        self.sudo().filtered(lambda e: e.state in ("draft", "failed")).write({"state": "cancelled"})
        return True

    def action_download_csv(self):
        self.ensure_one()
        if not self.csv_attachment_id:
            raise UserError(_("This export has no CSV file."))
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/web/content/{self.csv_attachment_id.id}?download=true"}

    @api.model
    def _preview_csv(self, company, partner, period_start):
        """``(csv text, errors)`` of the next export of ``partner`` for that month (nothing is created): ``("",
        [])`` when nothing is left to export, the errors when its CSV would be invalid."""
        candidates = self._candidate_lines(company, period_start, partner)
        line_ids = candidates.get(partner.commercial_partner_id.id)
        if not line_ids:
            return "", []
        snapshots = self._line_snapshots(line_ids)
        first, last = month_bounds(period_start)
        export = self.new({"company_id": company.id, "partner_id": partner.commercial_partner_id.id,
                           "period_start": first, "period_end": last,
                           "customer_number": partner.commercial_partner_id.ref or _("(generated on export)"),
                           "line_ids": [fields.Command.create(snapshots[lid]) for lid in line_ids]})
        try:
            data = export._csv_bytes()
        except CsvValidationError as exc:
            return "", exc.errors
        return data.decode("utf-8-sig"), []
