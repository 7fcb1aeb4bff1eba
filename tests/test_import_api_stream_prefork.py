"""The live event stream on Odoo's production server model (#15): prefork HTTP workers plus the gevent worker.

A real ``odoo-bin --workers=2 --gevent-port`` serves a copy of the test database: the streams go to the gevent
port (as the reverse proxy routes them), imports, logins and XML-RPC to the HTTP port.
"""
import concurrent.futures
import contextlib
import json
import os
import subprocess
import sys
import time
import xmlrpc.client
from collections import Counter

import pytest
import requests

from tests.conftest import REPO, free_port
from tests.import_api_support import SSE, _env, _unique, sample
from tests.sse_swarm import Swarm

STREAMS_A, STREAMS_B = 150, 50
IMPORTERS, INVOICES = 8, 200


@pytest.fixture(scope="module")
def prefork(odoo_src, dbname, api, odoo, registry):
    """``--workers=2 --gevent-port``: (HTTP URL, gevent URL, log path). Company B gets a chart of accounts."""
    with _env(odoo, registry) as env:
        env["ir.config_parameter"].set_param("invoice_bridge.sse_max_streams_per_key", "0")
        company_b = env["res.company"].browse(api.company_b_id)
        if not company_b.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=company_b, install_demo=False)
    http_port, gevent_port = free_port(), free_port()
    addons = ",".join([str(odoo_src / "addons"), str(odoo_src / "odoo" / "addons"), str(REPO)])
    log_path = REPO / ".run" / f"odoo-prefork-{http_port}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [os.environ.get("IB_PYTHON", sys.executable), str(odoo_src / "odoo-bin"), "--addons-path", addons,
         "-d", dbname, "--db-filter", f"^{dbname}$", "--http-interface", "127.0.0.1", "--http-port", str(http_port),
         "--gevent-port", str(gevent_port), "--workers", "2", "--max-cron-threads", "0", "--log-level", "info",
         "--limit-time-real", "120", "--db_maxconn", "32", "--db_maxconn_gevent", "32"],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    urls = (f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{gevent_port}")
    deadline = time.monotonic() + 120
    try:
        for url in urls:
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the prefork server did not start; see {log_path}", pytrace=False)
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/web/health", timeout=2).status_code == 200:
                        break
                time.sleep(0.5)
        yield (*urls, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_an_http_worker_never_holds_a_stream(prefork, api):
    http_url, _gevent_url, _log = prefork
    started = time.monotonic()
    response = requests.get(http_url + SSE, headers={"X-API-KEY": api.key}, timeout=10)
    assert time.monotonic() - started < 5
    assert (response.status_code, response.headers["Content-Type"]) == (421, "application/json")
    assert "gevent" in response.json()["message"]


def test_200_streams_8_importers_every_event_once_and_nothing_of_another_company(prefork, api):
    http_url, gevent_url, log_path = prefork
    keys = [api.key] * STREAMS_A + [api.key_b] * STREAMS_B
    swarm = Swarm(gevent_url + SSE, lambda i: {"X-API-KEY": keys[i]}, len(keys))
    with swarm.open(wave=10):
        assert swarm.all_connected(90), Counter(s.status for s in swarm.streams)
        numbers = [_unique(f"PF{i % IMPORTERS}") for i in range(INVOICES)]
        answers = []

        def importer(part):
            with requests.Session() as session:
                for number in numbers[part::IMPORTERS]:
                    key = api.key_b if number.startswith("PF7") else api.key
                    response = session.post(http_url + "/api/sales/import/invoice/", timeout=120,
                                            data=json.dumps(sample(number)),
                                            headers={"X-API-KEY": key, "Content-Type": "application/json"})
                    answers.append((number, key, response.status_code, response.headers.get("Content-Type")))

        logins = []
        with concurrent.futures.ThreadPoolExecutor(IMPORTERS + 1) as pool:
            futures = [pool.submit(importer, part) for part in range(IMPORTERS)]
            while not all(f.done() for f in futures):  # the rest of Odoo answers meanwhile
                started = time.monotonic()
                logins.append((requests.get(http_url + "/web/login", timeout=30).status_code,
                               xmlrpc.client.ServerProxy(f"{http_url}/xmlrpc/2/common").version()["server_version"],
                               time.monotonic() - started))
                time.sleep(0.5)
            for future in futures:
                future.result()
        assert len(answers) == INVOICES
        assert Counter(status for _n, _k, status, _c in answers) == {201: INVOICES}, answers
        assert logins and all(status == 200 for status, _v, _t in logins), logins
        expected = {api.key: {n for n, k, _s, _c in answers if k == api.key},
                    api.key_b: {n for n, k, _s, _c in answers if k == api.key_b}}

        def complete():
            return all(len(s.events) >= len(expected[keys[s.index]]) for s in swarm.streams)

        assert swarm.wait(complete, 120), sorted(len(s.events) for s in swarm.streams)[:10]
        time.sleep(1)  # anything extra (a duplicate) would arrive by now
        for stream in swarm.streams:
            received = [json.loads(data)["invoice_no"] for _seq, _event, data, _t in stream.events]
            assert len(received) == len(set(received)), f"stream {stream.index}: an event twice"
            assert set(received) == expected[keys[stream.index]], (
                f"stream {stream.index}: {len(received)} events, another company's or missing ones")
            seqs = [seq for seq, *_rest in stream.events]
            assert seqs == sorted(seqs)
    assert "Traceback" not in log_path.read_text()
