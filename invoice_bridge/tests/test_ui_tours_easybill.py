"""README tour 3 in a real browser: a customer's month sent to easybill (the preview wizard, the export, its
requests), against the easybill fake. The requests are outbox deliveries: :func:`drain_after_commit` delivers
them right after the commit of the click that queued them, as the drain cron does in production."""
from datetime import date

from odoo.tests import HttpCase, tagged

from ..models.easybill_export import previous_month
from .test_easybill import EasybillCase
from .test_ui_tours import drain_after_commit, tour_login


@tagged("post_install", "-at_install")
class TestEasybillTour(EasybillCase, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.login = tour_login(cls.env)

    def test_send_a_customers_month(self):
        """README tour 3: Customers ▸ the customer ▸ Send to easybill: pick the month, the preview lists its
        services, Send; Invoice Bridge ▸ easybill Exports: the export sent, its ids, its CSV, its requests."""
        # last month, as the tour's browser counts it (the machine's date, like date.today())
        month = previous_month(date.today())
        self.services(day=month.replace(day=15).isoformat(),
                      lines=[(self.service, 2, 12.5, "Lagerung"), (self.fee, 1, 30.0, "Stornierung")])
        with drain_after_commit():
            self.start_tour(f"/odoo/action-account.res_partner_action_customer/{self.customer.id}",
                            "invoice_bridge_tour_easybill", login=self.login, timeout=120)
        self.env.invalidate_all()
        export = self.Export.search([("partner_id", "=", self.customer.id)])
        self.assertRecordValues(export, [{"state": "done", "period_start": month, "line_count": 2,
                                          "amount_net": 2 * 12.5 + 30}])
        self.assertEqual(self.calls(), [
            ("GET", "/customers"), ("POST", "/customers"), ("POST", "/documents"), ("POST", "/attachments"),
            ("PUT", f"/attachments/{export.easybill_attachment_id}")])
        self.assertEqual(list(self.fake.customers), [int(export.easybill_customer_id)])
        documents = self.fake.documents
        self.assertEqual(list(documents), [int(export.easybill_document_id)], "exactly one document")
        self.assertTrue(documents[int(export.easybill_document_id)]["is_draft"])
        attachment = self.fake.attachments[int(export.easybill_attachment_id)]
        self.assertEqual(attachment["document_id"], int(export.easybill_document_id))

    def test_back_sync_and_pivot(self):
        """README, What became of the draft: the accountant finalised and was paid in easybill; Refresh from
        easybill on the export shows it (number, Paid, the PDF, a note), the pivot sums the month."""
        self.services()
        export = self.Export._export_period(self.company, date(2026, 10, 1))
        self.drain()
        document_id = int(export.easybill_document_id)
        self.fake.complete(document_id)
        self.fake.add_payment(document_id)
        with drain_after_commit():
            self.start_tour(f"/odoo/action-invoice_bridge.easybill_export_action/{export.id}",
                            "invoice_bridge_tour_easybill_back_sync", login=self.login, timeout=120)
        self.env.invalidate_all()
        self.assertRecordValues(export, [{"easybill_state": "paid", "easybill_open_amount": 0.0}])
