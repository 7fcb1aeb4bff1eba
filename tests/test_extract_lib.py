"""The IAP Extract client and its shapes, against the loopback fake of generation 1."""
import base64
import json
from datetime import date

import pytest

from ib_lib.extract_client import (
    INTEGRATION_TOKEN,
    NOT_ENOUGH_CREDIT,
    NOT_READY,
    SUCCESS,
    UNSUPPORTED_FORMAT,
    IapExtractClient,
    IapExtractUnavailable,
    log_request_summary,
    read_results,
    validation_values,
)
from tests.conftest import DATA

SAMPLE = DATA / "extract_sample_bill.pdf"


@pytest.fixture
def fake():
    from ib_fakes.extract_fake import IapExtractFake

    with IapExtractFake() as server:
        yield server


def test_parse_poll_read_and_validate_once(fake):
    client = IapExtractClient(fake.url, timeout=5)
    document = base64.b64encode(SAMPLE.read_bytes()).decode()
    parsed = client.parse(INTEGRATION_TOKEN, document, {"user_company_name": "My Company", "user_lang": "en_US"})
    assert parsed["status_code"] == SUCCESS
    doc_id = parsed["document_id"]
    assert client.get_results([doc_id])[doc_id]["status_code"] == NOT_READY
    answer = client.get_results([doc_id])[doc_id]
    assert answer["status_code"] == SUCCESS
    pivot = read_results(answer["results"])
    assert pivot["invoice_id"] and pivot["total"] and pivot["lines"]
    assert isinstance(pivot["date"], date)
    assert pivot["bank"]["bic"], "SWIFT_code content is a JSON string, decoded"
    assert pivot["global_taxes"] and all(isinstance(t, float) for t in pivot["global_taxes"])
    assert pivot["lines"][0]["taxes"] == [21.0], "a line's taxes: seed 001's selected_value"
    values = validation_values({
        "supplier": pivot["supplier"], "vat": pivot["vat"], "currency": "EUR", "date": pivot["date"],
        "invoice_id": pivot["invoice_id"], "subtotal": 100.0, "total": 121.0, "global_taxes_amount": 21.0,
        "taxes": [{"base": 100.0, "amount": 21.0, "type": "percent", "price_include": False}],
        "lines": [{"description": "Desk", "quantity": 1, "unit_price": 100.0, "taxes_amount": 21.0,
                   "taxes": [{"amount": 21.0, "type": "percent", "price_include": False}],
                   "subtotal": 100.0, "total": 121.0}],
    })
    assert client.validate(doc_id, values)["status_code"] == SUCCESS, "the documented formats are accepted"
    assert client.validate(doc_id, values)["status_code"] != SUCCESS, "a document is validated once"


def test_batched_results_in_one_call(fake):
    client = IapExtractClient(fake.url, timeout=5)
    document = base64.b64encode(SAMPLE.read_bytes()).decode()
    ids = [client.parse(INTEGRATION_TOKEN, document, {})["document_id"] for _ in range(20)]
    before = fake.count("get_results")
    answers = client.get_results(ids)
    assert fake.count("get_results") == before + 1
    assert set(answers) == set(ids), "string keys are turned back into ints"


def test_status_codes_and_outages(fake):
    client = IapExtractClient(fake.url, timeout=2)
    assert client.parse("tok", base64.b64encode(b"not a document").decode(), {})["status_code"] == \
        UNSUPPORTED_FORMAT
    fake.set_credit("poor", 0)
    pdf = base64.b64encode(SAMPLE.read_bytes()).decode()
    assert client.parse("poor", pdf, {})["status_code"] == NOT_ENOUGH_CREDIT
    fake.fail_next(1, http_status=503)
    with pytest.raises(IapExtractUnavailable):
        client.parse("tok", pdf, {})
    unreachable = IapExtractClient("http://127.0.0.1:9", timeout=1)
    with pytest.raises(IapExtractUnavailable) as exc:
        unreachable.get_results([1])
    assert exc.value.exchange.error_kind == "connection"


def test_logs_never_keep_the_document_or_the_token():
    summary = log_request_summary("parse", {"account_token": "secret-token", "version": 120,
                                            "documents": ["QUJD" * 1000], "user_infos": {"user_lang": "en_US"}})
    assert "QUJD" not in summary and "secret-token" not in summary
    assert "4000 base64 characters" in summary
    assert "secret-token" not in log_request_summary("get_results", {"account_token": "secret-token",
                                                                     "documents_ids": [1]})


def test_read_results_tolerates_missing_features():
    pivot = read_results([{"total": {"selected_value": {"content": 12.5, "coords": [0, 0, 0, 0, 0], "page": 0},
                                     "words": []},
                           "SWIFT_code": {"selected_value": {"content": "not json"}, "words": []}}])
    assert pivot["total"] == 12.5 and pivot["supplier"] is None and pivot["lines"] == [] and pivot["bank"] is None
    assert json.dumps(validation_values({}))  # an empty bill still gives a well-formed payload


def _candidate(content):
    return {"content": content, "coords": [0, 0, 0, 0, 0], "page": 0, "amount_type": "percent"}


def test_line_taxes_read_in_both_forms():
    """Seed 001's line ``taxes`` is a feature_result (one ``selected_value``); Odoo's newer service sends a list
    (``selected_values``), as seed 001 does for ``global_taxes``. Both are read; an empty or odd one gives none."""
    seed = {"selected_value": _candidate(21.0), "words": [_candidate(21.0)]}
    newer = {"selected_values": [_candidate(6.0), _candidate("21")], "words": []}
    lines = [{"description": {"selected_value": {"content": "Desk"}, "words": []}, "taxes": taxes}
             for taxes in (seed, newer, {"selected_value": None, "words": []}, {"selected_values": []}, None)]
    pivot = read_results([{"invoice_lines": lines, "global_taxes": {"selected_value": _candidate(21.0)}}])
    assert [line["taxes"] for line in pivot["lines"]] == [[21.0], [6.0, 21.0], [], [], []]
    assert pivot["global_taxes"] == [21.0]


def test_global_taxes_validated_in_the_seeds_terms():
    """``amount`` = what the tax applies to, ``tax_amount`` = the tax, as a percentage or a fixed value."""
    values = validation_values({"taxes": [
        {"base": 1200.0, "amount": 21.0, "type": "percent", "price_include": False},
        {"base": 1200.0, "amount": 5.0, "type": "fixed", "price_include": True}]})
    assert values["global_taxes"] == {"content": [
        {"amount": 1200.0, "tax_amount": 21.0, "tax_amount_type": "percent", "tax_price_include": False},
        {"amount": 1200.0, "tax_amount": 5.0, "tax_amount_type": "fixed", "tax_price_include": True}]}
