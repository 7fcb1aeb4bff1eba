"""Every secret the addon holds, masked by value wherever it could be written (issue #14, "beyond the list").

The secrets are set the way the product sets them (a new endpoint, a rotation, the settings' fields, the
registration of easybill's webhook, Odoo's IAP account, the callback URL's token), each after the sync log has
cached what it knows, so a secret that does not reach the cache at once is seen. Then a line is written whose
every field echoes them with nothing around to give them away (no ``token=``, no credential header name): only
masking by value can hide them. The same text through the server log.
"""
import logging

import psycopg2

from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestSecretsMaskedByValue(AccountTestInvoicingCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Secrets company B")["company"]

    def hold_every_secret(self, run="1"):
        """Set each kind of secret, as the product does, and return their values by name (``run``: a part of the
        fixed ones, so that each test's are new to the process)."""
        Log = self.env["invoice_bridge.sync.log"]
        Log._ib_known_secrets_cached()  # what the log knows before: the cache must follow each change
        held = {}
        for tag, company in (("a", self.env.company), ("b", self.company_b)):
            endpoint = self.env["invoice_bridge.webhook.endpoint"].create(
                {"name": f"Receiver {tag}", "url": "https://receiver.example/hook", "company_id": company.id})
            held[f"webhook secret {tag} (before rotation)"] = endpoint.sudo().secret
            endpoint.action_rotate_secret()  # the previous secret keeps signing during the window
            held[f"webhook secret {tag}"] = endpoint.sudo().secret
            self.assertEqual(endpoint.sudo().previous_secret, held[f"webhook secret {tag} (before rotation)"])
            company.sudo().ib_easybill_api_key = f"easybill-key-{tag}-{run}-5e1f0c2d9a8b7c6d"
            held[f"easybill key {tag}"] = company.sudo().ib_easybill_api_key
            company.action_ib_easybill_register_webhook()
            held[f"easybill webhook token {tag}"] = company._ib_easybill_derived("webhook-token")
            held[f"easybill webhook secret {tag}"] = company._ib_easybill_derived("webhook-secret")
            company.ib_extract_token = f"iap-company-token-{tag}-{run}-77aa88bb"
            held[f"IAP token {tag}"] = company.ib_extract_token
        account = self.env["iap.account"].create({
            "service_id": self.env.ref("invoice_bridge.iap_service_invoice_ocr").id,
            "account_token": f"iap-account-token-{run}-0f9e8d7c6b5a"})
        held["Odoo's IAP account token"] = account.account_token
        held["IAP callback token"] = self.env["account.move"]._ib_extract_webhook_token()
        self.assertTrue(all(value and len(value) >= 16 for value in held.values()), held)
        return held

    def test_every_secret_is_masked_in_every_field_and_in_the_server_log(self):
        held = self.hold_every_secret()
        echoed = " | ".join(f"echo {value} end" for value in held.values())
        line = self.env["invoice_bridge.sync.log"]._log({
            "channel": "http", "direction": "outbound", "state": "failed",
            "endpoint": f"https://receiver.example/path/{held['IAP callback token']}",
            "request_headers": {f"X-Echo-{i}": value for i, value in enumerate(held.values())},
            "request_body": echoed, "response_body": echoed, "error": echoed, "message": echoed[:240]})
        fields_text = {name: line[name] or "" for name in ("endpoint", "request_headers", "request_body",
                                                           "response_body", "error", "message")}
        leaks = [f"{what} in {field}" for what, value in held.items() for field, text in fields_text.items()
                 if value in text]
        self.assertFalse(leaks, "\n".join(leaks))
        self.assertIn("echo", line.request_body, "the text around the secrets is kept")
        # the server log: e.g. a failed statement logged with its parameters
        with self.assertLogs("odoo.sql_db", "ERROR") as logged:
            logging.getLogger("odoo.sql_db").error("bad query: UPDATE x SET y = %s", echoed)
        output = "\n".join(logged.output)
        self.assertFalse([what for what, value in held.items() if value in output], output)
        self.assertIn("bad query: UPDATE x SET y", output)

    def test_a_failed_statement_never_logs_a_secret_being_saved(self):
        """Odoo logs a failed statement with its parameters (e.g. a settings save that meets a concurrent update):
        each secret is masked in the server log from the moment it is set, before the sync log has read it. A
        real failed UPDATE first (the company's keys saved with an empty required column: PostgreSQL refuses it),
        then the line Odoo would log for each of the others (the derived easybill values are in no statement)."""
        company = self.env.company
        key, token = "easybill-key-saved-3c4d5e6f7a8b", "iap-company-token-saved-9a8b7c6d"
        with self.assertLogs("odoo.sql_db", "ERROR") as failed, self.assertRaises(psycopg2.errors.NotNullViolation), \
                self.env.cr.savepoint():
            company.sudo().write({"ib_easybill_api_key": key, "ib_extract_token": token,
                                   "layout_background": False})
            company.flush_recordset()
        output = "\n".join(failed.output)
        self.assertIn("bad query", output, "Odoo logged the statement")
        self.assertNotIn(key, output)
        self.assertNotIn(token, output)
        held = self.hold_every_secret(run="2")
        written = {what: value for what, value in held.items() if "easybill webhook" not in what}
        with self.assertLogs("odoo.sql_db", "ERROR") as logged:
            for what, value in written.items():
                logging.getLogger("odoo.sql_db").error("bad query: UPDATE t SET %s = '%s'", what, value)
        output = "\n".join(logged.output)
        self.assertFalse([what for what, value in written.items() if value in output], output)
