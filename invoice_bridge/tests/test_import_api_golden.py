"""What the import API sends and answers, byte for byte, vs the files in ``golden/`` (``core_golden.py``).

Recorded before the layout change (#13); a later change of these bytes says why in the README's changelog.
"""
import json

from odoo import Command
from odoo.tests import tagged

from . import core_golden as golden
from .test_import_api import IMPORT, SAMPLE, SAMPLE_AS_PRINTED, UPDATE, ImportApiCase


@tagged("post_install", "-at_install")
class TestGoldenImportApi(ImportApiCase):

    def answer(self, answers, method, path, body=None, key=None, headers=None):
        response = self.request(path, body, key=key, method=method, headers=headers)
        answers.append(golden.answer_record(method, path, response.status_code, response.headers,
                                            response.content))
        return response

    def test_import_api_answers(self):
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "ERP", "url": "http://127.0.0.1:9/hook", "company_id": self.company.id})
        answers = []
        self.answer(answers, "POST", IMPORT, SAMPLE)
        self.answer(answers, "POST", IMPORT, SAMPLE)
        self.answer(answers, "POST", IMPORT, SAMPLE_AS_PRINTED)
        self.answer(answers, "POST", IMPORT, b"[1, 2]")
        self.answer(answers, "POST", IMPORT, b"")
        bad = json.loads(SAMPLE)
        bad.update(invoice_no="LTPI-2", invoice_date="2025-02-30", due_date="2024-01-01", priority="SOON")
        bad["customer"].update(email="not-an-address", code="")
        bad["items"][0].update(quantity=0, mrp="-1", discount=101, taxes=["No such tax", 5])
        self.answer(answers, "POST", IMPORT, bad)
        unknown_tax = json.loads(SAMPLE)
        unknown_tax.update(invoice_no="LTPI-3", currency="XYZ")
        unknown_tax["items"][0]["taxes"] = ["No such tax"]
        self.answer(answers, "POST", IMPORT, unknown_tax)
        self.answer(answers, "POST", IMPORT, SAMPLE, key=False)
        self.answer(answers, "POST", IMPORT, SAMPLE, key="ibk_not-a-key")
        self.answer(answers, "POST", IMPORT, SAMPLE, key=False, headers={"Authorization": "Bearer nope"})
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
