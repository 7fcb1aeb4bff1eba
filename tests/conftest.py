"""Fixtures for the top-level suite: plain-Python units, and tests on real PostgreSQL connections / a real server.

`make test` exports PGHOST/PGPORT/PGUSER (the throwaway cluster), IB_ODOO_SRC / IB_ODOO_VERSION /
IB_ODOO_ADDONS_PATH (the Odoo tree of this run, its version, its own addons directories), IB_PYTHON (that version's
virtualenv), IB_ODOO_TREES (every tree of the run, JSON) and IB_TEST_DB_TEMPLATE (a database where the addon is
installed: the one Odoo's runner just ran the tests in). Tests that need them fail loudly when they are missing —
they are never skipped.
"""
import contextlib
import importlib
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent


sys.path.insert(0, str(REPO / "tools"))
from standalone import load_fakes, load_lib  # noqa: E402 - tools/ is on sys.path from here
from standalone import load_package as load_plain_package  # noqa: E402,F401 - for the tests (e.g. tools/ibctl)

# the addon's plain-Python packages, imported on their own: they must need neither Odoo nor the ORM
load_lib()  # invoice_bridge/lib as ib_lib
load_fakes()  # invoice_bridge/tests/fakes as ib_fakes
ADDON_TESTS = REPO / "invoice_bridge" / "tests"
# the import API's real-server fixtures (api, server) for every module that needs them
pytest_plugins = ["tests.import_api_support"]
DATA = ADDON_TESTS / "data"
FAKES_CLI = REPO / "tools" / "fakes.py"


def odoo_addons_dirs(odoo_src):
    """The Odoo tree's own addons directories: ``addons/`` when the tree has one (18.0 checkouts), ``odoo/addons``."""
    odoo_src = Path(odoo_src)
    return [str(d) for d in (odoo_src / "addons", odoo_src / "odoo" / "addons") if d.is_dir()]


def odoo_addons_path(odoo_src, *extra):
    """``--addons-path`` for ``odoo_src``, followed by ``extra`` directories (e.g. REPO for this addon)."""
    return ",".join([*odoo_addons_dirs(odoo_src), *(str(e) for e in extra)])


def odoo_version(odoo_src=None):
    """The major version of ``odoo_src`` (default: this run's tree), read from its ``odoo/release.py``."""
    src = Path(odoo_src or _require_env("IB_ODOO_SRC"))
    text = (src / "odoo" / "release.py").read_text(encoding="utf-8")
    return int(re.search(r"^version_info\s*=\s*\(\s*(\d+)", text, re.M).group(1))


def odoo_trees():
    """Every Odoo tree ``make test`` prepared: {major version: {"src", "python", "addons_path", ...}}."""
    trees = json.loads(os.environ.get("IB_ODOO_TREES") or "{}")
    return {int(v): info for v, info in trees.items()}


def _require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through `make test`, which starts PostgreSQL and finds "
                    "Odoo (see README.rst)", pytrace=False)
    return value


def _psql(sql, db="postgres"):
    subprocess.run(["psql", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                   capture_output=True, text=True)


@pytest.fixture(scope="session")
def odoo_src():
    src = Path(_require_env("IB_ODOO_SRC"))
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    return src


@pytest.fixture(scope="session")
def odoo(odoo_src):
    """The ``odoo`` package, configured for the throwaway cluster and this repository's addon."""
    import odoo as odoo_pkg  # noqa: PLC0415 - imported once Odoo's path is known

    if importlib.util.find_spec("odoo.init"):  # 19.0: ``odoo`` is a namespace package, initialised by odoo.init
        importlib.import_module("odoo.init")
    for name in ("odoo.api", "odoo.modules.module", "odoo.modules.registry", "odoo.sql_db", "odoo.tools"):
        importlib.import_module(name)
    addons = odoo_addons_path(odoo_src, REPO)
    odoo_pkg.tools.config.parse_config([
        "--addons-path", addons, "--db_host", os.environ["PGHOST"], "--db_port", os.environ.get("PGPORT", "5432"),
        "--db_user", os.environ.get("PGUSER", "odoo"), "--log-level", "warn",
    ])
    odoo_pkg.modules.module.initialize_sys_path()
    return odoo_pkg


def _new_db_from_template(prefix):
    template = _require_env("IB_TEST_DB_TEMPLATE")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


@pytest.fixture(scope="module")
def dbname(odoo):
    name = _new_db_from_template("ib_pytest")
    yield name
    odoo.sql_db.close_db(name)
    with contextlib.suppress(subprocess.CalledProcessError):
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def registry(odoo, dbname):
    return odoo.modules.registry.Registry(dbname)


@pytest.fixture
def env_factory(odoo, registry):
    """``with env_factory() as env:`` — an environment on a new, real cursor (committed on success)."""
    @contextlib.contextmanager
    def make(uid=None, commit=True):
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, uid or odoo.SUPERUSER_ID, {})
            yield env
            if not commit:
                cr.rollback()
    return make


@pytest.fixture
def receiver():
    from ib_fakes.webhook_receiver import WebhookReceiver

    with WebhookReceiver() as rec:
        yield rec


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def odoo_server(odoo_src, dbname):
    """A real Odoo server (threaded, one cron thread) on a free loopback port, serving ``dbname``."""
    port = free_port()
    addons = odoo_addons_path(odoo_src, REPO)
    log = open(REPO / ".run" / f"odoo-server-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [os.environ.get("IB_PYTHON", sys.executable), str(odoo_src / "odoo-bin"), "--addons-path", addons,
         "-d", dbname, "--db-filter", f"^{dbname}$", "--http-interface", "127.0.0.1", "--http-port", str(port),
         "--max-cron-threads", "1", "--log-level", "info"],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"Odoo server exited with {proc.returncode}; see {log.name}", pytrace=False)
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/web/health", timeout=2).status_code == 200:
                break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"Odoo server did not answer within 120 s; see {log.name}", pytrace=False)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
