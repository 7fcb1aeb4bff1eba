"""easybill export: seconds and peak memory to build 1,000 customers' CSVs, queries and API calls per customer.

    make bench            # all benchmarks on a fresh database
    python bench/easybill.py --db DB [--customers 1000 --lines 20 --api-customers 50]

1. Setup (not timed, committed): N customers (reference, country DE), one draft customer invoice of L lines each
   in a journal flagged ``ib_easybill``, all dated in one month (batched ``account.move.create``).
2. Full export, in a FRESH child process (the setup's memory must not count): one warm-up export of another
   customer, then ``_export_period(company, month, send=False)`` for all N customers — the export records, their
   lines (snapshots of the invoice lines), customer numbers, each CSV built, validated (read back) and attached —
   flushed, timed, then rolled back; twice, in two fresh processes, the faster one kept (a shared machine's
   noise only ever adds time). Memory, two figures: the absolute peak RSS of that process (the kernel's
   high-water mark, ``ru_maxrss``: Odoo + the registry + the export; this is the one held against the target) and
   the growth over the RSS just before the call (psutil: what the export itself needs). Then the CSV building
   alone, without the ORM: the library's ``build_csv`` (and ``validate_csv``) on the same customers and positions.
3. Queries per customer: ``_export_period`` of ONE customer with 2, 20 and 200 lines (caches warmed by a first
   export, record cache invalidated before each), with ``send=False`` and with ``send=True`` (the cron's call,
   which also queues the first API request). Target: the same count whatever the number of lines.
4. API calls per customer against the loopback fake (no rate limit on its side; the company's setting 60/min):
   M new customers (expected 5: GET /customers, POST /customers, POST /documents, POST /attachments,
   PUT /attachments/{id}), then the same M customers' next month (their easybill id is stored: expected 3). The
   outbox is drained in this process (``_drain(autocommit=False, short_wait=0)``); the bridge's 60-requests
   window is shortened to 1 s (``invoice_bridge.rate_window_seconds``) so the count does not take minutes —
   the limit itself is not what is measured. Rolled back at the end: nothing is left in the outbox.
Prints figures and targets; asserts nothing.
"""
import argparse
import json
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import psutil
from _common import header, load_odoo
from ib_fakes.easybill_fake import FakeEasybill

KEY = "bench-easybill-key"
EXPORT_MONTH = date(2030, 1, 1)  # the big export (far from "last month": the monthly cron never picks it)
QUERY_MONTH = date(2030, 2, 1)  # queries per customer
API_MONTHS = (date(2030, 3, 1), date(2030, 4, 1))  # API calls: new customers, then stored easybill ids
WARMUP_MONTH = date(2030, 5, 1)
JOURNAL_CODE = "EBB"
MB = 1024 * 1024


def _env(odoo, cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})


# ------------------------------------------------------------------------------------------------- setup
def setup_company(odoo, registry):
    """Chart of accounts, 19% tax, service products, a journal flagged ib_easybill; returns their ids."""
    with registry.cursor() as cr:
        env = _env(odoo, cr)
        company = env.company
        if not company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        company.write({"ib_easybill_api_key": KEY, "ib_easybill_rate_limit": "60"})
        company.partner_id.tz = "Europe/Berlin"
        journal = env["account.journal"].search([("code", "=", JOURNAL_CODE), ("company_id", "=", company.id)])
        if not journal:
            journal = env["account.journal"].create({"name": "easybill services (bench)", "code": JOURNAL_CODE,
                                                     "type": "sale", "ib_easybill": True, "company_id": company.id})
        tax = env["account.tax"].create({"name": "19% USt (bench)", "amount": 19, "type_tax_use": "sale",
                                         "company_id": company.id})
        products = env["product.product"].create([
            {"name": "Lagerung", "default_code": "SRV-LAG", "type": "service", "list_price": 12.5},
            {"name": "Kommissionierung", "default_code": "SRV-KOM", "type": "service", "list_price": 0.35},
            {"name": "Stornierung", "default_code": "FEE-STO", "type": "service", "ib_cancellation_fee": True},
        ])
        return {"company": company.id, "journal": journal.id, "tax": tax.id, "products": products.ids}


def create_customers(env, prefix, count):
    de = env.ref("base.de").id
    return env["res.partner"].create([{
        "name": f"Bench Kunde {prefix} {i:04d} GmbH", "ref": f"{prefix}-{i:04d}", "is_company": True,
        "street": f"Hauptstraße {i % 200 + 1}", "zip": f"{10115 + i % 900:05d}", "city": "Berlin",
        "country_id": de, "email": f"buchhaltung{i}@{prefix.lower()}.example",
    } for i in range(count)])


def invoice_vals(ids, partner_id, month, lines, seq):
    day = month.replace(day=1 + seq % 27)
    products = ids["products"]
    return {
        "move_type": "out_invoice", "partner_id": partner_id, "journal_id": ids["journal"],
        "invoice_date": day, "date": day,
        "invoice_line_ids": [(0, 0, {
            "product_id": products[j % len(products)], "name": f"Leistung {j + 1}; Auftrag \"{seq}-{j}\"",
            "quantity": 1 + j % 7 + (0.5 if j % 3 == 0 else 0), "price_unit": 10.0 + (j * 7 + seq) % 90 / 4,
            "tax_ids": [(6, 0, [ids["tax"]])]}) for j in range(lines)],
    }


def create_invoices(odoo, registry, ids, partner_ids, month, lines, batch=50):
    """One draft invoice of ``lines`` lines per partner in ``month``, committed batch by batch."""
    for start in range(0, len(partner_ids), batch):
        with registry.cursor() as cr:
            env = _env(odoo, cr)
            env["account.move"].create([invoice_vals(ids, pid, month, lines, start + k)
                                        for k, pid in enumerate(partner_ids[start:start + batch])])


def setup_data(odoo, registry, args):
    ids = setup_company(odoo, registry)
    with registry.cursor() as cr:
        env = _env(odoo, cr)
        big = create_customers(env, "EBX", args.customers).ids
        warm = create_customers(env, "EBW", 1).ids
        queries = {n: create_customers(env, f"EBQ{n}", 2).ids for n in (5, 2, 20, 200)}
        api = create_customers(env, "EBA", args.api_customers).ids
    start = time.perf_counter()
    create_invoices(odoo, registry, ids, big, EXPORT_MONTH, args.lines)
    seconds = time.perf_counter() - start
    create_invoices(odoo, registry, ids, warm, WARMUP_MONTH, args.lines)
    for n, partners in queries.items():
        create_invoices(odoo, registry, ids, partners, QUERY_MONTH, n)
    for month in API_MONTHS:
        create_invoices(odoo, registry, ids, api, month, 3)
    return ids, queries, api, seconds


# ----------------------------------------------------------------------------------- full export (child)
def child_export(args):
    """Runs in a fresh process: time and memory of the full export, then the CSV building alone. Prints JSON."""
    odoo, registry = load_odoo(args.db)
    from odoo.addons.invoice_bridge.lib.easybill_csv import build_csv, validate_csv

    with registry.cursor() as cr:  # warm-up: registry caches, code paths (one customer, another month)
        env = _env(odoo, cr)
        env["invoice_bridge.easybill.export"]._export_period(env.company, WARMUP_MONTH, send=False)
        env.flush_all()
        cr.rollback()
    process = psutil.Process()
    with registry.cursor() as cr:
        env = _env(odoo, cr)
        company = env.company
        rss_before = process.memory_info().rss
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        q0, t0 = cr.sql_log_count, time.perf_counter()
        exports = env["invoice_bridge.easybill.export"]._export_period(company, EXPORT_MONTH, send=False)
        env.flush_all()
        seconds, queries = time.perf_counter() - t0, cr.sql_log_count - q0
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        rss_after = process.memory_info().rss
        states = Counter(exports.mapped("state"))
        lines = sum(exports.mapped("line_count"))
        csv_bytes = sum(exports.csv_attachment_id.mapped("file_size"))
        inputs = [(e._csv_customer(), e._document_date(), e.period_start, e.period_end, e._csv_positions())
                  for e in exports]
        cr.rollback()
    t0 = time.perf_counter()
    files = [build_csv(*item) for item in inputs]
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    errors = sum(len(validate_csv(data)) for data in files)
    validate_s = time.perf_counter() - t0
    print(json.dumps({
        "exports": len(exports), "states": states, "lines": lines, "csv_bytes": csv_bytes, "seconds": seconds,
        "queries": queries, "rss_before": rss_before, "rss_after": rss_after, "maxrss_before": maxrss_before,
        "maxrss": maxrss, "build_s": build_s, "validate_s": validate_s, "csv_errors": errors,
    }))
    return 0


def full_export(args):
    """The child's figures, best (fastest) of ``--repeat`` fresh processes; ``others``: the other runs' seconds."""
    runs = []
    for _ in range(args.repeat):
        proc = subprocess.run([sys.executable, __file__, "--db", args.db, "--child-export"], capture_output=True,
                              text=True, check=False)
        if proc.returncode:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise RuntimeError("the export child process failed")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda run: run["seconds"])
    best = runs[0]
    best["others"] = [run["seconds"] for run in runs[1:]]
    best["max_peak"] = max(run["maxrss"] for run in runs)
    return best


# --------------------------------------------------------------------------------------- queries per customer
STATEMENT_RE = re.compile(r'^\s*(?:(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)|SELECT\b.*?\bFROM\s+"?(\w+))',
                          re.IGNORECASE | re.DOTALL)


class StatementLog:
    """Counts the statements run on ``cr`` by kind ("INSERT INTO table", "SELECT table"...)."""

    def __init__(self, cr):
        self.cr, self.kinds = cr, Counter()

    def __enter__(self):
        execute = self.cr.execute

        def logged(query, params=None, log_exceptions=True):
            match = STATEMENT_RE.match(str(getattr(query, "code", query)))
            verb = (match.group(1) or "SELECT").upper() if match else "OTHER"
            self.kinds[f"{verb} {(match.group(2) or match.group(3)) if match else ''}".strip()] += 1
            return execute(query, params, log_exceptions)

        self.cr.execute = logged
        return self

    def __exit__(self, *exc):
        del self.cr.execute  # the class's method again


def queries_per_customer(odoo, registry, queries):
    """{send: {lines: (queries, Counter of statement kinds)}} of ``_export_period`` of one customer (rolled back)."""
    results = {}
    with registry.cursor() as cr:
        env = _env(odoo, cr)
        Export, Partner = env["invoice_bridge.easybill.export"], env["res.partner"]
        for send in (False, True):  # warm-up: a 5-line customer, both ways
            Export._export_period(env.company, QUERY_MONTH, partners=Partner.browse(queries[5][int(send)]),
                                  send=send)
        env.flush_all()
        for send in (False, True):
            counts = {}
            for n in (2, 20, 200):
                env.invalidate_all()
                q0 = cr.sql_log_count
                with StatementLog(cr) as log:
                    exports = Export._export_period(env.company, QUERY_MONTH,
                                                    partners=Partner.browse(queries[n][int(send)]), send=send)
                    env.flush_all()
                counts[n] = (cr.sql_log_count - q0, log.kinds)
                if exports.line_count != n:
                    raise RuntimeError(f"expected one export of {n} lines, got {exports.line_count}")
            results[send] = counts
        cr.rollback()
    return results


# ------------------------------------------------------------------------------------------ API calls
def drain_all(env, export_ids):
    """Drain the outbox until every export is done or failed (the rate window may hold messages briefly)."""
    Export = env["invoice_bridge.easybill.export"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        env["invoice_bridge.outbox"]._drain(autocommit=False, short_wait=0)
        env.invalidate_all()
        if not Export.search_count([("id", "in", export_ids), ("state", "=", "sending")]):
            return
        time.sleep(0.1)
    raise RuntimeError("the easybill exports did not finish within 10 minutes")


def calls_per_export(env, exports):
    logs = env["invoice_bridge.sync.log"]._read_group(
        [("res_model", "=", exports._name), ("res_id", "in", exports.ids)], ["res_id"], ["__count"])
    per_export = dict(logs)
    return [per_export.get(e.id, 0) for e in exports]


def api_calls(odoo, registry, api_partner_ids):
    results = []
    with FakeEasybill(api_key=KEY, rate_limit=None) as fake, registry.cursor() as cr:
        env = _env(odoo, cr)
        params = env["ir.config_parameter"].sudo()
        params.set_param("invoice_bridge.retry_schedule", "0,0s,0s,0s")
        params.set_param("invoice_bridge.rate_window_seconds", "1")
        env.company.write({"ib_easybill_url": fake.api_url, "ib_easybill_rate_limit": "60"})
        partners = env["res.partner"].browse(api_partner_ids)
        for label, month in zip(("new customer", "stored easybill id"), API_MONTHS, strict=True):
            seen = len(fake.requests)
            start = time.perf_counter()
            exports = env["invoice_bridge.easybill.export"]._export_period(env.company, month, partners=partners)
            drain_all(env, exports.ids)
            seconds = time.perf_counter() - start
            requests = fake.requests[seen:]
            per_export = calls_per_export(env, exports)
            results.append({
                "label": label, "exports": len(exports), "requests": len(requests), "seconds": seconds,
                "states": Counter(exports.mapped("state")), "min": min(per_export), "max": max(per_export),
                "errors": sum(1 for r in requests if r["status"] >= 400),
                "paths": Counter((r["method"], re.sub(r"/\d+", "/{id}", r["path"].removeprefix("/rest/v1")))
                                 for r in requests),
            })
        cr.rollback()
    return results


# ------------------------------------------------------------------------------------------------ report
def mark(ok):
    return "PASS" if ok else "MISS"


def line(label, text):
    print(f"{label:<38}: {text}" if label else f"{'':<40}{text}")


def report(args, setup_s, full, qcounts, api):
    n = full["exports"]
    peak_mb, before_mb = full["max_peak"] / MB, full["rss_before"] / MB
    raised = full["maxrss"] > full["maxrss_before"]
    growth_mb = ((full["maxrss"] if raised else full["rss_after"]) - full["rss_before"]) / MB
    csv_s = full["build_s"] + full["validate_s"]
    print(header("easybill.py"))
    line("setup (not measured)", f"{args.customers} draft invoices x {args.lines} lines created in {setup_s:.0f} s")
    others = ", ".join(f"{s:.2f}" for s in full["others"])
    line(f"full export, {n} customers", f"{full['seconds']:6.2f} s = {n / full['seconds']:4.0f} customers/s "
         f"({full['lines']} lines, {full['csv_bytes'] / MB:.1f} MB of CSV, {full['queries']} queries = "
         f"{full['queries'] / n:.2f}/customer, states {dict(full['states'])})   (target <= 10 s) "
         f"{mark(full['seconds'] <= 10)}")
    line("", f"best of {len(full['others']) + 1} fresh processes" + (f" (other runs: {others} s)" if others else ""))
    line("  CSV building only (lib, no ORM)", f"{csv_s:6.2f} s = {n / csv_s:4.0f} customers/s (build_csv "
         f"{full['build_s']:.2f} s + validate_csv {full['validate_s']:.2f} s, {full['csv_errors']} errors); the "
         f"rest (records, lines, attachments, flush) ~{full['seconds'] - csv_s:.2f} s")
    line("  peak RSS of the export process", f"{peak_mb:6.0f} MB absolute (kernel high-water mark: Odoo + registry "
         f"+ export; the highest of the runs)   (target <= 300 MB) {mark(peak_mb <= 300)}")
    line("  memory the export itself takes", f"{growth_mb:+6.0f} MB over the {before_mb:.0f} MB RSS before the call "
         f"({full['rss_after'] / MB:.0f} MB after{'' if raised else '; below the peak of loading Odoo'})")
    for send, counts in qcounts.items():
        same = len({q for q, _kinds in counts.values()}) == 1
        line(f"queries, 1 customer, send={send}", ", ".join(f"{q} with {k} lines" for k, (q, _k) in counts.items())
             + f"   (target: constant) {mark(same)}")
        if not same:
            (small, (_q, low)), (large, (_q, high)) = min(counts.items()), max(counts.items())
            grown = {kind: high[kind] - low[kind] for kind in sorted(set(low) | set(high)) if high[kind] != low[kind]}
            line("", f"{small} -> {large} lines: " + ", ".join(f"{v:+d} {k}" for k, v in grown.items()))
    for row, expected in zip(api, (5, 3), strict=True):
        paths = ", ".join(f"{m} {p} x{c}" for (m, p), c in sorted(row["paths"].items()))
        line(f"API calls, {row['label']}", f"{row['requests'] / row['exports']:.2f} per customer over "
             f"{row['exports']} (min {row['min']}, max {row['max']}, {row['errors']} errors, states "
             f"{dict(row['states'])}, {row['seconds']:.1f} s)   (target {expected}) "
             f"{mark(row['min'] == row['max'] == expected)}")
        line("", paths)
    new, stored = (row["requests"] / row["exports"] for row in api)
    n = args.customers
    line("at easybill's rate limit (computed)", f"{n} customers x {stored:.0f}-{new:.0f} calls need "
         f"{n * stored / 60:.0f}-{n * new / 60:.0f} min at 60/min, {n * stored / 600:.1f}-{n * new / 600:.1f} h at "
         "10/min (stored id - new customer)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--api-customers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2, help="fresh processes timing the full export (best kept)")
    parser.add_argument("--child-export", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        return child_export(args)
    odoo, registry = load_odoo(args.db)
    _ids, queries, api_partners, setup_s = setup_data(odoo, registry, args)
    full = full_export(args)
    qcounts = queries_per_customer(odoo, registry, queries)
    api = api_calls(odoo, registry, api_partners)
    report(args, setup_s, full, qcounts, api)
    return 0


if __name__ == "__main__":
    sys.exit(main())
