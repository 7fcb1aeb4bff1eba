"""Tests for the loopback fake of easybill's REST API v1 and its swagger validator (plain Python, no Odoo)."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from ib_fakes.easybill_fake import SPEC, FakeEasybill, cents
from ib_fakes.easybill_swagger2 import Swagger

from tests.conftest import FAKES_CLI

T = 5  # seconds: timeout on every HTTP call
KEY = "test-key"
REPO_ROOT = Path(__file__).resolve().parent.parent
CSV = 'Name;Betrag;Notiz\r\n"Müller, Jörg";12,50;"sagt ""Grüß Gott""; danach"\r\nÄrger;1;ß\n'.encode()


@pytest.fixture
def fake():
    with FakeEasybill(api_key=KEY) as server:
        yield server


@pytest.fixture
def api(fake):
    """A session on the fake's API base: ``api.get("/customers")``."""

    class Api(requests.Session):
        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", T)
            return super().request(method, fake.api_url + url, *args, **kwargs)

    with Api() as session:
        session.headers["Authorization"] = f"Bearer {KEY}"
        yield session


def create_customer(api, **values):
    response = api.post("/customers", json={"company_name": "Müller GmbH", "last_name": None, **values})
    assert response.status_code == 201, response.text
    return response.json()


def create_document(api, customer_id=None, **values):
    body = {"customer_id": customer_id, "title": "INV/2026/0001", "document_date": "2026-11-02", **values}
    body.setdefault("items", [{"description": "Desk", "quantity": 2, "single_price_net": 10000, "vat_percent": 19}])
    response = api.post("/documents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def upload(api, content=CSV, name="Rechnung_Müller.csv", content_type="text/csv; charset=utf-8"):
    response = api.post("/attachments", files={"file": (name, content, content_type)})
    assert response.status_code == 201, response.text
    return response.json()


def error_of(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and isinstance(body["message"], str)
    return body["message"]


# ------------------------------------------------------------------------------------------ the happy path
def test_customer_document_attachment_flow(fake, api):
    customer = create_customer(api, emails=["ap@mueller.example"])
    assert customer["number"] == "10001" and customer["display_name"] == "Müller GmbH"
    assert api.get(f"/customers/{customer['id']}").json() == customer

    document = create_document(api, customer["id"], due_in_days=14)
    assert document["is_draft"] is True and document["number"] is None and document["type"] == "INVOICE"
    assert document["due_date"] == "2026-11-16"
    [item] = document["items"]
    assert (item["total_price_net"], item["total_vat"], item["total_price_gross"]) == (20000, 3800, 23800)
    assert (document["amount_net"], document["amount"]) == (20000, 23800)

    done = api.put(f"/documents/{document['id']}/done")
    assert done.status_code == 200 and done.json()["is_draft"] is False and done.json()["number"]
    again = api.put(f"/documents/{document['id']}/done").json()
    assert again["number"] == done.json()["number"], "a finished document keeps its number"

    attachment = upload(api)
    assert attachment["file_name"] == "Rechnung_Müller.csv" and attachment["size"] == len(CSV)
    assert attachment["document_id"] is None
    linked = api.put(f"/attachments/{attachment['id']}", json={"document_id": document["id"]})
    assert linked.status_code == 200 and linked.json()["document_id"] == document["id"]
    assert api.get(f"/attachments/{attachment['id']}").json() == linked.json()
    assert api.get(f"/documents/{document['id']}").json()["attachment_ids"] == [attachment["id"]]
    content = api.get(f"/attachments/{attachment['id']}/content")
    assert content.content == CSV and content.headers["Content-Type"] == "text/csv; charset=utf-8"

    assert [r["status"] for r in fake.requests] == [201, 200, 201, 200, 200, 201, 200, 200, 200, 200]
    first = fake.requests[0]
    assert first["method"] == "POST" and first["path"] == "/rest/v1/customers" and first["query"] == {}
    assert first["headers"]["authorization"] == f"Bearer {KEY}" and json.loads(first["body"])["last_name"] is None
    assert set(fake.customers) == {customer["id"]} and set(fake.documents) == {document["id"]}
    assert fake.attachments[attachment["id"]]["content"] == CSV


def test_lists_filter_and_paginate(api):
    first, second = create_customer(api), create_customer(api, number="K-7", company_name="Zweite AG")
    listed = api.get("/customers", params={"number": "K-7"}).json()
    assert listed == {"page": 1, "pages": 1, "limit": 100, "total": 1, "items": [second]}
    both = api.get("/customers?number[]=K-7&number[]=10001").json()
    assert [c["id"] for c in both["items"]] == [first["id"], second["id"]]
    assert api.get("/customers", params={"number": "10001,K-7", "limit": 1, "page": 2}).json() == {
        "page": 2, "pages": 2, "limit": 1, "total": 2, "items": [second]}
    assert api.get("/customers", params={"number": "nope"}).json()["items"] == []
    taken = api.post("/customers", json={"company_name": "X", "last_name": None, "number": "K-7"})
    assert "number" in error_of(taken, 400)

    draft = create_document(api, first["id"])
    done = create_document(api, second["id"], title="Other, with comma")
    api.put(f"/documents/{done['id']}/done")
    ids = [d["id"] for d in api.get("/documents", params={"is_draft": "1"}).json()["items"]]
    assert ids == [draft["id"]]
    found = api.get("/documents", params={"customer_id": f"{first['id']},{second['id']}", "type": "INVOICE,CREDIT"})
    assert found.json()["total"] == 2
    escaped = api.get("/documents", params={"title": r"Other\, with comma"}, headers={"X-Easybill-Escape": "true"})
    assert [d["id"] for d in escaped.json()["items"]] == [done["id"]]
    assert "vat_country" in error_of(api.get("/documents", params={"vat_country": "DE"}), 501)
    assert api.get("/documents", params={"paid_at": "null"}).json()["total"] == 2, "unpaid: paid_at null"


def test_totals_in_cents(api):
    items = [
        {"quantity": 3, "single_price_net": 333.5, "vat_percent": 7},  # 1000.5 -> 1001 (half away from zero)
        {"quantity": 1, "single_price_net": 10000, "vat_percent": 19, "discount": 10, "discount_type": "PERCENT"},
        {"quantity": 2, "single_price_net": 500, "discount": 100, "discount_type": "AMOUNT"},
        {"type": "TEXT", "description": "Thank you"},
        {"type": "POSITION_NOCALC", "quantity": 1, "single_price_net": 999},
    ]
    document = create_document(api, items=items)
    totals = [(i["total_price_net"], i["total_vat"], i["total_price_gross"]) for i in document["items"]]
    assert totals == [(1001, 70, 1071), (9000, 1710, 10710), (900, 0, 900), (0, 0, 0), (999, 0, 999)]
    assert [i["position"] for i in document["items"]] == [1, 2, 3, 4, 5]
    assert (document["amount_net"], document["amount"]) == (10901, 12681), "NOCALC and TEXT are not summed"
    gross = create_document(api, calc_vat_from=1, items=[{"single_price_gross": 11900, "vat_percent": 19}])
    assert (gross["amount_net"], gross["amount"]) == (10000, 11900)
    exempt = create_document(api, vat_option="IG", items=[{"single_price_net": 100, "vat_percent": 19}])
    assert exempt["amount"] == exempt["amount_net"] == 100
    assert cents(2.675 * 100) == 268 and cents(-0.5) == -1 and cents(0.49) == 0


# ------------------------------------------------------------------------------------- malformed requests
@pytest.mark.parametrize(("change", "field"), [
    ({"items": [{"quantity": "2", "single_price_net": 100}]}, "items[0].quantity"),
    ({"is_draft": False}, "is_draft"),
    ({"amount": 23800}, "amount"),
    ({"items": [{"quantity": 1, "total_price_net": 100}]}, "items[0].total_price_net"),
    ({"type": "BILL"}, "type"),
    ({"document_date": "02.11.2026"}, "document_date"),
    ({"login_id": None}, "login_id"),  # not x-nullable
    ({"itmes": []}, "itmes"),  # undeclared property
    ({"address": {"city": "Kaarst"}}, "address"),  # a read-only object
    ({"file_format_config": [{"type": "xrechnung"}]}, "file_format_config[0].type"),  # not in the enum
    ({"file_format_config": [{}]}, "file_format_config[0].type"),  # type is required
])
def test_malformed_document_is_400_naming_the_field(fake, api, change, field):
    body = {"title": "x", "items": [{"quantity": 1, "single_price_net": 100}], **change}
    message = error_of(api.post("/documents", json=body), 400)
    assert message.startswith(f"{field}: "), message
    assert fake.documents == {}


def test_malformed_customer_and_attachment_bodies(fake, api):
    message = error_of(api.post("/customers", json={"first_name": "Max"}), 400)
    assert "last_name: is required" in message and "company_name: is required" in message
    assert "created_at" in error_of(api.post("/customers", json={"company_name": "A", "last_name": None,
                                                                  "created_at": "2026-01-01"}), 400)
    assert "(body)" in error_of(api.post("/customers", json=["not", "an", "object"]), 400)
    assert "not JSON" in error_of(api.post("/customers", data=b"{nope", headers={"Content-Type": "application/json"}),
                                  400)
    assert "application/json" in error_of(api.post("/customers", data=b"{}", headers={"Content-Type": "text/plain"}),
                                          415)
    attachment = upload(api)
    assert "document_id" in error_of(api.put(f"/attachments/{attachment['id']}", json={"document_id": "5"}), 400)
    assert "file_name" in error_of(api.put(f"/attachments/{attachment['id']}", json={"file_name": "x.pdf"}), 400)
    assert fake.customers == {}


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/documents", {"type": "BILL"}, "query type"),
    ("/documents", {"type": "INVOICE,BILL"}, "query type"),
    ("/documents", {"is_draft": "true"}, "query is_draft"),
    ("/customers", {"limit": 0}, "query limit"),
    ("/customers", {"limit": 1001}, "query limit"),
    ("/customers", {"page": "first"}, "query page"),
    ("/customers", {"numbers": "1"}, "query numbers"),
    ("/customers", {"number": ["1", "2"]}, "query number"),  # repeated without [] (use a comma list)
])
def test_malformed_query_is_400(api, path, params, field):
    assert error_of(api.get(path, params=params), 400).startswith(f"{field}: ")


def test_non_multipart_attachment_is_400(fake, api):
    assert "multipart" in error_of(api.post("/attachments", json={"file": "x"}), 400)
    assert "multipart" in error_of(api.post("/attachments", data=b"plain", headers={"Content-Type": "text/csv"}), 400)
    truncated = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\na;b'
    assert "closing boundary" in error_of(
        api.post("/attachments", data=truncated, headers={"Content-Type": "multipart/form-data; boundary=b"}), 400)
    assert "file: is required" in error_of(api.post("/attachments", files={"other": ("a.csv", b"x")}), 400)
    assert fake.attachments == {}


# ----------------------------------------------------------------------------------------- auth and 404s
def test_auth(fake, api):
    url = fake.api_url + "/customers"
    assert "Bearer" in error_of(requests.get(url, timeout=T), 401)
    assert error_of(requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=T), 401)
    assert error_of(requests.get(url, headers={"Authorization": KEY}, timeout=T), 401)
    basic = base64.b64encode(f"ap@example.com:{KEY}".encode()).decode()
    assert requests.get(url, headers={"Authorization": f"Basic {basic}"}, timeout=T).status_code == 200
    assert requests.get(url, auth=("ap@example.com", "wrong"), timeout=T).status_code == 401
    assert error_of(requests.post(url, json={"company_name": "A", "last_name": None}, timeout=T), 401)
    assert fake.customers == {}


def test_unknown_ids_and_paths_are_404(api):
    customer = create_customer(api)
    document = create_document(api)
    attachment = upload(api)
    for path in ("/customers/999999", "/documents/999999", "/attachments/999999", "/attachments/999999/content",
                 f"/documents/{customer['id']}", f"/customers/{document['id']}", "/customers/abc", "/nothing"):
        assert error_of(api.get(path), 404), path
    assert error_of(api.put("/documents/999999/done"), 404)
    assert "customer_id" in error_of(api.post("/documents", json={"customer_id": 999999}), 404)
    link = api.put(f"/attachments/{attachment['id']}", json={"document_id": 999999})
    assert "document_id" in error_of(link, 404)
    assert error_of(api.put("/attachments/999999", json={"document_id": document["id"]}), 404)
    assert error_of(requests.get(api.get("/customers").url.replace("/rest/v1/", "/rest/v2/"), timeout=T), 404)
    assert error_of(api.put("/customers", json={}), 405)


def test_attachment_has_one_context(api):
    customer, document, attachment = create_customer(api), create_document(api), upload(api)
    both = api.put(f"/attachments/{attachment['id']}", json={"document_id": document["id"],
                                                             "customer_id": customer["id"]})
    assert "only one context" in error_of(both, 400)
    assert api.put(f"/attachments/{attachment['id']}", json={"customer_id": customer["id"]}).status_code == 200
    assert "only one context" in error_of(api.put(f"/attachments/{attachment['id']}",
                                                  json={"document_id": document["id"]}), 400)
    moved = api.put(f"/attachments/{attachment['id']}", json={"customer_id": None, "document_id": document["id"]})
    assert moved.status_code == 200 and moved.json()["customer_id"] is None
    assert "project_id" in error_of(api.put(f"/attachments/{attachment['id']}", json={"project_id": 1}), 404)


# ----------------------------------------------------------------------------------------------- rate limit
def test_rate_limit_429_with_retry_after(fake, api):
    fake.rate_limit = 3
    for _ in range(3):
        assert api.get("/customers").status_code == 200
    refused = api.post("/customers", json={"company_name": "A", "last_name": None})
    assert error_of(refused, 429) and refused.headers["Retry-After"] == "60"
    assert fake.customers == {}, "a refused request is not executed"
    assert fake.max_in_window == 3 and [r["status"] for r in fake.requests] == [200, 200, 200, 429]


def test_rate_limit_sliding_window():
    with FakeEasybill(api_key=KEY, rate_limit=2, rate_window=0.5) as fake:
        headers, url = {"Authorization": f"Bearer {KEY}"}, fake.api_url + "/customers"
        statuses = []
        deadline = time.monotonic() + 1.6
        while time.monotonic() < deadline:
            response = requests.get(url, headers=headers, timeout=T)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "1"
                time.sleep(0.05)
        assert statuses.count(200) >= 4 and 429 in statuses
        assert fake.max_in_window == 2


# ---------------------------------------------------------------------------------------- injected failures
def test_injected_500_is_not_executed(fake, api):
    fake.fail_next("POST", r"^/documents$", status=500)
    assert error_of(api.post("/documents", json={"title": "x"}), 500) == "injected failure"
    assert fake.documents == {}
    create_document(api)
    assert len(fake.documents) == 1


def test_injected_failure_matches_method_path_and_times(fake, api):
    fake.fail_next("GET", "/customers", status=503, times=2, retry_after=7)
    customer = create_customer(api)  # POST: not matched
    for _ in range(2):
        response = api.get(f"/customers/{customer['id']}")
        assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert api.get(f"/customers/{customer['id']}").status_code == 200
    fake.fail_next(None, "/done$", status=502, body="<html>Bad Gateway</html>")
    response = api.put(f"/documents/{create_document(api)['id']}/done")
    assert response.status_code == 502 and response.text == "<html>Bad Gateway</html>"
    fake.fail_next("GET", "customers", status=409, body={"code": 409, "message": "locked"})
    assert error_of(api.get("/customers"), 409) == "locked"


def test_injected_execute_true_creates_but_answers_failure(fake, api):
    fake.fail_next("POST", "^/documents$", status=500, execute=True)
    error_of(api.post("/documents", json={"title": "lost answer"}), 500)
    [document] = fake.documents.values()
    assert document["title"] == "lost answer" and document["is_draft"] is True
    found = api.get("/documents", params={"title": "lost answer"}).json()
    assert [d["id"] for d in found["items"]] == [document["id"]]


def test_injected_delay_times_out_the_client(fake, api):
    fake.fail_next("POST", "^/customers$", status=None, delay=0.6, execute=True)
    with pytest.raises(requests.Timeout):
        api.post("/customers", json={"company_name": "Slow", "last_name": None}, timeout=0.2)
    assert [c["company_name"] for c in fake.customers.values()] == ["Slow"], "executed, the answer came late"
    fake.fail_next("GET", "/customers", status=None, delay=0.2)
    started = time.monotonic()
    assert api.get("/customers").json()["total"] == 1 and time.monotonic() - started >= 0.2


def test_control_routes(fake, api):
    create_customer(api)
    rule = {"method": "POST", "path_regex": "^/customers$", "status": 503, "times": 1}
    assert requests.post(fake.url + "/_fake/fail", json=rule, timeout=T).json() == {"ok": True}
    state = requests.get(fake.url + "/_fake/state", timeout=T).json()
    assert state["api_url"] == fake.api_url and len(state["customers"]) == 1 and state["max_in_window"] == 1
    assert state["pending_failures"][0]["pattern"] == "^/customers$"
    assert [r["status"] for r in state["requests"]] == [201]
    assert api.post("/customers", json={"company_name": "A", "last_name": None}).status_code == 503
    for bad in ({"method": "POST"}, {"method": "GET", "path_regex": "(", "status": 500}, {"nope": 1}, []):
        assert requests.post(fake.url + "/_fake/fail", json=bad, timeout=T).status_code == 400
    assert requests.get(fake.url + "/_fake/nothing", timeout=T).status_code == 404
    assert requests.post(fake.url + "/_fake/reset", timeout=T).json() == {"ok": True}
    state = requests.get(fake.url + "/_fake/state", timeout=T).json()
    assert state["customers"] == {} and state["requests"] == [] and state["max_in_window"] == 0
    assert create_customer(api)["number"] == "10002", "numbers and ids are never reused"


# ------------------------------------------------------------------------------------------------ multipart
def test_multipart_round_trip_utf8_csv_and_binary(fake, api):
    attachment = upload(api, name="Übersicht; \"Q3\".csv")
    stored = fake.attachments[attachment["id"]]
    assert stored["content"] == CSV and CSV.decode("utf-8").count(";") == 7
    assert stored["file_name"].startswith("Übersicht; ")
    binary = bytes(range(256)) * 4 + b"\r\n--boundary\r\n\r\n"
    other = upload(api, content=binary, name="scan.pdf", content_type=None)
    content = api.get(f"/attachments/{other['id']}/content")
    assert content.content == binary and other["size"] == len(binary)
    assert content.headers["Content-Type"] == "application/pdf", "guessed from the file name"


# ------------------------------------------------------------------------------------------ the validator
def test_swagger_validator_api():
    swagger = Swagger(SPEC)
    assert swagger.request_body_definition("POST", "/documents") == "Document"
    assert swagger.request_body_definition("put", "/attachments/{id}") == "Attachment"
    assert swagger.request_body_definition("POST", "/attachments") is None
    assert swagger.request_body_definition("PUT", "/documents/{id}/done") is None
    assert swagger.validate("Customer", {"company_name": None, "last_name": "Muster", "sale_price_level": None}) == []
    problems = swagger.validate("Customer", {"company_name": None, "last_name": "M", "salutation": None})
    assert "salutation: None is not of type 'integer'" in problems, "not x-nullable"
    assert swagger.validate("Document", {"items": [{"quantity": 1}, {"unit": 5}]}) == [
        "items[1].unit: 5 is not of type 'string', 'null'"]
    assert swagger.validate("Document", {"service_date": {"type": "SERVICE", "date": "2026-02-30"}}) == [
        "service_date.date: '2026-02-30' is not a 'date'"]
    assert swagger.validate_query("GET", "/customers", {"number[]": ["1", "2"], "limit": ["1000"]}) == []
    assert swagger.validate_query("PUT", "/documents/{id}", {"refresh_customer_data": ["yes"]}) == [
        "query refresh_customer_data: 'yes' is not true or false"]


# ------------------------------------------------------------------------------------------------ CLI, demo
def test_cli_prints_url_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, str(FAKES_CLI), "easybill_fake", "--port", "0", "--rate-limit", "60",
                             "--api-key", "cli-key"], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        response = requests.get(url + "/rest/v1/customers", headers={"Authorization": "Bearer cli-key"}, timeout=T)
        assert response.status_code == 200
        assert requests.get(url + "/_fake/state", timeout=T).json()["rate_limit"] == 60
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=T) == 0
        proc.stdout.close()


def test_file_format_config_is_kept_as_sent(fake, api):
    document = create_document(api, file_format_config=[{"type": "xrechnung3_0_xml"}])
    assert fake.documents[document["id"]]["file_format_config"] == [{"type": "xrechnung3_0_xml"}]


# ------------------------------------------------------------------------------- back-sync (#18 item 6)
def test_webhooks_are_validated_and_called_on_the_accountants_changes(fake, api):
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        bad = api.post("/webhooks", json={"url": url, "events": ["document.paid"]})
        assert bad.status_code == 400 and "secret: is required" in bad.json()["message"]
        assert "document.paid" in bad.json()["message"], "not one of the swagger's events"
        hook = api.post("/webhooks", json={"url": url, "content_type": "json", "secret": "s", "description": "d",
                                           "events": ["document.completed", "document.payment_add",
                                                      "postbox.sent", "document.deleted"], "is_active": True})
        assert hook.status_code == 201
        document = create_document(api)
        final = fake.complete(document["id"])
        assert final["is_draft"] is False and final["number"]
        fake.send_by_email(document["id"])
        paid = fake.add_payment(document["id"], day="2026-11-20")
        assert paid["paid_amount"] == paid["amount"] and paid["paid_at"] == "2026-11-20"
        assert [r["event"] for r in received] == ["document.completed", "postbox.sent", "document.payment_add"]
        assert all(c["status"] == 204 for c in fake.webhook_calls)
        cancelled = fake.cancel(document["id"])
        assert fake.documents[cancelled["cancel_id"]]["type"] == "STORNO"
        draft = create_document(api)
        fake.delete(draft["id"])
        assert received[-1] == {"event": "document.deleted", "data": {"id": draft["id"], "type": "INVOICE"}}
        assert api.get(f"/documents/{draft['id']}").status_code == 404
        with pytest.raises(ValueError):
            fake.delete(document["id"])  # a final document is cancelled, not deleted
        assert api.put(f"/webhooks/{hook.json()['id']}", json={**hook.json(), "is_active": False,
                                                              "id": None}).status_code == 400, "id is read-only"
        assert api.delete(f"/webhooks/{hook.json()['id']}").status_code == 204
    finally:
        server.shutdown()


def test_back_sync_reads(fake, api):
    document = create_document(api)
    fake.complete(document["id"])
    box = fake.send_by_email(document["id"], status="WAITING")
    today = time.strftime("%Y-%m-%d")
    edited = api.get("/documents", params={"type": "INVOICE", "edited_at": f"2020-01-01,{today}"}).json()
    assert [d["id"] for d in edited["items"]] == [document["id"]]
    assert api.get("/documents", params={"edited_at": "2020-01-01,2020-01-31"}).json()["items"] == []
    assert api.get("/documents", params={"edited_at": "soon"}).status_code == 400
    boxes = api.get("/post-boxes", params={"document_id": f"{document['id']},999"}).json()["items"]
    assert [(b["id"], b["status"]) for b in boxes] == [(box["id"], "WAITING")]
    pdf = api.get(f"/documents/{document['id']}/pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")
