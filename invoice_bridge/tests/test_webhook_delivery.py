"""Deliveries to slow receivers side by side (an endpoint's own limit, each invoice's order, a pause), and
Replay since…"""
from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .core_common import WebhookCase, user_groups
from .fakes.core_loopback import peak_in_flight

DELAY = 0.4  # the receiver answers after this many seconds


@tagged("post_install", "-at_install")
class TestWebhookConcurrency(WebhookCase):

    def setUp(self):
        super().setUp()
        self.receiver.set_default(delay=DELAY)

    def message_of(self, delivery):
        return self.Outbox.search([("idempotency_key", "=", delivery["webhook_id"])])

    def test_an_endpoint_gets_up_to_its_limit_at_once(self):
        self.endpoint.max_in_flight = 3
        moves = [self.make_invoice() for _ in range(6)]
        self.assertEqual(self.drain(), 6)
        deliveries = self.receiver.deliveries
        self.assertEqual(len(deliveries), 6)
        self.assertTrue(all(d["verified"] for d in deliveries), "every side-by-side request is signed")
        self.assertEqual(peak_in_flight(deliveries, DELAY), 3)
        self.assertEqual({self.message_of(d).res_id for d in deliveries}, {m.id for m in moves})
        self.receiver.clear()
        self.endpoint.max_in_flight = 1  # one after the other, as before the setting existed
        for _ in range(3):
            self.make_invoice()
        self.assertEqual(self.drain(), 3)
        self.assertEqual(peak_in_flight(self.receiver.deliveries, DELAY), 1)

    def test_the_events_of_one_invoice_never_overtake_each_other(self):
        self.endpoint.max_in_flight = 8
        move = self.make_invoice()
        self.pay(move, move.amount_total)  # "paid" queued in the same transaction, behind "new_invoice"
        others = [self.make_invoice() for _ in range(3)]
        self.drain()
        mine = [d for d in self.receiver.deliveries if self.message_of(d).res_id == move.id]
        self.assertEqual([d["json"]["event"] for d in mine], ["new_invoice", "invoice_paid"])
        self.assertGreaterEqual(mine[1]["received_at"], mine[0]["received_at"] + DELAY,
                                "the second event is sent only once the first one is answered")
        self.assertEqual(len(self.receiver.deliveries), 2 + len(others))

    def test_a_slow_down_answer_holds_what_has_not_started(self):
        """Requests already under way finish; the endpoint's others wait for the pause, unattempted."""
        self.endpoint.max_in_flight = 3
        self.receiver.fail_next(1, status=429, retry_after=120)  # at once, while the two others are under way
        for _ in range(6):
            self.make_invoice()
        self.precommit()
        messages = self.Outbox.search([("webhook_endpoint_id", "=", self.endpoint.id)])
        self.drain()
        self.assertEqual(len(self.receiver.deliveries), 3, "the three sent at once, and no more")
        self.assertEqual(sorted(messages.mapped("attempt_count")), [0, 0, 0, 1, 1, 1])
        self.assertEqual(sorted(messages.mapped("state")), ["done", "done"] + ["pending"] * 4)
        target = self.env["invoice_bridge.outbox.target"].search([("name", "=", self.endpoint._target_name())])
        self.assertGreater(target.paused_until, fields.Datetime.now())

    def test_the_limit_is_checked(self):
        for wrong in (0, 33):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.endpoint.max_in_flight = wrong
                self.endpoint.flush_recordset()


@tagged("post_install", "-at_install")
class TestWebhookReplay(WebhookCase):
    """Replay since…: a manager sends an endpoint's messages of a time range again, as they were."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.manager = cls.env["res.users"].create({
            "name": "Replay manager", "login": "ib_replay_manager", "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            **user_groups(cls.env, cls.env.ref("account.group_account_manager"))})
        cls.billing = cls.env["res.users"].create({
            "name": "Replay billing", "login": "ib_replay_billing", "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            **user_groups(cls.env, cls.env.ref("account.group_account_invoice"))})

    def open_wizard(self, user, **vals):
        action = self.endpoint.with_user(user).action_open_replay()
        return self.env[action["res_model"]].with_user(user).with_context(**action["context"]).create(vals)

    def test_a_manager_replays_a_time_range_with_the_original_webhook_ids(self):
        start = fields.Datetime.now() - timedelta(minutes=1)
        for _ in range(3):
            self.make_invoice()
        self.drain()
        first = {d["webhook_id"] for d in self.receiver.deliveries}
        self.assertEqual(len(first), 3)
        self.receiver.clear()
        wizard = self.open_wizard(self.manager, date_from=start)
        self.assertEqual(wizard.endpoint_id, self.endpoint)
        self.assertEqual(wizard.message_count, 3)
        wizard.action_replay()
        self.drain()
        again = self.receiver.deliveries
        self.assertEqual({d["webhook_id"] for d in again}, first, "the same webhook-ids: receivers deduplicate")
        self.assertTrue(all(d["verified"] for d in again))
        self.assertIn("replayed 3 message(s)", self.endpoint.message_ids[:1].body)
        # a range with nothing in it says so
        empty = self.open_wizard(self.manager, date_from=fields.Datetime.now() + timedelta(hours=1),
                                 date_to=fields.Datetime.now() + timedelta(hours=2))
        self.assertEqual(empty.message_count, 0)
        with self.assertRaises(UserError):
            empty.action_replay()

    def test_only_managers_replay(self):
        self.make_invoice()
        self.drain()
        with self.assertRaises(AccessError):
            self.open_wizard(self.billing, date_from=fields.Datetime.now() - timedelta(hours=1)).action_replay()


@tagged("post_install", "-at_install")
class TestWebhookEndpointStats(WebhookCase):

    def test_a_day_of_deliveries_in_the_endpoint_s_graph(self):
        self.receiver.fail_next(1, status=500)
        for _ in range(4):
            self.make_invoice()
        self.drain()
        self.env.flush_all()
        action = self.endpoint.action_open_stats()
        self.assertEqual(action["res_model"], "invoice_bridge.webhook.endpoint.stat")
        self.assertIn("graph", action["view_mode"])
        day = self.env[action["res_model"]].search(action["domain"])
        logs = self.Log.search([("outbox_id.webhook_endpoint_id", "=", self.endpoint.id),
                                ("state", "!=", "pending")])
        self.assertEqual(len(day), 1)
        self.assertRecordValues(day, [{"endpoint_id": self.endpoint.id, "attempts": 4, "successes": 3,
                                       "success_rate": 75.0, "p95_ms": max(logs.mapped("duration_ms"))}])
        # grouped for the graph, as the web client reads it
        groups = self.env[action["res_model"]]._read_group(action["domain"], ["day:day"],
                                                           ["success_rate:avg", "p95_ms:max"])
        self.assertEqual([(rate, p95) for _day, rate, p95 in groups], [(75.0, day.p95_ms)])


@tagged("post_install", "-at_install")
class TestWebhookEndpointHealth(WebhookCase):

    def test_failing_for_days_disables_the_endpoint_and_tells_its_responsible(self):
        responsible = self.env["res.users"].create({
            "name": "Endpoint owner", "login": "ib_endpoint_owner", "email": "owner@example.com",
            **user_groups(self.env, self.env.ref("account.group_account_manager"))})
        self.endpoint.user_id = responsible
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.breaker_failures", "0")
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,1d,1d,1d,1d,1d,1d,1d")
        self.receiver.set_default(status=503)
        start = fields.Datetime.now()
        with freeze_time(start) as frozen:
            move = self.make_invoice()
            self.drain()
            self.assertEqual(self.endpoint.failing_since, start)
            for _day in range(4):
                frozen.tick(timedelta(days=1, minutes=1))
                self.drain()
                self.assertTrue(self.endpoint.active, "not yet 5 days of failures")
            frozen.tick(timedelta(days=1, minutes=1))
            self.drain()
        self.assertFalse(self.endpoint.active)
        activity = self.endpoint.activity_ids
        self.assertEqual(activity.user_id, responsible)
        self.assertIn("disabled", activity.summary)
        note = self.endpoint.message_ids.filtered(lambda m: responsible.partner_id in m.partner_ids)
        self.assertEqual(len(note), 1, "a mail to the responsible")
        self.assertIn("Every delivery to", note.body)
        self.assertEqual(self.messages_for(move).state, "pending", "its messages wait")
        # a success ends a run of failures
        self.endpoint.active = True
        self.receiver.set_default(status=200)
        self.endpoint.action_send_test_event()
        self.drain()
        self.endpoint.invalidate_recordset()  # a computed field, read again as the form does after the drain
        self.assertFalse(self.endpoint.failing_since)
