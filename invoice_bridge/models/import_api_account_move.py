"""Imported invoices (seed 002 / 003): their external number, the review loop, and how the API shows them."""
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

#: import states in which only Approve may post the invoice (seed 003: draft → waiting approval → approved → posted)
UNAPPROVED_STATES = ("waiting_approval", "review")

IMPORT_STATES = [
    ("waiting_approval", "Waiting approval"),
    ("review", "Returned to billing"),
    ("approved", "Approved"),
    ("void", "Void"),
]


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

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

    @api.depends("ib_import_state")
    def _compute_hide_post_button(self):
        """Odoo's Confirm is hidden on imported invoices that are not approved yet: Approve posts them."""
        result = super()._compute_hide_post_button()
        for move in self:
            if move.ib_import_state in UNAPPROVED_STATES:
                move.hide_post_button = True
        return result

    def _post(self, soft=True):
        """Refuse to post imported invoices that were not approved, whatever button or code posts them: Odoo's
        Confirm, the list's Confirm Entries (which calls ``_post`` directly) and auto-post (which turns a
        ``UserError`` into a chatter note) all come here. Approve marks the invoice approved before posting."""
        unapproved = self.filtered(lambda m: m.ib_import_state in UNAPPROVED_STATES)
        if unapproved:
            waiting = unapproved.filtered(lambda m: m.ib_import_state == "waiting_approval")
            names = ", ".join(unapproved.mapped(lambda m: m.ib_invoice_no or m.display_name))
            if waiting == unapproved:
                raise UserError(_("Imported invoice(s) %s are waiting for approval: use Approve to post them, or "
                                  "Return to billing to ask the sender for a correction.", names))
            raise UserError(_("Imported invoice(s) %s were returned to billing and wait for the sender's "
                              "correction: they can be approved once the sender has corrected them.", names))
        return super()._post(soft=soft)

    def _ib_import_data(self, keys=None):
        """The invoice as the import API shows it: its ONE serialisation, used by the answers of POST and PATCH
        (``keys``: the keys they carry, in this order), the live stream and the webhooks."""
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        data = {
            "id": self.id,
            "invoice_no": self.ib_invoice_no,
            # Odoo's number once posted (the API's contract): 18.0 numbers the first draft of a period already,
            # 19.0 no draft; a draft's number is null on both
            "number": self.name if self.posted_before and self.name and self.name != "/" else None,
            "status": self.ib_import_state or None,
            "state": self.state,
            "updated_at": fields.Datetime.to_string(self.write_date),
            "type": "in" if self.is_purchase_document(include_receipts=True) else "out",
            "inv_type": "credit" if self.move_type in ("out_refund", "in_refund") else (
                "debit" if "debit_origin_id" in self._fields and self.debit_origin_id else "invoice"),
            "customer": {"code": self.partner_id.ref, "name": self.partner_id.name},
            "invoice_date": self.invoice_date and self.invoice_date.isoformat(),
            "due_date": self.invoice_date_due and self.invoice_date_due.isoformat(),
            "currency": self.currency_id.name,
            "untaxed_amount": self._ib_amount(self.amount_untaxed),
            "tax_amount": self._ib_amount(self.amount_tax),
            "total_amount": self._ib_amount(self.amount_total),
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
                "subtotal": self._ib_amount(line.price_subtotal),
            } for line in lines],
        }
        return {key: data[key] for key in keys} if keys else data

    def _ib_amount(self, value):
        """An amount as a JSON number, rounded to the invoice's currency."""
        return float(self.currency_id.round(value or 0.0))

    def _ib_check_reviewable(self):
        if any(not m.ib_import_state for m in self):
            raise UserError(_("Only invoices imported through the import API have this review workflow."))

    def action_ib_approve(self):
        """Approve imported invoices waiting for approval: post them, recording who approved and when."""
        self._ib_check_reviewable()
        waiting = self.filtered(lambda m: m.ib_import_state == "waiting_approval" and m.state == "draft")
        if waiting != self:
            raise UserError(_("Only invoices waiting for approval can be approved."))
        with self.env.cr.savepoint():  # approved first (posting refuses unapproved imports), undone if posting fails
            waiting.write({"ib_import_state": "approved", "ib_approved_by_id": self.env.uid,
                           "ib_approved_at": fields.Datetime.now()})
            waiting.action_post()
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
