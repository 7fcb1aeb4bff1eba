"""The outbox on real PostgreSQL connections: what Odoo's test cursors cannot show."""
import json
import threading
import time
from collections import Counter

import psycopg2
import pytest


def _enqueue(env, receiver, count, prefix, **extra):
    return env["invoice_bridge.outbox"]._enqueue([{
        "channel": "http", "target": f"{prefix}-target", "url": f"{receiver.url}/{prefix}",
        "payload": json.dumps({"n": i}), "idempotency_key": f"{prefix}-{i}", **extra,
    } for i in range(count)])


def _cleanup(env_factory, prefix):
    with env_factory() as env:
        env["invoice_bridge.outbox"].search([("target", "=", f"{prefix}-target")]).action_cancel()


def test_rollback_queues_nothing_commit_wakes_the_cron(env_factory, receiver, dbname):
    listener = psycopg2.connect(dbname="postgres")
    listener.autocommit = True
    listener.cursor().execute("LISTEN cron_trigger")
    try:
        with env_factory(commit=False) as env:
            _enqueue(env, receiver, 3, "rb")
        listener.poll()
        assert not [n for n in listener.notifies if n.payload == dbname], "a rollback must not wake the cron"
        with env_factory() as env:
            assert env["invoice_bridge.outbox"].search_count([("idempotency_key", "like", "rb-%")]) == 0
        with env_factory() as env:
            _enqueue(env, receiver, 2, "cm")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not [n for n in listener.notifies if n.payload == dbname]:
            time.sleep(0.05)
            listener.poll()
        assert [n for n in listener.notifies if n.payload == dbname], "the commit must NOTIFY the cron workers"
        with env_factory() as env:
            cron = env.ref("invoice_bridge.ir_cron_outbox_drain")
            assert env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]) >= 1
    finally:
        listener.close()
        _cleanup(env_factory, "cm")


def test_two_claims_never_take_the_same_message(registry, odoo, env_factory, receiver):
    """Worker A holds its claim uncommitted; worker B must get other messages at once, not wait for A.

    Without SKIP LOCKED, B either blocks on A's row locks (plain FOR UPDATE) or selects A's rows and blocks on
    updating them (no locking): both end in B's lock timeout and this test fails.
    """
    with env_factory() as env:
        _enqueue(env, receiver, 20, "claim")
    cr_a, cr_b = registry.cursor(), registry.cursor()
    try:
        env_a = odoo.api.Environment(cr_a, odoo.SUPERUSER_ID, {})
        env_b = odoo.api.Environment(cr_b, odoo.SUPERUSER_ID, {})
        claimed_a = env_a["invoice_bridge.outbox"]._claim(10)
        cr_b.execute("SET lock_timeout = '3s'")
        claimed_b = env_b["invoice_bridge.outbox"]._claim(10)
        assert len(claimed_a) == 10
        assert len(claimed_b) == 10
        assert not set(claimed_a.ids) & set(claimed_b.ids)
    finally:
        cr_a.rollback()
        cr_b.rollback()
        cr_a.close()
        cr_b.close()
        _cleanup(env_factory, "claim")


def test_two_concurrent_drains_deliver_each_message_once(registry, odoo, env_factory, receiver):
    count = 300
    with env_factory() as env:
        messages = _enqueue(env, receiver, count, "race")
        ids = messages.ids
    receiver.set_default(status=200, delay=0.002)  # keep both workers busy at the same time
    done, errors = {}, []

    def worker(name):
        try:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                done[name] = env["invoice_bridge.outbox"]._drain(autocommit=True, batch_size=20, short_wait=0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    per_key = Counter(d["headers"].get("idempotency-key") for d in receiver.deliveries)
    assert len(per_key) == count
    assert set(per_key.values()) == {1}, "a message was delivered twice"
    assert done["a"] > 0 and done["b"] > 0, f"both workers must have drained: {done}"
    assert done["a"] + done["b"] == count
    with env_factory() as env:
        assert set(env["invoice_bridge.outbox"].browse(ids).mapped("state")) == {"done"}


def test_a_rate_limited_target_is_drained_without_waiting_for_itself(registry, odoo, env_factory, receiver, dbname):
    """One batch writes its target's row several times: the rate limit (easybill sets it between its steps, in the
    drain's transaction), the rate window, the health. Each is written in a transaction of its own. When the first
    two were written in the drain's transaction, the health's own cursor waited for that transaction's row lock,
    in the same thread: a deadlock PostgreSQL cannot see (the demo's easybill export hung in "Sending")."""
    with env_factory() as env:
        env["invoice_bridge.outbox.target"]._set_rate_limit("rl-target", 60)
        _enqueue(env, receiver, 3, "rl")
    result, errors = {}, []

    def worker():
        try:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                env["invoice_bridge.outbox.target"]._set_rate_limit("rl-target", 30)
                result["drained"] = env["invoice_bridge.outbox"]._drain(autocommit=True, short_wait=0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():  # end the connection that waits, so that the run goes on
        conn = psycopg2.connect(dbname=dbname)
        conn.autocommit = True
        conn.cursor().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                              " WHERE datname = %s AND wait_event_type = 'Lock'", [dbname])
        conn.close()
        thread.join(10)
        pytest.fail("the drain waited for its own lock on the target's row")
    try:
        assert not errors
        assert result["drained"] == 3
        with env_factory() as env:
            target = env["invoice_bridge.outbox.target"].search([("name", "=", "rl-target")])
            assert target.rate_limit == 30
            assert len(json.loads(target.recent_attempts)) == 3
            assert target.last_success_at and not target.consecutive_failures
    finally:
        _cleanup(env_factory, "rl")


def test_detached_log_survives_rollback(env_factory):
    with env_factory(commit=False) as env:
        logs = env["invoice_bridge.sync.log"]
        logs._log_detached({"channel": "import_api", "direction": "inbound", "state": "failed",
                            "message": "detached-line", "request_body": '{"api_key": "abcdefgh12345678"}'})
        logs._log({"channel": "import_api", "direction": "inbound", "state": "failed", "message": "attached-line"})
    with env_factory() as env:
        logs = env["invoice_bridge.sync.log"]
        kept = logs.search([("message", "=", "detached-line")])
        assert len(kept) == 1
        assert "abcdefgh12345678" not in kept.request_body
        assert not logs.search([("message", "=", "attached-line")])


@pytest.mark.parametrize("status", [503])
def test_stuck_message_after_a_crash_is_delivered(env_factory, receiver, odoo, status):
    """A worker claims and dies (its claim committed, nothing sent): once the lease expires it is sent."""
    with env_factory() as env:
        msg = _enqueue(env, receiver, 1, "crash")
        msg._claim(10)
        assert msg.state == "in_progress"
    with env_factory() as env:
        msg = env["invoice_bridge.outbox"].browse(msg.id)
        env.cr.execute("UPDATE invoice_bridge_outbox SET lease_until = now() at time zone 'UTC' - interval '1 s' "
                       "WHERE id = %s", [msg.id])
        assert env["invoice_bridge.outbox"]._drain(autocommit=True, short_wait=0) == 1
        msg.invalidate_recordset()
        assert msg.state == "done" and msg.attempt_count == 2
    assert receiver.count_ok() == 1
