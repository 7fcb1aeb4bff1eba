"""#18 item 6: easybill tells Odoo what became of each draft (the back-sync) and item 8 (the pivot's numbers).

The accountant's work in easybill is driven through the fake (finalise, e-mail, pay, cancel, delete), each change
checked against the swagger; Odoo learns it from the polling cron and from easybill's webhooks, over real HTTP.
"""
import contextlib
import json
import time
from urllib.parse import parse_qs, urlsplit

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from .core_common import user_groups
from .test_easybill import EasybillCase


class EasybillSyncCase(EasybillCase):

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.rate_window_seconds", "0.2")

    def exported(self, partner=None):
        self.services(partner=partner)
        export = self.export(partners=partner)
        self.drain_all()
        self.assertEqual(export.state, "done")
        return export

    def poll(self):
        """The polling cron, then the engine until nothing is due."""
        self.Export._cron_easybill_sync()
        self.drain_all()

    def drain_all(self, seconds=20):
        deadline = time.monotonic() + seconds
        outbox = self.env["invoice_bridge.outbox"].sudo()
        while time.monotonic() < deadline:
            self.drain()
            if not outbox.search_count([("channel", "=", "easybill"), ("state", "=", "pending")]):
                return
            time.sleep(0.05)
        self.fail("easybill messages still pending")

    def notes(self, export):
        return [m.body for m in export.message_ids if "→" in (m.body or "")]

    def sync_calls(self):
        return [(m, p) for m, p in self.calls() if m == "GET" and not p.startswith("/customers")]


@tagged("post_install", "-at_install")
class TestEasybillBackSync(EasybillSyncCase):

    def test_finalised_sent_paid_read_back_with_number_pdf_and_notes(self):
        export = self.exported()
        self.assertEqual(export.easybill_state, "draft")
        document_id = int(export.easybill_document_id)
        self.poll()
        self.assertEqual(export.easybill_state, "draft", "nothing changed in easybill")
        self.assertFalse(export.easybill_pdf_id)

        final = self.fake.complete(document_id)
        self.poll()
        self.assertRecordValues(export, [{
            "easybill_state": "final", "easybill_number": final["number"], "finalized": True,
            "easybill_amount": final["amount"] / 100, "easybill_open_amount": final["amount"] / 100}])
        self.assertEqual(str(export.easybill_date), final["document_date"])
        self.assertTrue(export.easybill_pdf_id.raw.startswith(b"%PDF"))
        self.assertIn(final["number"].encode(), export.easybill_pdf_id.raw)
        self.assertIn("→", self.notes(export)[0])

        self.fake.send_by_email(document_id)
        self.poll()
        self.assertRecordValues(export, [{"easybill_state": "sent", "easybill_sent": True}])

        half = final["amount"] // 2
        self.fake.add_payment(document_id, half)
        self.poll()
        self.assertRecordValues(export, [{"easybill_state": "partial", "easybill_paid_amount": half / 100,
                                          "easybill_open_amount": (final["amount"] - half) / 100}])
        self.fake.add_payment(document_id, day="2026-11-20")
        self.poll()
        self.assertRecordValues(export, [{"easybill_state": "paid", "easybill_open_amount": 0.0,
                                          "easybill_paid_amount": final["amount"] / 100}])
        self.assertEqual(str(export.easybill_paid_at), "2026-11-20")
        # one note per change of state (draft → final → sent → partial → paid), the PDF attached once
        self.assertEqual(len(self.notes(export)), 4)
        self.assertEqual(len(self.env["ir.attachment"].search([("res_model", "=", self.Export._name),
                                                               ("res_id", "=", export.id),
                                                               ("mimetype", "=", "application/pdf")])), 1)
        self.assertEqual([p for m, p in self.calls()].count(f"/documents/{document_id}/pdf"), 1)
        # every read went to the back-sync's own target, and is in the sync log
        logs = self.env["invoice_bridge.sync.log"].search([("channel", "=", "easybill"),
                                                          ("http_method", "=", "GET"),
                                                          ("endpoint", "like", "edited_at")])
        self.assertTrue(logs)
        self.assertEqual(set(logs.outbox_id.mapped("target")), {f"easybill-sync:{self.company.id}"})

    def test_the_state_follows_the_swagger_fields_not_status(self):
        """The swagger's ``status`` belongs to other document types: an invoice's state never comes from it."""
        export = self.exported()
        document_id = int(export.easybill_document_id)
        self.fake.complete(document_id)
        with self.fake._lock:
            self.fake._documents[document_id]["status"] = "DONE"  # what a delivery note would say
        self.poll()
        self.assertEqual(export.easybill_state, "final")

    def test_deleted_draft_and_cancelled_invoice(self):
        deleted, cancelled = self.exported(), self.exported(partner=self.env["res.partner"].create({
            "name": "Zweite GmbH", "is_company": True, "country_id": self.env.ref("base.de").id}))
        self.fake.delete(int(deleted.easybill_document_id))
        self.fake.complete(int(cancelled.easybill_document_id))
        self.poll()
        self.assertEqual(deleted.easybill_state, "deleted", "missing from the open drafts, then 404")
        self.assertIn(("GET", f"/documents/{deleted.easybill_document_id}"), self.calls())
        self.fake.cancel(int(cancelled.easybill_document_id))
        self.poll()
        self.assertEqual(cancelled.easybill_state, "cancelled")
        self.assertEqual(cancelled.easybill_open_amount, 0.0)
        # closed: nothing of them is read any more
        self.fake.reset()
        self.poll()
        self.assertFalse(self.fake.requests)

    def test_pages_of_edited_invoices(self):
        exports = [self.exported(partner=self.env["res.partner"].create({
            "name": f"Kunde {i}", "is_company": True, "country_id": self.env.ref("base.de").id}))
            for i in range(3)]
        for export in exports:
            self.fake.complete(int(export.easybill_document_id))
        # easybill's pages of 1000, scaled down to 2 here: the second page is read too
        self.patch(type(self.Export), "_easybill_page_size", 2)
        self.poll()
        self.assertEqual({e.easybill_state for e in exports}, {"final"})
        pages = [parse_qs(urlsplit(r["path"] + "?" + "&".join(f"{k}={v[0]}" for k, v in r["query"].items())).query)
                 for r in self.fake.requests if "edited_at" in r["query"]]
        self.assertEqual([(p["page"], p["limit"]) for p in pages], [(["1"], ["2"]), (["2"], ["2"])])

    def test_refresh_button_and_link(self):
        export = self.exported()
        self.fake.complete(int(export.easybill_document_id))
        export.action_easybill_refresh()
        self.drain_all()
        self.assertEqual(export.easybill_state, "final")
        self.assertEqual(export.easybill_url, f"https://www.easybill.de/app/documents/{export.easybill_document_id}")
        self.company.ib_easybill_document_url = "https://acme.easybill.de/documents/{id}?n={number}"
        export.invalidate_recordset(["easybill_url"])
        self.assertEqual(export.easybill_url, f"https://acme.easybill.de/documents/{export.easybill_document_id}"
                                              f"?n={export.easybill_number}")
        self.assertEqual(export.action_open_easybill()["url"], export.easybill_url)
        with self.assertRaises(ValidationError):
            self.company.ib_easybill_document_url = "https://acme.easybill.de/documents/"  # no {id}
        internal = self.env["res.users"].create({"name": "No bridge", "login": "nobridge_sync",
                                                 **user_groups(self.env, self.env.ref("base.group_user"))})
        with self.assertRaises(AccessError):
            export.with_user(internal).action_easybill_refresh()

    def test_budget_20_percent_of_the_plan(self):
        """The back-sync's reads keep within 20 % of the plan (2 of 10 a minute), the export the rest (8)."""
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.rate_window_seconds", "1.6")
        self.company.ib_easybill_rate_limit = "10"
        self.fake.rate_window = 1.5
        exports = [self.exported(partner=self.env["res.partner"].create({
            "name": f"Kunde {i}", "is_company": True, "country_id": self.env.ref("base.de").id}))
            for i in range(3)]
        for export in exports:
            self.fake.delete(int(export.easybill_document_id))  # each is then read by itself: 1 + 1 + 3 reads
        self.fake.reset()
        self.poll()
        self.assertEqual({e.easybill_state for e in exports}, {"deleted"})
        self.assertEqual(len(self.fake.requests), 5)
        self.assertLessEqual(self.fake.max_in_window, 2)
        targets = self.env["invoice_bridge.outbox.target"].search([("name", "like", f"%:{self.company.id}")])
        self.assertEqual({t.name: t.rate_limit for t in targets},
                         {f"easybill:{self.company.id}": 8, f"easybill-sync:{self.company.id}": 2})

    def test_pivot_per_month(self):
        """#18 item 8: per month, exported customers, documents done, paid amount, still open."""
        first, second = self.exported(), self.exported(partner=self.env["res.partner"].create({
            "name": "Zweite GmbH", "is_company": True, "country_id": self.env.ref("base.de").id}))
        late = self.services(day="2026-10-30")  # a supplement of the same customer: not a second customer
        supplement = self.export()
        self.assertEqual(supplement.supplement, 1)
        self.assertTrue(late)
        paid = self.fake.complete(int(first.easybill_document_id))
        self.fake.add_payment(int(first.easybill_document_id))
        open_ = self.fake.complete(int(second.easybill_document_id))
        self.poll()
        groups = self.Export.read_group([("company_id", "=", self.company.id)],
                                        ["customer_count:sum", "done_count:sum", "easybill_paid_amount:sum",
                                         "easybill_open_amount:sum"], ["period_start:month"])
        self.assertEqual(len(groups), 1)
        self.assertEqual(groups[0]["customer_count"], 2)
        self.assertEqual(groups[0]["done_count"], 2, "the supplement is still a draft")
        self.assertAlmostEqual(groups[0]["easybill_paid_amount"], paid["amount"] / 100)
        self.assertAlmostEqual(groups[0]["easybill_open_amount"], open_["amount"] / 100)
        view = self.env.ref("invoice_bridge.easybill_export_view_pivot")
        self.assertIn("pivot", self.env.ref("invoice_bridge.easybill_export_action").view_mode)
        self.assertEqual(view.type, "pivot")


@tagged("post_install", "-at_install")
class TestEasybillWebhooks(EasybillSyncCase, HttpCase):

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())

    def outside_callers(self):
        """Let a caller that is not the test's browser or opener reach the server (easybill calling the webhook):
        Odoo 19's test server ignores requests without its test cookie unless told; 18 answers them all."""
        if hasattr(self, "allow_requests"):
            return self.allow_requests(all_requests=True)
        return contextlib.nullcontext()

    def register(self):
        self.company.with_user(self.env.ref("base.user_admin")).sudo(False).with_context(
            allowed_company_ids=self.company.ids).action_ib_easybill_register_webhook()
        self.drain_all()
        (webhook,) = self.fake.webhooks.values()
        return webhook

    def test_registered_with_own_secret_at_an_unguessable_url(self):
        webhook = self.register()
        self.assertEqual(self.company.ib_easybill_webhook_id, str(webhook["id"]))
        path = urlsplit(webhook["url"]).path
        prefix = f"/invoice_bridge/easybill/webhook/{self.company.id}/"
        self.assertTrue(path.startswith(prefix))
        token = path.removeprefix(prefix)
        self.assertGreaterEqual(len(token), 64)
        self.assertTrue(webhook["is_active"])
        self.assertEqual(webhook["content_type"], "json")
        self.assertIn("document.completed", webhook["events"])
        self.assertGreaterEqual(len(webhook["secret"]), 64)
        self.assertNotEqual(webhook["secret"], token)
        # neither the token nor the secret is stored, nor in the sync log
        self.assertNotIn(token, json.dumps(self.company.sudo().read()[0], default=str))
        for log in self.env["invoice_bridge.sync.log"].search([("channel", "=", "easybill")]):
            text = " ".join(str(log[f] or "") for f in ("endpoint", "request_headers", "request_body",
                                                        "response_body", "message", "error"))
            self.assertNotIn(token, text)
            self.assertNotIn(webhook["secret"], text)
        # registering again updates the same webhook with a new token: the old URL stops working
        again = self.register()
        self.assertEqual(again["id"], webhook["id"])
        self.assertNotEqual(again["url"], webhook["url"])
        self.assertEqual(self.url_open(webhook["url"], data=b"{}").status_code, 404)
        # only administrators register
        billing = self.env["res.users"].create({
            "name": "Billing", "login": "billing_eb_sync", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            **user_groups(self.env, self.env.ref("account.group_account_manager"))})
        with self.assertRaises(AccessError):
            self.company.with_user(billing).action_ib_easybill_register_webhook()
        # a neutralized copy of the database: its webhook URL answers nothing
        for query in neutralize.get_neutralization_queries(["invoice_bridge"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.company.sudo().ib_easybill_webhook_nonce)
        self.assertEqual(self.url_open(again["url"], data=b"{}").status_code, 404)

    def test_webhook_wakes_a_read_back_and_its_body_is_not_trusted(self):
        export = self.exported()
        webhook = self.register()
        document_id = int(export.easybill_document_id)
        with self.outside_callers():
            final = self.fake.complete(document_id)  # easybill calls Odoo over HTTP
        self.assertEqual([(c["event"], c["status"]) for c in self.fake.webhook_calls],
                         [("document.completed", 204)])
        self.drain_all()
        self.assertEqual(export.easybill_state, "final")
        self.assertEqual(export.easybill_number, final["number"])
        # a body claiming a payment changes nothing: the state is read back through the API
        body = json.dumps({"event": "document.payment_add",
                           "data": {"id": document_id, "paid_amount": final["amount"], "paid_at": "2026-11-01"}})
        response = self.url_open(webhook["url"], data=body.encode(), headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 204)
        self.drain_all()
        self.assertEqual(export.easybill_state, "final")
        self.assertEqual(export.easybill_paid_amount, 0.0)
        # a wrong token, another company's id: 404, nothing queued, counted as refused
        outbox = self.env["invoice_bridge.outbox"].sudo()
        before = outbox.search_count([])
        token = urlsplit(webhook["url"]).path.rsplit("/", 1)[1]
        for path in (f"/invoice_bridge/easybill/webhook/{self.company.id}/{'0' * len(token)}",
                     f"/invoice_bridge/easybill/webhook/{self.company.id + 999}/{token}"):
            self.assertEqual(self.url_open(path, data=b"{}").status_code, 404)
        self.assertEqual(outbox.search_count([]), before)
        self.assertTrue(self.env["invoice_bridge.refused.request"].sudo().search(
            [("route", "=", "/invoice_bridge/easybill/webhook/<company>/<token>")]))
        self.assertEqual(self.url_open(webhook["url"]).status_code, 405, "POST only")


    def test_a_company_s_webhook_never_wakes_another_company(self):
        """Two companies with easybill: each URL's token is derived from its own company, so one company's token
        under the other's id is refused, and a company's webhook reads back that company's exports only."""
        self.exported()
        url_a = urlsplit(self.register()["url"]).path
        company_b = self.setup_other_company(name="easybill company B")["company"]
        company_b.sudo().write({"ib_easybill_enabled": True, "ib_easybill_url": self.fake.api_url,
                                "ib_easybill_api_key": "b-" + "k" * 30, "ib_easybill_webhook_nonce": "nonce-of-b"})
        url_b = urlsplit(company_b._ib_easybill_webhook_url()).path
        token_a, token_b = url_a.rsplit("/", 1)[1], url_b.rsplit("/", 1)[1]
        self.assertNotEqual(token_a, token_b)
        outbox = self.env["invoice_bridge.outbox"].sudo()
        before = outbox.search_count([])
        for path in (f"/invoice_bridge/easybill/webhook/{company_b.id}/{token_a}",
                     f"/invoice_bridge/easybill/webhook/{self.company.id}/{token_b}"):
            self.assertEqual(self.url_open(path, data=b"{}").status_code, 404, path)
        self.assertEqual(self.url_open(url_b, data=b"{}").status_code, 204)
        self.assertEqual(outbox.search_count([]), before, "company B has nothing to read back, A is not woken")
        line = self.env["invoice_bridge.sync.log"].sudo().search(
            [("channel", "=", "easybill"), ("direction", "=", "inbound")], order="id desc", limit=1)
        self.assertEqual((line.company_id, line.message),
                         (company_b, "easybill webhook: no export to read back"))
        self.assertEqual(self.url_open(url_a, data=b"{}").status_code, 204)
        woken = outbox.search([("channel", "=", "easybill")], order="id desc", limit=1)
        self.assertGreater(outbox.search_count([]), before)
        self.assertEqual(woken.company_id, self.company)
