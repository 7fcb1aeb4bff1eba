"""Webhook bodies in the shape of seed 000 (``{"event": ..., "operations": [...]}``), built from plain data.

The models collect plain dicts (no records) and these functions shape them; nothing here touches the ORM.
Every key of the seed is kept at its place with its type; envelope keys (``id``, ``type``, ``timestamp``,
``company``) are added at the top level.
"""
import json
from datetime import date, datetime, timezone

#: how many of a partner's most recent ledger lines a ``partner_ledger`` operation carries
DEFAULT_LEDGER_CAP = 1000


def iso_date(value):
    if not value:
        return None
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else str(value)


#: a vendor bill's events: event types of their own, for the events of a customer invoice; an endpoint
#: receives them only when they are ticked (not by default)
BILL_EVENTS = {"new_invoice": "bill_posted", "invoice_paid": "bill_paid", "invoice_cancelled": "bill_cancelled"}


def iso_datetime(value):
    """Naive datetimes are UTC (Odoo stores them so) → ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not value:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def number(value):
    return float(value or 0.0)


def ledger_entries(lines, opening_balance=0.0):
    """``lines``: oldest first, dicts with id, date, name, debit, credit → entries with a running balance."""
    balance = number(opening_balance)
    entries = []
    for line in lines:
        balance = round(balance + number(line["debit"]) - number(line["credit"]), 6)
        entries.append({
            "id": int(line["id"]),
            "date": iso_date(line["date"]),
            "name": line["name"] or "",
            "debit": number(line["debit"]),
            "credit": number(line["credit"]),
            "balance": balance,
        })
    return entries


def invoice_details(invoice):
    return {
        "invoice_name": invoice["name"],
        "partner": invoice["partner"],
        "invoice_date": iso_date(invoice["invoice_date"]),
        "invoice_date_due": iso_date(invoice["invoice_date_due"]),
        "amount_total": number(invoice["amount_total"]),
        "amount_residual": number(invoice["amount_residual"]),
        "currency": invoice["currency"],
        "invoice_lines": [{
            "product": line["product"] or "",
            "quantity": number(line["quantity"]),
            "price_unit": number(line["price_unit"]),
            "subtotal": number(line["subtotal"]),
        } for line in invoice["lines"]],
        "attachments": [{
            "id": int(att["id"]),
            "name": att["name"] or "",
            "mimetype": att["mimetype"] or "application/octet-stream",
            "file_size": int(att["file_size"] or 0),
            "create_date": iso_datetime(att["create_date"]),
            "write_date": iso_datetime(att["write_date"]),
            "type": att["type"],
            "url": att["url"],
        } for att in invoice["attachments"]],
    }


def reminder_details(invoice):
    return {
        "invoice_name": invoice["name"],
        "partner": invoice["partner"],
        "amount_residual": number(invoice["amount_residual"]),
        "currency": invoice["currency"],
        "invoice_date_due": iso_date(invoice["invoice_date_due"]),
    }


def new_invoice_operations(invoice, ledger, company_id):
    """The four operations of seed 000, in its order."""
    return [
        {"name": "fetch_invoice_details",
         "payload": {"invoice": invoice_details(invoice), "company_id": company_id}},
        {"name": "payment_reminder",
         "payload": {"invoice": reminder_details(invoice), "company_id": company_id}},
        {"name": "partner_ledger",
         "payload": {"partner_id": ledger["partner_id"], "partner_name": ledger["partner_name"],
                     "ledger_entries": ledger_entries(ledger["lines"], ledger.get("opening_balance", 0.0)),
                     "company_id": company_id}},
        {"name": "pdf_invoice",
         "payload": {"invoice_id": invoice["id"], "invoice_name": invoice["name"], "pdf_url": invoice["pdf_url"],
                     "company_id": company_id}},
    ]


def bill_posted_operations(bill, company_id):
    """A posted vendor bill: its details (the vendor's attachments included), in seed 000's first operation."""
    return [{"name": "fetch_invoice_details",
             "payload": {"invoice": {**invoice_details(bill), "invoice_id": bill["id"]}, "company_id": company_id}}]


def reminder_operations(invoice, company_id, **extra):
    return [{"name": "payment_reminder",
             "payload": {"invoice": reminder_details(invoice), "company_id": company_id, **extra}}]


def envelope(event, operations, msg_id, timestamp, company):
    """The document sent: seed keys ``event`` + ``operations``, plus ``id``/``type``/``timestamp``/``company``."""
    return {
        "id": msg_id,
        "type": event,
        "timestamp": iso_datetime(timestamp),
        "company": company,
        "event": event,
        "operations": operations,
    }


#: the shapes a body can take. An endpoint keeps its version until someone changes it, so a new shape is a new
#: version and never reaches a receiver written for an older one.
#: 1: seed 000's keys (``event``, ``operations``) with the envelope keys beside them, at the top level;
#: 2: the Standard Webhooks payload structure: ``type``, ``timestamp`` and the rest under ``data``.
PAYLOAD_VERSIONS = ("1", "2")
DEFAULT_PAYLOAD_VERSION = "1"


def shaped(document, version=DEFAULT_PAYLOAD_VERSION):
    """``document`` (version 1, as :func:`envelope` builds it) in the shape of payload ``version``."""
    if version == "1":
        return document
    if version == "2":
        return {"type": document["type"], "timestamp": document["timestamp"],
                "data": {"id": document["id"], "company": document["company"], "operations": document["operations"]}}
    raise ValueError(f"unknown payload version {version!r}")


def dumps(document):
    """The exact body bytes (as text) stored once and sent on every attempt."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
