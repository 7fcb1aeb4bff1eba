"""Import API vs. Odoo's own JSON-RPC ``account.move.create``: throughput ratio and latency, same server, same run.

    make bench            # all benchmarks on a fresh database
    python bench/import_api.py --db DB [-n 500]

What is compared. One real Odoo server (threaded mode: one process, the requests sent one after the other from
one client over a keep-alive ``requests.Session``, no cron thread) receives:

* ours: N ``POST /api/sales/import/invoice/`` of seed 002's sample (distinct ``invoice_no``, same customer and
  items) with ``X-API-KEY`` (a key with no rate limit, running as a technical billing user);
* raw: N ``/jsonrpc`` ``execute_kw(db, uid, password, 'account.move', 'create', [vals])`` of the equivalent draft
  invoice (same partner, same two products, quantities and prices, no taxes, same journal) by the same user.

Our endpoint does more per invoice: authenticate the key (hash), count the key's rate window (its own cursor and
commit), parse and validate the payload, find the invoice number (409 on a duplicate), upsert the customer, the
products and the salesman, create the move, store and NOTIFY an event, and write an inbound sync-log line. The
ratio says what all that costs against the bare ORM create Odoo offers anyway (target >= 0.8x).

Both paths are warmed up (20 requests each, not counted) and measured interleaved in chunks of 10, so drift on the
machine hits both alike. A third section runs both in-process (no HTTP) and counts SQL queries per invoice, to
show where the difference lies. Prints figures only; the invoices created over HTTP stay (drafts), the
in-process ones are rolled back.

Batch import (``POST /api/sales/import/invoices/``): first, in process, BATCH_SIZE invoices in one
``account.move.create`` against BATCH_SIZE single creates, each with an empty record cache as its own request
would have: that speed-up is the physical limit of batching here. Then the import service's batch against its
single import, and over HTTP N invoices in batches of BATCH_SIZE against N single POSTs, interleaved batch by
batch; the HTTP speed-up is printed as a share of the in-process limit (target >= 0.8).
"""
import argparse
import contextlib
import copy
import json
import os
import socket
import subprocess
import sys
import time

import requests
from _common import DATA, REPO, header, load_odoo, percentile

SAMPLE = json.loads((DATA / "import_api_seed002_sample.json").read_text())
IMPORT = "/api/sales/import/invoice/"
LOGIN, PASSWORD = "bench_import_tech", "bench-import-tech-pass"
CHUNK = 10
WARMUP = 20


def setup(odoo, registry):
    """Chart of accounts, a technical billing user (with a password, for JSON-RPC), an import key without rate
    limit. Returns (uid, key)."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        if not company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        user = env["res.users"].with_context(active_test=False).search([("login", "=", LOGIN)])
        if not user:
            groups_field = "group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"  # 19.0 / 18.0
            user = env["res.users"].create({
                "name": "Import bench (technical)", "login": LOGIN, "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
                groups_field: [(6, 0, [env.ref("account.group_account_invoice").id, env.ref("base.group_user").id])]})
        user.password = PASSWORD
        key = env["invoice_bridge.api.key"].create({"name": "import bench", "company_id": company.id,
                                                   "user_id": user.id, "rate_limit": 0})
        return user.id, key._generate_key()


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db):
    src = os.environ.get("IB_ODOO_SRC", "/opt/odoo")
    port = free_port()
    log_path = REPO / ".run" / "bench-import-api-server.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "w")  # noqa: SIM115 - the server's whole life
    addons = ",".join([f"{src}/addons", f"{src}/odoo/addons", str(REPO)])
    proc = subprocess.Popen([sys.executable, f"{src}/odoo-bin", "--addons-path", addons, "-d", db, "--db-filter",
                             f"^{db}$", "--http-interface", "127.0.0.1", "--http-port", str(port),
                             "--workers", "0", "--max-cron-threads", "0", "--log-level", "warn"],
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if proc.poll() is not None:
            break
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/web/health", timeout=2).status_code == 200:
                return proc, url
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the bench server did not start; see {log_path}")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class Paths:
    """The two ways of creating the same invoice, each on its own keep-alive session."""

    def __init__(self, url, db, uid, key, run_id):
        self.url, self.db, self.uid, self.key, self.run_id = url, db, uid, key, run_id
        self.ours = requests.Session()
        self.raw = requests.Session()
        self.vals = None  # the raw create's values, known once the first import created partner and products
        self.seq = 0

    def import_one(self):
        self.seq += 1
        payload = copy.deepcopy(SAMPLE)
        payload["invoice_no"] = f"BENCH-{self.run_id}-{self.seq:05d}"
        body = json.dumps(payload).encode()
        start = time.perf_counter()
        response = self.ours.post(self.url + IMPORT, data=body, timeout=60,
                                  headers={"Content-Type": "application/json", "X-API-KEY": self.key})
        elapsed = time.perf_counter() - start
        if response.status_code != 201:
            raise RuntimeError(f"import answered {response.status_code}: {response.text[:500]}")
        return elapsed, response.json()["data"]["id"]

    def create_one(self):
        self.seq += 1
        body = {"jsonrpc": "2.0", "method": "call", "id": self.seq, "params": {
            "service": "object", "method": "execute_kw",
            "args": [self.db, self.uid, PASSWORD, "account.move", "create", [self.vals]]}}
        start = time.perf_counter()
        response = self.raw.post(self.url + "/jsonrpc", json=body, timeout=60)
        elapsed = time.perf_counter() - start
        answer = response.json()
        if response.status_code != 200 or "result" not in answer:
            raise RuntimeError(f"JSON-RPC create failed: {json.dumps(answer)[:800]}")
        return elapsed, answer["result"]

    def close(self):
        self.ours.close()
        self.raw.close()


def vals_like(move):
    """The draft invoice the raw path creates: what an import produced, without the bridge's fields."""
    return {
        "move_type": "out_invoice", "journal_id": move.journal_id.id, "partner_id": move.partner_id.id,
        "invoice_date": str(move.invoice_date),
        "invoice_line_ids": [(0, 0, {"product_id": line.product_id.id, "name": line.name, "quantity": line.quantity,
                                     "price_unit": line.price_unit, "tax_ids": [(6, 0, [])]})
                             for line in move.invoice_line_ids],
    }


def raw_vals(odoo, registry, move_id):
    with registry.cursor() as cr:
        return vals_like(odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})["account.move"].browse(move_id))


def over_http(odoo, registry, db, uid, key, count):
    proc, url = start_server(db)
    paths = Paths(url, db, uid, key, time.strftime("%H%M%S"))
    try:
        _elapsed, first_id = paths.import_one()
        paths.vals = raw_vals(odoo, registry, first_id)
        for _ in range(WARMUP):
            paths.import_one()
            paths.create_one()
        ours, raw = [], []
        while len(ours) < count:
            size = min(CHUNK, count - len(ours))
            ours += [paths.import_one()[0] for _ in range(size)]
            raw += [paths.create_one()[0] for _ in range(size)]
    finally:
        paths.close()
        stop_server(proc)
    return ours, raw


def in_process(odoo, registry, count=100):
    """ms and SQL queries per invoice, record cache emptied before each: the import service (parse, lookups,
    upserts, create, event; no HTTP, no key, no sync log) vs. account.move.create."""
    from odoo.addons.invoice_bridge.lib import import_api_fields as import_payload

    results = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        user = env["res.users"].search([("login", "=", LOGIN)])
        uenv = env(user=user.id, context={"allowed_company_ids": [user.company_id.id]})
        service, Move = uenv["invoice_bridge.import.service"], uenv["account.move"]
        bodies = []
        for i in range(count + 5):
            payload = copy.deepcopy(SAMPLE)
            payload["invoice_no"] = f"BENCH-INPROC-{time.time_ns()}-{i}"
            bodies.append(json.dumps(payload).encode())
        first = service._import_invoice(import_payload.parse_import(bodies[0]), user.company_id)
        vals = vals_like(first)
        for body in bodies[1:5]:  # warm-up
            service._import_invoice(import_payload.parse_import(body), user.company_id)
            Move.create(vals)
        uenv.flush_all()
        for label, call in (
                ("import service", lambda body: service._import_invoice(import_payload.parse_import(body),
                                                                        user.company_id)),
                ("account.move.create", lambda _body: Move.create(vals))):
            q0, t0 = cr.sql_log_count, time.perf_counter()
            for body in bodies[5:]:
                uenv.invalidate_all()  # a request starts with an empty record cache
                call(body)
                uenv.flush_all()
            results[label] = ((time.perf_counter() - t0) * 1000 / count, (cr.sql_log_count - q0) / count)
        cr.rollback()
    return results


BATCH = "/api/sales/import/invoices/"
BATCH_SIZE = 50


def batch_vs_single_over_http(db, key, count):
    """``count`` invoices sent in batches of BATCH_SIZE, and the same number as single POSTs (other numbers, same
    customer and items), interleaved one batch / BATCH_SIZE singles: (batch seconds, single seconds)."""
    proc, url = start_server(db)
    paths = Paths(url, db, None, key, "B" + time.strftime("%H%M%S"))
    session = requests.Session()
    headers = {"Content-Type": "application/json", "X-API-KEY": key}

    def one_batch():
        invoices = []
        for _ in range(BATCH_SIZE):
            paths.seq += 1
            invoices.append(dict(copy.deepcopy(SAMPLE), invoice_no=f"BENCH-{paths.run_id}-{paths.seq:05d}"))
        body = json.dumps({"invoices": invoices}).encode()
        start = time.perf_counter()
        response = session.post(url + BATCH, data=body, headers=headers, timeout=120)
        elapsed = time.perf_counter() - start
        statuses = {r["status"] for r in response.json().get("results", [])} if response.ok else None
        if response.status_code != 200 or statuses != {201}:
            raise RuntimeError(f"batch import answered {response.status_code}: {response.text[:500]}")
        return elapsed

    try:
        paths.import_one()
        one_batch()  # warm-up
        batch, single = 0.0, 0.0
        for _ in range(count // BATCH_SIZE):
            batch += one_batch()
            single += sum(paths.import_one()[0] for _ in range(BATCH_SIZE))
    finally:
        session.close()
        paths.close()
        stop_server(proc)
    return batch, single


def batch_vs_single_in_process(odoo, registry, rounds=4):
    """Seconds for BATCH_SIZE invoices: account.move.create of all at once vs. one create each, then the import
    service's batch vs. its single import (no HTTP). Record cache emptied before each call, flushed after, as
    one request would; rolled back."""
    from odoo.addons.invoice_bridge.lib import import_api_fields as import_payload

    times = {"create, all at once": 0.0, "create, one at a time": 0.0, "service, batch": 0.0,
             "service, one at a time": 0.0}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        user = env["res.users"].search([("login", "=", LOGIN)])
        company = user.company_id
        uenv = env(user=user.id, context={"allowed_company_ids": [company.id]})
        service, Move = uenv["invoice_bridge.import.service"], uenv["account.move"]
        serial = iter(range(10**6))

        def payloads():
            return [import_payload.parse_import(json.dumps(dict(
                copy.deepcopy(SAMPLE), invoice_no=f"BENCH-BATCH-{time.time_ns()}-{next(serial)}")).encode())
                for _ in range(BATCH_SIZE)]

        vals = vals_like(service._import_invoice(payloads()[0], company))
        Move.create([vals] * 5)  # warm-up
        service._import_invoices(payloads()[:5], company)

        def timed(label, call):
            uenv.invalidate_all()
            start = time.perf_counter()
            call()
            uenv.flush_all()
            times[label] += time.perf_counter() - start

        def one_at_a_time(call, items):
            for item in items:
                uenv.invalidate_all()  # each its own request
                call(item)
                uenv.flush_all()

        for _ in range(rounds):
            timed("create, all at once", lambda: Move.create([vals] * BATCH_SIZE))
            timed("create, one at a time", lambda: one_at_a_time(Move.create, [vals] * BATCH_SIZE))
            items = payloads()
            timed("service, batch", lambda items=items: service._import_invoices(items, company))
            items = payloads()
            timed("service, one at a time",
                  lambda items=items: one_at_a_time(lambda p: service._import_invoice(p, company), items))
        cr.rollback()
    return {label: seconds / rounds for label, seconds in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("-n", type=int, default=500)
    args = parser.parse_args()
    odoo, registry = load_odoo(args.db)
    uid, key = setup(odoo, registry)
    ours, raw = over_http(odoo, registry, args.db, uid, key, args.n)
    inproc = in_process(odoo, registry)
    ours_rate, raw_rate = len(ours) / sum(ours), len(raw) / sum(raw)
    ratio = ours_rate / raw_rate
    print(header("import_api.py"))
    print(f"raw JSON-RPC account.move.create    : {len(raw)} invoices in {sum(raw):6.2f} s = {raw_rate:5.1f} inv/s, "
          f"p50 {1000 * percentile(raw, 50):5.1f} ms, p95 {1000 * percentile(raw, 95):5.1f} ms")
    print(f"import API POST (X-API-KEY)         : {len(ours)} invoices in {sum(ours):6.2f} s = {ours_rate:5.1f} "
          f"inv/s, p50 {1000 * percentile(ours, 50):5.1f} ms, p95 {1000 * percentile(ours, 95):5.1f} ms")
    print(f"throughput ratio import / raw       : {ratio:.2f}x   (target >= 0.8x) {'PASS' if ratio >= 0.8 else 'MISS'}"
          f"   (ratio of the medians: {percentile(raw, 50) / percentile(ours, 50):.2f}x)")
    for label, (ms, queries) in inproc.items():
        print(f"in-process, {label:<24}: {ms:5.1f} ms and {queries:5.1f} queries per invoice (no HTTP)")
    batches = batch_vs_single_in_process(odoo, registry)
    for label, seconds in batches.items():
        print(f"in-process, {BATCH_SIZE} invoices, {label:<23}: {seconds:6.2f} s")
    limit = batches["create, one at a time"] / batches["create, all at once"]
    service_ratio = batches["service, one at a time"] / batches["service, batch"]
    print(f"in-process speed-up of one create (the physical limit) : {limit:.2f}x")
    print(f"in-process speed-up of the service's batch              : {service_ratio:.2f}x")
    batch, single = batch_vs_single_over_http(args.db, key, args.n)
    http_ratio = single / batch
    print(f"HTTP: {args.n} invoices in batches of {BATCH_SIZE}: {batch:6.2f} s; as single POSTs: {single:6.2f} s")
    share = http_ratio / limit
    print(f"HTTP speed-up of the batch route: {http_ratio:.2f}x = {share:.2f} of the in-process limit "
          f"(target >= 0.8) {'PASS' if share >= 0.8 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
