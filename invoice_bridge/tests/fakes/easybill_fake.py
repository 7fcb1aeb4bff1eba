"""Loopback fake of easybill's REST API v1: customers, documents, attachments, checked against its swagger.

Every query string and JSON body is validated against ``../data/easybill_swagger-1.92.3.json``: a malformed
request gets 400 ``{"code": 400, "message": "<json path>: <problem>; ..."}`` and changes nothing. Errors all take
the shape ``{"code": <HTTP status>, "message": ...}``. Used by tests and the offline demo. Run standalone with::

    python3 tools/fakes.py easybill_fake [--port 0] [--rate-limit 60] [--api-key demo-easybill-key]

The API lives below ``/rest/v1`` (see :attr:`FakeEasybill.api_url`). Control endpoints: ``GET /_fake/state``,
``POST /_fake/fail`` (a JSON object of :meth:`FakeEasybill.fail_next`'s arguments), ``POST /_fake/reset``.
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
from collections import deque
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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
    ("PUT", "/documents/{id}/done", "_finish_document"),
    ("POST", "/attachments", "_create_attachment"),
    ("GET", "/attachments/{id}", "_get_attachment"),
    ("PUT", "/attachments/{id}", "_update_attachment"),
    ("GET", "/attachments/{id}/content", "_attachment_content"),
)
_ROUTE_PATTERNS = [(re.compile(re.sub(r"\{\w+\}", r"(\\d+)", template)), method, template, name)
                   for method, template, name in ROUTES]
#: the list filters the fake implements (exact match on the field, comma lists or ``name[]``)
CUSTOMER_FILTERS = ("number", "country", "zip_code", "first_name", "last_name", "company_name")
DOCUMENT_FILTERS = ("customer_id", "type", "is_draft", "title", "number")
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
