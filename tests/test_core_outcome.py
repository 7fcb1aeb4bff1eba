import pytest

from ib_lib.core_outcome import FAIL, RETRY, SUCCESS, classify_http
from ib_lib.core_transport import Exchange, Request, Transport


def ex(status, headers=None, error=""):
    return Exchange(request=Request("POST", "http://127.0.0.1:9/"), status=status, headers=headers or {},
                    error=error)


@pytest.mark.parametrize(("status", "result"), [
    (200, SUCCESS), (204, SUCCESS), (301, RETRY), (400, RETRY), (404, RETRY), (408, RETRY), (410, FAIL),
    (429, RETRY), (500, RETRY), (503, RETRY),
])
def test_standard_webhooks_semantics(status, result):
    assert classify_http(ex(status)).result == result


def test_client_errors_can_be_final():
    assert classify_http(ex(422), retry_client_errors=False).result == FAIL
    assert classify_http(ex(429), retry_client_errors=False).result == RETRY


def test_slow_down_pauses_the_target_for_retry_after():
    outcome = classify_http(ex(503, {"Retry-After": "30"}))
    assert outcome.pause_target == 30 and outcome.delay == 30
    assert classify_http(ex(500, {"Retry-After": "30"})).pause_target is None


def test_gone_and_transport_errors():
    assert classify_http(ex(410)).gone
    assert classify_http(ex(0, error="timed out")).result == RETRY


def test_transport_turns_errors_into_exchanges(receiver):
    with Transport() as transport:
        unknown = transport.send(Request("POST", "http://no-such-host.invalid/x", b"{}", timeout=2))
        assert unknown.summary == "could not connect to no-such-host.invalid: host name not found"
        ok = transport.send(Request("POST", f"{receiver.url}/x", b"{}", {"Content-Type": "application/json"}))
        assert ok.ok and ok.status == 200 and ok.elapsed_ms >= 0
        receiver.fail_next(1, status=200, delay=1.0)
        slow = transport.send(Request("POST", f"{receiver.url}/x", b"{}", timeout=0.2))
        assert slow.error_kind == "timeout" and not slow.ok
        assert slow.summary == "no answer within 0.2 s"
        receiver.down()
        refused = transport.send(Request("POST", f"{receiver.url}/x", b"{}", timeout=1))
        assert refused.error_kind == "connection"
        assert refused.summary == f"could not connect to 127.0.0.1:{receiver.port}: connection refused"
        assert " object at 0x" not in refused.error, "no Python object address in the log's Error tab (#16.11)"
        assert refused.error.startswith(refused.summary)
        assert " object at 0x" not in slow.error
        assert classify_http(refused).message == refused.summary, "the log's message stays one short line"
        receiver.fail_next(1, status=302)
        receiver.up()
        redirect = transport.send(Request("POST", f"{receiver.url}/x", b"{}"))
        assert redirect.status == 302, "redirects are never followed"
