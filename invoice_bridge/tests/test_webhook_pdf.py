import base64
import json
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from .core_common import WebhookCase


@tagged("post_install", "-at_install")
class TestWebhookPdf(WebhookCase, HttpCase):
    """Real PDF rendering (reports render as HTML in tests unless ``force_report_rendering``)."""

    def pdf_url(self, move):
        url = urlsplit(json.loads(self.messages_for(move).payload)["operations"][3]["payload"]["pdf_url"])
        self.assertIn("access_token=", url.query)
        return url

    def test_pdf_url_serves_the_legal_pdf_anonymously(self):
        move = self.make_invoice()
        self.drain()
        self.assertEqual(self.messages_for(move).state, "done")
        self.assertFalse(move.invoice_pdf_report_id, "rendered outside the posting transaction, after sending")
        self.env["account.move"].with_context(force_report_rendering=True)._ib_cron_render_invoice_pdfs()
        self.assertTrue(move.invoice_pdf_report_id)
        url = self.pdf_url(move)
        response = self.url_open(f"{url.path}?{url.query}")  # no session: an anonymous receiver
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"%PDF-"))
        self.assertEqual(response.content, base64.b64decode(move.invoice_pdf_report_id.datas),
                         "the stored legal PDF, not a pro-forma")
        # without the token the invoice is not served
        anonymous = self.url_open(url.path, allow_redirects=False)
        self.assertNotEqual(anonymous.content[:5], b"%PDF-")

    def test_attachment_urls_work_without_login(self):
        move = self.make_invoice(post=False)
        self.env["ir.attachment"].create({"name": "delivery-note.txt", "raw": b"signed delivery note",
                                          "res_model": "account.move", "res_id": move.id})
        move.action_post()
        [attachment] = json.loads(self.messages_for(move).payload)["operations"][0]["payload"]["invoice"][
            "attachments"]
        self.assertEqual((attachment["name"], attachment["file_size"]), ("delivery-note.txt", 20))
        url = urlsplit(attachment["url"])
        self.assertIn("access_token=", url.query)
        response = self.url_open(f"{url.path}?{url.query}")  # anonymous
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"signed delivery note")
        self.assertNotEqual(self.url_open(url.path).content, b"signed delivery note", "the token is needed")

    def test_receiver_faster_than_the_cron_gets_the_legal_pdf(self):
        move = self.make_invoice()
        self.drain()
        self.assertFalse(move.invoice_pdf_report_id)
        docs = move.with_context(force_report_rendering=True)._get_invoice_legal_documents_all(allow_fallback=True)
        self.assertTrue(move.invoice_pdf_report_id, "rendered on demand and stored")
        self.assertEqual(docs[0]["content"], move.invoice_pdf_report_id.raw)
        self.assertTrue(docs[0]["content"].startswith(b"%PDF-"))
        self.assertNotIn("proforma", docs[0]["filename"].lower())

    def test_pdf_failure_does_not_hold_back_delivery_or_other_invoices(self):
        broken = self.env["ir.actions.report"].create({
            "name": "Broken invoice layout", "model": "account.move", "report_type": "qweb-pdf",
            "report_name": "invoice_bridge.no_such_template"})
        self.partner_a.invoice_template_pdf_report_id = broken
        move = self.make_invoice()
        fine = self.make_invoice(partner=self.partner_b)
        self.drain()
        self.assertEqual(set((self.messages_for(move) | self.messages_for(fine)).mapped("state")), {"done"})
        errors = (move | fine).with_context(force_report_rendering=True)._ib_ensure_legal_pdf()
        self.assertEqual(list(errors), [move.id], "the broken one fails alone")
        self.assertTrue(fine.invoice_pdf_report_id)
        self.assertFalse(move.invoice_pdf_report_id)

    def test_delivery_and_legal_pdf_leave_the_invoice_not_sent(self):
        """#16.2: announcing an invoice to a webhook is not sending it to the customer."""
        move = self.make_invoice()
        self.drain()
        self.assertEqual(self.messages_for(move).state, "done")
        self.env["account.move"].with_context(force_report_rendering=True)._ib_cron_render_invoice_pdfs()
        self.url_open(self.pdf_url(move).path + "?" + self.pdf_url(move).query)  # the receiver downloads it
        self.assertTrue(move.invoice_pdf_report_id, "the legal PDF is stored, for Send & Print to reuse")
        self.assertRecordValues(move, [{"is_move_sent": False, "message_main_attachment_id": False}])
        not_sent = self.env["account.move"].search([("is_move_sent", "=", False), ("id", "=", move.id)])
        self.assertEqual(not_sent, move, "still in Odoo's Not Sent filter")
        tracked = self.env["mail.tracking.value"].sudo().search([
            ("mail_message_id", "in", move.message_ids.ids), ("field_id.name", "=", "is_move_sent")])
        self.assertFalse(tracked, "no 'Is Move Sent' change in the chatter")
        self.assertFalse(self.env["mail.mail"].sudo().search([("model", "=", "account.move"),
                                                             ("res_id", "=", move.id)]), "no mail to anyone")
        # Send & Print reuses the stored legal PDF rather than rendering another
        docs = move._get_invoice_legal_documents_all(allow_fallback=True)
        self.assertEqual(docs[0]["content"], move.invoice_pdf_report_id.raw)
