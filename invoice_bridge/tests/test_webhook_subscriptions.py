"""What an endpoint subscribes to besides its event types: an invoice filter, and vendor bills' own events."""
import json

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .core_common import WebhookCase


@tagged("post_install", "-at_install")
class TestWebhookSubscriptions(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.EventType = cls.env["invoice_bridge.webhook.event.type"]
        cls.filtered_endpoint = cls.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Big ones", "url": f"{cls.receiver.url}/big", "company_id": cls.env.company.id})

    def setUp(self):
        super().setUp()
        self.receiver.set_secrets([self.endpoint.sudo().secret, self.filtered_endpoint.sudo().secret])

    def events_to(self, endpoint, move):
        self.precommit()
        return self.Outbox.search([("webhook_endpoint_id", "=", endpoint.id), ("res_id", "=", move.id),
                                   ("res_model", "=", "account.move")], order="id").mapped("webhook_event")

    def test_an_invoice_filter_announces_only_the_matching_invoices(self):
        with Form(self.filtered_endpoint) as form:  # the endpoint form, as a manager edits it
            form.invoice_domain = "[('amount_total', '>', 500)]"
        small, big = self.make_invoice(price=100.0), self.make_invoice(price=1000.0)
        self.assertEqual(self.events_to(self.filtered_endpoint, small), [])
        self.assertEqual(self.events_to(self.filtered_endpoint, big), ["new_invoice"])
        self.assertEqual(self.events_to(self.endpoint, small), ["new_invoice"], "no filter: every invoice")
        # a partner tag
        tag = self.env["res.partner.category"].create({"name": "Key account"})
        self.partner_b.category_id = tag
        self.filtered_endpoint.invoice_domain = f"[('partner_id.category_id', 'in', [{tag.id}])]"
        tagged_move, other = self.make_invoice(partner=self.partner_b), self.make_invoice()
        self.assertEqual(self.events_to(self.filtered_endpoint, tagged_move), ["new_invoice"])
        self.assertEqual(self.events_to(self.filtered_endpoint, other), [])
        self.drain()
        big_ones = [d for d in self.receiver.deliveries if d["path"] == "/big"]
        self.assertEqual([d["status"] for d in big_ones], [200, 200])

    def test_a_wrong_filter_is_refused_with_a_message(self):
        for wrong in ("[('no_such_field', '=', 1)]", "{'amount_total': 5}", "[('amount_total', '>',"):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.filtered_endpoint.invoice_domain = wrong
                self.filtered_endpoint.flush_recordset()

    def test_vendor_bills_have_events_of_their_own(self):
        codes = ("bill_posted", "bill_paid", "bill_cancelled")
        self.assertFalse(set(self.endpoint.event_type_ids.mapped("code")) & set(codes),
                         "a new endpoint does not receive vendor bills' events unless they are ticked")
        self.filtered_endpoint.event_type_ids = self.EventType.search([("code", "in", codes)])
        # each step commits on its own, as the accountant's clicks do (an event is written only if it still holds)
        bill = self.make_invoice(move_type="in_invoice")
        self.precommit()
        self.pay(bill, bill.amount_total)
        self.precommit()
        bill.button_draft()
        self.assertEqual(self.events_to(self.filtered_endpoint, bill), list(codes))
        self.assertEqual(self.events_to(self.endpoint, bill), [], "customer events are not sent for bills")
        posted = self.Outbox.search([("webhook_endpoint_id", "=", self.filtered_endpoint.id),
                                     ("webhook_event", "=", "bill_posted")])
        document = json.loads(posted.payload)
        self.assertEqual(document["event"], "bill_posted")
        self.assertEqual(document["operations"][0]["name"], "fetch_invoice_details")
        self.assertEqual(document["operations"][0]["payload"]["invoice"]["invoice_id"], bill.id)
        # a customer invoice is not a bill event
        invoice = self.make_invoice()
        self.assertEqual(self.events_to(self.filtered_endpoint, invoice), [])
