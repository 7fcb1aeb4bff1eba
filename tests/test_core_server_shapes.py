"""Odoo's production shape: the prefork server (``--workers``) with its gevent worker (``--gevent-port``: the
websocket / long-polling process, started by the master as ``odoo-bin gevent ...`` with the same interpreter).

The gevent worker patches the standard library with gevent before anything else; with the virtualenv's setuptools
unable to read normalized distribution names (``zope_interface-8.x.dist-info``) it died at start with
``pkg_resources.DistributionNotFound: The 'zope.interface' distribution was not found``, while the HTTP workers ran
on: only a request to the gevent port shows it. Both ports must answer ``/web/health``, and the log must show no
import error.
"""
import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import REPO, free_port, odoo_addons_path

IMPORT_ERRORS = re.compile(r"DistributionNotFound|ModuleNotFoundError|ImportError")
LOG_ERRORS = re.compile(r"DistributionNotFound|ModuleNotFoundError|ImportError|No module named|Traceback|"
                        r"CRITICAL|uncaught error")


def _wait_healthy(proc, url, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the prefork server exited with {proc.returncode}; see {log_path}", pytrace=False)
        died = [line for line in log_path.read_text().splitlines() if IMPORT_ERRORS.search(line)]
        if died:  # the master respawns a dead gevent worker forever: no point in waiting
            pytest.fail(f"a server process failed to import ({log_path}):\n" + "\n".join(died[:5]), pytrace=False)
        try:
            answer = requests.get(f"{url}/web/health", timeout=5)
            if answer.status_code == 200:  # noqa: PLR2004 - HTTP OK
                return answer
            last = f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            last = f"{exc.__class__.__name__}: {exc}"
        time.sleep(0.5)
    pytest.fail(f"{url}/web/health did not answer 200 within {timeout} s (last: {last}); see {log_path}",
                pytrace=False)
    return None


def test_prefork_server_and_its_gevent_worker_answer(odoo_src, dbname):
    http_port, gevent_port = free_port(), free_port()
    log_path = REPO / ".run" / f"odoo-prefork-{http_port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [os.environ.get("IB_PYTHON", sys.executable), str(odoo_src / "odoo-bin"),
           "--addons-path", odoo_addons_path(odoo_src, REPO), "-d", dbname, "--db-filter", f"^{dbname}$",
           "--http-interface", "127.0.0.1", "--http-port", str(http_port), "--gevent-port", str(gevent_port),
           "--workers", "2", "--max-cron-threads", "0", "--log-level", "info"]
    with open(log_path, "w") as log:
        # its own process group: the master, its HTTP workers and the gevent process are all stopped below
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ),
                                start_new_session=True)
        try:
            http = _wait_healthy(proc, f"http://127.0.0.1:{http_port}", log_path)
            evented = _wait_healthy(proc, f"http://127.0.0.1:{gevent_port}", log_path)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group outlived the master
    text = log_path.read_text()
    assert http.json().get("status") == "pass"
    assert evented.json().get("status") == "pass"
    assert f"Evented Service (longpolling) running on 127.0.0.1:{gevent_port}" in text, log_path
    errors = [line for line in text.splitlines() if LOG_ERRORS.search(line)]
    assert not errors, f"the server log ({log_path}) shows errors:\n" + "\n".join(errors[:20])
