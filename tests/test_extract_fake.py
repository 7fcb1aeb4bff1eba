"""Tests for the loopback fake of the IAP Extract API, generation 1 (plain Python, no Odoo)."""

from __future__ import annotations

import base64
import copy
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ib_fakes.extract_fake import DEFAULT_RESULT, GENERATION_1_FEATURES, IapExtractFake

from tests.conftest import DATA, FAKES_CLI

T = 5  # seconds: timeout on every HTTP call
REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = DATA / "extract_sample_bill.pdf"
PDF = base64.b64encode(SAMPLE.read_bytes()).decode()
PARSE, RESULTS, VALIDATE = ("/iap/invoice_extract/parse", "/iap/invoice_extract/get_results",
                            "/iap/invoice_extract/validate")
CANDIDATE_KEYS = {"content", "coords", "page"}


@pytest.fixture
def fake():
    with IapExtractFake() as server:
        yield server


def rpc(fake, path, params, request_id="a1b2c3", session=None):
    """One JSON-RPC call; returns the ``result`` after checking the envelope."""
    body = {"jsonrpc": "2.0", "method": "call", "params": params, "id": request_id}
    response = (session or requests).post(fake.url + path, json=body, timeout=T)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["jsonrpc"] == "2.0" and answer["id"] == request_id and "error" not in answer
    return answer["result"]


def parse(fake, token="tok", document=PDF, **params):
    return rpc(fake, PARSE, {"account_token": token, "version": 120, "documents": [document], **params})


def results(fake, ids, version=120):
    return rpc(fake, RESULTS, {"version": version, "documents_ids": ids})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def good_values():
    return {
        "merged_lines": False,
        "supplier": {"content": "Wood Corner"},
        "VAT_Number": {"content": "BE0477472701"},
        "date": {"content": "2026-11-02"},
        "total": {"content": 121.0},
        "subtotal": {"content": 100},
        "global_taxes": {"content": [{"amount": 21.0, "tax_amount": 21.0, "tax_amount_type": "percent",
                                      "tax_price_include": False}]},
        "invoice_lines": {"lines": [{"description": "Desk", "quantity": 1.0, "unit_price": 100.0,
                                     "product": "", "taxes_amount": 21.0,
                                     "taxes": [{"amount": 21.0, "type": "percent", "price_include": False}],
                                     "subtotal": 100.0, "total": 121.0}]},
    }


# ------------------------------------------------------------------------------------------ JSON-RPC envelope
@pytest.mark.parametrize(("body", "headers"), [
    (b"not json", None),
    (json.dumps({"jsonrpc": "1.0", "method": "call", "params": {}, "id": "x"}), None),
    (json.dumps({"jsonrpc": "2.0", "method": "parse", "params": {}, "id": "x"}), None),
    (json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}}), None),
    (json.dumps({"jsonrpc": "2.0", "method": "call", "params": [], "id": "x"}), None),
    (json.dumps({"jsonrpc": "2.0", "method": "call", "id": "x"}), None),
    (json.dumps([{"jsonrpc": "2.0", "method": "call", "params": {}, "id": "x"}]), None),
    (json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}, "id": "x", "extra": 1}), None),
    (json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}, "id": "x"}),
     {"Content-Type": "text/plain"}),
])
def test_malformed_jsonrpc_is_http_400(fake, body, headers):
    headers = headers or {"Content-Type": "application/json"}
    response = requests.post(fake.url + PARSE, data=body, headers=headers, timeout=T)
    assert response.status_code == 400
    assert response.json()["error"]
    assert fake.count("parse") == 0 and fake.documents == {}
    assert len(fake.malformed) == 1 and fake.malformed[0]["route"] == "parse"


def test_get_and_unknown_paths(fake):
    assert requests.get(fake.url + PARSE, timeout=T).status_code == 405
    assert requests.post(fake.url + "/iap/other", json={}, timeout=T).status_code == 404


# ------------------------------------------------------------------------------------------------- parse
def test_parse_success_ids_and_user_infos(fake):
    infos = {"user_company_vat": "BE0123456789", "user_company_name": "My Company",
             "user_company_country_code": "BE", "user_lang": "en_US", "user_email": "ap@example.com"}
    first = parse(fake, user_infos=infos)
    assert first == {"status_code": 0, "status_msg": "Success", "document_id": 1000}
    assert parse(fake)["document_id"] == 1001
    document = fake.documents[1000]
    assert document["format"] == "pdf" and document["user_infos"] == infos and document["size"] > 0
    assert fake.billed == {"tok": 2}


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x89PNG\r\n\x1a\n0000", "png"), (b"\xff\xd8\xff\xe0JFIF", "jpg"), (b"BM6\x00\x00", "bmp"),
])
def test_parse_image_formats(fake, data, kind):
    document_id = parse(fake, document=b64(data))["document_id"]
    assert fake.documents[document_id]["format"] == kind


def test_parse_uses_the_first_pdf(fake):
    result = rpc(fake, PARSE, {"account_token": "tok", "version": 120, "user_infos": {},
                               "documents": [b64(b"\x89PNG...."), PDF]})
    assert fake.documents[result["document_id"]]["format"] == "pdf"


def test_unsupported_format_is_6_and_not_billed(fake):
    fake.set_credit("tok", 5)
    result = parse(fake, document=b64(b"hello, not a document"))
    assert result["status_code"] == 6 and "document_id" not in result
    assert "Unsupported file format" in result["status_msg"]
    assert fake.credit("tok") == 5 and fake.billed == {}


@pytest.mark.parametrize("params", [
    {"version": 119, "documents": [PDF]},
    {"documents": [PDF]},
    {"version": 120, "documents": []},
    {"version": 120},
    {"version": 120, "documents": ["%%% not base64"]},
    {"version": 120, "documents": [PDF], "user_infos": "en_US"},
])
def test_parse_bad_params_are_status_2(fake, params):
    result = rpc(fake, PARSE, {"account_token": "tok", **params})
    assert result["status_code"] == 2 and result["status_msg"] and "document_id" not in result
    no_token = rpc(fake, PARSE, {"version": 120, "documents": [PDF]})
    assert no_token["status_code"] == 2, "account_token is required"


def test_credit_and_integration_token(fake):
    fake.set_credit("tok", 1)
    assert parse(fake)["status_code"] == 0
    assert fake.credit("tok") == 0
    no_credit = parse(fake)
    assert no_credit["status_code"] == 3 and "document_id" not in no_credit
    assert fake.billed == {"tok": 1}
    fake.set_credit("integration_token", 0)  # test mode never checks nor takes credits
    for _ in range(3):
        assert parse(fake, token="integration_token")["status_code"] == 0
    assert "integration_token" not in fake.billed and fake.credit("integration_token") == 0
    assert parse(fake, token="rich")["status_code"] == 0, "unlimited credit by default"


# ------------------------------------------------------------------------------------------- maintenance
def test_maintenance_on_every_route(fake):
    document_id = parse(fake)["document_id"]
    fake.maintenance(True)
    assert parse(fake)["status_code"] == 9
    answer = results(fake, [document_id, 4242])
    assert set(answer) == {str(document_id), "4242"}, "maintenance is answered per document"
    assert all(v["status_code"] == 9 and "maintenance" in v["status_msg"] for v in answer.values())
    assert rpc(fake, VALIDATE, {"document_id": document_id, "values": good_values()})["status_code"] == 9
    assert fake.documents[document_id]["polls"] == 0 and fake.validations == {}
    fake.maintenance(False)
    assert results(fake, [document_id])[str(document_id)]["status_code"] == 1
    assert rpc(fake, VALIDATE, {"document_id": document_id, "values": good_values()})["status_code"] == 0


# ------------------------------------------------------------------------------------------- get_results
def assert_candidate(candidate):
    assert set(candidate) >= CANDIDATE_KEYS
    assert len(candidate["coords"]) == 5 and all(isinstance(c, float) for c in candidate["coords"])
    assert all(0 <= c <= 1 for c in candidate["coords"][:4]) and candidate["page"] == 0


def assert_feature(feature, content):
    assert set(feature) == {"selected_value", "words"}
    assert_candidate(feature["selected_value"])
    assert feature["selected_value"]["content"] == content
    assert feature["words"] and feature["words"][0] == feature["selected_value"]


def assert_tax_feature(feature, contents):
    assert set(feature) == {"selected_values", "words"} and isinstance(feature["selected_values"], list)
    assert [c["content"] for c in feature["selected_values"]] == contents
    for candidate in feature["selected_values"] + feature["words"]:
        assert_candidate(candidate)
        assert candidate["amount_type"] == "percent"


def test_get_results_not_ready_then_documented_wire_format(fake):
    document_id = parse(fake)["document_id"]
    first = results(fake, [document_id])
    assert list(first) == [str(document_id)], "keys are strings"
    assert first[str(document_id)] == {"status_code": 1, "status_msg": "Not ready"}
    answer = results(fake, [document_id])[str(document_id)]
    assert answer["status_code"] == 0 and answer["status_msg"] == "Success"
    assert isinstance(answer["results"], list) and len(answer["results"]) == 1
    features = answer["results"][0]
    for name in ("supplier", "VAT_Number", "country", "currency", "date", "due_date", "invoice_id"):
        assert_feature(features[name], DEFAULT_RESULT[name])
    assert "iban" not in features, "seed 001 documents no iban feature"
    assert set(features) <= GENERATION_1_FEATURES
    assert features["date"]["selected_value"]["content"] == "2026-11-02 00:00:00"
    for name in ("subtotal", "total", "global_taxes_amount"):
        assert_feature(features[name], DEFAULT_RESULT[name])
        assert isinstance(features[name]["selected_value"]["content"], float)
    assert_tax_feature(features["global_taxes"], [21.0])
    swift = features["SWIFT_code"]["selected_value"]["content"]
    assert isinstance(swift, str) and json.loads(swift) == DEFAULT_RESULT["SWIFT_code"]
    lines = features["invoice_lines"]
    assert isinstance(lines, list) and len(lines) == 1
    line = lines[0]
    assert set(line) == {"description", "quantity", "unit_price", "subtotal", "total", "taxes", "discount",
                         "product", "unit"}
    assert_feature(line["description"], "Desk")
    assert_feature(line["quantity"], 1.0)
    assert_feature(line["unit_price"], 100.0)
    # seed 001: every line feature is a feature_result with ONE selected_value, taxes included
    assert set(line["taxes"]) == {"selected_value", "words"}
    assert line["taxes"]["selected_value"]["content"] == 21.0
    assert line["taxes"]["selected_value"]["amount_type"] == "percent"
    for candidate in line["taxes"]["words"]:
        assert_candidate(candidate)
    assert fake.documents[document_id]["polls"] == 2


def test_set_result_not_ready_polls_and_unknown_ids(fake):
    fake.set_not_ready_polls(0)
    custom = copy.deepcopy(DEFAULT_RESULT)
    custom.update({"supplier": "Other", "VAT_Number": None, "global_taxes": [6.0, 21.0],
                   "total": {"selected_value": {"content": "raw", "coords": [0, 0, 0, 0, 0], "page": 1},
                             "words": []}})
    fake.set_result(1001, custom)
    fake.set_result("default", {"supplier": "Everyone", "invoice_lines": []})
    first, second = parse(fake)["document_id"], parse(fake)["document_id"]
    answer = results(fake, [first, second, 4242])
    assert set(answer) == {str(first), str(second), "4242"}
    assert answer[str(first)]["results"][0]["invoice_lines"] == []
    assert set(answer[str(first)]["results"][0]) == {"supplier", "invoice_lines"}
    features = answer[str(second)]["results"][0]
    assert features["supplier"]["selected_value"]["content"] == "Other"
    assert "VAT_Number" not in features, "a missing feature is absent"
    assert_tax_feature(features["global_taxes"], [6.0, 21.0])
    assert features["total"]["selected_value"]["page"] == 1, "wire-format values are passed through"
    assert answer["4242"]["status_code"] == 2
    fake.fail_document(first)
    assert results(fake, [first])[str(first)]["status_code"] == 2


def test_500_pending_documents_one_call(fake):
    params = {"account_token": "integration_token", "version": 120, "documents": [PDF]}
    with requests.Session() as session:
        ids = [rpc(fake, PARSE, params, session=session)["document_id"] for _ in range(500)]
    assert ids == list(range(1000, 1500))
    answer = results(fake, ids)
    assert fake.count("get_results") == 1 and fake.count(RESULTS) == 1
    assert len(answer) == 500 and all(v["status_code"] == 1 for v in answer.values())
    route, params = fake.calls[-1]
    assert route == "get_results" and params["documents_ids"] == ids
    answer = results(fake, ids)
    assert fake.count("get_results") == 2 and all(v["status_code"] == 0 for v in answer.values())
    assert fake.state()["get_results_batches"] == [500, 500]


def test_get_results_bad_version_and_ids(fake):
    document_id = parse(fake)["document_id"]
    assert results(fake, [document_id], version=130)[str(document_id)]["status_code"] == 2
    assert fake.documents[document_id]["polls"] == 0
    assert rpc(fake, RESULTS, {"version": 120, "documents_ids": ["1000"]})["status_code"] == 2


# ------------------------------------------------------------------------------------------------ validate
def broken(mutate):
    values = good_values()
    mutate(values)
    return values


@pytest.mark.parametrize(("values", "field"), [
    ("not an object", "values"),
    (broken(lambda v: v.update(merged_lines="no")), "values.merged_lines"),
    # seed 001's prose says merged_line, its JSON merged_lines: the JSON wins
    (broken(lambda v: v.update(merged_line=False)), "values.merged_line"),
    (broken(lambda v: v.update(iban={"content": "BE68539007547034"})), "values.iban"),
    (broken(lambda v: v.update(total=121.0)), "values.total"),
    (broken(lambda v: v.update(total={"content": None})), "values.total.content"),
    (broken(lambda v: v.update(supplier={"value": "Wood Corner"})), "values.supplier.content"),
    (broken(lambda v: v["global_taxes"].update(content={"amount": 21.0})), "values.global_taxes.content"),
    (broken(lambda v: v["global_taxes"]["content"][0].update(tax_amount_type="percentage")),
     "values.global_taxes.content[0].tax_amount_type"),
    (broken(lambda v: v["global_taxes"]["content"][0].update(tax_price_include="false")),
     "values.global_taxes.content[0].tax_price_include"),
    (broken(lambda v: v.update(invoice_lines={"content": []})), "values.invoice_lines.lines"),
    (broken(lambda v: v["invoice_lines"]["lines"][0].pop("unit_price")),
     "values.invoice_lines.lines[0].unit_price"),
    (broken(lambda v: v["invoice_lines"]["lines"][0].update(quantity="1")),
     "values.invoice_lines.lines[0].quantity"),
    (broken(lambda v: v["invoice_lines"]["lines"][0]["taxes"][0].update(type="percentage")),
     "values.invoice_lines.lines[0].taxes[0].type"),
    (broken(lambda v: v["invoice_lines"]["lines"][0]["taxes"][0].update(price_include=1)),
     "values.invoice_lines.lines[0].taxes[0].price_include"),
])
def test_validate_wrong_format_is_12(fake, values, field):
    document_id = parse(fake)["document_id"]
    result = rpc(fake, VALIDATE, {"document_id": document_id, "values": values})
    assert result["status_code"] == 12 and field in result["status_msg"], result
    assert fake.validations == {}
    assert rpc(fake, VALIDATE, {"document_id": document_id, "values": good_values()})["status_code"] == 0, \
        "a rejected format does not use up the validation"


def test_validate_once(fake):
    document_id = parse(fake)["document_id"]
    assert rpc(fake, VALIDATE, {"document_id": document_id, "values": good_values()}) == {
        "status_code": 0, "status_msg": "Success"}
    again = rpc(fake, VALIDATE, {"document_id": document_id, "values": good_values()})
    assert again["status_code"] == 2 and "already validated" in again["status_msg"]
    assert fake.validations == {document_id: good_values()}
    assert fake.duplicate_validations == [document_id]
    assert [a["status_code"] for a in fake.validation_attempts] == [0, 2]
    assert fake.documents[document_id]["validated"] is True
    assert rpc(fake, VALIDATE, {"document_id": 4242, "values": good_values()})["status_code"] == 2
    assert rpc(fake, VALIDATE, {"document_id": "1000", "values": good_values()})["status_code"] == 2


# ---------------------------------------------------------------------------------------- failure injection
def test_fail_next_is_transport_level(fake):
    fake.fail_next(2, http_status=503)
    for _ in range(2):
        response = requests.post(fake.url + PARSE, json={"jsonrpc": "2.0", "method": "call", "id": "x",
                                                         "params": {"account_token": "tok", "version": 120,
                                                                    "documents": [PDF]}}, timeout=T)
        assert response.status_code == 503 and response.content == b""
    assert fake.documents == {} and fake.count("parse") == 2
    assert [r["http_status"] for r in fake.requests] == [503, 503]
    assert parse(fake)["status_code"] == 0
    fake.fail_next(1, http_status=502, body="Bad Gateway")
    response = requests.post(fake.url + RESULTS, json={}, timeout=T)
    assert response.status_code == 502 and response.text == "Bad Gateway"


def test_delay_makes_clients_time_out(fake):
    fake.delay(0.5, count=1)
    body = {"jsonrpc": "2.0", "method": "call", "id": "x",
            "params": {"account_token": "tok", "version": 120, "documents": [PDF]}}
    with pytest.raises(requests.Timeout):
        requests.post(fake.url + PARSE, json=body, timeout=0.1)
    assert list(fake.documents) == [1000], "the slow server still processed the request"
    assert parse(fake)["document_id"] == 1001


def test_keep_alive(fake):
    with requests.Session() as session:
        document_id = rpc(fake, PARSE, {"account_token": "t", "version": 120, "documents": [PDF]},
                          session=session)["document_id"]
        for _ in range(3):
            rpc(fake, RESULTS, {"version": 120, "documents_ids": [document_id]}, session=session)
    assert fake.connection_count == 1


# ------------------------------------------------------------------------------------------ control endpoints
def test_control_endpoints(fake):
    config = {"credit": {"poor": 0, "some": 2}, "not_ready_polls": 0,
              "results": {"default": {"supplier": "Configured", "total": 5}}}
    assert requests.post(fake.url + "/_fake/config", json=config, timeout=T).json() == {"ok": True}
    assert parse(fake, token="poor")["status_code"] == 3
    document_id = parse(fake, token="some")["document_id"]
    features = results(fake, [document_id])[str(document_id)]["results"][0]
    assert set(features) == {"supplier", "total"} and features["total"]["selected_value"]["content"] == 5.0
    rpc(fake, VALIDATE, {"document_id": document_id, "values": {"total": {"content": 5.0}}})
    state = requests.get(fake.url + "/_fake/state", timeout=T).json()
    assert state["calls"] == {"parse": 2, "get_results": 1, "validate": 1}
    assert state["credits"] == {"poor": 0, "some": 1} and state["billed"] == {"some": 1}
    assert state["validations"] == {str(document_id): {"total": {"content": 5.0}}}
    assert state["documents"][str(document_id)]["polls"] == 1 and state["not_ready_polls"] == 0

    requests.post(fake.url + "/_fake/config", json={"maintenance": True}, timeout=T)
    assert parse(fake)["status_code"] == 9
    assert requests.get(fake.url + "/_fake/state", timeout=T).json()["maintenance"] is True

    for bad in ({"nope": 1}, {"maintenance": "yes"}, {"credit": {"x": "many"}}, [1]):
        response = requests.post(fake.url + "/_fake/config", json=bad, timeout=T)
        assert response.status_code == 400 and response.json()["error"]
    assert requests.get(fake.url + "/_fake/nothing", timeout=T).status_code == 404

    assert requests.post(fake.url + "/_fake/reset", timeout=T).json() == {"ok": True}
    state = requests.get(fake.url + "/_fake/state", timeout=T).json()
    assert state["calls"] == {"parse": 0, "get_results": 0, "validate": 0}
    assert state["documents"] == {} and state["credits"] == {} and state["maintenance"] is False
    assert state["not_ready_polls"] == 1
    assert parse(fake)["document_id"] > document_id, "ids are never reused"


def test_config_fail_next_and_delay(fake):
    requests.post(fake.url + "/_fake/config", json={"fail_next": 1, "http_status": 500}, timeout=T)
    assert requests.post(fake.url + PARSE, json={}, timeout=T).status_code == 500
    assert parse(fake)["status_code"] == 0


# --------------------------------------------------------------------------------------------- sample, CLI
def test_sample_bill_pdf():
    data = SAMPLE.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-32:] and len(data) < 10_000


def test_cli_prints_url_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, str(FAKES_CLI), "extract_fake", "--port", "0"],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/_fake/state", timeout=T).json()["calls"]["parse"] == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=T) == 0
        proc.stdout.close()


# ------------------------------------------------------------------------------------------------ generation 2
PARSE2, RESULT2, VALIDATE2 = ("/api/extract/invoice/2/parse", "/api/extract/invoice/2/get_result",
                              "/api/extract/invoice/2/validate")


def parse2(fake, token="tok", document=PDF, **params):
    return rpc(fake, PARSE2, {"account_token": token, "version": 123, "documents": [document],
                              "user_infos": {"user_lang": "en_US"}, **params})


def result2(fake, document_token, **params):
    return rpc(fake, RESULT2, {"version": 123, "document_token": document_token, **params})


def test_v2_parse_success_unsupported_no_credit_maintenance(fake):
    answer = parse2(fake, dbuuid="db-1")
    assert answer["status"] == "success" and set(answer) == {"status", "document_token"}
    token = answer["document_token"]
    assert isinstance(token, str) and int(token, 16) >= 0
    assert parse2(fake)["document_token"] != token
    assert fake.documents[token]["format"] == "pdf" and fake.documents[token]["dbuuid"] == "db-1"
    assert parse2(fake, document=b64(b"GIF89a...")) == {"status": "error_unsupported_format"}
    fake.set_credit("poor", 1)
    assert parse2(fake, token="poor")["status"] == "success"
    assert parse2(fake, token="poor") == {"status": "error_no_credit"}
    assert fake.credit("poor") == 0 and fake.billed == {"tok": 2, "poor": 1}
    fake.set_credit("integration_token", 0)
    assert parse2(fake, token="integration_token")["status"] == "success"
    assert "integration_token" not in fake.billed
    assert parse2(fake, version=120)["status"] == "error_internal"
    assert parse2(fake, webhook_url=5)["status"] == "error_internal"
    assert rpc(fake, PARSE2, {"account_token": "tok", "version": 123, "documents": [PDF, PDF]})["status"] \
        == "error_internal"
    fake.maintenance()
    assert parse2(fake) == {"status": "error_maintenance"}
    assert fake.count("parse_v2") == fake.count(PARSE2) == 10 and fake.count("parse") == 0
    assert fake.state()["calls_v2"]["parse_v2"] == 10


def test_v2_malformed_jsonrpc_is_http_400(fake):
    response = requests.post(fake.url + PARSE2, data=b"not json", timeout=T,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and fake.count(PARSE2) == 0 and fake.documents == {}


def test_v2_get_result_processing_then_gen1_wire_format(fake):  # plus an iban
    fake.set_not_ready_polls(2)
    token = parse2(fake)["document_token"]
    assert result2(fake, token) == {"status": "processing"}
    assert result2(fake, token, account_token="tok") == {"status": "processing"}
    answer = result2(fake, token)
    assert answer["status"] == "success" and len(answer["results"]) == 1
    gen1_id = parse(fake)["document_id"]
    for _ in range(2):
        results(fake, [gen1_id])
    gen1 = results(fake, [gen1_id])[str(gen1_id)]["results"]
    v2_features = answer["results"][0]
    assert {k: v for k, v in v2_features.items() if k != "iban"} == gen1[0], "the same wire format"
    assert "iban" in v2_features and "iban" not in gen1[0], "iban: generation 2 only"
    total = answer["results"][0]["total"]
    assert total["selected_value"]["content"] == 121.0 and set(total["selected_value"]) == CANDIDATE_KEYS
    assert fake.count(RESULT2) == fake.count("get_result_v2") == 3
    assert fake.state()["calls_v2"]["get_result_v2"] == 3


def test_v2_get_result_unknown_failed_maintenance_and_custom_result(fake):
    fake.set_not_ready_polls(0)
    assert result2(fake, "deadbeef") == {"status": "error_document_not_found"}
    assert result2(fake, "1000") == {"status": "error_document_not_found"}
    failed, custom = parse2(fake)["document_token"], parse2(fake)["document_token"]
    fake.fail_document(failed)
    assert result2(fake, failed)["status"] == "error_internal"
    fake.set_result(custom, {"supplier": "Custom"})
    assert set(result2(fake, custom)["results"][0]) == {"supplier"}
    assert result2(fake, failed, version=122)["status"] == "error_internal"
    fake.maintenance()
    assert result2(fake, custom) == {"status": "error_maintenance"}


def test_v2_validate_once(fake):
    token = parse2(fake)["document_token"]
    bad = rpc(fake, VALIDATE2, {"document_token": token, "values": {"total": {"content": [1]}}})
    assert bad["status"] == "error_invalid_validation_format" and "values.total" in bad["status_msg"]
    assert rpc(fake, VALIDATE2, {"document_token": token, "values": good_values()}) == {"status": "success"}
    again = rpc(fake, VALIDATE2, {"document_token": token, "values": good_values()})
    assert again == {"status": "error_already_validated"}
    assert rpc(fake, VALIDATE2, {"document_token": "nope", "values": {}}) == {
        "status": "error_document_not_found"}
    assert fake.validations == {token: good_values()} and fake.documents[token]["validated"]
    assert [a["status"] for a in fake.validation_attempts] == [
        "error_invalid_validation_format", "success", "error_already_validated", "error_document_not_found"]
    assert fake.duplicate_validations == [token] and fake.count(VALIDATE2) == 4
    assert fake.state()["calls_v2"]["validate_v2"] == 4 and fake.state()["calls"]["validate"] == 0


def wait_for_callbacks(fake, timeout=5.0):
    """True once the fake recorded a webhook callback attempt."""
    import time

    deadline = time.monotonic() + timeout
    while not fake.callbacks and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(fake.callbacks)


@pytest.fixture
def callback_server():
    """A tiny local HTTP server recording the paths it is POSTed to."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits, event = [], threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            hits.append((self.path, self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            event.set()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits, event
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("not_ready_polls", [0, 3])
def test_v2_webhook_callback(fake, callback_server, not_ready_polls):
    base, hits, event = callback_server
    fake.set_not_ready_polls(not_ready_polls)
    fake.callback_delay = 0.3
    url = base + "/extract/callback/"
    token = parse2(fake, webhook_url=url)["document_token"]
    if not_ready_polls:
        assert result2(fake, token) == {"status": "processing"}  # the delayed callback has not fired yet
    assert event.wait(5)
    assert hits == [("/extract/callback/" + token, b"")]
    assert result2(fake, token)["status"] == "success"  # ready once the callback fired, polls or not
    assert wait_for_callbacks(fake) and fake.callbacks == [(base + "/extract/callback/" + token, 200)]
    assert fake.state()["callbacks"] == [[base + "/extract/callback/" + token, 200]]


def test_v2_webhook_unreachable_is_recorded(fake):
    fake.set_not_ready_polls(0)
    token = parse2(fake, webhook_url="http://127.0.0.1:9/hook")["document_token"]
    assert wait_for_callbacks(fake)
    [(url, outcome)] = fake.callbacks
    assert url == "http://127.0.0.1:9/hook/" + token and isinstance(outcome, str)
    assert result2(fake, token)["status"] == "success"
