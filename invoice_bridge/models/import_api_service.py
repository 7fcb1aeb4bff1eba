"""What the import API does with a validated payload: upsert the customer, the salesman and the items, create
or correct the draft invoice. The controller authenticates, parses and maps exceptions to HTTP answers; this
model holds the business rules, so they are tested without HTTP too.
"""
import copy
import logging
from contextlib import contextmanager
from decimal import Decimal

import psycopg2.errors

from odoo import Command, _, api, models, sql_db
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, float_is_zero

from ..lib.import_api_fields import MAX_MOVE_AMOUNT
from ..lib.import_api_messages import PayloadError

_logger = logging.getLogger(__name__)

#: the longest ``invoice_no`` an import accepts (the field table's)
MAX_INVOICE_NO_LENGTH = 64

MOVE_TYPES = {
    ("out", "invoice"): "out_invoice", ("out", "credit"): "out_refund", ("out", "debit"): "out_invoice",
    ("in", "invoice"): "in_invoice", ("in", "credit"): "in_refund", ("in", "debit"): "in_invoice",
}


class ImportRetry(Exception):
    """Another request committed a record this transaction cannot see (its snapshot is older): start again."""


class ImportConflict(Exception):
    """The invoice number exists in the company (``move`` may be empty when it was committed concurrently)."""

    def __init__(self, move=None, invoice_no=None, move_id=None):
        super().__init__(invoice_no)
        self.move, self.invoice_no = move, invoice_no
        self.move_id = move.id if move else move_id


class ImportNotFound(Exception):
    pass


class ImportNotInReview(Exception):
    def __init__(self, move):
        super().__init__(move.ib_invoice_no)
        self.move = move


class InvoiceBridgeImportService(models.AbstractModel):
    _name = "invoice_bridge.import.service"
    _description = "Invoice Bridge import API service"

    # ------------------------------------------------------------------------------------------ lookups
    @api.model
    def _find_move(self, company, invoice_no):
        return self._find_moves(company, [invoice_no])[:1]

    @api.model
    def _find_moves(self, company, invoice_nos):
        """The company's imported invoices of these numbers (archived included), whoever the caller is."""
        return self.env["account.move"].sudo().with_context(active_test=False).search(
            [("company_id", "=", company.id), ("ib_invoice_no", "in", list(invoice_nos))])

    @api.model
    def _resolve_currency(self, code, errors):
        if not code:
            return None
        currency = self.env["res.currency"].sudo().with_context(active_test=False).search(
            [("name", "=", code)], limit=1)
        if not currency:
            errors.setdefault("currency", []).append(_("Unknown currency \"%s\".", code))
        elif not currency.active:
            errors.setdefault("currency", []).append(
                _("The currency %s is not active in Odoo: an accountant must activate it first.", code))
        return currency

    @api.model
    def _resolve_taxes(self, taxes, company, use, price_include, path, errors):
        """Odoo taxes for the payload's tax references (names or percentages) of one line."""
        Tax = self.env["account.tax"].sudo().with_company(company)
        found = Tax.browse()
        for index, ref in enumerate(taxes):
            domain = [("company_id", "child_of", company.root_id.id), ("type_tax_use", "=", use),
                      ("amount_type", "=", "percent")]
            if ref.name is not None:
                domain.append(("name", "=", ref.name))
            else:
                domain.append(("amount", "=", float(ref.percent)))
            candidates = Tax.search(domain)
            match = candidates.filtered(lambda t: t.price_include == price_include)[:1]
            if not match:
                label = ref.name if ref.name is not None else f"{ref.percent}%"
                kind = _("price-included") if price_include else _("price-excluded")
                errors.setdefault(f"{path}.taxes[{index}]", []).append(
                    _("No %(kind)s %(use)s tax \"%(tax)s\" in this company.", kind=kind, use=use, tax=label))
            found |= match
        return found

    # ------------------------------------------------------------------------------------- concurrency
    @api.model
    def _lock_keys(self, kind, company, keys):
        """Serialize the creation of ``kind`` records with these natural keys across concurrent imports.

        Takes a transaction-level advisory lock per key (sorted: no deadlock), then checks in a new transaction
        whether a concurrent import committed one of them meanwhile; this transaction's snapshot is older and
        cannot see it, so the request starts again (see :class:`ImportRetry`) instead of creating a duplicate.
        """
        keys = sorted({k for k in keys if k})
        if not keys:
            return
        for key in keys:
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"ib:{kind}:{company.id}:{key}"))
        if self._committed_elsewhere(kind, company, keys):
            raise ImportRetry(kind)

    @api.model
    def _committed_elsewhere(self, kind, company, keys):
        queries = {
            "partner": "SELECT 1 FROM res_partner WHERE ref = ANY(%s) AND (company_id = %s OR company_id IS NULL)",
            "product": """SELECT 1 FROM product_product p JOIN product_template t ON t.id = p.product_tmpl_id
                           WHERE (p.default_code = ANY(%s) OR p.barcode = ANY(%s))
                             AND (t.company_id = %s OR t.company_id IS NULL)""",
            "salesman": "SELECT 1 FROM invoice_bridge_salesman WHERE name = ANY(%s) AND company_id = %s",
        }
        params = (keys, keys, company.id) if kind == "product" else (keys, company.id)
        with self.env.registry.cursor() as cr:  # a new snapshot, taken after the lock was granted
            cr.execute(queries[kind] + " LIMIT 1", params)
            found = bool(cr.fetchone())
            cr.rollback()
        # under Odoo's test runner that cursor is the test transaction itself: what it sees, this one sees too
        return found and not self._visible(kind, company, keys)

    @api.model
    def _visible(self, kind, company, keys):
        if kind == "partner":
            return bool(self.env["res.partner"].sudo().with_context(active_test=False).search_count(
                [("ref", "in", keys), ("company_id", "in", (company.id, False))], limit=1))
        if kind == "product":
            return bool(self.env["product.product"].sudo().with_context(active_test=False).search_count(
                ["|", ("default_code", "in", keys), ("barcode", "in", keys),
                 ("company_id", "in", (company.id, False))], limit=1))
        return bool(self.env["invoice_bridge.salesman"].sudo().search_count(
            [("name", "in", keys), ("company_id", "=", company.id)], limit=1))

    # ----------------------------------------------------------------------------------------- upserts
    @api.model
    def _upsert_partner(self, customer, company):
        """The company's (or a shared) partner whose reference is the customer code; created when missing."""
        Partner = self.env["res.partner"].sudo().with_company(company)
        partner = Partner.search([("ref", "=", customer.code), ("company_id", "in", (company.id, False))],
                                 order="company_id, id", limit=1)
        vals = {"name": customer.name, "ib_area": customer.area or False, "street": customer.address1 or False,
                "street2": customer.address2 or False, "email": customer.email or False}
        if "mobile" in Partner._fields:  # 18.0
            vals.update(phone=customer.phone1 or False, mobile=customer.phone2 or False)
        else:  # 19.0 has one phone: phone2 only when phone1 is empty, as Odoo's 18 -> 19 upgrade moves mobile
            vals["phone"] = customer.phone1 or customer.phone2 or False
        if not partner:
            self._lock_keys("partner", company, [customer.code])
            return Partner.create({**vals, "ref": customer.code, "company_id": company.id, "is_company": True})
        if partner.company_id != company:
            # a partner shared by every company is used as it is: one company's sender never rewrites it
            return partner
        # write only what changed: no needless row lock on a customer shared by concurrent imports
        changed = {k: v for k, v in vals.items() if (partner[k] or False) != v and (v or k == "name")}
        if changed:
            partner.write(changed)
        return partner

    @api.model
    def _upsert_products(self, items, company, errors, paths=None):
        """``[product]`` per item: matched by internal reference, then barcode; created when missing.

        ``paths``: the payload path of each item, for error messages (default ``items[<index>]``).
        """
        paths = paths or [f"items[{index}]" for index in range(len(items))]
        Product = self.env["product.product"].sudo().with_company(company).with_context(active_test=False)
        company_domain = [("company_id", "in", (company.id, False))]
        codes = [i.item_code for i in items if i.item_code]
        by_code, by_barcode = {}, {}
        if codes:
            for product in Product.search([("default_code", "in", codes), *company_domain], order="id"):
                by_code.setdefault(product.default_code, product)
        barcodes = [i.barcode for i in items if i.barcode and not (i.item_code and i.item_code in by_code)]
        if barcodes:  # only for the items their code did not find
            for product in Product.search([("barcode", "in", barcodes), *company_domain], order="id"):
                by_barcode.setdefault(product.barcode, product)
        missing = [i for i in items if not (by_code.get(i.item_code) or by_barcode.get(i.barcode))]
        self._lock_keys("product", company, [k for i in missing for k in (i.item_code, i.barcode)])
        products = []
        for item in items:
            product = by_code.get(item.item_code) or by_barcode.get(item.barcode)
            extra = {"ib_manufacturer": item.company_name or False, "ib_packing": item.packing or False,
                     "ib_shelf_location": item.shelf_location or False, "ib_remarks": item.remarks or False}
            if not product:
                product = Product.create({
                    "name": item.name, "default_code": item.item_code or False, "barcode": item.barcode or False,
                    "list_price": float(item.mrp), "company_id": company.id, "type": "consu", **extra})
                if item.item_code:
                    by_code[item.item_code] = product
                if item.barcode:
                    by_barcode[item.barcode] = product
            elif product.company_id == company:  # a product shared by every company is never rewritten
                changed = {k: v for k, v in extra.items() if v and product[k] != v}
                if changed:
                    product.product_tmpl_id.write(changed)
            products.append(product)
        return products

    # ------------------------------------------------------------------------------------------ import
    @api.model
    def _import_invoice(self, payload, company, api_key=None):
        """Create the draft invoice of ``payload`` in ``company`` as the current user. Returns the move.

        Raises :class:`PayloadError` (400), :class:`ImportConflict` (409); the caller rolls everything back.
        """
        # the caller's rights first: nothing is looked up (and nothing told about) for a user who may not import
        self.env["account.move"].check_access("create")
        existing = self._find_move(company, payload.invoice_no)
        if existing:
            raise ImportConflict(existing, payload.invoice_no)
        # concurrent imports of one number wait here for each other; the unique index stays the last word
        self._lock_invoice_numbers(company, [payload.invoice_no])
        vals = self._prepare_import(payload, company, api_key=api_key)
        move = self._create_move(self.env["account.move"].with_company(company), vals, company, payload.invoice_no)
        self._finish_import(move, payload, company)
        return move

    @api.model
    def _import_invoices(self, items, company, api_key=None):
        """The batch route: ``items`` are payloads (or the :class:`PayloadError` of an item that did not parse);
        returns, per item and in order, its move or the exception that refuses it (never raised: items are
        independent, a bad one never undoes the good ones).

        All items are checked first (each in a savepoint: a refused item leaves nothing behind) and the valid ones
        created in ONE ``create`` call. Only when that call fails is the whole attempt undone and each item
        imported on its own, as the single route does, in its own savepoint: the faulty one is refused, the others
        are created all the same. Numbers are locked in sorted order (two batches never deadlock); a number
        imported already, or twice in the batch, is a 409 as in the single route.
        """
        self.env["account.move"].check_access("create")
        valid = [(index, item) for index, item in enumerate(items) if not isinstance(item, Exception)]
        self._lock_invoice_numbers(company, {item.invoice_no for _index, item in valid})
        try:
            with self.env.cr.savepoint():
                return self._import_at_once(items, valid, company, api_key)
        except (ImportRetry, *PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
            raise  # a concurrent request: the whole request starts again (the controller's loop)
        except Exception:  # noqa: BLE001  one faulty item: each is imported on its own below, which refuses it
            _logger.info("invoice_bridge: a batch of %s invoices could not be created at once: one by one",
                         len(valid))
        results = list(items)
        for index, item in valid:
            try:
                with self._item_savepoint():
                    results[index] = self._import_invoice(item, company, api_key=api_key)
            except (PayloadError, ImportConflict, UserError, psycopg2.IntegrityError) as exc:
                # UserError: AccessError, ValidationError too; IntegrityError: a constraint refused it (a 400)
                results[index] = exc
        return results

    @api.model
    def _import_at_once(self, items, valid, company, api_key):
        """:meth:`_import_invoices`' first attempt: every valid item in one ``create``; raises when it fails."""
        results = list(items)
        existing = {move.ib_invoice_no: move
                    for move in self._find_moves(company, [item.invoice_no for _index, item in valid])}
        prepared, first, duplicates = [], {}, []
        for index, item in valid:
            if item.invoice_no in existing:
                results[index] = ImportConflict(existing[item.invoice_no], item.invoice_no)
            elif item.invoice_no in first:  # twice in the batch: the second is a duplicate of the first
                duplicates.append((index, first[item.invoice_no]))
            else:
                try:
                    with self._item_savepoint():
                        vals = self._prepare_import(item, company, api_key=api_key)
                except (PayloadError, UserError) as exc:
                    results[index] = exc
                    continue
                first[item.invoice_no] = index
                prepared.append((index, item, vals))
        moves = self.env["account.move"].with_company(company).create([vals for _i, _item, vals in prepared])
        moves.flush_recordset()
        for (index, item, _vals), move in zip(prepared, moves, strict=True):
            self._finish_import(move, item, company)
            results[index] = move
        for index, first_index in duplicates:
            results[index] = ImportConflict(results[first_index], items[index].invoice_no)
        return results

    @contextmanager
    def _item_savepoint(self):
        """A savepoint for one item of a batch. Odoo's savepoint, rolled back, drops every pre-commit hook of the
        transaction: the webhook events of the invoices imported before the refused one would be lost with it.
        This one puts back the hooks (and their data) as they were when it began."""
        precommit = self.env.cr.precommit
        hooks = list(precommit._funcs)
        data = {key: copy.copy(value) for key, value in precommit.data.items()}
        try:
            with self.env.cr.savepoint():
                yield
        except Exception:
            precommit.clear()
            for hook in hooks:
                precommit.add(hook)
            precommit.data.update(data)
            raise

    @api.model
    def _lock_invoice_numbers(self, company, numbers):
        """Concurrent imports of one number wait here for each other (sorted: two batches never deadlock)."""
        for number in sorted(numbers):
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"ib:invoice:{company.id}:{number}"))

    @api.model
    def _prepare_import(self, payload, company, api_key=None):
        """The ``create`` values of ``payload``'s invoice, customers, items and salesman upserted; raises
        :class:`PayloadError` with every error of the payload."""
        errors = {}
        self._check_quantities(payload.items, errors)
        Move = self.env["account.move"].with_company(company)
        if payload.inv_type == "debit" and "debit_origin_id" not in Move._fields:
            errors["inv_type"] = [_("Debit notes need Odoo's debit note module (account_debit_note), which is "
                                    "not installed in this database.")]
        currency = self._resolve_currency(payload.currency, errors)
        use = "sale" if payload.type == "out" else "purchase"
        taxes = [self._resolve_taxes(item.taxes, company, use, payload.tax_type == "tax_in", f"items[{i}]", errors)
                 for i, item in enumerate(payload.items)]
        journal = self.env["account.journal"].sudo().search(
            [("company_id", "=", company.id), ("type", "=", use)], limit=1)
        if not journal:
            errors.setdefault("type", []).append(_("The company has no %s journal.", use))
        products = self._upsert_products(payload.items, company, errors)
        if errors:
            raise PayloadError(errors)
        partner = self._upsert_partner(payload.customer, company)
        salesman = user = None
        if payload.salesman:
            salesman, user = self.env["invoice_bridge.salesman"]._find_or_create(
                payload.salesman, company, lock=lambda names: self._lock_keys("salesman", company, names))
        vals = {
            "move_type": MOVE_TYPES[(payload.type, payload.inv_type)],
            "journal_id": journal.id,
            "company_id": company.id,
            "partner_id": partner.id,
            "invoice_date": payload.invoice_date,
            "ref": payload.ref or False,
            "narration": payload.memo or False,
            "ib_invoice_no": payload.invoice_no,
            "ib_import_state": "waiting_approval",
            "ib_api_key_id": api_key.id if api_key else False,
            "ib_created_user_id": False if api_key else self.env.uid,
            "ib_created_by": payload.created_by or False,
            "ib_priority": payload.priority or False,
            "ib_salesman_id": salesman.id if salesman else False,
            "invoice_line_ids": [
                Command.create(self._line_vals(item, product, line_taxes if payload.tax_type != "no_tax" else None))
                for item, product, line_taxes in zip(payload.items, products, taxes, strict=True)],
        }
        if user:
            vals["invoice_user_id"] = user.id
        if currency:
            vals["currency_id"] = currency.id
        if payload.due_date:
            vals["invoice_date_due"] = payload.due_date
            vals["invoice_payment_term_id"] = False
        elif not self._partner_payment_term(partner, company, vals["move_type"]):
            # no terms and no due date: due on the invoice date, given to create (a write after it costs as
            # much as a tenth of the import: Odoo recomputes the move's lines)
            vals["invoice_date_due"] = payload.invoice_date
        if payload.inv_type == "debit" and payload.ref:
            origin = self._find_move(company, payload.ref)
            if origin:
                vals["debit_origin_id"] = origin.id
        return vals

    @api.model
    def _finish_import(self, move, payload, company):
        """What follows the creation: the due date without terms, the payload's rate, the invoice_created event."""
        if not payload.due_date and not move.invoice_payment_term_id and move.invoice_date_due != move.invoice_date:
            move.invoice_date_due = move.invoice_date  # no terms and no due date (the create's values say so)
        currency = move.currency_id
        if payload.currency and payload.currency_rate and currency != company.currency_id:
            # the payload's rate: 1 unit of the invoice's currency = currency_rate units of the company's
            move.invoice_currency_rate = 1 / float(payload.currency_rate)
        self.env["invoice_bridge.api.event"]._emit("invoice_created", move)

    @api.model
    def _partner_payment_term(self, partner, company, move_type):
        """The payment terms Odoo gives a new ``move_type`` invoice of ``partner`` in ``company`` (the rule of
        ``account.move._compute_invoice_payment_term_id``)."""
        partner = partner.with_company(company)
        if move_type in ("out_invoice", "out_refund"):
            return partner.property_payment_term_id
        return partner.property_supplier_payment_term_id

    @api.model
    def _create_move(self, Move, vals, company, invoice_no):
        """Create the move; a concurrent import of the same number (unique index) becomes a conflict."""
        try:
            with self.env.cr.savepoint():
                move = Move.create(vals)
                move.flush_recordset()
        except psycopg2.errors.UniqueViolation as exc:
            if "account_move_ib_invoice_no_uniq" not in str(exc):
                raise
            raise ImportConflict(None, invoice_no, move_id=self._committed_move_id(company, invoice_no)) from exc
        return move

    @api.model
    def _committed_move_id(self, company, invoice_no):
        """The id of the invoice a concurrent request committed (this transaction's snapshot cannot see it)."""
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT id FROM account_move WHERE company_id = %s AND ib_invoice_no = %s",
                       (company.id, invoice_no))
            row = cr.fetchone()
            cr.rollback()
        return row[0] if row else None

    @api.model
    def _line_vals(self, item, product, taxes):
        """A new invoice line; its taxes are the ones sent (``taxes``), never the product's defaults."""
        return {
            "product_id": product.id,
            "name": item.name,
            "quantity": float(item.quantity),
            "price_unit": float(item.mrp),
            "discount": float(item.discount or 0),
            "ib_batch_no": item.batch_no or False,
            "tax_ids": [Command.set(taxes.ids if taxes else [])],
        }

    # -------------------------------------------------------------------------------------------- read
    @api.model
    def _read_invoice(self, invoice_no, company):
        """The imported invoice ``invoice_no`` of ``company``, as the current user may read it (the rule of PATCH:
        the rights first, 403; another company's number is unknown here, 404)."""
        self.env["account.move"].check_access("read")
        # a number no import accepts (too long, a NUL character PostgreSQL refuses) names no invoice
        valid = 0 < len(invoice_no) <= MAX_INVOICE_NO_LENGTH and "\x00" not in invoice_no
        move = self._find_move(company, invoice_no) if valid else None
        if not move:
            raise ImportNotFound(invoice_no)
        move = move.with_env(self.env).with_company(company)
        move.check_access("read")
        return move

    @api.model
    def _list_invoices(self, query, company, keys):
        """One page of ``company``'s imported invoices after ``query.after``, in ``(write_date, id)`` order:
        ``([serialised invoice], (write_date, id) of the last one or None, whether more follow)``.

        An invoice's ``write_date`` is the start of the transaction that wrote it, which may commit after a client
        read later ones: listed behind the client's cursor, it would be skipped for good. So a page stops before
        the horizon, the start of the oldest transaction still running (they can only write at or after it), and
        is read in a snapshot taken after the horizon: what a running transaction commits comes on a later page.
        """
        Move = self.env["account.move"]
        Move.check_access("read")
        with self.env.registry.cursor() as cr:
            if isinstance(cr, sql_db.Cursor):  # a real connection (under the test runner: the test cursor)
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # each statement: a new snapshot
            env = self.env(cr=cr)
            horizon = self._list_horizon(cr)
            domain = [("company_id", "=", company.id), ("ib_invoice_no", "!=", False)]
            if query.statuses:
                domain.append(("ib_import_state", "in", list(query.statuses)))
            found = env["account.move"].with_context(active_test=False)._search(
                domain, order="write_date, id", limit=query.limit + 1)
            write_date, move_id = SQL.identifier(found.table, "write_date"), SQL.identifier(found.table, "id")
            found.add_where(SQL("%s < %s", write_date, horizon))
            if query.updated_since:
                found.add_where(SQL("%s >= %s", write_date, query.updated_since))
            if query.after:
                found.add_where(SQL("(%s, %s) > (%s, %s)", write_date, move_id, *query.after))
            rows = env.execute_query(found.select(move_id, write_date))
            page = rows[:query.limit]
            moves = env["account.move"].browse([row[0] for row in page]).with_company(company)
            data = [move._ib_import_data(keys) for move in moves]
            cr.rollback()
        return data, (page[-1][1], page[-1][0]) if page else None, len(rows) > query.limit

    @api.model
    def _list_horizon(self, cr):
        """The start of the oldest other transaction running on this database (naive UTC), at most now.

        Now is read first: a transaction that starts after it writes after it; one that started before is either
        over by the time the running ones are read (its rows visible to the next statement) or among them.
        """
        cr.execute("SELECT clock_timestamp()")
        now = cr.fetchone()[0]
        cr.execute(SQL(
            """SELECT (LEAST(%s, min(xact_start)) AT TIME ZONE 'UTC') FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
                  AND backend_type = 'client backend'""", now))
        return cr.fetchone()[0]

    # ------------------------------------------------------------------------------------------ update
    @api.model
    def _update_invoice(self, payload, company):
        """Apply a correction to an invoice returned to billing; it goes back to waiting approval."""
        self.env["account.move"].check_access("write")  # the caller's rights before anything is looked up
        move = self._find_move(company, payload.invoice_no)
        if not move:
            raise ImportNotFound(payload.invoice_no)
        if move.ib_import_state != "review" or move.state != "draft":
            raise ImportNotInReview(move)
        move = move.with_env(self.env).with_company(company)
        move.check_access("write")
        errors = {}
        self._check_quantities(payload.items, errors)
        if payload.due_date and move.invoice_date and payload.due_date < move.invoice_date:
            errors["due_date"] = [_("Ensure this date is on or after the invoice date (%s).", move.invoice_date)]
        commands, to_create = self._line_corrections(move, payload, company, errors)
        if errors:
            raise PayloadError(errors)
        if to_create:
            products = self._upsert_products([item for _i, item, _t in to_create], company, errors,
                                             paths=[f"items[{index}]" for index, _item, _t in to_create])
            if errors:
                raise PayloadError(errors)
            for (_index, item, taxes), product in zip(to_create, products, strict=True):
                commands.append(Command.create(self._line_vals(item, product, taxes)))
        vals = {"ib_import_state": "waiting_approval"}
        if commands:
            vals["invoice_line_ids"] = commands
        if payload.due_date:
            vals.update(invoice_date_due=payload.due_date, invoice_payment_term_id=False)
        if payload.memo is not None:
            vals["narration"] = payload.memo
        # no tracking message: the calling user may be a technical user without an e-mail address (mail refuses
        # to author messages then); the chatter note below says what happened
        move.with_context(mail_notrack=True).write(vals)
        notes = payload.resolution_notes or _("(no resolution notes)")
        # authored by OdooBot, naming the caller: a technical user often has no e-mail address, which mail refuses
        move.sudo().message_post(
            body=_("Corrected through the import API by %(user)s: %(notes)s", user=self.env.user.name, notes=notes),
            author_id=self.env.ref("base.partner_root").id)
        self.env["invoice_bridge.api.event"]._emit("invoice_updated", move)
        return move

    @api.model
    def _line_corrections(self, move, payload, company, errors):
        """``(commands, lines to create)`` of a PATCH's items: each matched line updated, the others new."""
        use = "sale" if move.is_sale_document(include_receipts=True) else "purchase"
        price_include = any(move.invoice_line_ids.tax_ids.mapped("price_include"))
        commands = [Command.delete(line.id) for line in move.invoice_line_ids] if payload.replace_items else []
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        to_create = []
        for index, item in enumerate(payload.items):
            line = None if payload.replace_items else self._match_line(lines, item)
            taxes = None
            if item.taxes is not None:
                taxes = self._resolve_taxes(item.taxes, company, use, price_include, f"items[{index}]", errors)
            if line:
                quantity = item.quantity if item.quantity is not None else line.quantity
                price = item.mrp if item.mrp is not None else line.price_unit
                if Decimal(str(quantity)) * Decimal(str(price)) >= MAX_MOVE_AMOUNT:
                    errors.setdefault(f"items[{index}]", []).append(
                        _("Ensure quantity × mrp is less than %s.", MAX_MOVE_AMOUNT))
                commands.append(Command.update(line.id, self._update_vals(item, taxes)))
                continue
            missing = [f for f in ("name", "quantity", "mrp") if getattr(item, f) is None]
            for name in missing:
                errors.setdefault(f"items[{index}].{name}", []).append(
                    _("This field is required to add an item the invoice does not have yet."))
            to_create.append((index, item, taxes))
        # the invoice's sum after the corrections stays below the limit too, as on import
        amounts = {} if payload.replace_items else {
            line.id: Decimal(str(line.quantity)) * Decimal(str(line.price_unit)) for line in lines}
        for index, item in enumerate(payload.items):
            line = None if payload.replace_items else self._match_line(lines, item)
            quantity = item.quantity if item.quantity is not None else (line.quantity if line else None)
            price = item.mrp if item.mrp is not None else (line.price_unit if line else None)
            if quantity is not None and price is not None:
                amounts[line.id if line else f"new-{index}"] = Decimal(str(quantity)) * Decimal(str(price))
        if sum(amounts.values(), Decimal(0)) >= MAX_MOVE_AMOUNT and not any(k.startswith("items[") for k in errors):
            errors.setdefault("items", []).append(
                _("Ensure the sum of quantity × mrp is less than %s.", MAX_MOVE_AMOUNT))
        return commands, to_create

    @api.model
    def _check_quantities(self, items, errors):
        """A quantity that Odoo's unit-of-measure precision would round to 0 is refused (1E-5 would be stored 0)."""
        digits = self.env["account.move.line"]._fields["quantity"].get_digits(self.env)
        precision = digits[1] if digits else 2
        for index, item in enumerate(items):
            if item.quantity is not None and float_is_zero(float(item.quantity), precision_digits=precision):
                errors.setdefault(f"items[{index}].quantity", []).append(_(
                    "Ensure this value is at least %(min)s: quantities are kept with %(digits)s decimals.",
                    min=10 ** -precision, digits=precision))

    @api.model
    def _match_line(self, lines, item):
        for line in lines:
            product = line.product_id
            if (item.item_code and product.default_code == item.item_code) or (
                    item.barcode and product.barcode == item.barcode):
                return line
        return None

    @api.model
    def _update_vals(self, item, taxes):
        vals = {}
        for field, name in (("quantity", "quantity"), ("mrp", "price_unit"), ("discount", "discount")):
            value = getattr(item, field)
            if value is not None:
                vals[name] = float(value)
        if item.name is not None:
            vals["name"] = item.name
        if item.batch_no is not None:
            vals["ib_batch_no"] = item.batch_no
        if taxes is not None:
            vals["tax_ids"] = [Command.set(taxes.ids)]
        return vals
