"""The read side of the import API: the query parameters of ``GET /api/sales/invoices/`` and its opaque cursor,
and the ``Idempotency-Key`` header of ``PATCH /api/sales/update/invoice/`` (plain Python, no Odoo).

Listing is keyset pagination on ``(write_date, id)``: a page holds the invoices after the cursor's position, in
that order; the cursor is the position of the page's last invoice (base64url JSON, with the filters it was made
for). An invoice changed while a client pages moves to the end (its ``write_date`` is new) and is listed there
again, with its new content; an untouched one is listed exactly once, whatever is inserted or updated meanwhile.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .import_api_json import load_json
from .import_api_messages import PayloadError

#: the import statuses of an invoice (``status`` in answers, events and the list's filter)
IMPORT_STATUSES = ("waiting_approval", "review", "approved", "void")
#: invoices of a page when ``limit`` is not sent, and the most a page may hold
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_VERSION = 1
#: the parameters of the list route (others are ignored, as unknown keys of a body are)
LIST_PARAMETERS = ("status", "updated_since", "cursor", "limit")

#: ``YYYY-MM-DD``, or a date and time (``T`` or a space), optional fractions and ``Z`` or ``±HH:MM``
_TIMESTAMP_RE = re.compile(
    r"^(?P<date>(?:19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?$",
    re.ASCII)
BAD_TIMESTAMP = ("Enter a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM:SS, optionally with fractions "
                 "of a second and Z or an offset such as +05:30; without one, UTC).")
BAD_STATUS = "Enter one of {choices}, or several separated by commas."
BAD_LIMIT = f"Enter a whole number from 1 to {MAX_LIMIT}."
BAD_CURSOR = "This is not a cursor of this API: send the next_cursor of a previous page unchanged."
OTHER_FILTERS = ("This cursor was issued for other filters: send the same status and updated_since as the first "
                 "page, or leave them out.")
REPEATED = "Send this parameter once."

#: how long an ``Idempotency-Key`` and the answer it names are kept
IDEMPOTENCY_HOURS = 24
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_MAX_LENGTH = 255
_IDEMPOTENCY_RE = re.compile(r"^[\x21-\x7e]+$", re.ASCII)
BAD_IDEMPOTENCY_KEY = (f"Enter 1 to {IDEMPOTENCY_MAX_LENGTH} visible ASCII characters (letters, digits, "
                       "punctuation; no spaces), e.g. a UUID.")


@dataclass(frozen=True)
class ListQuery:
    """The parsed parameters of the list route: filters, the position after which the page starts, its size."""

    statuses: tuple[str, ...] = ()
    #: naive UTC, like Odoo's ``write_date``; invoices written at or after it
    updated_since: datetime | None = None
    #: ``(write_date, id)`` of the last invoice of the previous page
    after: tuple[datetime, int] | None = None
    limit: int = DEFAULT_LIMIT


def parse_timestamp(text: str) -> datetime | None:
    """A naive UTC datetime of ``text`` (see :data:`_TIMESTAMP_RE`), or None when it is not one."""
    match = _TIMESTAMP_RE.match(text)
    if not match:
        return None
    try:
        value = datetime.fromisoformat(f"{match['date']}T{match['time'] or '00:00'}")
    except ValueError:  # the right shape but no such day or hour
        return None
    zone = match["zone"]
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        value -= sign * timedelta(hours=hours, minutes=minutes)
    return value


def _filters(statuses, updated_since):
    return {"s": list(statuses), "u": updated_since.isoformat(sep=" ") if updated_since else None}


def encode_cursor(write_date: datetime, record_id: int, query: ListQuery) -> str:
    """The opaque cursor after ``(write_date, record_id)`` for the filters of ``query``."""
    data = {"v": CURSOR_VERSION, "w": write_date.isoformat(sep=" "), "i": record_id,
            **_filters(query.statuses, query.updated_since)}
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str):
    """``(write_date, id, statuses, updated_since)`` of a cursor made by :func:`encode_cursor`; ``ValueError``
    for anything else (a cursor is opaque: a changed one is refused, never half-understood)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(BAD_CURSOR) from exc
    if not (isinstance(data, dict) and set(data) == {"v", "w", "i", "s", "u"} and data["v"] == CURSOR_VERSION
            and isinstance(data["w"], str) and type(data["i"]) is int and 0 < data["i"] < 2**31
            and isinstance(data["s"], list) and all(s in IMPORT_STATUSES for s in data["s"])
            and (data["u"] is None or isinstance(data["u"], str))):
        raise ValueError(BAD_CURSOR)
    try:
        write_date = datetime.fromisoformat(data["w"])
        updated_since = datetime.fromisoformat(data["u"]) if data["u"] else None
    except ValueError as exc:
        raise ValueError(BAD_CURSOR) from exc
    if write_date.tzinfo or (updated_since and updated_since.tzinfo):
        raise ValueError(BAD_CURSOR)
    return write_date, data["i"], tuple(data["s"]), updated_since


def parse_list_query(args) -> ListQuery:
    """The :class:`ListQuery` of the query string ``args`` (``{name: [values]}``, e.g. werkzeug's
    ``MultiDict.to_dict(flat=False)``); :class:`PayloadError` with every problem, by parameter name."""
    errors: dict[str, list[str]] = {}
    values = {}
    for name in LIST_PARAMETERS:
        sent = args.get(name) or []
        if len(sent) > 1:
            errors.setdefault(name, []).append(REPEATED)
        elif sent and sent[0].strip():
            values[name] = sent[0].strip()
    statuses = ()
    if "status" in values:
        statuses = tuple(dict.fromkeys(s.strip() for s in values["status"].split(",")))
        if not all(s in IMPORT_STATUSES for s in statuses):
            errors.setdefault("status", []).append(BAD_STATUS.format(choices=", ".join(IMPORT_STATUSES)))
    updated_since = None
    if "updated_since" in values:
        updated_since = parse_timestamp(values["updated_since"])
        if updated_since is None:
            errors.setdefault("updated_since", []).append(BAD_TIMESTAMP)
    limit = DEFAULT_LIMIT
    if "limit" in values:
        text = values["limit"]
        limit = int(text) if text.isascii() and text.isdigit() and len(text) < 6 else 0
        if not 1 <= limit <= MAX_LIMIT:
            errors.setdefault("limit", []).append(BAD_LIMIT)
    after = None
    if "cursor" in values:
        try:
            write_date, record_id, cursor_statuses, cursor_since = decode_cursor(values["cursor"])
        except ValueError as exc:
            errors.setdefault("cursor", []).append(str(exc))
        else:
            after = (write_date, record_id)
            if ("status" in values and set(statuses) != set(cursor_statuses)) or (
                    "updated_since" in values and updated_since != cursor_since):
                errors.setdefault("cursor", []).append(OTHER_FILTERS)
            statuses, updated_since = cursor_statuses, cursor_since
    if errors:
        raise PayloadError(errors)
    return ListQuery(statuses=statuses, updated_since=updated_since, after=after, limit=limit)


# ------------------------------------------------------------------------------------------ idempotency
def parse_idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header's value (None when not sent); :class:`PayloadError` when malformed."""
    if value is None:
        return None
    if not (len(value) <= IDEMPOTENCY_MAX_LENGTH and _IDEMPOTENCY_RE.match(value)):
        raise PayloadError({IDEMPOTENCY_HEADER: [BAD_IDEMPOTENCY_KEY]})
    return value


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same" for an idempotency key: method, path and the body's JSON value
    (the same object sent with other spacing or key order is the same request), or its bytes when it is not
    JSON (such a body is refused anyway)."""
    try:
        canonical = json.dumps(load_json(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                               default=str).encode()
    except (PayloadError, ValueError, TypeError):
        canonical = body
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def expired_before(now: datetime) -> datetime:
    """Keys created before this (naive UTC) are expired: their answer is no longer given."""
    if now.tzinfo:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    return now - timedelta(hours=IDEMPOTENCY_HOURS)
