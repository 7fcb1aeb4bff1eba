from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib.core_retry import DEFAULT_SCHEDULE, parse_schedule
from .core_common import BridgeCase
from .fakes.core_loopback import peak_in_flight


@tagged("post_install", "-at_install")
class TestOutbox(BridgeCase):

    def test_enqueue_in_caller_transaction(self):
        """A rolled-back transaction queues nothing and schedules no cron wake-up."""
        cron = self.env.ref("invoice_bridge.ir_cron_outbox_drain")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            self.enqueue(3)
            self.assertEqual(self.Outbox.search_count([("channel", "=", "http")]), 3)
            raise ZeroDivisionError  # the caller's transaction fails after queueing
        self.assertEqual(self.Outbox.search_count([("channel", "=", "http")]), 0)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers_before)
        # queueing in a transaction that goes on adds exactly one immediate trigger, however many messages
        self.enqueue(3, idempotency_key=False)
        self.enqueue(2, idempotency_key=False)
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertEqual(len(triggers), triggers_before + 1)
        self.assertLessEqual(triggers[:1].call_at, fields.Datetime.now())

    def test_delivered_once(self):
        messages = self.enqueue(5)
        self.assertEqual(self.drain(), 5)
        self.assertEqual(sorted(self.delivered_ns()), [0, 1, 2, 3, 4])
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertTrue(all(messages.mapped("done_at")))
        # nothing is sent twice
        self.assertEqual(self.drain(), 0)
        self.assertEqual(len(self.receiver.deliveries), 5)
        logs = self.Log.search([("outbox_id", "in", messages.ids)])
        self.assertEqual(len(logs), 5)
        self.assertEqual(set(logs.mapped("state")), {"success"})
        self.assertEqual(set(logs.mapped("http_status")), {200})

    def test_idempotency_key(self):
        first = self.enqueue(1)
        again = self.enqueue(1)
        self.assertEqual(first, again)
        self.assertEqual(self.Outbox.search_count([("idempotency_key", "=", first.idempotency_key)]), 1)

    def test_retry_schedule_then_dead_with_note(self):
        partner = self.env["res.partner"].create({"name": "Receiver owner"})
        self.receiver.set_default(status=500)
        start = fields.Datetime.now()
        with freeze_time(start) as frozen:
            msg = self.enqueue(1, res_model="res.partner", res_id=partner.id, partner_id=partner.id)
            self.drain()
            self.assertRecordValues(msg, [{"state": "pending", "attempt_count": 1, "last_http_status": 500}])
            self.assertEqual(msg.next_attempt_at, start + timedelta(seconds=5))
            # not due yet: nothing is attempted
            frozen.tick(timedelta(seconds=4))
            self.assertEqual(self.drain(), 0)
            frozen.tick(timedelta(seconds=1))
            self.assertEqual(self.drain(), 1)
            self.assertRecordValues(msg, [{"state": "pending", "attempt_count": 2}])
            self.assertEqual(msg.next_attempt_at, start + timedelta(seconds=5 + 300))
            frozen.tick(timedelta(seconds=300))
            self.assertEqual(self.drain(), 1)
        # the schedule had 3 entries: the third failure is the last
        self.assertRecordValues(msg, [{"state": "dead", "attempt_count": 3}])
        self.assertEqual(len(self.receiver.deliveries), 3)
        self.assertEqual(self.Log.search([("outbox_id", "=", msg.id)]).mapped("state"),
                         ["dead", "retrying", "retrying"])
        note = partner.message_ids.filtered(lambda m: "Invoice Bridge" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("gave up the delivery after 3 attempt(s)", note.body)
        dead = self.Log.search([("outbox_id", "=", msg.id)], limit=1)
        self.assertTrue(dead.current_hint.startswith("No more automatic retries after 3 attempt(s). "))

    def test_manual_retry(self):
        self.receiver.set_default(status=400)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0")
        msg = self.enqueue(1)
        self.drain()
        self.assertEqual(msg.state, "dead")
        log = self.Log.search([("outbox_id", "=", msg.id)])
        self.assertTrue(log.retryable)
        self.receiver.set_default(status=200)
        log.action_retry()
        self.assertRecordValues(msg, [{"state": "pending", "schedule_offset": 1}])
        self.drain()
        self.assertRecordValues(msg, [{"state": "done", "attempt_count": 2}])
        self.assertFalse(log.retryable)

    def test_lines_show_what_became_of_their_delivery(self):
        """#16.10: a line is never rewritten; after a retry, the old line offers no Retry, says what happened
        since, and links to the delivery's attempts; the delivery and the log use the same words."""
        self.receiver.set_default(status=500)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,5s")
        with freeze_time(fields.Datetime.now()) as frozen:
            msg = self.enqueue(1)
            self.drain()
            [first] = self.Log.search([("outbox_id", "=", msg.id)])
            labels = dict(self.Log._fields["state"]._description_selection(self.env))
            outbox_labels = dict(self.Outbox._fields["status"]._description_selection(self.env))
            self.assertEqual((first.state, msg.status), ("retrying", "retrying"))
            self.assertEqual(labels[first.state], outbox_labels[msg.status], "the same word on both screens")
            self.assertFalse(first.retryable, "retried automatically: no button")
            frozen.tick(timedelta(seconds=5))
            self.drain()
            dead = self.Log.search([("outbox_id", "=", msg.id)], order="id desc", limit=1)
            self.assertEqual((dead.state, msg.status, dead.attempt_line_count), ("dead", "dead", 2))
            self.assertTrue(dead.retryable)
            self.assertIn("after 2 attempt(s)", dead.current_hint)
            written = (dead.message, dead.hint, dead.state, dead.write_date)
            self.receiver.set_default(status=200)
            dead.action_retry()
            self.drain()
        self.assertEqual(msg.state, "done")
        dead.invalidate_recordset()
        self.assertEqual((dead.message, dead.hint, dead.state, dead.write_date), written, "never rewritten")
        self.assertFalse(dead.retryable, "its delivery was retried: no Retry on the old line")
        self.assertFalse(dead.current_hint, "no 'press Retry' once the button has gone")
        self.assertIn("Later: succeeded", dead.followup)
        self.assertIn("The delivery is now: Delivered", dead.followup)
        attempts = dead.action_open_attempts()
        self.assertEqual(self.Log.search(attempts["domain"]).mapped("state"),
                         ["success", "pending", "dead", "retrying"])

    def test_bulk_retry_from_the_lists(self):
        """#16.10: Actions ▸ Retry on several log lines or deliveries; each delivery is retried once."""
        self.receiver.set_default(status=400)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0")
        messages = self.enqueue(3)
        self.drain()
        self.assertEqual(set(messages.mapped("state")), {"dead"})
        self.receiver.set_default(status=200)
        lines = self.Log.search([("outbox_id", "in", messages.ids)])
        action = self.env.ref("invoice_bridge.sync_log_action_retry")
        result = action.with_context(active_model=lines._name, active_ids=lines.ids).run()
        self.assertIn("3 delivery(ies) will be retried", result["params"]["message"])
        self.assertEqual(set(messages.mapped("state")), {"pending"})
        self.drain()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        with self.assertRaisesRegex(UserError, "Nothing to retry"):
            action.with_context(active_model=lines._name, active_ids=lines.ids).run()
        # the deliveries' list: failed ones retried, the others skipped and counted
        self.receiver.set_default(status=400)
        more = self.enqueue(2, idempotency_key=False)
        self.drain()
        self.receiver.set_default(status=200)
        result = self.env.ref("invoice_bridge.outbox_action_retry").with_context(
            active_model=self.Outbox._name, active_ids=(more | messages).ids).run()
        self.assertIn("2 delivery(ies) will be retried in a moment; 3 skipped", result["params"]["message"])

    def test_cancel(self):
        msg = self.enqueue(1)
        msg.action_cancel()
        self.assertEqual(self.drain(), 0)
        self.assertEqual(msg.state, "cancelled")

    def test_ordering_key(self):
        """The second message of a key waits while the first is still waiting for its retry."""
        # one request at a time: the receiver's one injected failure goes to the first message, not to whichever
        # of the messages sent side by side arrives first (flaky since the drain delivers concurrently)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.drain_concurrency", "1")
        self.receiver.fail_next(1, status=503)
        first = self.enqueue(1, ordering_key="inv-1", idempotency_key="a")
        second = self.enqueue(1, ordering_key="inv-1", idempotency_key="b")
        other = self.enqueue(1, ordering_key="inv-2", idempotency_key="c", target="other")
        with freeze_time(fields.Datetime.now()) as frozen:
            self.drain()
            self.assertEqual(first.state, "pending")
            self.assertEqual(second.attempt_count, 0, "must wait for the earlier message of its key")
            self.assertEqual(other.state, "done")
            frozen.tick(timedelta(seconds=6))
            self.drain(max_batches=1)
            self.assertEqual(first.state, "done")
            self.assertEqual(second.attempt_count, 0, "claimed only after the first one is done")
            self.drain()
        self.assertEqual(second.state, "done")
        sent = [d["json"]["n"] for d in self.receiver.deliveries if d["path"] == "/hook"]
        self.assertEqual(len(sent), 4)
        self.assertLess(first.done_at, second.last_attempt_at + timedelta(seconds=1))
        # a dead message no longer blocks its key
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0")
        self.receiver.set_default(status=500)
        blocked = self.enqueue(1, ordering_key="inv-3", idempotency_key="d")
        after = self.enqueue(1, ordering_key="inv-3", idempotency_key="e")
        self.drain(max_batches=1)
        self.assertEqual(blocked.state, "dead")
        self.receiver.set_default(status=200)
        self.drain()
        self.assertEqual(after.state, "done")

    def test_retry_after_pauses_target(self):
        self.receiver.fail_next(1, status=429, retry_after=120)
        with freeze_time(fields.Datetime.now()) as frozen:
            messages = self.enqueue(3)
            self.drain()
            # one attempt, then the whole target waits: the two others were not attempted
            self.assertEqual(len(self.receiver.deliveries), 1)
            self.assertEqual(messages.mapped("attempt_count"), [1, 0, 0])
            target = self.env["invoice_bridge.outbox.target"].search([("name", "=", "receiver")])
            self.assertEqual(target.paused_until, fields.Datetime.now() + timedelta(seconds=120))
            frozen.tick(timedelta(seconds=60))
            self.assertEqual(self.drain(), 0)
            frozen.tick(timedelta(seconds=61))
            self.assertEqual(self.drain(), 3)
        self.assertEqual(set(messages.mapped("state")), {"done"})

    def test_gone_fails_for_good(self):
        self.receiver.fail_next(1, status=410)
        msg = self.enqueue(1)
        self.drain()
        self.assertEqual(msg.state, "failed")
        self.assertIn("410", msg.last_error)

    def test_receiver_down_then_up(self):
        self.receiver.down()
        try:
            with freeze_time(fields.Datetime.now()) as frozen:
                messages = self.enqueue(4)
                self.drain()
                self.assertEqual(messages.mapped("state"), ["pending"] * 4)
                self.receiver.up()
                frozen.tick(timedelta(seconds=6))
                self.drain()
        finally:
            self.receiver.up()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        self.assertEqual(sorted(self.delivered_ns()), [0, 1, 2, 3])

    def test_stuck_in_progress_is_taken_again(self):
        msg = self.enqueue(1)
        with freeze_time(fields.Datetime.now()) as frozen:
            claimed = self.Outbox._claim(10)  # a worker claims, then "crashes" before sending
            self.assertEqual(claimed, msg)
            self.assertEqual(msg.state, "in_progress")
            self.assertEqual(self.drain(), 0, "a live lease is respected")
            frozen.tick(timedelta(minutes=6))
            self.assertEqual(self.drain(), 1)
        self.assertRecordValues(msg, [{"state": "done", "attempt_count": 2}])

    def test_run_with_work_left_triggers_the_next_run(self):
        """Work left after a run: a new trigger (a new cron pass), never "remaining" (re-runs in the same pass)."""
        cron = self.env.ref("invoice_bridge.ir_cron_outbox_drain")
        Trigger = self.env["ir.cron.trigger"]
        self.enqueue(5)
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        self.assertEqual(self.drain(batch_size=2, max_batches=1), 2)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)
        self.drain()
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id), ("call_at", ">", fields.Datetime.now())]),
                         0, "nothing left: no new trigger")

    def test_disabled_outbound(self):
        self.enqueue(2)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.outbound_disabled", "True")
        self.assertEqual(self.Outbox._cron_drain(), 0)
        self.assertFalse(self.receiver.deliveries)

    def test_unset_settings_read_as_their_defaults(self):
        """A fresh database has no ``invoice_bridge.*`` parameter until Settings is saved: each is its default.
        Odoo's ``get_param`` answers False for a missing key, which was read as the text "False": every drain
        logged "invalid retry schedule" and the masked header names held "False"."""
        params = self.env["ir.config_parameter"].sudo()
        params.search([("key", "=like", "invoice_bridge.%")]).unlink()
        config = self.env["invoice_bridge.config"]
        self.assertEqual(config._get("retry_schedule", DEFAULT_SCHEDULE), DEFAULT_SCHEDULE)
        self.assertEqual(config._get("log_masked_headers", ""), "")
        self.assertIs(config._get("outbound_disabled", True), True)
        with self.assertNoLogs("odoo.addons.invoice_bridge.models.core_outbox", "WARNING"):
            self.assertEqual(self.Outbox._retry_schedule(), parse_schedule(DEFAULT_SCHEDULE))
            self.enqueue(1)
            self.drain()
        self.assertEqual(len(self.receiver.deliveries), 1)

    def test_drain_query_count_constant(self):
        """Draining 10 or 100 messages costs the same number of queries."""
        counts = {}
        self.enqueue(1, idempotency_key="warm-up")
        self.drain()  # warm the caches (config parameters, xml ids) the first drain loads,
        self.precommit()  # and the bus's (its notifications are written at commit: each run counts its own)
        for size in (10, 100):
            self.enqueue(size, idempotency_key=False)
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.assertEqual(self.drain(batch_size=100, max_batches=1), size)
            self.precommit()
            counts[size] = self.env.cr.sql_log_count - start
        self.assertEqual(counts[10], counts[100], counts)

    def test_targets_are_sent_to_side_by_side(self):
        """A drain keeps up to its setting's number of requests in flight, one per target no channel gives a
        limit of its own (one request after the other, as a rate-limited API expects)."""
        delay = 0.4
        self.receiver.set_default(delay=delay)
        for i in range(4):
            self.enqueue(1, target=f"api-{i}", idempotency_key=f"side-{i}")
        self.assertEqual(self.drain(), 4)
        self.assertEqual(peak_in_flight(self.receiver.deliveries, delay), 4)
        self.receiver.clear()
        self.enqueue(3, idempotency_key=False)  # one target
        self.assertEqual(self.drain(), 3)
        self.assertEqual(peak_in_flight(self.receiver.deliveries, delay), 1)
        self.receiver.clear()
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.drain_concurrency", "2")
        for i in range(4):
            self.enqueue(1, target=f"api-{i}", idempotency_key=f"two-{i}")
        self.assertEqual(self.drain(), 4)
        self.assertEqual(peak_in_flight(self.receiver.deliveries, delay), 2)
        self.assertEqual(sorted(self.delivered_ns()), [0, 0, 0, 0])
        self.assertEqual(set(self.Outbox.search([("idempotency_key", "like", "two-%")]).mapped("state")), {"done"})

    def test_circuit_breaker_pauses_probes_and_resumes(self):
        """After breaker_failures failures in a row the target pauses; each end of a pause sends one probe, and
        the pause doubles while the probe fails; a probe that succeeds resumes everything."""
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.breaker_failures", "3")
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,5s,5s,5s,5s,5s")
        self.receiver.set_default(status=500)
        target = self.env["invoice_bridge.outbox.target"]
        with freeze_time(fields.Datetime.now()) as frozen:
            messages = self.enqueue(6)
            self.drain()
            self.assertEqual(len(self.receiver.deliveries), 3, "three failures, then the breaker opens")
            self.assertEqual(sorted(messages.mapped("attempt_count")), [0, 0, 0, 1, 1, 1])
            receiver = target.search([("name", "=", "receiver")])
            self.assertEqual(receiver.paused_until, fields.Datetime.now() + timedelta(seconds=30))
            self.assertIn("3 failures in a row", receiver.pause_reason)
            frozen.tick(timedelta(seconds=29))
            self.assertEqual(self.drain(), 0, "nothing is sent while the breaker is open")
            frozen.tick(timedelta(seconds=2))
            self.assertEqual(self.drain(), 1, "one probe")
            receiver.invalidate_recordset()
            self.assertEqual(receiver.paused_until, fields.Datetime.now() + timedelta(seconds=60))
            self.assertEqual(receiver.consecutive_failures, 4)
            frozen.tick(timedelta(seconds=61))
            self.receiver.set_default(status=200)
            self.assertEqual(self.drain(), 6, "the probe succeeds: every waiting message goes")
            self.assertEqual(set(messages.mapped("state")), {"done"})
            receiver.invalidate_recordset()
            self.assertEqual(receiver.consecutive_failures, 0)
            # the breaker is off at 0 (still in frozen time: the last pause ended at the frozen clock's time)
            self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.breaker_failures", "0")
            self.receiver.set_default(status=500)
            self.receiver.clear()
            self.enqueue(6, idempotency_key=False)
            self.drain(max_batches=1)
            self.assertEqual(len(self.receiver.deliveries), 6)
