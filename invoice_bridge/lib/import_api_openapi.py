"""The OpenAPI 3.0.3 document of the invoice import API (served at ``GET /api/sales/openapi.json``).

The request schemas come from the field table of :mod:`.import_api_fields` (:func:`component_schemas`), so the
document always describes what the validator accepts; the response shapes are those of seed 002.
"""
from __future__ import annotations

import copy

from .import_api_fields import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BODY_BYTES,
    MAX_BATCH_SIZE,
    MAX_ITEMS,
    component_schemas,
)
from .import_api_listing import (
    BAD_CURSOR,
    BAD_IDEMPOTENCY_KEY,
    BAD_LIMIT,
    DEFAULT_LIMIT,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_HOURS,
    IDEMPOTENCY_MAX_LENGTH,
    IMPORT_STATUSES,
    MAX_LIMIT,
)
from .import_api_messages import (
    MSG_BATCH,
    MSG_BATCH_SIZE,
    MSG_DUPLICATE,
    MSG_FORBIDDEN,
    MSG_FOUND,
    MSG_IDEMPOTENCY_MISMATCH,
    MSG_IMPORTED,
    MSG_INVALID_API_KEY,
    MSG_LISTED,
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
BATCH_PATH = "/api/sales/import/invoices/"
UPDATE_PATH = "/api/sales/update/invoice/"
SSE_PATH = "/api/sales/sse/invoices/"
READ_PATH = "/api/sales/invoice/{invoice_no}/"
LIST_PATH = "/api/sales/invoices/"
OPENAPI_PATH = "/api/sales/openapi.json"
SSE_EVENTS = ("invoice_created", "invoice_review", "invoice_updated")
KEEP_ALIVE_SECONDS = 15

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

**Idempotency**: `invoice_no` is unique; importing it again answers 409 with the existing invoice's id. A PATCH
may carry an `{IDEMPOTENCY_HEADER}` header (any unique value, e.g. a UUID): repeating the request with the same
key and body within {IDEMPOTENCY_HOURS} hours answers the first successful answer again (status and body, with
`Idempotent-Replayed: true`) and changes nothing; a concurrent repetition waits for the first one's answer; the
same key with another body answers 422. Keys belong to the credential that sent them.

**Reading**: `GET {READ_PATH}` answers one invoice (status, totals, lines); `GET {LIST_PATH}` lists the
company's imported invoices, oldest change first, in pages of at most {MAX_LIMIT} with an opaque `next_cursor`.

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
        "ImportBatchResult": {
            "type": "object", "required": ["success", "message", "results"],
            "description": "One result per invoice of the batch, in order (200).",
            "properties": {
                "success": {"type": "boolean", "description": "true when every invoice was imported"},
                "message": {"type": "string", "example": MSG_BATCH % {"created": 2, "count": 2}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["status", "body"], "properties": {
                        "status": {"type": "integer", "enum": [201, 400, 403, 409]},
                        "body": {"type": "object", "description": "The single route's answer to this invoice."}}}},
            }},
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
        "IdempotencyConflict": _with_data(
            _message_schema(MSG_IDEMPOTENCY_MISMATCH, description="The `Idempotency-Key` was used with another "
                                                                  "request (422): nothing was done."),
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
             "example": {IDEMPOTENCY_HEADER: [MSG_IDEMPOTENCY_MISMATCH]}}, key="errors"),
        "InvoiceLine": {
            "type": "object",
            "description": "A line of the invoice.",
            "required": ["name", "quantity", "mrp", "subtotal"],
            "properties": {
                "name": {"type": "string"},
                "item_code": {"type": "string", "nullable": True},
                "barcode": {"type": "string", "nullable": True},
                "quantity": {"type": "number"},
                "mrp": {"type": "number", "description": "The unit price."},
                "discount": {"type": "number", "description": "Percent."},
                "batch_no": {"type": "string", "nullable": True},
                "taxes": {"type": "array", "items": {"type": "string"}, "description": "The taxes' names."},
                "subtotal": {"type": "number", "description": "The line's total without taxes."},
            },
            "additionalProperties": True,
        },
        "Invoice": {
            "type": "object",
            "description": "An imported invoice: the keys of the PATCH answer, then its accounting state, Odoo's "
                           "number, the currency and the lines (more keys may be added).",
            "required": ["id", "invoice_no", "status", "total_amount", "untaxed_amount", "tax_amount",
                         "updated_at", "state", "number", "currency", "items"],
            "properties": {
                **invoice_ref, "status": status, **amounts,
                "updated_at": {"type": "string", "description": "When the invoice was last written, UTC, "
                                                                "`YYYY-MM-DD HH:MM:SS`."},
                "state": {"type": "string", "enum": ["draft", "posted", "cancel"],
                          "description": "The accounting state."},
                "number": {"type": "string", "nullable": True, "description": "Odoo's number, once posted."},
                "currency": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/InvoiceLine"}},
            },
            "additionalProperties": True,
        },
        "InvoiceSuccess": _with_data(
            _message_schema(MSG_FOUND, success=True, description="The invoice (200)."),
            {"$ref": "#/components/schemas/Invoice"}),
        "InvoiceList": {
            "type": "object",
            "description": "A page of invoices (200).",
            "required": ["success", "message", "data", "next_cursor", "has_more"],
            "properties": {
                "success": {"type": "boolean", "enum": [True]},
                "message": {"type": "string", "example": MSG_LISTED},
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Invoice"}},
                "next_cursor": {"type": "string", "nullable": True,
                                "description": "Send it as `cursor` for the next page (also when `has_more` is "
                                               "false: later changes come after it). Null only when nothing "
                                               "was listed yet; an empty page gives back the cursor sent."},
                "has_more": {"type": "boolean", "description": "More invoices follow right now; false: you are "
                                                               "up to date (poll again later with next_cursor)."},
            },
        },
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
    sample = schemas["ImportInvoice"]["example"]
    batch_op = {
        "tags": ["Invoices"],
        "operationId": "importInvoices",
        "summary": "Import several invoices at once",
        "description": (
            f"Up to {DEFAULT_BATCH_SIZE} invoices by default (setting *Invoices per batch import*, at most "
            f"{MAX_BATCH_SIZE}), each as the single route takes it. The answer is 200 with one result per "
            "invoice, in order: the status and body the single route would answer (201, 400 with the errors "
            "of that invoice, 409 for a number imported already or twice in the batch). Invoices are "
            "independent: a refused one never undoes the others. The request as a whole is refused (400, "
            "`errors.invoices`) when it is not such a list or holds too many."),
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "required": ["invoices"], "properties": {"invoices": {
                "type": "array", "minItems": 1, "maxItems": MAX_BATCH_SIZE,
                "items": {"$ref": "#/components/schemas/ImportInvoice"}}}},
            "example": {"invoices": [sample, {**sample, "invoice_no": "LTPI-77283"}]}}}},
        "responses": {
            "200": {"description": "One result per invoice, in order.", "content": _json("ImportBatchResult", {
                "success": False, "message": MSG_BATCH % {"created": 1, "count": 2}, "results": [
                    {"status": 201, "body": {"success": True, "message": MSG_IMPORTED,
                                             "data": {"id": 123, "invoice_no": "LTPI-77282", "total_amount": 920.0}}},
                    {"status": 409, "body": {"success": False, "message": MSG_DUPLICATE,
                                             "data": {"id": 12, "invoice_no": "LTPI-77283"}}}]})},
            "400": _validation_error({"invoices": [MSG_BATCH_SIZE % {"limit": DEFAULT_BATCH_SIZE, "count": 0}]}),
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
        "parameters": [{
            "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "description": (
                f"Makes the request safe to retry: a repetition with the same key (and the same credential) within "
                f"{IDEMPOTENCY_HOURS} hours answers the first successful answer again, status and body, and "
                "changes nothing; a repetition sent while the first one runs waits for its answer. The same key "
                "with another body answers 422. Refusals (4xx) are not kept: retried, they run again. Use a new "
                f"key, e.g. a UUID, for each new correction. A malformed key answers 400: {BAD_IDEMPOTENCY_KEY}"),
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_MAX_LENGTH,
                       "pattern": "^[\\x21-\\x7e]+$"},
            "example": "5f0c6d1e-8a4b-4f7e-9c1d-2b3a4c5d6e7f"}],
        "requestBody": {"required": True, "content": _json("UpdateInvoice", schemas["UpdateInvoice"]["example"])},
        "responses": {
            "200": {"description": "Corrections applied (or, with an `Idempotency-Key` already used, the first "
                                   "answer given again).",
                    "headers": {"Idempotent-Replayed": {
                        "description": "`true` when this is the kept answer of an earlier request with the same "
                                       "`Idempotency-Key`.", "schema": {"type": "string", "enum": ["true"]}}},
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
            "422": _error("The `Idempotency-Key` was used with another request body: nothing was done.",
                          "IdempotencyConflict", {"success": False, "message": MSG_IDEMPOTENCY_MISMATCH,
                                                  "errors": {IDEMPOTENCY_HEADER: [MSG_IDEMPOTENCY_MISMATCH]}}),
            **_common_errors(),
        },
    }
    example_invoice = {
        "id": 12, "invoice_no": "INV-001", "status": "waiting_approval", "total_amount": 346.0,
        "untaxed_amount": 346.0, "tax_amount": 0.0, "updated_at": "2025-01-20 09:30:00", "state": "draft",
        "number": None, "currency": "INR",
        "items": [{"name": "Paracetamol 650mg", "item_code": "MED001", "barcode": "BC-MED001", "quantity": 2.0,
                   "mrp": 145.5, "discount": 0.0, "batch_no": "B456", "taxes": [], "subtotal": 291.0},
                  {"name": "Otrivin Nasal Spray", "item_code": "MED002", "barcode": "BC-MED002", "quantity": 1.0,
                   "mrp": 55.0, "discount": 0.0, "batch_no": None, "taxes": [], "subtotal": 55.0}]}
    read_forbidden = _error("The authenticated user may not read invoices in the company of the key (no Billing "
                            "or read-only accounting rights).", example={"success": False, "message": MSG_FORBIDDEN})
    read_op = {
        "tags": ["Invoices"],
        "operationId": "getInvoice",
        "summary": "Read one imported invoice",
        "description": (
            "The invoice imported with this `invoice_no` in the company of the credential: its status, totals "
            "and lines (the keys of the PATCH answer, then the accounting state, Odoo's number, the currency and "
            "the lines). An invoice of another company is unknown here (404). Numbers with `/` may be sent as "
            "they are or encoded (`%2F`)."),
        "parameters": [{"name": "invoice_no", "in": "path", "required": True,
                        "description": "The `invoice_no` sent at import.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                        "example": "INV-001"}],
        "responses": {
            "200": {"description": "The invoice.",
                    "content": _json("InvoiceSuccess", {"success": True, "message": MSG_FOUND,
                                                        "data": example_invoice})},
            "404": _error("No imported invoice of the company has this `invoice_no`.",
                          example={"success": False, "message": MSG_NOT_FOUND}),
            "401": _common_errors()["401"], "403": read_forbidden, "429": _common_errors()["429"],
        },
    }
    statuses = ", ".join(f"`{status}`" for status in IMPORT_STATUSES)
    list_op = {
        "tags": ["Invoices"],
        "operationId": "listInvoices",
        "summary": "List imported invoices, oldest change first",
        "description": (
            "The company's imported invoices ordered by their last change (`updated_at`, then `id`), in pages: "
            "send the answer's `next_cursor` as `cursor` for the next page. The cursor is a position, so no "
            "invoice is skipped or listed twice while others are imported or changed meanwhile; an invoice "
            "changed during the paging comes again at the end, with its new content. A page stops before the "
            "changes of transactions still running, which come on a later page. At the end (`has_more` false) "
            "keep `next_cursor`: calling again with it later gives what changed since (a change feed)."),
        "parameters": [
            {"name": "status", "in": "query", "required": False,
             "description": f"Only invoices in this import status: {statuses}; several separated by commas.",
             "schema": {"type": "string"}, "example": "review"},
            {"name": "updated_since", "in": "query", "required": False,
             "description": "Only invoices changed at or after this moment: `YYYY-MM-DD` or "
                            "`YYYY-MM-DDTHH:MM:SS` (fractions, `Z` or an offset allowed; without one, UTC).",
             "schema": {"type": "string"}, "example": "2025-01-20T00:00:00Z"},
            {"name": "cursor", "in": "query", "required": False,
             "description": "The `next_cursor` of the previous page, unchanged. It carries the filters of the first "
                            "page: send the same ones or none.",
             "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "required": False,
             "description": f"Invoices per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
        ],
        "responses": {
            "200": {"description": "A page of invoices.",
                    "content": _json("InvoiceList", {"success": True, "message": MSG_LISTED,
                                                     "data": [example_invoice],
                                                     "next_cursor": "eyJpIjoxMiwicyI6W10sInUiOm51bGwsInYiOjEsIn"
                                                                    "ciOiIyMDI1LTAxLTIwIDA5OjMwOjAwLjEyMzQ1NiJ9",
                                                     "has_more": False})},
            "400": _error("A parameter is not valid: every problem is listed by parameter name.", "ValidationError",
                          {"success": False, "message": MSG_VALIDATION_FAILED,
                           "errors": {"limit": [BAD_LIMIT], "cursor": [BAD_CURSOR]}}),
            "401": _common_errors()["401"], "403": read_forbidden, "429": _common_errors()["429"],
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
        BATCH_PATH: {"post": batch_op},
        UPDATE_PATH: {"patch": update_op},
        READ_PATH: {"get": read_op},
        LIST_PATH: {"get": list_op},
        SSE_PATH: {"get": sse_op},
        OPENAPI_PATH: {"get": openapi_op},
    }


def build_openapi(server_url: str | None = None, version: str | None = DEFAULT_VERSION) -> dict:
    """The OpenAPI 3.0.3 document of the six endpoints; ``server_url`` (e.g. ``https://erp.example.com``) is
    listed under ``servers`` when given (else clients use the document's own origin); ``version``: the addon's
    version (``None``/empty: :data:`DEFAULT_VERSION`)."""
    version = version or DEFAULT_VERSION
    schemas = {**component_schemas(), **_response_schemas()}
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "invoice_bridge — Invoice Import API", "version": version, "description": _DESCRIPTION},
        "tags": [{"name": "Invoices", "description": "Import, correction, reading and live stream of invoices."},
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
