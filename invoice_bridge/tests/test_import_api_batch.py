"""The batch import route (issue #17, item 6), over real HTTP: one result per invoice, in order, each the status
and body the single route answers; a refused invoice never undoes the others. Concurrent batches are in
``tests/test_import_api_real.py``; the speed, in ``bench/import_api.py``."""
import psycopg2

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from ..lib.import_api_fields import IMPORT_INVOICE
from ..lib.import_api_messages import PayloadError
from ..lib.import_api_validation import parse_data
from .test_import_api import IMPORT, ImportApiCase

BATCH = "/api/sales/import/invoices/"
#: a CHECK constraint this test adds to account_move (rolled back with the test): a fault no field rule foresees
POISON = "POISON-1"


@tagged("post_install", "-at_install")
class TestImportApiBatch(ImportApiCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.setup_other_company(name="Batch company B")["company"]

    def batch(self, invoices, key=None):
        status, body = self.call(BATCH, {"invoices": invoices}, key=key)
        self.env.invalidate_all()  # the request wrote through its own cursor
        return status, body

    def single_answer(self, payload):
        """What the single route answers for ``payload``, and nothing kept of it (a savepoint rolled back)."""
        with self.env.cr.savepoint() as savepoint:
            answer = self.call(IMPORT, payload)
            savepoint.rollback()
        self.env.invalidate_all()
        return answer

    def test_results_in_order_with_the_single_routes_bodies(self):
        self.call(IMPORT, self.payload(invoice_no="B-OLD"))
        old = self.imported("B-OLD")
        bad = self.payload(invoice_no="B-BAD", invoice_date="2025-02-30")
        expected_bad = self.single_answer(bad)
        self.assertEqual(expected_bad[0], 400, expected_bad)
        status, body = self.batch([self.payload(invoice_no="B-1"), bad, self.payload(invoice_no="B-2"),
                                   self.payload(invoice_no="B-1"), self.payload(invoice_no="B-OLD"), "not an object"])
        self.assertEqual(status, 200, body)
        self.assertEqual((body["success"], body["message"]), (False, "2 of 6 invoices imported"))
        first, second = self.imported("B-1"), self.imported("B-2")
        self.assertEqual((len(first), len(second)), (1, 1))
        self.assertEqual(body["results"], [
            {"status": 201, "body": {"success": True, "message": "Invoice imported successfully",
                                     "data": {"id": first.id, "invoice_no": "B-1", "total_amount": 920.0}}},
            {"status": 400, "body": expected_bad[1]},
            {"status": 201, "body": {"success": True, "message": "Invoice imported successfully",
                                     "data": {"id": second.id, "invoice_no": "B-2", "total_amount": 920.0}}},
            # twice in the batch: as a second single POST of the number would answer
            {"status": 409, "body": {"success": False, "message": "Invoice with this invoice_no already exists.",
                                     "data": {"id": first.id, "invoice_no": "B-1"}}},
            {"status": 409, "body": {"success": False, "message": "Invoice with this invoice_no already exists.",
                                     "data": {"id": old.id, "invoice_no": "B-OLD"}}},
            {"status": 400, "body": {"success": False, "message": "Validation failed", "errors": {
                "body": ["Expected a JSON object at the top level, but got string."]}}},
        ])
        self.assertFalse(self.imported("B-BAD"))
        # each imported invoice as the single route makes it: same lines, state, key, event
        reference = self.imported("B-OLD")
        for move in first | second:
            self.assertEqual(
                (move.ib_import_state, move.ib_api_key_id, move.amount_total, move.invoice_line_ids.mapped("quantity")),
                (reference.ib_import_state, reference.ib_api_key_id, reference.amount_total,
                 reference.invoice_line_ids.mapped("quantity")))
            self.assertEqual(self.env["invoice_bridge.api.event"].search([("move_id", "=", move.id)]).event,
                             "invoice_created")
        log = self.env["invoice_bridge.sync.log"].search([("channel", "=", "import_api")], order="id desc", limit=1)
        self.assertEqual((log.http_status, log.message), (200, "key ALFA ERP: 2 of 6 invoices imported"))

    def test_valid_invoices_are_created_in_one_create(self):
        invoices = [self.payload(invoice_no=f"ONE-{index}") for index in range(5)]
        status, body = self.batch(invoices)
        self.assertEqual((status, [r["status"] for r in body["results"]]), (200, [201] * 5), body)
        moves = self.env["account.move"].search([("ib_invoice_no", "=like", "ONE-%")], order="id")
        self.assertEqual(moves.mapped("ib_invoice_no"), [f"ONE-{index}" for index in range(5)], "in order")
        self.assertEqual([r["body"]["data"]["id"] for r in body["results"]], moves.ids)

    def test_the_service_creates_at_once_and_falls_back_only_on_a_fault(self):
        """The service itself: refused items are left out of the one create; a fault of that create makes each
        item its own attempt, the faulty one refused with its database error."""
        service = self.env["invoice_bridge.import.service"].with_user(self.tech_user).with_company(self.company)
        items = [parse_data(IMPORT_INVOICE, self.payload(invoice_no=number)) for number in ("SV-1", "SV-2")]
        refused = PayloadError({"invoice_no": ["bad"]})
        results = service._import_invoices([items[0], refused, items[1]], self.company)
        self.assertEqual([r._name if hasattr(r, "_name") else r for r in results],
                         ["account.move", refused, "account.move"])
        self.env.cr.execute(f"""ALTER TABLE account_move ADD CONSTRAINT ib_test_poison
                                CHECK (ib_invoice_no IS DISTINCT FROM '{POISON}')""")
        items = [parse_data(IMPORT_INVOICE, self.payload(invoice_no=number)) for number in ("SV-3", POISON)]
        results = service._import_invoices(items, self.company)
        self.assertEqual(results[0].ib_invoice_no, "SV-3")
        self.assertIsInstance(results[1], psycopg2.IntegrityError)

    def test_a_fault_of_the_batch_create_falls_back_to_one_by_one(self):
        """A fault only the database sees (a constraint): the batched create fails, each invoice is then imported
        on its own; the faulty one is refused with the single route's 400, the others are created, and the
        webhook events of the invoices before it are kept (Odoo's savepoint drops the pre-commit hooks)."""
        self.env.cr.execute(f"""ALTER TABLE account_move ADD CONSTRAINT ib_test_poison
                                CHECK (ib_invoice_no IS DISTINCT FROM '{POISON}')""")
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Batch receiver", "url": "https://receiver.example.com/hook", "company_id": self.company.id})
        expected = self.single_answer(self.payload(invoice_no=POISON))
        self.assertEqual(expected[0], 400, expected)
        self.assertEqual(expected[1]["errors"]["non_field_errors"], [
            "The database refused this invoice (constraint ib_test_poison): correct the data and send again."])
        # the batch of three cannot have been created at once: its create holds the faulty one
        status, body = self.batch([self.payload(invoice_no="FB-1"), self.payload(invoice_no=POISON),
                                   self.payload(invoice_no="FB-2")])
        self.assertEqual([r["status"] for r in body["results"]], [201, 400, 201], body)
        self.assertEqual(body["results"][1]["body"], expected[1])
        moves = self.imported("FB-1") | self.imported("FB-2")
        self.assertEqual(len(moves), 2)
        self.assertFalse(self.imported(POISON))
        queued = self.env["invoice_bridge.outbox"].search([("webhook_endpoint_id", "=", endpoint.id)])
        self.assertEqual(set(queued.mapped("res_id")), set(moves.ids), "every imported invoice announced")

    def test_the_whole_request_refused(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.import_batch_size", "3")
        cases = {
            "no list": ({"invoice": []}, "Send the invoices as a list"),
            "empty": ({"invoices": []}, "Send between 1 and 3 invoices in one batch (got 0)."),
            "too many": ({"invoices": [self.payload(invoice_no=f"TM-{i}") for i in range(4)]},
                         "Send between 1 and 3 invoices in one batch (got 4)."),
        }
        for case, (body, error) in cases.items():
            with self.subTest(case):
                status, answer = self.call(BATCH, body)
                self.assertEqual((status, answer["message"]), (400, "Validation failed"), answer)
                self.assertIn(error, answer["errors"]["invoices"][0])
        status, answer = self.call(BATCH, b'{"invoices": [')
        self.assertEqual(status, 400, answer)
        self.assertFalse(self.env["account.move"].search([("ib_invoice_no", "=like", "TM-%")]))

    def test_rights_and_companies(self):
        plain = new_test_user(self.env, "batch_plain", groups="base.group_user", company_id=self.company.id)
        key = self.env["invoice_bridge.api.key"].create({"name": "plain", "company_id": self.company.id,
                                                        "user_id": plain.id})
        status, body = self.batch([self.payload(invoice_no="R-1")], key=key._generate_key())
        self.assertEqual((status, body["success"]), (403, False), body)
        self.assertNotIn("results", body, "a caller who may not import learns nothing of the invoices")
        self.assertFalse(self.imported("R-1"))
        # another company's key: its own invoices, even with the numbers of this company's
        self.call(IMPORT, self.payload(invoice_no="R-2"))
        other = self.other_company
        other_user = new_test_user(self.env, "batch_other", groups="account.group_account_invoice",
                                   company_id=other.id, company_ids=[(6, 0, other.ids)])
        other_key = self.env["invoice_bridge.api.key"].create({"name": "other", "company_id": other.id,
                                                              "user_id": other_user.id})
        status, body = self.batch([self.payload(invoice_no="R-2")], key=other_key._generate_key())
        self.assertEqual([r["status"] for r in body["results"]], [201], body)
        moves = self.env["account.move"].search([("ib_invoice_no", "=", "R-2")])
        self.assertEqual(set(moves.mapped("company_id")), {self.company, other})

    def test_setting_in_the_settings_page(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.ib_import_batch_size, 100)
        settings.ib_import_batch_size = 20
        settings.execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("invoice_bridge.import_batch_size"), "20")
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"ib_import_batch_size": 251})
        status, body = self.call(BATCH, {"invoices": [self.payload(invoice_no=f"S-{i}") for i in range(21)]})
        self.assertEqual((status, body["errors"]["invoices"]),
                         (400, ["Send between 1 and 20 invoices in one batch (got 21)."]))
