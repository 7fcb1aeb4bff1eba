"""Fixtures and helpers of the import API's real-server tests (loaded by conftest.py as a pytest plugin)."""
import contextlib
import json
import uuid
from types import SimpleNamespace

import pytest
import requests

from tests.conftest import DATA, REPO

SAMPLE = json.loads((DATA / "import_api_seed002_sample.json").read_text())
IMPORT = "/api/sales/import/invoice/"
BATCH = "/api/sales/import/invoices/"
UPDATE = "/api/sales/update/invoice/"
SSE = "/api/sales/sse/invoices/"
OPENAPI = "/api/sales/openapi.json"
UNIQUE_INDEX = "account_move_ib_invoice_no_uniq"
#: its definition, as ``account.move.init()`` creates it
UNIQUE_INDEX_SQL = (f"CREATE UNIQUE INDEX IF NOT EXISTS {UNIQUE_INDEX} ON account_move (company_id, ib_invoice_no) "
                    "WHERE ib_invoice_no IS NOT NULL")
NOTIFY_CHANNEL = "invoice_bridge_api_event"
RACERS = 8
#: an event must arrive well before the stream's 15 s poll: it is the NOTIFY that wakes it
EVENT_TIMEOUT = 5


# --------------------------------------------------------------------------------------------------- set-up
@contextlib.contextmanager
def _env(odoo, registry):
    """A superuser environment on a real cursor, committed on exit; cache invalidations reach the server."""
    with registry.manage_changes(), registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def _technical_user(env, company, login):
    groups = [env.ref("account.group_account_invoice").id, env.ref("base.group_user").id]
    groups_field = "group_ids" if "group_ids" in env["res.users"]._fields else "groups_id"  # 19.0 / 18.0
    return env["res.users"].create({
        "name": f"{login} (technical)", "login": login, "company_id": company.id,
        "company_ids": [(6, 0, company.ids)], groups_field: [(6, 0, groups)]})


def _issue_key(env, company, user, name):
    """A rate-limit-free key of ``user`` in ``company``: its record id and its clear secret."""
    record = env["invoice_bridge.api.key"].create(
        {"name": name, "company_id": company.id, "user_id": user.id, "rate_limit": 0})
    return record.id, record._generate_key()


@pytest.fixture(scope="module")
def api(odoo, registry):
    """Main company with a chart of accounts, its technical billing user and key (committed before the server
    starts), and company B with its own user and key (no chart: it only listens to the stream)."""
    with _env(odoo, registry) as env:
        company = env.company
        if not company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        user = _technical_user(env, company, "ib_rt_tech")
        key_id, key = _issue_key(env, company, user, "pytest real server")
        # racers use a key each: one key's rate counter row is updated by every request, and those concurrent
        # updates end in serialization failures that Odoo replays after a random pause, spreading the racers out
        racer_keys = [_issue_key(env, company, user, f"pytest racer {i}")[1] for i in range(RACERS)]
        company_b = env["res.company"].create({"name": "Company B (pytest)"})
        _key_b_id, key_b = _issue_key(env, company_b, _technical_user(env, company_b, "ib_rt_tech_b"), "pytest B")
        return SimpleNamespace(company_id=company.id, key_id=key_id, key=key, racer_keys=racer_keys,
                               company_b_id=company_b.id, key_b=key_b)


@pytest.fixture(scope="module")
def unlimited_http_threads():
    """The threaded server gives each request its own thread unless ODOO_MAX_HTTP_THREADS caps them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ODOO_MAX_HTTP_THREADS", raising=False)
        yield


@pytest.fixture(scope="module")
def server(api, unlimited_http_threads, odoo_server):
    return odoo_server


def server_errors(server, limit=3000):
    """The end of what the real server (``odoo_server``: its log is ``.run/odoo-server-<port>.log``) logged as
    errors: put in an assertion's message, a failure on CI says what the server saw."""
    log = REPO / ".run" / f"odoo-server-{server.rsplit(':', 1)[1]}.log"
    if not log.exists():
        return f"(no log {log})"
    picked, inside = [], False
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line[:2] == "20":  # a new log record: kept when it is an error, with the lines that follow it
            inside = " ERROR " in line or " CRITICAL " in line
        if inside:
            picked.append(line)
    return "\n".join(picked)[-limit:]


def _headers(key, **extra):
    return {"X-API-KEY": key, "Content-Type": "application/json", **extra}


def post_import(server, key, payload, timeout=60):
    return requests.post(server + IMPORT, data=json.dumps(payload), headers=_headers(key), timeout=timeout)


def sample(invoice_no, **overrides):
    return {**json.loads(json.dumps(SAMPLE)), "invoice_no": invoice_no, **overrides}


def fresh_sample(invoice_no, tag):
    """The sample with a customer, a salesman and items that do not exist yet (all named after ``tag``)."""
    payload = sample(invoice_no, salesman=f"Salesman {tag}")
    payload["customer"]["code"] = f"CUST-{tag}"
    for item in payload["items"]:
        item["item_code"] = f"{item['item_code']}-{tag}"
        item["barcode"] = f"{item['barcode']}-{tag}"
    return payload


def _unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _scalar(odoo, registry, sql, params=()):
    with _env(odoo, registry) as env:
        env.cr.execute(sql, params)
        return env.cr.fetchone()[0]


def count_invoices(odoo, registry, company_id, invoice_no):
    return _scalar(odoo, registry, "SELECT count(*) FROM account_move WHERE company_id = %s AND ib_invoice_no = %s",
                   (company_id, invoice_no))


