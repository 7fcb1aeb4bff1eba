"""Vendor bill digitization through Odoo's IAP Extract API: queue the parse, poll, fill the bill, validate.

Every call goes through the delivery engine (channel ``extract``, see ``extract_outbox.py``): Digitize and
Refresh queue a message and return at once; the master switch and ``neutralize.sql`` stop them like any other.
"""
import difflib
import secrets

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import escape_psql

from ..lib import extract_client as extract
from ..lib.core_masking import remember_secrets
from .core_compat import edi_files, edi_import

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
#: the states from which a bill can be (re)digitized
DIGITIZABLE = ("no_extract_requested", "error_status", "not_enough_credit", "unsupported_format")
#: the fields the digitization fills, in the order they are reported
EXTRACT_FIELDS = ("partner_id", "invoice_date", "invoice_date_due", "ref", "currency_id")
#: the route of the callback generation 2 calls when a result is ready (controllers/extract_webhook.py)
CALLBACK_ROUTE = "/invoice_bridge/iap_extract/webhook"


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

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
    ib_extract_banner = fields.Char("Digitization", compute="_compute_ib_extract_banner")
    ib_extract_credit_url = fields.Char(compute="_compute_ib_extract_credit_url")

    def _compute_ib_extract_can_digitize(self):
        for move in self:
            move.ib_extract_can_digitize = (
                move.move_type in ("in_invoice", "in_refund") and move.state == "draft"
                and move.ib_extract_state in DIGITIZABLE and bool(move._ib_extract_attachment()))

    @api.depends("ib_extract_state", "ib_extract_status_msg")
    def _compute_ib_extract_banner(self):
        """The state, and the message when it says more than the state (never "Not ready yet — Not ready yet.")."""
        labels = dict(self._fields["ib_extract_state"]._description_selection(self.env))
        for move in self:
            label = labels.get(move.ib_extract_state, "")
            message = (move.ib_extract_status_msg or "").strip()
            same = message.rstrip(".").casefold() == label.casefold()
            move.ib_extract_banner = f"{label}: {message}" if message and not same else label

    def _compute_ib_extract_credit_url(self):
        for move in self:
            move.ib_extract_credit_url = move.ib_extract_state == "not_enough_credit" and \
                self.env["iap.account"].get_credits_url("invoice_ocr")

    # ---------------------------------------------------------------------------------------- helpers
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

    def _ib_extract_key(self):
        """The remote document: its token (generation 2) or its id (generation 1); False when not sent yet."""
        return self.ib_extract_document_token or self.ib_extract_document_id or False

    # ------------------------------------------------------------------------------------- triggers
    # Override of mail.thread: a document lands on the bill (uploaded, or attached to an incoming e-mail)
    def _message_set_main_attachment_id(self, attachments, force=False, filter_xml=True):
        result = super()._message_set_main_attachment_id(attachments, force=force, filter_xml=filter_xml)
        self._ib_extract_auto(("upload",))
        return result

    # Override of mail.thread: an e-mail to the purchase journal's alias
    def _message_post_after_hook(self, new_message, message_values):
        res = super()._message_post_after_hook(new_message, message_values)
        if new_message.message_type == "email":
            self._ib_extract_auto(("upload", "alias"))
        return res

    # Override of account.move: a digitized bill's final values are sent back once it is posted
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        digitized = posted.filtered(lambda m: m.ib_extract_state == "done" and m._ib_extract_key()
                                    and not m.ib_extract_validation)
        if digitized:
            digitized.ib_extract_validation = "to_validate"
            self.env["invoice_bridge.outbox"]._extract_queue_validations(digitized)
        return posted

    def _ib_extract_auto(self, modes):
        """Digitize the draft vendor bills of companies set to do it automatically in one of ``modes``; an
        e-invoice (structured data Odoo reads itself) is filled from its XML instead, and no credit is spent."""
        if self.env.context.get("ib_edi_filling"):  # the note posted by _ib_edi_fill
            return
        todo = self.filtered(lambda m: m.company_id.ib_extract_auto in modes and m.state == "draft"
                             and m.move_type in ("in_invoice", "in_refund")
                             and m.ib_extract_state == "no_extract_requested" and m._ib_extract_attachment())
        decoded = self.browse()
        for move in todo:
            file_data = move._ib_edi_file()
            if file_data is not None:
                move._ib_edi_fill(file_data)
                decoded |= move
        if todo - decoded:
            (todo - decoded).action_ib_digitize()

    # ------------------------------------------------------------------- e-invoices: no credit spent
    def _ib_edi_file(self):
        """The structured invoice Odoo decodes itself among this bill's documents (Factur-X/ZUGFeRD embedded in
        a PDF, UBL/XRechnung, CII: an XML, attached or embedded, that has a decoder), or None."""
        self.ensure_one()
        # the main document first (being set when the upload hook runs), then the bill's other files
        # (searched: the attachment_ids cache does not follow a write of an attachment's res_id)
        attachments = self.message_main_attachment_id | self.env["ir.attachment"].sudo().search(
            [("res_model", "=", self._name), ("res_id", "=", self.id)], order="id")
        if not attachments:
            return None
        found = None
        for file_data in edi_files(self, attachments):
            if found is None and file_data.get("xml_tree") is not None and \
                    self._get_edi_decoder(file_data, new=False):
                found = file_data
            if file_data.get("on_close"):
                file_data["on_close"]()
        return found

    @api.model
    def _ib_edi_name(self, file_data):
        return file_data.get("filename") or file_data.get("name") or _("the document")

    @api.model
    def _ib_edi_total(self, file_data):
        """The total due the e-invoice states (CII ``GrandTotalAmount``, UBL ``TaxInclusiveAmount``), or None."""
        tree = file_data["xml_tree"]
        for path in ("//*[local-name()='SpecifiedTradeSettlementHeaderMonetarySummation']"
                     "/*[local-name()='GrandTotalAmount']",
                     "//*[local-name()='LegalMonetaryTotal']/*[local-name()='TaxInclusiveAmount']"):
            for node in tree.xpath(path):
                try:
                    return float(node.text)
                except (TypeError, ValueError):
                    continue
        return None

    def _ib_edi_ocr_reason(self, file_data):
        """Why OCR may still help a bill filled from its e-invoice ("" when nothing would): no supplier, no
        lines, or a total other than the XML's."""
        self.ensure_one()
        if not self.partner_id:
            return _("the e-invoice named no supplier Odoo knows")
        if not self.invoice_line_ids:
            return _("the e-invoice gave the bill no lines")
        total = self._ib_edi_total(file_data)
        if total is not None and self.currency_id.compare_amounts(total, self.amount_total):
            return _("the bill's total %(bill)s is not the e-invoice's %(xml)s", bill=self.amount_total, xml=total)
        return ""

    def _ib_edi_fill(self, file_data):
        """Fill the bill from its e-invoice (unless Odoo already did) and say so; no credit is used."""
        self.ensure_one()
        message = _("decoded from the embedded XML, no credit used")
        if self.ib_extract_status_msg == message:  # said once (the upload hook runs for each main attachment)
            return
        self.ib_extract_status_msg = message  # first: Odoo's import below posts, which runs the hook again
        if not self.invoice_line_ids:  # Odoo's own upload decodes it first; a file posted otherwise is decoded here
            origin = file_data.get("originator_pdf") or file_data.get("origin_attachment") or file_data.get(
                "attachment")
            edi_import(self, origin)
        self.env["invoice_bridge.sync.log"]._log({
            "channel": "iap_extract", "direction": "inbound", "state": "success", "company_id": self.company_id.id,
            "partner_id": self.partner_id.id, "res_model": self._name, "res_id": self.id,
            "message": f"{self._ib_edi_name(file_data)}: {message}"})
        self.with_context(ib_edi_filling=True).message_post(body=_(
            "Digitization: %(file)s is an e-invoice Odoo reads itself (%(what)s).",
                                 file=self._ib_edi_name(file_data), what=message),
                          subtype_xmlid="mail.mt_note")

    # ------------------------------------------------------------------------------------ actions
    def action_ib_digitize(self):
        """Queue the parse of each bill's document and return at once; its results are polled afterwards.

        A bill already being digitized (or digitized) is left alone: a second click, or a stale tab, spends
        no second credit.
        """
        for move in self:
            if move.move_type not in ("in_invoice", "in_refund") or move.state != "draft" or \
                    not move._ib_extract_attachment():
                raise UserError(_("Only draft vendor bills with a PDF, PNG, JPG or BMP document can be digitized."))
        todo = self.filtered(lambda m: m.ib_extract_state in DIGITIZABLE)
        for move in todo:
            # an e-invoice: OCR only when the decoded bill lacks something the XML should have given it
            file_data = move._ib_edi_file()
            reason = file_data is not None and move._ib_edi_ocr_reason(file_data)
            if reason:
                move.message_post(body=_("Digitized although it is an e-invoice: %s.", reason),
                                  subtype_xmlid="mail.mt_note")
            if file_data is not None and not reason:
                raise UserError(_(
                    "%(bill)s was filled from its e-invoice (%(file)s), which Odoo reads itself: digitizing it "
                    "would spend a credit for nothing. Digitize is offered when the decoded bill has no supplier, "
                    "no lines, or a total other than the e-invoice's.", bill=move.display_name,
                    file=self._ib_edi_name(file_data)))
        for move in todo:
            move.write({"ib_extract_state": "waiting_extraction", "ib_extract_document_id": 0,
                        "ib_extract_document_token": False, "ib_extract_results": False,
                        "ib_extract_validation": False, "ib_extract_status_msg": _("Queued; sent in a moment."),
                        # what the bill holds before the results: values still equal to it are not user edits
                        "ib_extract_filled": {"baseline": {f: move._ib_extract_value(f) for f in EXTRACT_FIELDS}}})
        self.env["invoice_bridge.outbox"]._extract_queue_parses(todo)
        skipped = self - todo
        if not skipped:
            return True
        # a stale tab (or a second click) still shows Digitize: say why nothing was sent again
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "warning", "sticky": False, "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            "message": _("%(bills)s: already sent for digitization (%(state)s). Nothing was sent again and no "
                         "credit was spent.", bills=", ".join(skipped.mapped("display_name")),
                         state=", ".join(sorted(set(skipped.mapped(
                             lambda m: dict(m._fields["ib_extract_state"]._description_selection(m.env))[
                                 m.ib_extract_state])))))}}

    def _ib_extract_parse_params(self, client):
        """What the parse call of this bill carries, but the token and the document (added when it is sent)."""
        self.ensure_one()
        company, user = self.company_id, self.env.user
        user_infos = {"user_company_vat": company.vat or "", "user_company_name": company.name,
                      "user_company_country_code": company.country_id.code or "",
                      "user_lang": user.lang or "en_US", "user_email": user.email or ""}
        # generation 2 calls this URL when the result is ready: it only triggers the polling cron
        callback = f"{self.get_base_url()}{CALLBACK_ROUTE}/{self._ib_extract_webhook_token()}"
        return client.parse_params(user_infos, webhook_url=callback,
                                   dbuuid=self.env["ir.config_parameter"].sudo().get_param("database.uuid"))

    @api.model
    def _ib_extract_webhook_token(self, create=True):
        """The unguessable token of this database's callback URL (generated on first use)."""
        params = self.env["ir.config_parameter"].sudo()
        token = params.get_param("invoice_bridge.extract_webhook_token")
        if not token and create:
            token = secrets.token_hex(16)
            remember_secrets([token])  # before the INSERT: a failed one is logged with it
            params.set_param("invoice_bridge.extract_webhook_token", token)
            self.env.registry.clear_cache()  # a secret the sync log masks
        return token

    def action_ib_extract_refresh(self):
        """Queue a poll of these bills' results (one call per endpoint, all documents at once)."""
        self._ib_extract_poll()
        return True

    def action_ib_extract_reload(self):
        """Apply the extracted data again, overwriting what the user changed."""
        for move in self.filtered(lambda m: m.state == "draft" and m.ib_extract_results):
            move._ib_extract_apply(move.ib_extract_results, force=True)
        return True

    @api.model
    def _ib_cron_extract_poll(self):
        """Select the bills waiting for results and hand them to the engine (one poll per endpoint)."""
        pending = self.sudo().search([("ib_extract_state", "in", ("waiting_extraction", "extract_not_ready")),
                                      ("state", "=", "draft")])
        return pending._ib_extract_poll()

    def _ib_extract_poll(self):
        pending = self.filtered(lambda m: m._ib_extract_key() and m.state == "draft"
                                and m.ib_extract_state in ("waiting_extraction", "extract_not_ready"))
        return self.env["invoice_bridge.outbox"]._extract_queue_polls(pending)

    # ------------------------------------------------------------------------------- results
    def _ib_extract_parsed(self, result):
        """What a parse answered (``result`` with status_code and document_id), once it was delivered."""
        code = result.get("status_code")
        state, msg = {
            extract.SUCCESS: ("waiting_extraction", _("Sent; waiting for the results.")),
            extract.NOT_ENOUGH_CREDIT: ("not_enough_credit", _("Not enough credit: buy credits, then digitize.")),
            extract.UNSUPPORTED_FORMAT: ("unsupported_format", _("This file format is not supported.")),
        }.get(code, ("error_status", result.get("status_msg") or _("An error occurred.")))
        key = result.get("document_id") or False
        self.write({"ib_extract_state": state, "ib_extract_document_id": key if isinstance(key, int) else 0,
                    "ib_extract_document_token": key if isinstance(key, str) else False,
                    "ib_extract_status_msg": msg})

    def _ib_extract_answered(self, answers):
        """Apply the polled ``answers`` (``{document key: answer}``) to the bills of ``self``."""
        not_ready_ids = []  # one write for them all: a poll of 500 documents costs the queries of one
        for move in self:
            answer = answers.get(move._ib_extract_key()) or {}
            code = answer.get("status_code")
            if code in extract.RETRY_LATER:
                if move.ib_extract_state != "extract_not_ready":
                    not_ready_ids.append(move.id)
            elif code == extract.SUCCESS:
                move._ib_extract_apply(extract.read_results(answer.get("results")))
            elif answer:
                move.write({"ib_extract_state": "error_status",
                            "ib_extract_status_msg": answer.get("status_msg") or _("An error occurred.")})
        self.browse(not_ready_ids).write({
            "ib_extract_state": "extract_not_ready",
            "ib_extract_status_msg": _("The service is still reading the document: press Refresh in a moment."),
        })

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
        if bank:  # what the bill says wins over the account Odoo proposes
            self.partner_bank_id = bank
        if new_bank:
            notes.append(_("Supplier bank account %s added.", bank.acc_number))
        elif not bank and isinstance(pivot.get("bank"), dict) and pivot["bank"].get("bic"):
            notes.append(_("The bill names the bank %(name)s (BIC %(bic)s), but no account of the supplier there: "
                           "the results carry no account number, so none is set.",
                           name=pivot["bank"].get("name") or "-", bic=pivot["bank"]["bic"]))
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
        partner = Partner.search(company_domain + [("name", "=ilike", escape_psql(name))], limit=1)
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
        return Currency.search([("name", "=ilike", escape_psql(code.strip()))], limit=1) or \
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
        """``(account, created)``: the supplier's bank account of the bill.

        Generation 2 answers an ``iban``: the supplier's account of that IBAN, created when new, its bank the
        one of the BIC in ``SWIFT_code``. Generation 1 (seed 001) documents ``SWIFT_code`` only, no account
        number: the supplier's own account at that BIC's bank, when it has exactly one there; nothing is created.
        """
        bank = pivot.get("bank") if isinstance(pivot.get("bank"), dict) else {}
        Bank = self.env["res.partner.bank"].sudo()
        if not self.partner_id:
            return Bank, False
        iban = (pivot.get("iban") or "").replace(" ", "") if self.company_id.ib_extract_generation == "2" else ""
        if not iban:
            accounts = Bank.search([("partner_id", "=", self.partner_id.id), ("bank_id.bic", "=ilike",
                                                                                escape_psql(str(bank["bic"])))],
                                   limit=2) if bank.get("bic") else Bank
            return (accounts if len(accounts) == 1 else Bank), False
        existing = Bank.search([("sanitized_acc_number", "=", iban), ("partner_id", "=", self.partner_id.id)],
                               limit=1)
        if existing:
            return existing, False
        bank_id = False
        if bic := bank.get("bic"):
            bank_id = (self.env["res.bank"].sudo().search([("bic", "=", bic)], limit=1) or self.env["res.bank"].sudo()
                       .create({"name": bank.get("name") or bic, "bic": bic})).id
        return Bank.create({"acc_number": iban, "partner_id": self.partner_id.id, "bank_id": bank_id}), True

    def _ib_extract_tax_base(self, tax, lines):
        """What ``tax`` applies to on the bill, in the bill's currency: the untaxed amount of its lines."""
        return sum(lines.filtered(lambda line: tax in line.tax_ids).mapped("price_subtotal"))

    def _ib_extract_final_values(self):
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        tax_lines = self.line_ids.filtered("tax_line_id")
        return {
            "supplier": self.partner_id.name, "vat": self.partner_id.vat, "country": self.partner_id.country_id.code,
            "currency": self.currency_id.name, "date": self.invoice_date, "due_date": self.invoice_date_due,
            "invoice_id": self.ref, "subtotal": self.amount_untaxed, "total": self.amount_total,
            "global_taxes_amount": self.amount_tax,
            # the lines were merged per tax when the bill was filled with that setting on
            "merged_lines": bool(self.company_id.ib_extract_line_per_tax),
            "taxes": [{"base": self._ib_extract_tax_base(t.tax_line_id, lines),
                       "amount": abs(t.amount_currency) if t.tax_line_id.amount_type == "fixed" else
                       t.tax_line_id.amount,
                       "type": "fixed" if t.tax_line_id.amount_type == "fixed" else "percent",
                       "price_include": t.tax_line_id.price_include} for t in tax_lines],
            "lines": [{"description": line.name, "quantity": line.quantity, "unit_price": line.price_unit,
                       "product": line.product_id.display_name or "",
                       "taxes_amount": line.price_total - line.price_subtotal,
                       "taxes": [{"amount": t.amount, "type": "fixed" if t.amount_type == "fixed" else "percent",
                                  "price_include": t.price_include} for t in line.tax_ids],
                       "subtotal": line.price_subtotal, "total": line.price_total} for line in lines],
        }
