"""Loopback fake of easybill's REST API v1: customers, documents, attachments, checked against its swagger.

Every query string and JSON body is validated against ``../data/easybill_swagger-1.92.3.json``: a malformed
request gets 400 ``{"code": 400, "message": "<json path>: <problem>; ..."}`` and changes nothing. Errors all take
the shape ``{"code": <HTTP status>, "message": ...}``. Used by tests and the offline demo. Run standalone with::

    python3 tools/fakes.py easybill_fake [--port 0] [--rate-limit 60] [--api-key demo-easybill-key]

The API lives below ``/rest/v1`` (see :attr:`FakeEasybill.api_url`). Control endpoints: ``GET /_fake/state``,
``POST /_fake/fail`` (a JSON object of :meth:`FakeEasybill.fail_next`'s arguments), ``POST /_fake/reset``.

What the accountant does in easybill's web app is driven by a test (:meth:`FakeEasybill.complete`,
:meth:`~FakeEasybill.add_payment`, :meth:`~FakeEasybill.send_by_email`, :meth:`~FakeEasybill.cancel`,
:meth:`~FakeEasybill.delete`): each change is checked against the swagger's ``Document``/``PostBox`` definitions,
moves ``edited_at``, and is announced to the registered webhooks (``POST /webhooks``) whose events include it,
as easybill does: a JSON body naming the event (its shape is not in the swagger; a client must not rely on it).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import functools
import json
import math
import mimetypes
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from .core_loopback import CONTROL_PREFIX, LoopbackHandler, LoopbackServer, serve_until_signalled
from .easybill_swagger2 import Swagger

BASE_PATH = "/rest/v1"
SPEC = Path(__file__).resolve().parent.parent / "data" / "easybill_swagger-1.92.3.json"
DEFAULT_API_KEY = "demo-easybill-key"
FIRST_ID = 1001  # one id sequence for every resource: an id of the wrong kind is a 404
MAX_REQUEST_LINE = 4094  # documented: a longer request line is answered 414
DEFAULT_LIMIT = 100

#: (method, swagger path template, handler method); ``{...}`` segments are integer ids
ROUTES = (
    ("GET", "/customers", "_list_customers"),
    ("POST", "/customers", "_create_customer"),
    ("GET", "/customers/{id}", "_get_customer"),
    ("GET", "/documents", "_list_documents"),
    ("POST", "/documents", "_create_document"),
    ("GET", "/documents/{id}", "_get_document"),
    ("DELETE", "/documents/{id}", "_delete_document"),
    ("PUT", "/documents/{id}/done", "_finish_document"),
    ("GET", "/documents/{id}/pdf", "_document_pdf"),
    ("GET", "/post-boxes", "_list_post_boxes"),
    ("GET", "/webhooks", "_list_webhooks"),
    ("POST", "/webhooks", "_create_webhook"),
    ("GET", "/webhooks/{id}", "_get_webhook"),
    ("PUT", "/webhooks/{id}", "_update_webhook"),
    ("DELETE", "/webhooks/{id}", "_delete_webhook"),
    ("POST", "/attachments", "_create_attachment"),
    ("GET", "/attachments/{id}", "_get_attachment"),
    ("PUT", "/attachments/{id}", "_update_attachment"),
    ("GET", "/attachments/{id}/content", "_attachment_content"),
)
_ROUTE_PATTERNS = [(re.compile(re.sub(r"\{\w+\}", r"(\\d+)", template)), method, template, name)
                   for method, template, name in ROUTES]
#: the list filters the fake implements (exact match on the field, comma lists or ``name[]``)
CUSTOMER_FILTERS = ("number", "country", "zip_code", "first_name", "last_name", "company_name")
DOCUMENT_FILTERS = ("customer_id", "type", "is_draft", "title", "number", "cancel_id", "paid_at", "edited_at",
                    "document_date")
POST_BOX_FILTERS = ("document_id", "type", "status")
#: filters whose value is one day or a range ``from,to`` (the swagger's "between like 2015-01-01,2015-12-31")
DATE_FILTERS = ("paid_at", "edited_at", "document_date")
_PAGING = ("limit", "page")
#: an attachment belongs to at most one of these
CONTEXTS = ("customer_id", "document_id", "project_id")
#: position discount -> (undiscounted total, quantity, discount) -> total
_DISCOUNTS = {
    "PERCENT": lambda total, quantity, discount: total * (1 - discount / 100),
    "AMOUNT": lambda total, quantity, discount: total - discount,
    "QUANTITY": lambda total, quantity, discount: total - discount * quantity,
    "FIX": lambda total, quantity, discount: discount * quantity,
}


class _ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class _Handler(LoopbackHandler):
    server_version = "FakeEasybill"

    def do_DELETE(self):
        self.server.receiver._on_request(self)


@functools.cache
def _swagger() -> Swagger:
    return Swagger(SPEC)


def cents(value: float) -> int:
    """Round to whole cents half away from zero (as PHP's round() does), ignoring float noise."""
    return int(Decimal(repr(round(value, 9))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes, str | None]]:
    """The fields of a multipart/form-data body: name -> (file name, bytes, content type); ValueError if malformed."""
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        raise ValueError("Content-Type must be multipart/form-data with a boundary")
    pieces = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        raise ValueError("the body is not multipart/form-data (no closing boundary)")
    fields = {}
    for piece in pieces[1:-1]:
        head, sep, data = piece.partition(b"\r\n\r\n")
        part = HeaderParser().parsestr(head.partition(b"\r\n")[2].decode("utf-8"))  # after the boundary line
        name = part.get_param("name", header="content-disposition")
        if not sep or part.get_content_disposition() != "form-data" or not isinstance(name, str):
            raise ValueError("every part needs a Content-Disposition: form-data header with a name")
        fields[name] = (part.get_filename(), data, part.get("Content-Type"))
    return fields


def _text(value) -> str:
    """A field as a query filter compares it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return "null" if value is None else str(value)


def _error(status: int, message: str, retry_after=None) -> tuple:
    return status, json.dumps({"code": status, "message": message}).encode(), "application/json", retry_after


class FakeEasybill(LoopbackServer):
    """Fake easybill API on loopback: in-memory resources, swagger validation, rate limit, failure injection."""

    handler_class = _Handler
    thread_name = "easybill-fake"
    poll_interval = 0.01

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str = DEFAULT_API_KEY,
                 rate_limit: int | None = None, rate_window: float = 60.0):
        super().__init__(host, port)
        self.api_key = api_key
        #: accepted requests per ``rate_window`` seconds (sliding window); None: no limit
        self.rate_limit = rate_limit
        self.rate_window = float(rate_window)
        self.swagger = _swagger()
        self._lock = threading.RLock()
        self._next_id = FIRST_ID
        self._next_customer_number = 10001
        self._next_document_number = 1
        self.reset()

    @property
    def api_url(self) -> str:
        """The client's base URL."""
        return self.url + BASE_PATH

    def reset(self) -> None:
        """Forget resources, requests, injected failures and the rate window. Ids and numbers keep increasing."""
        with self._lock:
            self._customers: dict[int, dict] = {}
            self._documents: dict[int, dict] = {}
            self._attachments: dict[int, dict] = {}
            self._contents: dict[int, tuple[bytes, str]] = {}
            self._post_boxes: dict[int, dict] = {}
            self._webhooks: dict[int, dict] = {}
            self._pending_events: list[tuple[str, dict]] = []
            #: every webhook call made: {"url", "event", "body", "status" (the answer's, 0: none)}
            self.webhook_calls: list[dict] = []
            self._requests: list[dict] = []
            self._failures: list[dict] = []
            self._window: deque[float] = deque()
            #: the most requests accepted within any ``rate_window`` seconds
            self.max_in_window = 0

    def fail_next(self, method: str | None, path_regex: str, status: int | None = 500, body=None, times: int = 1,
                  retry_after=None, delay: float | None = None, execute: bool = False) -> None:
        """Answer the next ``times`` API requests of ``method`` (None: any) whose path below ``/rest/v1`` matches
        ``path_regex`` (``re.search``) with ``status`` and ``body`` (None: the usual error JSON; a dict/list is
        JSON, str/bytes go as they are), after ``delay`` seconds. ``execute=True`` carries the request out first
        (created, but the answer is lost); ``status=None`` answers normally (with ``delay``: a slow server)."""
        try:
            pattern = re.compile(path_regex)
        except re.error as exc:
            raise ValueError(f"bad path_regex: {exc}") from exc
        if int(times) < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._failures.append({"method": method.upper() if method else None, "pattern": pattern,
                                   "status": None if status is None else int(status), "body": body,
                                   "times": int(times), "retry_after": retry_after,
                                   "delay": float(delay or 0), "execute": bool(execute)})

    # -- what happened -----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict]:
        """Every API request: {"method", "path", "query" (name -> values), "headers" (lower-case names),
        "body" (bytes), "time", "status" (the answer's)}."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def customers(self) -> dict[int, dict]:
        with self._lock:
            return copy.deepcopy(self._customers)

    @property
    def documents(self) -> dict[int, dict]:
        with self._lock:
            return copy.deepcopy(self._documents)

    @property
    def attachments(self) -> dict[int, dict]:
        """id -> the Attachment, plus its "content" (bytes) and "content_type"."""
        with self._lock:
            return {i: {**copy.deepcopy(a), "content": self._contents[i][0], "content_type": self._contents[i][1]}
                    for i, a in self._attachments.items()}

    def state(self) -> dict:
        """What ``GET /_fake/state`` answers."""
        with self._lock:
            return {
                "api_url": self.api_url,
                "rate_limit": self.rate_limit,
                "rate_window": self.rate_window,
                "max_in_window": self.max_in_window,
                "customers": {str(k): v for k, v in self._customers.items()},
                "documents": {str(k): v for k, v in self._documents.items()},
                "attachments": {str(k): v for k, v in self._attachments.items()},
                "requests": [{k: r[k] for k in ("method", "path", "query", "status", "time")} for r in self._requests],
                "pending_failures": [{**f, "pattern": f["pattern"].pattern} for f in self._failures],
            }

    # -- request handling (handler threads) --------------------------------------------------------------

    def _on_get(self, handler: _Handler) -> None:
        self._on_request(handler)

    def _on_request(self, handler: _Handler) -> None:
        body = handler.read_body_or_400()
        if body is None:
            return
        split = urlsplit(handler.path)
        if split.path.startswith(CONTROL_PREFIX):
            if handler.command != "GET":
                self._on_control(handler, split.path, body)
            elif split.path == CONTROL_PREFIX + "state":
                handler.reply_json(200, self.state())
            else:
                handler.reply_json(404, {"error": "unknown control path"})
            return
        record = {"method": handler.command, "path": split.path,
                  "query": parse_qs(split.query, keep_blank_values=True),
                  "headers": {k.lower(): v for k, v in handler.headers.items()},
                  "body": body, "time": time.time(), "status": None}
        with self._lock:
            self._requests.append(record)
        delay = 0.0
        try:
            (status, payload, content_type, retry_after), delay = self._answer(handler, record)
        except _ApiError as exc:
            status, payload, content_type, retry_after = _error(exc.status, str(exc))
        with self._lock:
            record["status"] = status  # before answering: a client with its answer finds it recorded
        if delay:
            time.sleep(delay)
        handler.send_whole(status, payload, content_type, retry_after)

    def _control_post(self, name: str):
        return (lambda data: self.fail_next(**data)) if name == "fail" else None

    def _answer(self, handler: _Handler, record: dict) -> tuple[tuple, float]:
        """The reply (status, body, content type, Retry-After) and the seconds to wait before sending it."""
        if len(handler.requestline) > MAX_REQUEST_LINE:
            raise _ApiError(414, "Request-URI Too Large")
        if not record["path"].startswith(BASE_PATH + "/"):
            raise _ApiError(404, "Not found")
        retry_after = self._admit()
        if retry_after is not None:
            return _error(429, "Too Many Requests", retry_after), 0.0
        if not self._authorized(handler.headers.get("Authorization")):
            raise _ApiError(401, "Unauthorized: send 'Authorization: Bearer <api_key>'")
        path = record["path"][len(BASE_PATH):]
        route, ids = self._route(record["method"], path)
        failure = self._take_failure(record["method"], path)
        if failure is None:
            return self._execute(route, ids, record), 0.0
        if failure["execute"] or failure["status"] is None:
            try:
                result = self._execute(route, ids, record)
            except _ApiError as exc:
                result = _error(exc.status, str(exc))
            if failure["status"] is None:
                return result, failure["delay"]
        status, body = failure["status"], failure["body"]
        if body is None:
            reply = _error(status, "injected failure", failure["retry_after"])
        elif isinstance(body, str | bytes):
            reply = (status, body.encode() if isinstance(body, str) else body, "text/plain", failure["retry_after"])
        else:
            reply = (status, json.dumps(body).encode(), "application/json", failure["retry_after"])
        return reply, failure["delay"]

    def _admit(self) -> int | None:
        """Count one request in the sliding window; when it is full, the Retry-After seconds instead."""
        now = time.monotonic()
        with self._lock:
            while self._window and self._window[0] <= now - self.rate_window:
                self._window.popleft()
            if self.rate_limit is not None and len(self._window) >= self.rate_limit:
                return max(1, math.ceil(self._window[0] + self.rate_window - now))
            self._window.append(now)
            self.max_in_window = max(self.max_in_window, len(self._window))
            return None

    def _authorized(self, header: str | None) -> bool:
        scheme, _, credentials = (header or "").partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip() == self.api_key
        if scheme.lower() == "basic":  # base64("<email>:<api_key>")
            try:
                email, _, key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return bool(email) and key == self.api_key
        return False

    @staticmethod
    def _route(method: str, path: str) -> tuple[tuple[str, str, str], list[int]]:
        matches = [(m, template, name, found) for pattern, m, template, name in _ROUTE_PATTERNS
                   if (found := pattern.fullmatch(path))]
        for route_method, template, name, found in matches:
            if route_method == method:
                return (method, template, name), [int(g) for g in found.groups()]
        if matches:
            raise _ApiError(405, f"{method} is not supported on {path}")
        raise _ApiError(404, "Not found")

    def _take_failure(self, method: str, path: str) -> dict | None:
        with self._lock:
            for failure in self._failures:
                if failure["method"] in (None, method) and failure["pattern"].search(path):
                    failure["times"] -= 1
                    if not failure["times"]:
                        self._failures.remove(failure)
                    return failure
        return None

    def _execute(self, route: tuple[str, str, str], ids: list[int], record: dict) -> tuple:
        """Validate the request against the swagger, then carry it out."""
        method, template, name = route
        problems = self.swagger.validate_query(method, template, record["query"])
        if problems:
            raise _ApiError(400, "; ".join(problems))
        definition = self.swagger.request_body_definition(method, template)
        data = self._json_body(record, definition) if definition else None
        with self._lock:
            status, payload = getattr(self, name)(record, data, *ids)
            if isinstance(payload, tuple):
                return status, *payload, None
            return status, json.dumps(payload).encode(), "application/json", None

    def _json_body(self, record: dict, definition: str):
        content_type = record["headers"].get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise _ApiError(415, f"Content-Type must be application/json, not {content_type or 'none'!r}")
        try:
            data = json.loads(record["body"].decode("utf-8"))
        except ValueError as exc:
            raise _ApiError(400, f"the body is not JSON: {exc}") from exc
        problems = self.swagger.validate(definition, data)
        if problems:
            raise _ApiError(400, "; ".join(problems))
        return data

    # -- routes (called with self._lock held) ------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    @staticmethod
    def _get(store: dict, key: int, what: str) -> dict:
        if key not in store:
            raise _ApiError(404, f"{what} {key} not found")
        return store[key]

    @staticmethod
    def _list(store: dict, record: dict, filters: tuple[str, ...]) -> dict:
        """One page of the ``store`` items that pass the query's filters, in easybill's list envelope."""
        query = record["query"]
        escaped = record["headers"].get("x-easybill-escape") == "true"
        items = list(store.values())
        for raw_name, values in query.items():
            name = raw_name.removesuffix("[]")
            if name in _PAGING:
                continue
            if name not in filters:
                raise _ApiError(501, f"the fake does not implement the filter {name!r}")
            if name in DATE_FILTERS and values[-1] != "null":
                first, _sep, last = values[-1].partition(",")
                try:
                    first, last = date.fromisoformat(first), date.fromisoformat(last or first)
                except ValueError as exc:
                    raise _ApiError(400, f"query {name}: {values[-1]!r} is not a day or a range of days") from exc
                items = [item for item in items if item.get(name)
                         and first <= date.fromisoformat(item[name][:10]) <= last]
                continue
            split = [re.split(r"(?<!\\),", v) if escaped else v.split(",") for v in values]
            wanted = {part.replace("\\,", ",") if escaped else part for parts in split for part in parts}
            items = [item for item in items if _text(item.get(name)) in wanted]
        limit = int(query.get("limit", [DEFAULT_LIMIT])[-1])
        page = int(query.get("page", [1])[-1])
        return {"page": page, "pages": max(1, math.ceil(len(items) / limit)), "limit": limit,
                "total": len(items), "items": items[(page - 1) * limit:page * limit]}

    def _list_customers(self, record: dict, data: None) -> tuple[int, dict]:
        return 200, self._list(self._customers, record, CUSTOMER_FILTERS)

    def _create_customer(self, record: dict, data: dict) -> tuple[int, dict]:
        kind = record["query"].get("type", ["CUSTOMER"])[-1]
        taken = {c.get("number") for c in self._customers.values()}
        if data.get("number") and data["number"] in taken:
            raise _ApiError(400, f"number: {data['number']!r} is already taken")
        now = datetime.now()
        customer = {"emails": [], "personal": False, "salutation": 0, **data,
                    "id": self._new_id(), "created_at": now.date().isoformat(),
                    "updated_at": now.strftime("%Y-%m-%d %H:%M:%S")}
        if not customer.get("number") and "CUSTOMER" in kind:
            while str(self._next_customer_number) in taken:
                self._next_customer_number += 1
            customer["number"] = str(self._next_customer_number)
            self._next_customer_number += 1
        if not customer.get("supplier_number") and "SUPPLIER" in kind:
            customer["supplier_number"] = f"S{customer['id']}"
        person = " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
        customer["display_name"] = customer.get("company_name") or person
        self._customers[customer["id"]] = customer
        return 201, customer

    def _get_customer(self, record: dict, data: None, customer_id: int) -> tuple[int, dict]:
        return 200, self._get(self._customers, customer_id, "customer")

    def _list_documents(self, record: dict, data: None) -> tuple[int, dict]:
        return 200, self._list(self._documents, record, DOCUMENT_FILTERS)

    def _create_document(self, record: dict, data: dict) -> tuple[int, dict]:
        if data.get("customer_id") is not None:
            self._get(self._customers, data["customer_id"], "customer_id: customer")
        now = datetime.now()
        document = {"type": "INVOICE", "currency": "EUR", "calc_vat_from": 0, "customer_id": None, "title": None,
                    "number": None, "document_date": now.date().isoformat(), "vat_option": None, "status": None,
                    **data, "id": self._new_id(), "is_draft": True, "attachment_ids": [], "cancel_id": None,
                    "paid_amount": 0, "paid_at": None, "created_at": now.strftime("%Y-%m-%d %H:%M:%S")}
        document["edited_at"] = document["created_at"]
        days = document.get("due_in_days", document.get("grace_period"))
        due = date.fromisoformat(document["document_date"]) + timedelta(days=days) if days is not None else None
        document["due_date"] = due.isoformat() if due else None
        vat_free = document["vat_option"] not in (None, "NULL")
        document["items"] = [self._position(item, number, document["calc_vat_from"] == 1, vat_free)
                             for number, item in enumerate(data.get("items", []), 1)]
        counted = [item for item in document["items"] if item["type"] == "POSITION"]
        document["amount_net"] = sum(item["total_price_net"] for item in counted)
        document["amount"] = sum(item["total_price_gross"] for item in counted)
        self._documents[document["id"]] = document
        return 201, document

    def _position(self, item: dict, number: int, from_gross: bool, vat_free: bool) -> dict:
        """A stored position with its read-only totals in cents (``round(quantity * single price)``, discounted)."""
        position = {"type": "POSITION", "quantity": 1, "vat_percent": 0, "single_price_net": None,
                    "discount": None, "discount_type": None, "position": number, **item, "id": self._new_id()}
        rate = 0 if vat_free else position["vat_percent"] / 100
        price = position.get("single_price_gross" if from_gross else "single_price_net") or 0
        total = position["quantity"] * price
        if position["discount_type"]:
            total = _DISCOUNTS[position["discount_type"]](total, position["quantity"], position["discount"] or 0)
        if position["type"] == "TEXT":
            net = gross = 0
        elif from_gross:
            gross = cents(total)
            net = cents(gross / (1 + rate))
        else:
            net = cents(total)
            gross = net + cents(net * rate)
        position.update(total_price_net=net, total_price_gross=gross, total_vat=gross - net)
        return position

    def _get_document(self, record: dict, data: None, document_id: int) -> tuple[int, dict]:
        return 200, self._get(self._documents, document_id, "document")

    def _finish_document(self, record: dict, data: None, document_id: int) -> tuple[int, dict]:
        """Finalise a draft: ``is_draft`` false and a number unless it has one. A finished document stays as is."""
        document = self._get(self._documents, document_id, "document")
        if document["is_draft"]:
            document["is_draft"] = False
            if not document["number"]:
                document["number"] = str(self._next_document_number)
                self._next_document_number += 1
            document["edited_at"] = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return 200, document

    def _delete_document(self, record: dict, data: None, document_id: int) -> tuple[int, tuple[bytes, str]]:
        self._get(self._documents, document_id, "document")
        del self._documents[document_id]
        return 204, (b"", "application/json")

    def _document_pdf(self, record: dict, data: None, document_id: int) -> tuple[int, tuple[bytes, str]]:
        """The document as a (tiny, valid) PDF naming its number; a draft's PDF says DRAFT."""
        document = self._get(self._documents, document_id, "document")
        text = f"easybill invoice {document['number'] or 'DRAFT'} ({document['id']})"
        return 200, (_tiny_pdf(text), "application/pdf")

    def _list_post_boxes(self, record: dict, data: None) -> tuple[int, dict]:
        return 200, self._list(self._post_boxes, record, POST_BOX_FILTERS)

    def _list_webhooks(self, record: dict, data: None) -> tuple[int, dict]:
        return 200, self._list(self._webhooks, record, ())

    def _create_webhook(self, record: dict, data: dict) -> tuple[int, dict]:
        webhook = {"is_active": False, **data, "id": self._new_id(), "last_response": {}}
        self._webhooks[webhook["id"]] = webhook
        return 201, webhook

    def _get_webhook(self, record: dict, data: None, webhook_id: int) -> tuple[int, dict]:
        return 200, self._get(self._webhooks, webhook_id, "webhook")

    def _update_webhook(self, record: dict, data: dict, webhook_id: int) -> tuple[int, dict]:
        self._get(self._webhooks, webhook_id, "webhook").update(data)
        return 200, self._webhooks[webhook_id]

    def _delete_webhook(self, record: dict, data: None, webhook_id: int) -> tuple[int, tuple[bytes, str]]:
        self._get(self._webhooks, webhook_id, "webhook")
        del self._webhooks[webhook_id]
        return 204, (b"", "application/json")

    # -- what the accountant does in easybill (driven by a test) -----------------------------------------

    @property
    def webhooks(self) -> dict[int, dict]:
        with self._lock:
            return copy.deepcopy(self._webhooks)

    @property
    def post_boxes(self) -> dict[int, dict]:
        with self._lock:
            return copy.deepcopy(self._post_boxes)

    def _changed(self, document: dict, event: str) -> None:
        """A document changed (lock held): ``edited_at`` moves, the document must still be a valid answer."""
        # easybill's times are Europe/Berlin ("Please use the timezone Europe/Berlin")
        document["edited_at"] = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M:%S")
        # null where the swagger types a value: "Date or datetime can be null because the attributes have been
        # added later" (the swagger's introduction); easybill answers nulls for unset fields
        problems = self.swagger.validate_answer("Document", {k: v for k, v in document.items() if v is not None})
        if problems:
            raise AssertionError(f"the fake made an invalid Document: {'; '.join(problems)}")
        self._pending_events.append((event, {"id": document["id"], "type": document["type"]}))

    def _announce(self) -> None:
        """Call the registered webhooks with the changes just made (outside the lock: the client may call back)."""
        with self._lock:
            events, self._pending_events = self._pending_events, []
            hooks = [dict(h) for h in self._webhooks.values() if h.get("is_active")]
        for event, data in events:
            for hook in hooks:
                if event not in hook.get("events", ()):
                    continue
                body = json.dumps({"event": event, "data": data}).encode()
                status = 0
                try:
                    request = urllib.request.Request(hook["url"], data=body, method="POST",
                                                     headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        status = answer.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except OSError:
                    status = 0
                with self._lock:
                    self.webhook_calls.append({"url": hook["url"], "event": event, "body": body, "status": status})

    def complete(self, document_id: int) -> dict:
        """The accountant finalises the draft (as PUT /documents/{id}/done)."""
        with self._lock:
            self._finish_document({}, None, document_id)
            self._changed(self._documents[document_id], "document.completed")
            document = copy.deepcopy(self._documents[document_id])
        self._announce()
        return document

    def add_payment(self, document_id: int, amount: int | None = None, day: str | None = None) -> dict:
        """A payment of ``amount`` cents (None: what is still open) on ``day``; ``paid_at`` once fully paid."""
        with self._lock:
            document = self._get(self._documents, document_id, "document")
            if document["is_draft"]:
                raise ValueError("a draft cannot be paid")
            open_ = document["amount"] - document["paid_amount"]
            document["paid_amount"] += open_ if amount is None else int(amount)
            if document["paid_amount"] >= document["amount"]:
                document["paid_at"] = day or date.today().isoformat()
            self._changed(document, "document.payment_add")
            document = copy.deepcopy(document)
        self._announce()
        return document

    def send_by_email(self, document_id: int, status: str = "OK") -> dict:
        """easybill e-mails the document: a post-box entry (``status`` OK: sent; WAITING: not yet)."""
        with self._lock:
            document = self._get(self._documents, document_id, "document")
            now = datetime.now()
            box = {"id": self._new_id(), "document_id": document_id, "to": "kunde@example.com",
                   "from": "rechnung@example.com", "subject": f"Rechnung {document['number']}", "message": "",
                   "date": now.date().isoformat(), "created_at": now.strftime("%Y-%m-%d %H:%M:%S"),
                   "processed_at": now.strftime("%Y-%m-%d %H:%M:%S") if status == "OK" else None,
                   "send_by_self": False, "send_with_attachment": True, "type": "EMAIL", "status": status,
                   # no post_send_type: its description says "" for an e-mail, its enum refuses "" (left out)
                   "status_msg": None, "document_file_type": None, "login_id": 1}
            problems = self.swagger.validate_answer("PostBox", {k: v for k, v in box.items()
                                                                if v is not None or k == "document_file_type"})
            if problems:
                raise AssertionError(f"the fake made an invalid PostBox: {'; '.join(problems)}")
            self._post_boxes[box["id"]] = box
            document["last_postbox_id"] = box["id"]
            self._changed(document, "document.update")
            if status == "OK":
                self._pending_events.append(("postbox.sent", {"id": box["id"], "document_id": document_id}))
        self._announce()
        return box

    def cancel(self, document_id: int) -> dict:
        """The invoice is cancelled: a STORNO document, whose id becomes the invoice's ``cancel_id``."""
        with self._lock:
            document = self._get(self._documents, document_id, "document")
            if document["is_draft"]:
                raise ValueError("a draft is deleted, not cancelled")
            storno = {**copy.deepcopy(document), "id": self._new_id(), "type": "STORNO", "cancel_id": None,
                      "number": f"S{document['number']}", "paid_amount": 0, "paid_at": None, "attachment_ids": []}
            self._documents[storno["id"]] = storno
            document["cancel_id"] = storno["id"]
            self._changed(document, "document.update")
            document = copy.deepcopy(document)
        self._announce()
        return document

    def delete(self, document_id: int) -> None:
        """The accountant deletes the draft (easybill deletes drafts only)."""
        with self._lock:
            document = self._get(self._documents, document_id, "document")
            if not document["is_draft"]:
                raise ValueError("a final document is cancelled, not deleted")
            del self._documents[document_id]
            self._pending_events.append(("document.deleted", {"id": document_id, "type": document["type"]}))
        self._announce()

    def _create_attachment(self, record: dict, data: None) -> tuple[int, dict]:
        try:
            fields = parse_multipart(record["headers"].get("content-type", ""), record["body"])
        except ValueError as exc:
            raise _ApiError(400, str(exc)) from exc
        if "file" not in fields:
            raise _ApiError(400, "file: is required (a multipart/form-data field)")
        file_name, content, content_type = fields["file"]
        file_name = file_name or "file"
        attachment = {"id": self._new_id(), "file_name": file_name, "size": len(content),
                      "created_at": date.today().isoformat(), **dict.fromkeys(CONTEXTS)}
        self._attachments[attachment["id"]] = attachment
        guessed = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        self._contents[attachment["id"]] = (content, content_type or guessed)
        return 201, attachment

    def _get_attachment(self, record: dict, data: None, attachment_id: int) -> tuple[int, dict]:
        return 200, self._get(self._attachments, attachment_id, "attachment")

    def _update_attachment(self, record: dict, data: dict, attachment_id: int) -> tuple[int, dict]:
        """Set the attachment's context: at most one of customer_id, document_id, project_id (the fake has no
        projects), in the request and on the attachment afterwards."""
        attachment = self._get(self._attachments, attachment_id, "attachment")
        stores = {"customer_id": self._customers, "document_id": self._documents, "project_id": {}}
        sent = [key for key in CONTEXTS if data.get(key) is not None]
        if len(sent) > 1:
            raise _ApiError(400, f"only one context per attachment, not {' and '.join(sent)}")
        for key in sent:
            self._get(stores[key], data[key], f"{key}: {key.removesuffix('_id')}")
        merged = {**attachment, **data}
        both = [key for key in CONTEXTS if merged[key] is not None]
        if len(both) > 1:
            raise _ApiError(400, f"only one context per attachment: send {both[0]} null to set {sent[0]}")
        old, new = attachment["document_id"], merged["document_id"]
        if old != new and old in self._documents:
            self._documents[old]["attachment_ids"].remove(attachment_id)
        if old != new and new is not None:
            self._documents[new]["attachment_ids"].append(attachment_id)
        attachment.update(data)
        return 200, attachment

    def _attachment_content(self, record: dict, data: None, attachment_id: int) -> tuple[int, tuple[bytes, str]]:
        self._get(self._attachments, attachment_id, "attachment")
        return 200, self._contents[attachment_id]


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (valid: cross-reference offsets computed)."""
    text = text.replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per window (default: no limit)")
    parser.add_argument("--rate-window", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args(argv)
    fake = FakeEasybill(args.host, args.port, api_key=args.api_key, rate_limit=args.rate_limit,
                        rate_window=args.rate_window)
    return serve_until_signalled(fake)


if __name__ == "__main__":
    sys.exit(main())
