"""Requests for easybill's REST API v1 (swagger 2.0, version 1.92.3), and readers of its answers.

:class:`EasybillClient` sends nothing: each method RETURNS a :class:`~.transport.Request` (``Authorization: Bearer
<key>``, ``Accept: application/json``, the key in ``secrets`` so it is masked before anything is logged, never in
a body) that the outbox engine delivers. The functions at the bottom read an answer's status and body text.

The monthly export, in order (each step its own outbox message):

1. ``find_customer(number)`` → :func:`first_item_id`; when None, ``create_customer(customer)`` → :func:`parse_id`.
2. ``find_documents(customer_id, title)`` → :func:`first_item_id` (a document created before a lost answer is
   found again, not created twice); when None, ``create_document(...)`` → :func:`parse_id`. POST creates a
   DRAFT (``is_draft`` is read-only and never sent).
3. ``upload_attachment(name, csv_bytes)`` → :func:`parse_id`, then ``link_attachment(attachment_id, document_id)``
   (easybill's POST /attachments takes only the file; its context is set by a PUT).
4. Optionally ``finalize_document(document_id)`` (PUT /documents/{id}/done; 409 = locked, try again later).

The invoice positions come from the same :class:`~.easybill_csv.CsvPosition` s as the CSV file
(:func:`position_item`). No ORM here: the models orchestrate.
"""
import json
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from http import HTTPStatus
from urllib.parse import quote, urlencode

from .core_transport import Request
from .easybill_csv import CANCELLATION_FEE, POSITION_TYPES, CsvCustomer, as_decimal

DEFAULT_BASE_URL = "https://api.easybill.de/rest/v1"
#: where easybill's webhooks reach Odoo: ``<path>/<company id>/<token>``
WEBHOOK_PATH = "/invoice_bridge/easybill/webhook"
#: the link to a document in easybill's web app (a setting: ``{id}``, ``{number}``)
DEFAULT_DOCUMENT_URL = "https://www.easybill.de/app/documents/{id}"
#: seconds before an easybill call is abandoned (an upload carries a whole CSV file)
DEFAULT_TIMEOUT = 30
#: 409: the resource is locked by a running process (e.g. /done), 429: rate limit (10 or 60 calls a minute)
RETRY_LATER_STATUSES = (409, 429)
#: the description of a cancellation-fee position starts with this label (unless it already does)
CANCELLATION_FEE_LABEL = "Stornogebühr"
#: easybill keeps at most 3 e-mail addresses per customer (Customer.emails maxItems)
MAX_EMAILS = 3
#: the most items easybill answers per list page ("a maximum of 1000")
MAX_LIST_LIMIT = 1000
#: the events the back-sync registers: each only wakes a read of the documents (easybill documents no signature)
WEBHOOK_EVENTS = ("document.update", "document.completed", "document.deleted", "document.payment_add",
                  "document.payment_delete", "postbox.sent")
#: a document's state as the back-sync reads it from the swagger's fields (see :func:`document_state`)
DOCUMENT_STATES = (
    ("draft", "Draft"),
    ("final", "Finalised"),
    ("sent", "Sent"),
    ("partial", "Partially paid"),
    ("paid", "Paid"),
    ("cancelled", "Cancelled"),
    ("deleted", "Deleted"),
)
#: the back-sync's steps (the outbox message's ``easybill_step``); the export's own steps are in easybill_export
SYNC_STEPS = [
    ("sync_document", "Read the invoice"),
    ("sync_post_boxes", "Read the invoice's sendings"),
    ("sync_pdf", "Fetch the final PDF"),
    ("sync_edited", "Read the edited invoices"),
    ("sync_drafts", "Read the open drafts"),
    ("webhook_register", "Register the webhooks"),
]
SYNC_STEP_NAMES = {name for name, _label in SYNC_STEPS}
#: longest error text returned by :func:`error_message`
MAX_ERROR_CHARS = 500
#: the e-invoice formats a document can be generated in: the ZUGFeRD/XRechnung values of the swagger's
#: ``FileFormatConfig.type`` enum (``default``/``default_without_stationery`` are easybill's plain PDF)
FILE_FORMATS = (
    ("zugferd1", "ZUGFeRD 1.0"),
    ("zugferd2_2", "ZUGFeRD 2.2"),
    ("xrechnung2_2_xml", "XRechnung 2.2 (XML)"),
    ("xrechnung2_3_xml", "XRechnung 2.3 (XML)"),
    ("xrechnung3_0_xml", "XRechnung 3.0 (XML)"),
)

_CENT = Decimal(1)


def sync_budget(rate_limit):
    """The back-sync's requests per minute: 20 % of the plan's limit, at least 1 (10 → 2, 60 → 12)."""
    return max(1, int(rate_limit) * 20 // 100)


def export_budget(rate_limit):
    """What the export's own requests may use: the rest of the plan (10 → 8, 60 → 48)."""
    return max(1, int(rate_limit) - sync_budget(rate_limit))


def to_cents(amount):
    """An amount in currency units → integer cents, rounded half away from zero (``ROUND_HALF_UP`` on a
    Decimal is symmetric: 0.005 → 1, -1.005 → -101). Floats go through ``str`` first so ``2.675`` means the
    2.675 that was typed (→ 268), not the binary 2.67499…; ``0.1 + 0.2`` → 30."""
    # easybill's amounts are integer cents: Document.amount says so ("150" = 1.50 €) and the official SDK
    # examples send single_price_net: 2000 for 20.00 €. The swagger itself types single_price_net as a float
    # without any unit, so this is where the unit is decided.
    value = as_decimal(amount)
    return int((value * 100).quantize(_CENT, rounding=ROUND_HALF_UP))


def _number(value):
    """A Decimal as the JSON number easybill reads (int when whole, so ``19`` and not ``19.0``)."""
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _iso(value):
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)).isoformat()  # raises ValueError on anything else


def _text(value):
    return "" if value is None or value is False else str(value).strip()


def file_format_config(file_format):
    """The document's ``file_format_config`` for one of :data:`FILE_FORMATS` (``ValueError`` on another value)."""
    if file_format not in dict(FILE_FORMATS):
        raise ValueError(f"{file_format!r} is not an e-invoice format of easybill ({', '.join(dict(FILE_FORMATS))})")
    return [{"type": file_format}]


def position_item(position, cancellation_label=CANCELLATION_FEE_LABEL):
    """A :class:`~.easybill_csv.CsvPosition` → one easybill ``DocumentPosition`` (JSON-ready dict).

    ``single_price_net`` is integer cents (see :func:`to_cents`): a sub-cent unit price is rounded half up
    here (the CSV keeps up to 4 places). A credit line keeps its negative quantity. A cancellation fee is its
    own position, of the same ``itemType`` SERVICE, its description prefixed with ``cancellation_label`` (its
    ``number`` stays the item number the CSV has) so it reads as a fee on the invoice.
    """
    if position.position_type not in POSITION_TYPES:
        raise ValueError(f"unknown position type {position.position_type!r}")
    description = _text(position.description)
    if position.position_type == CANCELLATION_FEE and cancellation_label and \
            not description.startswith(cancellation_label):
        description = f"{cancellation_label}: {description}" if description else cancellation_label
    item = {"type": "POSITION", "itemType": "SERVICE", "description": description,
            "quantity": _number(position.quantity), "single_price_net": to_cents(position.net_unit_price),
            "vat_percent": _number(position.vat_percent)}
    if _text(position.item_number):
        item["number"] = _text(position.item_number)
    if _text(position.unit):
        item["unit"] = _text(position.unit)
    return item


def service_date(start, end):
    """The document's ``ServiceDate``: type SERVICE with exactly one of ``date`` (a single day) or
    ``date_from`` + ``date_to`` (as the swagger requires for SERVICE)."""
    start, end = _iso(start), _iso(end)
    if start > end:
        raise ValueError(f"service period starts {start}, after its end {end}")
    if start == end:
        return {"type": "SERVICE", "date": start}
    return {"type": "SERVICE", "date_from": start, "date_to": end}


def _emails(value):
    found = []
    for email in re.split(r"[,;\s]+", _text(value)):
        if email and email not in found:
            found.append(email)
    return found[:MAX_EMAILS]


def _as_customer(customer):
    if isinstance(customer, CsvCustomer):
        return customer
    if isinstance(customer, Mapping):
        names = {f.name for f in fields(CsvCustomer)}
        unknown = set(customer) - names
        if unknown:
            raise ValueError(f"unknown customer fields: {', '.join(sorted(unknown))}")
        return CsvCustomer(**{name: customer[name] for name in names if name in customer})
    raise TypeError(f"a customer is a CsvCustomer or a dict, not {type(customer).__name__}")


def customer_body(customer):
    """An easybill ``Customer`` for POST /customers. ``company_name`` and ``last_name`` are required keys in the
    swagger (x-nullable): each is sent, ``null`` when empty, and at least one must be set. Other empty fields
    are omitted, never sent as ``""``; no read-only field (id, display_name, created_at…) is ever sent."""
    customer = _as_customer(customer)
    number, company, last_name = _text(customer.number), _text(customer.company_name), _text(customer.last_name)
    country = _text(customer.country).upper()
    if not number:
        raise ValueError("the customer has no number")
    if not company and not last_name:
        raise ValueError(f"customer {number}: a company name or a last name is required")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"customer {number}: {customer.country!r} is not an ISO 3166-1 alpha-2 country code")
    body = {"number": number, "company_name": company or None, "last_name": last_name or None, "country": country}
    for key, value in (("first_name", customer.first_name), ("street", customer.street),
                       ("zip_code", customer.zip_code), ("city", customer.city),
                       ("vat_identifier", customer.vat_id)):
        if _text(value):
            body[key] = _text(value)
    emails = _emails(customer.email)
    if emails:
        body["emails"] = emails
    return body


def _safe_file_name(name):
    """An ASCII file name for the multipart header (umlauts transliterated, quotes and breaks replaced)."""
    name = str(name or "")
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"),
                           ("ß", "ss")):
        name = name.replace(umlaut, ascii_)
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", name).strip()
    return name or "attachment"


def multipart_body(field_name, file_name, content, content_type):
    """``(body bytes, Content-Type header)`` of a multipart/form-data body with one file field."""
    if re.search(r"[\r\n\"]", content_type) or re.search(r"[\r\n\"]", field_name):
        raise ValueError("a line break or a quote in a multipart header")
    content = bytes(content)
    boundary = f"invoice-bridge-{uuid.uuid4().hex}"
    while boundary.encode("ascii") in content:  # practically never; cheap to rule out
        boundary = f"invoice-bridge-{uuid.uuid4().hex}"
    head = (f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field_name}"; filename="{_safe_file_name(file_name)}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode("ascii")
    return head + content + f"\r\n--{boundary}--\r\n".encode("ascii"), f"multipart/form-data; boundary={boundary}"


class EasybillClient:
    """Builds the requests of the monthly export; sends none."""

    def __init__(self, base_url=DEFAULT_BASE_URL, api_key="", timeout=DEFAULT_TIMEOUT):
        if not api_key:
            raise ValueError("easybill API key is missing")
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def _request(self, method, path, query=None, json_body=None, body=b"", content_type=None, lists=(),
                 accept="application/json"):
        """``lists``: the query names whose commas separate values (a date range, several ids), never escaped."""
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": accept}
        url = self.base_url + path
        if query:
            # easybill splits filter values at commas; an escaped comma (\,) is kept with this header
            if any("," in str(value) for name, value in query.items() if name not in lists):
                if lists:
                    raise ValueError("a comma in a filter value beside a comma list: easybill cannot tell them apart")
                headers["X-Easybill-Escape"] = "true"
                query = {key: str(value).replace(",", "\\,") for key, value in query.items()}
            url += "?" + urlencode(query, quote_via=quote)
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        return Request(method, url, body, headers, timeout=self.timeout, secrets=(self.api_key,))

    # ----------------------------------------------------------------------------------------- customers
    def find_customer(self, number):
        """GET /customers?number=… — read the answer with :func:`first_item_id`."""
        number = _text(number)
        if not number:
            raise ValueError("the customer has no number")
        return self._request("GET", "/customers", query={"number": number})

    def create_customer(self, customer):
        """POST /customers with :func:`customer_body` — read the answer (201) with :func:`parse_id`."""
        return self._request("POST", "/customers", json_body=customer_body(customer))

    # ----------------------------------------------------------------------------------------- documents
    def document_body(self, customer_id, document_date, service_period, title, positions, currency=None,
                      text=None, file_format=None):
        """The ``Document`` of :meth:`create_document`: an INVOICE, no totals, no ``is_draft`` (read-only);
        ``file_format_config`` only for a customer who needs an e-invoice (``file_format``)."""
        items = [dict(p) if isinstance(p, Mapping) else position_item(p) for p in positions]
        if not items:
            raise ValueError("an invoice needs at least one position")
        if not _text(title):
            raise ValueError("the document needs a title (it is how a lost answer is found again)")
        start, end = service_period
        body = {"type": "INVOICE", "customer_id": int(customer_id), "document_date": _iso(document_date),
                "service_date": service_date(start, end), "title": _text(title), "items": items}
        if currency:
            body["currency"] = _text(currency).upper()
        if text:
            body["text"] = str(text)
        if file_format:
            body["file_format_config"] = file_format_config(file_format)
        return body

    def create_document(self, customer_id, document_date, service_period, title, positions, currency=None,
                        text=None, file_format=None):
        """POST /documents: a draft invoice. ``service_period`` is ``(start, end)``; ``positions`` are
        :class:`~.easybill_csv.CsvPosition` s (or ready item dicts); ``file_format`` one of :data:`FILE_FORMATS`
        or None. Read the answer (201) with :func:`parse_id`."""
        return self._request("POST", "/documents", json_body=self.document_body(
            customer_id, document_date, service_period, title, positions, currency=currency, text=text,
            file_format=file_format))

    def find_documents(self, customer_id, title):
        """GET /documents?customer_id=…&title=… — read with ``first_item_id(body, title=title)`` (exact title)."""
        return self._request("GET", "/documents", query={"customer_id": int(customer_id), "title": _text(title)})

    def finalize_document(self, document_id):
        """PUT /documents/{id}/done: the draft becomes a final invoice with its number (409: locked, retry)."""
        return self._request("PUT", f"/documents/{int(document_id)}/done")

    # --------------------------------------------------------------------------------------- attachments
    def upload_attachment(self, file_name, content, content_type="text/csv"):
        """POST /attachments, multipart/form-data with the field ``file`` — read the answer with :func:`parse_id`."""
        body, header = multipart_body("file", file_name, content, content_type)
        return self._request("POST", "/attachments", body=body, content_type=header)

    def link_attachment(self, attachment_id, document_id):
        """PUT /attachments/{id} ``{"document_id": …}``: attaches an uploaded file to the document."""
        return self._request("PUT", f"/attachments/{int(attachment_id)}",
                             json_body={"document_id": int(document_id)})

    # ------------------------------------------------------------------------- back-sync (read only)
    def get_document(self, document_id):
        """GET /documents/{id}: the document as easybill has it now (404: deleted) — read with
        :func:`document_facts`."""
        return self._request("GET", f"/documents/{int(document_id)}")

    def edited_documents(self, since, until, page=1, limit=MAX_LIST_LIMIT):
        """GET /documents?type=INVOICE&edited_at=<since>,<until>: the invoices edited on those days (easybill's
        dates, Europe/Berlin), one page — read with :func:`list_page`."""
        return self._request("GET", "/documents", query={
            "type": "INVOICE", "edited_at": f"{_iso(since)},{_iso(until)}", "limit": int(limit), "page": int(page)},
            lists=("edited_at",))

    def draft_documents(self, page=1, limit=MAX_LIST_LIMIT):
        """GET /documents?type=INVOICE&is_draft=1: the drafts still open (a draft of ours missing from the
        list was finalised or deleted: read it)."""
        return self._request("GET", "/documents", query={
            "type": "INVOICE", "is_draft": "1", "limit": int(limit), "page": int(page)})

    def post_boxes(self, document_ids):
        """GET /post-boxes?document_id=…: the sendings of these documents (e-mail, fax, post)."""
        ids = ",".join(str(int(i)) for i in document_ids)
        if not ids:
            raise ValueError("no document to read the post box of")
        return self._request("GET", "/post-boxes", query={"document_id": ids, "limit": MAX_LIST_LIMIT},
                             lists=("document_id",))

    def document_pdf(self, document_id):
        """GET /documents/{id}/pdf: the document's PDF (binary)."""
        return self._request("GET", f"/documents/{int(document_id)}/pdf", accept="application/pdf")

    def webhook_body(self, url, secret, description="Odoo invoice_bridge"):
        """The ``WebHook`` registered for the back-sync: JSON, active, the document and post-box events."""
        if not re.match(r"https?://", url or ""):
            raise ValueError(f"the webhook URL must be http(s), not {url!r}")
        return {"url": url, "content_type": "json", "secret": secret, "events": list(WEBHOOK_EVENTS),
                "description": description, "is_active": True}

    def register_webhook(self, url, secret, webhook_id=None):
        """POST /webhooks (or PUT /webhooks/{id} to update the one registered before) — read with
        :func:`parse_id`."""
        body = self.webhook_body(url, secret)
        if webhook_id:
            return self._request("PUT", f"/webhooks/{int(webhook_id)}", json_body=body)
        return self._request("POST", "/webhooks", json_body=body)


# ---------------------------------------------------------------------------------------------- answers
def _body_text(body):
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8", "replace")
    return body or ""


def _snippet(text, limit=MAX_ERROR_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _json(body):
    text = _body_text(body)
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"easybill answered something that is not JSON: {_snippet(text, 200)!r}") from None


def _as_id(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def parse_id(body):
    """The ``id`` of a created/fetched object (Customer, Document, Attachment); ``ValueError`` without one."""
    data = _json(body)
    ident = _as_id(data.get("id")) if isinstance(data, dict) else None
    if ident is None:
        raise ValueError(f"easybill's answer has no id: {_snippet(_body_text(body), 200)!r}")
    return ident


def first_item_id(body, **equal):
    """The ``id`` of the first item of a list answer (``{"page", "pages", "limit", "total", "items": […]}``),
    or None when the list is empty. ``equal`` keeps only items whose fields have exactly these values (e.g.
    ``title=…``: easybill's filters may match more loosely than the caller needs)."""
    data = _json(body)
    items = data.get("items") if isinstance(data, dict) else None
    if items is None or isinstance(items, (str, dict)):
        raise ValueError(f"easybill's answer is not a list: {_snippet(_body_text(body), 200)!r}")
    for item in items:
        if isinstance(item, dict) and all(item.get(key) == value for key, value in equal.items()):
            ident = _as_id(item.get("id"))
            if ident is not None:
                return ident
    return None


def list_page(body):
    """``(items, pages)`` of a list answer (``{"page", "pages", "limit", "total", "items"}``)."""
    data = _json(body)
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"easybill's answer is not a list: {_snippet(_body_text(body), 200)!r}")
    pages = data.get("pages")
    return [item for item in items if isinstance(item, dict)], pages if isinstance(pages, int) else 1


def _cents_to_units(value):
    return Decimal(int(value)) / 100 if isinstance(value, int) and not isinstance(value, bool) else Decimal(0)


def document_facts(document):
    """What the back-sync keeps of a ``Document``: number, document_date, amount and paid_amount (currency
    units; easybill sends cents), paid_at, cancel_id, is_draft. ``ValueError`` on an answer that is no document."""
    if isinstance(document, (bytes, bytearray, str)):
        document = _json(document)
    if not isinstance(document, dict) or _as_id(document.get("id")) is None:
        raise ValueError("easybill's answer is not a document")
    if not isinstance(document.get("is_draft"), bool):
        raise ValueError(f"document {document.get('id')}: is_draft is missing")
    day = document.get("document_date")
    paid_at = document.get("paid_at")
    return {
        "id": _as_id(document["id"]),
        "is_draft": document["is_draft"],
        "number": _text(document.get("number")) or None,
        "document_date": date.fromisoformat(day) if isinstance(day, str) and day else None,
        "amount": _cents_to_units(document.get("amount")),
        "paid_amount": _cents_to_units(document.get("paid_amount")),
        "paid_at": date.fromisoformat(paid_at[:10]) if isinstance(paid_at, str) and paid_at else None,
        "cancel_id": _as_id(document.get("cancel_id")),
    }


def is_sent(post_boxes):
    """Whether one of a document's post-box entries went out (status OK); waiting or failed ones do not count."""
    return any(isinstance(box, dict) and box.get("status") == "OK" for box in post_boxes)


def document_state(facts, sent=False):
    """One of :data:`DOCUMENT_STATES` from :func:`document_facts`, in this order: cancelled (``cancel_id``),
    draft (``is_draft``), paid (``paid_at``, or ``paid_amount`` covering ``amount``), partially paid
    (``paid_amount`` > 0), sent (a post-box entry went out: ``sent``), else finalised. The swagger's ``status``
    applies to other document types (delivery notes, orders, offers), never to an invoice."""
    if facts is None:
        return "deleted"
    if facts["cancel_id"]:
        return "cancelled"
    if facts["is_draft"]:
        return "draft"
    if facts["paid_at"] or (facts["amount"] > 0 and facts["paid_amount"] >= facts["amount"]):
        return "paid"
    if facts["paid_amount"] > 0:
        return "partial"
    return "sent" if sent else "final"


def document_url(pattern, document_id, number=None):
    """The link that opens a document in easybill's web app: ``pattern`` with ``{id}`` (and ``{number}``)."""
    if "{id}" not in (pattern or "") or not re.match(r"https?://", pattern):
        raise ValueError("the easybill link pattern must be an http(s) URL containing {id}")
    return pattern.replace("{id}", quote(str(int(document_id)))).replace("{number}", quote(_text(number)))


def _details(value):
    """Field errors in whatever shape they come (dict of lists, list of strings/dicts) as one short text."""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_details(val)}" for key, val in value.items())
    if isinstance(value, list):
        return ", ".join(_details(val) for val in value)
    return str(value)


def error_message(status, body):
    """One line a user can read: ``HTTP 400 Bad Request: <easybill's message>``. easybill answers errors as
    JSON ``{"code": …, "message": "…"}`` (the swagger documents no error schema, so ``error``/``errors``/
    ``arguments`` are read too); anything else falls back to the raw text, whitespace collapsed, truncated."""
    try:
        phrase = HTTPStatus(int(status)).phrase
    except ValueError:
        phrase = ""
    prefix = f"HTTP {status} {phrase}".strip() if status else "no answer"
    text = _body_text(body).strip()
    message = ""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        main = data.get("message") or data.get("error_description") or data.get("error") or ""
        message = main if isinstance(main, str) else _details(main)
        extra = data.get("errors") or data.get("arguments")
        if extra:
            message = f"{message} ({_details(extra)})" if message else _details(extra)
    if not message:
        message = text
    return _snippet(f"{prefix}: {message}" if message else prefix)
