"""Loopback fake of Odoo's IAP Extract API, generation 1 (version 120), as documented.

JSON-RPC 2.0 over POST on ``/iap/invoice_extract/{parse,get_results,validate}``; every protocol answer is
HTTP 200 with ``result.status_code`` (never a JSON-RPC error); a malformed JSON-RPC request is HTTP 400.
Used by tests, benchmarks and the offline demo. Run standalone with::

    python3 tools/fakes.py extract_fake [--port 0] [--not-ready-polls 1] [--credit TOKEN=N ...]

Control endpoints: ``GET /_fake/state``, ``POST /_fake/config``, ``POST /_fake/reset``.

Generation 2 (version 123) lives alongside: ``/api/extract/invoice/2/{parse,get_result,validate}`` with a string
``result.status`` and a random hex ``document_token``; a parse carrying ``webhook_url`` gets an empty POST to
``<webhook_url>/<document_token>`` (see :meth:`IapExtractFake.callbacks`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import json
import math
import secrets
import sys
import threading
import time
from datetime import date, datetime

from .core_loopback import CONTROL_PREFIX, LoopbackHandler, LoopbackServer, serve_until_signalled

VERSION = 120
INTEGRATION_TOKEN = "integration_token"
FIRST_DOCUMENT_ID = 1000

ROUTES = {
    "/iap/invoice_extract/parse": "parse",
    "/iap/invoice_extract/get_results": "get_results",
    "/iap/invoice_extract/validate": "validate",
    # generation 2
    "/api/extract/invoice/2/parse": "parse_v2",
    "/api/extract/invoice/2/get_result": "get_result_v2",
    "/api/extract/invoice/2/validate": "validate_v2",
}
VERSION_V2 = 123
CALLBACK_DELAY = 0.2  # seconds before the webhook callback when documents are not ready at once

SUCCESS, NOT_READY, ERROR, NO_CREDIT, UNSUPPORTED_FORMAT, MAINTENANCE, WRONG_VALIDATION_FORMAT = (
    0, 1, 2, 3, 6, 9, 12)
STATUS_MSG = {
    SUCCESS: "Success",
    NOT_READY: "Not ready",
    ERROR: "An error occurred",
    NO_CREDIT: "You don't have enough credit",
    UNSUPPORTED_FORMAT: "Unsupported file format",
    MAINTENANCE: "Server is currently under maintenance. Please retry later",
    WRONG_VALIDATION_FORMAT: "Wrong validation format",
}

#: magic bytes -> format name (the documented extensions: pdf, png, jpg, bmp)
MAGIC = (
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"BM", "bmp"),
)

#: the plain result every document gets unless ``set_result`` says otherwise (the sample bill's content)
DEFAULT_RESULT = {
    "supplier": "Wood Corner",
    "VAT_Number": "BE0477472701",
    "country": "BE",
    "currency": "EUR",
    "date": "2026-11-02 00:00:00",
    "due_date": "2026-12-02 00:00:00",
    "invoice_id": "WC-2026-117",
    "subtotal": 100.0,
    "total": 121.0,
    "global_taxes": [21.0],
    "global_taxes_amount": 21.0,
    "SWIFT_code": {
        "bic": "GEBABEBB",
        "name": "BNP Paribas Fortis",
        "country_code": "BE",
        "city": "Brussels",
        "verified_bic": True,
    },
    "iban": "BE68539007547034",
    "invoice_lines": [
        {
            "description": "Desk",
            "quantity": 1.0,
            "unit_price": 100.0,
            "subtotal": 100.0,
            "total": 121.0,
            "taxes": [21.0],
            "discount": 0.0,
            "product": "",
            "unit": "",
        }
    ],
}

#: the features seed 001 documents (generation 1): a generation-1 answer carries these only. ``iban`` is none of
#: them (generation 2 sends it, as Odoo's own client reads it): the fake answers it on generation 2 only
GENERATION_1_FEATURES = frozenset({
    "SWIFT_code", "VAT_Number", "country", "currency", "date", "due_date", "global_taxes", "global_taxes_amount",
    "invoice_id", "subtotal", "total", "supplier", "invoice_lines"})
_ENVELOPE_KEYS = frozenset({"jsonrpc", "method", "params", "id"})
_RAW_FEATURE_KEYS = frozenset({"selected_value", "selected_values", "words"})
_TAX_TYPES = ("fixed", "percent")
_GLOBAL_TAX_KEYS = {"amount": "number", "tax_amount": "number", "tax_amount_type": "type",
                    "tax_price_include": "bool"}
_LINE_TAX_KEYS = {"amount": "number", "type": "type", "price_include": "bool"}
_LINE_KEYS = {"description": "str", "quantity": "number", "unit_price": "number", "product": "str",
              "taxes_amount": "number", "taxes": "taxes", "subtotal": "number", "total": "number"}


class _BadRequest(Exception):
    """The request is not a well-formed JSON-RPC 2.0 call: HTTP 400."""


class _FormatError(Exception):
    """A validation payload does not follow the documented format: status_code 12."""


class _IapHandler(LoopbackHandler):
    server_version = "FakeIapExtract"

    def reply_plain(self, status: int, text: str = "") -> bool:
        """An answer that is not the protocol (injected transport failure): plain text, maybe empty."""
        return self.send_whole(status, text.encode(), "text/plain; charset=utf-8")


# ------------------------------------------------------------------------------------------ wire format
def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _content(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, dict):  # SWIFT_code: the documented content is a JSON-encoded string
        return json.dumps(value)
    if _is_number(value):
        return float(value)
    return value


def _candidate(value, slot: int, page: int = 0, **extra) -> dict:
    """A candidate at a stable, plausible place on the page (coords relative to the page, 0..1)."""
    cy = round(0.08 + (slot % 18) * 0.05, 4)
    cx = 0.7 if slot % 2 else 0.25
    candidate = {"content": _content(value), "coords": [cx, cy, 0.18, 0.018, 0.0], "page": page}
    candidate.update(extra)
    return candidate


def _feature(value, slot: int):
    if isinstance(value, dict) and _RAW_FEATURE_KEYS & value.keys():
        return copy.deepcopy(value)  # already on the wire format: passed through as is
    selected = _candidate(value, slot)
    return {"selected_value": selected, "words": [dict(selected)]}


def _tax_feature(value, slot: int):
    if isinstance(value, dict) and _RAW_FEATURE_KEYS & value.keys():
        return copy.deepcopy(value)
    values = value if isinstance(value, list | tuple) else [value]
    candidates = [_candidate(v, slot + i, amount_type="percent") for i, v in enumerate(values)]
    return {"selected_values": candidates, "words": [dict(c) for c in candidates]}


def _line_tax_feature(value, slot: int):
    """A line's ``taxes``: seed 001 gives every line feature as a feature_result, ``taxes`` included (one
    ``selected_value``; only ``global_taxes`` has ``selected_values``). A line with several taxes: the first is
    selected, every one is among the ``words``."""
    if isinstance(value, dict) and _RAW_FEATURE_KEYS & value.keys():
        return copy.deepcopy(value)
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        return None
    candidates = [_candidate(v, slot + i, amount_type="percent") for i, v in enumerate(values)]
    return {"selected_value": candidates[0], "words": [dict(c) for c in candidates]}


def to_wire(plain: dict) -> dict:
    """Plain values -> one ``results`` item ({feature: feature_result}); None values are left out."""
    features = {}
    for slot, (name, value) in enumerate(plain.items()):
        if value is None:
            continue
        if name == "global_taxes":
            features[name] = _tax_feature(value, slot)
        elif name == "invoice_lines":
            lines = []
            for number, line in enumerate(value):
                wire_line = {}
                for column, (key, item) in enumerate(line.items()):
                    if item is None:
                        continue
                    line_slot = 20 + number * 3 + column
                    make = _line_tax_feature if key == "taxes" else _feature
                    feature = make(item, line_slot)
                    if feature is not None:
                        wire_line[key] = feature
                lines.append(wire_line)
            features[name] = lines
        else:
            features[name] = _feature(value, slot)
    return features


# ------------------------------------------------------------------------------------ validate's format
def _check_scalar(value, kind: str, where: str) -> None:
    if kind == "number" and not _is_number(value):
        raise _FormatError(f"{where} must be a number")
    if kind == "str" and not isinstance(value, str):
        raise _FormatError(f"{where} must be a string")
    if kind == "bool" and not isinstance(value, bool):
        raise _FormatError(f"{where} must be a boolean")
    if kind == "type" and value not in _TAX_TYPES:
        raise _FormatError(f"{where} must be 'fixed' or 'percent'")


def _check_object(value, spec: dict, where: str) -> None:
    if not isinstance(value, dict):
        raise _FormatError(f"{where} must be an object")
    missing = [key for key in spec if key not in value]
    if missing:
        raise _FormatError(f"{where}.{missing[0]} is missing")
    unknown = sorted(set(value) - set(spec))
    if unknown:
        raise _FormatError(f"{where}.{unknown[0]} is not a documented key")
    for key, kind in spec.items():
        if kind == "taxes":
            _check_list(value[key], _LINE_TAX_KEYS, f"{where}.{key}")
        else:
            _check_scalar(value[key], kind, f"{where}.{key}")


def _check_list(value, spec: dict, where: str) -> None:
    if not isinstance(value, list):
        raise _FormatError(f"{where} must be a list")
    for index, item in enumerate(value):
        _check_object(item, spec, f"{where}[{index}]")


def _only_key(value, key: str, where: str):
    if not isinstance(value, dict):
        raise _FormatError(f"{where} must be an object {{{key!r}: ...}}")
    if key not in value:
        raise _FormatError(f"{where}.{key} is missing")
    unknown = sorted(set(value) - {key})
    if unknown:
        raise _FormatError(f"{where}.{unknown[0]} is not a documented key")
    return value[key]


def check_validation_values(values) -> None:
    """Raise _FormatError naming the first field that does not follow the documented validation format."""
    if not isinstance(values, dict):
        raise _FormatError("values must be an object")
    for name, validation in values.items():
        where = f"values.{name}"
        if name != "merged_lines" and name not in GENERATION_1_FEATURES:
            raise _FormatError(f"{where} is not a documented feature")
        if name == "merged_lines":
            _check_scalar(validation, "bool", where)
        elif name == "global_taxes":
            _check_list(_only_key(validation, "content", where), _GLOBAL_TAX_KEYS, f"{where}.content")
        elif name == "invoice_lines":
            _check_list(_only_key(validation, "lines", where), _LINE_KEYS, f"{where}.lines")
        else:
            content = _only_key(validation, "content", where)
            if not (isinstance(content, str) or _is_number(content)):
                raise _FormatError(f"{where}.content must be a string or a number")


def detect_format(data: bytes) -> str | None:
    for magic, name in MAGIC:
        if data.startswith(magic):
            return name
    return None


def _version_message(params: dict) -> str:
    return f"unsupported version {params.get('version')!r} (this service speaks {VERSION})"


def _status(code: int, message: str | None = None, **extra) -> dict:
    msg = STATUS_MSG[code] if message is None else f"{STATUS_MSG[code]}: {message}"
    return {"status_code": code, "status_msg": msg, **extra}


def _version_message_v2(params: dict) -> str:
    return f"unsupported version {params.get('version')!r} (this service speaks {VERSION_V2})"


def _status_v2(status: str, message: str | None = None) -> dict:
    """A gen-2 answer: ``{"status": ...}``, with a ``status_msg`` when there is something to say."""
    return {"status": status} if message is None else {"status": status, "status_msg": message}


# --------------------------------------------------------------------------------------------- the fake
class IapExtractFake(LoopbackServer):
    """Fake IAP Extract service on loopback: documents, credits, polls, validations; failure injection."""

    handler_class = _IapHandler
    thread_name = "iap-extract-fake"
    poll_interval = 0.01  # a prompt stop() keeps test teardown fast

    def __init__(self, host: str = "127.0.0.1", port: int = 0, not_ready_polls: int = 1,
                 callback_delay: float = CALLBACK_DELAY):
        super().__init__(host, port)
        #: gen 2: seconds between a parse's answer and its webhook callback when ``not_ready_polls`` > 0
        self.callback_delay = float(callback_delay)
        self._lock = threading.RLock()
        self._next_id = FIRST_DOCUMENT_ID
        self._initial_not_ready_polls = int(not_ready_polls)
        self._clear()

    def _clear(self) -> None:
        with self._lock:
            self._not_ready_polls = self._initial_not_ready_polls
            self._maintenance = False
            self._fail_left = 0
            self._fail = (503, "")
            self._delay = 0.0
            self._delay_left: int | None = None
            self._credits: dict[str, int] = {}
            self._billed: dict[str, int] = {}
            self._results: dict = {"default": copy.deepcopy(DEFAULT_RESULT)}
            self._failed_documents: dict[int, tuple[int, str | None]] = {}
            self._documents: dict[int, dict] = {}
            self._requests: list[dict] = []
            self._validations: dict[int, dict] = {}
            self._validation_attempts: list[dict] = []
            self._callbacks: list[tuple[str, int | str]] = []

    # -- configuration -----------------------------------------------------------------------------------

    def set_credit(self, token: str, credits: int | None) -> None:
        """Credits left on ``token`` (None: unlimited, the default). A successful parse costs one."""
        with self._lock:
            if credits is None:
                self._credits.pop(token, None)
            else:
                self._credits[token] = int(credits)

    def credit(self, token: str) -> int | None:
        with self._lock:
            return self._credits.get(token)

    def set_not_ready_polls(self, polls: int) -> None:
        """How many get_results polls of a document answer "Not ready" before its result."""
        with self._lock:
            self._not_ready_polls = max(0, int(polls))

    def set_result(self, document_id, plain: dict | None) -> None:
        """Plain feature values for one document id, or ``"default"``; None forgets a document's own result.

        Values are plain (``{"total": 121.0, "global_taxes": [21.0], "SWIFT_code": {...}, ...}``) and put on
        the documented wire format when answered; a value that is already a feature_result dict is passed
        through as is; a None value leaves the feature out."""
        key = "default" if document_id == "default" else self._key(document_id)
        with self._lock:
            if plain is None:
                if key == "default":
                    self._results["default"] = copy.deepcopy(DEFAULT_RESULT)
                else:
                    self._results.pop(key, None)
            else:
                self._results[key] = copy.deepcopy(dict(plain))

    def fail_document(self, document_id: int, status_code: int = ERROR, message: str | None = None) -> None:
        """Once ready, get_results answers ``status_code`` (2 by default) for this document, not results.

        Also takes a gen-2 ``document_token``: get_result then answers ``{"status": "error_internal"}`` (or
        ``status_code`` itself when it is a gen-2 status string such as ``"error_password_protected"``)."""
        with self._lock:
            code = status_code if isinstance(status_code, str) else int(status_code)
            self._failed_documents[self._key(document_id)] = (code, message)

    def _key(self, document_id):
        """A gen-1 document id (int, or its digits) or a gen-2 document token (str) as stored."""
        if isinstance(document_id, str):
            with self._lock:
                if document_id in self._documents:
                    return document_id
            try:
                return int(document_id)
            except ValueError:
                return document_id
        return int(document_id)

    def maintenance(self, on: bool = True) -> None:
        """Every route answers status_code 9 (get_results: for every requested id)."""
        with self._lock:
            self._maintenance = bool(on)

    def fail_next(self, count: int, http_status: int = 503, body: str = "") -> None:
        """The next ``count`` API requests get HTTP ``http_status`` with a plain (default: empty) body and
        change nothing."""
        with self._lock:
            self._fail_left = int(count)
            self._fail = (int(http_status), str(body))

    def delay(self, seconds: float, count: int | None = None) -> None:
        """Answer API requests ``seconds`` late (all of them, or the next ``count``). The request is processed
        first and the answer held back, as a slow server would: a client that times out has still parsed,
        polled or validated."""
        with self._lock:
            self._delay = max(0.0, float(seconds or 0))
            self._delay_left = None if count is None else int(count)

    def reset(self) -> None:
        """Forget documents, calls, validations, credits, results and injected behaviour. Document ids keep
        increasing, so an id handed out before a reset never names another document."""
        self._clear()

    # -- what happened -----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict]:
        """Every API request: {"route", "params" (None if malformed), "id", "http_status", "result"}."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def calls(self) -> list[tuple[str, dict]]:
        """(route, params) of every well-formed JSON-RPC request, injected failures included."""
        with self._lock:
            return [(r["route"], copy.deepcopy(r["params"]))
                    for r in self._requests if r["params"] is not None]

    def count(self, route: str | None = None) -> int:
        """HTTP calls with a well-formed JSON-RPC body to ``route`` ("get_results" or its path; None: all)."""
        route = ROUTES.get(route, route)
        with self._lock:
            return sum(1 for r in self._requests
                       if r["params"] is not None and (route is None or r["route"] == route))

    @property
    def malformed(self) -> list[dict]:
        """API requests answered HTTP 400."""
        with self._lock:
            return [copy.deepcopy(r) for r in self._requests if r["http_status"] == 400]

    @property
    def validations(self) -> dict[int, dict]:
        """document id -> the values of its (single) accepted validation."""
        with self._lock:
            return copy.deepcopy(self._validations)

    @property
    def validation_attempts(self) -> list[dict]:
        """Every validate call answered by the protocol: {"document_id", "values", "status_code"}."""
        with self._lock:
            return copy.deepcopy(self._validation_attempts)

    @property
    def duplicate_validations(self) -> list[int]:
        """Document ids a client tried to validate again after a successful validation."""
        with self._lock:
            return [a["document_id"] for a in self._validation_attempts if a.get("duplicate")]

    @property
    def documents(self) -> dict[int, dict]:
        """document id -> {"account_token", "format", "size", "user_infos", "polls", "test_mode",
        "validated"}."""
        with self._lock:
            return copy.deepcopy(self._documents)

    @property
    def callbacks(self) -> list[tuple[str, int | str]]:
        """Gen-2 webhook callbacks attempted: (url, HTTP status) or (url, error text)."""
        with self._lock:
            return list(self._callbacks)

    @property
    def billed(self) -> dict[str, int]:
        """account token -> credits taken."""
        with self._lock:
            return dict(self._billed)

    def state(self) -> dict:
        """What ``GET /_fake/state`` answers (JSON-friendly: document ids as strings)."""
        with self._lock:
            per_route = dict.fromkeys(ROUTES.values(), 0)
            for record in self._requests:
                if record["params"] is not None:
                    per_route[record["route"]] += 1
            return {
                "calls": {k: v for k, v in per_route.items() if not k.endswith("_v2")},
                "calls_v2": {k: v for k, v in per_route.items() if k.endswith("_v2")},
                "malformed": sum(1 for r in self._requests if r["http_status"] == 400),
                "get_results_batches": [len(r["params"].get("documents_ids") or [])
                                        for r in self._requests
                                        if r["route"] == "get_results" and r["params"] is not None
                                        and isinstance(r["params"].get("documents_ids"), list)],
                "validations": {str(k): v for k, v in self._validations.items()},
                "validation_attempts": copy.deepcopy(self._validation_attempts),
                "credits": dict(self._credits),
                "billed": dict(self._billed),
                "documents": {str(k): dict(v) for k, v in self._documents.items()},
                "maintenance": self._maintenance,
                "not_ready_polls": self._not_ready_polls,
                "next_document_id": self._next_id,
                "callbacks": [list(c) for c in self._callbacks],
            }

    # -- request handling (handler threads) --------------------------------------------------------------

    def _on_get(self, handler: _IapHandler) -> None:
        path = handler.path.split("?", 1)[0]
        if path == CONTROL_PREFIX + "state":
            handler.reply_json(200, self.state())
        elif path.startswith(CONTROL_PREFIX):
            handler.reply_json(404, {"error": "unknown control path"})
        elif path in ROUTES:
            handler.reply_json(405, {"error": "JSON-RPC routes take POST"})
        else:
            handler.reply_json(404, {"error": "not found"})

    def _on_request(self, handler: _IapHandler) -> None:
        body = handler.read_body_or_400()
        if body is None:
            return
        path = handler.path.split("?", 1)[0]
        if path.startswith(CONTROL_PREFIX):
            self._on_control(handler, path, body)
            return
        route = ROUTES.get(path)
        if route is None:
            handler.reply_json(404, {"error": "not found"})
            return
        if handler.command != "POST":
            handler.reply_json(405, {"error": "JSON-RPC routes take POST"})
            return
        try:
            request = self._parse_envelope(handler, body)
            error = None
        except _BadRequest as exc:
            request, error = None, str(exc)
        record = {"route": route, "params": request["params"] if request else None,
                  "id": request["id"] if request else None, "http_status": 200, "result": None}
        with self._lock:
            injected = self._fail_left > 0
            if injected:
                self._fail_left -= 1
                record["http_status"], fail_body = self._fail
            elif error is not None:
                record["http_status"] = 400
                record["error"] = error
            else:
                record["result"] = getattr(self, "_" + route)(request["params"])
            delay = self._take_delay()
            self._requests.append(record)  # recorded before answering: a client with its answer finds it
        if delay:
            time.sleep(delay)
        if injected:
            handler.reply_plain(record["http_status"], fail_body)
        elif error is not None:
            handler.reply_json(400, {"error": error})
        else:
            handler.reply_json(200, {"jsonrpc": "2.0", "id": request["id"], "result": record["result"]})
            self._after_reply(record)

    def _take_delay(self) -> float:
        if not self._delay:
            return 0.0
        if self._delay_left is not None:
            if self._delay_left <= 0:
                return 0.0
            self._delay_left -= 1
        return self._delay

    @staticmethod
    def _parse_envelope(handler: _IapHandler, body: bytes) -> dict:
        content_type = (handler.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise _BadRequest(f"Content-Type must be application/json, not {content_type or 'none'!r}")
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _BadRequest(f"body is not JSON: {exc}") from exc
        if not isinstance(request, dict):
            raise _BadRequest("body must be a JSON-RPC request object")
        unknown = sorted(set(request) - _ENVELOPE_KEYS)
        if unknown:
            raise _BadRequest(f"unexpected member {unknown[0]!r}")
        if request.get("jsonrpc") != "2.0":
            raise _BadRequest('jsonrpc must be "2.0"')
        if request.get("method") != "call":
            raise _BadRequest('method must be "call"')
        request_id = request.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, str | int):
            raise _BadRequest("id is required (a string or an integer)")
        if not isinstance(request.get("params"), dict):
            raise _BadRequest("params must be an object")
        return request

    # -- routes (called with self._lock held) ------------------------------------------------------------

    def _parse(self, params: dict) -> dict:
        if self._maintenance:
            return _status(MAINTENANCE)
        token = params.get("account_token")
        if not isinstance(token, str) or not token:
            return _status(ERROR, "account_token is required")
        if params.get("version") != VERSION:
            return _status(ERROR, _version_message(params))
        documents = params.get("documents")
        if not isinstance(documents, list) or not documents or not all(isinstance(d, str) for d in documents):
            return _status(ERROR, "documents must be a non-empty list of base64 strings")
        user_infos = params.get("user_infos", {})
        if user_infos is None:
            user_infos = {}
        if not isinstance(user_infos, dict):
            return _status(ERROR, "user_infos must be an object")
        decoded = []
        for index, document in enumerate(documents):
            try:
                decoded.append(base64.b64decode(document, validate=True))
            except (binascii.Error, ValueError):
                return _status(ERROR, f"documents[{index}] is not valid base64")
        # Documented: the first PDF is used; without one, the first document.
        data = next((d for d in decoded if detect_format(d) == "pdf"), decoded[0])
        kind = detect_format(data)
        if kind is None:
            return _status(UNSUPPORTED_FORMAT)
        if not self._charge(token):
            return _status(NO_CREDIT)
        document_id = self._next_id
        self._next_id += 1
        self._record_document(document_id, token, kind, data, user_infos)
        return _status(SUCCESS, document_id=document_id)

    def _charge(self, token: str) -> bool:
        """Take one credit from ``token`` (never from the integration token); False when none is left."""
        if token == INTEGRATION_TOKEN:
            return True
        left = self._credits.get(token)
        if left is not None:
            if left <= 0:
                return False
            self._credits[token] = left - 1
        self._billed[token] = self._billed.get(token, 0) + 1
        return True

    def _record_document(self, key, token: str, kind: str, data: bytes, user_infos: dict, **extra) -> None:
        self._documents[key] = {
            "account_token": token,
            "format": kind,
            "size": len(data),
            "user_infos": copy.deepcopy(user_infos),
            "polls": 0,
            "test_mode": token == INTEGRATION_TOKEN,
            "validated": False,
            **extra,
        }

    def _get_results(self, params: dict) -> dict:
        ids = params.get("documents_ids")
        if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            # No usable id to key an answer with: the status comes alone.
            code = MAINTENANCE if self._maintenance else ERROR
            return _status(code, "documents_ids must be a list of integers")
        if self._maintenance:
            return {str(i): _status(MAINTENANCE) for i in ids}
        if params.get("version") != VERSION:
            return {str(i): _status(ERROR, _version_message(params)) for i in ids}
        answer = {}
        for document_id in dict.fromkeys(ids):
            answer[str(document_id)] = self._result_of(document_id)
        return answer

    def _result_of(self, document_id: int) -> dict:
        document = self._documents.get(document_id)
        if document is None:
            return _status(ERROR, f"document {document_id} not found")
        document["polls"] += 1
        if document["polls"] <= self._not_ready_polls:
            return _status(NOT_READY)
        if document_id in self._failed_documents:
            code, message = self._failed_documents[document_id]
            return _status(code, message) if code in STATUS_MSG else {"status_code": code,
                                                                      "status_msg": message or "Error"}
        plain = self._results.get(document_id, self._results["default"])
        return _status(SUCCESS, results=[to_wire({k: v for k, v in plain.items() if k in GENERATION_1_FEATURES})])

    def _validate(self, params: dict) -> dict:
        if self._maintenance:
            return _status(MAINTENANCE)
        document_id = params.get("document_id")
        values = params.get("values")
        attempt = {"document_id": document_id, "values": copy.deepcopy(values)}
        self._validation_attempts.append(attempt)
        if isinstance(document_id, bool) or not isinstance(document_id, int):
            result = _status(ERROR, "document_id must be an integer")
        elif document_id not in self._documents:
            result = _status(ERROR, f"document {document_id} not found")
        elif document_id in self._validations:
            attempt["duplicate"] = True
            result = _status(ERROR, f"document {document_id} is already validated")
        else:
            try:
                check_validation_values(values)
            except _FormatError as exc:
                result = _status(WRONG_VALIDATION_FORMAT, str(exc))
            else:
                self._validations[document_id] = copy.deepcopy(values)
                self._documents[document_id]["validated"] = True
                result = _status(SUCCESS)
        attempt["status_code"] = result["status_code"]
        return result

    # -- generation 2 routes (called with self._lock held) ------------------------------------------------

    def _parse_v2(self, params: dict) -> dict:
        if self._maintenance:
            return {"status": "error_maintenance"}
        token = params.get("account_token")
        if not isinstance(token, str) or not token:
            return _status_v2("error_internal", "account_token is required")
        if params.get("version") != VERSION_V2:
            return _status_v2("error_internal", _version_message_v2(params))
        documents = params.get("documents")
        if not isinstance(documents, list) or len(documents) != 1 or not isinstance(documents[0], str):
            return _status_v2("error_internal", "documents must be a list of one base64 string")
        user_infos = params.get("user_infos", {})
        if user_infos is None:
            user_infos = {}
        if not isinstance(user_infos, dict):
            return _status_v2("error_internal", "user_infos must be an object")
        for key in ("dbuuid", "webhook_url"):
            if params.get(key) is not None and not isinstance(params[key], str):
                return _status_v2("error_internal", f"{key} must be a string")
        try:
            data = base64.b64decode(documents[0], validate=True)
        except (binascii.Error, ValueError):
            return _status_v2("error_internal", "documents[0] is not valid base64")
        kind = detect_format(data)
        if kind is None:
            return {"status": "error_unsupported_format"}
        if not self._charge(token):
            return {"status": "error_no_credit"}
        document_token = secrets.token_hex(16)
        while document_token in self._documents:  # pragma: no cover - 128 random bits
            document_token = secrets.token_hex(16)
        self._record_document(document_token, token, kind, data, user_infos, generation=2,
                              dbuuid=params.get("dbuuid"), webhook_url=params.get("webhook_url") or None,
                              callback_fired=False)
        return {"status": "success", "document_token": document_token}

    def _get_result_v2(self, params: dict) -> dict:
        if self._maintenance:
            return {"status": "error_maintenance"}
        if params.get("version") != VERSION_V2:
            return _status_v2("error_internal", _version_message_v2(params))
        document_token = params.get("document_token")
        if not isinstance(document_token, str):
            return _status_v2("error_internal", "document_token must be a string (one per call)")
        account_token = params.get("account_token")
        if account_token is not None and not isinstance(account_token, str):
            return _status_v2("error_internal", "account_token must be a string")
        document = self._documents.get(document_token)
        if document is None:
            return {"status": "error_document_not_found"}
        document["polls"] += 1
        if document["webhook_url"]:
            ready = document["callback_fired"]  # with a webhook: ready once the callback went out
        else:
            ready = document["polls"] > self._not_ready_polls
        if not ready:
            return {"status": "processing"}
        if document_token in self._failed_documents:
            code, message = self._failed_documents[document_token]
            return _status_v2(code if isinstance(code, str) else "error_internal", message)
        plain = self._results.get(document_token, self._results["default"])
        return {"status": "success", "results": [to_wire(plain)]}

    def _validate_v2(self, params: dict) -> dict:
        if self._maintenance:
            return {"status": "error_maintenance"}
        document_token = params.get("document_token")
        values = params.get("values")
        attempt = {"document_id": document_token, "values": copy.deepcopy(values)}
        self._validation_attempts.append(attempt)
        if "version" in params and params["version"] != VERSION_V2:
            result = _status_v2("error_internal", _version_message_v2(params))
        elif not isinstance(document_token, str) or document_token not in self._documents:
            result = {"status": "error_document_not_found"}
        elif document_token in self._validations:
            attempt["duplicate"] = True
            result = {"status": "error_already_validated"}
        else:
            try:
                check_validation_values(values)
            except _FormatError as exc:
                result = _status_v2("error_invalid_validation_format", str(exc))
            else:
                self._validations[document_token] = copy.deepcopy(values)
                self._documents[document_token]["validated"] = True
                result = {"status": "success"}
        attempt["status"] = result["status"]
        return result

    def _after_reply(self, record: dict) -> None:
        """After a gen-2 parse with a ``webhook_url`` was answered: its callback, in a background thread."""
        result = record["result"]
        if record["route"] != "parse_v2" or not isinstance(result, dict) or result.get("status") != "success":
            return
        document_token = result["document_token"]
        with self._lock:
            document = self._documents.get(document_token)
            if document is None or not document["webhook_url"]:
                return
            wait = self.callback_delay if self._not_ready_polls > 0 else 0.0
        url = document["webhook_url"].rstrip("/") + "/" + document_token
        threading.Thread(target=self._callback, args=(document, document_token, url, wait), daemon=True,
                         name="iap-extract-fake-callback").start()

    def _callback(self, document: dict, token: str, url: str, wait: float) -> None:
        import requests  # only the gen-2 webhook needs it

        if wait:
            time.sleep(wait)
        with self._lock:
            if self._documents.get(token) is not document:
                return  # reset meanwhile: the document is forgotten
            document["callback_fired"] = True  # ready before the POST: the receiver may fetch at once
        try:
            outcome: int | str = requests.post(url, timeout=5).status_code
        except Exception as exc:  # noqa: BLE001 - a callback failure must never reach the fake
            outcome = f"{type(exc).__name__}: {exc}"
        with self._lock:
            if self._documents.get(token) is document:
                self._callbacks.append((url, outcome))

    # -- control endpoints -------------------------------------------------------------------------------

    def _control_post(self, name: str):
        return self.configure if name == "config" else None

    def _on_control(self, handler: _IapHandler, path: str, body: bytes) -> None:
        if path == CONTROL_PREFIX + "state":
            handler.reply_json(405, {"error": "use GET"})
        else:
            return super()._on_control(handler, path, body)
        return None

    def configure(self, data: dict) -> None:
        """Apply a ``POST /_fake/config`` body: {"credit": {token: n|null}, "not_ready_polls": n,
        "maintenance": bool, "results": {"default"|id: plain|null}, "fail_next": n, "http_status": 503,
        "delay": seconds}. Everything is checked before anything is applied."""
        if not isinstance(data, dict):
            raise TypeError("config must be a JSON object")
        known = {"credit", "not_ready_polls", "maintenance", "results", "fail_next", "http_status", "delay"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config key {unknown[0]!r}")
        credit = data.get("credit", {})
        if not isinstance(credit, dict) or not all(v is None or _is_number(v) for v in credit.values()):
            raise TypeError("credit must map account tokens to a number or null")
        results = data.get("results", {})
        if not isinstance(results, dict) or any(v is not None and not isinstance(v, dict)
                                                for v in results.values()):
            raise TypeError("results must map 'default' or a document id to an object or null")
        keys = [k if k == "default" else int(k) for k in results]
        if "maintenance" in data and not isinstance(data["maintenance"], bool):
            raise TypeError("maintenance must be a boolean")
        polls = int(data["not_ready_polls"]) if "not_ready_polls" in data else None
        fail = int(data["fail_next"]) if "fail_next" in data else None
        http_status = int(data.get("http_status", 503))
        delay = float(data["delay"]) if "delay" in data else None
        with self._lock:
            for token, left in credit.items():
                self.set_credit(token, left)
            for key, plain in zip(keys, results.values(), strict=True):
                self.set_result(key, plain)
            if polls is not None:
                self.set_not_ready_polls(polls)
            if "maintenance" in data:
                self.maintenance(data["maintenance"])
            if fail is not None:
                self.fail_next(fail, http_status=http_status)
            if delay is not None:
                self.delay(delay)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--not-ready-polls", type=int, default=1, help="'Not ready' answers before a result")
    parser.add_argument("--credit", action="append", default=[], metavar="TOKEN=N",
                        help="credits of an account token (repeatable; default unlimited)")
    args = parser.parse_args(argv)
    fake = IapExtractFake(args.host, args.port, not_ready_polls=args.not_ready_polls)
    for item in args.credit:
        token, sep, left = item.rpartition("=")
        if not sep or not token:
            parser.error(f"--credit takes TOKEN=N, not {item!r}")
        fake.set_credit(token, int(left))
    return serve_until_signalled(fake)


if __name__ == "__main__":
    sys.exit(main())
