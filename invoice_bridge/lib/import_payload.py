"""Bodies of the invoice import REST API (seed 002) with the invoice semantics of seed 003, from ONE field table.

The fields of ``POST /api/sales/import/invoice/`` and ``PATCH /api/sales/update/invoice/`` are declared once
(:data:`CUSTOMER`, :data:`ITEM`, :data:`IMPORT_INVOICE`, :data:`UPDATE_ITEM`, :data:`UPDATE_INVOICE`). Each
field type both *validates* a decoded JSON value and *describes* itself as an OpenAPI 3.0 schema, so the
validator (:func:`parse_import`, :func:`parse_update`) and the published schemas (:func:`component_schemas`,
used by :mod:`.openapi`) cannot drift apart: a value is accepted by the validator exactly when it matches
the schema, except for the few cross-field rules that OpenAPI 3.0 cannot express (listed in the object's
description; e.g. ``due_date`` on or after ``invoice_date``).

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
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

#: most lines one invoice (import or PATCH) may carry
MAX_ITEMS = 1000
#: most tax references on one line
MAX_TAXES_PER_LINE = 10
#: default request body limit; the controller enforces it (configurable) and answers 413 above it
DEFAULT_MAX_BODY_BYTES = 1_000_000
#: amounts, quantities and rates must stay below this (12 integer digits)
AMOUNT_LIMIT = 10**12

# Response messages of seed 002 (and of the cases it leaves open)
MSG_IMPORTED = "Invoice imported successfully"
MSG_UPDATED = "Invoice updated successfully"
MSG_VALIDATION_FAILED = "Validation failed"
MSG_INVALID_API_KEY = "Invalid API key"
MSG_NO_CREDENTIALS = "Authentication credentials were not provided."
MSG_DUPLICATE = "Invoice with this invoice_no already exists."
MSG_NOT_FOUND = "Invoice with this invoice_no does not exist."
MSG_NOT_IN_REVIEW = "Invoice is not in REVIEW state: only invoices returned for review can be updated."
MSG_TOO_LARGE = "Request body too large."
MSG_RATE_LIMITED = "Too many requests: retry after the number of seconds given in the Retry-After header."
MSG_FORBIDDEN = "You are not allowed to do this."

# DRF-like field messages
REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NUL_CHAR = "Null characters are not allowed."
SURROGATE = "Invalid text: lone UTF-16 surrogates are not allowed."
BAD_DATE = "Enter a valid date (YYYY-MM-DD)."
BAD_NUMBER = "A valid number is required."
BAD_BOOLEAN = "Must be a valid boolean."
BAD_EMAIL = "Enter a valid email address."
BAD_CURRENCY = "Enter a 3-letter ISO 4217 currency code in upper case, e.g. \"INR\"."
EMPTY_LIST = "This list may not be empty."
BAD_TAX = "Enter a tax name (string) or a tax percentage (number between 0 and 100)."


class PayloadError(ValueError):
    """The body is not acceptable; ``errors`` maps dotted field paths (or ``body``) to messages, all at once."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        summary = "; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items())
        super().__init__(summary or MSG_VALIDATION_FAILED)

    def body(self) -> bytes:
        """The 400 body of seed 002: ``{"success": false, "message": "Validation failed", "errors": {...}}``."""
        return json_error_body(MSG_VALIDATION_FAILED, errors=self.errors)


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
# Field types: each validates a decoded JSON value and describes itself as an OpenAPI 3.0 schema
# ---------------------------------------------------------------------------------------------------------------

_INVALID = object()
_AUTO = object()


class _NonFinite:
    """What ``NaN``/``Infinity``/``-Infinity`` decode to: never a valid value of any field."""

    def __init__(self, literal):
        self.literal = literal

    def __repr__(self):
        return self.literal


class _Ctx:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}
        self.ignored: list[str] = []

    def error(self, path, message):
        self.errors.setdefault(path or "body", []).append(message)

    def count(self):
        return sum(len(messages) for messages in self.errors.values())


def _join(path, name):
    return f"{path}.{name}" if path else name


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (Decimal, int, float, _NonFinite)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _is_number(value):
    return isinstance(value, (Decimal, int, float)) and not isinstance(value, bool)


def _has_surrogate(text):
    return any("\ud800" <= char <= "\udfff" for char in text)


#: no NUL anywhere (optional text)
TEXT_PATTERN = r"^[^\x00]*$"
#: at least one non-blank character and no NUL (required text); linear, no nested quantifiers
NONBLANK_PATTERN = r"^\s*[^\s\x00][^\x00]*$"
EMAIL_PATTERN = r"^(?:[^@\s\x00]+@[^@\s.\x00]+(?:\.[^@\s.\x00]+)+)?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"


class Text:
    """A JSON string, stripped; ``blank=False`` requires a non-blank value."""

    empty = ""

    def __init__(self, max_length, *, blank=True, pattern=None, message=None):
        self.max_length = max_length
        self.blank = blank
        self.pattern = pattern or (TEXT_PATTERN if blank else NONBLANK_PATTERN)
        self.message = message
        self._regex = re.compile(self.pattern)

    def parse(self, value, path, ctx):
        if not isinstance(value, str):
            ctx.error(path, NOT_STRING)
            return _INVALID
        if _has_surrogate(value):
            ctx.error(path, SURROGATE)
            return _INVALID
        if len(value) > self.max_length:
            ctx.error(path, f"Ensure this field has no more than {self.max_length} characters.")
            return _INVALID
        if "\x00" in value:
            ctx.error(path, NUL_CHAR)
            return _INVALID
        if not self.blank and not value.strip():
            ctx.error(path, BLANK)
            return _INVALID
        if not self._regex.search(value):
            ctx.error(path, self.message or NOT_STRING)
            return _INVALID
        return value.strip()

    def schema(self):
        schema = {"type": "string", "maxLength": self.max_length, "pattern": self.pattern}
        if not self.blank:
            schema["minLength"] = 1
        return schema


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


class Date:
    """``YYYY-MM-DD`` (the check of JSON Schema's ``format: date``)."""

    empty = None

    def parse(self, value, path, ctx):
        if isinstance(value, str) and _DATE_RE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:  # the right shape but no such day (2025-02-30): the same error as a bad shape
                ctx.error(path, BAD_DATE)
                return _INVALID
        ctx.error(path, BAD_DATE)
        return _INVALID

    def schema(self):
        return {"type": "string", "format": "date"}


_NUMBER_SYNTAX = re.compile(r"^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$")
_LIMIT = f"{AMOUNT_LIMIT}"
_DIGITS = len(_LIMIT) - 2  # further integer digits after the first one: 12 digits in all

NUMBER_KINDS = {
    # kind: (minimum, minimum is exclusive, maximum, maximum is exclusive, pattern of the numeric strings)
    "positive": (0, True, AMOUNT_LIMIT, True,
                 rf"^(?:[1-9][0-9]{{0,{_DIGITS}}}(?:\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)$"),
    "nonnegative": (0, False, AMOUNT_LIMIT, True, rf"^(?:0|[1-9][0-9]{{0,{_DIGITS}}})(?:\.[0-9]+)?$"),
    "percent": (0, False, 100, False, r"^(?:100(?:\.0+)?|[1-9]?[0-9](?:\.[0-9]+)?)$"),
}


class Number:
    """A decimal: a JSON number or a numeric string; ``kind`` is one of :data:`NUMBER_KINDS`."""

    empty = None

    def __init__(self, kind):
        self.kind = kind
        self.minimum, self.min_exclusive, self.maximum, self.max_exclusive, self.pattern = NUMBER_KINDS[kind]
        self._regex = re.compile(self.pattern)

    def _range_error(self, number):
        if number < self.minimum or (self.min_exclusive and number == self.minimum):
            return (f"Ensure this value is greater than {self.minimum}." if self.min_exclusive
                    else f"Ensure this value is greater than or equal to {self.minimum}.")
        if number > self.maximum or (self.max_exclusive and number == self.maximum):
            return (f"Ensure this value is less than {self.maximum}." if self.max_exclusive
                    else f"Ensure this value is less than or equal to {self.maximum}.")
        return None

    def parse(self, value, path, ctx):
        if _is_number(value):
            number = Decimal(value)
            if not number.is_finite():
                ctx.error(path, BAD_NUMBER)
                return _INVALID
            error = self._range_error(number)
            if error:
                ctx.error(path, error)
                return _INVALID
            return number
        if isinstance(value, str) and _NUMBER_SYNTAX.search(value):
            error = self._range_error(Decimal(value.strip()))
            if error:
                ctx.error(path, error)
                return _INVALID
            if self._regex.search(value):
                return Decimal(value.strip())
        ctx.error(path, BAD_NUMBER)
        return _INVALID

    def schema(self):
        number = {"type": "number", "minimum": self.minimum, "maximum": self.maximum}
        if self.min_exclusive:
            number["exclusiveMinimum"] = True
        if self.max_exclusive:
            number["exclusiveMaximum"] = True
        text = {"type": "string", "pattern": self.pattern}
        return {"anyOf": [number, text]}


class Choice:
    """One of ``choices`` (their canonical spelling), matched case-insensitively."""

    empty = None

    def __init__(self, *choices):
        self.choices = choices
        self._canonical = {choice.lower(): choice for choice in choices}
        alternatives = "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in choice)
                                for choice in choices)
        self.pattern = f"^(?:{alternatives})$"
        self._regex = re.compile(self.pattern)

    def parse(self, value, path, ctx):
        if not isinstance(value, str):
            ctx.error(path, NOT_STRING)
            return _INVALID
        if not self._regex.search(value):
            shown = value if len(value) <= 40 else value[:40] + "…"
            ctx.error(path, f"\"{shown}\" is not a valid choice (one of: {', '.join(self.choices)}).")
            return _INVALID
        return self._canonical[value.strip().lower()]

    def schema(self):
        return {"type": "string", "pattern": self.pattern, "x-canonical-values": list(self.choices)}


class Boolean:
    empty = False

    def parse(self, value, path, ctx):
        if isinstance(value, bool):
            return value
        ctx.error(path, BAD_BOOLEAN)
        return _INVALID

    def schema(self):
        return {"type": "boolean"}


class TaxRef:
    """A line tax: a tax name (string) or a percentage (number 0-100)."""

    empty = None
    _name = Text(64, blank=False)
    _percent = Number("percent")

    def parse(self, value, path, ctx):
        if isinstance(value, str):
            name = self._name.parse(value, path, ctx)
            return _INVALID if name is _INVALID else ImportTax(name=name)
        if _is_number(value):
            percent = self._percent.parse(value, path, ctx)
            return _INVALID if percent is _INVALID else ImportTax(percent=percent)
        ctx.error(path, BAD_TAX)
        return _INVALID

    def schema(self):
        name = dict(self._name.schema(), description="The name of a tax, e.g. \"GST 5%\".")
        percent = {"type": "number", "minimum": 0, "maximum": 100,
                   "description": "A tax rate in percent, e.g. 5 for a 5% tax."}
        return {"anyOf": [name, percent]}


class ListOf:
    empty = ()

    def __init__(self, element, *, min_items=0, max_items):
        self.element = element
        self.min_items = min_items
        self.max_items = max_items

    def parse(self, value, path, ctx):
        if not isinstance(value, list):
            ctx.error(path, f"Expected a list of items but got type \"{_json_type(value)}\".")
            return _INVALID
        if len(value) < self.min_items:
            ctx.error(path, EMPTY_LIST)
            return _INVALID
        if len(value) > self.max_items:
            ctx.error(path, f"Ensure this field has no more than {self.max_items} elements.")
            return _INVALID
        parsed = []
        for index, element in enumerate(value):
            element_path = f"{path}[{index}]"
            if element is None:
                ctx.error(element_path, NOT_NULL)
                parsed.append(_INVALID)
            else:
                parsed.append(self.element.parse(element, element_path, ctx))
        return _INVALID if any(item is _INVALID for item in parsed) else tuple(parsed)

    def schema(self):
        element = self.element.ref() if isinstance(self.element, Obj) else self.element.schema()
        schema = {"type": "array", "items": element, "maxItems": self.max_items}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema


@dataclass(frozen=True)
class Field:
    """One key of a JSON object: its type, whether it is required, its default, and its documentation."""

    name: str
    type: Any
    required: bool = False
    description: str = ""
    example: Any = None
    #: value when absent or null; ``_AUTO``: the type's empty value ("" for text, () for lists, ...) or ``None``
    #: in a partial (PATCH) object
    default: Any = _AUTO

    def default_value(self, partial):
        if self.default is not _AUTO:
            return self.default
        return None if partial else self.type.empty

    def schema(self):
        if isinstance(self.type, Obj):
            return self.type.ref()  # objects are only used as required fields: never nullable
        schema = dict(self.type.schema())
        if not self.required:
            if "anyOf" in schema:  # nullable needs a type in the same schema object (OpenAPI 3.0.3)
                schema["anyOf"] = [dict(schema["anyOf"][0], nullable=True), *schema["anyOf"][1:]]
            else:
                schema["nullable"] = True
            default = self.default_value(partial=False)
            if self.default is not _AUTO and default is not None:
                schema["default"] = (float(default) if isinstance(default, Decimal)
                                     else list(default) if isinstance(default, tuple) else default)
        if self.description:
            schema["description"] = self.description
        if self.example is not None:
            schema["example"] = self.example
        return schema


class Rule:
    """A cross-field rule of an object: a check, its documentation, and its schema fragment if expressible."""

    doc = ""

    def check(self, values, raw, path, ctx):
        raise NotImplementedError

    def schema(self):
        return None


class DateNotBefore(Rule):
    def __init__(self, field, other):
        self.field, self.other = field, other
        self.doc = f"`{field}`, when given, must be on or after `{other}` (not expressible in the schema)."

    def check(self, values, raw, path, ctx):
        later, earlier = values.get(self.field), values.get(self.other)
        if isinstance(later, date) and isinstance(earlier, date) and later < earlier:
            ctx.error(_join(path, self.field), f"Ensure this date is on or after {self.other} ({earlier}).")


class IgnoreLineTaxes(Rule):
    doc = "With `tax_type` `no_tax`, line `taxes` are ignored (and listed in `ignored_keys`)."

    def check(self, values, raw, path, ctx):
        if values.get("tax_type") != "no_tax" or not isinstance(values.get("items"), tuple):
            return
        items = []
        for index, item in enumerate(values["items"]):
            if item.taxes:
                ctx.ignored.append(f"{_join(path, 'items')}[{index}].taxes")
                item = dataclasses.replace(item, taxes=())
            items.append(item)
        values["items"] = tuple(items)


class AtLeastOne(Rule):
    def __init__(self, *fields):
        self.fields = fields
        self.doc = f"At least one of {' / '.join(f'`{name}`' for name in fields)} must be given (non-blank)."

    def check(self, values, raw, path, ctx):
        if any(name in raw and values.get(name, _INVALID) is _INVALID for name in self.fields):
            return  # that field already has its own error
        if not any(values.get(name) for name in self.fields):
            ctx.error(_join(path, self.fields[0]), f"Provide {' or '.join(self.fields)} to identify the line.")

    def schema(self):
        return {"anyOf": [{"required": [name], "properties": {name: {"type": "string", "pattern": NONBLANK_PATTERN}}}
                          for name in self.fields]}


class ReplaceItems(Rule):
    """``replace_items: true`` ⇒ non-empty ``items``, each with ``quantity`` and ``mrp``."""

    doc = ("With `replace_items` true, `items` is required and non-empty, and every line needs `quantity` and "
           "`mrp`: the lines sent replace all the current lines.")
    line_fields = ("quantity", "mrp")

    def check(self, values, raw, path, ctx):
        if values.get("replace_items") is not True:
            return
        items_path = _join(path, "items")
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


class Obj:
    """A JSON object of ``fields`` built into ``cls``; unknown keys are ignored (and reported)."""

    empty = None

    def __init__(self, name, cls, fields, *, rules=(), partial=False, description=""):
        self.name, self.cls, self.fields, self.rules = name, cls, tuple(fields), tuple(rules)
        self.partial = partial
        self.description = description
        self.by_name = {field.name: field for field in self.fields}
        extras = {"provided", "ignored_keys"}
        declared = {f.name for f in dataclasses.fields(cls)}
        if set(self.by_name) != declared - extras:
            raise TypeError(f"{cls.__name__} and the field table of {name} differ: "
                            f"{sorted(set(self.by_name) ^ (declared - extras))}")
        for attribute in dataclasses.fields(cls):
            field = self.by_name.get(attribute.name)
            if field and (field.required != (attribute.default is dataclasses.MISSING) or not field.required
                          and attribute.default != field.default_value(partial)):
                raise TypeError(f"{cls.__name__}.{attribute.name}: its default differs from the field table's")

    def parse(self, value, path, ctx):
        if not isinstance(value, dict):
            ctx.error(path, f"Invalid data. Expected an object, but got {_json_type(value)}.")
            return _INVALID
        before = ctx.count()
        ctx.ignored.extend(_join(path, key) for key in value if key not in self.by_name)
        values, provided = {}, set()
        for field in self.fields:
            field_path = _join(path, field.name)
            raw = value.get(field.name)
            if raw is None:
                if field.required:
                    ctx.error(field_path, REQUIRED if field.name not in value else NOT_NULL)
                    values[field.name] = _INVALID
                else:
                    values[field.name] = field.default_value(self.partial)
                continue
            provided.add(field.name)
            values[field.name] = field.type.parse(raw, field_path, ctx)
        for rule in self.rules:
            rule.check(values, value, path, ctx)
        if ctx.count() != before:
            return _INVALID
        names = {f.name for f in dataclasses.fields(self.cls)}
        if "provided" in names:
            values["provided"] = frozenset(provided)
        return self.cls(**values)

    def ref(self):
        return {"$ref": f"#/components/schemas/{self.name}"}

    def example(self):
        example = {}
        for field in self.fields:
            if isinstance(field.type, Obj):
                example[field.name] = field.type.example()
            elif isinstance(field.type, ListOf) and isinstance(field.type.element, Obj):
                example[field.name] = [field.type.element.example()]
            elif field.example is not None:
                example[field.name] = field.example
        return example

    def schema(self):
        description = self.description
        if self.rules:
            description += "\n\nRules:\n" + "\n".join(f"* {rule.doc}" for rule in self.rules)
        schema = {
            "type": "object",
            "description": description,
            "required": [field.name for field in self.fields if field.required],
            "properties": {field.name: field.schema() for field in self.fields},
            "additionalProperties": True,
        }
        if not schema["required"]:
            del schema["required"]
        fragments = [fragment for fragment in (rule.schema() for rule in self.rules) if fragment]
        if len(fragments) == 1:
            schema.update(fragments[0])
        elif fragments:
            schema["allOf"] = fragments
        schema["example"] = self.example()
        return schema


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
), rules=(DateNotBefore("due_date", "invoice_date"), IgnoreLineTaxes()),
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
), rules=(ReplaceItems(),), partial=True,
    description="Corrections for an invoice in REVIEW state (seed 002, V-TASK). Unknown keys are ignored.")

#: every object of the API, in the order of the OpenAPI components
OBJECTS = (IMPORT_INVOICE, CUSTOMER, ITEM, UPDATE_INVOICE, UPDATE_ITEM)


def component_schemas() -> dict[str, dict]:
    """The OpenAPI 3.0 schemas of the request objects, by component name, derived from the field table."""
    return {obj.name: obj.schema() for obj in OBJECTS}


# ---------------------------------------------------------------------------------------------------------------
# Body decoding
# ---------------------------------------------------------------------------------------------------------------

def _line_col(text, pos):
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _indent(text, pos):
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:text.find("\n", pos) if text.find("\n", pos) != -1 else len(text)]
    return len(line) - len(line.lstrip(" \t")), start


def _brackets(text, end):
    """Lexical bracket pairs of ``text[:end]``: ``(pairs, unclosed)``, each ``(open_pos, close_pos, key)``."""
    stack, pairs = [], []
    last_string, colon, pos = None, False, 0
    while pos < end:
        char = text[pos]
        if char == '"':
            close = pos + 1
            while close < end and text[close] != '"':
                close += 2 if text[close] == "\\" else 1
            last_string, colon, pos = text[pos + 1:close], False, close + 1
            continue
        if char == ":":
            colon = True
        elif char in "{[":
            stack.append((pos, last_string if colon else None))
            last_string, colon = None, False
        elif char in "}]" and stack:
            open_pos, key = stack.pop()
            pairs.append((open_pos, pos, key))
        elif char not in " \t\r\n":
            last_string, colon = None, False
        pos += 1
    return pairs, [(open_pos, None, key) for open_pos, key in stack]


def _describe_json_error(text, exc):
    where = f"line {exc.lineno}, column {exc.colno}"
    if text[exc.pos:].strip(" \t\r\n"):
        return f"Invalid JSON at {where}: {exc.msg}."
    # The parser reached the end of the input with brackets still open: in pretty-printed JSON, a bracket whose
    # closing bracket is not indented like its opening line shows where a closing bracket is missing.
    pairs, unclosed = _brackets(text, exc.pos)
    for open_pos, close_pos, key in sorted(pairs):
        open_indent, open_start = _indent(text, open_pos)
        close_indent, close_start = _indent(text, close_pos)
        if open_start == close_start or close_indent == open_indent:
            continue
        line_start = text.find("\n", open_pos) + 1
        while 0 < line_start < close_start:
            line_end = text.find("\n", line_start)
            line = text[line_start:line_end]
            stripped = line.lstrip(" \t")
            if stripped and len(line) - len(stripped) <= open_indent:
                kind = "object" if text[open_pos] == "{" else "array"
                closer = "}" if kind == "object" else "]"
                line_no, col = _line_col(text, line_start + len(line) - len(stripped))
                opened = "line {}, column {}".format(*_line_col(text, open_pos))
                named = f" (\"{key}\")" if key else ""
                return (f"Invalid JSON at line {line_no}, column {col}: '{closer}' expected here to close the "
                        f"{kind} opened at {opened}{named} (the parser stopped at the end of the input, "
                        f"{where}: {exc.msg}).")
            line_start = line_end + 1
    if unclosed:
        open_pos, _close, key = unclosed[-1]
        kind = "object" if text[open_pos] == "{" else "array"
        opened = "line {}, column {}".format(*_line_col(text, open_pos))
        named = f" (\"{key}\")" if key else ""
        return f"Invalid JSON at {where}: {exc.msg} (end of input: the {kind} opened at {opened}{named} is not closed)."
    return f"Invalid JSON at {where}: {exc.msg}."


def load_json(body: bytes | str) -> Any:
    """Decode a request body (UTF-8 JSON, numbers as :class:`Decimal`), or raise :class:`PayloadError` (``body``)."""
    if isinstance(body, str):
        text = body
    else:
        raw = bytes(body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError({"body": [
                f"The request body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): "
                "send the JSON encoded in UTF-8."]}) from None
    text = text.removeprefix("\ufeff")
    if not text.strip(" \t\r\n"):
        raise PayloadError({"body": ["The request body is empty: send a JSON object."]})
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        raise PayloadError({"body": [_describe_json_error(text, exc)]}) from None
    except RecursionError:
        raise PayloadError({"body": ["Invalid JSON: nested too deeply."]}) from None


def _parse(obj, body):
    data = load_json(body)
    if not isinstance(data, dict):
        raise PayloadError({"body": [f"Expected a JSON object at the top level, but got {_json_type(data)}."]})
    ctx = _Ctx()
    payload = obj.parse(data, "", ctx)
    if ctx.errors or payload is _INVALID:
        raise PayloadError(ctx.errors)
    return dataclasses.replace(payload, ignored_keys=tuple(ctx.ignored))


def parse_import(body: bytes) -> ImportPayload:
    """The body of ``POST /api/sales/import/invoice/``, normalised; :class:`PayloadError` lists every error."""
    return _parse(IMPORT_INVOICE, body)


def parse_update(body: bytes) -> UpdatePayload:
    """The body of ``PATCH /api/sales/update/invoice/``, normalised; :class:`PayloadError` lists every error."""
    return _parse(UPDATE_INVOICE, body)


# ---------------------------------------------------------------------------------------------------------------
# Response bodies
# ---------------------------------------------------------------------------------------------------------------

def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(body):
    return json.dumps(body, ensure_ascii=False, default=_json_default).encode("utf-8")


def json_error_body(message: str, errors: dict | None = None, data: dict | None = None) -> bytes:
    """``{"success": false, "message": ..., "errors": ..., "data": ...}`` (keys as in seed 002, absent when None)."""
    body = {"success": False, "message": message}
    if errors is not None:
        body["errors"] = errors
    if data is not None:
        body["data"] = data
    return _dumps(body)


def json_success_body(message: str, data: dict | None = None) -> bytes:
    """``{"success": true, "message": ..., "data": ...}`` (e.g. the 201 of an import); Decimals become numbers."""
    body = {"success": True, "message": message}
    if data is not None:
        body["data"] = data
    return _dumps(body)
