"""The durable outbox: the one delivery engine behind every outbound channel. It knows no channel.

* Messages are created in the caller's transaction (:meth:`_enqueue`): a rollback creates nothing, and the
  commit wakes the drain cron at once through ``ir.cron._trigger()``.
* The drain cron claims due messages with ``FOR UPDATE SKIP LOCKED`` (several processes can drain at once
  without taking the same message), commits the claim, sends without holding a transaction, then records every
  outcome of the batch in a constant number of queries.
* A message is not claimed while an earlier message with the same ordering key is pending or in progress.
* A claim is a lease: a message left ``in_progress`` by a crashed worker is claimed again once its lease has
  expired. Delivery is therefore at-least-once; receivers deduplicate on the message's stable id.
* Nothing is sent while the master switch (``invoice_bridge.outbound_disabled``, set by ``neutralize.sql``) is on.

A channel plugs in the way ``account_edi_proxy_client`` channels do: it adds its code to ``channel`` with
``selection_add`` and overrides the extension points below for its own messages, handing the others to
``super()``. It keeps its own state in fields of its own.
"""
import json
import logging
import time
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, create_index

from ..lib.core_outcome import FAIL, RETRY, SUCCESS, Attempt, Outcome, classify_http
from ..lib.core_retry import (
    DEFAULT_BREAKER_FAILURES,
    DEFAULT_SCHEDULE,
    breaker_pause,
    delay_after_failure,
    parse_schedule,
)
from ..lib.core_transport import DEFAULT_TIMEOUT, Request, Transport
from .core_compat import Constraint, cron_progress
from .core_sync_log import open_record_action

_logger = logging.getLogger(__name__)

#: seconds a claimed message stays reserved for its worker; after that it is considered abandoned (crash)
LEASE_SECONDS = 300
DEFAULT_BATCH_SIZE = 100  # Odoo inserts at most 100 rows per INSERT: larger batches would cost more queries
# seconds one cron run may spend draining before it hands over to the next run. Odoo's watchdog
# (limit_time_real, 120 s by default) counts a whole pass of the cron thread over the ready jobs.
DEFAULT_TIME_BUDGET = 20
DEFAULT_SHORT_WAIT = 10  # a retry due within this many seconds is waited for inside the run
#: requests one drain keeps in flight at once (``invoice_bridge.drain_concurrency``), whatever their targets
DEFAULT_CONCURRENCY = 16
MAX_CONCURRENCY = 64
MAX_BATCHES_PER_RUN = 1000  # a hard stop besides the time budget (which a frozen clock in tests never spends)

STATES = [
    ("pending", "Waiting"),
    ("in_progress", "Sending"),
    ("done", "Delivered"),
    ("failed", "Failed"),
    ("dead", "Gave up"),
    ("cancelled", "Cancelled"),
]
#: what a delivery shows: its state, and "Will retry" for a waiting one that was attempted (the sync log's word)
STATUSES = [
    ("waiting", "Waiting"),
    ("retrying", "Will retry"),
    ("sending", "Sending"),
    ("done", "Delivered"),
    ("failed", "Failed"),
    ("dead", "Gave up"),
    ("cancelled", "Cancelled"),
]


class InvoiceBridgeOutbox(models.Model):
    _name = "invoice_bridge.outbox"
    _description = "Invoice Bridge Delivery"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    # no index of its own: the unique (channel, idempotency_key) index serves lookups by channel
    # the engine's own channel; each channel module adds its code with selection_add
    channel = fields.Selection([("http", "Plain HTTP")], required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True,
                                 default=lambda self: self.env.company)
    target = fields.Char(required=True, index=True, readonly=True,
                         help="What is paused as a whole when it asks us to slow down (an endpoint, an API).")
    url = fields.Char("URL", readonly=True)
    method = fields.Char(default="POST", readonly=True)
    content_type = fields.Char(default="application/json", readonly=True)
    headers = fields.Text(readonly=True, help="JSON object of extra, non-secret headers.")
    payload = fields.Text(readonly=True, help="The body sent on every attempt. A channel adds at send time only "
                                              "what must not be stored: credentials, a document it points to.")
    idempotency_key = fields.Char(readonly=True, help="Enqueueing the same key twice on a channel is a no-op.")
    # indexed where it is read: pending and in-progress messages (invoice_bridge_outbox_ordering_idx)
    ordering_key = fields.Char(readonly=True,
                               help="Messages sharing this key are delivered one after the other, in order.")
    state = fields.Selection(STATES, required=True, default="pending", index=True, readonly=True)
    status = fields.Selection(STATUSES, compute="_compute_status")
    target_label = fields.Char("Sent to", compute="_compute_target_label")
    attempt_count = fields.Integer(readonly=True, default=0)
    schedule_offset = fields.Integer(readonly=True, default=0, help="Attempts made before the last manual retry.")
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    lease_until = fields.Datetime(readonly=True)
    last_attempt_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime("Delivered At", readonly=True)
    last_error = fields.Text(readonly=True)
    last_http_status = fields.Integer("Last HTTP Status", readonly=True, aggregator=False)
    # the business record the message is about (an invoice, an export...): one generic link for every channel
    res_model = fields.Char("Related Model", readonly=True, index=True)
    res_id = fields.Many2oneReference("Related Record", model_field="res_model", readonly=True)
    res_name = fields.Char("Related", compute="_compute_res_name")
    partner_id = fields.Many2one("res.partner", readonly=True, index="btree_not_null", ondelete="set null")
    sync_log_ids = fields.One2many("invoice_bridge.sync.log", "outbox_id", string="Attempts")

    _idempotency_uniq = Constraint("unique(channel, idempotency_key)",
                                   "A message with this idempotency key was already queued on this channel.")

    def init(self):
        result = super().init()
        create_index(self.env.cr, "invoice_bridge_outbox_due_idx", self._table, ["next_attempt_at", "id"],
                     where="state = 'pending'")
        create_index(self.env.cr, "invoice_bridge_outbox_lease_idx", self._table, ["lease_until"],
                     where="state = 'in_progress'")
        create_index(self.env.cr, "invoice_bridge_outbox_ordering_idx", self._table, ["ordering_key", "id"],
                     where="state IN ('pending', 'in_progress') AND ordering_key IS NOT NULL")
        return result

    @api.depends("res_model", "res_id")
    def _compute_res_name(self):
        for msg in self:
            record = msg.res_model in self.env and msg.res_id and self.env[msg.res_model].browse(msg.res_id).exists()
            msg.res_name = record.sudo().display_name if record else False

    @api.depends("channel", "res_model", "res_id", "target")
    def _compute_name(self):
        """What the delivery is, in words: the channel's description, else "<channel>: <record>"."""
        channels = dict(self._fields["channel"]._description_selection(self.env))
        described = self._channel_describe()
        for msg in self:
            msg.name = described.get(msg.id) or " ".join(p for p in (
                f"{channels.get(msg.channel, msg.channel)}:", msg.res_name or _("message %s", msg.id or "")) if p)

    @api.depends("state", "attempt_count")
    def _compute_status(self):
        for msg in self:
            msg.status = {"pending": "retrying" if msg.attempt_count else "waiting",
                          "in_progress": "sending"}.get(msg.state, msg.state)

    @api.depends("target")
    def _compute_target_label(self):
        labels = self.env["invoice_bridge.outbox.target"]._labels(set(self.mapped("target")))
        for msg in self:
            msg.target_label = labels.get(msg.target, msg.target)

    # ----------------------------------------------------------------------------------- configuration
    @api.model
    def _setting(self, key, default):
        return self.env["invoice_bridge.config"]._get(key, default)

    @api.model
    def _outbound_enabled(self):
        """False while the master switch pauses every outbound channel (neutralized databases have it on)."""
        return not self._setting("outbound_disabled", False)

    @api.model
    def _retry_schedule(self):
        try:
            return parse_schedule(self._setting("retry_schedule", DEFAULT_SCHEDULE))
        except ValueError:
            _logger.warning("invoice_bridge: invalid retry schedule, using the default")
            return parse_schedule(DEFAULT_SCHEDULE)

    # ----------------------------------------------------------------------------------------- enqueue
    @api.model
    def _enqueue(self, vals_list, check_existing=True):
        """Queue messages in the current transaction; return them (already queued ones for known keys).

        Each dict needs ``channel``, ``target`` and usually ``url`` and ``payload`` (str); optional: ``headers``
        (dict), ``idempotency_key``, ``ordering_key``, ``res_model``/``res_id``, ``partner_id``, ``company_id``.
        ``check_existing=False`` skips looking up keys the caller knows to be new (the unique constraint stays).
        """
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        keyed = {(v["channel"], v["idempotency_key"]) for v in vals_list if v.get("idempotency_key")}
        existing = self.browse()
        if keyed and check_existing:
            existing = self.sudo().search([
                ("idempotency_key", "in", list({k for _c, k in keyed})),
                ("channel", "in", list({c for c, _k in keyed})),
            ]).filtered(lambda m: (m.channel, m.idempotency_key) in keyed)
        known = {(m.channel, m.idempotency_key) for m in existing}
        to_create = []
        for vals in vals_list:
            key = (vals["channel"], vals.get("idempotency_key"))
            if vals.get("idempotency_key") and key in known:
                continue
            known.add(key)
            vals = dict(vals, state="pending", next_attempt_at=vals.get("next_attempt_at") or fields.Datetime.now())
            if isinstance(vals.get("headers"), dict):
                vals["headers"] = json.dumps(vals["headers"])
            to_create.append(vals)
        created = self.sudo().create(to_create) if to_create else self.browse()
        if created:
            self._trigger_drain()
        return (existing | created).with_env(self.env)

    @api.model
    def _trigger_drain(self):
        """Wake the drain cron right after this transaction commits (once per transaction)."""
        data = self.env.cr.precommit.data
        if data.get("invoice_bridge.drain_triggered"):
            return
        data["invoice_bridge.drain_triggered"] = True
        # browse the cached xmlid rather than env.ref(): no existence query on every posting transaction
        self.env["ir.cron"].sudo().browse(
            self.env["ir.model.data"]._xmlid_to_res_id("invoice_bridge.ir_cron_outbox_drain"))._trigger()

    # ------------------------------------------------------------------------------------------- drain
    @api.model
    def _cron_drain(self):
        if not self._outbound_enabled():
            _logger.info("invoice_bridge: outbound traffic is paused (invoice_bridge.outbound_disabled)")
            return 0
        return self._drain(autocommit=True)

    @api.model
    def _drain(self, autocommit=False, batch_size=None, time_budget=None, short_wait=None, max_batches=None):
        """Deliver due messages in batches until none is due or the time budget is spent.

        ``autocommit`` (the cron) commits the claim before sending and the outcomes after each batch, and waits
        inside the run for retries due within ``short_wait`` seconds (the cron threads would otherwise only wake
        up at their next 60 s tick). Without it (tests), everything stays in the caller's transaction.
        """
        batch_size = batch_size or self._setting("drain_batch_size", DEFAULT_BATCH_SIZE)
        time_budget = time_budget if time_budget is not None else self._setting(
            "drain_time_budget", DEFAULT_TIME_BUDGET)
        short_wait = short_wait if short_wait is not None else (
            self._setting("drain_short_wait", DEFAULT_SHORT_WAIT) if autocommit else 0)
        deadline = time.monotonic() + time_budget
        done = batches = 0
        max_batches = max_batches or MAX_BATCHES_PER_RUN
        concurrency = min(max(self._setting("drain_concurrency", DEFAULT_CONCURRENCY), 1), MAX_CONCURRENCY)
        with Transport(concurrency=concurrency) as transport:
            while batches < max_batches:
                batch = self._claim_with_retries(batch_size, autocommit)
                if not batch:
                    wait = self._seconds_until_next_due() if short_wait else None
                    if wait is not None and wait <= short_wait and time.monotonic() + wait < deadline:
                        time.sleep(max(wait, 0.05))
                        continue
                    break
                batches += 1
                done += batch._deliver(transport, deadline=deadline + DEFAULT_TIMEOUT)
                if autocommit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit  # each batch's outcome is durable
                if time.monotonic() >= deadline:
                    break
        # Work left: trigger a new run rather than report it as "remaining" to Odoo, which would re-run this
        # callback up to 10 times within one pass of the cron thread, all counted by the 120 s watchdog. The
        # trigger's NOTIFY starts a new pass (a new watchdog clock) right after this run commits.
        cron_progress(self.env, done)
        if self._count_due():
            self.env.ref("invoice_bridge.ir_cron_outbox_drain").sudo()._trigger()
        else:
            self._schedule_next_run()
        return done

    @api.model
    def _claim_with_retries(self, limit, autocommit):
        for _attempt in range(3):
            try:
                batch = self._claim(limit)
            except psycopg2.errors.SerializationFailure:
                # a concurrent drain committed a row of our snapshot: take a fresh snapshot and claim again
                if not autocommit:
                    raise
                self.env.cr.rollback()
                continue
            if autocommit:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # the claim (lease) must be visible
            return batch
        return self.browse()

    _DUE_WHERE = """
        ((m.state = 'pending' AND m.next_attempt_at <= %(now)s)
          OR (m.state = 'in_progress' AND m.lease_until < %(now)s))
        AND NOT EXISTS (SELECT 1 FROM invoice_bridge_outbox_target t
                         WHERE t.name = m.target AND t.paused_until > %(now)s)
        AND (m.ordering_key IS NULL OR NOT EXISTS (
             SELECT 1 FROM invoice_bridge_outbox e
              WHERE e.ordering_key = m.ordering_key AND e.id < m.id
                AND e.state IN ('pending', 'in_progress')))
    """

    @api.model
    def _claim(self, limit):
        """Reserve up to ``limit`` due messages for this worker (one statement) and return them."""
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """WITH due AS (
                   SELECT m.id FROM invoice_bridge_outbox m
                    WHERE %(where)s
                    ORDER BY m.next_attempt_at, m.id
                    LIMIT %(limit)s
                      FOR UPDATE OF m SKIP LOCKED)
               UPDATE invoice_bridge_outbox o
                  SET state = 'in_progress', lease_until = %(lease)s, attempt_count = COALESCE(o.attempt_count, 0) + 1,
                      last_attempt_at = %(now)s, write_date = %(now)s
                 FROM due WHERE o.id = due.id
            RETURNING o.id""",
            where=SQL(self._DUE_WHERE, now=now), limit=limit, now=now,
            lease=now + timedelta(seconds=LEASE_SECONDS)))
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        self.invalidate_model()
        return self.browse(ids)

    @api.model
    def _count_due(self):
        self.env.cr.execute(SQL("SELECT count(*) FROM invoice_bridge_outbox m WHERE %s",
                                SQL(self._DUE_WHERE, now=fields.Datetime.now())))
        return self.env.cr.fetchone()[0]

    @api.model
    def _next_due_at(self):
        """Earliest moment a not-yet-due message becomes due (its retry time, its target's pause, its lease)."""
        self.env.cr.execute("""
            SELECT min(at) FROM (
                SELECT GREATEST(m.next_attempt_at, t.paused_until) AS at
                  FROM invoice_bridge_outbox m
                  LEFT JOIN invoice_bridge_outbox_target t ON t.name = m.target
                 WHERE m.state = 'pending'
                UNION ALL
                SELECT min(lease_until) FROM invoice_bridge_outbox WHERE state = 'in_progress'
            ) due""")
        return self.env.cr.fetchone()[0]

    @api.model
    def _seconds_until_next_due(self):
        at = self._next_due_at()
        if not at:
            return None
        return max((at - fields.Datetime.now()).total_seconds(), 0)

    @api.model
    def _schedule_next_run(self):
        """Ask the cron to run again when the next message is due (cron threads check every 60 s)."""
        at = self._next_due_at()
        if not at or at <= fields.Datetime.now():
            return
        cron = self.env.ref("invoice_bridge.ir_cron_outbox_drain").sudo()
        if not self.env["ir.cron.trigger"].sudo().search_count(
                [("cron_id", "=", cron.id), ("call_at", ">=", fields.Datetime.now()), ("call_at", "<=", at)],
                limit=1):
            cron._trigger(at=at)

    # ------------------------------------------------------------------------------- extension points
    def _channel_requests(self):
        """``{message id: Request or Outcome}`` for the claimed messages of ``self``, built when they are sent.

        Extension point: a channel overrides it for its messages (signing them, adding credentials, building
        the request from its own record) and hands the others to ``super()``. An ``Outcome`` instead of a
        request means the message cannot be sent (it is recorded as that outcome). The engine sends what is
        stored: method, URL, headers and payload.
        """
        prepared = {}
        for msg in self:
            headers = json.loads(msg.headers) if msg.headers else {}
            headers.setdefault("Content-Type", msg.content_type or "application/json")
            headers.setdefault("Idempotency-Key", msg.idempotency_key or f"ib-{msg.id}")
            prepared[msg.id] = Request(method=msg.method or "POST", url=msg.url,
                                       body=(msg.payload or "").encode(), headers=headers)
        return prepared

    def _channel_interpret(self, exchange):
        """What the answer to this message means: an :class:`Outcome` (extension point, one message).

        The engine's reading: 2xx delivered, 410 gone, 429/5xx/transport errors retried (pausing the target when
        it asks to slow down), other answers retried too (Standard Webhooks semantics). A channel returns an
        outcome of its own for its messages (outcomes are immutable) and calls ``super()`` for the others.
        """
        self.ensure_one()
        return classify_http(exchange)

    def _channel_describe(self):
        """``{message id: what the message is, in an accountant's words}`` (extension point, e.g. "New invoice
        INV/2026/00002 to ERP"). Messages a channel does not describe are named "<channel>: <record>"."""
        return {}

    def _channel_target_labels(self, targets):
        """``{target: label}`` for the delivery targets a channel knows (extension point, e.g. an endpoint's
        name for ``webhook:1``); the others show their technical name."""
        return {}

    def _channel_target_concurrency(self, targets):
        """``{target: how many of its messages may be in flight at once}`` (extension point, e.g. an
        endpoint's setting for a receiver). A target no channel names gets 1: one request after the other,
        as a rate-limited API expects."""
        return {}

    def _channel_after_attempts(self, attempts):
        """Side effects once the outcomes of a batch are recorded (extension point).

        ``attempts``: ``{message id: Attempt}`` for the messages of ``self`` (outcome, HTTP status, whether the
        engine gave up). Channels update their own records here (an export's next step, an endpoint's health).
        """
        return None

    # ---------------------------------------------------------------------------------------- delivery
    def _deliver(self, transport, deadline=None):
        """Attempt every claimed message of ``self`` once, then record all outcomes. Returns the number attempted.

        Up to the transport's concurrency are in flight at once, at most ``_channel_target_concurrency()`` per
        target. A batch never holds two messages of one ordering key (the claim skips a key's later messages),
        so sending a batch's messages side by side keeps each key's order.

        The circuit breaker: a target that has failed ``breaker_failures`` times in a row is paused (30 s, then
        twice as long after each failed probe, at most 1 h); when the pause ends one message probes it, one at
        a time, until one succeeds.
        """
        requests_by_id = self._channel_requests()
        results, paused, reasons = [], {}, {}
        now = fields.Datetime.now()
        targets = self.env["invoice_bridge.outbox.target"]
        windows, failures = targets._batch_state({m.target for m in self})
        threshold = self._setting("breaker_failures", DEFAULT_BREAKER_FAILURES)
        limits = self._channel_target_concurrency({m.target for m in self})
        for target, failed in failures.items():
            if breaker_pause(failed, threshold) is not None:
                limits[target] = 1  # the breaker is open: one probe at a time
        by_id, jobs, released_ids = {}, [], []
        for msg in self:
            by_id[msg.id] = msg
            request = requests_by_id.get(msg.id)
            if isinstance(request, Outcome) or request is None:
                results.append((msg, request or Outcome(FAIL, "nothing to send"), None))
                continue
            jobs.append((msg.id, msg.target, request))

        def ready(msg_id):
            """Whether the message may start now (called right before it would): else it is released."""
            msg = by_id[msg_id]
            if msg.target in paused or (deadline and time.monotonic() > deadline):
                released_ids.append(msg_id)
                return False
            window = windows.get(msg.target)
            if window:
                wait = window.wait()
                if wait > 0:  # the target's request budget is spent: hold its messages until a slot frees
                    paused[msg.target] = now + timedelta(seconds=wait)
                    released_ids.append(msg_id)
                    return False
                window.take()
            return True

        for msg_id, exchange in transport.send_many(jobs, limits, ready):
            msg = by_id[msg_id]
            outcome = msg._channel_interpret(exchange)
            results.append((msg, outcome, exchange))
            if outcome.result == RETRY and outcome.pause_target is not None:
                paused[msg.target] = max(paused.get(msg.target, now),
                                         now + timedelta(seconds=max(outcome.pause_target, 1)))
            failed = 0 if outcome.result == SUCCESS else failures.get(msg.target, 0) + 1
            failures[msg.target] = failed
            pause = breaker_pause(failed, threshold)
            if pause is not None:
                paused[msg.target] = max(paused.get(msg.target, now), now + timedelta(seconds=pause))
                reasons[msg.target] = _("%(n)s failures in a row: the next attempt probes it after %(wait)s s",
                                        n=failed, wait=pause)
        if windows:
            targets._save_rate_windows(windows)
        self._record(results, self.browse(released_ids), paused, reasons)
        return len(results)

    def _record(self, results, released, paused, reasons=None):
        """Write the outcomes of one batch: a constant number of queries whatever the batch size.
        ``paused``: ``{target: until}``; ``reasons``: ``{target: why}`` where it is not the target's own asking."""
        schedule = self._retry_schedule()
        now = fields.Datetime.now()
        rows, logs, ended, attempts, health = [], [], self.browse(), {}, {}
        for msg, outcome, exchange in results:
            state, next_at, error = "done", None, None
            if outcome.result == RETRY:
                delay = delay_after_failure(msg.attempt_count - msg.schedule_offset, schedule)
                if delay is None:
                    state, error = "dead", _("%(msg)s — gave up after %(n)s attempts", msg=outcome.message,
                                             n=msg.attempt_count - msg.schedule_offset)
                else:
                    state, error = "pending", outcome.message
                    next_at = now + timedelta(seconds=max(delay, outcome.delay or 0))
                    if msg.target in paused:
                        next_at = max(next_at, paused[msg.target])
            elif outcome.result == FAIL:
                state, error = "failed", outcome.message
            if state in ("dead", "failed"):
                ended |= msg
            status = exchange.status if exchange else 0
            attempts[msg.id] = Attempt(outcome, status, state in ("dead", "failed"))
            if exchange:  # the target answered, or could not be reached: its health
                ok, failed, last_error = health.get(msg.target, (0, 0, None))
                health[msg.target] = (ok + 1, failed, last_error) if outcome.result == SUCCESS else (
                    ok, failed + 1, outcome.message)
            rows.append(SQL("(%s, %s, %s::timestamp, %s, %s, %s::timestamp)", msg.id, state, next_at, error,
                            status, now if state == "done" else None))
            logs.append(msg._log_vals(outcome, exchange, state))
        if rows:
            self.env.cr.execute(SQL(
                """UPDATE invoice_bridge_outbox o
                      SET state = v.state, next_attempt_at = COALESCE(v.next_at, o.next_attempt_at),
                          last_error = v.error, last_http_status = v.status, done_at = v.done_at,
                          lease_until = NULL, write_date = %(now)s
                     FROM (VALUES %(rows)s) AS v(id, state, next_at, error, status, done_at)
                    WHERE o.id = v.id""", rows=SQL(", ").join(rows), now=now))
        if released:
            # claimed but not attempted (target paused meanwhile, or time budget spent): not an attempt
            self.env.cr.execute(SQL(
                """UPDATE invoice_bridge_outbox
                      SET state = 'pending', attempt_count = attempt_count - 1, lease_until = NULL,
                          write_date = %(now)s
                    WHERE id IN %(ids)s""", ids=tuple(released.ids), now=now))
        self.env["invoice_bridge.outbox.target"]._record_health(health)
        for target, until in paused.items():
            self.env["invoice_bridge.outbox.target"]._pause(
                target, until, (reasons or {}).get(target) or _(
                    "slowed down by the target, or its request budget is spent"), apart=True)
        self.invalidate_model()
        if logs:
            self.env["invoice_bridge.sync.log"]._log(logs)
        if attempts:
            self.browse(list(attempts))._channel_after_attempts(attempts)
        if ended:
            ended._notify_related_record()

    def _log_vals(self, outcome, exchange, state):
        log_state = {"done": "success", "pending": "retrying"}.get(state, state)
        request = exchange.request if exchange else None
        return {
            "channel": self.channel,
            "direction": "outbound",
            "state": log_state,
            "company_id": self.company_id.id,
            "partner_id": self.partner_id.id,
            "res_model": self.res_model,
            "res_id": self.res_id,
            "outbox_id": self.id,
            "endpoint": request.url if request else self.url,
            "http_method": request.method if request else self.method,
            "http_status": exchange.status if exchange else 0,
            "duration_ms": exchange.elapsed_ms if exchange else 0,
            "attempt": self.attempt_count,
            "message": outcome.message,
            "hint": self._hint_for(log_state, outcome),
            "error": (exchange.error or exchange.body) if exchange and log_state != "success" else False,
            "request_headers": request.headers if request else None,
            "request_body": request.logged_body() if request else None,
            "response_body": exchange.body if exchange else None,
            "secrets": request.secrets if request else (),
        }

    def _hint_for(self, log_state, outcome):
        if log_state == "success":
            return False
        if log_state == "dead":
            return _("No more automatic retries after %(n)s attempt(s). Check the receiving side (address, "
                     "availability, credentials), then press Retry.", n=self.attempt_count - self.schedule_offset)
        return outcome.hint

    def _notify_related_record(self):
        """Post a short note on the business record when a message is given up."""
        for msg in self:
            if not (msg.res_model and msg.res_id and msg.res_model in self.env):
                continue
            record = self.env[msg.res_model].browse(msg.res_id).exists()
            if not record or not hasattr(record, "message_post"):
                continue
            link = Markup('<a href="/odoo/action-invoice_bridge.outbox_action/%s">%s</a>') % (msg.id, msg.name)
            text = _("Invoice Bridge: the delivery failed after %s attempt(s).", msg.attempt_count) \
                if msg.state == "failed" else _("Invoice Bridge: gave up the delivery after %s attempt(s).",
                                                msg.attempt_count)
            body = Markup("%s<br/>%s<br/>%s") % (escape(text), link, escape(msg.last_error or ""))
            record.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")

    # ----------------------------------------------------------------------------------------- actions
    def _check_can_retry(self):
        if not self.env.user.has_group("invoice_bridge.group_invoice_bridge_user"):
            raise AccessError(_("Only Invoice Bridge users may retry deliveries."))

    def action_retry(self):
        """Manual retry of failed/dead/cancelled messages: a fresh retry schedule, due now."""
        self._check_can_retry()
        retryable = self.filtered(lambda m: m.state in ("failed", "dead", "cancelled"))
        if not retryable:
            raise UserError(_("Only failed, given-up or cancelled deliveries can be retried."))
        retryable._requeue(_("Retry requested by %s", self.env.user.name))
        if len(self) == 1:
            return True
        skipped = len(self) - len(retryable)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "sticky": False, "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            "message": _("%(n)s delivery(ies) will be retried in a moment; %(skipped)s skipped (waiting or "
                         "delivered).", n=len(retryable), skipped=skipped) if skipped else
            _("%s delivery(ies) will be retried in a moment.", len(retryable))}}

    def _requeue(self, message):
        """Send these messages again, as they are stored (same body, same idempotency key): due now, with a
        fresh retry schedule, and a sync-log line saying ``message``. The callers check who may."""
        for msg in self.sudo():
            msg.write({"state": "pending", "next_attempt_at": fields.Datetime.now(), "lease_until": False,
                       "schedule_offset": msg.attempt_count})
        self.env["invoice_bridge.sync.log"]._log([{
            "channel": msg.channel, "direction": "outbound", "state": "pending", "outbox_id": msg.id,
            "company_id": msg.company_id.id, "partner_id": msg.partner_id.id,
            "res_model": msg.res_model, "res_id": msg.res_id, "endpoint": msg.url,
            "attempt": msg.attempt_count, "user_id": self.env.uid, "message": message,
        } for msg in self])
        self._trigger_drain()

    def action_cancel(self):
        """Give these messages up (managers). Messages are never written directly: only the engine and its
        actions change them, after their own checks."""
        if not self.env.user.has_group("invoice_bridge.group_invoice_bridge_manager"):
            raise AccessError(_("Only Invoice Bridge managers may cancel deliveries."))
        self.check_access("read")
        self.sudo().filtered(lambda m: m.state in ("pending", "failed", "dead")).write(
            {"state": "cancelled", "lease_until": False})
        return True

    @api.ondelete(at_uninstall=False)
    def _unlink_only_by_the_engine(self):
        """Messages are the history of the deliveries: only the vacuum (superuser) removes them."""
        if not self.env.su:
            raise UserError(_("Deliveries cannot be deleted: cancel them instead; the nightly vacuum removes "
                              "finished ones after the log's retention."))

    def action_open_related(self):
        self.ensure_one()
        return open_record_action(self.res_model, self.res_id)

    @api.model
    def _vacuum(self, limit_date, batch):
        old = self.search([("state", "in", ("done", "cancelled")), ("write_date", "<", limit_date)], limit=batch)
        old.unlink()
        return len(old)
