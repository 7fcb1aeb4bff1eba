"""What the addon sends and answers, byte for byte, against the files in ``golden/`` (see ``golden.py``).

One scenario per channel walks every kind of body it produces: the webhook events, the easybill requests and
CSV, the IAP Extract calls of both generations, the import API's answers, its event-stream payloads and the
webhook bodies of its events.
"""
import base64
import json
from pathlib import Path

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from ..lib.transport import Transport
from . import golden
from .common import WebhookCase
from .test_easybill import EasybillCase
from .test_iap_extract import IapExtractCase
from .test_import_api import IMPORT, SAMPLE_AS_PRINTED, UPDATE, ImportApiCase

SAMPLE_IMPORT = (Path(__file__).resolve().parents[2] / "tests" / "data" / "seed002_sample.json").read_bytes()


@tagged("post_install", "-at_install")
class TestGoldenWebhooks(WebhookCase):

    def test_webhook_bodies(self):
        self.env.company.write({"ib_reminder_days_after_due": 1, "ib_reminder_interval_days": 7})
        with golden.recording_transport(Transport) as sent:
            move = self.make_invoice(lines=2, post=False)
            self.env["ir.attachment"].create({"name": "delivery-note.txt", "raw": b"delivered",
                                              "res_model": "account.move", "res_id": move.id})
            move.action_post()
            self.drain()
            self.pay(move, 50.0)
            self.drain()
            self.pay(move, move.amount_residual)
            self.drain()
            other = self.make_invoice()
            self.drain()
            other.button_draft()
            self.drain()
            other.action_post()
            self.drain()
            other.button_cancel()
            self.drain()
            overdue = self.make_invoice(invoice_date_due="2026-10-20", invoice_payment_term_id=False)
            self.drain()
            with freeze_time("2026-11-02"):
                self.env["account.move"]._ib_cron_payment_reminders()
            self.drain()
            self.endpoint.action_send_test_event()
            self.drain()
        self.assertEqual(len(sent), 10)
        golden.check(self, "webhook_requests", sent)
        action = overdue.action_ib_preview_webhook()
        preview = self.env[action["res_model"]].browse(action["res_id"])
        golden.check(self, "webhook_preview", [golden.body_record(preview.payload)])


@tagged("post_install", "-at_install")
class TestGoldenEasybill(EasybillCase):

    def test_easybill_requests_and_csv(self):
        self.company.ib_easybill_auto_finalize = True
        self.services(lines=[(self.service, 2, 12.5, "Lagerung Oktober; Halle \"B\""),
                             (self.fee, 1, 30.0, "Storno 12.10.")])
        self.services(move_type="out_refund", lines=[(self.service, 1, 12.5, "Gutschrift Lagerung")])
        with golden.recording_transport(Transport) as sent:
            export = self.export()
        self.assertEqual(export.state, "done")
        csv_text = base64.b64decode(export.csv_attachment_id.datas)
        golden.check(self, "easybill_requests", sent)
        golden.check(self, "easybill_csv", [golden.body_record(csv_text)])

    def test_easybill_lost_answer_and_known_customer(self):
        self.customer.ref = "K-1001"
        self.services()
        # the document is created, the answer lost; then easybill refuses the first link (a 422 ends the export)
        self.fake.fail_next("POST", r"/documents$", status=502, execute=True)
        with golden.recording_transport(Transport) as sent:
            export = self.export()
            self.drain()
            self.fake.fail_next("PUT", "/attachments/", status=422, body={"code": 422, "message": "gesperrt"})
            self.services(day="2026-10-20")
            supplement = self.export()
        self.assertEqual(export.state, "done")
        self.assertEqual(supplement.state, "failed")
        golden.check(self, "easybill_lost_answer", sent)


@tagged("post_install", "-at_install")
class TestGoldenIapExtract(IapExtractCase):

    def _walk(self):
        with golden.recording_transport(Transport) as sent:
            move = self.digitize_and_fetch(self.bill())
            move.action_post()
            self.env["account.move"]._ib_cron_extract_validate()
        return move, sent

    def test_generation_1(self):
        move, sent = self._walk()
        self.assertEqual(move.ib_extract_validation, "validated")
        golden.check(self, "iap_extract_generation_1", sent)

    def test_generation_2(self):
        self.env.company.ib_extract_generation = "2"
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://127.0.0.1:9")
        self.fake.set_not_ready_polls(0)
        with golden.recording_transport(Transport) as sent:
            move = self.bill()
            move.action_ib_digitize()
            move.action_ib_extract_refresh()
            move.action_post()
            self.env["account.move"]._ib_cron_extract_validate()
        self.assertEqual(move.ib_extract_validation, "validated")
        golden.check(self, "iap_extract_generation_2", sent)


@tagged("post_install", "-at_install")
class TestGoldenImportApi(ImportApiCase):

    def answer(self, answers, method, path, body=None, key=None, headers=None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key is not False:
            headers.setdefault("X-API-KEY", key or self.key)
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        response = self.opener.request(method, self.base_url() + path, data=body, headers=headers, timeout=30)
        answers.append(golden.answer_record(method, path, response.status_code, response.headers,
                                            response.content))
        return response

    def test_import_api_answers(self):
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "ERP", "url": "http://127.0.0.1:9/hook", "company_id": self.company.id})
        answers = []
        self.answer(answers, "POST", IMPORT, SAMPLE_IMPORT)
        self.answer(answers, "POST", IMPORT, SAMPLE_IMPORT)
        self.answer(answers, "POST", IMPORT, SAMPLE_AS_PRINTED)
        self.answer(answers, "POST", IMPORT, b"[1, 2]")
        self.answer(answers, "POST", IMPORT, b"")
        bad = json.loads(SAMPLE_IMPORT)
        bad.update(invoice_no="LTPI-2", invoice_date="2025-02-30", due_date="2024-01-01", priority="SOON")
        bad["customer"].update(email="not-an-address", code="")
        bad["items"][0].update(quantity=0, mrp="-1", discount=101, taxes=["No such tax", 5])
        self.answer(answers, "POST", IMPORT, bad)
        unknown_tax = json.loads(SAMPLE_IMPORT)
        unknown_tax.update(invoice_no="LTPI-3", currency="XYZ")
        unknown_tax["items"][0]["taxes"] = ["No such tax"]
        self.answer(answers, "POST", IMPORT, unknown_tax)
        self.answer(answers, "POST", IMPORT, SAMPLE_IMPORT, key=False)
        self.answer(answers, "POST", IMPORT, SAMPLE_IMPORT, key="ibk_not-a-key")
        self.answer(answers, "POST", IMPORT, SAMPLE_IMPORT, key=False, headers={"Authorization": "Bearer nope"})
        self.answer(answers, "POST", IMPORT, b"x" * 1_000_001)
        correction = {"invoice_no": "LTPI-77282", "resolution_notes": "Batch added, MRP fixed",
                      "items": [{"item_code": "PR650", "batch_no": "B456"},
                                {"item_code": "OTN10", "mrp": 88.0},
                                {"item_code": "NEW1", "name": "Vitamin C", "quantity": 2, "mrp": 10}]}
        self.answer(answers, "PATCH", UPDATE, correction)
        self.answer(answers, "PATCH", UPDATE, {"invoice_no": "NOPE", "items": []})
        self.answer(answers, "PATCH", UPDATE, {"invoice_no": "LTPI-77282", "items": [{"quantity": 1}]})
        move = self.imported()
        wizard = self.env["invoice_bridge.return.wizard"].create(
            {"move_ids": [Command.set(move.ids)], "reason": "PR650 batch missing"})
        wizard.action_return()
        self.answer(answers, "PATCH", UPDATE, correction)
        move.action_ib_approve()
        self.answer(answers, "PATCH", UPDATE, correction)
        self.answer(answers, "GET", "/api/sales/openapi.json", key=False)
        golden.check(self, "import_api_answers", answers)
        events = self.env["invoice_bridge.api.event"].search([], order="id")
        golden.check(self, "import_api_events", [
            {"event": event.event, "data": golden.normalize(json.loads(event.payload))} for event in events])
        self.env.cr.flush()  # the commit's pre-commit hook writes the webhook events
        messages = self.env["invoice_bridge.outbox"].search([("webhook_endpoint_id", "=", endpoint.id)], order="id")
        golden.check(self, "import_api_webhook_bodies", [golden.body_record(m.payload) for m in messages])
