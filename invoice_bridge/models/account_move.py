import base64
import difflib
import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..lib import iap_extract as extract
from ..lib import webhook_payloads as payloads

_logger = logging.getLogger(__name__)

PAID_STATES = ("paid", "in_payment")
EXTRACT_MIMETYPES = ("application/pdf", "image/png", "image/jpeg", "image/bmp")
EXTRACT_STATES = [
    ("no_extract_requested", "Not requested"),
    ("waiting_extraction", "Waiting"),
    ("extract_not_ready", "Not ready yet"),
    ("done", "Done"),
    ("error_status", "Error"),
    ("not_enough_credit", "Not enough credit"),
    ("unsupported_format", "Unsupported format"),
]
#: the fields the digitization fills, in the order they are reported
EXTRACT_FIELDS = ("partner_id", "invoice_date", "invoice_date_due", "ref", "currency_id")
IMPORT_STATES = [
    ("waiting_approval", "Waiting approval"),
    ("review", "Returned to billing"),
    ("approved", "Approved"),
    ("void", "Void"),
]
IMPORT_EVENTS = ("invoice_created", "invoice_review", "invoice_updated")
#: ``cr.precommit.data`` key of the webhook events collected in the current transaction
PENDING_EVENTS = "invoice_bridge.webhook_events"


class AccountMove(models.Model):
    _inherit = "account.move"

    ib_sync_log_count = fields.Integer("Sync", compute="_compute_ib_sync_log_count",
                                       groups="invoice_bridge.group_invoice_bridge_user")
    ib_extract_state = fields.Selection(EXTRACT_STATES, "Extraction", default="no_extract_requested", copy=False,
                                        readonly=True, index=True)
    ib_extract_document_id = fields.Integer("Extract document", copy=False, readonly=True)
    ib_extract_document_token = fields.Char("Extract document token", copy=False, readonly=True,
                                            help="Generation 2 of the Extract API identifies documents by token.")
    ib_extract_status_msg = fields.Char("Extraction message", copy=False, readonly=True)
    ib_extract_results = fields.Json(copy=False, readonly=True, help="The last results read (plain values).")
    ib_extract_filled = fields.Json(copy=False, readonly=True, help="What the digitization wrote, per field.")
    ib_extract_validation = fields.Selection(
        [("to_validate", "To send"), ("validated", "Sent"), ("error", "Refused")], "Extract validation",
        copy=False, readonly=True)
    ib_extract_can_digitize = fields.Boolean(compute="_compute_ib_extract_can_digitize")
    ib_easybill_journal = fields.Boolean(related="journal_id.ib_easybill")
    # ---- the import API (seed 002 / 003)
    ib_invoice_no = fields.Char(
        "External invoice number", copy=False, readonly=True, index=True,
        help="The importing system's invoice number: unique per company (Odoo's number is set on posting).")
    ib_import_state = fields.Selection(
        IMPORT_STATES, "Import status", copy=False, readonly=True, index="btree_not_null", tracking=True)
    ib_api_key_id = fields.Many2one("invoice_bridge.api.key", "Imported with key", copy=False, readonly=True)
    ib_created_user_id = fields.Many2one("res.users", "Imported by", copy=False, readonly=True,
                                         help="The Odoo user whose API key imported it (Bearer).")
    ib_created_by = fields.Char("Created by (sender)", copy=False, readonly=True)
    ib_salesman_id = fields.Many2one("invoice_bridge.salesman", "Salesman", copy=False, readonly=True)
    ib_priority = fields.Char("Priority", copy=False, readonly=True)
    ib_review_reason = fields.Text("Returned because", copy=False, readonly=True)
    ib_approved_by_id = fields.Many2one("res.users", "Approved by", copy=False, readonly=True)
    ib_approved_at = fields.Datetime("Approved on", copy=False, readonly=True)
    ib_extract_credit_url = fields.Char(compute="_compute_ib_extract_credit_url")

    def _compute_ib_extract_can_digitize(self):
        for move in self:
            move.ib_extract_can_digitize = (
                move.move_type in ("in_invoice", "in_refund") and move.state == "draft"
                and move.ib_extract_state in ("no_extract_requested", "error_status", "not_enough_credit",
                                              "unsupported_format")
                and bool(move._ib_extract_attachment()))

    def _compute_ib_extract_credit_url(self):
        for move in self:
            move.ib_extract_credit_url = move.ib_extract_state == "not_enough_credit" and \
                self.env["iap.account"].get_credits_url("invoice_ocr")

    def _compute_ib_sync_log_count(self):
        counts = self.env["invoice_bridge.sync.log"]._counts_by("move_id", self)
        for move in self:
            move.ib_sync_log_count = counts.get(move, 0)

    def action_ib_open_sync_log(self):
        self.ensure_one()
        return self.env["invoice_bridge.sync.log"]._action_open_for(
            [("move_id", "=", self.id)], _("Sync: %s", self.display_name))

    # ------------------------------------------------------------------------------------ import API
    @api.constrains("ib_invoice_no", "ib_import_state")
    def _check_ib_import(self):
        for move in self:
            if move.ib_import_state and not move.ib_invoice_no:
                raise ValidationError(_("An imported invoice needs its external invoice number."))

    def init(self):
        result = super().init()
        # the idempotency key of the import API: one external invoice number per company, in the database
        self.env.cr.execute("""CREATE UNIQUE INDEX IF NOT EXISTS account_move_ib_invoice_no_uniq
                               ON account_move (company_id, ib_invoice_no) WHERE ib_invoice_no IS NOT NULL""")
        return result

    def _ib_import_data(self):
        """The invoice as the import API shows it (responses, live stream, webhooks)."""
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        return {
            "id": self.id,
            "invoice_no": self.ib_invoice_no,
            "number": self.name if self.name and self.name != "/" else None,
            "status": self.ib_import_state or None,
            "state": self.state,
            "type": "in" if self.is_purchase_document(include_receipts=True) else "out",
            "inv_type": "credit" if self.move_type in ("out_refund", "in_refund") else (
                "debit" if "debit_origin_id" in self._fields and self.debit_origin_id else "invoice"),
            "customer": {"code": self.partner_id.ref, "name": self.partner_id.name},
            "invoice_date": self.invoice_date and self.invoice_date.isoformat(),
            "due_date": self.invoice_date_due and self.invoice_date_due.isoformat(),
            "currency": self.currency_id.name,
            "untaxed_amount": payloads.number(self.amount_untaxed),
            "tax_amount": payloads.number(self.amount_tax),
            "total_amount": payloads.number(self.amount_total),
            "salesman": self.ib_salesman_id.name or None,
            "priority": self.ib_priority or None,
            "created_by": self.ib_created_by or None,
            "review_reason": self.ib_review_reason or None,
            "items": [{
                "name": line.name,
                "item_code": line.product_id.default_code or None,
                "barcode": line.product_id.barcode or None,
                "quantity": line.quantity,
                "mrp": line.price_unit,
                "discount": line.discount,
                "batch_no": line.ib_batch_no or None,
                "taxes": line.tax_ids.mapped("name"),
                "subtotal": payloads.number(line.price_subtotal),
            } for line in lines],
        }

    def _ib_check_reviewable(self):
        if any(not m.ib_import_state for m in self):
            raise UserError(_("Only invoices imported through the import API have this review workflow."))

    def action_ib_approve(self):
        """Approve imported invoices waiting for approval: post them, recording who approved and when."""
        self._ib_check_reviewable()
        waiting = self.filtered(lambda m: m.ib_import_state == "waiting_approval" and m.state == "draft")
        if waiting != self:
            raise UserError(_("Only invoices waiting for approval can be approved."))
        waiting.action_post()
        waiting.write({"ib_import_state": "approved", "ib_approved_by_id": self.env.uid,
                       "ib_approved_at": fields.Datetime.now()})
        return True

    def action_ib_return_to_billing(self):
        self._ib_check_reviewable()
        return {"type": "ir.actions.act_window", "res_model": "invoice_bridge.return.wizard", "view_mode": "form",
                "target": "new", "name": _("Return to billing"), "context": {"default_move_ids": self.ids}}

    def _ib_return_to_billing(self, reason):
        self._ib_check_reviewable()
        if any(m.state != "draft" or m.ib_import_state != "waiting_approval" for m in self):
            raise UserError(_("Only draft invoices waiting for approval can be returned to billing."))
        self.write({"ib_import_state": "review", "ib_review_reason": reason})
        for move in self:
            move.message_post(body=_("Returned to billing: %s", reason), author_id=self.env.user.partner_id.id)
        self.env["invoice_bridge.api.event"]._emit("invoice_review", self)

    def action_ib_void(self):
        """Void: Odoo's cancel for drafts, a reversal for posted invoices."""
        self._ib_check_reviewable()
        drafts = self.filtered(lambda m: m.state == "draft")
        posted = self.filtered(lambda m: m.state == "posted")
        drafts.button_cancel()
        if posted:
            posted._reverse_moves([{"ref": self.env._("Void of %s", m.name)} for m in posted], cancel=True)
        (drafts | posted).write({"ib_import_state": "void"})
        return True

    def action_ib_easybill_export(self):
        """Export this customer's month (of this invoice's date) to easybill now."""
        self.ensure_one()
        if not self.journal_id.ib_easybill or self.move_type not in ("out_invoice", "out_refund"):
            raise UserError(_("Only customer invoices of a journal invoiced in easybill are exported."))
        exports = self.env["invoice_bridge.easybill.export"]._export_period(
            self.company_id, self.date, partners=self.commercial_partner_id)
        if not exports:
            raise UserError(_("Nothing left to export: this customer's services of %s are already in easybill "
                              "(or none match the export settings).", self.date.strftime("%m/%Y")))
        return {"type": "ir.actions.act_window", "res_model": exports._name, "view_mode": "form",
                "res_id": exports.id, "target": "current"}

    # ---------------------------------------------------------------------------------- event hooks
    def _post(self, soft=True):
        self._ib_ensure_access_tokens(event="new_invoice")
        posted = super()._post(soft=soft)
        posted._ib_emit_webhook("new_invoice")
        posted._ib_extract_mark_to_validate()
        return posted

    def _compute_payment_state(self):
        # payment_state is a stored compute: compare with the stored value to see a change (a write() override
        # never sees it)
        stored = {}
        ids = tuple(i for i in self.ids if isinstance(i, int))
        if ids:
            self.env.cr.execute(SQL("SELECT id, payment_state FROM account_move WHERE id IN %s", ids))
            stored = dict(self.env.cr.fetchall())
        result = super()._compute_payment_state()
        changed = self.filtered(lambda m: m.id in stored and stored[m.id] != m.payment_state
                                and m.state == "posted")
        newly_paid = changed.filtered(lambda m: m.payment_state in PAID_STATES and stored[m.id] not in PAID_STATES)
        newly_partial = changed.filtered(lambda m: m.payment_state == "partial")
        newly_paid._ib_emit_webhook("invoice_paid")
        newly_partial._ib_emit_webhook("invoice_partially_paid")
        return result

    def button_draft(self):
        announced = self.filtered(lambda m: m.state == "posted")
        res = super().button_draft()
        if not self.env.context.get("ib_cancelling"):
            announced._ib_emit_webhook("invoice_cancelled", reason="reset_to_draft")
        return res

    def button_cancel(self):
        announced = self.filtered(lambda m: m.state == "posted" or (m.state == "draft" and m.posted_before))
        res = super(AccountMove, self.with_context(ib_cancelling=True)).button_cancel()
        announced._ib_emit_webhook("invoice_cancelled", reason="cancelled")
        return res

    # ------------------------------------------------------------------------------------- webhooks
    def _ib_emit_webhook(self, event, reason=None, key_suffix=None):
        """Announce ``event`` for these invoices to every subscribed endpoint when the transaction commits.

        The events of a transaction are collected here; a pre-commit hook, still inside the transaction (a
        rollback queues nothing), writes their outbox messages. It builds the bodies of all of them together
        (a constant number of queries however many invoices are posted) from the invoices as they are
        committed. Odoo's flushing savepoints run the hook when they open and drop what was collected inside
        them when they roll back. The customer invoices and credit notes of ``self`` are concerned; the import
        API's events concern vendor bills too.
        """
        moves = self._ib_webhook_moves(event)
        if not moves:
            return
        precommit = self.env.cr.precommit
        if PENDING_EVENTS not in precommit.data:
            precommit.data[PENDING_EVENTS] = []
            precommit.add(self.env["account.move"].sudo()._ib_flush_webhook_events)
        precommit.data[PENDING_EVENTS].append((event, reason, [(move.id, key_suffix) for move in moves]))

    def _ib_webhook_moves(self, event):
        """The invoices of ``self`` concerned by ``event`` whose company has an endpoint receiving it."""
        if not self:
            return self
        companies = {company_id for _endpoint, company_id
                     in self.env["invoice_bridge.webhook.endpoint"]._subscriptions(event)}
        if not companies:
            return self.browse()
        return self.filtered(lambda m: m.company_id.id in companies and (
            m.is_sale_document(include_receipts=False) or (event in IMPORT_EVENTS and m.is_invoice())))

    def _ib_event_holds(self, event):
        """Whether the invoice is still in the state ``event`` announces (checked when the event is written)."""
        self.ensure_one()
        if event in ("new_invoice", "payment_reminder"):
            return self.state == "posted"
        if event == "invoice_paid":
            return self.state == "posted" and self.payment_state in PAID_STATES
        if event == "invoice_partially_paid":
            return self.state == "posted" and self.payment_state == "partial"
        if event == "invoice_cancelled":
            return self.state != "posted"
        return True

    @api.model
    def _ib_flush_webhook_events(self):
        """Queue the webhook events collected in this transaction (the pre-commit hook, or now); return them.

        Consecutive events of one kind are built together; the order of the events is kept, so the messages of
        one invoice to one endpoint stay in order.
        """
        pending = self.env.cr.precommit.data.pop(PENDING_EVENTS, None)
        Outbox = self.env["invoice_bridge.outbox"]
        if not pending:
            return Outbox
        runs = []
        for event, reason, items in pending:
            if runs and runs[-1][0] == (event, reason):
                runs[-1][1].update(items)
            else:
                runs.append(((event, reason), dict(items)))  # move id -> key suffix: one event per invoice
        vals_list, announced, unannounced = [], set(), set()
        for (event, reason), suffixes in runs:
            moves = self.browse(suffixes).exists()
            if event == "invoice_cancelled":  # posted then reset in this transaction: it never was announced
                moves = moves.filtered(lambda m, unannounced=unannounced: m.id not in unannounced)
            elif event == "new_invoice":  # posted, reset and posted again: announced once
                moves = moves.filtered(lambda m, announced=announced: m.id not in announced)
            held = moves.filtered(lambda m, event=event: m._ib_event_holds(event))
            if event == "new_invoice":
                announced.update(held.ids)
                unannounced.update((moves - held).ids)
            moves = held
            targets = self.env["invoice_bridge.webhook.endpoint"]._subscribed(
                event, moves.company_id).grouped("company_id")
            moves = moves.filtered(lambda m, targets=targets: m.company_id in targets)
            if not moves:
                continue
            moves._ib_ensure_access_tokens()
            documents = moves._ib_webhook_documents(event, reason=reason)
            for move in moves:
                suffix = suffixes[move.id]
                vals_list += targets[move.company_id]._event_vals(
                    event, lambda msg_id, document=documents[move]: {**document, "id": msg_id},
                    record=move, key_suffix=suffix and f"{move.id}_{suffix}", partner=move.partner_id)
        # random ids are new by construction: only keyed events (reminders, import events) can be queued already
        queued = Outbox._enqueue(vals_list, check_existing=any(any(suffixes.values()) for _r, suffixes in runs))
        self.env.flush_all()  # a pre-commit hook runs after the transaction's last flush
        return queued

    def _ib_ensure_access_tokens(self, event=None):
        """Give the invoices of ``self`` (those concerned by ``event``, when given) their portal access token.

        Set in the cache as a pending change: the next flush of these invoices writes it in its own UPDATE
        (called before posting, the posting's). ``get_portal_url()`` would otherwise write each token through
        ``account.move.write()``, whose journal-line synchronisation would be most of the cost of an event.
        """
        moves = self._ib_webhook_moves(event) if event else self
        missing = moves.filtered(lambda m: not m.access_token)
        if missing:
            self.env.cache.update(missing, self._fields["access_token"],
                                  [str(uuid.uuid4()) for _move in missing], dirty=True)

    def _ib_webhook_document(self, event, msg_id, reason=None):
        """The body document of ``event`` for this invoice, as it would be queued now (the preview)."""
        self.ensure_one()
        self._ib_ensure_access_tokens()
        return {**self._ib_webhook_documents(event, reason=reason)[self], "id": msg_id}

    def _ib_webhook_documents(self, event, reason=None):
        """``{invoice: body document}`` of ``event`` for the invoices of ``self``, their ``id`` left to fill.

        Seed 000's shape for new_invoice and reminders. Built together: a constant number of queries whatever
        the number of invoices, of their lines and of their partners' ledger lines.
        """
        if event == "new_invoice":
            data, ledgers = self._ib_invoice_data(), self._ib_ledger_data()
        elif event == "payment_reminder":
            data = self._ib_invoice_data(with_attachments=False)
        now, today = fields.Datetime.now(), fields.Date.context_today(self)
        documents = {}
        for move in self:
            company = move.company_id
            if event == "new_invoice":
                operations = payloads.new_invoice_operations(data[move], ledgers[move], company.id)
            elif event in IMPORT_EVENTS:
                operations = [{"name": "invoice", "payload": move._ib_import_data()}]
            elif event == "payment_reminder":
                operations = payloads.reminder_operations(
                    data[move], company.id, days_overdue=(today - move.invoice_date_due).days)
            else:
                operations = [{"name": "invoice_status", "payload": {
                    "invoice_id": move.id,
                    "invoice_name": move.name,
                    "partner": move.partner_id.display_name,
                    "amount_total": payloads.number(move.amount_total),
                    "amount_residual": payloads.number(move.amount_residual),
                    "currency": move.currency_id.name,
                    "state": move.state,
                    "payment_state": move.payment_state,
                    "reason": reason,
                    "company_id": company.id,
                }}]
            documents[move] = payloads.envelope(event, operations, None, now,
                                                {"id": company.id, "name": company.name})
        return documents

    def _ib_invoice_data(self, with_attachments=True):
        """``{invoice: plain data}`` for the invoice parts of the bodies (one query for all the attachments)."""
        attachments = defaultdict(list)
        if with_attachments and self:
            for att in self.env["ir.attachment"].sudo().search_fetch(
                    [("res_model", "=", self._name), ("res_id", "in", self.ids)],
                    ["res_id", "name", "mimetype", "file_size", "create_date", "write_date", "type",
                     "access_token"], order="id"):
                attachments[att.res_id].append(att)
        data = {}
        for move in self:
            base_url = move.get_base_url()
            lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            data[move] = {
                "id": move.id,
                "name": move.name,
                "partner": move.partner_id.display_name,
                "invoice_date": move.invoice_date,
                "invoice_date_due": move.invoice_date_due,
                "amount_total": move.amount_total,
                "amount_residual": move.amount_residual,
                "currency": move.currency_id.name,
                "lines": [{"product": line.product_id.display_name or line.name, "quantity": line.quantity,
                           "price_unit": line.price_unit, "subtotal": line.price_subtotal} for line in lines],
                "attachments": [{
                    "id": att.id, "name": att.name, "mimetype": att.mimetype, "file_size": att.file_size,
                    "create_date": att.create_date, "write_date": att.write_date, "type": att.type,
                    "url": f"{base_url}/web/content/{att.id}?access_token="
                           f"{att.access_token or att.generate_access_token()[0]}&download=true",
                } for att in attachments[move.id]],
                # the portal URL with its access token, in PDF download form: no Odoo login needed
                "pdf_url": base_url + move.get_portal_url(report_type="pdf", download=True),
            }
        return data

    def _ib_ledger_data(self):
        """``{invoice: ledger}``: the posted receivable/payable lines of each invoice's partner in its company.

        The most recent ones (capped), oldest first, with the balance of the older lines as opening balance.
        One query per company, whatever the number of invoices, partners and lines.
        """
        cap = int(self.env["ir.config_parameter"].sudo().get_param(
            "invoice_bridge.webhook_ledger_cap", payloads.DEFAULT_LEDGER_CAP))
        self.env["account.move.line"].flush_model()
        ledgers = {}
        for company, moves in self.grouped("company_id").items():
            partners = moves.commercial_partner_id
            self.env.cr.execute(SQL("""
                SELECT partner, id, date, name, debit, credit, balance, total FROM (
                    SELECT p.commercial_partner_id AS partner, l.id, l.date, COALESCE(l.move_name, l.name) AS name,
                           l.debit, l.credit, l.balance,
                           SUM(l.balance) OVER (PARTITION BY p.commercial_partner_id) AS total,
                           ROW_NUMBER() OVER (PARTITION BY p.commercial_partner_id
                                              ORDER BY l.date DESC, l.id DESC) AS recent
                      FROM account_move_line l
                      JOIN res_partner p ON p.id = l.partner_id
                     -- filtered on l.partner_id (its index), not on p: that would scan every line of the company
                     WHERE l.partner_id IN (SELECT id FROM res_partner WHERE commercial_partner_id IN %(partners)s)
                       AND l.company_id = %(company)s
                       AND l.parent_state = 'posted'
                       AND l.account_id IN (SELECT id FROM account_account
                                             WHERE account_type IN ('asset_receivable', 'liability_payable'))
                ) ledger WHERE recent <= %(cap)s ORDER BY partner, date, id""",
                partners=tuple(partners.ids), company=company.id, cap=cap))
            rows = defaultdict(list)
            for row in self.env.cr.dictfetchall():
                rows[row["partner"]].append(row)
            by_partner = {}
            for partner in partners:
                lines = rows[partner.id]
                opening = (lines[0]["total"] - sum(line["balance"] for line in lines)) if lines else 0.0
                by_partner[partner] = {"partner_id": partner.id, "partner_name": partner.display_name,
                                       "lines": lines, "opening_balance": float(opening)}
            for move in moves:
                ledgers[move] = by_partner[move.commercial_partner_id]
        return ledgers

    def _ib_ensure_legal_pdf(self):
        """Generate the legal PDF of posted invoices that have none yet, as Send & Print does.

        One rendering (one wkhtmltopdf run) per company; when it fails, each invoice is rendered alone so one
        broken invoice does not hold back the others. Returns ``{move id: error text}`` for those that failed.
        """
        missing = self.filtered(lambda m: m.state == "posted" and m.is_sale_document(include_receipts=False)
                                and not m.invoice_pdf_report_id)
        errors = {}
        for moves in missing.grouped("company_id").values():
            error = moves._ib_render_legal_pdf()
            if error and len(moves) > 1:
                for move in moves:
                    if move_error := move._ib_render_legal_pdf():
                        errors[move.id] = move_error
            elif error:
                errors[moves.id] = error
        return errors

    def _ib_render_legal_pdf(self):
        """Render and attach the legal PDF of ``self`` (one company) in a savepoint; return the error, if any."""
        sender = self.env["account.move.send"]
        try:
            with self.env.cr.savepoint():
                invoices_data = {move: {"pdf_report": sender._get_default_pdf_report_id(move)} for move in self}
                sender.with_company(self.company_id)._prepare_invoice_pdf_report(invoices_data)
                sender._link_invoice_documents(invoices_data)
        except Exception as exc:  # noqa: BLE001 - any rendering failure: reported on the message, retried
            _logger.warning("invoice_bridge: PDF of %s could not be rendered: %s", ", ".join(self.mapped("name")),
                            exc)
            return f"{exc.__class__.__name__}: {exc}"
        return None

    def _ib_announced(self):
        """The invoices of ``self`` whose pdf_url was sent in a new_invoice event."""
        if not self.ids:
            return self.browse()
        self.env.cr.execute(SQL(
            "SELECT DISTINCT move_id FROM invoice_bridge_outbox WHERE event_type = 'new_invoice' AND move_id IN %s",
            tuple(self.ids)))
        return self.browse(row[0] for row in self.env.cr.fetchall())

    def _get_invoice_legal_documents_all(self, allow_fallback=False):
        # The pdf_url of a new_invoice event must serve the legal PDF, never the pro-forma fallback: when the
        # receiver is faster than the rendering cron, render it now (the portal route is not read-only).
        if allow_fallback and self.state == "posted" and not self.invoice_pdf_report_id and self._ib_announced():
            self.sudo()._ib_ensure_legal_pdf()
            self.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return super()._get_invoice_legal_documents_all(allow_fallback=allow_fallback)

    @api.model
    def _ib_cron_render_invoice_pdfs(self, batch=20):
        """Render the legal PDF of invoices announced by a new_invoice event, oldest first, in small batches."""
        self.env.cr.execute("""
            SELECT m.id FROM account_move m
             WHERE m.state = 'posted'
               AND m.id IN (SELECT move_id FROM invoice_bridge_outbox
                             WHERE event_type = 'new_invoice' AND move_id IS NOT NULL)
               AND NOT EXISTS (SELECT 1 FROM ir_attachment a
                                WHERE a.res_model = 'account.move' AND a.res_id = m.id
                                  AND a.res_field = 'invoice_pdf_report_file')
             ORDER BY m.id LIMIT %s""", [batch + 1])
        ids = [row[0] for row in self.env.cr.fetchall()]
        moves = self.browse(ids[:batch]).sudo()
        errors = moves._ib_ensure_legal_pdf()
        done = len(moves) - len(errors)
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        if len(ids) > batch and done:
            self.env.ref("invoice_bridge.ir_cron_render_invoice_pdfs").sudo()._trigger()
        return done

    # ------------------------------------------------------------------------------------ UI actions
    def action_ib_send_webhook(self):
        """(Re)send the new_invoice event of these posted invoices to every subscribed endpoint."""
        self.filtered(lambda m: m.state == "posted")._ib_emit_webhook("new_invoice")
        queued = self.env["account.move"].sudo()._ib_flush_webhook_events().filtered(
            lambda m: m.event_type == "new_invoice" and m.move_id in self)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info" if queued else "warning",
            "message": _("%s webhook message(s) queued.", len(queued)) if queued else
            _("No active webhook endpoint of this company subscribes to new_invoice."),
        }}

    def action_ib_preview_webhook(self):
        self.ensure_one()
        preview = self.env["invoice_bridge.webhook.preview"].create({"move_id": self.id, "event": "new_invoice"})
        preview._fill()
        return {"type": "ir.actions.act_window", "res_model": preview._name, "res_id": preview.id,
                "view_mode": "form", "target": "new", "name": _("Webhook payload preview")}

    # ---------------------------------------------------------------------------- IAP Extract (OCR)
    def _ib_extract_attachment(self):
        self.ensure_one()
        # BMP is documented for generation 1 only
        mimetypes = EXTRACT_MIMETYPES if self.company_id.ib_extract_generation != "2" else tuple(
            m for m in EXTRACT_MIMETYPES if m != "image/bmp")
        main = self.message_main_attachment_id
        if main and main.mimetype in mimetypes:
            return main
        return self.env["ir.attachment"].search([
            ("res_model", "=", self._name), ("res_id", "=", self.id), ("mimetype", "in", mimetypes)],
            order="id", limit=1)

    def _ib_extract_client(self):
        company = self.company_id
        if company.ib_extract_generation == "2":
            return extract.IapExtractClientV2(company.ib_extract_endpoint or extract.V2_DEFAULT_ENDPOINT)
        return extract.IapExtractClient(company.ib_extract_endpoint or extract.DEFAULT_ENDPOINT)

    def _ib_extract_key(self):
        """The remote document: its token (generation 2) or its id (generation 1); False when not sent yet."""
        return self.ib_extract_document_token or self.ib_extract_document_id or False

    def _ib_extract_token(self):
        company = self.company_id.sudo()
        if company.ib_extract_test_mode:
            return extract.INTEGRATION_TOKEN
        if company.ib_extract_token:
            return company.ib_extract_token
        return self.env["iap.account"].with_company(company).get("invoice_ocr").sudo().account_token

    def _ib_extract_log(self, client, route, params, message, state, count=1):
        exchange = client.last_exchange
        self.env["invoice_bridge.sync.log"]._log_detached({
            "channel": "iap_extract", "direction": "outbound", "state": state,
            "company_id": self[:1].company_id.id, "move_id": self.id if len(self) == 1 else False,
            "partner_id": self.partner_id.id if len(self) == 1 else False,
            "endpoint": client.endpoint + client.routes[route], "http_method": "POST",
            "http_status": exchange.status if exchange else 0,
            "duration_ms": exchange.elapsed_ms if exchange else 0,
            "message": message if count == 1 else f"{message} ({count} documents)",
            "request_body": extract.log_request_summary(route, params),
            "response_body": exchange.body if exchange else None,
            "secrets": [params.get("account_token") or ""],
        })

    def _message_set_main_attachment_id(self, attachments, force=False, filter_xml=True):
        # a document lands on the bill (uploaded, or attached to an incoming e-mail)
        result = super()._message_set_main_attachment_id(attachments, force=force, filter_xml=filter_xml)
        self._ib_extract_auto(("upload",))
        return result

    def _message_post_after_hook(self, new_message, message_values):
        res = super()._message_post_after_hook(new_message, message_values)
        if new_message.message_type == "email":  # an e-mail to the journal's alias
            self._ib_extract_auto(("upload", "alias"))
        return res

    def _ib_extract_auto(self, modes):
        """Digitize the draft vendor bills of companies set to do it automatically in one of ``modes``."""
        todo = self.filtered(lambda m: m.company_id.ib_extract_auto in modes and m.state == "draft"
                             and m.move_type in ("in_invoice", "in_refund")
                             and m.ib_extract_state == "no_extract_requested" and m._ib_extract_attachment())
        if todo:
            todo.action_ib_digitize()

    def action_ib_digitize(self):
        """Send each bill's document to the Extract API (parse); results are fetched by the polling cron."""
        for move in self:
            attachment = move._ib_extract_attachment()
            if move.move_type not in ("in_invoice", "in_refund") or move.state != "draft" or not attachment:
                raise UserError(_("Only draft vendor bills with a PDF, PNG, JPG or BMP document can be digitized."))
            move._ib_extract_parse(attachment)
        self.env.ref("invoice_bridge.ir_cron_extract_poll").sudo()._trigger()
        return True

    def _ib_extract_parse(self, attachment):
        self.ensure_one()
        client, company, user = self._ib_extract_client(), self.company_id, self.env.user
        params = {"version": extract.VERSION, "documents": [base64.b64encode(attachment.raw).decode()],
                  "user_infos": {"user_company_vat": company.vat or "", "user_company_name": company.name,
                                 "user_company_country_code": company.country_id.code or "",
                                 "user_lang": user.lang or "en_US", "user_email": user.email or ""}}
        try:
            token = self._ib_extract_token()
            if isinstance(client, extract.IapExtractClientV2):
                # the service calls this URL when the result is ready: it only triggers the polling cron
                result = client.parse(token, params["documents"][0], params["user_infos"],
                                      webhook_url=self.get_base_url() + "/invoice_bridge/iap_extract/webhook",
                                      dbuuid=self.env["ir.config_parameter"].sudo().get_param("database.uuid"))
            else:
                result = client.parse(token, params["documents"][0], params["user_infos"])
        except extract.IapExtractUnavailable as exc:
            # never lost: the polling cron sends it again (document id 0 = not sent yet)
            self.write({"ib_extract_state": "waiting_extraction", "ib_extract_document_id": 0,
                        "ib_extract_document_token": False,
                        "ib_extract_status_msg": _("The service could not be reached (%s); retried.", exc)})
            self._ib_extract_log(client, "parse", params, str(exc), "retrying")
            return
        code = result.get("status_code")
        state, msg = {
            extract.SUCCESS: ("waiting_extraction", _("Sent; waiting for the results.")),
            extract.NOT_ENOUGH_CREDIT: ("not_enough_credit", _("Not enough credit: buy credits, then digitize.")),
            extract.UNSUPPORTED_FORMAT: ("unsupported_format", _("This file format is not supported.")),
            extract.MAINTENANCE: ("waiting_extraction", _("The service is under maintenance; retried.")),
        }.get(code, ("error_status", result.get("status_msg") or _("An error occurred.")))
        key = result.get("document_id") or False
        self.write({"ib_extract_state": state, "ib_extract_document_id": key if isinstance(key, int) else 0,
                    "ib_extract_document_token": key if isinstance(key, str) else False,
                    "ib_extract_status_msg": msg, "ib_extract_results": False, "ib_extract_validation": False,
                    # what the bill holds before the results: values still equal to it are not user edits
                    "ib_extract_filled": {"baseline": {f: self._ib_extract_value(f) for f in EXTRACT_FIELDS}}})
        self._ib_extract_log(client, "parse", dict(params, account_token=token), msg,
                             "success" if code == extract.SUCCESS else
                             "retrying" if code == extract.MAINTENANCE else "failed")

    def action_ib_extract_refresh(self):
        self._ib_extract_poll()
        return True

    def action_ib_extract_reload(self):
        """Apply the extracted data again, overwriting what the user changed."""
        for move in self.filtered(lambda m: m.state == "draft" and m.ib_extract_results):
            move._ib_extract_apply(move.ib_extract_results, force=True)
        return True

    @api.model
    def _ib_cron_extract_poll(self):
        pending = self.sudo().search([("ib_extract_state", "in", ("waiting_extraction", "extract_not_ready")),
                                      ("state", "=", "draft")])
        return pending._ib_extract_poll()

    def _ib_extract_poll(self):
        """ONE get_results call per endpoint for every pending document; unsent documents are parsed again."""
        unsent = self.filtered(lambda m: m.ib_extract_state == "waiting_extraction" and not m._ib_extract_key())
        for move in unsent:
            if attachment := move._ib_extract_attachment():
                move._ib_extract_parse(attachment)
        pending = self.filtered(lambda m: m._ib_extract_key()
                                and m.ib_extract_state in ("waiting_extraction", "extract_not_ready"))
        applied = 0
        for _key, moves in pending.grouped(
                lambda m: (m.company_id.ib_extract_endpoint, m.company_id.ib_extract_generation)).items():
            client = moves[:1]._ib_extract_client()
            ids = [m._ib_extract_key() for m in moves]
            params = {"version": extract.VERSION, "documents_ids": ids}
            try:
                answers = client.get_results(ids, account_token=moves[:1]._ib_extract_token()
                                             if isinstance(client, extract.IapExtractClientV2) else None)
            except extract.IapExtractUnavailable as exc:
                moves._ib_extract_log(client, "get_results", params, str(exc), "retrying", count=len(ids))
                continue
            moves._ib_extract_log(client, "get_results", params, _("Results fetched"), "success", count=len(ids))
            not_ready = moves.filtered(lambda m, answers=answers: answers.get(m._ib_extract_key(), {})
                                       .get("status_code") in extract.RETRY_LATER)
            not_ready.filtered(lambda m: m.ib_extract_state != "extract_not_ready").write(
                {"ib_extract_state": "extract_not_ready", "ib_extract_status_msg": _("Not ready yet.")})
            for move in moves - not_ready:
                answer = answers.get(move._ib_extract_key()) or {}
                if answer.get("status_code") == extract.SUCCESS:
                    move._ib_extract_apply(extract.read_results(answer.get("results")))
                    applied += 1
                else:
                    move.write({"ib_extract_state": "error_status",
                                "ib_extract_status_msg": answer.get("status_msg") or _("An error occurred.")})
        return applied

    # --- filling the bill
    def _ib_extract_apply(self, pivot, force=False):
        """Fill the draft bill from the plain results; fields the user edited are kept unless ``force``."""
        self.ensure_one()
        pivot = dict(pivot)
        filled = dict(self.ib_extract_filled or {})
        baseline = filled.get("baseline") or {}
        values = {
            "partner_id": self._ib_extract_match_partner(pivot).id or False,
            "invoice_date": pivot.get("date") and str(pivot["date"]),
            "invoice_date_due": pivot.get("due_date") and str(pivot["due_date"]),
            "ref": pivot.get("invoice_id") or False,
            "currency_id": self._ib_extract_match_currency(pivot.get("currency")).id or False,
        }
        written, vals = [], {}
        for field in EXTRACT_FIELDS:
            new = values[field]
            if not new:
                continue
            current = self._ib_extract_value(field)
            if force or not current or current in (filled.get(field), baseline.get(field)):
                vals[field] = new
                filled[field] = new
                written.append(self._fields[field].get_description(self.env)["string"])
        if vals.get("invoice_date_due"):
            vals["invoice_payment_term_id"] = False
        lines_mine = not self.invoice_line_ids or filled.get("lines") == self.invoice_line_ids.ids
        if pivot.get("lines") and (force or lines_mine):
            vals["invoice_line_ids"] = [Command.clear()] + [Command.create(line) for line in
                                                             self._ib_extract_line_vals(pivot)]
        self.write(dict(vals, ib_extract_results=self._ib_json(pivot), ib_extract_state="done",
                        ib_extract_status_msg=_("Digitized.")))
        if "invoice_line_ids" in vals:
            filled["lines"] = self.invoice_line_ids.ids
            written.append(_("lines"))
        self.ib_extract_filled = filled
        notes = [_("Digitized: filled %s.", ", ".join(written) or _("nothing (kept your edits)"))]
        bank, new_bank = self._ib_extract_bank(pivot)
        if bank and not self.partner_bank_id:
            self.partner_bank_id = bank
        if new_bank:
            notes.append(_("Supplier bank account %s added.", bank.acc_number))
        if pivot.get("total") is not None and self.currency_id.compare_amounts(pivot["total"], self.amount_total):
            warning = _("The extracted total (%(extracted)s) differs from the computed total (%(computed)s): check "
                        "the lines and taxes.", extracted=pivot["total"], computed=self.amount_total)
            self.ib_extract_status_msg = warning
            notes.append(warning)
        self.message_post(body=" ".join(notes), subtype_xmlid="mail.mt_note")

    def _ib_extract_value(self, field):
        value = self[field]
        return value.id if hasattr(value, "_name") else (str(value) if value else False)

    @staticmethod
    def _ib_json(pivot):
        return {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in pivot.items()}

    def _ib_extract_match_partner(self, pivot):
        """By VAT (with and without the country prefix), then exact name, then a fuzzy name among suppliers;
        never the company itself."""
        Partner = self.env["res.partner"]
        excluded = self.env["res.company"].sudo().search([]).partner_id.ids
        company_domain = ["|", ("company_id", "=", False), ("company_id", "=", self.company_id.id),
                          ("id", "not in", excluded)]
        vat = "".join((pivot.get("vat") or "").split()).upper()
        if vat:
            candidates = {vat}
            if vat[:2].isalpha():
                candidates.add(vat[2:])
            elif pivot.get("country"):
                candidates.add(pivot["country"].upper() + vat)
            partner = Partner.search(company_domain + [("vat", "in", list(candidates))], limit=1)
            if partner:
                return partner
        name = (pivot.get("supplier") or "").strip()
        if not name:
            return Partner
        partner = Partner.search(company_domain + [("name", "=ilike", name)], limit=1)
        if partner:
            return partner
        suppliers = Partner.search_fetch(company_domain + [("supplier_rank", ">", 0)], ["name"])
        names = {p.name.lower(): p for p in suppliers if p.name}
        best = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.8)
        return names[best[0]] if best else Partner

    def _ib_extract_match_currency(self, code):
        if not code:
            return self.env["res.currency"]
        Currency = self.env["res.currency"]  # active ones only: a bill cannot be posted in an inactive currency
        return Currency.search([("name", "=ilike", code.strip())], limit=1) or \
            Currency.search([("symbol", "=", code.strip())], limit=1)

    def _ib_extract_line_vals(self, pivot):
        taxes = self.env["account.tax"].search([("company_id", "=", self.company_id.id),
                                                ("type_tax_use", "=", "purchase"), ("amount_type", "=", "percent")])
        lines = []
        for line in pivot["lines"]:
            quantity = line.get("quantity") or 1.0
            price = line.get("unit_price")
            if price is None and line.get("subtotal") is not None:
                price = line["subtotal"] / quantity
            tax_ids = [taxes.filtered(lambda t, rate=rate: t.amount == rate)[:1].id for rate in line.get("taxes") or []]
            lines.append({"name": line.get("description") or "/", "quantity": quantity, "price_unit": price or 0.0,
                          "discount": line.get("discount") or 0.0,
                          "tax_ids": [Command.set([t for t in tax_ids if t])]})
        if not self.company_id.ib_extract_line_per_tax:
            return lines
        per_tax = {}
        for line in lines:
            key = tuple(sorted(line["tax_ids"][0][2]))
            net = line["quantity"] * line["price_unit"] * (1 - line["discount"] / 100)
            merged = per_tax.setdefault(key, {"names": [], "net": 0.0})
            merged["names"].append(line["name"])
            merged["net"] += net
        return [{"name": ", ".join(merged["names"])[:250], "quantity": 1.0, "price_unit": merged["net"],
                 "tax_ids": [Command.set(list(key))]} for key, merged in per_tax.items()]

    def _ib_extract_bank(self, pivot):
        """``(account, created)``: the supplier's bank account of the IBAN (BIC from SWIFT_code), created when new."""
        iban, bank = (pivot.get("iban") or "").replace(" ", ""), pivot.get("bank") or {}
        Bank = self.env["res.partner.bank"].sudo()
        if not (iban and self.partner_id):
            return Bank, False
        existing = Bank.search([("sanitized_acc_number", "=", iban), ("partner_id", "=", self.partner_id.id)],
                               limit=1)
        if existing:
            return existing, False
        bank_id = False
        if bic := bank.get("bic"):
            bank_id = (self.env["res.bank"].sudo().search([("bic", "=", bic)], limit=1) or self.env["res.bank"].sudo()
                       .create({"name": bank.get("name") or bic, "bic": bic})).id
        return Bank.create({"acc_number": iban, "partner_id": self.partner_id.id, "bank_id": bank_id}), True

    # --- validation, once, after posting
    def _ib_extract_mark_to_validate(self):
        digitized = self.filtered(lambda m: m.ib_extract_state == "done" and m._ib_extract_key()
                                  and not m.ib_extract_validation)
        if digitized:
            digitized.ib_extract_validation = "to_validate"
            self.env.ref("invoice_bridge.ir_cron_extract_validate").sudo()._trigger()

    @api.model
    def _ib_cron_extract_validate(self):
        """Send each posted digitized bill's final values, once (a refused format is not sent again)."""
        for move in self.sudo().search([("ib_extract_validation", "=", "to_validate"), ("state", "=", "posted")]):
            client = move._ib_extract_client()
            values = extract.validation_values(move._ib_extract_final_values())
            params = {"document_id": move._ib_extract_key(), "values": values}
            try:
                result = client.validate(move._ib_extract_key(), values)
            except extract.IapExtractUnavailable as exc:
                move._ib_extract_log(client, "validate", params, str(exc), "retrying")
                continue  # not sent: retried by the next run
            ok = result.get("status_code") == extract.SUCCESS
            move.ib_extract_validation = "validated" if ok else "error"
            move._ib_extract_log(client, "validate", params, result.get("status_msg") or "", "success" if ok
                                 else "failed")

    def _ib_extract_final_values(self):
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        tax_lines = self.line_ids.filtered("tax_line_id")
        return {
            "supplier": self.partner_id.name, "vat": self.partner_id.vat, "country": self.partner_id.country_id.code,
            "currency": self.currency_id.name, "date": self.invoice_date, "due_date": self.invoice_date_due,
            "invoice_id": self.ref, "subtotal": self.amount_untaxed, "total": self.amount_total,
            "global_taxes_amount": self.amount_tax, "merged_lines": False,
            "taxes": [{"amount": t.tax_line_id.amount, "tax_amount": abs(t.amount_currency),
                       "type": "fixed" if t.tax_line_id.amount_type == "fixed" else "percent",
                       "price_include": t.tax_line_id.price_include} for t in tax_lines],
            "lines": [{"description": line.name, "quantity": line.quantity, "unit_price": line.price_unit,
                       "product": line.product_id.display_name or "",
                       "taxes_amount": line.price_total - line.price_subtotal,
                       "taxes": [{"amount": t.amount, "type": "fixed" if t.amount_type == "fixed" else "percent",
                                  "price_include": t.price_include} for t in line.tax_ids],
                       "subtotal": line.price_subtotal, "total": line.price_total} for line in lines],
        }

    @api.model
    def _ib_cron_payment_reminders(self):
        """Daily: a payment_reminder per overdue invoice and subscribed endpoint, at most once per interval."""
        today = fields.Date.context_today(self)
        endpoints = self.env["invoice_bridge.webhook.endpoint"].sudo().search(
            [("event_type_ids.code", "=", "payment_reminder")])
        for company in endpoints.company_id:
            after, interval = company.ib_reminder_days_after_due, max(company.ib_reminder_interval_days, 1)
            overdue = self.sudo().search([
                ("company_id", "=", company.id), ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("payment_state", "not in", ("paid", "in_payment", "reversed", "blocked")),
                ("amount_residual", ">", 0), ("invoice_date_due", "<=", today - timedelta(days=after)),
            ])
            for move in overdue:
                period = (today - move.invoice_date_due).days - after
                # the key names the interval: a second run in the same interval queues nothing
                move._ib_emit_webhook("payment_reminder", key_suffix=f"p{period // interval}")
