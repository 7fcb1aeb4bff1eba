"""What the webhook channel sends and answers, byte for byte, vs the files in ``golden/`` (``core_golden.py``).

Recorded before the layout change (#13); a later change of these bytes says why in the README's changelog.
"""
from freezegun import freeze_time

from odoo.tests import tagged

from ..lib.core_transport import Transport
from . import core_golden as golden
from .core_common import WebhookCase

#: the payments' date, fixed: the ledger in the bodies shows it (the files were recorded that day)
PAID_ON = "2026-12-02"


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
            self.pay(move, 50.0, payment_date=PAID_ON)
            self.drain()
            self.pay(move, move.amount_residual, payment_date=PAID_ON)
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
            with freeze_time("2026-11-02"):  # the body is built when the cron commits: days_overdue of that day
                self.env["account.move"]._ib_cron_payment_reminders()
                self.env["account.move"]._ib_flush_webhook_events()  # the cron's pre-commit hook
            self.drain()
            self.endpoint.action_send_test_event()
            self.drain()
        self.assertEqual(len(sent), 10)
        golden.check(self, "webhook_requests", sent)
        action = overdue.action_ib_preview_webhook()
        preview = self.env[action["res_model"]].browse(action["res_id"])
        golden.check(self, "webhook_preview", [golden.body_record(preview.payload)])
