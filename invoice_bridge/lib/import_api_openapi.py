"""The OpenAPI 3.0.3 document of the invoice import API (served at ``GET /api/sales/openapi.json``).

The request schemas come from the field table of :mod:`.import_api_fields` (:func:`component_schemas`), so the
document always describes what the validator accepts; the response shapes are those of seed 002.
"""
from __future__ import annotations

import copy

from .import_api_fields import DEFAULT_MAX_BODY_BYTES, MAX_ITEMS, component_schemas
from .import_api_messages import (
    MSG_DUPLICATE,
    MSG_FORBIDDEN,
    MSG_IMPORTED,
    MSG_INVALID_API_KEY,
    MSG_NO_CREDENTIALS,
    MSG_NOT_FOUND,
    MSG_NOT_IN_REVIEW,
    MSG_RATE_LIMITED,
    MSG_TOO_LARGE,
    MSG_UPDATED,
    MSG_VALIDATION_FAILED,
)

OPENAPI_VERSION = "3.0.3"
DEFAULT_VERSION = "1.0.0"  # the addon's version without the Odoo series (the manifest's)
IMPORT_PATH = "/api/sales/import/invoice/"
UPDATE_PATH = "/api/sales/update/invoice/"
SSE_PATH = "/api/sales/sse/invoices/"
OPENAPI_PATH = "/api/sales/openapi.json"
SSE_EVENTS = ("invoice_created", "invoice_review", "invoice_updated")
KEEP_ALIVE_SECONDS = 15
#: the import statuses of an invoice (``status`` in answers and events)
IMPORT_STATUSES = ("waiting_approval", "review", "approved", "void")

_DESCRIPTION = f"""\
REST API for external systems to import invoices into Odoo and correct invoices returned for review.

**Authentication** — either header (alternatives):

* `X-API-KEY: <import API key>` (the key configured in Odoo; recommended for services), or
* `Authorization: Bearer <Odoo user API key>` (the invoice is then created as that user).

Missing credentials answer 401 `{MSG_NO_CREDENTIALS}`; a wrong key answers 401 `{MSG_INVALID_API_KEY}`.

**Bodies** are UTF-8 JSON objects of at most {DEFAULT_MAX_BODY_BYTES:,} bytes by default (configurable; larger
bodies answer 413). Invalid JSON answers 400 with `errors.body` giving the line and column of the problem.
Validation errors are all reported at once, keyed by dotted path (`invoice_no`, `customer.code`,
`items[1].quantity`). Unknown keys are ignored; `null` on an optional field means "not provided".
Numbers may be JSON numbers or numeric strings such as `"3.50"`; dates are `YYYY-MM-DD`.

**Idempotency**: `invoice_no` is unique; importing it again answers 409 with the existing invoice's id.

**Rate limiting**: too many requests answer 429 with a `Retry-After` header (seconds).

**Live stream**: `GET {SSE_PATH}` (Server-Sent Events) announces `invoice_created`, `invoice_review` and
`invoice_updated`.
"""


def _message_schema(message=None, *, success=False, description=""):
    schema = {"type": "string"}
    if isinstance(message, (list, tuple)):
        schema["enum"] = list(message)
    elif message:
        schema["example"] = message
    return {
        "type": "object",
        "description": description,
        "required": ["success", "message"],
        "properties": {"success": {"type": "boolean", "enum": [success]}, "message": schema},
    }


def _with_data(schema, data, key="data"):
    schema = copy.deepcopy(schema)
    schema["properties"][key] = data
    schema["required"] = [*schema["required"], key]
    return schema


def _response_schemas():
    invoice_ref = {
        "id": {"type": "integer", "description": "The Odoo id of the invoice (account.move)."},
        "invoice_no": {"type": "string", "description": "The invoice number sent at import."},
    }
    statuses = ", ".join(f"`{status}`" for status in IMPORT_STATUSES)
    status = {"type": "string", "nullable": True, "example": "waiting_approval",
              "description": f"The invoice's import status: {statuses} (`review`: returned to billing, "
                             "correctable with PATCH)."}
    amounts = {
        "untaxed_amount": {"type": "number", "description": "Total without taxes."},
        "tax_amount": {"type": "number", "description": "Total of the taxes."},
        "total_amount": {"type": "number", "description": "Total, taxes included, in the invoice's currency."},
    }
    return {
        "ImportSuccess": _with_data(
            _message_schema(MSG_IMPORTED, success=True, description="The invoice was created (201)."),
            {"type": "object", "required": ["id", "invoice_no", "total_amount"],
             "properties": {**invoice_ref,
                            "total_amount": {"type": "number", "description": "Total of the invoice, taxes "
                                                                              "included, in its currency."}}}),
        "UpdateSuccess": _with_data(
            _message_schema(MSG_UPDATED, success=True, description="The corrections were applied (200)."),
            {"type": "object", "required": ["id", "invoice_no", "status", "total_amount"],
             "properties": {**invoice_ref, "status": status, **amounts,
                            "updated_at": {"type": "string", "description": "When the invoice was written, UTC, "
                                                                            "`YYYY-MM-DD HH:MM:SS`."}}}),
        "ValidationError": _with_data(
            _message_schema([MSG_VALIDATION_FAILED], description="The body was refused (400); every problem "
                                                                 "is listed."),
            {"type": "object", "description": "Messages by dotted field path (`invoice_no`, `customer.code`, "
                                              "`items[1].quantity`), or `body` when the body itself is not a "
                                              "UTF-8 JSON object.",
             "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
             "example": {"invoice_no": ["This field is required."]}}, key="errors"),
        "AuthError": _message_schema([MSG_INVALID_API_KEY, MSG_NO_CREDENTIALS],
                                     description="Missing or invalid credentials (401)."),
        "Conflict": _with_data(
            _message_schema(MSG_DUPLICATE, description="The request conflicts with the invoice's current state "
                                                       "(409): duplicate invoice_no on import, invoice not in "
                                                       "REVIEW state on update."),
            {"type": "object", "required": ["id", "invoice_no"],
             "properties": {"id": dict(invoice_ref["id"], nullable=True,
                                       description="The Odoo id of the existing invoice (null in the rare case "
                                                   "where a concurrent import has not committed it yet)."),
                            "invoice_no": invoice_ref["invoice_no"], "status": status,
                            "state": {"type": "string", "description": "The accounting state (`draft`, `posted`, "
                                                                       "`cancel`) on update."}}}),
        "Error": _message_schema(description="Any other error (403, 404, 413, 429): a human-readable message."),
        "InvoiceEvent": {
            "type": "object",
            "description": "The `data:` of a Server-Sent Event: the invoice as JSON (more keys may be present).",
            "required": ["id", "invoice_no"],
            "properties": {
                **invoice_ref,
                "number": {"type": "string", "nullable": True, "description": "Odoo's number, once posted."},
                "status": status,
                "state": {"type": "string", "description": "The accounting state: draft, posted or cancel."},
                "type": {"type": "string", "enum": ["out", "in"]},
                "inv_type": {"type": "string", "enum": ["invoice", "credit", "debit"]},
                "customer": {"type": "object", "properties": {"code": {"type": "string", "nullable": True},
                                                              "name": {"type": "string"}}},
                "invoice_date": {"type": "string", "format": "date", "nullable": True},
                "due_date": {"type": "string", "format": "date", "nullable": True},
                "currency": {"type": "string"},
                **amounts,
                "review_reason": {"type": "string", "nullable": True,
                                  "description": "Why the invoice was returned to billing (`invoice_review`)."},
                "items": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            },
            "additionalProperties": True,
        },
    }


def _json(ref, example=None):
    content = {"schema": {"$ref": f"#/components/schemas/{ref}"}}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def _error(description, ref="Error", example=None, headers=None):
    response = {"description": description, "content": _json(ref, example)}
    if headers:
        response["headers"] = headers
    return response


def _common_errors(body=True):
    responses = {
        "401": _error("Missing or invalid credentials: `X-API-KEY` header or `Authorization: Bearer <Odoo user "
                      "API key>`.", "AuthError", {"success": False, "message": MSG_INVALID_API_KEY}),
    }
    if body:
        responses["403"] = _error("The authenticated user may not create or change invoices in the company of "
                                  "the key (missing Billing rights).",
                                  example={"success": False, "message": MSG_FORBIDDEN})
        responses["413"] = _error(f"The body is larger than the configured limit (default "
                                  f"{DEFAULT_MAX_BODY_BYTES:,} bytes).", example={"success": False,
                                                                                   "message": MSG_TOO_LARGE})
    responses["429"] = _error(
        "Too many requests with this API key: retry after `Retry-After` seconds.",
        example={"success": False, "message": MSG_RATE_LIMITED},
        headers={"Retry-After": {"description": "Seconds to wait before retrying.",
                                 "schema": {"type": "integer", "minimum": 0}}})
    return responses


def _validation_error(example_errors):
    return _error("Validation failed: the body is not UTF-8 JSON, not an object, or fields are missing or "
                  "invalid (all errors are listed, keyed by dotted path; `body` for the body as a whole). "
                  "Values that only the database can check (currency, taxes) are reported the same way; "
                  "business rules of the accounting refusing the invoice under `non_field_errors`.",
                  "ValidationError", {"success": False, "message": MSG_VALIDATION_FAILED,
                                      "errors": example_errors})


def _operations(schemas):
    import_op = {
        "tags": ["Invoices"],
        "operationId": "importInvoice",
        "summary": "Import one invoice",
        "description": (
            "Creates one invoice (customer invoice, vendor bill, credit or debit note according to `type` and "
            "`inv_type`) with its customer and lines; the customer is found by `customer.code` or created, the "
            f"products by `item_code`/`barcode`. At most {MAX_ITEMS} lines. Emits the SSE event "
            "`invoice_created`. `invoice_no` is the idempotency key: a second import answers 409."),
        "requestBody": {"required": True, "content": _json("ImportInvoice", schemas["ImportInvoice"]["example"])},
        "responses": {
            "201": {"description": "Invoice imported.",
                    "content": _json("ImportSuccess", {"success": True, "message": MSG_IMPORTED,
                                                       "data": {"id": 123, "invoice_no": "LTPI-77282",
                                                                "total_amount": 920.0}})},
            "400": _validation_error({"invoice_no": ["This field is required."],
                                      "items[1].quantity": ["A valid number is required."]}),
            "409": _error("An invoice with this `invoice_no` already exists; `data` gives its id.", "Conflict",
                          {"success": False, "message": MSG_DUPLICATE,
                           "data": {"id": 12, "invoice_no": "LTPI-77282"}}),
            **_common_errors(),
        },
    }
    update_op = {
        "tags": ["Invoices"],
        "operationId": "updateInvoice",
        "summary": "Correct an invoice returned for review",
        "description": (
            "Applies corrections to an invoice in REVIEW state (returned to billing; see the SSE event "
            "`invoice_review`): lines are matched by `item_code` and/or `barcode` and only the fields sent are "
            "changed, or all lines are replaced with `replace_items: true`. Answers the new status and totals "
            "and emits the SSE event `invoice_updated`."),
        "requestBody": {"required": True, "content": _json("UpdateInvoice", schemas["UpdateInvoice"]["example"])},
        "responses": {
            "200": {"description": "Corrections applied.",
                    "content": _json("UpdateSuccess", {"success": True, "message": MSG_UPDATED,
                                                       "data": {"id": 12, "invoice_no": "INV-001",
                                                                "status": "waiting_approval", "total_amount": 346.0,
                                                                "untaxed_amount": 346.0, "tax_amount": 0.0,
                                                                "updated_at": "2025-01-20 09:30:00"}})},
            "400": _validation_error({"items[0].item_code": ["Provide item_code or barcode to identify the line."]}),
            "404": _error("No invoice has this `invoice_no`.", example={"success": False, "message": MSG_NOT_FOUND}),
            "409": _error("The invoice is not in REVIEW state: it cannot be corrected.", "Conflict",
                          {"success": False, "message": MSG_NOT_IN_REVIEW,
                           "data": {"id": 12, "invoice_no": "INV-001", "status": "approved",
                                    "state": "posted"}}),
            **_common_errors(),
        },
    }
    events = ", ".join(f"`{event}`" for event in SSE_EVENTS)
    sse_op = {
        "tags": ["Invoices"],
        "operationId": "streamInvoices",
        "summary": "Live stream of invoice events (Server-Sent Events)",
        "description": (
            f"A `text/event-stream` that stays open. Events: {events}; each has an `id:` line, an `event:` line "
            "and one `data:` line holding the invoice as JSON (see the InvoiceEvent schema). A comment line "
            f"`: keep-alive` is sent every {KEEP_ALIVE_SECONDS} seconds when there is nothing else to send. "
            "After a disconnection, reconnect with the `Last-Event-ID` header (browsers' EventSource do it): "
            "the events after that id that are still kept are sent first.\n\n"
            "```\nid: 42\nevent: invoice_created\ndata: {\"id\": 123, \"invoice_no\": \"LTPI-77282\", ...}\n\n"
            ": keep-alive\n\n```"),
        "parameters": [
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "description": "The `id:` of the last event received: the stream resumes after it. Absent: only "
                            "the events from now on are sent.",
             "schema": {"type": "integer", "minimum": 0}},
            {"name": "last_event_id", "in": "query", "required": False,
             "description": "The same as the `Last-Event-ID` header, for clients that cannot set headers.",
             "schema": {"type": "integer", "minimum": 0}},
        ],
        "responses": {
            "200": {"description": "The event stream.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "400": _error("`Last-Event-ID` is not an integer.", "ValidationError",
                          {"success": False, "message": MSG_VALIDATION_FAILED,
                           "errors": {"Last-Event-ID": ["A valid integer is required."]}}),
            **_common_errors(body=False),
        },
    }
    openapi_op = {
        "tags": ["Documentation"],
        "operationId": "getOpenApi",
        "summary": "This OpenAPI document",
        "description": "The OpenAPI 3.0 description of this API; no authentication.",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }
    return {
        IMPORT_PATH: {"post": import_op},
        UPDATE_PATH: {"patch": update_op},
        SSE_PATH: {"get": sse_op},
        OPENAPI_PATH: {"get": openapi_op},
    }


def build_openapi(server_url: str | None = None, version: str | None = DEFAULT_VERSION) -> dict:
    """The OpenAPI 3.0.3 document of the four endpoints; ``server_url`` (e.g. ``https://erp.example.com``) is
    listed under ``servers`` when given (else clients use the document's own origin); ``version``: the addon's
    version (``None``/empty: :data:`DEFAULT_VERSION`)."""
    version = version or DEFAULT_VERSION
    schemas = {**component_schemas(), **_response_schemas()}
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "invoice_bridge — Invoice Import API", "version": version, "description": _DESCRIPTION},
        "tags": [{"name": "Invoices", "description": "Import, correction and live stream of invoices."},
                 {"name": "Documentation", "description": "This document."}],
        "paths": _operations(schemas),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-KEY",
                               "description": "The import API key configured in Odoo."},
                "BearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An Odoo user API key (Preferences → Account Security → New API "
                                              "Key); the invoice is created as that user."},
            },
        },
        "security": [{"ApiKeyAuth": []}, {"BearerAuth": []}],
    }
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/") or "/"}]
    return copy.deepcopy(document)
