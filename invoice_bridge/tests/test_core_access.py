"""The access table (``core_access_table.py``) tried cell by cell, as each kind of user (issue #14).

Two companies, each with a manager, a billing user, an internal user with no accounting rights and a portal user,
plus the public user and anonymous requests. The models and the routes of the addon are found at run time (in
``ir.model`` and in Odoo's routing map): one with no row in the table fails, as does a row for one that is gone.

* Models: the rights of every user on every model (``has_access``); for models whose records belong to a company
  (a ``company_id``; a wizard's invoices), one record per company and what each user sees of the other company's;
  one ``search_read`` per model over XML-RPC as the manager, the billing and the internal user of company A.
* Routes: every route called over real HTTP by every caller of the table, its status compared with the cell.

A difference is reported cell by cell (all of them at once), e.g. ``invoice_bridge.outbox / billing
(access_billing_b): the table says 'r---', the code gives 'rw--'``.
"""
import json
import re
import threading
import time
import xmlrpc.client
from datetime import timedelta
from pathlib import Path

from odoo import Command, api, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .core_access_table import (
    EXTENDED_MODELS,
    RIGHTS,
    SECRET_FIELD_PATTERN,
    SECRET_FIELDS,
    USER_KINDS,
    model_rows,
    route_rows,
)

ADDON = "invoice_bridge"
SAMPLE = (Path(__file__).resolve().parent / "data" / "import_api_seed002_sample.json").read_bytes()
IMPORT = "/api/sales/import/invoice/"
UPDATE = "/api/sales/update/invoice/"
OPENAPI = "/api/sales/openapi.json"
SSE = "/api/sales/sse/invoices/"
EXTRACT_WEBHOOK = "/invoice_bridge/iap_extract/webhook"
EASYBILL_WEBHOOK = "/invoice_bridge/easybill/webhook"

#: the groups of each kind of user (``public`` is Odoo's public user)
GROUPS = {
    "manager": "account.group_account_manager",
    "billing": "account.group_account_invoice",
    "internal": "base.group_user",
    "portal": "base.group_portal",
}
#: the users who call each model over XML-RPC (one search_read each: a reasonable number of calls)
RPC_KINDS = ("manager", "billing", "internal")

#: how each route of the table is called: the path sent (a path parameter filled in), the body, whether the answer
#: is a stream (read its first bytes, then hang up). ``body`` may be a callable of the caller's name.
ROUTE_CALLS = {
    ("POST", IMPORT): {"path": IMPORT, "body": lambda caller: json.dumps(
        dict(json.loads(SAMPLE), invoice_no=f"ACCESS-{caller}")).encode()},
    ("POST", "/api/sales/import/invoices/"): {"path": "/api/sales/import/invoices/", "body": lambda caller: json.dumps(
        {"invoices": [dict(json.loads(SAMPLE), invoice_no=f"ACCESS-BATCH-{caller}")]}).encode()},
    ("PATCH", UPDATE): {"path": UPDATE, "body": json.dumps({"invoice_no": "NOPE", "items": []}).encode()},
    ("GET", OPENAPI): {"path": OPENAPI},
    ("GET", "/api/sales/docs/"): {"path": "/api/sales/docs/"},
    ("GET", "/api/sales/invoice/<path:invoice_no>/"): {"path": "/api/sales/invoice/NOPE/"},
    ("GET", "/api/sales/invoices/"): {"path": "/api/sales/invoices/"},
    ("GET", SSE): {"path": SSE, "stream": True},
    ("POST", EXTRACT_WEBHOOK + "/<string:token>"): {"path": EXTRACT_WEBHOOK + "/access-token", "body": b"{}"},
    ("POST", EASYBILL_WEBHOOK + "/<int:company_id>/<string:token>"): {"path": EASYBILL_WEBHOOK + "/1/access-token",
                                                                       "body": b"{}"},
}


def password_of(login):
    return f"{login}-Secret-1"


@tagged("post_install", "-at_install")
class TestAccessTable(AccountTestInvoicingCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company_a = cls.env.company
        cls.company_b = cls.setup_other_company(name="Access company B")["company"]
        cls.companies = {"a": cls.company_a, "b": cls.company_b}
        root = cls.env(su=True)
        #: {"a" / "b": {kind: user}}; the public user is the same for both
        cls.users = {tag: {} for tag in cls.companies}
        for tag, company in cls.companies.items():
            for kind, groups in GROUPS.items():
                login = f"access_{kind}_{tag}"
                cls.users[tag][kind] = new_test_user(
                    root, login, groups=groups, company_id=company.id, company_ids=[Command.set(company.ids)],
                    password=password_of(login))
            cls.users[tag]["public"] = cls.env.ref("base.public_user")
        cls.records = cls._company_records()
        cls.credentials = cls._route_credentials()

    # ------------------------------------------------------------------------------------------ fixtures
    @classmethod
    def _company_records(cls):
        """``{model: {"a": record, "b": record}}``: one record per company of each model whose records belong to a
        company (its ``company_id``, or its invoices' for a wizard)."""
        root = cls.env(su=True)
        records = {}
        for tag, company in cls.companies.items():
            env = root(context=dict(root.context, allowed_company_ids=company.ids))
            partner = env["res.partner"].create({"name": f"Access customer {tag}", "company_id": company.id})
            move = env["account.move"].create({
                "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": "2025-01-15",
                "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": 10.0,
                                                     "tax_ids": []})]})
            export = env["invoice_bridge.easybill.export"].create({
                "company_id": company.id, "partner_id": partner.id, "period_start": "2025-01-01",
                "period_end": "2025-01-31"})
            endpoint = env["invoice_bridge.webhook.endpoint"].create({
                "name": f"Access {tag}", "url": "http://127.0.0.1:9/hook", "company_id": company.id})
            delivered = env["invoice_bridge.outbox"]._enqueue({
                "channel": "webhook", "target": endpoint._target_name(), "url": endpoint.url, "payload": "{}",
                "company_id": company.id, "idempotency_key": f"access-webhook-{tag}",
                "webhook_endpoint_id": endpoint.id})
            env["invoice_bridge.sync.log"]._log({"channel": "webhook", "state": "success", "company_id": company.id,
                                                 "outbox_id": delivered.id, "duration_ms": 12, "message": "ok"})
            env.flush_all()  # the statistics are a view on these tables
            made = {
                # a day of the endpoint's deliveries
                "invoice_bridge.webhook.endpoint.stat": env["invoice_bridge.webhook.endpoint.stat"].search(
                    [("endpoint_id", "=", endpoint.id)]),
                "invoice_bridge.sync.log": env["invoice_bridge.sync.log"]._log(
                    {"channel": "http", "state": "failed", "company_id": company.id, "message": f"access {tag}"}),
                "invoice_bridge.outbox": env["invoice_bridge.outbox"]._enqueue({
                    "channel": "http", "target": f"access-{tag}", "url": "http://127.0.0.1:9/access",
                    "payload": "{}", "company_id": company.id, "idempotency_key": f"access-{tag}"}),
                "invoice_bridge.webhook.endpoint": endpoint,
                "invoice_bridge.easybill.export": export,
                "invoice_bridge.easybill.export.line": env["invoice_bridge.easybill.export.line"].create({
                    "export_id": export.id, "company_id": company.id, "description": "Service",
                    "move_line_id": move.invoice_line_ids[0].id}),
                "invoice_bridge.easybill.export.wizard": env["invoice_bridge.easybill.export.wizard"].create({
                    "company_id": company.id, "partner_id": partner.id}),
                "invoice_bridge.api.key": env["invoice_bridge.api.key"].create({
                    "name": f"Access {tag}", "company_id": company.id, "user_id": cls.users[tag]["internal"].id}),
                "invoice_bridge.api.event": env["invoice_bridge.api.event"].create({
                    "event": "invoice_created", "company_id": company.id, "move_id": move.id, "payload": "{}"}),
                "invoice_bridge.salesman": env["invoice_bridge.salesman"].create({
                    "name": f"Access {tag}", "company_id": company.id}),
                # wizards whose company is their invoices'
                "invoice_bridge.webhook.preview": env["invoice_bridge.webhook.preview"].create({
                    "move_id": move.id, "event": "new_invoice", "payload": "{}"}),
                # a wizard whose company is its endpoint's
                "invoice_bridge.webhook.replay": env["invoice_bridge.webhook.replay"].create({
                    "endpoint_id": endpoint.id, "date_from": "2025-01-01 00:00:00"}),
                "invoice_bridge.return.wizard": env["invoice_bridge.return.wizard"].create({
                    "move_ids": [Command.set(move.ids)], "reason": f"Access {tag}"}),
            }
            for model, record in made.items():
                records.setdefault(model, {})[tag] = record.with_env(cls.env)
        return records

    @classmethod
    def _route_credentials(cls):
        """``{caller: headers}``: an Odoo API key (Bearer) per user of company A, an integration key (X-API-KEY)
        whose technical user is the billing user."""
        users = cls.users["a"]
        expiry = fields.Datetime.now() + timedelta(days=1)
        credentials = {"public": {}}
        for kind in ("portal", "internal", "billing", "manager"):
            token = cls.env["res.users.apikeys"].with_user(users[kind])._generate(None, "access table", expiry)
            credentials[kind] = {"Authorization": f"Bearer {token}"}
        key = cls.env["invoice_bridge.api.key"].create(
            {"name": "Access billing", "company_id": cls.company_a.id, "user_id": users["billing"].id})
        credentials["billing_key"] = {"X-API-KEY": key._generate_key()}
        return credentials

    def user_env(self, user):
        """``user``'s environment as a request of theirs builds it (their companies, no test context)."""
        return api.Environment(self.env.cr, user.id, {})

    def each_user(self, kind):
        """The users of ``kind`` as ``(label, user)``: one per company (the public user once)."""
        if kind == "public":
            return [("public", self.users["a"]["public"])]
        return [(f"{kind} ({self.users[tag][kind].login})", self.users[tag][kind]) for tag in self.companies]

    def assert_no_problems(self, problems):
        """Fail with every cell that differs, one per line."""
        if problems:
            self.fail(f"{len(problems)} difference(s) with core_access_table.py:\n" + "\n".join(problems))

    # ----------------------------------------------------------------------------------- what exists
    def addon_models(self):
        """``{model: kind}`` of the addon's own models, and the sorted names of the Odoo models it extends."""
        own, extended = {}, []
        for ir_model in self.env["ir.model"].sudo().search([]):
            if ADDON not in (ir_model.modules or "").split(", "):
                continue
            name = ir_model.model
            if not name.startswith(f"{ADDON}."):
                extended.append(name)
                continue
            model = self.env[name]
            own[name] = "abstract" if model._abstract else "transient" if model._transient else "model"
        return own, sorted(extended)

    def addon_routes(self):
        """``{(method, route)}`` of the endpoints defined in the addon, from Odoo's routing map (the methods as
        declared: Odoo adds OPTIONS to each rule itself)."""
        routes = set()
        for rule in self.env["ir.http"].routing_map().iter_rules():
            endpoint = rule.endpoint
            module = getattr(getattr(endpoint, "original_endpoint", endpoint), "__module__", "") or ""
            if not module.startswith(f"odoo.addons.{ADDON}."):
                continue
            for method in endpoint.routing.get("methods") or ["*"]:
                routes.add((method, rule.rule))
        return routes

    # ------------------------------------------------------------------------------------------ models
    def test_every_model_has_a_row(self):
        own, extended = self.addon_models()
        rows = model_rows()
        problems = [f"{name}: a model of the addon with no row in core_access_table.MODELS (add one)"
                    for name in sorted(set(own) - set(rows))]
        problems += [f"{name}: a row of core_access_table.MODELS for a model that no longer exists"
                     for name in sorted(set(rows) - set(own))]
        for name in sorted(set(own) & set(rows)):
            row = rows[name]
            if row["kind"] != own[name]:
                problems.append(f"{name}: the table says it is {row['kind']!r}, it is {own[name]!r}")
            has_company = "company_id" in self.env[name]._fields
            if has_company and row["company"] is None:
                problems.append(f"{name}: has a company_id, the table says company=None")
            elif row["company"] is not None and not has_company and row["kind"] != "transient":
                problems.append(f"{name}: the table says company={row['company']!r}, the model has no company_id")
            elif row["company"] is not None and name not in self.records:
                problems.append(f"{name}: has a company, but the test creates no record of it (_company_records)")
        if extended != sorted(EXTENDED_MODELS):
            problems.append(f"the addon extends {extended}, core_access_table.EXTENDED_MODELS lists "
                            f"{sorted(EXTENDED_MODELS)}")
        self.assert_no_problems(problems)

    def test_model_rights(self):
        problems = []
        for name, row in model_rows().items():
            if name not in self.env:
                continue  # reported by test_every_model_has_a_row
            for kind in USER_KINDS:
                for label, user in self.each_user(kind):
                    model = self.user_env(user)[name]
                    got = "".join(op[0] if model.has_access(op) else "-" for op in RIGHTS)
                    if got != row[kind]:
                        problems.append(f"{name} / {label}: the table says {row[kind]!r}, the code gives {got!r}")
        self.assert_no_problems(problems)

    def test_company_records(self):
        """Each user who may read a model with a company reads their company's record; the other company's only
        when the table says it is shared (a search finds it, ``check_access("read")`` lets it through)."""
        problems = []
        for name, row in model_rows().items():
            if not row["company"] or name not in self.records:
                continue
            both = self.records[name]["a"] | self.records[name]["b"]
            for kind in USER_KINDS:
                if "r" not in row[kind]:
                    continue
                for tag, other in (("a", "b"), ("b", "a")):
                    user = self.users[tag][kind]
                    label = f"{name} / {kind} ({user.login})"
                    env = self.user_env(user)
                    own, foreign = self.records[name][tag].with_env(env), self.records[name][other].with_env(env)
                    found = env[name].search([("id", "in", both.ids)])
                    expected = {"shared": own | foreign, "own": own.browse()}.get(row["company"], own)
                    if found != expected:
                        problems.append(f"{label}: a search finds {found.ids}, the table expects {expected.ids}")
                    try:
                        own.check_access("read")
                        if row["company"] == "own":
                            problems.append(f"{label}: reads a wizard another user opened")
                    except AccessError:
                        if row["company"] != "own":
                            problems.append(f"{label}: may not read its own company's record")
                    try:
                        foreign.check_access("read")
                        if row["company"] in ("isolated", "own"):
                            problems.append(f"{label}: reads the record of company {other.upper()}")
                    except AccessError:
                        if row["company"] == "shared":
                            problems.append(f"{label}: the table says shared, the record of company "
                                            f"{other.upper()} is refused")
        self.assert_no_problems(problems)

    def test_xmlrpc(self):
        """One ``search_read`` per model over XML-RPC as the manager, the billing and the internal user of A:
        a list when the table gives them read (company A's record; B's too only when shared), an XML-RPC fault
        otherwise."""
        problems = []
        db = self.env.cr.dbname
        for name, row in model_rows().items():
            if name not in self.env:
                continue
            for kind in RPC_KINDS:
                user = self.users["a"][kind]
                allowed = "r" in row[kind]
                if row["kind"] == "abstract" and allowed:
                    continue  # no table to search (api.key.show: the read right serves the form showing a new key)
                records = self.records.get(name)
                domain = [("id", "in", (records["a"] | records["b"]).ids)] if records else []
                try:
                    result = self.xmlrpc_object.execute_kw(db, user.id, password_of(user.login), name, "search_read",
                                                           [domain], {"fields": ["display_name"], "limit": 10})
                except xmlrpc.client.Fault as fault:
                    if allowed:
                        problems.append(f"{name} / {kind}: refused over XML-RPC ({fault.faultString[:120]!r})")
                    continue
                if not allowed:
                    problems.append(f"{name} / {kind}: the table refuses read, XML-RPC answered {result!r}")
                    continue
                if not isinstance(result, list):
                    problems.append(f"{name} / {kind}: XML-RPC answered {result!r}, not a list")
                elif records:
                    expected = {"isolated": records["a"].ids, "own": []}.get(row["company"],
                                                                         (records["a"] | records["b"]).ids)
                    if sorted(r["id"] for r in result) != sorted(expected):
                        problems.append(f"{name} / {kind}: XML-RPC gives {[r['id'] for r in result]}, the table "
                                        f"expects {expected}")
        self.assert_no_problems(problems)

    # ------------------------------------------------------------------------------------------ secrets
    def test_secret_fields(self):
        """Every field of the addon that looks like a credential has a row in SECRET_FIELDS; each protected one
        has those groups, and the manager and the billing user of company A can neither read it, nor search or
        sort on it, over XML-RPC (company A's own record)."""
        pattern = re.compile(SECRET_FIELD_PATTERN, re.IGNORECASE)
        found = set()
        for model_name in self.env.registry:
            for name, field in self.env[model_name]._fields.items():
                if pattern.search(name) and getattr(field, "_module", None) == ADDON:
                    found.add((model_name, name))
        problems = [f"{model}.{name}: looks like a credential and has no row in core_access_table.SECRET_FIELDS"
                    for model, name in sorted(found - set(SECRET_FIELDS))]
        problems += [f"{model}.{name}: a row of SECRET_FIELDS for a field that no longer exists"
                     for model, name in sorted(set(SECRET_FIELDS) - found)]
        records = {"res.company": self.company_a, **{m: r["a"] for m, r in self.records.items()}}
        db = self.env.cr.dbname
        for (model, name), groups in sorted(SECRET_FIELDS.items()):
            if groups is None or (model, name) not in found:
                continue
            if self.env[model]._fields[name].groups != groups:
                problems.append(f"{model}.{name}: groups {self.env[model]._fields[name].groups!r}, the table says "
                                f"{groups!r}")
            record = records.get(model)
            if record is None:
                continue  # res.config.settings: the model itself is for administrators only (the rights above)
            for kind in ("manager", "billing"):
                user = self.users["a"][kind]
                calls = {"read": ("read", [record.ids], {"fields": [name]}),
                         "search": ("search_count", [[(name, "=like", "%")]], {}),
                         "sort": ("search", [[("id", "=", record.id)]], {"order": name})}
                for what, (method, args, kwargs) in calls.items():
                    try:
                        answer = self.xmlrpc_object.execute_kw(db, user.id, password_of(user.login), model, method,
                                                               args, kwargs)
                    except xmlrpc.client.Fault:
                        continue
                    problems.append(f"{model}.{name} / {kind}: {what} over XML-RPC answered {answer!r}")
        self.assert_no_problems(problems)

    # ------------------------------------------------------------------------------------------ routes
    def test_every_route_has_a_row(self):
        found = self.addon_routes()
        rows = route_rows()
        problems = [f"{method} {route}: a route of the addon with no row in core_access_table.ROUTES (add one)"
                    for method, route in sorted(found - set(rows))]
        problems += [f"{method} {route}: a row of core_access_table.ROUTES for a route that no longer exists"
                     for method, route in sorted(set(rows) - found)]
        problems += [f"{method} {route}: no entry in ROUTE_CALLS of test_core_access.py (how to call it)"
                     for method, route in sorted(set(rows) - set(ROUTE_CALLS))]
        self.assert_no_problems(problems)

    def test_routes(self):
        # a short keep-alive: a stream this test hangs up on notices it at its next write, and ends
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.sse_keepalive_seconds", "0.1")
        problems = []
        for key, row in route_rows().items():
            call = ROUTE_CALLS.get(key)
            if call is None:
                continue  # reported by test_every_route_has_a_row
            method = key[0]
            for caller, expected in row.items():
                status, detail = self.call_route(method, call, caller)
                if status != expected:
                    problems.append(f"{method} {key[1]} / {caller}: the table says {expected}, the answer is "
                                    f"{status} {detail}")
        self.assert_no_problems(problems)

    def call_route(self, method, call, caller):
        """``(status, a short excerpt of the body)`` of one call of a route by ``caller``, over real HTTP."""
        body = call.get("body")
        if callable(body):
            body = body(caller)
        headers = dict(self.credentials[caller])
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = self.base_url() + call["path"]
        if not call.get("stream"):
            response = self.opener.request(method, url, data=body, headers=headers, timeout=30)
            return response.status_code, response.content[:200]
        # a stream: its status, its first bytes, then hang up (a 200 that is no event stream does not count as 200)
        response = self.opener.request(method, url, data=body, headers=headers, timeout=10, stream=True)
        try:
            if response.status_code != 200:
                return response.status_code, response.content[:200]
            first = next(response.iter_content(chunk_size=None), b"")
            if not (response.headers.get("Content-Type", "").startswith("text/event-stream")
                    and first.startswith(b"retry:")):
                return f"{response.status_code} (no event stream)", first[:200]
            return response.status_code, first[:200]
        finally:
            response.close()
            self.wait_for_streams()

    def wait_for_streams(self, timeout=10):
        """Wait for the server's stream threads to end: a stream runs on the test transaction's connection, which
        this thread must not use meanwhile. A stream ends at its first keep-alive after the client hung up."""
        deadline = time.monotonic() + timeout
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and getattr(thread, "type", None) == "websocket" \
                    and thread.name.startswith("odoo.service.http.request."):
                thread.join(max(deadline - time.monotonic(), 0))
                self.assertFalse(thread.is_alive(), "an event stream did not end after its client hung up")
