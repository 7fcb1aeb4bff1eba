"""Tests for the loopback fake webhook receiver (plain Python, no Odoo)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from ib_fakes.webhook_receiver import WebhookReceiver
from standardwebhooks.webhooks import Webhook

from tests.conftest import FAKES_CLI

T = 5  # seconds: timeout on every HTTP call
REPO_ROOT = Path(__file__).resolve().parent.parent


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def signed_headers(secrets, body: str, msg_id: str | None = None, when: datetime | None = None) -> dict:
    """Standard Webhooks headers for ``body``, signed with every secret in ``secrets``."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = when or datetime.now(UTC)
    signature = " ".join(Webhook(secret).sign(msg_id, when, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


@pytest.fixture
def receiver():
    with WebhookReceiver() as rcv:
        yield rcv


@pytest.fixture
def secret():
    return new_secret()


@pytest.fixture
def signed_receiver(secret):
    with WebhookReceiver(secrets=[secret]) as rcv:
        yield rcv


def test_unsigned_post_recorded(receiver):
    resp = requests.post(receiver.url + "/hooks/a?x=1", json={"a": 1}, timeout=T)
    assert resp.status_code == 200
    assert resp.headers["Content-Length"] == str(len(resp.content))
    assert receiver.wait_for(1, timeout=T)
    (delivery,) = receiver.deliveries
    assert delivery["path"] == "/hooks/a?x=1"
    assert delivery["method"] == "POST"
    assert delivery["json"] == {"a": 1}
    assert delivery["body"] == b'{"a": 1}'
    assert delivery["verified"] is None
    assert delivery["status"] == 200
    assert delivery["webhook_id"] is None
    assert delivery["headers"]["content-type"] == "application/json"
    assert abs(delivery["received_at"] - time.time()) < 5
    assert receiver.count_ok() == 1
    receiver.clear()
    assert receiver.deliveries == []
    assert receiver.count_ok() == 0


def test_put_and_get(receiver):
    assert requests.put(receiver.url + "/x", data=b"raw", timeout=T).status_code == 200
    assert requests.get(receiver.url + "/x", timeout=T).status_code == 405
    (delivery,) = receiver.deliveries
    assert delivery["method"] == "PUT"
    assert delivery["body"] == b"raw"
    assert delivery["json"] is None


def test_signed_request_verified(signed_receiver, secret):
    body = json.dumps({"event": "invoice.posted", "id": 7})
    headers = signed_headers([secret], body, msg_id="msg_1")
    resp = requests.post(signed_receiver.url + "/hook", data=body.encode(), headers=headers, timeout=T)
    assert resp.status_code == 200
    (delivery,) = signed_receiver.deliveries
    assert delivery["verified"] is True
    assert delivery["webhook_id"] == "msg_1"
    assert delivery["json"] == {"event": "invoice.posted", "id": 7}


def test_tampered_body_rejected(signed_receiver, secret):
    body = json.dumps({"amount": 10})
    headers = signed_headers([secret], body)
    resp = requests.post(signed_receiver.url + "/hook", data=b'{"amount": 1000}', headers=headers, timeout=T)
    assert resp.status_code == 401
    (delivery,) = signed_receiver.deliveries
    assert delivery["verified"] is False
    assert delivery["status"] == 401
    assert signed_receiver.count_ok() == 0


def test_missing_signature_rejected(signed_receiver):
    resp = requests.post(signed_receiver.url + "/hook", json={"a": 1}, timeout=T)
    assert resp.status_code == 401


def test_old_timestamp_rejected(signed_receiver, secret):
    body = "{}"
    old = datetime.now(UTC) - timedelta(minutes=10)
    headers = signed_headers([secret], body, when=old)
    resp = requests.post(signed_receiver.url + "/hook", data=body, headers=headers, timeout=T)
    assert resp.status_code == 401
    assert signed_receiver.deliveries[0]["verified"] is False


def test_secret_rotation():
    old_secret, new = new_secret(), new_secret()
    body = json.dumps({"rotated": True})
    with WebhookReceiver(secrets=[new]) as rcv:
        # Sender signs with both the old and the new secret during rotation.
        headers = signed_headers([old_secret, new], body)
        assert " " in headers["webhook-signature"]
        resp = requests.post(rcv.url + "/hook", data=body, headers=headers, timeout=T)
        assert resp.status_code == 200
        # Signed with the old secret only: rejected until the receiver accepts both.
        headers = signed_headers([old_secret], body)
        assert requests.post(rcv.url + "/hook", data=body, headers=headers, timeout=T).status_code == 401
        rcv.set_secrets([old_secret, new])
        headers = signed_headers([old_secret], body)
        assert requests.post(rcv.url + "/hook", data=body, headers=headers, timeout=T).status_code == 200
        assert [d["verified"] for d in rcv.deliveries] == [True, False, True]
    with WebhookReceiver(secrets=new) as rcv:  # a single string is accepted too
        assert requests.post(rcv.url, data=body, headers=signed_headers([new], body), timeout=T).ok


def test_fail_next_then_recover(receiver):
    receiver.fail_next(2, status=503, retry_after=7)
    with requests.Session() as session:
        for _ in range(2):
            resp = session.post(receiver.url + "/hook", json={"n": 1}, timeout=T)
            assert resp.status_code == 503
            assert resp.headers["Retry-After"] == "7"
        resp = session.post(receiver.url + "/hook", json={"n": 2}, timeout=T)
        assert resp.status_code == 200
        assert "Retry-After" not in resp.headers
    assert [d["status"] for d in receiver.deliveries] == [503, 503, 200]
    assert receiver.count_ok() == 1


def test_fail_next_delay_provokes_timeout(receiver):
    receiver.fail_next(1, status=200, delay=0.3)
    with pytest.raises(requests.Timeout):
        requests.post(receiver.url + "/slow", json={}, timeout=0.05)
    assert receiver.wait_for(1, timeout=T)
    assert requests.post(receiver.url + "/fast", json={}, timeout=T).status_code == 200


def test_set_default(receiver):
    receiver.set_default(status=500)
    assert requests.post(receiver.url, json={}, timeout=T).status_code == 500
    assert requests.post(receiver.url, json={}, timeout=T).status_code == 500
    receiver.set_default()
    assert requests.post(receiver.url, json={}, timeout=T).status_code == 200
    assert not receiver.wait_for(2, timeout=0.01)
    assert receiver.wait_for(3, timeout=0.01, ok_only=False)


def test_down_and_up_same_port(receiver):
    port = receiver.port
    with requests.Session() as session:
        assert session.post(receiver.url, json={}, timeout=T).status_code == 200
        receiver.down()
        with pytest.raises(requests.ConnectionError):
            session.post(receiver.url, json={}, timeout=T)
        with pytest.raises(requests.ConnectionError):
            requests.post(receiver.url, json={}, timeout=T)
        receiver.up()
        assert receiver.port == port
        assert session.post(receiver.url, json={}, timeout=T).status_code == 200
    assert receiver.count_ok() == 2


def test_control_endpoints(receiver):
    url = receiver.url
    assert requests.post(url + "/hook", json={"x": "é"}, timeout=T).status_code == 200
    data = requests.get(url + "/_fake/deliveries", timeout=T).json()
    (delivery,) = data["deliveries"]
    assert json.loads(delivery["body"]) == {"x": "é"}
    assert delivery["json"] == {"x": "é"}
    assert delivery["status"] == 200

    behaviour = {"fail_next": 1, "status": 429, "retry_after": 3}
    resp = requests.post(url + "/_fake/behaviour", json=behaviour, timeout=T)
    assert resp.status_code == 200
    resp = requests.post(url + "/hook", json={}, timeout=T)
    assert (resp.status_code, resp.headers["Retry-After"]) == (429, "3")
    assert requests.post(url + "/hook", json={}, timeout=T).status_code == 200

    assert requests.post(url + "/_fake/behaviour", json={"default_status": 502}, timeout=T).ok
    assert requests.post(url + "/hook", json={}, timeout=T).status_code == 502
    assert requests.post(url + "/_fake/behaviour", data=b"not json", timeout=T).status_code == 400
    assert requests.get(url + "/_fake/nope", timeout=T).status_code == 404

    assert [d["status"] for d in receiver.deliveries] == [200, 429, 200, 502]
    assert requests.post(url + "/_fake/reset", timeout=T).status_code == 200
    assert receiver.deliveries == []
    assert requests.post(url + "/hook", json={}, timeout=T).status_code == 200
    assert requests.get(url + "/_fake/deliveries", timeout=T).json()["deliveries"][0]["path"] == "/hook"


def test_keep_alive(receiver):
    url = receiver.url + "/hook"
    with requests.Session() as session:
        statuses = [session.post(url, json={"i": i}, timeout=T).status_code for i in range(50)]
    assert statuses == [200] * 50
    assert receiver.wait_for(50, timeout=T)
    assert receiver.connection_count == 1
    assert [d["json"]["i"] for d in receiver.deliveries] == list(range(50))


def test_no_bodies():
    with WebhookReceiver(record_bodies=False) as rcv:
        assert requests.post(rcv.url, json={"a": 1}, headers={"webhook-id": "m1"}, timeout=T).ok
        (delivery,) = rcv.deliveries
        assert delivery["body"] is None
        assert delivery["webhook_id"] == "m1"


def _read_line(proc) -> str:
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return line


def test_cli_serves_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, str(FAKES_CLI), "webhook_receiver", "--port", "0", "--secret", new_secret()],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(_read_line(proc))["url"]
        assert requests.post(url + "/hook", json={}, timeout=T).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=T) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_fakes_state_file(tmp_path):
    state = tmp_path / "run" / "fakes.json"
    proc = subprocess.Popen(
        [sys.executable, str(FAKES_CLI), "core_demo", "--state", str(state)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + T
        while not state.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        published = json.loads(state.read_text())
        assert requests.post(published["webhook_receiver"] + "/hook", json={}, timeout=T).status_code == 200
        assert published["easybill"].endswith("/rest/v1") and published["easybill_api_key"] == "demo-easybill-key"
        headers = {"Authorization": "Bearer demo-easybill-key"}
        assert requests.get(published["easybill"] + "/customers", headers=headers, timeout=T).status_code == 200
        base = published["easybill"].removesuffix("/rest/v1")
        assert requests.get(base + "/_fake/state", timeout=T).json()["rate_limit"] == 60
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=T) == 0
        assert not state.exists()
        assert list(state.parent.iterdir()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
