"""The contract of the invoice import REST API (seed 002, with the invoice semantics of seed 003): ONE field table.

The fields of ``POST /api/sales/import/invoice/`` and ``PATCH /api/sales/update/invoice/`` are declared once
(:data:`CUSTOMER`, :data:`ITEM`, :data:`IMPORT_INVOICE`, :data:`UPDATE_ITEM`, :data:`UPDATE_INVOICE`), with the
field types of :mod:`.import_api_validation`, so the validator (:func:`parse_import`, :func:`parse_update`) and
the published schemas (:func:`component_schemas`, used by :mod:`.import_api_openapi`) cannot drift apart.

Decisions (documented in the OpenAPI descriptions too):

* ``type`` ``out`` (customer invoice, default) / ``in`` (vendor bill); ``inv_type`` ``invoice`` (default) /
  ``credit`` / ``debit``; choices are matched case-insensitively and normalised (``"high"`` → ``"HIGH"``).
* ``priority``: ``LOW`` / ``MEDIUM`` / ``HIGH`` / ``URGENT``, default ``MEDIUM``.
* ``tax_type`` defaults to ``tax_in``: ``mrp`` is a Maximum Retail Price, tax included, so an invoice of
  seed-002 clients (no ``tax_type``, no ``taxes``) totals Σ quantity × mrp, as in the seed's 201 answer
  (920.0). ``tax_ex``: ``mrp`` excludes the line taxes. ``no_tax``: no tax at all; line ``taxes`` are then
  ignored (and listed in ``ignored_keys``).
* Line ``taxes``: a list of tax references, each a tax *name* (string, e.g. ``"GST 5%"``) or a *percentage*
  (number, e.g. ``5``); seed 003 has one ``tax_id`` per line, Odoo allows several. Absent or ``[]``: the line
  carries no tax (never the product's default taxes, so totals are predictable). Resolving names/percentages
  to taxes is done by the Odoo side.
* ``quantity`` > 0 and ``mrp`` ≥ 0: negative amounts are expressed with ``inv_type: "credit"`` (seed 003:
  "Use credit note for negative amounts"). ``discount`` is a percentage 0-100 (default 0).
* Numbers: JSON numbers or numeric strings (``"3.50"``; digits, optional decimal point, no sign, exponent or
  leading zeros); booleans, ``NaN``/``Infinity`` and other strings are refused. At most 12 integer digits.
  Values are :class:`~decimal.Decimal` (JSON numbers are never turned into floats).
* Text fields take JSON strings only (send ``"9876543210"``, not ``9876543210``); values are stripped; NUL
  characters and lone UTF-16 surrogates are refused (PostgreSQL cannot store them).
* ``null`` on an optional field means "not provided" (the default applies); on a required field it is an error.
* A line needs a ``name``; ``item_code`` and ``barcode`` are optional on import (name-only lines are allowed),
  but a PATCH line is matched by ``item_code`` and/or ``barcode``, so it needs at least one of them.
* Unknown keys are ignored and reported by dotted path in ``ignored_keys``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .import_api_messages import MSG_BATCH_NOT_A_LIST, MSG_BATCH_SIZE, PayloadError
from .import_api_validation import (
    BAD_CURRENCY,
    BAD_EMAIL,
    BAD_TAX,
    CURRENCY_PATTERN,
    EMAIL_PATTERN,
    EMPTY_LIST,
    INVALID,
    AtLeastOne,
    Boolean,
    Choice,
    Date,
    DateNotBefore,
    Field,
    ListOf,
    Number,
    Obj,
    Rule,
    Text,
    is_number,
    join_path,
    load_json,
    parse_body,
    parse_data,
)

#: most lines one invoice (import or PATCH) may carry
MAX_ITEMS = 1000
#: most tax references on one line
MAX_TAXES_PER_LINE = 10
#: default request body limit; the controller enforces it (configurable) and answers 413 above it
DEFAULT_MAX_BODY_BYTES = 1_000_000
#: a line's quantity × mrp, and the invoice's sum of them, stay below this: Odoo's accounting works in binary
#: floats, and beyond about 15 significant digits a move with cents no longer balances (tested at the limit)
MAX_MOVE_AMOUNT = 10**11


# ---------------------------------------------------------------------------------------------------------------
# Normalised payloads
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportTax:
    """One tax reference of a line: exactly one of ``name`` (a tax name) and ``percent`` (0-100) is set."""

    name: str | None = None
    percent: Decimal | None = None


@dataclass(frozen=True)
class ImportCustomer:
    code: str
    name: str
    area: str = ""
    address1: str = ""
    address2: str = ""
    phone1: str = ""
    phone2: str = ""
    email: str = ""


@dataclass(frozen=True)
class ImportItem:
    name: str
    quantity: Decimal
    mrp: Decimal
    item_code: str = ""
    barcode: str = ""
    company_name: str = ""
    packing: str = ""
    shelf_location: str = ""
    remarks: str = ""
    batch_no: str = ""
    discount: Decimal = Decimal(0)
    taxes: tuple[ImportTax, ...] = ()


@dataclass(frozen=True)
class ImportPayload:
    invoice_no: str
    invoice_date: date
    customer: ImportCustomer
    items: tuple[ImportItem, ...]
    due_date: date | None = None
    salesman: str = ""
    created_by: str = ""
    priority: str = "MEDIUM"
    type: str = "out"
    inv_type: str = "invoice"
    tax_type: str = "tax_in"
    currency: str | None = None
    currency_rate: Decimal | None = None
    ref: str = ""
    memo: str = ""
    #: dotted paths of the keys that were sent but are not used (unknown keys, taxes under ``no_tax``)
    ignored_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateItem:
    """A PATCH line: ``None`` means "not sent" (keep the current value); ``provided`` names the fields sent."""

    item_code: str | None = None
    barcode: str | None = None
    name: str | None = None
    quantity: Decimal | None = None
    mrp: Decimal | None = None
    batch_no: str | None = None
    discount: Decimal | None = None
    company_name: str | None = None
    packing: str | None = None
    shelf_location: str | None = None
    remarks: str | None = None
    #: ``None``: keep the line's taxes; ``()``: remove them
    taxes: tuple[ImportTax, ...] | None = None
    provided: frozenset[str] = frozenset()


@dataclass(frozen=True)
class UpdatePayload:
    invoice_no: str
    items: tuple[UpdateItem, ...] = ()
    replace_items: bool = False
    resolution_notes: str | None = None
    due_date: date | None = None
    memo: str | None = None
    provided: frozenset[str] = frozenset()
    ignored_keys: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------------------------
# Contract-specific types and rules
# ---------------------------------------------------------------------------------------------------------------

class TaxRef:
    """A line tax: a tax name (string) or a percentage (number 0-100)."""

    empty = None
    _name = Text(64, blank=False)
    _percent = Number("percent")

    def parse(self, value, path, ctx):
        if isinstance(value, str):
            name = self._name.parse(value, path, ctx)
            return INVALID if name is INVALID else ImportTax(name=name)
        if is_number(value):
            percent = self._percent.parse(value, path, ctx)
            return INVALID if percent is INVALID else ImportTax(percent=percent)
        ctx.error(path, BAD_TAX)
        return INVALID

    def schema(self):
        name = dict(self._name.schema(), description="The name of a tax, e.g. \"GST 5%\".")
        percent = {"type": "number", "minimum": 0, "maximum": 100,
                   "description": "A tax rate in percent, e.g. 5 for a 5% tax."}
        return {"anyOf": [name, percent]}


class AmountsBelowLimit(Rule):
    """Each line's ``quantity`` × ``mrp`` and (on import) their sum stay below :data:`MAX_MOVE_AMOUNT` (a PATCH's
    sum, which depends on the invoice's lines, is checked by the import service)."""

    def __init__(self, total=True):
        self.total = total
        sums = " and their sum" if total else ", and their sum once corrected,"
        self.doc = (f"Each line's quantity × mrp{sums} must stay below {MAX_MOVE_AMOUNT:,} (not expressible in "
                    "the schema): beyond, an invoice with cents no longer balances in Odoo's accounting.")

    def check(self, values, raw, path, ctx):
        items = values.get("items")
        if not isinstance(items, tuple):
            return
        message = f"Ensure quantity × mrp is less than {MAX_MOVE_AMOUNT}."
        total, line_error = 0, False
        for index, item in enumerate(items):
            if item is INVALID or item.quantity is None or item.mrp is None:
                continue
            amount = item.quantity * item.mrp
            total += amount
            if amount >= MAX_MOVE_AMOUNT:
                ctx.error(f"{join_path(path, 'items')}[{index}]", message)
                line_error = True
        if self.total and total >= MAX_MOVE_AMOUNT and not line_error:
            ctx.error(join_path(path, "items"), f"Ensure the sum of quantity × mrp is less than {MAX_MOVE_AMOUNT}.")


class IgnoreLineTaxes(Rule):
    doc = "With `tax_type` `no_tax`, line `taxes` are ignored (and listed in `ignored_keys`)."

    def check(self, values, raw, path, ctx):
        if values.get("tax_type") != "no_tax" or not isinstance(values.get("items"), tuple):
            return
        items = []
        for index, item in enumerate(values["items"]):
            if item.taxes:
                ctx.ignored.append(f"{join_path(path, 'items')}[{index}].taxes")
                item = dataclasses.replace(item, taxes=())
            items.append(item)
        values["items"] = tuple(items)


class ReplaceItems(Rule):
    """``replace_items: true`` ⇒ non-empty ``items``, each with ``quantity`` and ``mrp``."""

    doc = ("With `replace_items` true, `items` is required and non-empty, and every line needs `quantity` and "
           "`mrp`: the lines sent replace all the current lines.")
    line_fields = ("quantity", "mrp")

    def check(self, values, raw, path, ctx):
        if values.get("replace_items") is not True:
            return
        items_path = join_path(path, "items")
        items = raw.get("items")
        if items is None:
            ctx.error(items_path, "This field is required when replace_items is true.")
        elif isinstance(items, list) and not items:
            ctx.error(items_path, EMPTY_LIST)
        elif isinstance(items, list):
            for index, item in enumerate(items):
                for name in self.line_fields:
                    if isinstance(item, dict) and item.get(name) is None:
                        ctx.error(f"{items_path}[{index}].{name}", "This field is required when replace_items is true.")

    def schema(self):
        not_null = {"anyOf": [{"type": "number"}, {"type": "string"}]}
        return {"anyOf": [
            {"properties": {"replace_items": {"type": "boolean", "nullable": True, "enum": [False, None]}}},
            {"required": ["replace_items", "items"],
             "properties": {"replace_items": {"type": "boolean", "enum": [True]},
                            "items": {"type": "array", "minItems": 1,
                                      "items": {"required": list(self.line_fields),
                                                "properties": dict.fromkeys(self.line_fields, not_null)}}}},
        ]}


# ---------------------------------------------------------------------------------------------------------------
# The field table
# ---------------------------------------------------------------------------------------------------------------

_LINE_TEXT = (
    ("company_name", 256, "Manufacturer / brand of the item.", "Sun Pharma"),
    ("packing", 128, "Pack description.", "10x10 Tablets"),
    ("shelf_location", 64, "Where the item is stored in the warehouse.", "R-12"),
    ("remarks", 1000, "Free text about the line.", ""),
)

CUSTOMER = Obj("Customer", ImportCustomer, (
    Field("code", Text(64, blank=False), required=True, example="CUST-889",
          description="The customer's code in the sending system: the partner is found (or created) by it."),
    Field("name", Text(256, blank=False), required=True, example="LifeCare Pharmacy",
          description="The customer's name (updates the partner's name)."),
    Field("area", Text(128), example="Kozhikode", description="Area / city."),
    Field("address1", Text(256), example="Near Railway Station", description="First address line."),
    Field("address2", Text(256), example="", description="Second address line."),
    Field("phone1", Text(64), example="9876543210", description="Main phone number (a string)."),
    Field("phone2", Text(64), example="", description="Other phone number (a string)."),
    Field("email", Text(254, pattern=EMAIL_PATTERN, message=BAD_EMAIL), example="lifecare@shop.com",
          description="E-mail address; empty or a valid address (local@domain.tld)."),
), description="The customer (for `type` `out`) or vendor (for `type` `in`) of the invoice.")

_TAXES_DOC = ("Taxes of the line: each a tax name (string, e.g. \"GST 5%\") or a percentage (number, e.g. 5), "
              f"at most {MAX_TAXES_PER_LINE}. Absent or []: no tax on the line. Names and percentages are "
              "resolved to the company's sale (type out) or purchase (type in) taxes; unknown ones are refused.")

ITEM = Obj("Item", ImportItem, (
    Field("name", Text(256, blank=False), required=True, example="Paracetamol 650mg",
          description="Line description / product name."),
    Field("item_code", Text(64), example="PR650",
          description="Product code (internal reference); optional: a line may carry a name only."),
    Field("barcode", Text(64), example="BC-PR650", description="Product barcode; optional."),
    Field("quantity", Number("positive"), required=True, example=20,
          description="Quantity, > 0 (use `inv_type` `credit` for returns). A number or a numeric string."),
    Field("mrp", Number("nonnegative"), required=True, example=3.5,
          description="Unit price (MRP), ≥ 0; tax included or not according to `tax_type`. A number or a "
                      "numeric string such as \"3.50\"."),
    *(Field(name, Text(size), description=doc, example=example) for name, size, doc, example in _LINE_TEXT),
    Field("batch_no", Text(64), example="B456", description="Batch / lot number."),
    Field("discount", Number("percent"), default=Decimal(0), example=0,
          description="Discount in percent, 0-100 (default 0)."),
    Field("taxes", ListOf(TaxRef(), max_items=MAX_TAXES_PER_LINE), description=_TAXES_DOC),
), description="One invoice line.")

IMPORT_INVOICE = Obj("ImportInvoice", ImportPayload, (
    Field("invoice_no", Text(64, blank=False), required=True, example="LTPI-77282",
          description="The invoice number in the sending system; unique: it is the idempotency key (a second "
                      "import of the same number answers 409)."),
    Field("invoice_date", Date(), required=True, example="2025-01-18", description="Invoice date, YYYY-MM-DD."),
    Field("due_date", Date(), example="2025-02-17",
          description="Payment due date, YYYY-MM-DD, on or after invoice_date; absent: the payment terms decide."),
    Field("salesman", Text(128), example="Ajay", description="Salesperson's name."),
    Field("created_by", Text(128), example="admin", description="Who created the invoice in the sending system."),
    Field("priority", Choice("LOW", "MEDIUM", "HIGH", "URGENT"), default="MEDIUM", example="HIGH",
          description="LOW, MEDIUM, HIGH or URGENT (case-insensitive); default MEDIUM."),
    Field("type", Choice("out", "in"), default="out", example="out",
          description="`out`: customer invoice (receivable, default); `in`: vendor bill (payable)."),
    Field("inv_type", Choice("invoice", "credit", "debit"), default="invoice", example="invoice",
          description="`invoice` (default), `credit` (credit note: reduces the amount owed) or `debit` (debit "
                      "note: additional charges)."),
    Field("tax_type", Choice("tax_ex", "tax_in", "no_tax"), default="tax_in", example="tax_in",
          description="How `mrp` relates to the line taxes: `tax_in` (default: mrp includes the taxes, as an "
                      "MRP does, so the total is Σ quantity × mrp × (1 − discount/100)), `tax_ex` (taxes are "
                      "added to mrp) or `no_tax` (no tax; line taxes are ignored)."),
    Field("currency", Text(3, pattern=CURRENCY_PATTERN, message=BAD_CURRENCY), default=None,
          description="ISO 4217 code, upper case (e.g. INR, USD); absent: the company's currency. It must be an "
                      "active currency of the database."),
    Field("currency_rate", Number("positive"),
          description="Exchange rate, > 0: company-currency units for 1 unit of `currency` (seed 003: amount in "
                      "company currency = amount × currency_rate); absent: the database's rate for invoice_date."),
    Field("ref", Text(256), example="PO-12345", description="External reference (e.g. the customer's order)."),
    Field("memo", Text(2000), example="", description="Internal memo / notes."),
    Field("customer", CUSTOMER, required=True),
    Field("items", ListOf(ITEM, min_items=1, max_items=MAX_ITEMS), required=True,
          description=f"The invoice lines, 1 to {MAX_ITEMS}."),
), rules=(DateNotBefore("due_date", "invoice_date"), AmountsBelowLimit(), IgnoreLineTaxes()),
    description="An invoice to import (seed 002's payload, with seed 003's type / inv_type / tax_type / currency "
                "/ due_date / ref / memo and per-line taxes). Unknown keys are ignored.")

UPDATE_ITEM = Obj("UpdateItem", UpdateItem, (
    Field("item_code", Text(64), example="MED001",
          description="Product code of the line to correct (matched with barcode when both are given)."),
    Field("barcode", Text(64), example="BC-MED001", description="Barcode of the line to correct."),
    Field("name", Text(256, blank=False), description="New line description."),
    Field("quantity", Number("positive"), example=2, description="New quantity, > 0."),
    Field("mrp", Number("nonnegative"), example=145.5, description="New unit price, ≥ 0."),
    Field("batch_no", Text(64), example="B456", description="New batch number."),
    Field("discount", Number("percent"), description="New discount in percent, 0-100."),
    *(Field(name, Text(size), description=doc) for name, size, doc, _example in _LINE_TEXT),
    Field("taxes", ListOf(TaxRef(), max_items=MAX_TAXES_PER_LINE),
          description=_TAXES_DOC.replace("Absent or []: no tax on the line.", "Absent: unchanged; []: no tax.")),
), rules=(AtLeastOne("item_code", "barcode"),), partial=True,
    description="A correction of one line, matched by item_code and/or barcode; fields not sent are unchanged. "
                "Without replace_items, a line that matches no current line is added.")

UPDATE_INVOICE = Obj("UpdateInvoice", UpdatePayload, (
    Field("invoice_no", Text(64, blank=False), required=True, example="INV-001",
          description="The invoice to correct; it must be in REVIEW state (returned to billing), else 409."),
    Field("items", ListOf(UPDATE_ITEM, max_items=MAX_ITEMS), default=(),
          description=f"Line corrections, at most {MAX_ITEMS}."),
    Field("replace_items", Boolean(), default=False, example=False,
          description="false (default): the lines sent are merged into the invoice's lines; true: they replace "
                      "all the lines."),
    Field("resolution_notes", Text(2000), example="Fixed batch number and updated MRP",
          description="What was corrected (kept on the invoice)."),
    Field("due_date", Date(), description="New due date, YYYY-MM-DD (not before the invoice date)."),
    Field("memo", Text(2000), description="New internal memo."),
), rules=(ReplaceItems(), AmountsBelowLimit(total=False)), partial=True,
    description="Corrections for an invoice in REVIEW state (seed 002, V-TASK). Unknown keys are ignored.")

#: every object of the API, in the order of the OpenAPI components
OBJECTS = (IMPORT_INVOICE, CUSTOMER, ITEM, UPDATE_INVOICE, UPDATE_ITEM)


def component_schemas() -> dict[str, dict]:
    """The OpenAPI 3.0 schemas of the request objects, by component name, derived from the field table."""
    return {obj.name: obj.schema() for obj in OBJECTS}


def parse_import(body: bytes) -> ImportPayload:
    """The body of ``POST /api/sales/import/invoice/``, normalised; :class:`PayloadError` lists every error."""
    return parse_body(IMPORT_INVOICE, body)


#: invoices in one batch import, by default and at most (setting ``import_batch_size``): a batch of the most
#: takes far less than Odoo's limit_time_real (120 s) even one invoice at a time (~0.2 s each)
DEFAULT_BATCH_SIZE = 100
MAX_BATCH_SIZE = 250


def parse_batch(body: bytes, limit: int = DEFAULT_BATCH_SIZE) -> list:
    """The body of ``POST /api/sales/import/invoices/``: ``{"invoices": [invoice, ...]}``, 1 to ``limit`` of them.

    Returns one entry per invoice, in order: its :class:`ImportPayload`, or the :class:`PayloadError` that refuses
    it alone. A body that is no such list is a :class:`PayloadError` of the whole request.
    """
    data = load_json(body)
    invoices = data.get("invoices") if isinstance(data, dict) else None
    if not isinstance(invoices, list):
        raise PayloadError({"invoices": [MSG_BATCH_NOT_A_LIST]})
    if not 1 <= len(invoices) <= limit:
        raise PayloadError({"invoices": [MSG_BATCH_SIZE % {"limit": limit, "count": len(invoices)}]})
    results = []
    for invoice in invoices:
        try:
            results.append(parse_data(IMPORT_INVOICE, invoice))
        except PayloadError as exc:
            results.append(exc)
    return results


def parse_update(body: bytes) -> UpdatePayload:
    """The body of ``PATCH /api/sales/update/invoice/``, normalised; :class:`PayloadError` lists every error."""
    return parse_body(UPDATE_INVOICE, body)
