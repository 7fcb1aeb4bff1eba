"""The import REST API against a real threaded Odoo server: what Odoo's HttpCase cannot show.

HttpCase runs every request on the test cursor: no two requests are ever concurrent, post-commit hooks are
dropped and PostgreSQL's NOTIFY is never delivered. Here a real ``odoo-bin`` serves a copy of the installed
database: concurrent identical imports race for the unique index, the live event stream is woken by
transactions committed by other server threads or by this process, and schemathesis fuzzes the OpenAPI
document's operations.
"""
import contextlib
import json
import queue
import socket
import threading
import time
import uuid
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.import_api_support import (
    BATCH,
    EVENT_TIMEOUT,
    IMPORT,
    NOTIFY_CHANNEL,
    OPENAPI,
    RACERS,
    SAMPLE,
    SSE,
    UNIQUE_INDEX,
    UNIQUE_INDEX_SQL,
    UPDATE,
    _env,
    _headers,
    _scalar,
    _unique,
    count_invoices,
    fresh_sample,
    post_import,
    sample,
)


@pytest.fixture(scope="module")
def known_customer(server, api):
    """The sample's customer, salesman and items exist: a race is then on the invoice number only."""
    response = post_import(server, api.key, sample("WARM-UP"))
    assert response.status_code == 201, response.text
    return response.json()["data"]


# --------------------------------------------------------------------------------------------------- races
def race(server, keys, payloads, path=IMPORT):
    """POST each payload (with the key of the same index) to ``path`` from its own thread, all released together:
    ``[(status, content type, text)]`` in the same order."""
    barrier = threading.Barrier(len(payloads))
    results = [None] * len(payloads)

    def worker(index):
        body = json.dumps(payloads[index])
        barrier.wait(timeout=30)
        try:
            response = requests.post(server + path, data=body, headers=_headers(keys[index]), timeout=120)
            results[index] = (response.status_code, response.headers.get("Content-Type", ""), response.text)
        except requests.RequestException as exc:
            results[index] = (None, "", repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def _describe(results):
    return "\n".join(f"  {status} {ctype}: {text[:300]}" for status, ctype, text in results)


def assert_one_created(results, invoices):
    """What a race of identical imports must end in: one 201, every other answer a JSON 409 naming it."""
    statuses = Counter(status for status, _ctype, _text in results)
    assert statuses[201] == 1, f"expected exactly one 201, got {dict(statuses)}:\n{_describe(results)}"
    assert invoices == 1, f"{invoices} invoices with this number in the database:\n{_describe(results)}"
    assert statuses[409] == len(results) - 1, f"the others must be 409: {dict(statuses)}:\n{_describe(results)}"
    created = next(json.loads(text) for status, _ctype, text in results if status == 201)["data"]
    for status, ctype, text in results:
        assert ctype.startswith("application/json"), _describe(results)
        if status == 409:
            assert json.loads(text) == {"success": False, "message": "Invoice with this invoice_no already exists.",
                                        "data": {"id": created["id"], "invoice_no": created["invoice_no"]}}


def run_race(server, api, odoo, registry, payload):
    """``RACERS`` identical imports at once: their answers and the number of invoices with that number."""
    results = race(server, api.racer_keys, [payload] * RACERS)
    return results, count_invoices(odoo, registry, api.company_id, payload["invoice_no"])


def test_concurrent_identical_imports_create_one_invoice(server, api, odoo, registry, known_customer):
    for _round in range(3):
        payload = sample(_unique("RACE"))
        assert_one_created(*run_race(server, api, odoo, registry, payload))


def test_concurrent_identical_imports_of_a_new_customer_create_one_invoice(server, api, odoo, registry):
    """The first import of a customer: every racer also creates its customer, salesman and items."""
    tag = uuid.uuid4().hex[:8]
    payload = fresh_sample(f"RACE-NEW-{tag}", tag)
    results, invoices = run_race(server, api, odoo, registry, payload)
    assert all(status is not None and status < 500 for status, _c, _t in results), _describe(results)
    assert_one_created(results, invoices)


@pytest.mark.parametrize("salesman", [True, False], ids=["with-salesman", "without-salesman"])
def test_concurrent_distinct_invoices_of_a_new_customer_are_all_imported(server, api, odoo, registry, salesman):
    """Different invoice numbers of one new customer at once (an ERP pushing a batch in parallel): all 201,
    and the customer, salesman and items are created once."""
    tag = uuid.uuid4().hex[:8]
    payloads = [fresh_sample(f"BATCH-{tag}-{index}", tag) for index in range(RACERS)]
    for payload in payloads:
        if not salesman:
            del payload["salesman"]
    results = race(server, api.racer_keys, payloads)
    statuses = [status for status, _c, _t in results]
    counts = {
        "customers": _scalar(odoo, registry, "SELECT count(*) FROM res_partner WHERE ref = %s", (f"CUST-{tag}",)),
        "salesmen": _scalar(odoo, registry, "SELECT count(*) FROM invoice_bridge_salesman WHERE name = %s",
                            (f"Salesman {tag}",)),
        "items": _scalar(odoo, registry, "SELECT count(*) FROM product_product WHERE default_code = %s",
                         (f"PR650-{tag}",)),
    }
    expected = {"customers": 1, "salesmen": 1 if salesman else 0, "items": 1}
    assert (statuses, counts) == ([201] * RACERS, expected), (
        f"statuses {statuses}, created {counts} (expected {expected}):\n{_describe(results)}")


def test_concurrent_imports_updating_one_customer_are_all_imported(server, api, known_customer):
    """Distinct invoices of one existing customer, each with new customer details: the partner updates conflict
    (PostgreSQL serialization failures, which Odoo answers by replaying the request): all must end in 201."""
    tag = uuid.uuid4().hex[:8]
    payloads = [sample(f"UPD-{tag}-{index}") for index in range(RACERS)]
    for index, payload in enumerate(payloads):
        payload["customer"]["name"] = f"LifeCare Pharmacy {tag}-{index}"
    results = race(server, api.racer_keys, payloads)
    assert [status for status, _c, _t in results] == [201] * RACERS, _describe(results)


def test_concurrent_batches_with_overlapping_numbers_create_each_invoice_once(server, api, odoo, registry,
                                                                            known_customer):
    """#17 item 6: batches sent at once that share some numbers, in different orders (the locks are taken in one
    order: no deadlock), each with numbers of its own. Every shared number is created once, by one batch, and is a
    409 naming that invoice in every other batch, as concurrent single POSTs of it would answer; every number of
    its own is a 201."""
    tag = uuid.uuid4().hex[:8]
    shared = [f"BOVL-{tag}-S{i}" for i in range(4)]
    batches = []
    for index in range(RACERS):
        numbers = (shared if index % 2 else shared[::-1]) + [f"BOVL-{tag}-{index}-{own}" for own in range(3)]
        batches.append({"invoices": [sample(number) for number in numbers]})
    results = race(server, api.racer_keys, batches, path=BATCH)
    assert [status for status, _c, _t in results] == [200] * RACERS, _describe(results)
    answers = {}  # number -> [(status, body)] over every batch
    for batch, (_status, ctype, text) in zip(batches, results, strict=True):
        assert ctype.startswith("application/json")
        items = json.loads(text)["results"]
        assert len(items) == len(batch["invoices"]), text[:500]
        for payload, item in zip(batch["invoices"], items, strict=True):
            answers.setdefault(payload["invoice_no"], []).append((item["status"], item["body"]))
    for number, got in answers.items():
        statuses = Counter(status for status, _body in got)
        assert statuses[201] == 1 and statuses[201] + statuses[409] == len(got), f"{number}: {got}"
        created = next(body for status, body in got if status == 201)["data"]
        assert all(body == {"success": False, "message": "Invoice with this invoice_no already exists.",
                            "data": {"id": created["id"], "invoice_no": number}}
                   for status, body in got if status == 409), f"{number}: {got}"
        assert count_invoices(odoo, registry, api.company_id, number) == 1, number
    assert len(answers) == len(shared) + 3 * RACERS


def test_without_the_unique_index_the_race_creates_duplicates(server, api, odoo, registry, known_customer):
    """The race test above fails when the index is removed: the index, not luck, gives exactly one invoice."""
    with _env(odoo, registry) as env:
        env.cr.execute(f"DROP INDEX {UNIQUE_INDEX}")
    numbers = []
    try:
        for _round in range(5):
            numbers.append(_unique("NOINDEX"))
            results, invoices = run_race(server, api, odoo, registry, sample(numbers[-1]))
            if invoices > 1:
                break
        assert invoices > 1, "without the unique index, 5 rounds of concurrent identical imports never duplicated"
        assert Counter(status for status, _c, _t in results)[201] == invoices, _describe(results)
        with pytest.raises(AssertionError, match="expected exactly one 201"):
            assert_one_created(results, invoices)
    finally:
        with _env(odoo, registry) as env:  # keep the first invoice of each number, then restore the index
            env.cr.execute("""UPDATE account_move m SET ib_invoice_no = m.ib_invoice_no || '-dup-' || m.id
                               WHERE m.ib_invoice_no = ANY(%s) AND m.id > (
                                   SELECT min(o.id) FROM account_move o WHERE o.company_id = m.company_id
                                      AND o.ib_invoice_no = m.ib_invoice_no)""", (numbers,))
            env.cr.execute(UNIQUE_INDEX_SQL)
    assert _scalar(odoo, registry, "SELECT count(*) FROM pg_indexes WHERE indexname = %s", (UNIQUE_INDEX,)) == 1


# --------------------------------------------------------------------------------------------- event stream
class EventStream:
    """A Server-Sent Events client: a thread reads the stream and queues its blocks (dicts of field lists)."""

    def __init__(self, server, key, last_event_id=None, params=None):
        headers = {"X-API-KEY": key, "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(server + SSE, headers=headers, params=params, stream=True, timeout=(10, 60))
        self.blocks = queue.Queue()
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        try:
            for chunk in self.response.iter_content(chunk_size=1):
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self.blocks.put(self._parse(block.decode()))
        except Exception as exc:  # noqa: BLE001 - the stream ended (closed by the test or the server)
            self.blocks.put({"error": [repr(exc)]})
        self.blocks.put({"error": ["end of stream"]})

    @staticmethod
    def _parse(text):
        block = {}
        for line in text.split("\n"):
            name, _sep, value = line.partition(":")
            block.setdefault(name or "comment", []).append(value[1:] if value.startswith(" ") else value)
        return block

    def next_block(self, timeout):
        try:
            block = self.blocks.get(timeout=timeout)
        except queue.Empty:
            return None
        assert "error" not in block, block
        return block

    def next_event(self, timeout=EVENT_TIMEOUT):
        """The next event (skipping comments) as ``(id, event, data)``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            block = self.next_block(left)
            if block and "data" in block:
                assert len(block["id"]) == len(block["event"]) == len(block["data"]) == 1, block
                return int(block["id"][0]), block["event"][0], json.loads(block["data"][0])
        raise AssertionError(f"no event within {timeout} s")

    def connected(self):
        """The stream's first block: the reconnection delay and a comment; returns the comment."""
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        block = self.next_block(10)
        assert block and block.get("retry") == ["3000"], block
        return block["comment"][0]

    def close(self):
        # the reader thread holds the buffered socket reader's lock until data comes (up to the 15 s keep-alive):
        # shut the socket down first, which ends its read at once
        # (urllib3's response -> http.client's response -> its buffered reader -> socket.SocketIO -> the socket)
        reader = getattr(getattr(self.response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.response.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


@pytest.fixture
def invoice(server, api):
    """A freshly imported invoice (waiting for approval): its ``data``."""
    response = post_import(server, api.key, sample(_unique("SSE")))
    assert response.status_code == 201, response.text
    return response.json()["data"]


def emit(env_factory, event, move_id):
    with env_factory() as env:
        return env["invoice_bridge.api.event"]._emit(event, env["account.move"].browse(move_id)).id


def seq_of(env_factory, event_id, timeout=10):
    """The id the stream sends for a stored event: its ``seq``, given once it is committed (by the hub)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with env_factory() as env:
            env.cr.execute("SELECT seq FROM invoice_bridge_api_event WHERE id = %s", [event_id])
            seq = env.cr.fetchone()[0]
        if seq:
            return seq
        time.sleep(0.05)
    raise AssertionError(f"event {event_id} was not sequenced within {timeout} s")


def test_stream_refusals_are_json(server, api):
    response = requests.get(server + SSE, timeout=10)
    assert (response.status_code, response.headers["Content-Type"]) == (401, "application/json")
    assert response.json() == {"success": False, "message": "Authentication credentials were not provided."}
    response = requests.get(server + SSE, headers={"X-API-KEY": "ibk_wrong"}, timeout=10)
    assert (response.status_code, response.json()["message"]) == (401, "Invalid API key")
    response = requests.get(server + SSE, headers={"X-API-KEY": api.key, "Last-Event-ID": "abc"}, timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"] == {"Last-Event-ID": ["A valid integer is required."]}


def test_stream_receives_events_committed_by_other_transactions(server, api, env_factory):
    with EventStream(server, api.key) as stream:
        assert stream.connected().startswith("connected, last event ")
        # (a) a POST served by another server thread, sent from another thread of ours
        payload = sample(_unique("SSE-A"))
        answers = []
        sender = threading.Thread(target=lambda: answers.append(post_import(server, api.key, payload)))
        sender.start()
        first_id, event, data = stream.next_event()
        sender.join(30)
        assert answers[0].status_code == 201, answers[0].text
        move_id = answers[0].json()["data"]["id"]
        assert event == "invoice_created"
        assert (data["id"], data["invoice_no"], data["status"], data["total_amount"]) == (
            move_id, payload["invoice_no"], "waiting_approval", 920.0)
        assert data["customer"] == {"code": "CUST-889", "name": "LifeCare Pharmacy"}
        assert [item["quantity"] for item in data["items"]] == [20, 10]

        # (b) the review workflow, committed by this process on its own connection
        started = time.monotonic()
        with env_factory() as env:
            env["account.move"].browse(move_id)._ib_return_to_billing("PR650 batch missing")
        second_id, event, data = stream.next_event()
        assert time.monotonic() - started < EVENT_TIMEOUT  # woken by the NOTIFY, not by the 15 s poll
        assert second_id > first_id
        assert (event, data["id"], data["status"], data["review_reason"]) == (
            "invoice_review", move_id, "review", "PR650 batch missing")

        # (c) an event emitted directly; a rolled-back one is never seen
        with env_factory(commit=False) as env:
            env["invoice_bridge.api.event"]._emit("invoice_updated", env["account.move"].browse(move_id))
        third = emit(env_factory, "invoice_updated", move_id)
        third_id, event, data = stream.next_event()
        assert (third_id, event, data["invoice_no"]) == (seq_of(env_factory, third), "invoice_updated",
                                                          payload["invoice_no"])


def test_stream_resumes_after_last_event_id(server, api, env_factory, invoice):
    with EventStream(server, api.key) as stream:
        stream.connected()
        ids = [emit(env_factory, "invoice_updated", invoice["id"]) for _ in range(3)]
        received = [stream.next_event()[0] for _ in ids]
        ids = [seq_of(env_factory, event_id) for event_id in ids]
        assert received == ids
    with EventStream(server, api.key, last_event_id=ids[0]) as stream:
        assert stream.connected() == f"connected, last event {ids[0]}"
        assert [stream.next_event()[:2] for _ in ids[1:]] == [(i, "invoice_updated") for i in ids[1:]]
        later = emit(env_factory, "invoice_updated", invoice["id"])
        assert stream.next_event()[0] == (later := seq_of(env_factory, later))
    with EventStream(server, api.key, params={"last_event_id": ids[1]}) as stream:  # clients without headers
        stream.connected()
        assert stream.next_event()[0] == ids[2]
    with EventStream(server, api.key) as stream:  # a new client gets what happens from now on only
        assert stream.connected() == f"connected, last event {later}"
        newest = emit(env_factory, "invoice_updated", invoice["id"])
        assert stream.next_event()[0] == seq_of(env_factory, newest)


def test_stream_isolates_companies_and_keeps_alive(server, api, env_factory, invoice):
    with EventStream(server, api.key) as stream_a, EventStream(server, api.key_b) as stream_b:
        stream_a.connected()
        stream_b.connected()
        started = time.monotonic()
        event_a = emit(env_factory, "invoice_updated", invoice["id"])
        assert stream_a.next_event()[0] == seq_of(env_factory, event_a)
        # company B's stream sees nothing of A: only its keep-alive comment, every 15 s
        block = stream_b.next_block(25)
        assert block == {"comment": ["keep-alive"]}, block
        assert time.monotonic() - started > 10
        with env_factory() as env:
            event_b = env["invoice_bridge.api.event"].create({
                "event": "invoice_created", "company_id": api.company_b_id, "payload": json.dumps({"id": 0})})
            env.cr.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(event_b.id)))
            event_b = event_b.id
        assert stream_b.next_event()[:2] == (seq_of(env_factory, event_b), "invoice_created")
        event_a2 = emit(env_factory, "invoice_updated", invoice["id"])
        assert stream_a.next_event()[0] == seq_of(env_factory, event_a2)  # A never received B's event between


# ------------------------------------------------------------------------------------------ HTTP refusals
@pytest.mark.parametrize(("path", "method"), [(IMPORT, "POST"), (UPDATE, "PATCH")])
def test_401_bodies_are_json(server, path, method):
    body = json.dumps(SAMPLE)
    cases = [({}, "Authentication credentials were not provided."), ({"X-API-KEY": "ibk_wrong"}, "Invalid API key"),
             ({"Authorization": "Bearer nope"}, "Invalid API key")]
    for headers, message in cases:
        response = requests.request(method, server + path, data=body, timeout=10,
                                    headers={"Content-Type": "application/json", **headers})
        assert (response.status_code, response.headers["Content-Type"]) == (401, "application/json"), response.text
        assert response.json() == {"success": False, "message": message}


def test_a_flood_of_refused_requests_is_counted_not_logged(server, odoo, registry):
    """#14 item 6 as it was found: one client hammering the routes with wrong credentials wrote a ~4 KB sync-log
    line per request. On a real server (the production path: a cursor of its own per refusal, concurrent
    upserts of one row) they are counted, one row per source, route, status and minute, and nothing is logged."""
    calls = [("POST", IMPORT, {"X-API-KEY": "ibk_flood-guess"}), ("PATCH", UPDATE, {"Authorization": "Bearer flood"}),
             ("POST", IMPORT, {}), ("POST", "/invoice_bridge/iap_extract/webhook/flood-token", {}),
             ("POST", "/invoice_bridge/easybill/webhook/1/flood-token", {})]
    threads, rounds = 8, 10
    logs_before = _scalar(odoo, registry, "SELECT count(*) FROM invoice_bridge_sync_log")
    counted_before = _scalar(odoo, registry, "SELECT coalesce(sum(count), 0) FROM invoice_bridge_refused_request")
    statuses = Counter()
    lock = threading.Lock()

    def client():
        with requests.Session() as session:
            for _round in range(rounds):
                for method, path, headers in calls:
                    response = session.request(method, server + path, data=json.dumps(SAMPLE), timeout=60,
                                               headers={"Content-Type": "application/json", **headers})
                    shape = "json" if response.headers.get("Content-Type", "").startswith("application/json") else (
                        "empty" if not response.content else response.text[:100])
                    with lock:
                        statuses[(path, response.status_code, shape)] += 1

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    sent = threads * rounds * len(calls)
    assert sum(statuses.values()) == sent
    assert all((status, shape) == ((404, "empty") if "webhook" in path else (401, "json"))
               for (path, status, shape) in statuses), statuses
    assert _scalar(odoo, registry, "SELECT count(*) FROM invoice_bridge_sync_log") == logs_before, "no line"
    counted = _scalar(odoo, registry, "SELECT coalesce(sum(count), 0) FROM invoice_bridge_refused_request")
    assert counted - counted_before == sent, "every refusal counted once, none lost to a concurrent upsert"
    rows = _scalar(odoo, registry, "SELECT count(*) FROM invoice_bridge_refused_request "
                                   "WHERE minute >= now() at time zone 'UTC' - interval '10 minutes'")
    assert rows <= 2 * 5, "one row per route and status in a minute (a minute may end meanwhile)"
    assert not _scalar(odoo, registry, "SELECT count(*) FROM invoice_bridge_refused_request "
                                       "WHERE reason LIKE '%%flood%%' OR route LIKE '%%flood%%'"), "no credential"


def test_credential_headers_never_reach_the_log(server, api, odoo, registry):
    """#14 item 9 as it was found: the headers were masked by a fixed list of names, so ``X-Auth-Token``,
    ``Api-Token`` and the like were stored in clear. Sent to a real server, each is masked by its name's pattern
    and the caller's API key by its value, whatever header carries it."""
    number = _unique("HEADERS")
    secrets = {"X-Auth-Token": "tok-1111-2222-3333", "Api-Token": "tok-4444-5555-6666",
               "X-Session-Id": "ses-7777-8888-9999", "X-Client-Secret": "sec-aaaa-bbbb-cccc",
               "X-Signature": "sig-aaaa-1111-bbbb", "Cookie": "session_id=coo-2222-cccc-3333",
               "X-Echo": api.key}
    response = requests.post(server + IMPORT, data=json.dumps(sample(number)), timeout=60,
                             headers=_headers(api.key, **secrets))
    assert response.status_code == 201, response.text
    stored = _scalar(odoo, registry, "SELECT request_headers FROM invoice_bridge_sync_log "
                                     "WHERE reference = %s ORDER BY id DESC LIMIT 1", (number,))
    for name, value in secrets.items():
        assert name.lower() in stored.lower(), (name, stored)
        assert value not in stored, (name, stored)
    assert api.key not in stored


@pytest.fixture
def small_body_limit(odoo, registry):
    with _env(odoo, registry) as env:
        env["ir.config_parameter"].set_param("invoice_bridge.import_max_body_bytes", "2000")
    yield 2000
    with _env(odoo, registry) as env:
        env["ir.config_parameter"].set_param("invoice_bridge.import_max_body_bytes", False)


def test_oversize_bodies_are_413_json(server, api, odoo, registry, small_body_limit):
    payload = sample(_unique("BIG"), memo="x" * small_body_limit)  # a valid invoice, over the limit
    body = json.dumps(payload).encode()

    def chunked(data):  # a generator: requests sends it chunked, without Content-Length
        for start in range(0, len(data), 500):
            yield data[start:start + 500]

    expected = {"success": False, "message": "Request body too large."}
    for label, data in (("Content-Length", body), ("chunked", chunked(body))):
        response = requests.post(server + IMPORT, data=data, headers=_headers(api.key), timeout=30)
        assert (response.status_code, response.headers["Content-Type"]) == (413, "application/json"), (
            f"{label} body of {len(body)} bytes (limit {small_body_limit}): {response.status_code} {response.text}")
        assert response.json() == expected
    assert count_invoices(odoo, registry, api.company_id, payload["invoice_no"]) == 0
    # under the limit, a chunked body is read whole
    small = json.dumps(sample(_unique("SMALL"))).encode()
    response = requests.post(server + IMPORT, data=chunked(small), headers=_headers(api.key), timeout=30)
    assert response.status_code == 201, response.text


# ----------------------------------------------------------------------------------------------- fuzzing
REVIEWED = 3


@pytest.fixture(scope="module")
def in_review(server, api, odoo, registry):
    """Invoices in REVIEW state whose numbers the fuzzer's PATCH requests use half of the time."""
    numbers = []
    for index in range(REVIEWED):
        number = _unique(f"FUZZ-REVIEW-{index}")
        response = post_import(server, api.key, sample(number))
        assert response.status_code == 201, response.text
        numbers.append(number)
    _return_to_billing(odoo, registry, api, numbers)
    return numbers


def _return_to_billing(odoo, registry, api, numbers):
    with _env(odoo, registry) as env:
        moves = env["account.move"].search([("company_id", "=", api.company_id), ("ib_invoice_no", "in", numbers),
                                            ("state", "=", "draft"), ("ib_import_state", "=", "waiting_approval")])
        if moves:
            moves._ib_return_to_billing("fuzzing")


def _short(text, size=600):
    return text if len(text) <= size else text[:size] + "…"


def test_schemathesis_finds_no_server_error(server, api, odoo, registry, in_review):
    schema = schemathesis.openapi.from_url(server + OPENAPI, timeout=30)
    headers = {"X-API-KEY": api.key}
    common = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
              response_schema_conformance]
    failures, statuses = {}, Counter()

    def fuzzer(operation, method, mode):
        checks = common + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])

        @settings(max_examples=50, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode), steer=st.integers(0, 3))
        def fuzz(case, steer):
            if mode == GenerationMode.POSITIVE and isinstance(case.body, dict) and steer < 2:
                # steer half of the valid bodies towards success: invoices in review / new numbers, no unknown
                # currency or taxes
                if method == "PATCH":
                    case.body["invoice_no"] = in_review[steer % len(in_review)]
                else:
                    case.body["invoice_no"] = _unique("FUZZ")
                    case.body.pop("currency", None)
                    for item in case.body.get("items") or []:
                        if isinstance(item, dict):
                            item.pop("taxes", None)
            response = case.call(headers=headers, timeout=60)
            statuses[(method, mode.value, response.status_code)] += 1
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except Exception as exc:  # noqa: BLE001 - collected: one report of every distinct failure
                title = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                failures.setdefault((method, mode.value, title), (
                    response.status_code, _short(str(exc), 1500), _short(case.as_curl_command(headers), 1500),
                    _short(response.text)))
            if method == "PATCH" and response.status_code == 200:
                _return_to_billing(odoo, registry, api, in_review)

        return fuzz

    # the list too (the single invoice's path is left out: a generated "." or ".." is a dot segment that the client
    # removes from the URL, which then names another route)
    for path, method in ((IMPORT, "POST"), (UPDATE, "PATCH"), ("/api/sales/invoices/", "GET")):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzzer(schema[path][method], method, mode)()

    report = "\n\n".join(f"{method} ({mode}) -> {status}: {title}\n{message}\n{curl}\nresponse: {text}"
                         for (method, mode, title), (status, message, curl, text) in failures.items())
    assert not failures, f"{len(failures)} distinct failures; statuses {dict(statuses)}\n\n{report}"
    assert any(status == 201 for (_m, _mode, status) in statuses), statuses
    assert any(status == 200 for (_m, _mode, status) in statuses), statuses


# ------------------------------------------------------------------------------- read routes (issue #17.5)
LIST = "/api/sales/invoices/"


def _db_now(odoo, registry):
    return _scalar(odoo, registry, "SELECT now() AT TIME ZONE 'UTC'").isoformat()


def list_page(server, key, **params):
    response = requests.get(server + LIST, params=params, headers={"X-API-KEY": key}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["data"]], body["next_cursor"], body["has_more"]


def list_all(server, key, cursor, limit=2):
    """The ids of every page from ``cursor`` to the end, and the last cursor."""
    ids, more = [], True
    while more:
        page, cursor, more = list_page(server, key, cursor=cursor, limit=limit)
        ids += page
    return ids, cursor


def _imported_id(server, key, number):
    response = post_import(server, key, sample(number))
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def test_list_pages_while_others_import_and_update(server, api, odoo, registry, known_customer):
    """Each request its own transaction: page, then import one invoice, correct one already listed (PATCH) and
    return one not reached yet to billing, then page on: untouched invoices come once, the new one and the one
    changed ahead of the cursor once, the one changed behind it again at the end."""
    since = _db_now(odoo, registry)
    tag = uuid.uuid4().hex[:6]
    ids = [_imported_id(server, api.key, f"PAGE-{tag}-{index}") for index in range(6)]
    first, cursor, more = list_page(server, api.key, updated_since=since, limit=2)
    assert (first, more) == (ids[:2], True)
    inserted = _imported_id(server, api.key, f"PAGE-{tag}-new")
    listed, ahead = ids[1], ids[3]
    _return_to_billing(odoo, registry, api, [f"PAGE-{tag}-1"])
    response = requests.patch(server + UPDATE, data=json.dumps({"invoice_no": f"PAGE-{tag}-1", "items": [
        {"item_code": "PR650", "batch_no": "B1"}]}), headers=_headers(api.key), timeout=60)
    assert response.status_code == 200, response.text
    _return_to_billing(odoo, registry, api, [f"PAGE-{tag}-3"])
    rest, _cursor = list_all(server, api.key, cursor)
    seen = first + rest
    assert seen == [*ids[:3], *ids[4:], inserted, listed, ahead], seen


def test_a_page_stops_before_the_changes_of_running_transactions(server, api, odoo, registry, known_customer):
    """An invoice's write_date is the start of the transaction that wrote it. A transaction that started before
    a later import but commits after it: a page listing the import right away would put the cursor after the
    first one, skipped for good. The page stops before it until it commits."""
    since = _db_now(odoo, registry)
    tag = uuid.uuid4().hex[:6]
    held = _imported_id(server, api.key, f"HELD-{tag}")
    page, cursor, _more = list_page(server, api.key, updated_since=since)
    assert page == [held]
    with registry.cursor() as cr:  # a slow transaction changes the invoice, and stays open
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["account.move"].browse(held).write({"ref": f"held-{tag}"})
        env.flush_all()
        later = _imported_id(server, api.key, f"LATER-{tag}")  # committed while the first one still runs
        page, running_cursor, more = list_page(server, api.key, cursor=cursor)
        assert (page, running_cursor, more) == ([], cursor, False), "the page waits for the running transaction"
    page, _cursor, _more = list_page(server, api.key, cursor=cursor)
    assert page == [held, later], "the change committed late comes first, nothing skipped"


# ------------------------------------------------------------------------- retry-safe PATCH (issue #17.7)
def patch_race(server, key, body, count, idempotency_key=None):
    """``count`` identical PATCHes at once: ``[(status, headers, bytes)]``."""
    barrier = threading.Barrier(count)
    results = [None] * count
    headers = _headers(key, **({"Idempotency-Key": idempotency_key} if idempotency_key else {}))

    def worker(index):
        barrier.wait(timeout=30)
        try:
            response = requests.patch(server + UPDATE, data=body, headers=headers, timeout=120)
            results[index] = (response.status_code, response.headers, response.content)
        except requests.RequestException as exc:
            results[index] = (None, {}, repr(exc).encode())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def _corrections(odoo, registry, move_id):
    """The chatter notes of PATCH corrections and the invoice_updated events of an invoice."""
    notes = _scalar(odoo, registry, """SELECT count(*) FROM mail_message WHERE model = 'account.move' AND res_id = %s
                                        AND body::text LIKE '%%Corrected through the import API%%'""", (move_id,))
    events = _scalar(odoo, registry, """SELECT count(*) FROM invoice_bridge_api_event
                                         WHERE move_id = %s AND event = 'invoice_updated'""", (move_id,))
    return notes, events


def test_concurrent_patches_with_one_idempotency_key_get_the_first_answer(server, api, odoo, registry,
                                                                          known_customer):
    """Concurrent identical PATCHes with one Idempotency-Key: the first runs, the others wait for its answer and
    give it again, byte for byte; one correction. Without the key, the same race has one 200 and 409s."""
    racers = 4
    tag = uuid.uuid4().hex[:6]
    numbers = [f"IDEM-{tag}", f"NOKEY-{tag}"]
    moves = [_imported_id(server, api.key, number) for number in numbers]
    _return_to_billing(odoo, registry, api, numbers)
    bodies = [json.dumps({"invoice_no": number, "resolution_notes": "batch fixed", "items": [
        {"item_code": "PR650", "batch_no": "B9"}, {"item_code": f"NEW-{tag}", "name": "Zinc", "quantity": 1,
                                                     "mrp": 12}]}) for number in numbers]
    results = patch_race(server, api.key, bodies[0], racers, idempotency_key=f"retry-{tag}")
    described = [(status, headers.get("Idempotent-Replayed"), content[:200]) for status, headers, content in results]
    assert [status for status, _h, _c in results] == [200] * racers, described
    assert len({content for _s, _h, content in results}) == 1, described
    assert sorted(headers.get("Idempotent-Replayed", "") for _s, headers, _c in results) == [
        ""] + ["true"] * (racers - 1), described
    assert _corrections(odoo, registry, moves[0]) == (1, 1)
    assert json.loads(results[0][2])["data"]["total_amount"] == 932.0
    # the same race without the key: one correction, the others refused (the invoice left review)
    results = patch_race(server, api.key, bodies[1], racers)
    assert sorted(status for status, _h, _c in results) == [200] + [409] * (racers - 1), [
        (status, content[:200]) for status, _h, content in results]
    assert _corrections(odoo, registry, moves[1]) == (1, 1)
