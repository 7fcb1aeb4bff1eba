import logging
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..lib import webhook_payloads as payloads

_logger = logging.getLogger(__name__)

PAID_STATES = ("paid", "in_payment")


class AccountMove(models.Model):
    _inherit = "account.move"

    ib_sync_log_count = fields.Integer("Sync", compute="_compute_ib_sync_log_count",
                                       groups="invoice_bridge.group_invoice_bridge_user")

    def _compute_ib_sync_log_count(self):
        counts = dict(self.env["invoice_bridge.sync.log"]._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["__count"]))
        for move in self:
            move.ib_sync_log_count = counts.get(move, 0)

    def action_ib_open_sync_log(self):
        self.ensure_one()
        return self.env["invoice_bridge.sync.log"]._action_open_for(
            [("move_id", "=", self.id)], _("Sync: %s", self.display_name))

    # ---------------------------------------------------------------------------------- event hooks
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._ib_emit_webhook("new_invoice")
        return posted

    def _compute_payment_state(self):
        # payment_state is a stored compute: compare with the stored value to see a change (a write() override
        # never sees it)
        stored = {}
        ids = tuple(i for i in self.ids if isinstance(i, int))
        if ids:
            self.env.cr.execute(SQL("SELECT id, payment_state FROM account_move WHERE id IN %s", ids))
            stored = dict(self.env.cr.fetchall())
        super()._compute_payment_state()
        changed = self.filtered(lambda m: m.id in stored and stored[m.id] != m.payment_state
                                and m.state == "posted")
        newly_paid = changed.filtered(lambda m: m.payment_state in PAID_STATES and stored[m.id] not in PAID_STATES)
        newly_partial = changed.filtered(lambda m: m.payment_state == "partial")
        newly_paid._ib_emit_webhook("invoice_paid")
        newly_partial._ib_emit_webhook("invoice_partially_paid")

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
        """Queue ``event`` for the customer invoices/credit notes of ``self`` to every subscribed endpoint."""
        moves = self.filtered(lambda m: m.is_sale_document(include_receipts=False))
        if not moves:
            return self.env["invoice_bridge.outbox"]
        endpoints = self.env["invoice_bridge.webhook.endpoint"]._subscribed(event, moves.company_id)
        if not endpoints:
            return self.env["invoice_bridge.outbox"]
        moves._ib_ensure_access_tokens()
        queued = self.env["invoice_bridge.outbox"]
        for move in moves:
            targets = endpoints.filtered(lambda e, move=move: e.company_id == move.company_id)
            if not targets:
                continue
            document = move._ib_webhook_document(event, "msg_id", reason=reason)
            queued |= targets._enqueue_event(
                event, lambda msg_id, document=document: {**document, "id": msg_id},
                record=move, key_suffix=key_suffix and f"{move.id}_{key_suffix}", partner=move.partner_id)
        return queued

    def _ib_ensure_access_tokens(self):
        """Give every invoice of ``self`` its portal access token in one statement.

        ``get_portal_url()`` would otherwise write each token through ``account.move.write()``, whose
        journal-line synchronisation is most of the cost of queueing an event on posting.
        """
        missing = self.filtered(lambda m: not m.access_token)
        if not missing:
            return
        tokens = [str(uuid.uuid4()) for _move in missing]
        rows = [SQL("(%s, %s)", move.id, token) for move, token in zip(missing, tokens, strict=True)]
        self.env.cr.execute(SQL(
            "UPDATE account_move m SET access_token = v.token FROM (VALUES %s) AS v(id, token) WHERE m.id = v.id",
            SQL(", ").join(rows)))
        self.env.cache.update(missing, self._fields["access_token"], tokens)

    def _ib_webhook_document(self, event, msg_id, reason=None):
        """The body document of ``event`` for this invoice (seed 000's shape for new_invoice / reminders)."""
        self.ensure_one()
        company = self.company_id
        if event == "new_invoice":
            operations = payloads.new_invoice_operations(
                self._ib_invoice_data(), self._ib_ledger_data(), company.id)
        elif event == "payment_reminder":
            data = self._ib_invoice_data(with_attachments=False)
            operations = payloads.reminder_operations(
                data, company.id, days_overdue=(fields.Date.context_today(self) - self.invoice_date_due).days)
        else:
            operations = [{"name": "invoice_status", "payload": {
                "invoice_id": self.id,
                "invoice_name": self.name,
                "partner": self.partner_id.display_name,
                "amount_total": payloads.number(self.amount_total),
                "amount_residual": payloads.number(self.amount_residual),
                "currency": self.currency_id.name,
                "state": self.state,
                "payment_state": self.payment_state,
                "reason": reason,
                "company_id": company.id,
            }}]
        return payloads.envelope(event, operations, msg_id, fields.Datetime.now(),
                                 {"id": company.id, "name": company.name})

    def _ib_invoice_data(self, with_attachments=True):
        self.ensure_one()
        base_url = self.get_base_url()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        attachments = []
        if with_attachments:
            for att in self.env["ir.attachment"].sudo().search(
                    [("res_model", "=", self._name), ("res_id", "=", self.id)], order="id"):
                token = att.access_token or att.generate_access_token()[0]
                attachments.append({
                    "id": att.id, "name": att.name, "mimetype": att.mimetype, "file_size": att.file_size,
                    "create_date": att.create_date, "write_date": att.write_date, "type": att.type,
                    "url": f"{base_url}/web/content/{att.id}?access_token={token}&download=true",
                })
        return {
            "id": self.id,
            "name": self.name,
            "partner": self.partner_id.display_name,
            "invoice_date": self.invoice_date,
            "invoice_date_due": self.invoice_date_due,
            "amount_total": self.amount_total,
            "amount_residual": self.amount_residual,
            "currency": self.currency_id.name,
            "lines": [{"product": line.product_id.display_name or line.name, "quantity": line.quantity,
                       "price_unit": line.price_unit, "subtotal": line.price_subtotal} for line in lines],
            "attachments": attachments,
            # the portal URL with its access token, in PDF download form: no Odoo login needed
            "pdf_url": base_url + self.get_portal_url(report_type="pdf", download=True),
        }

    def _ib_ledger_data(self):
        """The partner's posted receivable/payable lines in this company: the most recent ones (capped), oldest
        first, with the balance of the older lines left out as opening balance. One query, whatever the size."""
        self.ensure_one()
        partner = self.commercial_partner_id
        cap = int(self.env["ir.config_parameter"].sudo().get_param(
            "invoice_bridge.webhook_ledger_cap", payloads.DEFAULT_LEDGER_CAP))
        self.env["account.move.line"].flush_model()
        self.env.cr.execute(SQL("""
            SELECT id, date, name, debit, credit, before FROM (
                SELECT l.id, l.date, COALESCE(l.move_name, l.name) AS name, l.debit, l.credit,
                       SUM(l.balance) OVER (ORDER BY l.date, l.id) - l.balance AS before,
                       ROW_NUMBER() OVER (ORDER BY l.date DESC, l.id DESC) AS recent
                  FROM account_move_line l
                  JOIN account_account a ON a.id = l.account_id
                 WHERE l.partner_id IN (SELECT id FROM res_partner WHERE commercial_partner_id = %(partner)s)
                   AND l.parent_state = 'posted'
                   AND a.account_type IN ('asset_receivable', 'liability_payable')
                   AND l.company_id = %(company)s
            ) ledger WHERE recent <= %(cap)s ORDER BY date, id""",
            partner=partner.id, company=self.company_id.id, cap=cap))
        rows = self.env.cr.dictfetchall()
        return {"partner_id": partner.id, "partner_name": partner.display_name, "lines": rows,
                "opening_balance": float(rows[0]["before"]) if rows else 0.0}

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
        queued = self.filtered(lambda m: m.state == "posted")._ib_emit_webhook("new_invoice")
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
