import pytest
from ib_fakes.core_loopback import peak_in_flight

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


def _jobs(receiver, targets):
    return [(i, target, Request("POST", f"{receiver.url}/{target}/{i}", b"{}")) for i, target in enumerate(targets)]


def test_send_many_keeps_each_target_within_its_limit(receiver):
    delay = 0.3
    receiver.set_default(delay=delay)
    with Transport(concurrency=5) as transport:
        answers = dict(transport.send_many(_jobs(receiver, ["a"] * 6 + ["b"] * 3), {"a": 3, "b": 1}))
    assert sorted(answers) == list(range(9)) and all(e.ok for e in answers.values())
    by_target = {t: [d for d in receiver.deliveries if d["path"].startswith(f"/{t}/")] for t in "ab"}
    assert peak_in_flight(by_target["a"], delay) == 3
    assert peak_in_flight(by_target["b"], delay) == 1
    assert peak_in_flight(receiver.deliveries, delay) == 4
    started = [int(d["path"].rsplit("/", 1)[1]) for d in sorted(by_target["a"], key=lambda d: d["received_at"])]
    assert set(started[:3]) == {0, 1, 2}, "a target's jobs start in the order given, as its slots free"


def test_send_many_asks_before_each_start_and_never_exceeds_its_concurrency(receiver):
    delay = 0.3
    receiver.set_default(delay=delay)
    asked = []

    def ready(key):
        asked.append(key)
        return key % 2 == 0  # the caller no longer wants the odd ones

    with Transport(concurrency=2) as transport:
        answers = dict(transport.send_many(_jobs(receiver, [f"t{i}" for i in range(6)]), None, ready))
    assert sorted(answers) == [0, 2, 4]
    assert sorted(asked) == list(range(6))
    assert peak_in_flight(receiver.deliveries, delay) == 2


def test_send_many_one_at_a_time_stays_in_the_caller_thread(receiver):
    import threading

    seen = []
    with Transport(concurrency=8) as transport:
        original = transport._send

        def spy(request, session):
            seen.append(threading.current_thread())
            return original(request, session)

        transport._send = spy
        answers = list(transport.send_many(_jobs(receiver, ["a"] * 3), {}))
    assert [key for key, _e in answers] == [0, 1, 2], "one target at 1: in order, one after the other"
    assert set(seen) == {threading.current_thread()}
    assert transport._pool is None, "no thread was started"
