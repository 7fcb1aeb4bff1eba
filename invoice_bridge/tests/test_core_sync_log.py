import logging
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..lib.core_masking import remember_secrets
from .core_common import BridgeCase


@tagged("post_install", "-at_install")
class TestSyncLog(BridgeCase):

    def test_secrets_masked_and_body_truncated(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.log_body_limit", "200")
        secret = "s3cr3t-value-0123456789"
        log = self.Log._log({
            "channel": "http", "state": "failed",
            "request_headers": {"Authorization": f"Bearer {secret}", "X-API-KEY": "abcd1234efgh5678",
                                "Content-Type": "application/json"},
            "request_body": '{"api_key": "abcd1234efgh5678", "token": "zzzzyyyyxxxx", "data": "%s"}' % ("x" * 500),
            "response_body": f"echo {secret}",
            "secrets": [secret],
        })
        text = "\n".join([log.request_headers, log.request_body, log.response_body])
        self.assertNotIn(secret, text)
        self.assertNotIn("abcd1234efgh5678", text)
        self.assertNotIn("zzzzyyyyxxxx", text)
        self.assertIn("application/json", log.request_headers)
        self.assertIn("truncated", log.request_body)
        self.assertLess(len(log.request_body), 300)

    def test_delivery_log_masks_request_secrets(self):
        """The engine passes each request's secrets to the log: they never reach it."""
        msg = self.enqueue(1, headers={"Authorization": "Bearer tok-123456789", "X-Trace": "t1"})
        self.drain()
        log = self.Log.search([("outbox_id", "=", msg.id)])
        self.assertNotIn("tok-123456789", log.request_headers)
        self.assertIn("X-Trace: t1", log.request_headers)
        self.assertEqual(log.endpoint, msg.url)
        self.assertGreaterEqual(log.duration_ms, 0)

    def test_vacuum_keeps_failures(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.log_retention_days", "90")
        ok_old = self.Log._log({"channel": "http", "state": "success"})
        failed_old = self.Log._log({"channel": "http", "state": "failed"})
        dead_old = self.Log._log({"channel": "http", "state": "dead"})
        ok_new = self.Log._log({"channel": "http", "state": "success"})
        self.env.flush_all()
        # create_date is the transaction's time (PostgreSQL now()), which freezegun cannot move: backdate it
        self.env.cr.execute("UPDATE invoice_bridge_sync_log SET create_date = %s WHERE id IN %s",
                            [fields.Datetime.now() - timedelta(days=100), (ok_old | failed_old | dead_old)._ids])
        self.Log._cron_vacuum()
        self.assertFalse(ok_old.exists())
        self.assertTrue(failed_old.exists())
        self.assertTrue(dead_old.exists())
        self.assertTrue(ok_new.exists())
        # failures have a retention of their own, longer than the successes'
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.log_failure_retention_days", "365")
        self.env.cr.execute("UPDATE invoice_bridge_sync_log SET create_date = %s WHERE id = %s",
                            [fields.Datetime.now() - timedelta(days=400), failed_old.id])
        self.Log._cron_vacuum()
        self.assertFalse(failed_old.exists())
        self.assertTrue(dead_old.exists(), "100 days old: kept")

    def test_smart_buttons(self):
        partner = self.env["res.partner"].create({"name": "Logged partner"})
        self.Log._log([{"channel": "http", "state": "success", "partner_id": partner.id}] * 2)
        self.assertEqual(partner.ib_sync_log_count, 2)
        action = partner.action_ib_open_sync_log()
        self.assertEqual(self.Log.search(action["domain"]).partner_id, partner)
        move = self.env["account.move"].create({"move_type": "entry"})
        self.Log._log({"channel": "http", "state": "success", "res_model": "account.move", "res_id": move.id})
        self.assertEqual(move.ib_sync_log_count, 1)
        self.assertEqual(self.Log.search(move.action_ib_open_sync_log()["domain"]).res_id, move.id)

    def test_detached_log_in_tests_uses_current_cursor(self):
        ids = self.Log._log_detached({"channel": "import_api", "direction": "inbound", "state": "failed",
                                      "message": "refused"})
        self.assertEqual(self.Log.browse(ids).message, "refused")

    def test_the_server_log_masks_secrets(self):
        """A failed statement is logged by Odoo with its parameters: the secrets in it are masked."""
        remember_secrets(["whsec_c2VjcmV0LXZhbHVlLW9mLXRoZS1lbmRwb2ludA=="])
        with self.assertLogs("odoo.sql_db", "ERROR") as logged:
            logging.getLogger("odoo.sql_db").error(
                "bad query: UPDATE x SET secret = %s", "'whsec_c2VjcmV0LXZhbHVlLW9mLXRoZS1lbmRwb2ludA=='")
            logging.getLogger("odoo.sql_db").error("bad query: UPDATE x SET key = 'ibk_abcdefghijklmnopqrstuvwxyz'")
        output = "\n".join(logged.output)
        self.assertNotIn("c2VjcmV0LXZhbHVl", output)
        self.assertNotIn("abcdefghijklmnop", output)
        self.assertIn("bad query: UPDATE x SET", output)
