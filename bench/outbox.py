"""Outbox drain throughput vs. a raw keep-alive POST loop, measured in the same run.

    make bench                      # all benchmarks on a fresh database
    python bench/outbox.py --db DB  # this one (PGHOST/PGUSER set, Odoo on IB_ODOO_SRC)

Enqueues N messages to a loopback receiver (its own process, answering 200 at once), then drains them with the
real cron method (``invoice_bridge.outbox._cron_drain``: claim with SKIP LOCKED, commit, send, record outcomes
and sync-log lines, commit). The baseline is a plain ``requests.Session`` POST loop of the same N bodies to the
same receiver. Prints figures and ratios; asserts nothing.
"""
import argparse
import json
import resource
import sys
import time

from _common import header, load_odoo, raw_loop, start_receiver_process


def drain(odoo, registry, url, bodies):
    target = f"bench-{time.time_ns()}"
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["invoice_bridge.outbox"]._enqueue([
            {"channel": "http", "target": target, "url": url, "payload": body} for body in bodies])
    start = time.perf_counter()
    runs = 0
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            outbox = env["invoice_bridge.outbox"]
            outbox._cron_drain()
            runs += 1
            if not outbox.search_count([("target", "=", target), ("state", "in", ("pending", "in_progress"))]):
                break
    elapsed = time.perf_counter() - start
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        done = env["invoice_bridge.outbox"].search_count([("target", "=", target), ("state", "=", "done")])
        logs = env["invoice_bridge.sync.log"].search_count([("outbox_id.target", "=", target)])
    return elapsed, done, logs, runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    bodies = [json.dumps({"event": "bench", "n": i, "pad": "x" * 400}) for i in range(args.n)]
    proc, url = start_receiver_process()
    try:
        odoo, registry = load_odoo(args.db)
        raw_loop(url + "/warmup", bodies[:50])
        raw_s = raw_loop(url + "/raw", bodies)
        drain_s, done, logs, runs = drain(odoo, registry, url + "/hook", bodies)
    finally:
        proc.terminate()
        proc.wait(10)
    raw_rate, drain_rate = args.n / raw_s, args.n / drain_s
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(header("outbox.py"))
    print(f"raw keep-alive requests.Session loop : {args.n} POSTs in {raw_s:6.2f} s = {raw_rate:7.0f} req/s")
    print(f"outbox drain (real cron method)      : {done} delivered in {drain_s:6.2f} s = {drain_rate:7.0f} msg/s "
          f"({runs} cron run(s), {logs} sync-log lines)")
    print(f"ratio drain / raw                    : {drain_rate / raw_rate:.2f}x   (target >= 0.5x)")
    print(f"drain throughput                     : {drain_rate:.0f} msg/s (target >= 100 msg/s)")
    print(f"peak RSS of this process             : {rss_mb:.0f} MB")
    return 0 if done == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
