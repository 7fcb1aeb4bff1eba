import base64
import time
from datetime import date, datetime, timedelta

import psycopg2.errors

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..lib.easybill_csv import HEADER, read_csv
from .core_common import user_groups
from .fakes.easybill_fake import FakeEasybill

KEY = "test-easybill-key"
OCTOBER = date(2026, 10, 1)


@tagged("post_install", "-at_install")
class EasybillCase(AccountTestInvoicingCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.fake = FakeEasybill(api_key=KEY).start()
        cls.addClassCleanup(cls.fake.stop)
        cls.Export = cls.env["invoice_bridge.easybill.export"]
        cls.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,0s,0s,0s")
        cls.company = cls.env.company
        cls.company.write({"ib_easybill_enabled": True, "ib_easybill_url": cls.fake.api_url,
                           "ib_easybill_api_key": KEY, "ib_easybill_rate_limit": "60"})
        cls.company.partner_id.tz = "Europe/Berlin"
        cls.journal = cls.env["account.journal"].create({
            "name": "easybill services", "code": "EBS", "type": "sale", "ib_easybill": True,
            "company_id": cls.company.id})
        cls.service = cls.env["product.product"].create({
            "name": "Lagerung", "default_code": "SRV-1", "type": "service", "list_price": 10})
        cls.fee = cls.env["product.product"].create({
            "name": "Stornierung", "default_code": "FEE-1", "type": "service", "ib_cancellation_fee": True})
        cls.goods = cls.env["product.product"].create({"name": "Kartons", "default_code": "GDS-1", "type": "consu"})
        cls.tax19 = cls.env["account.tax"].create({"name": "19% USt", "amount": 19, "type_tax_use": "sale",
                                                   "company_id": cls.company.id})
        cls.customer = cls.env["res.partner"].create({
            "name": "Müller & Söhne GmbH", "is_company": True, "street": "Hauptstraße 1", "zip": "10115",
            "city": "Berlin", "country_id": cls.env.ref("base.de").id, "vat": "DE123456789",
            "email": "buchhaltung@mueller.example"})

    def setUp(self):
        super().setUp()
        self.fake.reset()

    # ------------------------------------------------------------------------------------------ helpers
    def services(self, partner=None, day="2026-10-15", lines=None, move_type="out_invoice", journal=None,
                 post=False):
        lines = lines or [(self.service, 2, 12.5, "Lagerung Oktober; Halle \"B\"")]
        move = self.env["account.move"].create({
            "move_type": move_type, "partner_id": (partner or self.customer).id,
            "journal_id": (journal or self.journal).id, "invoice_date": day, "date": day,
            "invoice_line_ids": [Command.create({
                "product_id": product.id, "quantity": qty, "price_unit": price, "name": name or product.name,
                "tax_ids": [Command.set(self.tax19.ids)]}) for product, qty, price, name in lines],
        })
        if post:
            move.action_post()
        return move

    def drain(self):
        return self.env["invoice_bridge.outbox"]._drain(autocommit=False, short_wait=0)

    def export(self, month=OCTOBER, partners=None):
        exports = self.Export._export_period(self.company, month, partners=partners)
        self.drain()
        return exports

    def calls(self):
        return [(r["method"], r["path"].removeprefix("/rest/v1")) for r in self.fake.requests]


class TestEasybillExport(EasybillCase):

    def test_no_services_no_csv_no_request(self):
        self.services(day="2026-09-30")  # another month
        self.services(journal=self.company_data["default_journal_sale"])  # a journal invoiced from Odoo
        exports = self.export()
        self.assertFalse(exports)
        self.assertFalse(self.fake.requests)
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", self.Export._name)]))

    def test_new_customer_full_flow(self):
        self.services(lines=[(self.service, 2, 12.5, "Lagerung Oktober; Halle \"B\""),
                             (self.fee, 1, 30.0, "Storno 12.10.")])
        self.services(move_type="out_refund", lines=[(self.service, 1, 12.5, "Gutschrift Lagerung")])
        export = self.export()
        self.assertRecordValues(export, [{"state": "done", "line_count": 3, "amount_net": 2 * 12.5 + 30 - 12.5}])
        self.assertEqual(self.calls(), [
            ("GET", "/customers"), ("POST", "/customers"), ("POST", "/documents"), ("POST", "/attachments"),
            ("PUT", f"/attachments/{export.easybill_attachment_id}")])
        # the customer number was generated and written back, the easybill id stored on the partner
        self.assertTrue(self.customer.ref.startswith("OD-"))
        customer = self.fake.customers[int(export.easybill_customer_id)]
        self.assertEqual(customer["number"], self.customer.ref)
        self.assertEqual(customer["company_name"], "Müller & Söhne GmbH")
        self.assertEqual(self.customer.ib_easybill_customer_id, export.easybill_customer_id)
        document = self.fake.documents[int(export.easybill_document_id)]
        self.assertTrue(document["is_draft"])
        self.assertEqual(document["customer_id"], int(export.easybill_customer_id))
        self.assertEqual(document["service_date"]["date_from"], "2026-10-01")
        self.assertEqual(document["service_date"]["date_to"], "2026-10-31")
        items = [(i["description"], i["quantity"], i["single_price_net"], i["vat_percent"]) for i in document["items"]]
        self.assertEqual(items, [
            ("Lagerung Oktober; Halle \"B\"", 2, 1250, 19),
            ("Stornogebühr: Storno 12.10.", 1, 3000, 19),
            ("Gutschrift Lagerung", -1, 1250, 19),
        ])
        attachment = self.fake.attachments[int(export.easybill_attachment_id)]
        self.assertEqual(attachment["document_id"], int(export.easybill_document_id))
        self.assertEqual(attachment["content"], base64.b64decode(export.csv_attachment_id.datas))
        logs = self.env["invoice_bridge.sync.log"].search([("res_model", "=", self.Export._name),
                                                           ("res_id", "=", export.id)])
        self.assertEqual(len(logs), 5)
        self.assertEqual(set(logs.mapped("state")), {"success"})
        self.assertEqual(logs.partner_id, self.customer)
        self.assertTrue(all(KEY not in (log.request_headers or "") for log in logs))

    def test_csv_content_and_round_trip(self):
        self.services(lines=[(self.service, 1.5, 10.0, "Lagerung \"Süd\"; Regal 3\nzweite Zeile"),
                             (self.fee, 1, 25.0, "Stornogebühr Auftrag ä/ö/ü/ß")])
        export = self.Export._export_period(self.company, OCTOBER)
        data = base64.b64decode(export.csv_attachment_id.datas)
        self.assertEqual(data.decode("utf-8").splitlines()[0], ";".join(HEADER))
        customer, document_date, period, positions = read_csv(data)
        self.assertEqual(customer.company_name, "Müller & Söhne GmbH")
        self.assertEqual(customer.vat_id, "DE123456789")
        self.assertEqual(customer.country, "DE")
        self.assertEqual(document_date, date(2026, 10, 31))
        self.assertEqual(period, (date(2026, 10, 1), date(2026, 10, 31)))
        self.assertEqual([p.description for p in positions],
                         ["Lagerung \"Süd\"; Regal 3\nzweite Zeile", "Stornogebühr Auftrag ä/ö/ü/ß"])
        self.assertEqual([p.position_type for p in positions], ["service", "cancellation_fee"])
        self.assertEqual([str(p.quantity) for p in positions], ["1.5", "1"])
        self.assertEqual(export.csv_attachment_id.mimetype, "text/csv")
        self.assertFalse(self.fake.requests)  # nothing sent before the outbox is drained

    def test_cents_rounding(self):
        # 3 × 10.005 = 30.02 net in Odoo: the unit price sent is the rounded net unit price, in whole cents
        self.services(lines=[(self.service, 3, 10.005, "Rundung")])
        export = self.export()
        item = self.fake.documents[int(export.easybill_document_id)]["items"][0]
        self.assertIsInstance(item["single_price_net"], int)
        self.assertEqual(item["single_price_net"], 1001)

    def test_only_service_products_setting(self):
        self.company.ib_easybill_line_selection = "services"
        self.services(lines=[(self.service, 1, 10.0, None), (self.goods, 1, 5.0, None), (self.fee, 1, 7.0, None)])
        export = self.Export._export_period(self.company, OCTOBER)
        self.assertEqual(export.line_ids.mapped("item_number"), ["SRV-1", "FEE-1"])

    def test_posted_setting(self):
        draft = self.services()
        posted = self.services(post=True)
        export = self.Export._export_period(self.company, OCTOBER)
        self.assertEqual(export.line_ids.move_id, draft)
        self.company.ib_easybill_move_state = "posted"
        export = self.Export._export_period(self.company, OCTOBER)
        self.assertEqual(export.line_ids.move_id, posted)

    def test_stored_customer_three_calls_and_second_run_does_nothing(self):
        self.services()
        first = self.export()
        self.assertEqual(len(self.fake.requests), 5)
        self.assertFalse(self.export())  # same month again: nothing left, no request
        self.assertEqual(len(self.fake.requests), 5)
        self.services(day="2026-10-20", lines=[(self.service, 1, 99.0, "Nachtrag")])
        supplement = self.export()
        self.assertEqual(supplement.supplement, 1)
        self.assertEqual(supplement.line_ids.description, "Nachtrag")
        self.assertEqual(self.calls()[5:], [("POST", "/documents"), ("POST", "/attachments"),
                                        ("PUT", f"/attachments/{supplement.easybill_attachment_id}")])
        self.assertEqual(supplement.easybill_customer_id, first.easybill_customer_id)
        self.assertNotEqual(supplement.easybill_document_id, first.easybill_document_id)
        self.assertIn("supplement 1", self.fake.documents[int(supplement.easybill_document_id)]["title"])

    def test_line_carried_by_one_export_only(self):
        move = self.services()
        export = self.Export._export_period(self.company, OCTOBER)
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.env["invoice_bridge.easybill.export.line"].sudo().create({
                "export_id": export.id, "move_line_id": move.invoice_line_ids.id, "description": "again"})

    def test_existing_customer_found_by_number(self):
        self.customer.ref = "K-4711"
        self.fake.reset()
        import requests
        requests.post(f"{self.fake.api_url}/customers", json={"number": "K-4711", "company_name": "Müller",
                                                              "last_name": None},
                      headers={"Authorization": f"Bearer {KEY}"}, timeout=5).raise_for_status()
        existing = next(iter(self.fake.customers))
        self.services()
        export = self.export()
        self.assertEqual(export.easybill_customer_id, str(existing))
        self.assertEqual(len(self.fake.customers), 1)
        self.assertEqual(self.customer.ref, "K-4711")  # the reference is the number, never overwritten

    def test_lost_answers_are_resumed_without_duplicates(self):
        """Each create step fails once after easybill did the work (the answer is lost): nothing is created twice."""
        self.services()
        for path in ("/customers$", "/documents$", "/attachments$"):
            self.fake.fail_next("POST", path, status=502, execute=True)
        self.fake.fail_next("PUT", "/attachments/", status=500)
        export = self.export()
        for _i in range(6):  # each failed step is retried by the schedule (0 s here)
            self.drain()
        self.assertEqual(export.state, "done", export.last_error)
        self.assertEqual(len(self.fake.customers), 1)
        self.assertEqual(len(self.fake.documents), 1)
        self.assertEqual(len(self.fake.attachments), 2)  # attachments cannot be looked up: see the README
        self.assertEqual(self.fake.attachments[int(export.easybill_attachment_id)]["document_id"],
                         int(export.easybill_document_id))

    def test_client_error_fails_then_retry_resumes_at_the_failed_step(self):
        self.services()
        self.fake.fail_next("POST", "/documents$", status=422, body={"code": 422, "message": "Kunde gesperrt"})
        export = self.export()
        self.assertEqual(export.state, "failed")
        self.assertIn("Kunde gesperrt", export.last_error)
        failed_log = self.env["invoice_bridge.sync.log"].search(
            [("res_model", "=", self.Export._name), ("res_id", "=", export.id), ("state", "=", "failed")])
        self.assertTrue(failed_log.hint)
        self.assertEqual(len(self.fake.customers), 1)
        before = len(self.fake.requests)
        export.action_retry()
        self.drain()
        self.assertEqual(export.state, "done")
        resumed = [(r["method"], r["path"].removeprefix("/rest/v1")) for r in self.fake.requests[before:]]
        self.assertEqual(resumed[0], ("POST", "/documents"))  # not the customer again
        self.assertEqual(len(self.fake.customers), 1)
        self.assertEqual(len(self.fake.documents), 1)

    def test_answer_without_id_fails_the_export(self):
        self.services()
        self.fake.fail_next("POST", "/documents$", status=201, body={"unexpected": True})
        export = self.export()
        self.assertEqual(export.state, "failed")
        self.assertIn("no id", export.last_error)
        log = self.env["invoice_bridge.sync.log"].search([("res_model", "=", self.Export._name),
                                                          ("res_id", "=", export.id), ("state", "=", "failed")])
        self.assertIn("API URL", log.hint)
        self.assertIn(f"customer {self.customer.ref}", log.message)

    def test_missing_api_key_fails_with_hint(self):
        self.company.ib_easybill_api_key = False
        self.services()
        export = self.export()
        self.assertEqual(export.state, "failed")
        self.assertIn("API key", export.last_error)
        self.assertFalse(self.fake.requests)

    def test_invalid_csv_stops_the_export_and_nothing_is_sent(self):
        self.customer.country_id = False  # easybill needs the customer's country
        self.services()
        export = self.export()
        self.assertEqual(export.state, "failed")
        self.assertIn("country", export.csv_errors)
        self.assertFalse(export.csv_attachment_id)
        self.assertFalse(self.fake.requests)
        log = self.env["invoice_bridge.sync.log"].search([("res_model", "=", self.Export._name),
                                                          ("res_id", "=", export.id)])
        self.assertEqual(log.state, "failed")
        self.assertIn("Retry", log.hint)
        self.customer.country_id = self.env.ref("base.de")
        export.action_retry()
        self.drain()
        self.assertEqual(export.state, "done")

    def test_auto_finalize(self):
        self.company.ib_easybill_auto_finalize = True
        self.services()
        export = self.export()
        self.assertTrue(export.finalized)
        self.assertFalse(self.fake.documents[int(export.easybill_document_id)]["is_draft"])

    def test_queries_do_not_grow_with_lines(self):
        def queries_for(lines):
            partner = self.customer.copy({"name": f"Kunde {lines}", "ref": f"K-{lines}"})
            self.services(partner=partner, lines=[(self.service, 1, 10.0 + i, f"Leistung {i}") for i in range(lines)])
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.Export._export_period(self.company, OCTOBER, partners=partner)
            return self.env.cr.sql_log_count - before
        queries_for(1)  # warm the caches (users, rules, parameters, cron)
        few, many = queries_for(2), queries_for(20)
        self.assertEqual(few, many)

    def test_partner_wizard_previews_then_sends(self):
        self.services()
        wizard = self.env["invoice_bridge.easybill.export.wizard"].create(
            {"partner_id": self.customer.id, "month": "10", "year": "2026"})
        self.assertTrue(wizard.has_services)
        self.assertIn("Lagerung Oktober", wizard.preview)
        self.assertFalse(self.Export.search([]))  # previewing creates nothing
        action = wizard.action_send()
        export = self.Export.browse(action["res_id"])
        self.assertEqual(export.period_start, OCTOBER)
        self.drain()
        self.assertEqual(export.state, "done")


class TestEasybillPreview(EasybillCase):
    """#16.6/#16.12: every send to easybill is previewed; the month is a month; the preview is a table."""

    Wizard = "invoice_bridge.easybill.export.wizard"

    def test_invoice_button_opens_the_preview_of_that_customers_month(self):
        move = self.services(day="2026-10-03")
        other = self.env["res.partner"].create({"name": "Andere GmbH", "is_company": True,
                                                "country_id": self.env.ref("base.de").id})
        self.services(partner=other)
        action = move.action_ib_easybill_export()
        self.assertEqual((action["res_model"], action["target"]), (self.Wizard, "new"))
        self.assertFalse(self.Export.search([]))  # nothing is sent before the preview
        wizard = self.env[self.Wizard].with_context(**action["context"]).create({})
        self.assertRecordValues(wizard, [{"partner_id": self.customer.id, "company_id": self.company.id,
                                          "month": "10", "year": "2026", "has_services": True}])
        self.assertIn("<table", wizard.preview)
        self.assertIn("<th>description</th>", wizard.preview)
        self.assertIn("<td>Lagerung Oktober; Halle \"B\"</td>", wizard.preview)
        self.assertNotIn("description;", wizard.preview)  # a table, not the raw CSV text
        export = self.Export.browse(wizard.action_send()["res_id"])
        self.assertEqual((export.partner_id, export.period_start), (self.customer, OCTOBER))
        self.assertEqual(self.Export.search_count([]), 1)
        # a second click: the wizard says nothing is left and offers no Send; a stale Send is a notification
        wizard2 = self.env[self.Wizard].with_context(**move.action_ib_easybill_export()["context"]).create({})
        self.assertFalse(wizard2.has_services)
        self.assertIn("Nothing left to export for Müller &amp; Söhne GmbH in October 2026", wizard2.preview)
        result = wizard.action_send()
        self.assertEqual((result["type"], result["tag"], result["params"]["type"]),
                         ("ir.actions.client", "display_notification", "warning"))
        self.assertIn("already in easybill", result["params"]["message"])
        self.assertEqual(self.Export.search_count([]), 1)

    def test_month_is_a_month_picker(self):
        fields_ = self.env[self.Wizard]._fields
        self.assertEqual((fields_["month"].type, fields_["year"].type), ("selection", "selection"))
        self.assertEqual(dict(fields_["month"].selection)["11"], "November")
        wizard = self.env[self.Wizard].create({"partner_id": self.customer.id})
        today = date.today()
        last = (today.replace(day=1) - timedelta(days=1))
        self.assertEqual((wizard.month, wizard.year), (str(last.month), str(last.year)))

    def test_invalid_csv_is_listed_and_can_still_be_sent(self):
        self.customer.country_id = False
        self.services()
        wizard = self.env[self.Wizard].create({"partner_id": self.customer.id, "month": "10", "year": "2026"})
        self.assertTrue(wizard.has_services)
        self.assertIn("would be invalid", wizard.preview)
        self.assertIn("country", wizard.preview)


class TestEasybillCron(EasybillCase):

    def test_cron_exports_previous_month_at_the_local_month_boundary(self):
        self.services(day="2026-10-31")
        self.services(day="2026-11-01", lines=[(self.service, 1, 1.0, "November")])
        self.company.ib_easybill_last_period = date(2026, 9, 1)
        # 22:30 UTC on Oct 31 is 23:30 in Berlin: October is not over there
        self.Export._cron_monthly_export(now=datetime(2026, 10, 31, 22, 30))
        self.assertFalse(self.Export.search([]))
        # 23:30 UTC is 00:30 on Nov 1 in Berlin: October is exported, November's service is not
        self.Export._cron_monthly_export(now=datetime(2026, 10, 31, 23, 30))
        export = self.Export.search([])
        self.assertEqual(export.period_start, OCTOBER)
        self.assertEqual(export.line_ids.description, "Lagerung Oktober; Halle \"B\"")
        self.assertEqual(self.company.ib_easybill_last_period, OCTOBER)
        self.Export._cron_monthly_export(now=datetime(2026, 11, 2, 8, 0))  # later runs of the month: nothing
        self.assertEqual(self.Export.search_count([]), 1)

    def test_cron_in_a_western_time_zone(self):
        self.company.partner_id.tz = "America/New_York"
        self.company.ib_easybill_last_period = date(2026, 9, 1)
        self.services(day="2026-10-31")
        self.Export._cron_monthly_export(now=datetime(2026, 11, 1, 3, 0))  # 23:00 on Oct 31 in New York
        self.assertFalse(self.Export.search([]))
        self.Export._cron_monthly_export(now=datetime(2026, 11, 1, 5, 0))  # 01:00 on Nov 1
        self.assertEqual(self.Export.search([]).period_start, OCTOBER)


class TestEasybillRateLimit(EasybillCase):

    def _customers(self, count):
        country = self.env.ref("base.de").id
        for i in range(count):
            partner = self.env["res.partner"].create({"name": f"Kunde {i}", "is_company": True, "ref": f"R-{i}",
                                                      "country_id": country})
            self.services(partner=partner)

    def _drain_until_done(self, exports, seconds=30):
        deadline = time.monotonic() + seconds
        while exports.filtered(lambda e: e.state == "sending") and time.monotonic() < deadline:
            self.drain()
            time.sleep(0.1)

    def test_429_from_easybill_pauses_and_keeps_within_its_limit(self):
        self.fake.rate_limit, self.fake.rate_window = 4, 1.5
        self._customers(3)  # 3 × 5 requests
        exports = self.Export._export_period(self.company, OCTOBER)
        self._drain_until_done(exports)
        self.assertEqual(set(exports.mapped("state")), {"done"})
        self.assertIn(429, [r["status"] for r in self.fake.requests])
        self.assertLessEqual(self.fake.max_in_window, 4)
        self.assertEqual(len(self.fake.documents), 3)
        target = self.env["invoice_bridge.outbox.target"].search([("name", "=", f"easybill:{self.company.id}")])
        self.assertTrue(target.paused_until)

    def test_own_rate_limit_is_never_exceeded(self):
        """The company's plan limit (scaled down to a 1.5 s window here) is kept without a single 429: the export
        uses 8 of the plan's 10 requests, the back-sync's reads (easybill_sync.py) the other 2."""
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.rate_window_seconds", "1.6")
        self.company.ib_easybill_rate_limit = "10"
        self.fake.rate_limit, self.fake.rate_window = 10, 1.5
        self._customers(4)  # 4 × 5 = 20 requests: at least two windows
        exports = self.Export._export_period(self.company, OCTOBER)
        self._drain_until_done(exports)
        self.assertEqual(set(exports.mapped("state")), {"done"})
        self.assertNotIn(429, [r["status"] for r in self.fake.requests])
        self.assertEqual(self.fake.max_in_window, 8)


class TestEasybillMultiCompany(EasybillCase):

    def test_companies_are_isolated(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        journal_b = self.env["account.journal"].create({"name": "EB B", "code": "EBB", "type": "sale",
                                                        "ib_easybill": True, "company_id": company_b.id})
        tax_b = self.env["account.tax"].create({"name": "19% B", "amount": 19, "type_tax_use": "sale",
                                                "company_id": company_b.id})
        company_b.write({"ib_easybill_enabled": True, "ib_easybill_url": self.fake.api_url,
                         "ib_easybill_api_key": "key-of-company-b"})
        self.services()
        self.env["account.move"].with_company(company_b).create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "journal_id": journal_b.id,
            "invoice_date": "2026-10-10", "date": "2026-10-10",
            "invoice_line_ids": [Command.create({"product_id": self.service.id, "quantity": 1, "price_unit": 5,
                                                 "tax_ids": [Command.set(tax_b.ids)]})]})
        export_a = self.export()
        self.assertEqual(export_a.line_ids.move_id.company_id, self.company)
        export_b = self.Export.with_company(company_b)._export_period(company_b, OCTOBER)
        self.drain()
        self.assertEqual(export_b.line_ids.move_id.company_id, company_b)
        # company B's key is not easybill's: its requests fail, company A's customer id is not reused
        self.assertEqual(export_b.state, "failed")
        self.assertIn("401", export_b.last_error)
        self.assertFalse(self.customer.with_company(company_b).ib_easybill_customer_id)
        self.assertTrue(self.customer.with_company(self.company).ib_easybill_customer_id)
        # a user of company A only sees company A's exports
        user = self.env["res.users"].create({
            "name": "A only", "login": "a_only", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            **user_groups(self.env, self.env.ref("account.group_account_invoice"))})
        self.assertEqual(self.Export.with_user(user).search([]), export_a)
        with self.assertRaises(AccessError):
            export_b.with_user(user).read(["name"])


class TestEasybillLateServices(EasybillCase):
    """#16.8: services of last month booked after the month's first automatic run are exported by a later one."""

    def test_late_services_are_exported_by_a_later_run(self):
        self.services(day="2026-10-10")
        self.Export._cron_monthly_export(now=datetime(2026, 10, 31, 23, 30))  # 00:30 on Nov 1 in Berlin
        first = self.Export.search([])
        self.assertEqual((first.period_start, first.supplement), (OCTOBER, 0))
        self.assertEqual(first.name, "2026-10 Müller & Söhne GmbH")
        late = self.services(day="2026-10-28", lines=[(self.service, 1, 20.0, "Nachtrag Oktober")])  # on Nov 3
        self.Export._cron_monthly_export(now=datetime(2026, 11, 3, 8, 0))
        supplement = self.Export.search([]) - first
        self.assertEqual(supplement.line_ids.move_line_id, late.invoice_line_ids)
        self.assertEqual((supplement.period_start, supplement.supplement), (OCTOBER, 1))
        self.assertEqual(supplement.name, "2026-10 Müller & Söhne GmbH (supplement 1)")
        self.Export._cron_monthly_export(now=datetime(2026, 11, 3, 9, 0))  # nothing new: nothing sent
        self.assertEqual(self.Export.search_count([]), 2)
        self.drain()
        self.assertEqual(set((first | supplement).mapped("state")), {"done"})
        self.assertIn("(supplement 1)", self.fake.documents[int(supplement.easybill_document_id)]["title"])
        self.assertEqual(len(self.fake.customers), 1, "both exports were sent at once: one customer in easybill")

    def test_an_empty_first_run_does_not_close_the_month(self):
        self.Export._cron_monthly_export(now=datetime(2026, 10, 31, 23, 30))
        self.assertFalse(self.Export.search([]))
        self.assertFalse(self.company.ib_easybill_last_period)
        self.services(day="2026-10-20")  # booked on Nov 1 in the morning
        self.Export._cron_monthly_export(now=datetime(2026, 11, 1, 9, 0))
        export = self.Export.search([])
        self.assertEqual((export.period_start, export.supplement), (OCTOBER, 0))
        self.assertEqual(self.company.ib_easybill_last_period, OCTOBER)


class TestEasybillRetry(EasybillCase):
    """#16.7: 409 (locked) is retried later; #16.10: one Retry for an export, wherever it is pressed."""

    def logs(self, export):
        return self.env["invoice_bridge.sync.log"].search(
            [("res_model", "=", self.Export._name), ("res_id", "=", export.id)], order="id")

    def test_409_locked_is_retried_later_then_succeeds(self):
        self.company.ib_easybill_auto_finalize = True
        self.services()
        self.fake.fail_next("PUT", r"/documents/\d+/done$", status=409,
                            body={"code": 409, "message": "Resource is locked"})
        export = self.export()
        self.assertRecordValues(export, [{"state": "done", "finalized": True}])
        finalize = [(log.state, log.http_status) for log in self.logs(export) if log.http_method == "PUT"
                    and log.endpoint.endswith("/done")]
        self.assertEqual(finalize, [("retrying", 409), ("success", 200)])
        retrying = self.logs(export).filtered(lambda log: log.state == "retrying")
        self.assertIn("Finalise the invoice", retrying.message)
        self.assertIn("Resource is locked", retrying.message)
        self.assertIn("nothing to do", retrying.hint)
        self.assertFalse(self.fake.documents[int(export.easybill_document_id)]["is_draft"])

    def test_409_waits_while_the_lock_lasts(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,1h")
        self.company.ib_easybill_auto_finalize = True
        self.services()
        self.fake.fail_next("PUT", r"/documents/\d+/done$", status=409, body={"code": 409, "message": "locked"})
        export = self.export()
        msg = export.outbox_ids.filtered(lambda m: m.easybill_step == "document_finalize")
        self.assertEqual((export.state, msg.state, msg.status), ("sending", "pending", "retrying"))
        self.assertFalse(export.last_error)

    def test_retry_on_the_sync_log_line_retries_the_export(self):
        self.services()
        self.fake.fail_next("POST", "/documents$", status=422, body={"code": 422, "message": "Kunde gesperrt"})
        export = self.export()
        self.assertEqual(export.state, "failed")
        failed = self.logs(export).filtered(lambda log: log.state == "failed")
        self.assertTrue(failed.retryable)
        self.assertFalse((self.logs(export) - failed).filtered("retryable"), "one Retry: the latest line only")
        result = failed.action_retry()
        self.assertEqual(result["tag"], "display_notification")
        self.assertRecordValues(export, [{"state": "sending", "last_error": False}])
        self.drain()
        self.assertEqual(export.state, "done")
        self.assertFalse(self.logs(export).filtered("retryable"))

    def test_retry_of_the_request_is_the_retry_of_the_export(self):
        self.services()
        self.fake.fail_next("POST", "/documents$", status=422, body={"code": 422, "message": "Kunde gesperrt"})
        export = self.export()
        export.outbox_ids.filtered(lambda m: m.state == "failed").action_retry()
        self.assertEqual(export.state, "sending")
        self.drain()
        self.assertEqual(export.state, "done")

    def test_retry_on_a_line_without_request_rebuilds_the_csv(self):
        self.customer.country_id = False
        self.services()
        export = self.export()
        log = self.logs(export)
        self.assertEqual((log.state, log.retryable), ("failed", True))
        self.customer.country_id = self.env.ref("base.de")
        log.action_retry()
        self.drain()
        self.assertEqual(export.state, "done")


class TestEasybillNames(EasybillCase):
    """#16.11/#16.12: deliveries, connections and steps in words, not ``easybill:1`` or ``customer_find``."""

    def test_deliveries_and_connections_in_words(self):
        self.services()
        export = self.export()
        msgs = export.outbox_ids.sorted("id")
        self.assertEqual(msgs[0].name, "easybill: draft invoice for Müller & Söhne GmbH (October 2026) · "
                                       "Find the customer")
        self.assertEqual(msgs.mapped("target_label"), [f"easybill account of {self.company.name}"] * len(msgs))
        target = self.env["invoice_bridge.outbox.target"].search([("name", "=", f"easybill:{self.company.id}")])
        self.assertEqual(target.display_name, f"easybill account of {self.company.name}")
        logs = self.env["invoice_bridge.sync.log"].search([("res_model", "=", self.Export._name)])
        texts = [*msgs.mapped("name"), *logs.mapped("message"), *logs.mapped("summary")]
        self.assertFalse([t for t in texts if "easybill:" in t.replace("easybill: draft", "")])
        codes = [code for code, _label in self.env["invoice_bridge.outbox"]._fields["easybill_step"].selection]
        self.assertFalse([(t, c) for t in texts for c in codes if c in t], "no step code on a screen")
        self.assertIn("Attach the CSV: HTTP 200", logs.mapped("message")[0])  # the newest line: the link

    def test_supplement_names(self):
        self.services()
        self.export()
        self.services(lines=[(self.service, 1, 5.0, "Nachtrag")])
        supplement = self.export()
        self.assertEqual(supplement.name, "2026-10 Müller & Söhne GmbH (supplement 1)")
        self.assertIn("(October 2026, supplement 1)", supplement.outbox_ids[:1].name)
