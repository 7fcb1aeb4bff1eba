"""Secret rotation as a receiver lives it: its window, the note when it ends, and what verifies when (checked with
the ``standardwebhooks`` library, the way a receiver checks)."""
import json
from datetime import timedelta

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .core_common import WebhookCase, user_groups


@tagged("post_install", "-at_install")
class TestWebhookRotation(WebhookCase):

    def set_window(self, hours):
        """The rotation window, saved on the settings page (administrators only, as Odoo's settings)."""
        settings = self.env["res.config.settings"].sudo().create({})
        self.assertEqual(settings.ib_webhook_rotation_hours, int(self.env["ir.config_parameter"].sudo().get_param(
            "invoice_bridge.webhook_rotation_hours", 24)))
        settings.ib_webhook_rotation_hours = hours
        settings.execute()

    def deliver_one(self, accepted):
        """Post an invoice and deliver its event to a receiver that verifies with the secrets ``accepted``."""
        self.receiver.reset()
        self.receiver.set_secrets(accepted)
        self.make_invoice()
        self.drain()
        return [d for d in self.receiver.deliveries if d["path"] == "/hook"][0]

    def verifies(self, secret, delivery):
        """Whether a receiver holding only ``secret`` accepts ``delivery`` (the library's own check)."""
        try:
            Webhook(secret).verify(delivery["body"].decode(), delivery["headers"])
        except WebhookVerificationError:
            return False
        return True

    def notes(self):
        """The endpoint's chatter, newest first."""
        return [str(body) for body in self.endpoint.message_ids.mapped("body")]

    def test_either_secret_verifies_during_the_window_and_only_the_new_one_after(self):
        self.set_window(2)
        old = self.endpoint.sudo().secret
        before = fields.Datetime.now()
        self.endpoint.sudo().action_rotate_secret()  # administrators only
        new = self.endpoint.sudo().secret
        ends_at = self.endpoint.sudo().previous_secret_expires_at
        self.assertAlmostEqual(ends_at, before + timedelta(hours=2), delta=timedelta(minutes=1))
        self.assertIn("messages carry a signature made with the previous secret too", self.notes()[0])
        trigger = self.env["ir.cron.trigger"].sudo().search(
            [("cron_id", "=", self.env.ref("invoice_bridge.ir_cron_webhook_rotation_end").id)])
        self.assertIn(ends_at, trigger.mapped("call_at"), "the window's end is on the cron's schedule")

        # during the window: a receiver not yet updated, and one already updated, both accept the same message
        delivery = self.deliver_one([old])
        self.assertEqual((delivery["status"], delivery["verified"]), (200, True))
        self.assertTrue(self.verifies(old, delivery))
        self.assertTrue(self.verifies(new, delivery))
        self.assertEqual(self.deliver_one([new])["status"], 200)

        # the window ends (its end moved to now: the cron runs at its end)
        self.endpoint.sudo().previous_secret_expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.env["invoice_bridge.webhook.endpoint"]._cron_end_rotation_windows()
        self.assertIn("The rotation window ended", self.notes()[0])
        self.assertFalse(self.endpoint.sudo().previous_secret_expires_at)
        delivery = self.deliver_one(None)  # a receiver that doesn't verify: it records what it got
        self.assertFalse(self.verifies(old, delivery), "the previous secret signs no more")
        self.assertTrue(self.verifies(new, delivery))
        self.assertEqual(len(delivery["headers"]["webhook-signature"].split(" ")), 1)
        held_old = self.deliver_one([old])  # a receiver still holding the previous secret refuses it
        self.assertFalse(held_old["verified"])
        self.assertNotEqual(held_old["status"], 200)
        # the window's end is noted once
        self.env["invoice_bridge.webhook.endpoint"]._cron_end_rotation_windows()
        self.assertEqual(sum("The rotation window ended" in note for note in self.notes()), 1)
        # the previous secret is still masked by value in the sync log
        line = self.Log._log({"channel": "webhook", "state": "failed", "response_body": json.dumps({"k": old})})
        self.assertNotIn(old, line.response_body)

    def test_no_window_stops_the_previous_secret_at_once(self):
        self.set_window(0)
        old = self.endpoint.sudo().secret
        self.endpoint.sudo().action_rotate_secret()  # administrators only
        self.assertFalse(self.endpoint.sudo().previous_secret_expires_at)
        self.assertIn("no rotation window", self.notes()[0])
        delivery = self.deliver_one(None)
        self.assertFalse(self.verifies(old, delivery))
        self.assertTrue(self.verifies(self.endpoint.sudo().secret, delivery))

    def test_the_window_is_bounded(self):
        for wrong in (-1, 721):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.set_window(wrong)
        self.set_window(720)
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("invoice_bridge.webhook_rotation_hours"),
                         "720")

    def test_only_administrators_rotate(self):
        manager = self.env["res.users"].create({
            "name": "Bridge manager", "login": "rotation_manager", **user_groups(self.env, (
                self.env.ref("account.group_account_manager")
                | self.env.ref("invoice_bridge.group_invoice_bridge_manager")))})
        old = self.endpoint.sudo().secret
        with self.assertRaises(AccessError):
            self.endpoint.with_user(manager).action_rotate_secret()
        self.assertEqual(self.endpoint.sudo().secret, old)

    def test_zero_is_kept_as_a_setting(self):
        """0 is a value of the window (none) and of *Disable after days of failures* (never): Odoo's own
        config_parameter settings would save 0 as "no parameter", read back as the default (24, 5)."""
        settings = self.env["res.config.settings"].sudo().create({})
        settings.ib_webhook_rotation_hours = 0
        settings.ib_webhook_disable_after_days = 0
        settings.execute()
        again = self.env["res.config.settings"].sudo().create({})
        self.assertEqual((again.ib_webhook_rotation_hours, again.ib_webhook_disable_after_days), (0, 0))
        self.assertEqual(self.env["invoice_bridge.config"]._get("webhook_disable_after_days", 5), 0)
