from datetime import date, datetime, timedelta, timezone

import pytest
from ib_fakes import webhook_schema
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ib_lib import webhook_headers
from ib_lib import webhook_payloads as payloads
from ib_lib.webhook_signer import WebhookSigner, generate_secret


def test_signature_verified_by_the_reference_library_on_the_real_clock():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    body = '{"event":"new_invoice","operations":[]}'
    headers = WebhookSigner([secret]).headers("msg_1", body)
    Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + " ", headers)
    stale = WebhookSigner([secret]).headers("msg_1", body, now=datetime.now(timezone.utc) - timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, stale)


def test_rotation_sends_both_signatures():
    old, new = generate_secret(), generate_secret()
    body = "{}"
    headers = WebhookSigner([new, old]).headers("msg_2", body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_signer_needs_a_secret_and_handles_non_utc_times():
    with pytest.raises(ValueError):
        WebhookSigner([None, ""])
    secret = generate_secret()
    local = datetime.now(timezone(timedelta(hours=2)))
    headers = WebhookSigner([secret]).headers("msg_3", "{}", now=local)
    Webhook(secret).verify("{}", headers)


def _invoice():
    return {
        "id": 7, "name": "INV/2026/00007", "partner": "Deco Addict", "invoice_date": date(2026, 11, 2),
        "invoice_date_due": None, "amount_total": 120, "amount_residual": 120.0, "currency": "EUR",
        "lines": [{"product": "Consulting", "quantity": 1, "price_unit": 100, "subtotal": 100}],
        "attachments": [{"id": 3, "name": "a.pdf", "mimetype": "application/pdf", "file_size": 10,
                         "create_date": datetime(2026, 11, 2, 8, 0), "write_date": datetime(2026, 11, 2, 8, 1),
                         "type": "binary", "url": "http://x/web/content/3?access_token=t"}],
        "pdf_url": "http://x/my/invoices/7?report_type=pdf&download=true&access_token=t",
    }


def test_builder_output_matches_the_seed_schema():
    ledger = {"partner_id": 9, "partner_name": "Deco Addict", "opening_balance": 10.0, "lines": [
        {"id": 1, "date": date(2026, 1, 1), "name": "INV/1", "debit": 50, "credit": 0},
        {"id": 2, "date": date(2026, 2, 1), "name": "PAY/1", "debit": 0, "credit": 20.5}]}
    document = payloads.envelope("new_invoice", payloads.new_invoice_operations(_invoice(), ledger, 5), "msg_x",
                                 datetime(2026, 11, 2, 9, 30), {"id": 5, "name": "Co"})
    webhook_schema.validate(document, "new_invoice")
    entries = document["operations"][2]["payload"]["ledger_entries"]
    assert [e["balance"] for e in entries] == [60.0, 39.5], "running balance from the opening balance"
    details = document["operations"][0]["payload"]["invoice"]
    assert details["attachments"][0]["create_date"] == "2026-11-02T08:00:00Z"
    assert isinstance(details["amount_total"], float)
    assert document["timestamp"] == "2026-11-02T09:30:00Z"
    assert payloads.dumps(document) == payloads.dumps(document), "stable bytes"


def test_payload_versions_shape_the_same_document():
    document = payloads.envelope("new_invoice", [{"name": "pdf_invoice", "payload": {}}], "msg_3",
                                 datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc), {"id": 1, "name": "A"})
    assert payloads.shaped(document, "1") is document
    assert payloads.shaped(document, "2") == {
        "type": "new_invoice", "timestamp": "2026-12-03T12:00:00Z",
        "data": {"id": "msg_3", "company": {"id": 1, "name": "A"}, "operations": document["operations"]}}
    assert set(payloads.PAYLOAD_VERSIONS) == {"1", "2"}
    with pytest.raises(ValueError):
        payloads.shaped(document, "3")


@pytest.mark.parametrize(("text", "code"), [
    ("X-Tenant acme", "syntax"),
    (": acme", "syntax"),
    ("X Tenant: acme", "name"),
    ("Webhook-Signature: v1,x", "reserved"),
    ("HOST: evil.example", "reserved"),
    ("Authorization: Basic eA==", "secret"),
    ("X-Api-Key: k", "secret"),
    ("X-Session-Id: s", "secret"),
    ("X-Tenant: a\x00b", "value"),
    ("X-Tenant: " + "a" * 1001, "value"),
    ("X-Tenant: a\nx-TENANT: b", "duplicate"),
    ("\n".join(f"X-H{i}: v" for i in range(21)), "too_many"),
])
def test_static_headers_refused_with_a_code(text, code):
    with pytest.raises(webhook_headers.HeaderProblem) as raised:
        webhook_headers.parse_static_headers(text)
    assert raised.value.code == code


def test_static_headers_read_in_order():
    text = "X-Tenant: acme\n\n  X-Source :  odoo bridge \nIdempotency-Key: fixed\nX-Empty:"
    assert list(webhook_headers.parse_static_headers(text).items()) == [
        ("X-Tenant", "acme"), ("X-Source", "odoo bridge"), ("Idempotency-Key", "fixed"), ("X-Empty", "")]
    assert webhook_headers.parse_static_headers(None) == {}
    assert len(webhook_headers.parse_static_headers("\n".join(f"X-H{i}: v" for i in range(20)))) == 20
