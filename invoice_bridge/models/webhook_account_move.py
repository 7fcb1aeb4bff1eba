"""Invoice webhooks: the events noted on the invoice, their bodies (seed 000), the legal PDF behind pdf_url."""
import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..lib import webhook_payloads as payloads
from ..lib.webhook_payloads import BILL_EVENTS
from .core_compat import cron_progress

_logger = logging.getLogger(__name__)

PAID_STATES = ("paid", "in_payment")
#: the import API's events, announced for vendor bills too
IMPORT_EVENTS = ("invoice_created", "invoice_review", "invoice_updated")
#: ``cr.precommit.data`` key of the webhook events collected in the current transaction
PENDING_EVENTS = "invoice_bridge.webhook_events"


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_webhook_message_ids = fields.One2many(
        "invoice_bridge.outbox", "res_id", domain=[("res_model", "=", "account.move"), ("channel", "=", "webhook")],
        string="Webhook messages", readonly=True)

    # ---------------------------------------------------------------------------------- event hooks
    # Override of account.move: a posted invoice announces new_invoice
    def _post(self, soft=True):
        self._ib_ensure_access_tokens(event="new_invoice")
        posted = super()._post(soft=soft)
        posted._ib_emit_webhook("new_invoice")
        return posted

    # Override of account.move: a change of the stored payment state announces invoice_(partially_)paid
    def _compute_payment_state(self):
        # payment_state is a stored compute: compare with the stored value to see a change (a write() override
        # never sees it)
        stored = {}
        # only a posted invoice announces a payment: a draft being created or edited costs no query here
        ids = tuple(m.id for m in self if isinstance(m.id, int) and m.state == "posted")
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

    # Override of account.move: reset to draft announces invoice_cancelled
    def button_draft(self):
        announced = self.filtered(lambda m: m.state == "posted")
        res = super().button_draft()
        if not self.env.context.get("ib_cancelling"):
            announced._ib_emit_webhook("invoice_cancelled", reason="reset_to_draft")
        return res

    # Override of account.move: cancelling announces invoice_cancelled
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
        bills = self.filtered(lambda m: m.is_purchase_document(include_receipts=False)) \
            if event in BILL_EVENTS else self.browse()
        if bills:  # vendor bills announce events of their own
            bills._ib_emit_webhook(BILL_EVENTS[event], reason=reason, key_suffix=key_suffix)
        moves = (self - bills)._ib_webhook_moves(event)
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
        if event in BILL_EVENTS.values():
            return self.filtered(lambda m: m.company_id.id in companies and m.is_purchase_document(
                include_receipts=False))
        return self.filtered(lambda m: m.company_id.id in companies and (
            m.is_sale_document(include_receipts=False) or (event in IMPORT_EVENTS and m.is_invoice())))

    def _ib_event_holds(self, event):
        """Whether the invoice is still in the state ``event`` announces (checked when the event is written)."""
        self.ensure_one()
        event = {bill: invoice for invoice, bill in BILL_EVENTS.items()}.get(event, event)
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
            endpoints = self.env["invoice_bridge.webhook.endpoint"]._subscribed(event, moves.company_id)
            receivers = endpoints._receivers(moves)  # each endpoint's company and invoice filter
            moves = moves.filtered(lambda m, receivers=receivers: receivers[m])
            if not moves:
                continue
            moves._ib_ensure_access_tokens()
            documents = moves._ib_webhook_documents(event, reason=reason)
            for move in moves:
                suffix = suffixes[move.id]
                vals_list += receivers[move]._event_vals(
                    event, documents[move], record=move, key_suffix=suffix and f"{move.id}_{suffix}",
                    partner=move.partner_id)
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
        elif event == "bill_posted":
            data = self._ib_invoice_data()
        elif event == "payment_reminder":
            data = self._ib_invoice_data(with_attachments=False)
        now, today = fields.Datetime.now(), fields.Date.context_today(self)
        documents = {}
        for move in self:
            company = move.company_id
            if event == "new_invoice":
                operations = payloads.new_invoice_operations(data[move], ledgers[move], company.id)
            elif event == "bill_posted":
                operations = payloads.bill_posted_operations(data[move], company.id)
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
        """``{invoice: ledger}``: the ledger of each invoice's partner in its company (see res.partner)."""
        ledgers = {}
        for company, moves in self.grouped("company_id").items():
            by_partner = moves.commercial_partner_id._ib_webhook_ledgers(company)
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
                # the attachment becomes invoice_pdf_report_file, which Send & Print reuses; not through
                # account.move.send._link_invoice_documents, which also marks the invoice sent and makes the PDF
                # its main attachment: nothing was sent to the customer
                values = [data["pdf_attachment_values"] for data in invoices_data.values()
                          if data.get("pdf_attachment_values")]
                self.env["ir.attachment"].sudo().create(values)
                self.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        except Exception as exc:  # noqa: BLE001 - any rendering failure: reported on the message, retried
            _logger.warning("invoice_bridge: PDF of %s could not be rendered: %s", ", ".join(self.mapped("name")),
                            exc)
            return f"{exc.__class__.__name__}: {exc}"
        return None

    def _ib_announced(self):
        """The invoices of ``self`` whose pdf_url was sent in a new_invoice event."""
        return self.filtered_domain(self._ib_announced_domain())

    @api.model
    def _ib_announced_domain(self):
        return [("ib_webhook_message_ids", "any", [("webhook_event", "=", "new_invoice")])]

    # Override of account.move: the portal serves the legal PDF of an announced invoice, never a pro-forma
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
        moves = self.sudo().search([("state", "=", "posted"), ("invoice_pdf_report_file", "=", False),
                                    *self._ib_announced_domain()], order="id", limit=batch + 1)
        todo = moves[:batch]
        errors = todo._ib_ensure_legal_pdf()
        done = len(todo) - len(errors)
        cron_progress(self.env, done)
        if len(moves) > batch and done:
            self.env.ref("invoice_bridge.ir_cron_render_invoice_pdfs").sudo()._trigger()
        return done

    # ------------------------------------------------------------------------------------ UI actions
    def action_ib_send_webhook(self):
        """(Re)send the new_invoice event of these posted invoices to every subscribed endpoint."""
        self.filtered(lambda m: m.state == "posted")._ib_emit_webhook("new_invoice")
        queued = self.env["account.move"].sudo()._ib_flush_webhook_events().filtered(
            lambda m: m.webhook_event == "new_invoice" and m.res_id in self.ids)
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
