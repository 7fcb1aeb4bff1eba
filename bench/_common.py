"""Shared helpers of the benchmarks: Odoo in-process on the bench database, loopback receivers, statistics."""
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from standalone import load_fakes  # noqa: E402 - tools/ is on sys.path from here

load_fakes()  # the addon's loopback fakes, as ib_fakes
FAKES_CLI = REPO / "tools" / "fakes.py"
DATA = REPO / "invoice_bridge" / "tests" / "data"


def header(name):
    return (f"\n== bench/{name}  {time.strftime('%Y-%m-%d')}  {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def load_odoo(db):
    src = Path(os.environ.get("IB_ODOO_SRC", "/opt/odoo"))
    sys.path.insert(0, str(src))
    import odoo

    odoo.tools.config.parse_config([
        "--addons-path", ",".join([str(src / "addons"), str(src / "odoo" / "addons"), str(REPO)]),
        "--db_host", os.environ.get("PGHOST", ""), "--db_user", os.environ.get("PGUSER", "odoo"),
        "--log-level", "warn"])
    odoo.modules.module.initialize_sys_path()
    return odoo, odoo.modules.registry.Registry(db)


def start_receiver_process(*extra):
    """The loopback receiver in its own process (no GIL shared with what is measured)."""
    proc = subprocess.Popen([sys.executable, str(FAKES_CLI), "webhook_receiver", "--no-bodies", *extra],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())["url"]


def raw_loop(url, bodies):
    """Seconds a plain keep-alive requests.Session needs to POST ``bodies`` to ``url``."""
    with requests.Session() as session:
        start = time.perf_counter()
        for body in bodies:
            session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=15).raise_for_status()
        return time.perf_counter() - start


def percentile(values, pct):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]
