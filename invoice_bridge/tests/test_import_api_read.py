"""The import API's read routes and its retry-safe PATCH (issue #17, items 5 and 7), over real HTTP.

``GET /api/sales/invoice/<invoice_no>/`` and ``GET /api/sales/invoices/`` (keyset pages on ``(write_date, id)``),
and ``PATCH /api/sales/update/invoice/`` with an ``Idempotency-Key``. What needs real concurrent transactions (a
page while others commit, two PATCHes at once) is in ``tests/test_import_api_real.py``.
"""
import json
from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import new_test_user, tagged

from .test_import_api import IMPORT, UPDATE, ImportApiCase, issue_key

LIST = "/api/sales/invoices/"
PATCH_KEYS = ("id", "invoice_no", "status", "total_amount", "untaxed_amount", "tax_amount", "updated_at")


def read_path(invoice_no):
    return f"/api/sales/invoice/{invoice_no}/"


@tagged("post_install", "-at_install")
class ImportApiReadCase(ImportApiCase):

    def get(self, path, key=None, headers=None, params=None):
        """``(status, JSON body)`` of a GET over real HTTP."""
        request_headers = dict(headers or {})
        if key is not False:
            request_headers.setdefault("X-API-KEY", key or self.key)
        response = self.opener.get(self.base_url() + path, params=params, headers=request_headers, timeout=30)
        self.env.invalidate_all()  # the request wrote through its own cursor
        return response.status_code, response.json()

    def import_invoice(self, invoice_no, key=None):
        status, body = self.call(IMPORT, self.payload(invoice_no=invoice_no), key=key)
        self.assertEqual(status, 201, body)
        self.env.invalidate_all()
        return self.imported(invoice_no)

    def patch(self, body, idempotency_key=None, key=None):
        """The raw answer of a PATCH (its bytes and headers matter here)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self.request(UPDATE, body, key=key, method="PATCH", headers=headers)
        self.env.invalidate_all()
        return response


class TestImportApiRead(ImportApiReadCase):

    def test_one_invoice_is_the_patch_answer_and_its_lines(self):
        move = self.import_invoice("LTPI-77282")
        move._ib_return_to_billing("PR650 batch missing")
        patched = self.patch({"invoice_no": "LTPI-77282", "items": [{"item_code": "PR650", "batch_no": "B456"}]})
        self.assertEqual(patched.status_code, 200, patched.text)
        status, body = self.get(read_path("LTPI-77282"))
        self.assertEqual(status, 200, body)
        self.assertEqual((body["success"], body["message"]), (True, "Invoice found"))
        data = body["data"]
        # the PATCH answer's keys first, with the same values, then the state, the number, the currency, the lines
        self.assertEqual(list(data), [*PATCH_KEYS, "state", "number", "currency", "items"])
        self.assertEqual({k: data[k] for k in PATCH_KEYS}, patched.json()["data"])
        self.assertEqual(data, move._ib_import_data(list(data)), "the one serialisation of an imported invoice")
        self.assertEqual((data["status"], data["state"], data["number"], data["total_amount"]),
                         ("waiting_approval", "draft", None, 920.0))
        self.assertEqual([(i["item_code"], i["quantity"], i["mrp"], i["batch_no"], i["subtotal"])
                          for i in data["items"]], [("PR650", 20, 3.5, "B456", 70.0), ("OTN10", 10, 85.0, None, 850.0)])
        log = self.env["invoice_bridge.sync.log"].search([("channel", "=", "import_api"), ("http_method", "=", "GET")])
        self.assertEqual((log.http_status, log.move_id, log.reference), (200, move, "LTPI-77282"))

    def test_numbers_with_slashes(self):
        move = self.import_invoice("INV/2025/7")
        for path in (read_path("INV/2025/7"), read_path("INV%2F2025%2F7")):
            status, body = self.get(path)
            self.assertEqual((status, body["data"]["id"]), (200, move.id), path)
        for path in (read_path("A%00B"), read_path("X" * 65)):  # no import accepts these: no invoice, never a 500
            self.assertEqual(self.get(path)[0], 404, path)

    def test_rights_and_companies_as_for_patch(self):
        move = self.import_invoice("LTPI-77282")
        self.assertEqual(self.get(read_path("LTPI-77282"), key=False), (401, {
            "success": False, "message": "Authentication credentials were not provided."}))
        status, body = self.get(read_path("NOPE"))
        self.assertEqual((status, body["message"]), (404, "Invoice with this invoice_no does not exist."))
        # a user who may not read invoices: 403 before anything is looked up, on both routes
        internal = new_test_user(self.env, "internal_reader", groups="base.group_user", company_id=self.company.id,
                                 company_ids=[Command.set(self.company.ids)])
        token = self.env["res.users.apikeys"].with_user(internal)._generate("rpc", "read", self.tomorrow())
        for path in (read_path("LTPI-77282"), LIST):
            status, _body = self.get(path, key=False, headers={"Authorization": f"Bearer {token}"})
            self.assertEqual(status, 403, path)
        # another company's key: A's invoice is unknown (404, never 403), A's invoices are not listed
        company_b = self.setup_other_company(name="Company B")["company"]
        user_b = new_test_user(self.env, "tech_read_b", groups="base.group_user,account.group_account_invoice",
                               company_id=company_b.id, company_ids=[Command.set(company_b.ids)])
        key_b = issue_key(self.env["invoice_bridge.api.key"].create(
            {"name": "B", "company_id": company_b.id, "user_id": user_b.id}))
        self.assertEqual(self.get(read_path("LTPI-77282"), key=key_b)[0], 404)
        status, body = self.get(LIST, key=key_b)
        self.assertEqual((status, body["data"], body["has_more"]), (200, [], False))
        move_b = self.import_invoice("B-1", key=key_b)
        self.assertEqual([i["id"] for i in self.get(LIST, key=key_b)[1]["data"]], move_b.ids)
        self.assertEqual([i["id"] for i in self.get(LIST)[1]["data"]], move.ids)
        # a Bearer user with Billing rights reads like the key's technical user
        accountant = new_test_user(self.env, "reader_a", groups="base.group_user,account.group_account_invoice",
                                   company_id=self.company.id, company_ids=[Command.set(self.company.ids)])
        token = self.env["res.users.apikeys"].with_user(accountant)._generate("rpc", "read", self.tomorrow())
        status, body = self.get(read_path("LTPI-77282"), key=False, headers={"Authorization": f"Bearer {token}"})
        self.assertEqual((status, body["data"]["id"]), (200, move.id))


class TestImportApiList(ImportApiReadCase):

    def touch(self, moves, start, step=timedelta(minutes=1)):
        """Give ``moves`` the write dates ``start``, ``start + step``, … (the test's transaction would give them
        all the same one: this is the order in which real transactions would have written them)."""
        self.env.flush_all()
        for index, move in enumerate(moves):
            self.env.cr.execute("UPDATE account_move SET write_date = %s WHERE id = %s",
                                (start + index * step, move.id))
        moves.invalidate_recordset(["write_date"])
        return start + len(moves) * step

    def page(self, cursor=None, **params):
        if cursor:
            params["cursor"] = cursor
        status, body = self.get(LIST, params=params)
        self.assertEqual(status, 200, body)
        return [item["id"] for item in body["data"]], body["next_cursor"], body["has_more"]

    def page_on(self, cursor, limit):
        """Every id of the pages from ``cursor`` to the end, and the last cursor."""
        ids, more = [], True
        while more:
            page, cursor, more = self.page(cursor, limit=limit)
            ids += page
        return ids, cursor

    def test_pages_follow_write_date_and_id_and_filters(self):
        moves = self.env["account.move"]
        for index in range(5):
            moves |= self.import_invoice(f"LIST-{index}")
        self.touch(moves[:3], datetime(2025, 1, 1), step=timedelta(0))  # the same write_date: then the id decides
        self.touch(moves[3:], datetime(2025, 1, 2))
        ids, cursor, more = self.page(limit=2)
        self.assertEqual((ids, more), (moves[:2].ids, True))
        rest, last = self.page_on(cursor, 2)
        self.assertEqual(ids + rest, moves.ids)
        self.assertEqual(self.page(last), ([], last, False), "at the end: nothing, and the same cursor to poll with")
        self.assertEqual(self.get(LIST)[1]["data"][0], moves[0]._ib_import_data(
            [*PATCH_KEYS, "state", "number", "currency", "items"]), "each item as GET of one invoice answers it")
        # filters
        moves[1]._ib_return_to_billing("check")
        moves[4].action_ib_void()
        self.assertEqual(self.page(status="review")[0], moves[1].ids)
        self.assertEqual(self.page(status="void,review")[0], (moves[1] | moves[4]).ids)
        self.touch(moves, datetime(2025, 1, 1))  # 00:00, 00:01, ... 00:04
        self.assertEqual(self.page(updated_since="2025-01-01T05:32:00+05:30")[0], moves[2:].ids)
        # a cursor keeps the filters of its first page
        ids, cursor, more = self.page(status="waiting_approval", limit=1)
        self.assertEqual((ids, more), (moves[0].ids, True))
        self.assertEqual(self.page_on(cursor, 1)[0], (moves[2] | moves[3]).ids)
        status, body = self.get(LIST, params={"cursor": cursor, "status": "review"})
        self.assertEqual((status, list(body["errors"])), (400, ["cursor"]))

    def test_no_item_skipped_or_repeated_while_others_are_inserted_and_updated(self):
        """Page, then insert one invoice and change two (one already listed, one not yet), then page on: every
        untouched invoice comes once, the new one and the one changed before it was reached come once, the one
        changed after it was listed comes again at the end with its new content (offset paging would skip one)."""
        moves = self.env["account.move"]
        for index in range(6):
            moves |= self.import_invoice(f"PAGE-{index}")
        later = self.touch(moves, datetime(2025, 1, 1))
        first, cursor, _more = self.page(limit=2)
        self.assertEqual(first, moves[:2].ids)
        inserted = self.import_invoice("PAGE-NEW")
        listed, ahead = moves[1], moves[3]
        listed._ib_return_to_billing("changed after it was listed")
        ahead._ib_return_to_billing("changed before it was reached")
        self.touch(inserted | listed | ahead, later)
        rest, _cursor = self.page_on(cursor, 2)
        seen = first + rest
        untouched = moves - listed - ahead
        self.assertEqual([seen.count(move_id) for move_id in untouched.ids], [1] * len(untouched), seen)
        self.assertEqual((seen.count(inserted.id), seen.count(ahead.id), seen.count(listed.id)), (1, 1, 2), seen)
        self.assertEqual(seen, [*moves[:3].ids, *moves[4:].ids, inserted.id, listed.id, ahead.id])

    def test_bad_parameters_are_400_per_field_and_change_nothing(self):
        self.import_invoice("LTPI-77282")
        logs = self.env["invoice_bridge.sync.log"].search_count([])
        status, body = self.get(LIST, params={"status": "posted", "updated_since": "yesterday", "limit": "1000",
                                              "cursor": "not-a-cursor"})
        self.assertEqual(status, 400, body)
        self.assertEqual((body["success"], body["message"]), (False, "Validation failed"))
        self.assertEqual(sorted(body["errors"]), ["cursor", "limit", "status", "updated_since"])
        self.assertIn("1 to 200", body["errors"]["limit"][0])
        self.assertEqual(self.env["invoice_bridge.sync.log"].search_count([]), logs + 1, "one line for the 400")
        ids, _cursor, _more = self.page(limit=200)  # the maximum is allowed; the default is 50
        self.assertEqual(len(ids), 1)


class TestImportApiIdempotency(ImportApiReadCase):

    def setUp(self):
        super().setUp()
        self.move = self.import_invoice("LTPI-77282")
        self.move._ib_return_to_billing("PR650 batch missing")
        self.correction = {"invoice_no": "LTPI-77282", "resolution_notes": "Batch added",
                           "items": [{"item_code": "PR650", "batch_no": "B456"}, {"item_code": "NEW1",
                                                                                   "name": "Vitamin C",
                                                                                   "quantity": 2, "mrp": 10}]}

    def effects(self):
        """What a PATCH changes: the invoice's lines and status, its chatter notes, its events."""
        move = self.move
        move.invalidate_recordset()
        return (move.ib_import_state, len(move.invoice_line_ids), move.amount_total,
                len(move.message_ids.filtered(lambda m: "Corrected through the import API" in (m.body or ""))),
                self.env["invoice_bridge.api.event"].search_count([("event", "=", "invoice_updated")]))

    def test_a_repeated_patch_answers_the_first_answer_and_changes_nothing(self):
        first = self.patch(self.correction, idempotency_key="fix-77282-1")
        self.assertEqual(first.status_code, 200, first.text)
        self.assertNotIn("Idempotent-Replayed", first.headers)
        after_first = self.effects()
        self.assertEqual(after_first, ("waiting_approval", 3, 940.0, 1, 1))
        # without a key, the same PATCH is now refused: the invoice is no longer in review
        self.assertEqual(self.patch(self.correction).status_code, 409)
        # with it: the first answer, byte for byte, and nothing runs again (also when the JSON is spelled otherwise)
        respelled = json.dumps(self.correction, indent=2, sort_keys=True).encode()
        for body in (self.correction, respelled):
            again = self.patch(body, idempotency_key="fix-77282-1")
            self.assertEqual((again.status_code, again.content), (200, first.content))
            self.assertEqual(again.headers["Idempotent-Replayed"], "true")
            self.assertEqual(self.effects(), after_first)
        lines = self.env["invoice_bridge.sync.log"].search([("http_method", "=", "PATCH"), ("http_status", "=", 200)])
        self.assertEqual(len(lines), 3)
        self.assertIn("given again", lines.sorted("id")[-1].message)

    def test_the_same_key_with_another_body_is_422(self):
        self.assertEqual(self.patch(self.correction, idempotency_key="fix-1").status_code, 200)
        self.move._ib_return_to_billing("once more")
        before = self.effects()
        other = dict(self.correction, resolution_notes="Another correction")
        answer = self.patch(other, idempotency_key="fix-1")
        self.assertEqual(answer.status_code, 422, answer.text)
        self.assertEqual(list(answer.json()["errors"]), ["Idempotency-Key"])
        self.assertEqual(self.effects(), before, "nothing done")
        self.assertEqual(self.patch(other, idempotency_key="fix-2").status_code, 200, "a new key runs")

    def test_keys_belong_to_their_api_key(self):
        other_key = issue_key(self.env["invoice_bridge.api.key"].create(
            {"name": "Other ERP", "company_id": self.company.id, "user_id": self.tech_user.id}))
        self.assertEqual(self.patch(self.correction, idempotency_key="shared-name").status_code, 200)
        # the other client picked the same key: its request runs (and is refused: the invoice left review)
        answer = self.patch(self.correction, idempotency_key="shared-name", key=other_key)
        self.assertEqual(answer.status_code, 409, answer.text)
        self.assertNotIn("Idempotent-Replayed", answer.headers)

    def test_refusals_are_not_kept(self):
        self.move.write({"ib_import_state": "waiting_approval"})
        self.assertEqual(self.patch(self.correction, idempotency_key="early").status_code, 409)
        self.move._ib_return_to_billing("now in review")
        answer = self.patch(self.correction, idempotency_key="early")
        self.assertEqual(answer.status_code, 200, "the retry ran: a refusal changed nothing and was not kept")
        self.assertNotIn("Idempotent-Replayed", answer.headers)

    def test_malformed_key_is_a_400(self):
        answer = self.patch(self.correction, idempotency_key="x" * 256)
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(list(answer.json()["errors"]), ["Idempotency-Key"])
        self.assertEqual(self.move.ib_import_state, "review")

    def test_keys_are_kept_24_hours_then_vacuumed(self):
        first = self.patch(self.correction, idempotency_key="old")
        self.assertEqual(first.status_code, 200)
        self.move._ib_return_to_billing("once more")
        self.assertEqual(self.patch(self.correction, idempotency_key="recent").status_code, 200)
        Kept = self.env["invoice_bridge.api.idempotency"]
        self.assertEqual(Kept.search([]).mapped("idempotency_key"), ["recent", "old"])
        self.env.cr.execute("""UPDATE invoice_bridge_api_idempotency SET create_date = create_date - interval '25 hours'
                               WHERE idempotency_key = 'old'""")
        Kept.invalidate_model()
        self.move._ib_return_to_billing("after a day")
        again = self.patch(self.correction, idempotency_key="old")  # expired: it runs again
        self.assertEqual(again.status_code, 200)
        self.assertNotIn("Idempotent-Replayed", again.headers)
        self.env.cr.execute("""UPDATE invoice_bridge_api_idempotency SET create_date = create_date - interval '25 hours'
                               WHERE idempotency_key = 'recent'""")
        self.env["invoice_bridge.sync.log"]._cron_vacuum()  # the nightly vacuum (cron) forgets expired keys
        self.assertEqual(Kept.search([]).mapped("idempotency_key"), ["old"])
        # the kept answers are the API's: Invoice Bridge managers do not read them
        manager = new_test_user(self.env, "ib_manager_idem", groups="base.group_user,account.group_account_manager",
                                company_id=self.company.id, company_ids=[Command.set(self.company.ids)])
        self.assertFalse(Kept.with_user(manager).has_access("read"))
