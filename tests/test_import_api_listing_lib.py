"""The read side of the import API in plain Python: the list route's parameters and cursor, and the
``Idempotency-Key`` header (``invoice_bridge/lib/import_api_listing.py``)."""
import base64
import json
from datetime import datetime

import pytest

from ib_lib import import_api_listing as listing
from ib_lib.import_api_listing import ListQuery, decode_cursor, encode_cursor, parse_list_query
from ib_lib.import_api_messages import PayloadError


def errors_of(args):
    with pytest.raises(PayloadError) as info:
        parse_list_query(args)
    return info.value.errors


def test_defaults_and_filters():
    assert parse_list_query({}) == ListQuery(limit=listing.DEFAULT_LIMIT)
    query = parse_list_query({"status": ["review,waiting_approval"], "updated_since": ["2025-01-20T10:00:00+05:30"],
                              "limit": ["200"], "other": ["ignored"]})
    assert query == ListQuery(statuses=("review", "waiting_approval"), updated_since=datetime(2025, 1, 20, 4, 30),
                              limit=200)
    assert parse_list_query({"updated_since": ["2025-01-20"]}).updated_since == datetime(2025, 1, 20)
    assert parse_list_query({"updated_since": ["2025-01-20 09:30:00.5Z"]}).updated_since == datetime(
        2025, 1, 20, 9, 30, 0, 500000)
    assert parse_list_query({"status": [""], "limit": [" "]}) == ListQuery()  # empty means not sent


@pytest.mark.parametrize(("args", "field"), [
    ({"status": ["posted"]}, "status"),
    ({"status": ["review,"]}, "status"),
    ({"updated_since": ["yesterday"]}, "updated_since"),
    ({"updated_since": ["2025-02-30"]}, "updated_since"),
    ({"updated_since": ["2025-01-20T25:00:00"]}, "updated_since"),
    ({"updated_since": ["2025-01-20T10:00:00+24:00"]}, "updated_since"),
    ({"limit": ["0"]}, "limit"),
    ({"limit": ["201"]}, "limit"),
    ({"limit": ["-1"]}, "limit"),
    ({"limit": ["1.5"]}, "limit"),
    ({"limit": ["١٢"]}, "limit"),  # Arabic-Indic digits: isdigit() says yes, int() would accept them
    ({"limit": ["99999999999999999999"]}, "limit"),
    ({"cursor": ["nope"]}, "cursor"),
    ({"limit": ["1", "2"]}, "limit"),
])
def test_bad_parameters_are_field_errors(args, field):
    assert list(errors_of(args)) == [field]


def test_every_problem_at_once():
    assert set(errors_of({"status": ["x"], "limit": ["x"], "updated_since": ["x"], "cursor": ["x"]})) == {
        "status", "limit", "updated_since", "cursor"}


def test_cursor_round_trip_carries_the_position_and_the_filters():
    query = parse_list_query({"status": ["review"], "updated_since": ["2025-01-01"], "limit": ["5"]})
    written = datetime(2025, 1, 20, 9, 30, 0, 123456)
    cursor = encode_cursor(written, 42, query)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # safe in a query string
    assert decode_cursor(cursor) == (written, 42, ("review",), datetime(2025, 1, 1))
    # the next page: the filters come from the cursor, or are repeated unchanged
    for args in ({"cursor": [cursor]}, {"cursor": [cursor], "status": ["review"], "updated_since": ["2025-01-01"]}):
        following = parse_list_query(args)
        assert (following.after, following.statuses, following.updated_since, following.limit) == (
            (written, 42), ("review",), datetime(2025, 1, 1), listing.DEFAULT_LIMIT)
    assert errors_of({"cursor": [cursor], "status": ["void"]}) == {"cursor": [listing.OTHER_FILTERS]}
    assert errors_of({"cursor": [cursor], "updated_since": ["2024-01-01"]}) == {"cursor": [listing.OTHER_FILTERS]}


@pytest.mark.parametrize("data", [
    {"v": 2, "w": "2025-01-20 09:30:00", "i": 1, "s": [], "u": None},
    {"v": 1, "w": "2025-01-20 09:30:00", "i": "1", "s": [], "u": None},
    {"v": 1, "w": "2025-01-20 09:30:00", "i": True, "s": [], "u": None},
    {"v": 1, "w": "2025-01-20 09:30:00", "i": 2**40, "s": [], "u": None},
    {"v": 1, "w": "not a date", "i": 1, "s": [], "u": None},
    {"v": 1, "w": "2025-01-20 09:30:00+00:00", "i": 1, "s": [], "u": None},
    {"v": 1, "w": "2025-01-20 09:30:00", "i": 1, "s": ["posted"], "u": None},
    {"v": 1, "w": "2025-01-20 09:30:00", "i": 1, "s": [], "u": None, "extra": 1},
    [1, 2],
])
def test_a_changed_cursor_is_refused(data):
    cursor = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    with pytest.raises(ValueError, match="not a cursor"):
        decode_cursor(cursor)
    assert errors_of({"cursor": [cursor]}) == {"cursor": [listing.BAD_CURSOR]}


def test_idempotency_key_header():
    assert listing.parse_idempotency_key(None) is None
    assert listing.parse_idempotency_key("5f0c6d1e-8a4b-4f7e-9c1d-2b3a4c5d6e7f") == (
        "5f0c6d1e-8a4b-4f7e-9c1d-2b3a4c5d6e7f")
    assert listing.parse_idempotency_key("x" * 255) == "x" * 255
    for bad in ("", "with space", "x" * 256, "é", "tab\t"):
        with pytest.raises(PayloadError) as info:
            listing.parse_idempotency_key(bad)
        assert list(info.value.errors) == ["Idempotency-Key"]


def test_fingerprint_is_the_json_value_not_its_spelling():
    fingerprint = listing.request_fingerprint
    same = fingerprint("PATCH", "/p/", b'{"invoice_no": "A", "items": []}')
    assert fingerprint("patch", "/p/", b'{"items":[],"invoice_no":"A"}') == same
    assert fingerprint("PATCH", "/p/", b'{"invoice_no": "B", "items": []}') != same
    assert fingerprint("PATCH", "/other/", b'{"invoice_no": "A", "items": []}') != same
    assert fingerprint("PATCH", "/p/", b"not json") == fingerprint("PATCH", "/p/", b"not json")
    assert fingerprint("PATCH", "/p/", b"not json") != fingerprint("PATCH", "/p/", b"not json!")


def test_keys_expire_after_24_hours():
    assert listing.expired_before(datetime(2025, 1, 21, 12, 0)) == datetime(2025, 1, 20, 12, 0)
