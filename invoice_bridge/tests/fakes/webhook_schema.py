"""JSON Schemas of the webhook bodies the addon sends, and helpers for tests (plain Python, no Odoo).

The schemas live in ``tests/data/webhook_<name>.schema.json`` (draft 2020-12). ``new_invoice`` is the
seed's "Webhook Payload Structure" document; ``payment_reminder`` is the single-operation reminder event.
Every seed key is required; extra keys (envelope ``id``/``type``/``timestamp``/``company``, extra fields)
are allowed.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data"
SCHEMA_NAMES = ("new_invoice", "payment_reminder")


def _schema_path(name: str) -> Path:
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown webhook schema {name!r}; expected one of {', '.join(SCHEMA_NAMES)}")
    return SCHEMA_DIR / f"webhook_{name}.schema.json"


def load_schema(name: str) -> dict:
    """The parsed JSON Schema of webhook event ``name`` (a fresh dict on every call)."""
    return json.loads(_schema_path(name).read_text(encoding="utf-8"))


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate(payload, name: str = "new_invoice") -> None:
    """Raise ``jsonschema.ValidationError`` (the most relevant one) unless ``payload`` matches ``name``."""
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(payload))
    if error is not None:
        raise error


def _resolve(schema: dict, root: dict, seen: tuple = ()) -> tuple[dict, tuple]:
    """Follow local ``$ref`` (``#/...``) chains; returns the target schema and the refs followed so far."""
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref are supported, got {ref!r}")
        if ref in seen:
            raise ValueError(f"recursive $ref {ref!r} has no finite key paths")
        seen = (*seen, ref)
        target = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = target
    return schema, seen


def _walk(schema, root: dict, prefix: tuple, seen: tuple, out: list) -> None:
    schema, seen = _resolve(schema, root, seen)
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties", {})
    for key in schema.get("required", ()):
        path = (*prefix, key)
        out.append(path)
        if key in properties:
            _walk(properties[key], root, path, seen, out)
    for index, item in enumerate(schema.get("prefixItems", ())):
        _walk(item, root, (*prefix, index), seen, out)
    items = schema.get("items")
    if isinstance(items, dict):
        # Arrays of objects: the required keys of element 0 stand for those of every element.
        _walk(items, root, (*prefix, len(schema.get("prefixItems", ()))), seen, out)


def required_key_paths(name: str) -> list[tuple]:
    """Every required key of schema ``name`` as a path of keys and array indices, in schema order.

    E.g. ``("operations", 0, "payload", "invoice", "invoice_lines", 0, "product")``; for arrays of objects
    the index is 0. Each path ends with a key, so deleting ``path[-1]`` from the object at ``path[:-1]`` of a
    valid document must make it invalid.
    """
    root = load_schema(name)
    out: list[tuple] = []
    _walk(root, root, (), (), out)
    return out


def _payment_reminder_payload() -> dict:
    return {
        "invoice": {
            "invoice_name": "INV/2026/00042",
            "partner": "Deco Addict",
            "amount_residual": 1450.5,
            "currency": "EUR",
            "invoice_date_due": "2026-12-22",
        },
        "company_id": 5,
    }


def _new_invoice_sample() -> dict:
    return {
        "event": "new_invoice",
        "operations": [
            {
                "name": "fetch_invoice_details",
                "payload": {
                    "invoice": {
                        "invoice_name": "INV/2026/00042",
                        "partner": "Deco Addict",
                        "invoice_date": "2026-11-22",
                        "invoice_date_due": "2026-12-22",
                        "amount_total": 1450.5,
                        "amount_residual": 1450.5,
                        "currency": "EUR",
                        "invoice_lines": [
                            {"product": "[FURN_8888] Office Lamp", "quantity": 12.0, "price_unit": 120.875,
                             "subtotal": 1450.5},
                        ],
                        "attachments": [
                            {
                                "id": 317,
                                "name": "INV_2026_00042.pdf",
                                "mimetype": "application/pdf",
                                "file_size": 48213,
                                "create_date": "2026-11-22T10:15:30Z",
                                "write_date": "2026-11-22T10:15:31Z",
                                "type": "binary",
                                "url": "https://odoo.example.com/web/content/317",
                            },
                        ],
                    },
                    "company_id": 5,
                },
            },
            {"name": "payment_reminder", "payload": _payment_reminder_payload()},
            {
                "name": "partner_ledger",
                "payload": {
                    "partner_id": 9,
                    "partner_name": "Deco Addict",
                    "ledger_entries": [
                        {"id": 1201, "date": "2026-10-03", "name": "INV/2026/00031", "debit": 800.0,
                         "credit": 0, "balance": 800.0},
                        {"id": 1288, "date": "2026-11-22", "name": "INV/2026/00042", "debit": 1450.5,
                         "credit": 0.0, "balance": 2250.5},
                    ],
                    "company_id": 5,
                },
            },
            {
                "name": "pdf_invoice",
                "payload": {
                    "invoice_id": 42,
                    "invoice_name": "INV/2026/00042",
                    "pdf_url": "https://odoo.example.com/report/pdf/account.report_invoice/42",
                    "company_id": 5,
                },
            },
        ],
    }


def sample_payload(name: str = "new_invoice") -> dict:
    """A valid, hand-written document for schema ``name`` (a fresh dict on every call).

    ``new_invoice`` has one invoice line, one attachment and two ledger entries.
    """
    _schema_path(name)  # rejects unknown names
    if name == "new_invoice":
        return _new_invoice_sample()
    return {"event": "payment_reminder", "operations": [{"name": "payment_reminder",
                                                         "payload": _payment_reminder_payload()}]}
