"""Webhooks: cost on posting, post→receipt latency in a running server, drain throughput. Prints figures only.

    make bench            # all benchmarks on a fresh database
    python bench/webhooks.py --db DB

1. Posting 200 invoices x 5 lines with an active endpoint vs. 200 with no subscribed endpoint (the bridge's
   hooks find nothing to do), in interleaved chunks of the same run, timed with the commit (whose pre-commit
   hook writes the events): 25 invoices per transaction, and one per transaction. Prints the time ratio
   (target <= 1.10x) and the extra queries per invoice at two sizes (target: constant).
2. A real Odoo server (threaded, two cron threads, Odoo's default) receives one JSON-RPC action_post per
   invoice, chunks with the endpoint off and on interleaved: request time ratio, and the post -> receipt latency
   of the "on" invoices recorded by a loopback receiver (target p95 <= 2 s; the seed's polling script: up to
   60 s).
3. Drain throughput of signed webhook messages vs. a raw keep-alive requests.Session loop timed before and after
   the drain (target ≥ 100/s and ≥ 0.5×).
4. Where the extra time goes, in the "on" transactions of 1.: the bridge's own steps timed one by one (the
   pre-commit pass, its body building and its queueing, Odoo's wake-up of the cron workers, the portal tokens).
5. Concurrent delivery to a slow receiver (it answers after 100 ms): the drain with 16 requests in flight (its
   setting and the endpoint's limit) vs. a raw loop of 16 threads with a keep-alive session each, timed before
   and after the drain (targets >= 100/s and >= 0.8x).
"""
import argparse
import contextlib
import gc
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict

import psycopg2.errors
import requests
from _common import REPO, header, load_odoo, percentile, raw_loop, start_receiver_process
from ib_fakes.webhook_receiver import WebhookReceiver

#: the slow receiver of 5.: it answers after this many seconds; the drain and the raw loop keep this many
#: requests in flight
SLOW_DELAY = 0.1
SLOW_CONCURRENCY = 16
SLOW_COUNT = 1600


def setup_accounting(odoo, registry, partners=20):
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if not env.company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=env.company, install_demo=False)
        partner_ids = env["res.partner"].create([{"name": f"Bench customer {i}"} for i in range(partners)]).ids
        product = env["product.product"].create({"name": "Bench service", "list_price": 10.0})
        return partner_ids, product.id


def create_drafts(env, partner_ids, product_id, count, lines=5):
    return env["account.move"].create([{
        "move_type": "out_invoice", "partner_id": partner_ids[i % len(partner_ids)], "invoice_date": "2026-11-02",
        "invoice_line_ids": [(0, 0, {"product_id": product_id, "quantity": 1 + j, "price_unit": 10.0})
                             for j in range(lines)],
    } for i in range(count)])


def set_endpoint(env, url, active):
    Endpoint = env["invoice_bridge.webhook.endpoint"].with_context(active_test=False)
    Endpoint.search([]).write({"active": False})
    if active:
        endpoint = Endpoint.search([("name", "=", "bench")], limit=1) or Endpoint.create(
            {"name": "bench", "url": url})
        endpoint.write({"active": True, "url": url})


#: the bridge's steps timed in the "on" transactions of posting_overhead: label -> (model, method)
STEPS = {
    "pre-commit pass, all of it": ("account.move", "_ib_flush_webhook_events"),
    "  of which: body documents": ("account.move", "_ib_webhook_documents"),
    "  of which: outbox INSERT + cron trigger": ("invoice_bridge.outbox", "_enqueue"),
    "cron wake-up after the commit (NOTIFY)": ("ir.cron", "_notifydb"),
    "portal tokens (before posting + in pass)": ("account.move", "_ib_ensure_access_tokens"),
}


@contextlib.contextmanager
def timed_steps(registry):
    """Time the bridge's :data:`STEPS` by wrapping their methods on the registry's classes (restored on exit).

    Yields ``{label: seconds}``, summed over the calls since the caller last cleared it.
    """
    spent, patched = defaultdict(float), []

    def timed(label, func):
        def wrapper(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(self, *args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t0
        return wrapper

    try:
        for label, (model, method) in STEPS.items():
            cls = registry[model]
            patched.append((cls, method, cls.__dict__.get(method)))
            setattr(cls, method, timed(label, getattr(cls, method)))
        yield spent
    finally:
        for cls, method, original in patched:
            if original is None:
                delattr(cls, method)
            else:
                setattr(cls, method, original)


def posting_overhead(odoo, registry, partner_ids, product_id, url, total=200, chunk=10, per_transaction=1):
    """Post ``total`` invoices with the endpoint on and ``total`` with it off, in interleaved chunks.

    Each transaction posts ``per_transaction`` invoices one by one; the timer covers posting and the commit
    (whose pre-commit hook writes the webhook events). Returns ``{mode: [seconds, queries, invoices]}``, the
    time ratios of the chunk pairs (on/off, for a median robust to a chunk slowed by something else on the
    machine), ``{invoices: extra queries per invoice}`` at half and full size, and where the time of the "on"
    transactions goes: ``{step: median milliseconds per invoice}`` (:data:`STEPS`, then the whole transaction).
    """
    stats = {"on": [0.0, 0, 0], "off": [0.0, 0, 0]}
    pair_ratios, per_size, previous, steps = [], {}, None, defaultdict(list)
    with timed_steps(registry) as spent:
        for i in range(total // chunk * 2):
            mode = "off" if i % 4 in (0, 3) else "on"  # off on on off: a drift over the run favours neither
            chunk_time, queries = posting_chunk(odoo, registry, partner_ids, product_id, url, mode, chunk,
                                                per_transaction, spent, steps)
            stats[mode][0] += chunk_time
            stats[mode][1] += queries
            stats[mode][2] += chunk
            if i % 2:
                pair_ratios.append(chunk_time / previous if mode == "on" else previous / chunk_time)
            previous = chunk_time
            if mode == "on" and stats["on"][2] in (total // 2, total):
                per_size[stats["on"][2]] = (stats["on"][1] / stats["on"][2]) - (stats["off"][1] / stats["off"][2])
    with registry.cursor() as cr:  # the "on" messages are not part of this measure: drop them
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["invoice_bridge.outbox"].search([("channel", "=", "webhook")]).unlink()
    return stats, pair_ratios, per_size, {step: 1000 * statistics.median(ms) for step, ms in steps.items()}


def posting_chunk(odoo, registry, partner_ids, product_id, url, mode, chunk, per_transaction, spent, steps):
    """Post ``chunk`` new invoices with the endpoint ``mode`` ("on"/"off"); returns their seconds and queries.

    For an "on" chunk, appends each transaction's time per invoice in each step (``spent``) to ``steps``.
    """
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        set_endpoint(env, url, mode == "on")
        ids = create_drafts(env, partner_ids, product_id, chunk).ids
    gc.collect()
    chunk_time, queries = 0.0, 0
    for start in range(0, chunk, per_transaction):
        spent.clear()
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            q0, t0 = cr.sql_log_count, time.perf_counter()
            for move in env["account.move"].browse(ids[start:start + per_transaction]):
                move.action_post()
            cr.flush()  # what the commit runs first: the last writes, then the pre-commit hooks
            queries += cr.sql_log_count - q0
            cr.commit()
            elapsed = time.perf_counter() - t0
        chunk_time += elapsed
        if mode == "on":
            for step in STEPS:
                steps[step].append(spent[step] / per_transaction)
            steps["whole transaction"].append(elapsed / per_transaction)
    return chunk_time, queries


def start_server(db, port):
    src = os.environ.get("IB_ODOO_SRC", "/opt/odoo")
    log = open(REPO / ".run" / "bench-server.log", "w")  # noqa: SIM115 - the server's whole life
    addons = ",".join([f"{src}/addons", f"{src}/odoo/addons", str(REPO)])
    proc = subprocess.Popen([sys.executable, f"{src}/odoo-bin", "--addons-path", addons, "-d", db, "--db-filter",
                             f"^{db}$", "--http-interface", "127.0.0.1", "--http-port", str(port),
                             "--max-cron-threads", "2", "--log-level", "warn"], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/web/health", timeout=2).status_code == 200:
                return proc, url
        time.sleep(0.5)
    raise RuntimeError("the bench server did not start; see .run/bench-server.log")


def latency(odoo, registry, db, partner_ids, product_id, posts=200, chunk=10):
    """Post invoices one JSON-RPC request each (the Post button) to a real server with two cron threads.

    Chunks with the endpoint off and on alternate (off on on off ...). Returns the post → receipt latencies of
    the "on" invoices, how many were received, and the request times per mode.
    """
    with WebhookReceiver(record_bodies=True) as receiver:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            set_endpoint(env, f"{receiver.url}/hook", False)
            env["ir.config_parameter"].set_param("report.url", "")
            ids = create_drafts(env, partner_ids, product_id, 2 * posts, lines=5).ids
        port = 18000 + os.getpid() % 1000
        proc, url = start_server(db, port)
        started, request_times, on_ids = {}, {"on": [], "off": []}, []
        try:
            with registry.cursor() as cr:
                odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})["ir.config_parameter"].set_param("report.url", url)
            session = requests.Session()
            session.post(f"{url}/web/session/authenticate", timeout=30, json={
                "jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}}).raise_for_status()
            for i, start in enumerate(range(0, 2 * posts, chunk)):
                mode = "off" if i % 4 in (0, 3) else "on"
                # what the "on" chunks queued is delivered before the endpoint is archived for an "off" chunk
                receiver.wait_for(len(on_ids), timeout=60)
                for _attempt in range(5):  # the server's cron writes the endpoint's counters concurrently
                    try:
                        with registry.cursor() as cr:
                            set_endpoint(odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}), f"{receiver.url}/hook",
                                         mode == "on")
                        break
                    except psycopg2.errors.SerializationFailure:
                        time.sleep(0.2)
                registry.signal_changes()  # the server's cached subscriptions (what a request's end does)
                for move_id in ids[start:start + chunk]:
                    started[move_id] = time.time()
                    t0 = time.perf_counter()
                    session.post(f"{url}/web/dataset/call_kw", timeout=60, json={"jsonrpc": "2.0", "params": {
                        "model": "account.move", "method": "action_post", "args": [[move_id]], "kwargs": {}}})
                    request_times[mode].append(time.perf_counter() - t0)
                    if mode == "on":
                        on_ids.append(move_id)
            receiver.wait_for(len(on_ids), timeout=300)
        finally:
            proc.terminate()
            proc.wait(30)
        received = {}
        for d in receiver.deliveries:
            if d["status"] == 200 and d["json"] and d["json"]["event"] == "new_invoice":
                move_id = d["json"]["operations"][3]["payload"]["invoice_id"]
                received.setdefault(move_id, d["received_at"])
        return [received[m] - started[m] for m in on_ids if m in received], len(received), request_times


def drain_throughput(odoo, registry, url, count=2000):
    """Seconds to drain ``count`` signed messages, and the raw loop's seconds for the same bodies, measured
    before and after the drain (a drift of the machine during the run then weighs on both sides)."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        set_endpoint(env, url, True)
        endpoint = env["invoice_bridge.webhook.endpoint"].search([("name", "=", "bench")])
        bodies = []
        for i in range(count):
            messages = endpoint._enqueue_event("test", {"event": "test", "n": i, "pad": "x" * 400, "operations": []})
            bodies.append(messages.payload)
    raw_before = raw_loop(url, bodies)
    drain_s = drain_all(odoo, registry)
    return drain_s, (raw_before, raw_loop(url, bodies))


def drain_all(odoo, registry):
    """Seconds the real cron method needs to empty the outbox, run after run."""
    start = time.perf_counter()
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["invoice_bridge.outbox"]._cron_drain()
            if not env["invoice_bridge.outbox"].search_count([("state", "in", ("pending", "in_progress"))]):
                return time.perf_counter() - start


def raw_concurrent_loop(url, bodies, concurrency):
    """Seconds ``concurrency`` threads, each with its own keep-alive requests.Session, need to POST ``bodies``."""
    todo = list(reversed(bodies))
    lock = threading.Lock()

    def worker():
        with requests.Session() as session:
            while True:
                with lock:
                    if not todo:
                        return
                    body = todo.pop()
                session.post(url, data=body, headers={"Content-Type": "application/json"},
                             timeout=15).raise_for_status()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def slow_receiver_throughput(odoo, registry, url, concurrency=SLOW_CONCURRENCY, count=SLOW_COUNT):
    """Seconds to drain ``count`` messages to a receiver answering after 100 ms, with ``concurrency`` requests
    in flight (the drain's setting and the endpoint's limit), and a raw loop's with as many threads, timed
    before and after the drain."""
    requests.post(f"{url}/_fake/behaviour", json={"default_status": 200, "default_delay": SLOW_DELAY},
                  timeout=15).raise_for_status()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("invoice_bridge.drain_concurrency", str(concurrency))
        set_endpoint(env, f"{url}/hook", True)
        endpoint = env["invoice_bridge.webhook.endpoint"].search([("name", "=", "bench")])
        endpoint.max_in_flight = concurrency
        bodies = []
        for i in range(count):
            messages = endpoint._enqueue_event("test", {"event": "test", "n": i, "pad": "x" * 400, "operations": []})
            bodies.append(messages.payload)
    raw_before = raw_concurrent_loop(f"{url}/hook", bodies, concurrency)
    drain_s = drain_all(odoo, registry)
    raw_after = raw_concurrent_loop(f"{url}/hook", bodies, concurrency)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("invoice_bridge.drain_concurrency", "")
        env["invoice_bridge.webhook.endpoint"].search([("name", "=", "bench")]).max_in_flight = 4
    requests.post(f"{url}/_fake/behaviour", json={"default_status": 200, "default_delay": 0},
                  timeout=15).raise_for_status()
    return drain_s, (raw_before, raw_after)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    odoo, registry = load_odoo(args.db)
    partner_ids, product_id = setup_accounting(odoo, registry)
    proc, url = start_receiver_process()
    try:
        posting = {shape: posting_overhead(odoo, registry, partner_ids, product_id, f"{url}/hook",
                                           total=args.posts, chunk=10 if shape == 1 else 25, per_transaction=shape)
                   for shape in (1, 25)}
        drain_s, raw_s_pair = drain_throughput(odoo, registry, f"{url}/hook")
        slow_drain_s, slow_raw_pair = slow_receiver_throughput(odoo, registry, url)
    finally:
        proc.terminate()
        proc.wait(10)
    lat, received, request_times = latency(odoo, registry, args.db, partner_ids, product_id, posts=args.posts)
    print(header("webhooks.py"))
    for shape, label in ((1, "one per transaction (Post button)"), (25, "25 per transaction (a batch)   ")):
        stats, pair_ratios, per_size, _steps = posting[shape]
        on_t, on_q, on_n = stats["on"]
        off_t, off_q, off_n = stats["off"]
        print(f"posting {label}: {off_n} + {on_n} invoices x 5 lines, interleaved chunks, commit included")
        print(f"  no endpoint (hooks idle)         : {1000 * off_t / off_n:6.1f} ms and {off_q / off_n:5.1f} queries "
              "per invoice")
        print(f"  active endpoint                  : {1000 * on_t / on_n:6.1f} ms and {on_q / on_n:5.1f} queries "
              "per invoice")
        print(f"  time ratio on / off              : {(on_t / on_n) / (off_t / off_n):.2f}x overall, median of "
              f"{len(pair_ratios)} chunk pairs {statistics.median(pair_ratios):.2f}x (target <= 1.10x)")
        print("  extra queries per invoice        : " + ", ".join(
            f"{v:.1f} after {k} invoices" for k, v in sorted(per_size.items())) + " (target: constant)")
    for shape, label in ((1, "one-invoice transactions"), (25, "25 invoices per transaction")):
        off_ms = 1000 * posting[shape][0]["off"][0] / posting[shape][0]["off"][2]
        print(f"where the bridge's time goes, {label} (medians per invoice of the \"on\" transactions above; "
              f"share of the {off_ms:.1f} ms of posting an invoice with no endpoint):")
        for step, ms in posting[shape][3].items():
            print(f"  {step:40s} {ms:6.2f} ms  {100 * ms / off_ms:5.1f} %")
    on_ms, off_ms = (1000 * statistics.median(request_times[m]) for m in ("on", "off"))
    mean_ratio = statistics.mean(request_times["on"]) / statistics.mean(request_times["off"])
    print(f"posting through a running server   : {len(request_times['off'])} + {len(request_times['on'])} JSON-RPC "
          f"action_post requests, one invoice each (the Post button), interleaved chunks, two cron threads")
    print(f"  median request, no endpoint      : {off_ms:6.1f} ms;  active endpoint: {on_ms:6.1f} ms;  ratio "
          f"{on_ms / off_ms:.2f}x (ratio of the means {mean_ratio:.2f}x)")
    print(f"post -> receipt latency (server)   : {received}/{args.posts} received, p50 {percentile(lat, 50):.2f} s, "
          f"p95 {percentile(lat, 95):.2f} s, max {max(lat or [0]):.2f} s (target p95 <= 2 s; seed script: <= 60 s)")
    raw_s = statistics.mean(raw_s_pair)
    print(f"webhook drain vs raw loop          : 2000 in {drain_s:.2f} s = {2000 / drain_s:.0f}/s vs "
          f"{2000 / raw_s:.0f}/s raw (before {2000 / raw_s_pair[0]:.0f}/s, after {2000 / raw_s_pair[1]:.0f}/s) = "
          f"{raw_s / drain_s:.2f}x (targets >= 100/s, >= 0.5x)")
    slow_raw_s = statistics.mean(slow_raw_pair)
    slow_rate, slow_raw_rate = SLOW_COUNT / slow_drain_s, SLOW_COUNT / slow_raw_s
    slow_ratio = slow_raw_s / slow_drain_s
    verdict = "PASS" if slow_rate >= 100 and slow_ratio >= 0.8 else "MISS"
    print(f"receiver answering after {SLOW_DELAY * 1000:.0f} ms, {SLOW_CONCURRENCY} in flight: {SLOW_COUNT} in "
          f"{slow_drain_s:.2f} s = {slow_rate:.0f}/s vs {slow_raw_rate:.0f}/s raw ({SLOW_CONCURRENCY} threads; before "
          f"{SLOW_COUNT / slow_raw_pair[0]:.0f}/s, after {SLOW_COUNT / slow_raw_pair[1]:.0f}/s) = {slow_ratio:.2f}x "
          f"(targets >= 100/s, >= 0.8x) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
