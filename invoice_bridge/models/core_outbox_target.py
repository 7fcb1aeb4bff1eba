import json

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.modules import module as odoo_module
from odoo.tools import SQL

from ..lib.core_rate_limit import RATE_WINDOW_SECONDS, RateWindow
from .core_compat import Constraint


class InvoiceBridgeOutboxTarget(models.Model):
    """A delivery target (an endpoint, an API host) that can be paused as a whole.

    When a target answers 429/502/503/504 the engine pauses every message to it for the ``Retry-After`` (or the
    retry schedule's delay) instead of trying message after message.
    """

    _name = "invoice_bridge.outbox.target"
    _description = "Invoice Bridge Connection"
    _order = "paused_until desc, id desc"

    name = fields.Char(required=True, index=True, readonly=True)
    paused_until = fields.Datetime(readonly=True)
    pause_reason = fields.Char(readonly=True)
    rate_limit = fields.Integer(
        "Requests per minute", readonly=True,
        help="At most this many attempts within any 60 seconds (0: no limit). Set by the channel, e.g. easybill.")
    recent_attempts = fields.Text(readonly=True, help="JSON list of the epoch seconds of the last attempts.")
    # health, updated after each batch (in a statement of its own: see _record_health)
    last_success_at = fields.Datetime(readonly=True)
    last_failure_at = fields.Datetime(readonly=True)
    consecutive_failures = fields.Integer(readonly=True)
    failing_since = fields.Datetime(readonly=True, help="When its current run of failures began (empty: none).")
    last_error = fields.Char(readonly=True)

    label = fields.Char("Connection", compute="_compute_label")

    _name_uniq = Constraint("unique(name)", "A delivery target is recorded once.")

    @api.model
    def _labels(self, names):
        """``{technical name: what a person calls it}``, from the channels (an endpoint's name, a service)."""
        names = {n for n in names if n}
        return self.env["invoice_bridge.outbox"]._channel_target_labels(names) if names else {}

    @api.depends("name")
    def _compute_label(self):
        labels = self._labels(set(self.mapped("name")))
        for target in self:
            target.label = labels.get(target.name, target.name)

    @api.depends("label")
    def _compute_display_name(self):
        for target in self:
            target.display_name = target.label

    def _execute_apart(self, query):
        """Run ``query`` (a write of target rows) in a READ COMMITTED transaction of its own, committed at once.

        The drain writes target rows (rate windows, pauses, health, easybill's rate limit) only through here, so
        its own transaction never holds a target row's lock: a second cursor of the same thread waiting for the
        first one's lock would be a deadlock PostgreSQL cannot see (one Python thread, two connections; seen on
        the demo with easybill's rate-limited target). It also keeps two drains sending to one target from failing
        each other on its row (under REPEATABLE READ, the second update of a row another transaction committed
        meanwhile is a serialization failure), and nothing else ever waits for a drain. Under Odoo's test runner
        the test transaction is used (its data is never committed); ``tests/test_core_outbox_concurrency.py``
        drains on real connections.
        """
        if odoo_module.current_test:
            self.env.cr.execute(query)
        else:
            with self.env.registry.cursor() as cr:
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cr.execute(query)
        self.invalidate_model()

    def _pause(self, target, until, reason, apart=False):
        """Pause ``target`` until ``until`` (never shortening an existing pause). One statement, no ORM reads.
        ``apart``: in a transaction of its own (the drain's way, see :meth:`_execute_apart`); else in the caller's,
        e.g. archiving an endpoint, whose pause must not outlive a rollback."""
        query = SQL(
            """INSERT INTO invoice_bridge_outbox_target (name, paused_until, pause_reason, create_date, write_date)
               VALUES (%(name)s, %(until)s, %(reason)s, %(now)s, %(now)s)
               ON CONFLICT (name) DO UPDATE
                  SET paused_until = GREATEST(invoice_bridge_outbox_target.paused_until, EXCLUDED.paused_until),
                      pause_reason = EXCLUDED.pause_reason, write_date = EXCLUDED.write_date""",
            name=target, until=until, reason=(reason or "")[:250], now=fields.Datetime.now())
        if apart:
            self._execute_apart(query)
        else:
            self.env.cr.execute(query)
            self.invalidate_model()

    def _set_rate_limit(self, target, per_minute):
        """Create ``target`` if needed and set its rate limit (one statement, apart: the channel sets it while
        the drain runs)."""
        self._execute_apart(SQL(
            """INSERT INTO invoice_bridge_outbox_target (name, rate_limit, create_date, write_date)
               VALUES (%(name)s, %(limit)s, %(now)s, %(now)s)
               ON CONFLICT (name) DO UPDATE SET rate_limit = EXCLUDED.rate_limit
                WHERE invoice_bridge_outbox_target.rate_limit IS DISTINCT FROM EXCLUDED.rate_limit""",
            name=target, limit=per_minute or 0, now=fields.Datetime.now()))

    def _batch_state(self, targets):
        """What a batch to ``targets`` must know of them, in one query: ``({target: RateWindow}`` of the
        rate-limited ones, ``{target: consecutive failures}`` of the failing ones``)``."""
        if not targets:
            return {}, {}
        self.env.cr.execute(SQL(
            "SELECT name, rate_limit, recent_attempts, consecutive_failures FROM invoice_bridge_outbox_target"
            " WHERE name IN %s AND (rate_limit > 0 OR consecutive_failures > 0)", tuple(targets)))
        rows = self.env.cr.fetchall()
        windows, failures = {}, {}
        if any(limit for _name, limit, _recent, _failed in rows):
            window = self.env["invoice_bridge.config"]._get("rate_window_seconds", RATE_WINDOW_SECONDS)
            windows = {name: RateWindow(limit, json.loads(recent or "[]"), window)
                       for name, limit, recent, _failed in rows if limit}
        failures = {name: failed for name, _limit, _recent, failed in rows if failed}
        return windows, failures

    def _save_rate_windows(self, windows):
        """The attempts of the batch, apart (they were made, whatever becomes of the batch's transaction)."""
        if not windows:
            return
        rows = SQL(", ").join(SQL("(%s, %s)", name, json.dumps(window.recent)) for name, window in windows.items())
        self._execute_apart(SQL(
            """UPDATE invoice_bridge_outbox_target t SET recent_attempts = v.recent
                 FROM (VALUES %s) AS v(name, recent) WHERE t.name = v.name""", rows))

    def _record_health(self, stats):
        """Update the health of the targets of a batch: ``{target: (successes, failures, last error)}``.

        Apart, as every write of the drain on target rows (:meth:`_execute_apart`).
        """
        if not stats:
            return
        now = fields.Datetime.now()
        rows = SQL(", ").join(SQL("(%s, %s, %s, %s)", name, ok, failed, (error or "")[:250] or None)
                              for name, (ok, failed, error) in stats.items())
        query = SQL(
            """INSERT INTO invoice_bridge_outbox_target AS t (name, consecutive_failures, last_success_at,
                                                              last_failure_at, failing_since, last_error,
                                                              create_date, write_date)
               SELECT v.name, v.failed, CASE WHEN v.ok > 0 THEN %(now)s::timestamp END,
                      CASE WHEN v.failed > 0 THEN %(now)s::timestamp END,
                      CASE WHEN v.ok = 0 AND v.failed > 0 THEN %(now)s::timestamp END, v.error, %(now)s, %(now)s
                 FROM (VALUES %(rows)s) AS v(name, ok, failed, error)
               ON CONFLICT (name) DO UPDATE
                  SET consecutive_failures = CASE WHEN EXCLUDED.last_success_at IS NOT NULL
                                                  THEN EXCLUDED.consecutive_failures
                                                  ELSE t.consecutive_failures + EXCLUDED.consecutive_failures END,
                      failing_since = CASE
                          WHEN EXCLUDED.last_success_at IS NOT NULL AND EXCLUDED.consecutive_failures = 0 THEN NULL
                          WHEN EXCLUDED.last_success_at IS NOT NULL THEN EXCLUDED.last_failure_at
                          ELSE COALESCE(t.failing_since, EXCLUDED.failing_since) END,
                      last_success_at = COALESCE(EXCLUDED.last_success_at, t.last_success_at),
                      last_failure_at = COALESCE(EXCLUDED.last_failure_at, t.last_failure_at),
                      last_error = COALESCE(EXCLUDED.last_error, t.last_error),
                      write_date = EXCLUDED.write_date""", now=now, rows=rows)
        self._execute_apart(query)

    def action_resume(self):
        if not self.env.user.has_group("invoice_bridge.group_invoice_bridge_manager"):
            raise AccessError(_("Only Invoice Bridge managers may resume a paused target."))
        self.check_access("read")
        self.sudo().write({"paused_until": False, "pause_reason": False})
        return True
