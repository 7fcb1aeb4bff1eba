import base64
import json
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from .common import WebhookCase


@tagged("post_install", "-at_install")
class TestWebhookPdf(WebhookCase, HttpCase):

    def test_pdf_url_serves_the_legal_pdf_anonymously(self):
        move = self.make_invoice()
        self.assertFalse(move.invoice_pdf_report_id, "not rendered in the posting transaction")
        # the drain renders the legal PDF before sending (reports render as HTML in tests unless forced)
        self.Outbox.with_context(force_report_rendering=True)._drain(autocommit=False, short_wait=0)
        self.assertTrue(move.invoice_pdf_report_id)
        self.assertEqual(self.messages_for(move).state, "done")
        url = urlsplit(json.loads(self.messages_for(move).payload)["operations"][3]["payload"]["pdf_url"])
        self.assertIn("access_token=", url.query)
        response = self.url_open(f"{url.path}?{url.query}")  # no session: an anonymous receiver
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"%PDF-"))
        self.assertEqual(response.content, base64.b64decode(move.invoice_pdf_report_id.datas),
                         "the stored legal PDF, not a pro-forma")
        # without the token the invoice is not served
        anonymous = self.url_open(url.path, allow_redirects=False)
        self.assertNotEqual(anonymous.content[:5], b"%PDF-")

    def test_pdf_failure_retries_that_message_only(self):
        broken = self.env["ir.actions.report"].create({
            "name": "Broken invoice layout", "model": "account.move", "report_type": "qweb-pdf",
            "report_name": "invoice_bridge.no_such_template"})
        self.partner_a.invoice_template_pdf_report_id = broken
        move = self.make_invoice()
        fine = self.make_invoice(partner=self.partner_b)  # same batch, another layout: rendered on its own
        self.endpoint.action_send_test_event()
        self.Outbox.with_context(force_report_rendering=True)._drain(autocommit=False, short_wait=0)
        self.assertTrue(fine.invoice_pdf_report_id)
        self.assertEqual(self.messages_for(fine).state, "done")
        msg = self.messages_for(move)
        self.assertEqual(msg.state, "pending", "retried later")
        self.assertIn("PDF could not be rendered", msg.last_error)
        self.assertFalse(move.invoice_pdf_report_id)
        self.assertEqual(sorted(d["json"]["event"] for d in self.receiver.deliveries), ["new_invoice", "test"],
                         "the rest of the batch is delivered")
        log = self.Log.search([("outbox_id", "=", msg.id)])
        self.assertIn("PDF report", log.hint)
