"""The import API's HTTP answers: seed 002's messages and response bodies, and the 400 of an invalid body."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

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
MSG_FOUND = "Invoice found"
#: the batch route's message: "3 of 4 invoices imported"
MSG_BATCH = "%(created)s of %(count)s invoices imported"
#: the batch route's refusals of the whole request (``errors.invoices``)
MSG_BATCH_NOT_A_LIST = 'Send the invoices as a list: {"invoices": [invoice, ...]}.'
MSG_BATCH_SIZE = "Send between 1 and %(limit)s invoices in one batch (got %(count)s)."
MSG_LISTED = "Invoices listed"
#: a constraint of the database refused the invoice (no field rule foresaw it): a 400, never a 500
MSG_DB_REFUSED = "The database refused this invoice (constraint %(constraint)s): correct the data and send again."
MSG_IDEMPOTENCY_MISMATCH = ("This Idempotency-Key was used with another request: send a new key for a new request, "
                            "or repeat the first request unchanged.")


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
