import base64
import time
from pathlib import Path

from odoo import fields
from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..models.core_compat import UPDATE_BATCH_SIZE
from .fakes.extract_fake import IapExtractFake

SAMPLE = (Path(__file__).resolve().parent / "data" / "extract_sample_bill.pdf").read_bytes()


@tagged("post_install", "-at_install")
class IapExtractCase(AccountTestInvoicingCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = IapExtractFake().start()
        cls.addClassCleanup(cls.fake.stop)
        cls.env.company.write({"ib_extract_endpoint": cls.fake.url, "ib_extract_token": "company-a-token"})
        cls.env.ref("base.EUR").active = True
        cls.supplier = cls.env["res.partner"].create({"name": "Wood Corner", "vat": "BE0477472701",
                                                      "supplier_rank": 1})
        cls.tax21 = cls.env["account.tax"].create({"name": "21% purchase", "amount": 21, "amount_type": "percent",
                                                   "type_tax_use": "purchase"})
        cls.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,0s,0s")

    def setUp(self):
        super().setUp()
        self.fake.reset()

    def bill(self, content=SAMPLE, mimetype="application/pdf"):
        move = self.env["account.move"].create({"move_type": "in_invoice"})
        attachment = self.env["ir.attachment"].create({"name": "bill.pdf", "raw": content, "mimetype": mimetype,
                                                       "res_model": "account.move", "res_id": move.id})
        move.message_main_attachment_id = attachment
        return move

    def drain(self):
        """Deliver what is queued (in the test transaction: the cron would do it right after the commit)."""
        return self.env["invoice_bridge.outbox"]._drain(autocommit=False, short_wait=0)

    def digitize(self, moves):
        moves.action_ib_digitize()
        self.drain()

    def refresh(self, moves):
        moves.action_ib_extract_refresh()
        self.drain()

    def digitize_and_fetch(self, move):
        self.digitize(move)
        self.assertEqual(move.ib_extract_state, "waiting_extraction")
        self.refresh(move)  # the fake answers "not ready" once
        self.assertEqual(move.ib_extract_state, "extract_not_ready")
        self.assertEqual(move.ib_extract_banner, "Not ready yet: The service is still reading the document: press "
                                                 "Refresh in a moment.", "said once, with what to do")
        not_ready = self.env["invoice_bridge.sync.log"].search(
            [("res_id", "=", move.id), ("channel", "=", "iap_extract")], limit=1)
        self.assertEqual(not_ready.message, "Results: 0 of 1 document(s) ready", "never 'Results fetched'")
        self.refresh(move)
        return move


@tagged("post_install", "-at_install")
class TestIapExtract(IapExtractCase):

    def test_full_flow_fills_the_bill(self):
        move = self.digitize_and_fetch(self.bill())
        self.assertRecordValues(move, [{
            "ib_extract_state": "done", "partner_id": self.supplier.id, "ref": "WC-2026-117",
        }])
        self.assertEqual(move.currency_id.name, "EUR")
        self.assertEqual(str(move.invoice_date), "2026-11-02")
        self.assertEqual(str(move.invoice_date_due), "2026-12-02")
        self.assertEqual(move.invoice_line_ids.mapped("name"), ["Desk"])
        self.assertEqual(move.invoice_line_ids.tax_ids, self.tax21)
        self.assertAlmostEqual(move.amount_total, 121.0)
        self.assertIn("Digitized", move.message_ids[0].body)
        # generation 1 (seed 001) documents SWIFT_code and no account number: no account is made up
        self.assertFalse(self.supplier.bank_ids)
        self.assertFalse(move.partner_bank_id)
        self.assertIn("names the bank BNP Paribas Fortis (BIC GEBABEBB)", move.message_ids[0].body)
        # the parse call carried the company's identity and token; logs keep neither the document nor the token
        route, params = next(c for c in self.fake.calls if c[0].endswith("parse"))
        self.assertEqual(params["account_token"], "company-a-token")
        self.assertEqual(params["version"], 120)
        self.assertEqual(params["user_infos"]["user_company_name"], self.env.company.name)
        logs = self.env["invoice_bridge.sync.log"].search([("channel", "=", "iap_extract")])
        self.assertTrue(logs)
        for log in logs:
            self.assertNotIn(params["documents"][0][:40], log.request_body or "")
            self.assertNotIn("company-a-token", (log.request_body or "") + (log.response_body or ""))

    def test_digitize_queues_and_returns_at_once(self):
        """No upload and no button waits on the service: the parse is a message the engine sends later."""
        move = self.bill()
        move.action_ib_digitize()
        self.assertFalse(self.fake.requests, "nothing sent from the button")
        self.assertEqual(move.ib_extract_state, "waiting_extraction")
        parse = self.env["invoice_bridge.outbox"].search([("res_id", "=", move.id), ("extract_call", "=", "parse")])
        self.assertEqual(parse.state, "pending")
        self.assertNotIn("company-a-token", parse.payload, "the token is added when sent, never stored")
        stale = move.action_ib_digitize()  # a second click, or a stale tab: no second parse, no second credit
        self.assertEqual(stale["tag"], "display_notification")
        self.assertIn("no credit was spent", stale["params"]["message"])
        self.assertEqual(len(self.env["invoice_bridge.outbox"].search([("res_id", "=", move.id)])), 1)
        self.drain()
        self.assertEqual(self.fake.count("parse"), 1)

    def test_master_switch_and_neutralized_copy_send_nothing(self):
        """Paused outbound traffic stops IAP too; a neutralized copy holds no active token."""
        service = self.env.ref("invoice_bridge.iap_service_invoice_ocr")
        account = self.env["iap.account"].create({"service_id": service.id, "account_token": "production-token",
                                                  "company_ids": [self.env.company.id]})
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.outbound_disabled", "True")
        move = self.bill()
        move.action_ib_digitize()
        self.env["invoice_bridge.outbox"]._cron_drain()
        move._ib_extract_poll()
        self.env["invoice_bridge.outbox"]._cron_drain()
        self.assertFalse(self.fake.requests, "nothing reaches the service while traffic is paused")
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.outbound_disabled", False)
        for query in neutralize.get_neutralization_queries(["iap", "invoice_bridge"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.env.company.ib_extract_token)
        self.assertTrue(account.account_token.endswith("+disabled"), "Odoo's iap module disables its tokens")
        self.assertTrue(self.env["invoice_bridge.outbox"]._setting("outbound_disabled", False))
        self.env["invoice_bridge.outbox"]._cron_drain()
        self.assertFalse(self.fake.requests)

    def test_the_token_never_reaches_the_log(self):
        """An error answer that echoes the request, and an unreachable service: the token is masked by value."""
        self.env.company.ib_extract_token = "company-a-token-0123456789"
        self.fake.fail_next(1, http_status=500, body="bad request: account_token=company-a-token-0123456789")
        move = self.bill()
        self.digitize(move)
        self.env.company.ib_extract_endpoint = "http://127.0.0.1:9"
        self.digitize(self.bill())
        logs = self.env["invoice_bridge.sync.log"].search([("channel", "=", "iap_extract")])
        self.assertGreaterEqual(len(logs), 2)
        for log in logs:
            text = " ".join(filter(None, (log.request_headers, log.request_body, log.response_body, log.error,
                                          log.message, log.endpoint)))
            self.assertNotIn("company-a-token-0123456789", text)

    def test_status_codes(self):
        unsupported = self.bill(content=b"plain text, not a bill")
        self.digitize(unsupported)
        self.assertEqual(unsupported.ib_extract_state, "unsupported_format")
        self.fake.set_credit("company-a-token", 0)
        poor = self.bill()
        self.digitize(poor)
        self.assertEqual(poor.ib_extract_state, "not_enough_credit")
        self.assertIn("invoice_ocr", poor.ib_extract_credit_url)
        self.fake.set_credit("company-a-token", None)
        self.fake.maintenance(True)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,1h")
        waiting = self.bill()
        self.digitize(waiting)
        self.assertEqual(waiting.ib_extract_state, "waiting_extraction", "9: try again later")
        self.fake.maintenance(False)
        parse = self.env["invoice_bridge.outbox"].search([("res_id", "=", waiting.id), ("extract_call", "=", "parse")])
        self.assertEqual(parse.state, "pending")
        parse.sudo().next_attempt_at = fields.Datetime.now()  # an hour later
        self.drain()
        self.fake.fail_document(waiting.ib_extract_document_id, status_code=2, message="Unreadable document")
        self.refresh(waiting)
        self.refresh(waiting)
        self.assertEqual(waiting.ib_extract_state, "error_status")
        self.assertIn("Unreadable document", waiting.ib_extract_status_msg)

    def test_network_failure_keeps_the_request(self):
        self.fake.fail_next(1, http_status=503)
        move = self.bill()
        move.action_ib_digitize()
        self.assertRecordValues(move, [{"ib_extract_state": "waiting_extraction", "ib_extract_document_id": 0}])
        self.drain()  # the engine's retry sends it again
        self.assertTrue(move.ib_extract_document_id)
        logs = self.env["invoice_bridge.sync.log"].search([("move_id", "=", move.id)], order="id")
        self.assertEqual(logs.mapped("state"), ["retrying", "success"])

    def test_partner_matching_order(self):
        Move = self.env["account.move"]
        move = self.bill()
        match = move._ib_extract_match_partner
        self.assertEqual(match({"vat": "0477472701", "country": "BE"}), self.supplier, "VAT without prefix")
        self.supplier.vat = "0477472701"
        self.assertEqual(match({"vat": "BE 0477 472 701"}), self.supplier, "VAT with prefix")
        self.assertEqual(match({"vat": "XX999", "supplier": "wood corner"}), self.supplier, "exact name")
        self.assertEqual(match({"supplier": "Wood Corner SA"}), self.supplier, "fuzzy name among suppliers")
        self.env.company.partner_id.vat = "BE0999999999"
        self.assertFalse(match({"vat": "BE0999999999", "supplier": self.env.company.name}),
                         "never the company itself")
        self.assertFalse(Move.browse())

    def test_user_edits_are_kept_unless_reload(self):
        move = self.digitize_and_fetch(self.bill())
        move.ref = "MY-OWN-REF"
        move._ib_extract_apply(move.ib_extract_results)
        self.assertEqual(move.ref, "MY-OWN-REF")
        move.action_ib_extract_reload()
        self.assertEqual(move.ref, "WC-2026-117")

    def test_totals_warning(self):
        self.fake.set_result("default", {**self.fake_default(), "total": 999.0})
        move = self.digitize_and_fetch(self.bill())
        self.assertIn("999", move.ib_extract_status_msg)
        self.assertIn("differs", move.message_ids[0].body)

    def fake_default(self):
        from .fakes.extract_fake import DEFAULT_RESULT

        return dict(DEFAULT_RESULT)

    def test_validated_once_after_post_never_before(self):
        move = self.digitize_and_fetch(self.bill())
        self.drain()
        self.assertFalse(self.fake.validations, "never for an unposted bill")
        move.action_post()
        self.assertEqual(move.ib_extract_validation, "to_validate")
        self.drain()
        self.drain()
        self.assertEqual(move.ib_extract_validation, "validated", self.fake.validation_attempts)
        values = self.fake.validations[move.ib_extract_document_id]
        self.assertEqual(values["invoice_id"], {"content": "WC-2026-117"})
        # seed 001: amount = what the tax applies to, tax_amount = the tax, here as a percentage
        self.assertEqual(values["global_taxes"], {"content": [
            {"amount": 100.0, "tax_amount": 21.0, "tax_amount_type": "percent", "tax_price_include": False}]})
        self.assertEqual(values["invoice_lines"]["lines"][0]["taxes"],
                         [{"amount": 21.0, "type": "percent", "price_include": False}])
        self.assertEqual(values["invoice_lines"]["lines"][0]["taxes_amount"], 21.0)
        self.assertIs(values["merged_lines"], False, "one bill line per extracted line")
        self.assertEqual(len(self.fake.validation_attempts), 1, "sent exactly once")

    def test_polling_is_batched(self):
        """500 pending documents: one get_results call, and the same queries as for 10, the bills' first "not
        ready" answer included (it wrote each bill on its own: 2 queries more per document). The one write is
        flushed by Odoo in UPDATEs of 100 rows: that is the only growth allowed."""
        self.fake.set_not_ready_polls(1000)
        client_ids = []
        document = base64.b64encode(SAMPLE).decode()
        from ..lib.extract_client import IapExtractClient

        client = IapExtractClient(self.fake.url)
        for _ in range(500):
            client_ids.append(client.parse("integration_token", document, {})["document_id"])
        moves = self.env["account.move"].create([{"move_type": "in_invoice"} for _ in range(500)])
        for move, doc_id in zip(moves, client_ids, strict=True):
            move.write({"ib_extract_state": "extract_not_ready", "ib_extract_document_id": doc_id})
        counts = {}
        for size in (10, 500, 10, 500):  # the second round is measured: the first warms the caches
            subset = moves[:size]
            subset.write({"ib_extract_state": "waiting_extraction"})  # the first answer moves them to not ready
            before_calls = self.fake.count("get_results")
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            subset._ib_extract_poll()
            self.drain()
            self.env.flush_all()
            counts[size] = self.env.cr.sql_log_count - start
            self.assertEqual(self.fake.count("get_results"), before_calls + 1)
            self.assertEqual(set(subset.mapped("ib_extract_state")), {"extract_not_ready"})
        flush_batches = -(-500 // UPDATE_BATCH_SIZE) - 1  # 500 rows: 4 UPDATEs more than for 10
        self.assertEqual(counts[500], counts[10] + flush_batches, counts)

    def upload(self):
        """A document posted on a new bill, as the chatter upload and Odoo's bill upload do."""
        move = self.env["account.move"].create({"move_type": "in_invoice"})
        attachment = self.env["ir.attachment"].create({"name": "bill.pdf", "raw": SAMPLE,
                                                       "mimetype": "application/pdf"})
        move.message_post(attachment_ids=attachment.ids)
        return move

    def test_automatic_digitization(self):
        self.assertEqual(self.upload().ib_extract_state, "no_extract_requested", "off by default")
        self.env.company.ib_extract_auto = "upload"
        self.assertEqual(self.upload().ib_extract_state, "waiting_extraction", "digitized on upload")
        self.env.company.ib_extract_auto = "alias"
        self.assertEqual(self.upload().ib_extract_state, "no_extract_requested", "uploads are not digitized")
        journal = self.company_data["default_journal_purchase"]
        journal.alias_name = "ib-bills"
        message = (
            "From: supplier@wood-corner.example\r\nTo: ib-bills@example.com\r\nSubject: Bill WC-2026-117\r\n"
            "Message-ID: <wc-117@wood-corner.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n"
            "Please find our bill.\r\n--XX\r\nContent-Type: application/pdf; name=bill.pdf\r\n"
            "Content-Disposition: attachment; filename=bill.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(SAMPLE).decode() + "\r\n--XX--\r\n")
        move_id = self.env["mail.thread"].message_process(
            "account.move", message, custom_values={"move_type": "in_invoice", "journal_id": journal.id})
        move = self.env["account.move"].browse(move_id)
        self.assertEqual(move.move_type, "in_invoice")
        self.assertEqual(move.ib_extract_state, "waiting_extraction", "digitized on creation from the alias")

    def test_one_line_per_tax(self):
        result = self.fake_default()
        line = dict(result["invoice_lines"][0])
        result["invoice_lines"] = [line, dict(line, description="Chair", unit_price=50.0, quantity=2.0,
                                              subtotal=100.0), dict(line, description="Delivery", taxes=[],
                                                                    unit_price=10.0, subtotal=10.0)]
        self.fake.set_result("default", result)
        self.env.company.ib_extract_line_per_tax = True
        move = self.digitize_and_fetch(self.bill())
        self.assertRecordValues(move.invoice_line_ids.sorted("price_unit"), [
            {"name": "Delivery", "quantity": 1.0, "price_unit": 10.0, "tax_ids": []},
            {"name": "Desk, Chair", "quantity": 1.0, "price_unit": 200.0, "tax_ids": self.tax21.ids},
        ])

    def test_refused_validation_is_not_sent_again(self):
        move = self.digitize_and_fetch(self.bill())
        move.ib_extract_document_id = 987654  # a document the service does not know: it refuses (code 2)
        move.action_post()
        self.drain()
        self.assertEqual(move.ib_extract_validation, "error")
        self.drain()
        self.assertEqual(len(self.fake.validation_attempts), 1, "never sent twice")

    def test_bmp_only_for_generation_1(self):
        move = self.bill(content=b"BM" + b"\0" * 64, mimetype="image/bmp")
        self.assertTrue(move.ib_extract_can_digitize)
        self.env.company.ib_extract_generation = "2"
        move.invalidate_recordset(["ib_extract_can_digitize"])
        self.assertFalse(move.ib_extract_can_digitize)

    def test_token_sources(self):
        """An explicit token, else Odoo's IAP account of the service invoice_ocr; test mode: integration_token."""
        service = self.env.ref("invoice_bridge.iap_service_invoice_ocr")
        self.env["iap.account"].create({"service_id": service.id, "account_token": "iap-account-token",
                                        "company_ids": [self.env.company.id]})
        self.env.company.ib_extract_token = False
        self.digitize(self.bill())
        self.env.company.ib_extract_test_mode = True
        self.digitize(self.bill())
        tokens = [params["account_token"] for route, params in self.fake.calls if route.endswith("parse")]
        self.assertEqual(tokens, ["iap-account-token", "integration_token"])

    def test_generation_1_uses_the_suppliers_account_at_the_bic(self):
        """The seed's SWIFT_code names the bank: the supplier's one account there is the bill's."""
        bnp = self.env["res.bank"].create({"name": "BNP Paribas Fortis", "bic": "GEBABEBB"})
        other = self.env["res.bank"].create({"name": "Other bank", "bic": "KREDBEBB"})
        # Odoo proposes the supplier's first account (at the other bank); the bill names BNP's
        self.env["res.partner.bank"].create({"acc_number": "BE43068999999501", "partner_id": self.supplier.id,
                                             "bank_id": other.id})
        account = self.env["res.partner.bank"].create({"acc_number": "BE71096123456769",
                                                       "partner_id": self.supplier.id, "bank_id": bnp.id})
        move = self.digitize_and_fetch(self.bill())
        self.assertEqual(move.partner_bank_id, account)
        self.assertEqual(len(self.supplier.bank_ids), 2, "nothing created")

    def test_generation_2(self):
        """Document tokens, string statuses, one document per poll, the callback URL, validation once."""
        self.env.company.ib_extract_generation = "2"
        # the callback goes nowhere here (the callback controller has its own test): no stray request later
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://127.0.0.1:9")
        moves = self.bill() | self.bill()
        self.digitize(moves)
        self.assertTrue(all(moves.mapped("ib_extract_document_token")))
        self.assertEqual(set(moves.mapped("ib_extract_document_id")), {0})
        route, params = next(c for c in self.fake.calls if c[0] in ("parse_v2", "/api/extract/invoice/2/parse"))
        self.assertEqual(params["version"], 123)
        token = self.env["account.move"]._ib_extract_webhook_token()
        self.assertEqual(params["webhook_url"], f"http://127.0.0.1:9/invoice_bridge/iap_extract/webhook/{token}")
        self.refresh(moves)
        self.assertEqual(self.fake.count("/api/extract/invoice/2/get_result"), 2, "one call per document")
        deadline = time.monotonic() + 10  # the fake calls the webhook URL asynchronously, then answers success
        while len(self.fake.callbacks) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.refresh(moves.filtered(lambda m: m.ib_extract_state != "done"))
        self.assertEqual(set(moves.mapped("ib_extract_state")), {"done"})
        self.assertEqual(moves[0].partner_id, self.supplier)
        # generation 2 answers an iban: the supplier's account, created once, at the bank of SWIFT_code's BIC
        bank = self.supplier.bank_ids
        self.assertEqual(bank.sanitized_acc_number, "BE68539007547034")
        self.assertEqual(bank.bank_id.bic, "GEBABEBB")
        self.assertEqual(moves.partner_bank_id, bank)
        moves[0].action_post()
        self.drain()
        self.drain()
        self.assertEqual(moves[0].ib_extract_validation, "validated")
        self.assertEqual(list(self.fake.validations), [moves[0].ib_extract_document_token])

    def test_multi_company_tokens(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        company_b.write({"ib_extract_endpoint": self.fake.url, "ib_extract_token": "company-b-token"})
        self.env.user.company_ids |= company_b
        move_b = self.env["account.move"].with_company(company_b).create({"move_type": "in_invoice"})
        attachment = self.env["ir.attachment"].create({"name": "b.pdf", "raw": SAMPLE, "mimetype": "application/pdf",
                                                       "res_model": "account.move", "res_id": move_b.id})
        move_b.message_main_attachment_id = attachment
        self.digitize(move_b)
        self.digitize(self.bill())
        tokens = [params["account_token"] for route, params in self.fake.calls if route.endswith("parse")]
        self.assertEqual(tokens, ["company-b-token", "company-a-token"])


@tagged("post_install", "-at_install")
class TestIapExtractCallback(HttpCase):

    def test_callback_only_wakes_the_polling_cron(self):
        cron = self.env.ref("invoice_bridge.ir_cron_extract_poll")
        token = self.env["account.move"]._ib_extract_webhook_token()
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        response = self.url_open(f"/invoice_bridge/iap_extract/webhook/{token}", data=b"{}")  # a POST
        self.assertEqual(response.status_code, 204)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), before + 1)
        self.assertEqual(self.url_open(f"/invoice_bridge/iap_extract/webhook/{token}").status_code, 405, "POST only")
        for wrong in ("some-token", token[:-1] + "0" if token[-1] != "0" else token[:-1] + "1"):
            self.assertEqual(self.url_open(f"/invoice_bridge/iap_extract/webhook/{wrong}", data=b"{}").status_code,
                             404, "an unknown token wakes nothing")
        self.assertEqual(self.url_open("/invoice_bridge/iap_extract/webhook", data=b"{}").status_code, 404)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), before + 1)
