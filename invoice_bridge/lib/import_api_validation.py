"""The validation machinery of the import API's bodies: field types that validate AND describe themselves.

Each field type both *validates* a decoded JSON value and *describes* itself as an OpenAPI 3.0 schema, so the
validator and the published schemas cannot drift apart: a value is accepted by the validator exactly when it
matches the schema, except for the few cross-field rules that OpenAPI 3.0 cannot express (listed in the
object's description). The field tables themselves (the API contract) are in :mod:`.import_api_fields`.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .import_api_json import _NonFinite, load_json
from .import_api_messages import PayloadError

#: amounts, quantities and rates must stay below this (12 integer digits)
AMOUNT_LIMIT = 10**12

# DRF-like field messages
REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NUL_CHAR = "Null characters are not allowed."
SURROGATE = "Invalid text: lone UTF-16 surrogates are not allowed."
BAD_DATE = "Enter a valid date (YYYY-MM-DD) between 1900-01-01 and 2199-12-31."
BAD_NUMBER = "A valid number is required."
BAD_BOOLEAN = "Must be a valid boolean."
BAD_EMAIL = "Enter a valid email address."
BAD_CURRENCY = "Enter a 3-letter ISO 4217 currency code in upper case, e.g. \"INR\"."
EMPTY_LIST = "This list may not be empty."
BAD_TAX = "Enter a tax name (string) or a tax percentage (number between 0 and 100)."


INVALID = object()
_AUTO = object()


class _Ctx:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}
        self.ignored: list[str] = []

    def error(self, path, message):
        self.errors.setdefault(path or "body", []).append(message)

    def count(self):
        return sum(len(messages) for messages in self.errors.values())


def join_path(path, name):
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


def is_number(value):
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
            return INVALID
        if _has_surrogate(value):
            ctx.error(path, SURROGATE)
            return INVALID
        if len(value) > self.max_length:
            ctx.error(path, f"Ensure this field has no more than {self.max_length} characters.")
            return INVALID
        if "\x00" in value:
            ctx.error(path, NUL_CHAR)
            return INVALID
        if not self.blank and not value.strip():
            ctx.error(path, BLANK)
            return INVALID
        if not self._regex.search(value):
            ctx.error(path, self.message or NOT_STRING)
            return INVALID
        return value.strip()

    def schema(self):
        schema = {"type": "string", "maxLength": self.max_length, "pattern": self.pattern}
        if not self.blank:
            schema["minLength"] = 1
        return schema


#: dates from 1900 to 2199: an accounting date outside them is a typo (year 0001, 9999), never a real invoice
DATE_PATTERN = r"^(?:19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}$"
_DATE_RE = re.compile(DATE_PATTERN, re.ASCII)


class Date:
    """``YYYY-MM-DD`` (the check of JSON Schema's ``format: date``), year 1900 to 2199."""

    empty = None

    def parse(self, value, path, ctx):
        if isinstance(value, str) and _DATE_RE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:  # the right shape but no such day (2025-02-30): the same error as a bad shape
                ctx.error(path, BAD_DATE)
                return INVALID
        ctx.error(path, BAD_DATE)
        return INVALID

    def schema(self):
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}


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
        if is_number(value):
            number = Decimal(value)
            if not number.is_finite():
                ctx.error(path, BAD_NUMBER)
                return INVALID
            error = self._range_error(number)
            if error:
                ctx.error(path, error)
                return INVALID
            return number
        if isinstance(value, str) and _NUMBER_SYNTAX.search(value):
            error = self._range_error(Decimal(value.strip()))
            if error:
                ctx.error(path, error)
                return INVALID
            if self._regex.search(value):
                return Decimal(value.strip())
        ctx.error(path, BAD_NUMBER)
        return INVALID

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
            return INVALID
        if not self._regex.search(value):
            shown = value if len(value) <= 40 else value[:40] + "…"
            ctx.error(path, f"\"{shown}\" is not a valid choice (one of: {', '.join(self.choices)}).")
            return INVALID
        return self._canonical[value.strip().lower()]

    def schema(self):
        return {"type": "string", "pattern": self.pattern, "x-canonical-values": list(self.choices)}


class Boolean:
    empty = False

    def parse(self, value, path, ctx):
        if isinstance(value, bool):
            return value
        ctx.error(path, BAD_BOOLEAN)
        return INVALID

    def schema(self):
        return {"type": "boolean"}


class ListOf:
    empty = ()

    def __init__(self, element, *, min_items=0, max_items):
        self.element = element
        self.min_items = min_items
        self.max_items = max_items

    def parse(self, value, path, ctx):
        if not isinstance(value, list):
            ctx.error(path, f"Expected a list of items but got type \"{_json_type(value)}\".")
            return INVALID
        if len(value) < self.min_items:
            ctx.error(path, EMPTY_LIST)
            return INVALID
        if len(value) > self.max_items:
            ctx.error(path, f"Ensure this field has no more than {self.max_items} elements.")
            return INVALID
        parsed = []
        for index, element in enumerate(value):
            element_path = f"{path}[{index}]"
            if element is None:
                ctx.error(element_path, NOT_NULL)
                parsed.append(INVALID)
            else:
                parsed.append(self.element.parse(element, element_path, ctx))
        return INVALID if any(item is INVALID for item in parsed) else tuple(parsed)

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
            ctx.error(join_path(path, self.field), f"Ensure this date is on or after {self.other} ({earlier}).")


class AtLeastOne(Rule):
    def __init__(self, *fields):
        self.fields = fields
        self.doc = f"At least one of {' / '.join(f'`{name}`' for name in fields)} must be given (non-blank)."

    def check(self, values, raw, path, ctx):
        if any(name in raw and values.get(name, INVALID) is INVALID for name in self.fields):
            return  # that field already has its own error
        if not any(values.get(name) for name in self.fields):
            ctx.error(join_path(path, self.fields[0]), f"Provide {' or '.join(self.fields)} to identify the line.")

    def schema(self):
        return {"anyOf": [{"required": [name], "properties": {name: {"type": "string", "pattern": NONBLANK_PATTERN}}}
                          for name in self.fields]}


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
            return INVALID
        before = ctx.count()
        ctx.ignored.extend(join_path(path, key) for key in value if key not in self.by_name)
        values, provided = {}, set()
        for field in self.fields:
            field_path = join_path(path, field.name)
            raw = value.get(field.name)
            if raw is None:
                if field.required:
                    ctx.error(field_path, REQUIRED if field.name not in value else NOT_NULL)
                    values[field.name] = INVALID
                else:
                    values[field.name] = field.default_value(self.partial)
                continue
            provided.add(field.name)
            values[field.name] = field.type.parse(raw, field_path, ctx)
        for rule in self.rules:
            rule.check(values, value, path, ctx)
        if ctx.count() != before:
            return INVALID
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


def parse_body(obj, body):
    return parse_data(obj, load_json(body))


def parse_data(obj, data):
    """``obj`` read from decoded JSON ``data`` (a body, or one invoice of a batch); :class:`PayloadError`."""
    if not isinstance(data, dict):
        raise PayloadError({"body": [f"Expected a JSON object at the top level, but got {_json_type(data)}."]})
    ctx = _Ctx()
    payload = obj.parse(data, "", ctx)
    if ctx.errors or payload is INVALID:
        raise PayloadError(ctx.errors)
    return dataclasses.replace(payload, ignored_keys=tuple(ctx.ignored))
