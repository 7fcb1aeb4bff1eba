import json
from datetime import timedelta

from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .core_common import WebhookCase
from .fakes import webhook_schema


@tagged("post_install", "-at_install")
class TestWebhookEvents(WebhookCase):

    def test_post_queues_seed_shaped_event(self):
        move = self.make_invoice(lines=2)
        msg = self.messages_for(move)
        self.assertEqual(len(msg), 1, "queued in the posting transaction")
        body = json.loads(msg.payload)
        webhook_schema.validate(body, "new_invoice")
        self.assertEqual(body["event"], "new_invoice")
        self.assertEqual(body["id"], msg.idempotency_key)
        details = body["operations"][0]["payload"]
        self.assertEqual(details["company_id"], move.company_id.id, "the real company, never a constant")
        self.assertEqual(details["invoice"]["invoice_name"], move.name)
        self.assertEqual(details["invoice"]["amount_total"], move.amount_total)
        self.assertEqual(len(details["invoice"]["invoice_lines"]), 2)
        self.assertEqual(details["invoice"]["invoice_date"], "2026-10-15")
        pdf = body["operations"][3]["payload"]
        self.assertIn(f"/my/invoices/{move.id}?", pdf["pdf_url"])
        self.assertIn(f"access_token={move.access_token}", pdf["pdf_url"])
        self.assertIn("report_type=pdf", pdf["pdf_url"])
        ledger = body["operations"][2]["payload"]
        self.assertEqual(ledger["partner_id"], move.commercial_partner_id.id)
        self.assertEqual(ledger["ledger_entries"][-1]["balance"], move.amount_total)

    def test_vendor_bills_and_drafts_send_nothing(self):
        self.make_invoice(post=False)
        bill = self.make_invoice(move_type="in_invoice")
        self.precommit()
        self.assertFalse(self.Outbox.search([("webhook_event", "!=", False), ("res_id", "=", bill.id)]))
        self.assertFalse(self.Outbox.search([("channel", "=", "webhook")]))

    def test_rollback_queues_nothing(self):
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            move = self.make_invoice()
            self.assertTrue(self.messages_for(move))
            raise ZeroDivisionError  # the posting transaction fails
        self.assertFalse(self.Outbox.search([("channel", "=", "webhook")]))
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            self.make_invoice()
            raise ZeroDivisionError  # rolled back before its events were written: they are dropped
        self.precommit()
        self.assertFalse(self.Outbox.search([("channel", "=", "webhook")]))

    def test_events_are_written_at_commit_from_the_committed_invoice(self):
        move = self.make_invoice()
        move.button_draft()  # posted and reset in one transaction: nothing was announced, nothing to cancel
        self.precommit()
        self.assertFalse(self.messages_for(move))
        move.action_post()
        self.pay(move, 10.0)
        new, partial = self.messages_for(move), self.messages_for(move, "invoice_partially_paid")
        self.assertLess(new.id, partial.id, "written in the order they happened")
        self.assertEqual(json.loads(new.payload)["operations"][0]["payload"]["invoice"]["amount_residual"],
                         move.amount_total - 10.0, "the body shows the invoice as committed")

    def test_events_of_a_transaction_are_built_together(self):
        """Writing the events of a transaction costs the same queries for 2 and for 8 invoices posted one by
        one (different partners, so different ledgers)."""
        def measure(count):
            for i in range(count):
                self.make_invoice(partner=self.env["res.partner"].create({"name": f"Batch {count}-{i}"}))
            self.env.flush_all()
            start = self.env.cr.sql_log_count
            self.precommit()
            queries = self.env.cr.sql_log_count - start
            self.assertEqual(len(self.Outbox.search([("partner_id.name", "=like", f"Batch {count}-%")])), count)
            return queries

        measure(1)  # warm caches
        self.assertEqual(measure(2), measure(8))

    def test_delivered_signed_and_verified(self):
        move = self.make_invoice()
        self.drain()
        [delivery] = self.receiver.deliveries
        self.assertEqual(delivery["status"], 200)
        self.assertTrue(delivery["verified"], "the receiver verifies with the standardwebhooks library")
        msg = self.messages_for(move)
        self.assertEqual(delivery["body"], msg.payload.encode(), "the bytes signed are the bytes sent")
        self.assertEqual(delivery["webhook_id"], msg.idempotency_key)
        Webhook(self.endpoint.sudo().secret).verify(delivery["body"].decode(), delivery["headers"])
        self.assertEqual(msg.state, "done")
        self.assertTrue(self.endpoint.last_success_at)
        log = self.Log.search([("outbox_id", "=", msg.id)])
        self.assertEqual(log.move_id, move)
        self.assertNotIn(self.endpoint.sudo().secret.removeprefix("whsec_"), log.request_headers + log.request_body)

    def test_wrong_secret_is_refused_by_the_receiver(self):
        self.receiver.set_secrets(["whsec_" + "QUJD" * 8])
        try:
            move = self.make_invoice()
            self.drain()
        finally:
            self.receiver.set_secrets([self.endpoint.sudo().secret])
        self.assertEqual(self.receiver.deliveries[0]["status"], 401)
        self.assertEqual(self.messages_for(move).state, "pending")

    def test_retry_sends_the_same_bytes_with_the_same_id(self):
        self.receiver.fail_next(1, status=500)
        move = self.make_invoice()
        with freeze_time(fields.Datetime.now()) as frozen:
            self.drain()
            frozen.tick(timedelta(seconds=6))
            self.drain()
        first, second = self.receiver.deliveries
        self.assertEqual((first["status"], second["status"]), (500, 200))
        self.assertEqual(first["body"], second["body"])
        self.assertEqual(first["webhook_id"], second["webhook_id"])
        self.assertTrue(second["verified"])
        self.assertEqual(self.messages_for(move).state, "done")

    def test_gone_archives_the_endpoint(self):
        self.receiver.fail_next(1, status=410)
        move = self.make_invoice()
        self.drain()
        self.assertEqual(self.messages_for(move).state, "failed")
        self.assertFalse(self.endpoint.active)
        self.assertIn("410", self.endpoint.message_ids[0].body)
        # nothing is queued for an archived endpoint
        self.assertFalse(self.messages_for(self.make_invoice()))

    def test_endpoint_with_waiting_messages_is_archived_not_deleted(self):
        """#16.4: Odoo's Delete refuses while messages wait; Archive holds them, Unarchive sends them."""
        move = self.make_invoice()
        message = self.messages_for(move)
        with self.assertRaisesRegex(UserError, "Archive it instead"):
            self.endpoint.unlink()
        self.assertTrue(self.endpoint.exists())
        action = self.endpoint.action_archive()
        self.assertIn("1 waiting message(s) are kept", action["params"]["message"])
        self.assertIn("Archived: its 1 waiting message(s) are kept", self.endpoint.message_ids[0].body)
        self.drain()
        self.assertRecordValues(message, [{"state": "pending", "attempt_count": 0}])
        self.assertFalse(self.receiver.deliveries, "held, not attempted, never failed")
        self.assertFalse(self.Log.search([("outbox_id", "=", message.id)]))
        self.endpoint.action_unarchive()
        self.drain()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(self.receiver.deliveries), 1)
        self.endpoint.unlink()  # nothing waits any more
        self.assertEqual(message.state, "done")

    def test_deleting_an_endpoint_cancels_what_can_no_longer_be_retried(self):
        self.receiver.fail_next(1, status=410)
        move = self.make_invoice()
        self.drain()
        message = self.messages_for(move)
        self.assertEqual(message.state, "failed")
        self.endpoint.unlink()
        self.assertRecordValues(message, [{"state": "cancelled", "last_error": "The endpoint was deleted."}])

    def test_rotation_signs_with_both_secrets(self):
        old = self.endpoint.sudo().secret
        self.endpoint.sudo().action_rotate_secret()  # administrators only
        new = self.endpoint.sudo().secret
        self.assertNotEqual(old, new)
        self.receiver.set_secrets([old])  # a receiver not yet updated still verifies
        try:
            self.make_invoice()
            self.drain()
        finally:
            self.receiver.set_secrets([new])
        delivery = self.receiver.deliveries[0]
        self.assertTrue(delivery["verified"])
        self.assertEqual(len(delivery["headers"]["webhook-signature"].split(" ")), 2)
        Webhook(new).verify(delivery["body"].decode(), delivery["headers"])
        with freeze_time(fields.Datetime.now() + timedelta(hours=25)):
            self.assertEqual(self.endpoint._signing_secrets(), [new])

    def test_secrets_are_masked_by_value_everywhere(self):
        """A receiver that echoes the secret, previous or current: never stored in clear."""
        old = self.endpoint.sudo().secret
        self.endpoint.sudo().action_rotate_secret()  # administrators only
        new = self.endpoint.sudo().secret
        line = self.Log._log({"channel": "webhook", "state": "failed", "response_body": f"{{\"seen\": \"{old}\"}}",
                              "error": f"echo {new}", "message": f"got {old[:20]}{old[20:]}"})
        for text in (line.response_body, line.error, line.message):
            self.assertNotIn(old, text)
            self.assertNotIn(new, text)

    def test_multi_company_isolation(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        endpoint_b = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "B receiver", "url": f"{self.receiver.url}/b", "company_id": company_b.id})
        move = self.make_invoice()
        self.assertEqual(self.messages_for(move).webhook_endpoint_id, self.endpoint)
        self.env.user.company_ids |= company_b
        move_b = self.make_invoice_in(company_b)
        self.assertEqual(move_b.company_id, company_b)
        self.assertEqual(self.messages_for(move_b).webhook_endpoint_id, endpoint_b,
                         "company B's invoices never reach company A's endpoints")
        body = json.loads(self.messages_for(move_b).payload)
        self.assertEqual(body["operations"][0]["payload"]["company_id"], company_b.id)
        self.drain()
        paths = sorted(d["path"] for d in self.receiver.deliveries)
        self.assertEqual(paths, ["/b", "/hook"])

    def make_invoice_in(self, company):
        move = self.env["account.move"].with_company(company).create({
            "move_type": "out_invoice", "partner_id": self.partner_a.id, "invoice_date": "2026-10-15",
            "invoice_line_ids": [Command.create({"name": "Service", "quantity": 1, "price_unit": 10.0,
                                                 "tax_ids": []})],
        })
        move.with_company(company).action_post()
        return move

    def test_subscription_filters_events(self):
        self.endpoint.event_type_ids = self.env.ref("invoice_bridge.event_invoice_paid")
        move = self.make_invoice()
        self.assertFalse(self.messages_for(move))

    def test_paid_partially_paid_and_cancelled(self):
        move = self.make_invoice(price=100.0)  # 200.0 total, no tax
        self.pay(move, 50.0)
        partial = self.messages_for(move, "invoice_partially_paid")
        self.assertEqual(len(partial), 1)
        status = json.loads(partial.payload)["operations"][0]
        self.assertEqual(status["name"], "invoice_status")
        self.assertEqual(status["payload"]["payment_state"], "partial")
        self.assertEqual(status["payload"]["amount_residual"], 150.0)
        self.pay(move, 150.0)
        self.assertEqual(len(self.messages_for(move, "invoice_paid")), 1)
        other = self.make_invoice()
        self.precommit()  # posted, then reset in another transaction
        other.button_draft()
        reset = self.messages_for(other, "invoice_cancelled")
        self.assertEqual(json.loads(reset.payload)["operations"][0]["payload"]["reason"], "reset_to_draft")
        other.action_post()
        self.precommit()
        other.button_cancel()
        cancelled = self.messages_for(other, "invoice_cancelled") - reset
        self.assertEqual(len(cancelled), 1)
        self.assertEqual(json.loads(cancelled.payload)["operations"][0]["payload"]["reason"], "cancelled")
        # never posted: nothing to announce
        draft = self.make_invoice(post=False)
        draft.button_cancel()
        self.assertFalse(self.messages_for(draft, "invoice_cancelled"))

    def test_messages_for_one_invoice_are_ordered(self):
        move = self.make_invoice()
        self.pay(move, 10.0)
        first, second = self.messages_for(move, "new_invoice"), self.messages_for(move, "invoice_partially_paid")
        self.assertEqual(first.ordering_key, second.ordering_key)
        self.receiver.fail_next(1, status=503)
        self.drain()
        self.assertEqual(second.attempt_count, 0, "waits for the first event of its invoice")

    def test_payment_reminder_cron_idempotent(self):
        self.env.company.write({"ib_reminder_days_after_due": 1, "ib_reminder_interval_days": 7})
        move = self.make_invoice(invoice_date_due="2026-10-20", invoice_payment_term_id=False)
        not_due = self.make_invoice(invoice_date_due=fields.Date.today() + timedelta(days=5),
                                    invoice_payment_term_id=False)
        self.assertEqual(not_due.invoice_date_due, fields.Date.today() + timedelta(days=5))
        Move = self.env["account.move"]
        Move._ib_cron_payment_reminders()
        reminders = self.messages_for(move, "payment_reminder")
        self.assertEqual(len(reminders), 1)
        webhook_schema.validate(json.loads(reminders.payload), "payment_reminder")
        self.assertFalse(self.messages_for(not_due, "payment_reminder"))
        Move._ib_cron_payment_reminders()
        self.assertEqual(len(self.messages_for(move, "payment_reminder")), 1, "second run, same interval: none")
        with freeze_time(fields.Date.today() + timedelta(days=7)):
            Move._ib_cron_payment_reminders()
        self.assertEqual(len(self.messages_for(move, "payment_reminder")), 2, "next interval: one more")
        self.pay(move, move.amount_residual)
        with freeze_time(fields.Date.today() + timedelta(days=14)):
            Move._ib_cron_payment_reminders()
        self.assertEqual(len(self.messages_for(move, "payment_reminder")), 2, "paid: no more reminders")

    def test_send_again_and_preview(self):
        move = self.make_invoice()
        self.precommit()
        move.action_ib_send_webhook()
        self.assertEqual(len(self.messages_for(move)), 2)
        action = move.action_ib_preview_webhook()
        preview = self.env[action["res_model"]].browse(action["res_id"])
        webhook_schema.validate(json.loads(preview.payload), "new_invoice")

    def test_sent_first_then_the_pdf_cron_renders_announced_invoices(self):
        moves = self.make_invoice() | self.make_invoice() | self.make_invoice()
        self.endpoint.active = False
        silent = self.make_invoice()  # announced to nobody
        self.endpoint.active = True
        self.drain()
        self.assertEqual(set(self.Outbox.search([("res_model", "=", "account.move"), ("res_id", "in", moves.ids)])
                             .mapped("state")), {"done"})
        self.assertFalse(moves.filtered("invoice_pdf_report_id"), "delivery does not wait for the PDF")
        cron = self.env.ref("invoice_bridge.ir_cron_render_invoice_pdfs")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        Move = self.env["account.move"]
        self.assertEqual(Move._ib_cron_render_invoice_pdfs(batch=2), 2)
        self.assertEqual(Move._ib_cron_render_invoice_pdfs(batch=2), 1)
        self.assertEqual(len(moves.filtered("invoice_pdf_report_id")), 3)
        self.assertFalse(silent.invoice_pdf_report_id)
        self.assertEqual(Move._ib_cron_render_invoice_pdfs(batch=2), 0)

    def test_test_event(self):
        self.endpoint.action_send_test_event()
        self.drain()
        [delivery] = self.receiver.deliveries
        self.assertEqual(delivery["json"]["event"], "test")
        self.assertTrue(delivery["verified"])

    def test_url_validation(self):
        with self.assertRaises(ValidationError):
            self.env["invoice_bridge.webhook.endpoint"].create({"name": "x", "url": "ftp://example.com"})

    def test_payload_query_count_constant(self):
        """Building a new_invoice body costs the same queries at 10 and 100 lines, 10 and 1,000 ledger lines."""
        def measure(move):
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            move._ib_webhook_document("new_invoice", "msg_x")
            return self.env.cr.sql_log_count - start

        small, big = self.make_invoice(lines=10), self.make_invoice(lines=100)
        measure(small), measure(big)  # warm caches
        self.assertEqual(measure(small), measure(big))
        counts = {}
        for size in (10, 1000):
            partner = self.env["res.partner"].create({"name": f"Ledger {size}"})
            self.make_ledger(partner, size - 1)
            move = self.make_invoice(partner=partner)
            self.assertEqual(len(move._ib_ledger_data()[move]["lines"]), size)
            measure(move)
            counts[size] = measure(move)
        self.assertEqual(counts[10], counts[1000], counts)

    def test_ledger_cap_keeps_the_balance(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.webhook_ledger_cap", "5")
        partner = self.env["res.partner"].create({"name": "Capped"})
        self.make_ledger(partner, 20)
        move = self.make_invoice(partner=partner)
        contact = self.env["res.partner"].create({"name": "Capped, billing", "parent_id": partner.id})
        other = self.make_invoice(partner=contact)  # a contact's invoice: the company's ledger, shared
        ledgers = (move | other)._ib_ledger_data()
        self.assertEqual(ledgers[move], ledgers[other])
        ledger = ledgers[move]
        self.assertEqual(len(ledger["lines"]), 5)
        self.assertEqual(ledger["opening_balance"], 17.0)  # 20 lines of 1.0, 3 of them among the 5 kept
        body = json.loads(self.messages_for(other).payload)
        entries = body["operations"][2]["payload"]["ledger_entries"]
        self.assertEqual(entries[-1]["balance"], 20.0 + move.amount_total + other.amount_total)
        self.assertEqual(body["operations"][2]["payload"]["partner_id"], partner.id)
        self.assertLessEqual(entries[0]["date"], entries[-1]["date"], "oldest first")

    def test_ledger_reads_partners_not_yet_flushed(self):
        """The ledger is raw SQL over res_partner: a commercial partner still in the ORM's cache counts (18.0's
        posting flushed it by chance before the query, 19.0's does not)."""
        company = self.env["res.partner"].create({"name": "Parent Co", "is_company": True})
        self.make_ledger(company, 3)
        contact = self.env["res.partner"].create({"name": "Leaving contact", "parent_id": company.id})
        self.make_ledger(contact, 2)
        move = self.make_invoice(partner=company)
        self.env.flush_all()
        contact.parent_id = False  # its own commercial partner again, in the cache only: its lines leave the ledger
        ledger = move._ib_ledger_data()[move]
        self.assertEqual(ledger["partner_id"], company.id)
        self.assertEqual(len(ledger["lines"]), 3 + 1)

    def make_ledger(self, partner, count):
        """One posted entry with ``count`` receivable lines of 1.0 for ``partner``."""
        receivable = self.company_data["default_account_receivable"]
        revenue = self.company_data["default_account_revenue"]
        entry = self.env["account.move"].create({
            "move_type": "entry", "date": "2026-01-01",
            "line_ids": [Command.create({"account_id": receivable.id, "partner_id": partner.id, "debit": 1.0,
                                         "name": f"L{i}"}) for i in range(count)]
            + [Command.create({"account_id": revenue.id, "credit": float(count), "name": "counterpart"})],
        })
        entry.action_post()
        return entry
