"""IAP Extract polling: 500 pending documents, HTTP calls and seconds per polling cycle, results applied/s.

    make bench            # all benchmarks on a fresh database
    python bench/iap_extract.py --db DB

The loopback fake of the Extract API (its own process) answers "not ready" to the first poll of each document,
then its results. Cycle 1 measures a polling cycle where nothing is ready; cycle 2 one where all 500 results are
applied to their draft bills (partner, dates, reference, currency, lines with taxes, bank). Prints figures only.
"""
import argparse
import base64
import json
import subprocess
import sys
import time

import requests
from _common import DATA, FAKES_CLI, REPO, header, load_odoo


def get_results_calls(url):
    return requests.get(f"{url}/_fake/state", timeout=10).json()["calls"]["get_results"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("-n", type=int, default=500)
    args = parser.parse_args()
    fake = subprocess.Popen([sys.executable, str(FAKES_CLI), "extract_fake", "--not-ready-polls", "1"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = json.loads(fake.stdout.readline())["url"]
    try:
        odoo, registry = load_odoo(args.db)
        from odoo.addons.invoice_bridge.lib.extract_client import IapExtractClient

        sample = base64.b64encode((DATA / "extract_sample_bill.pdf").read_bytes()).decode()
        client = IapExtractClient(url)
        doc_ids = [client.parse("integration_token", sample, {})["document_id"] for _ in range(args.n)]
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if not env.company.chart_template:
                env["account.chart.template"].try_loading("generic_coa", company=env.company, install_demo=False)
            env.ref("base.EUR").active = True
            env.company.ib_extract_endpoint = url
            env["res.partner"].create({"name": "Wood Corner", "vat": "BE0477472701", "supplier_rank": 1})
            env["account.tax"].create({"name": "21% bench", "amount": 21, "type_tax_use": "purchase"})
            env["account.move"].create([{"move_type": "in_invoice", "ib_extract_state": "waiting_extraction",
                                         "ib_extract_document_id": doc_id} for doc_id in doc_ids])
        figures = []
        for cycle in (1, 2):
            calls_before = get_results_calls(url)
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                q0, t0 = cr.sql_log_count, time.perf_counter()
                # the cron hands the pending bills to the engine; the drain sends the poll and applies it
                env["account.move"]._ib_cron_extract_poll()
                env["invoice_bridge.outbox"]._drain(autocommit=False, short_wait=0)
                env.flush_all()
                applied = env["account.move"].search_count([("ib_extract_state", "=", "done")])
                elapsed, queries = time.perf_counter() - t0, cr.sql_log_count - q0
            calls = get_results_calls(url)
            figures.append((cycle, calls - calls_before, elapsed, applied, queries))
    finally:
        fake.terminate()
        fake.wait(10)
    print(header("iap_extract.py"))
    for cycle, calls, elapsed, applied, queries in figures:
        what = "nothing ready" if not applied else f"{applied} results applied = {applied / elapsed:.0f}/s"
        print(f"polling cycle {cycle} ({args.n} pending): {calls} get_results HTTP call(s), {elapsed:.2f} s, "
              f"{queries} queries — {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
