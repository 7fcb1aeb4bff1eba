"""What an endpoint subscribes to besides its event types: an invoice filter, and vendor bills' own events."""
import json

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .core_common import WebhookCase
from .fakes import webhook_schema


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

    def test_extra_headers_are_sent_with_every_request(self):
        with Form(self.filtered_endpoint) as form:
            form.static_headers = "X-Tenant: acme\n\nX-Source:  odoo-bridge "
        self.make_invoice()
        self.drain()
        [delivery] = [d for d in self.receiver.deliveries if d["path"] == "/big"]
        self.assertEqual((delivery["headers"]["x-tenant"], delivery["headers"]["x-source"]), ("acme", "odoo-bridge"))
        self.assertTrue(delivery["verified"], "the signature headers are the delivery's own")
        self.assertEqual(delivery["headers"]["content-type"], "application/json")
        line = self.Log.search([("outbox_id.webhook_endpoint_id", "=", self.filtered_endpoint.id)], limit=1)
        self.assertIn("X-Tenant: acme", line.request_headers, "not secret: logged as sent")

    def test_credentials_and_reserved_names_are_refused_as_extra_headers(self):
        refused = {
            "Authorization: Bearer abc": "looks like a credential",
            "X-Api-Token: abc": "looks like a credential",
            "X-Shared-Secret: abc": "looks like a credential",
            "webhook-signature: v1,abc": "set by the delivery itself",
            "Content-Type: text/plain": "set by the delivery itself",
            "X-Tenant acme": "one header per line",
            "X Tenant: acme": "is not a header name",
            "X-Tenant: a\nx-tenant: b": "is there twice",
            "X-Tenant: " + "a" * 1001: "longer than 1000",
            "\n".join(f"X-H{i}: v" for i in range(21)): "at most 20",
        }
        for text, reason in refused.items():
            with self.assertRaisesRegex(ValidationError, reason), self.env.cr.savepoint():
                with Form(self.filtered_endpoint) as form:
                    form.static_headers = text
        self.assertFalse(self.filtered_endpoint.static_headers, "nothing was saved")

    def test_each_endpoint_keeps_its_payload_version(self):
        self.assertEqual(self.endpoint.payload_version, "1", "a new endpoint gets seed 000's shape")
        with Form(self.filtered_endpoint) as form:
            form.payload_version = "2"
        move = self.make_invoice()
        self.drain()
        by_path = {d["path"]: d for d in self.receiver.deliveries}
        v1, v2 = by_path["/hook"]["json"], by_path["/big"]["json"]
        webhook_schema.validate(v1, "new_invoice")
        self.assertEqual(set(v2), {"type", "timestamp", "data"}, "the Standard Webhooks payload structure")
        self.assertEqual((v2["type"], v2["timestamp"]), (v1["type"], v1["timestamp"]))
        self.assertEqual(v2["data"], {"id": by_path["/big"]["webhook_id"], "company": v1["company"],
                                      "operations": v1["operations"]})
        self.assertEqual(v2["data"]["operations"][0]["payload"]["invoice"]["invoice_name"], move.name)
        self.assertTrue(by_path["/big"]["verified"])
        # a message keeps the shape it was queued with: changing the version doesn't rewrite what waits
        self.receiver.reset()
        self.make_invoice()
        self.precommit()
        self.endpoint.payload_version = "2"
        self.drain()
        webhook_schema.validate([d for d in self.receiver.deliveries if d["path"] == "/hook"][0]["json"],
                                "new_invoice")
