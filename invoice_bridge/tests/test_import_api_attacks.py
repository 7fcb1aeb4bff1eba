"""The import API tried as another company's users and as careless or hostile senders would (#14).

Each test makes the attack the way it was made: over real HTTP, through the ORM as the other company's user, or
over XML-RPC, and checks the documented answer and that nothing was written.
"""
import json
import time
import xmlrpc.client
from datetime import timedelta

from odoo import Command, fields, http
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .test_import_api import IMPORT, SAMPLE, UPDATE, ImportApiCase, issue_key


@tagged("post_install", "-at_install")
class TestImportApiAttacks(ImportApiCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.user_b = new_test_user(cls.env, "tech_b", groups="base.group_user,account.group_account_invoice",
                                   company_id=cls.company_b.id, company_ids=[Command.set(cls.company_b.ids)])
        cls.key_b = issue_key(cls.env["invoice_bridge.api.key"].create(
            {"name": "B", "company_id": cls.company_b.id, "user_id": cls.user_b.id}))
        cls.admin_b = new_test_user(cls.env, "admin_b", groups="base.group_user,account.group_account_manager",
                                    company_id=cls.company_b.id, company_ids=[Command.set(cls.company_b.ids)],
                                    password="admin_b-password")
        cls.manager_a = new_test_user(cls.env, "manager_a", groups="base.group_user,account.group_account_manager",
                                      company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)],
                                      password="manager_a-password")
        cls.internal_a = new_test_user(cls.env, "internal_a", groups="base.group_user", company_id=cls.company.id,
                                       company_ids=[Command.set(cls.company.ids)], password="internal_a-password")

    def payload(self, **overrides):
        data = json.loads(SAMPLE)
        data.update(overrides)
        return data

    # ---------------------------------------------------------------------------- 1: the shown key
    def test_a_new_key_is_shown_once_and_never_stored(self):
        record = self.env["invoice_bridge.api.key"].create(
            {"name": "A ERP", "company_id": self.company.id, "user_id": self.tech_user.id})
        self.assertTrue(self.env["invoice_bridge.api.key.show"]._abstract, "no table: nothing to read back")
        self.env.cr.execute("SELECT 1 FROM pg_tables WHERE tablename = 'invoice_bridge_api_key_show'")
        self.assertFalse(self.env.cr.fetchall())
        # the button asks for the password first (Odoo's check_identity), then shows the key in the action only
        self.authenticate("manager_a", "manager_a-password")
        action = self.make_jsonrpc_request("/web/dataset/call_button", {
            "model": record._name, "method": "action_generate_key", "args": [record.ids], "kwargs": {}})
        self.assertEqual(action["res_model"], "res.users.identitycheck", "the password is asked again")
        self.session["identity-check-last"] = time.time()
        http.root.session_store.save(self.session)
        action = self.make_jsonrpc_request("/web/dataset/call_button", {
            "model": record._name, "method": "action_generate_key", "args": [record.ids], "kwargs": {}})
        key = action["context"]["default_key"]
        self.assertEqual((action["res_model"], "res_id" in action), ("invoice_bridge.api.key.show", False))
        self.assertEqual(self.call(IMPORT, SAMPLE, key=key)[0], 201, "the key shown works")
        self.assertNotIn(key, [record.sudo().key_hash, record.sudo().key_index, record.key_hint])
        # company B's accounting administrator, over XML-RPC: no key to read, none to issue
        common = self.xmlrpc_object  # HttpCase's proxy: 19.0 ignores test requests without its cursor cookie
        with self.assertRaises(xmlrpc.client.Fault):
            common.execute_kw(self.env.cr.dbname, self.admin_b.id, "admin_b-password", "invoice_bridge.api.key.show",
                              "search_read", [[]], {"fields": ["key"]})
        with self.assertRaises(xmlrpc.client.Fault) as refused:  # over RPC: no key (check_identity refuses)
            common.execute_kw(self.env.cr.dbname, self.manager_a.id, "manager_a-password",
                              "invoice_bridge.api.key", "action_generate_key", [record.ids])
        self.assertNotIn("ibk_", str(refused.exception))
        self.assertEqual(self.call(IMPORT, SAMPLE, key=key)[0], 409, "and the key shown before still works")

    # ---------------------------------------------------------------------------- 3: shared records
    def test_another_company_never_rewrites_a_shared_partner_or_product(self):
        shared = self.env["res.partner"].create({"name": "LifeCare Pharmacy", "ref": "CUST-889", "company_id": False,
                                                 "email": "lifecare@shop.com"})
        product = self.env["product.product"].create({"name": "Paracetamol", "default_code": "PR650",
                                                      "company_id": False, "ib_manufacturer": "Sun Pharma"})
        body = self.payload()
        body["customer"].update(email="attacker@evil.example", name="Evil Corp", phone1="000")
        body["items"][0]["company_name"] = "Evil Pharma"
        # through the ORM, as company B's technical user
        service = self.env["invoice_bridge.import.service"].with_user(self.user_b).with_context(
            allowed_company_ids=self.company_b.ids)
        from ..lib.import_api_fields import parse_import  # noqa: PLC0415 - the lib, as the controller uses it
        move = service._import_invoice(parse_import(json.dumps(body).encode()), self.company_b)
        self.assertEqual(move.partner_id, shared, "the shared partner is used as it is")
        self.assertRecordValues(shared, [{"email": "lifecare@shop.com", "name": "LifeCare Pharmacy", "phone": False}])
        self.assertEqual(product.ib_manufacturer, "Sun Pharma")
        # and over HTTP with company B's key
        status, _body = self.call(IMPORT, self.payload(invoice_no="LTPI-2", customer=body["customer"]), key=self.key_b)
        self.assertEqual(status, 201)
        self.assertEqual(shared.email, "lifecare@shop.com")

    # ---------------------------------------------------------------------------- 7: wildcards
    def test_wildcards_match_nothing(self):
        new_test_user(self.env, "ajay", name="Ajay", groups="base.group_user", company_id=self.company.id)
        status, _body = self.call(IMPORT, self.payload(salesman="%"))
        self.assertEqual(status, 201)
        move = self.imported()
        self.assertEqual(move.ib_salesman_id.name, "%")
        self.assertFalse(move.ib_salesman_id.user_id, "no Odoo user is '%'")
        self.assertNotEqual(move.invoice_user_id.login, "ajay")
        bill = self.env["account.move"].create({"move_type": "in_invoice"})
        self.assertFalse(bill._ib_extract_match_partner({"supplier": "%"}))
        self.assertFalse(bill._ib_extract_match_currency("%"))

    # ---------------------------------------------------------------------------- 8: rights first
    def test_no_rights_no_lookup(self):
        self.assertEqual(self.call(IMPORT, SAMPLE)[0], 201)
        key = self.env["res.users.apikeys"].with_user(self.internal_a)._generate(
            None, "no rights", fields.Datetime.now() + timedelta(days=1))
        bearer = {"Authorization": f"Bearer {key}"}
        status, body = self.call(IMPORT, SAMPLE, key=False, headers=bearer)
        self.assertEqual(status, 403, body)
        self.assertNotIn("data", body, "nothing about the existing invoice")
        status, body = self.call(UPDATE, {"invoice_no": "LTPI-77282", "items": []}, key=False, headers=bearer,
                                 method="PATCH")
        self.assertEqual(status, 403, body)
        self.assertNotIn("data", body)
        status, body = self.call(UPDATE, {"invoice_no": "NOPE", "items": []}, key=False, headers=bearer,
                                 method="PATCH")
        self.assertEqual(status, 403, "not 404: whether a number exists is not told either")
        # the same user through the ORM: the service refuses before it looks anything up
        from ..lib.import_api_fields import parse_import, parse_update  # noqa: PLC0415 - as the controller
        move = self.imported()
        service = self.env["invoice_bridge.import.service"].with_user(self.internal_a)
        calls = {
            "import": lambda: service._import_invoice(parse_import(SAMPLE), self.company),
            "batch": lambda: service._import_invoices([parse_import(SAMPLE)], self.company),
            "update": lambda: service._update_invoice(
                parse_update(json.dumps({"invoice_no": "LTPI-77282", "items": []}).encode()), self.company),
            "read": lambda: service._read_invoice("LTPI-77282", self.company),
        }
        for name, call in calls.items():
            with self.subTest(name), self.assertRaises(AccessError) as refused:
                call()
            self.assertNotIn(str(move.id), str(refused.exception).replace(str(self.internal_a.id), ""), name)
            self.assertNotIn("LTPI-77282", str(refused.exception), name)
        # and over XML-RPC: the invoice cannot be searched for either
        with self.assertRaises(xmlrpc.client.Fault):
            self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.internal_a.id, "internal_a-password",
                                          "account.move", "search_read", [[("ib_invoice_no", "=", "LTPI-77282")]],
                                          {"fields": ["id", "state"]})

    # ---------------------------------------------------------------------------- 11-15: bad input
    def assertFieldError(self, body, field, method="POST", path=IMPORT):
        status, answer = self.call(path, body, method=method)
        self.assertEqual(status, 400, answer)
        self.assertIn(field, answer["errors"], answer)
        return answer

    def test_bad_input_gets_a_field_error_and_writes_nothing(self):
        moves_before = self.env["account.move"].search_count([])
        tiny = self.payload()
        tiny["items"][0]["quantity"] = json.loads("1E-5")
        self.assertFieldError(json.dumps(tiny).replace("1e-05", "1E-5").encode(), "items[0].quantity")
        for day in ("0001-01-01", "9999-12-31"):
            self.assertFieldError(self.payload(invoice_date=day), "invoice_date")
        duplicate = SAMPLE.decode().replace('"invoice_no": "LTPI-77282",',
                                            '"invoice_no": "LTPI-77282", "invoice_no": "LTPI-1",')
        self.assertIn('"invoice_no": "LTPI-1"', duplicate)
        answer = self.assertFieldError(duplicate.encode(), "body")
        self.assertIn("Duplicate key", answer["errors"]["body"][0])
        huge = self.payload()
        huge["items"][0].update(mrp="999999999999.99", quantity=20)
        self.assertFieldError(huge, "items[0]")
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "nothing half-written")

    def test_amounts_at_the_documented_limit_still_balance(self):
        at_limit = self.payload(invoice_no="LIMIT-1")
        at_limit["items"] = [dict(at_limit["items"][0], quantity=1, mrp="99999999999.99")]
        three = self.payload(invoice_no="LIMIT-3")
        three["items"] = [dict(three["items"][0], item_code=f"L{i}", quantity=1, mrp="33333333333.33")
                          for i in range(3)]
        for body in (at_limit, three):
            status, answer = self.call(IMPORT, body)
            self.assertEqual(status, 201, answer)
            move = self.imported(body["invoice_no"])
            move.action_ib_approve()
            self.assertEqual(move.state, "posted", "the move balances")
        over = self.payload(invoice_no="LIMIT-4")
        over["items"] = [dict(over["items"][0], item_code=f"L{i}", quantity=1, mrp="33333333333.34")
                         for i in range(3)]
        self.assertFieldError(over, "items")

    def test_patch_keeps_the_invoice_below_the_limit(self):
        """#14 item 15 through PATCH: each added line is below the limit, their sum with the invoice's is not."""
        self.assertEqual(self.call(IMPORT, SAMPLE)[0], 201)
        move = self.imported()
        move._ib_return_to_billing("amounts")
        lines_before = move.invoice_line_ids.ids
        big = [{"item_code": f"BIG-{i}", "name": f"Big {i}", "quantity": 1, "mrp": "60000000000"} for i in range(2)]
        answer = self.assertFieldError({"invoice_no": "LTPI-77282", "items": big}, "items", method="PATCH",
                                       path=UPDATE)
        self.assertIn("sum of quantity × mrp", answer["errors"]["items"][0])
        self.assertEqual((move.invoice_line_ids.ids, move.ib_import_state), (lines_before, "review"))
        status, answer = self.call(UPDATE, {"invoice_no": "LTPI-77282", "items": big[:1]}, method="PATCH")
        self.assertEqual(status, 200, answer)

    def test_patch_due_date_before_the_invoice_date(self):
        self.assertEqual(self.call(IMPORT, SAMPLE)[0], 201)
        self.imported()._ib_return_to_billing("dates")
        self.assertFieldError({"invoice_no": "LTPI-77282", "due_date": "2025-01-01"}, "due_date", method="PATCH",
                              path=UPDATE)
        self.assertEqual(self.imported().ib_import_state, "review")

    # ---------------------------------------------------------------------------- 6: refused requests
    def test_refused_requests_are_counted_not_logged(self):
        logs_before = self.env["invoice_bridge.sync.log"].search_count([])
        for _attempt in range(30):
            self.assertEqual(self.call(IMPORT, SAMPLE, key="ibk_stolen-or-guessed")[0], 401)
        self.assertEqual(self.call(IMPORT, SAMPLE, key=False)[0], 401)
        self.assertEqual(self.env["invoice_bridge.sync.log"].search_count([]), logs_before, "no line, no body")
        rows = self.env["invoice_bridge.refused.request"].search([], order="count desc")
        self.assertEqual(sum(rows.mapped("count")), 31)
        self.assertLessEqual(len(rows), 2, "one row per source, route, status and minute (a minute may end)")
        self.assertEqual(set(rows.mapped("status")), {401})
        self.assertNotIn("ibk_stolen", " ".join(rows.mapped("reason")))
        Refused = self.env["invoice_bridge.refused.request"]
        self.assertFalse(Refused.with_user(self.tech_user).has_access("read"), "billing users see none")
        self.assertTrue(Refused.with_user(self.manager_a).has_access("read"), "the bridge's managers do")
        rows.sudo().write({"minute": "2020-01-01 00:00:00"})
        self.env["invoice_bridge.sync.log"]._cron_vacuum()
        self.assertFalse(rows.exists(), "vacuumed after their retention")

    # ---------------------------------------------------------------------------- 9: credential headers
    def test_credential_headers_are_masked_by_name(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.log_masked_headers", "X-Tenant")
        secrets = {"X-Auth-Token": "tok-1111-2222-3333", "Api-Token": "tok-4444-5555-6666",
                   "X-Session-Id": "ses-7777-8888-9999", "X-Client-Secret": "sec-aaaa-bbbb-cccc",
                   "X-Tenant": "tenant-dddd-eeee-ffff"}
        self.assertEqual(self.call(IMPORT, SAMPLE, headers=secrets)[0], 201)
        line = self.env["invoice_bridge.sync.log"].search([("channel", "=", "import_api")], limit=1)
        for name, value in secrets.items():
            self.assertIn(name, line.request_headers)
            self.assertNotIn(value, line.request_headers)
        self.assertNotIn(self.key, line.request_headers)
