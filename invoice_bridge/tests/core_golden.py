"""Golden files: every body the addon sends, and every answer its API gives, compared byte for byte.

A scenario records what it produced (outgoing requests, as they leave the transport; API answers, as the client
receives them) and :func:`check` compares the normalised record with ``golden/<name>.json``. Normalising only
replaces what differs from run to run (database ids, random message ids, tokens, timestamps, the loopback port,
signatures, multipart boundaries); everything else must stay byte-identical. ``IB_GOLDEN_UPDATE=1`` (with
``IB_ODOO_TESTS_FROM=repo``, or the standalone copy is what gets written) rewrites the
files instead: review the diff before committing it.
"""
import contextlib
import json
import os
import re
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

#: request/answer headers worth pinning (others, e.g. User-Agent or Content-Length, are the transport's business)
KEPT_HEADERS = ("content-type", "accept", "idempotency-key", "webhook-id", "webhook-timestamp",
                "webhook-signature", "retry-after", "cache-control")
_ID_KEY = re.compile(r"(^|_)(id|ids)$")
_SUBSTITUTIONS = [
    (re.compile(r"https?://(127\.0\.0\.1|localhost):\d+"), "http://<loopback>"),
    (re.compile(r"msg_[0-9a-f]{32}"), "msg_<random>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"(access_token=)[^&\"\s]+"), r"\1<token>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?"), "<datetime>"),
    (re.compile(r"(v1,)[A-Za-z0-9+/=]+"), r"\1<signature>"),
    (re.compile(r"invoice-bridge-[0-9a-f]{32}"), "invoice-bridge-<boundary>"),
    (re.compile(r"OD-\d+"), "OD-<n>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<hex>"),
    (re.compile(r"(Odoo export |Odoo%20export%20)\d+"), r"\1<n>"),
    (re.compile(r"(_id=)\d+"), r"\1<n>"),
    # record ids inside identifiers and paths: /my/invoices/12?…, /documents/7/done, msg_invoice_review_3_45_9
    (re.compile(r"(/)\d+(?=[/?\"]|$)"), r"\1<n>"),
    (re.compile(r"(msg_[a-z_]+?)((?:_\d+)+)(_p\d+)?\b"), r"\1_<ids>\3"),
]


def normalize_text(text):
    for pattern, replacement in _SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    return text


def normalize(value, key=None):
    """``value`` with run-dependent parts replaced (recursively through JSON data)."""
    if isinstance(value, dict):
        return {k: normalize(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v, key) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and key and _ID_KEY.search(key):
        return "<id>"
    if isinstance(value, str):
        if key == "account_token":
            return "<token>"
        if key == "documents" or (key and key.endswith("_b64")):
            return f"<{len(value)} base64 characters>"
        return normalize_text(value)
    return value


def body_record(raw, content_type=""):
    """A body as recorded: decoded JSON (normalised) when it is JSON, else normalised text."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    raw = raw or ""
    if "json" in (content_type or "") or raw.lstrip()[:1] in "{[":
        with contextlib.suppress(ValueError):
            return {"json": normalize(json.loads(raw))}
    return {"text": normalize_text(raw)}


def headers_record(headers):
    kept = {}
    for name, value in (headers or {}).items():
        if name.lower() in KEPT_HEADERS:
            kept[name.lower()] = normalize_text(str(value)) if name.lower() != "webhook-timestamp" else "<epoch>"
    return dict(sorted(kept.items()))


def request_record(request):
    """An outgoing ``Request`` (the lib's transport dataclass) as a golden entry."""
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    return {"method": request.method, "url": normalize_text(request.url),
            "headers": headers_record(request.headers), "body": body_record(request.body, content_type)}


def answer_record(method, path, status, headers, body):
    """One API answer as the client received it."""
    return {"request": f"{method} {normalize_text(path)}", "status": status, "headers": headers_record(headers),
            "body": body_record(body, headers.get("Content-Type", ""))}


@contextlib.contextmanager
def recording_transport(transport_class):
    """Record every request a ``transport_class`` sends (the real send still happens)."""
    records = []
    original = transport_class._send  # what send() and send_many()'s threads call

    def send(self, request, session):
        records.append(request_record(request))
        return original(self, request, session)

    transport_class._send = send
    try:
        yield records
    finally:
        transport_class._send = original


def check(testcase, name, records):
    """Compare ``records`` with ``golden/<name>.json`` (or write it when ``IB_GOLDEN_UPDATE`` is set)."""
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(records, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    if os.environ.get("IB_GOLDEN_UPDATE"):
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    testcase.assertTrue(path.exists(), f"no golden file {path.name}: run the test once with IB_GOLDEN_UPDATE=1")
    expected = path.read_text(encoding="utf-8")
    testcase.maxDiff = None
    testcase.assertEqual(text, expected, f"{path.name} changed: the bytes sent or answered are not the same")
