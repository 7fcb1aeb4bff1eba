import logging
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.modules import module as odoo_module

from ..lib.core_masking import DEFAULT_BODY_LIMIT, install_log_filter, mask_headers, remember_secrets, sanitize

# secrets are masked in the server log too (a failed query is logged with its parameters)
install_log_filter()

_logger = logging.getLogger(__name__)

#: what happened in one exchange (a line is written once and never rewritten)
LOG_STATES = [
    ("pending", "Retry requested"),
    ("success", "Succeeded"),
    ("retrying", "Will retry"),
    ("failed", "Failed"),
    ("dead", "Gave up"),
]


def open_record_action(res_model, res_id):
    """The window action opening one business record (False when there is none)."""
    if not (res_model and res_id):
        return False
    return {"type": "ir.actions.act_window", "res_model": res_model, "res_id": res_id, "view_mode": "form",
            "target": "current"}


class InvoiceBridgeSyncLog(models.Model):
    """One line per exchange attempt with an external system, in either direction.

    Lines are written by the engine and controllers only (through :meth:`_log` / :meth:`_log_detached`), which
    mask secrets and truncate bodies: nothing else writes request or response text.
    """

    _name = "invoice_bridge.sync.log"
    _description = "Invoice Bridge Sync Log"
    _order = "id desc"
    _rec_name = "summary"

    summary = fields.Char(compute="_compute_summary")
    # the engine's own channel; each channel module adds its code with selection_add (as on the outbox)
    channel = fields.Selection([("http", "Plain HTTP")], required=True, index=True)
    direction = fields.Selection([("outbound", "Outbound"), ("inbound", "Inbound")], required=True,
                                 default="outbound")
    state = fields.Selection(LOG_STATES, required=True, default="pending", index=True)
    company_id = fields.Many2one("res.company", index=True)
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null")
    move_id = fields.Many2one("account.move", string="Invoice", index="btree_not_null", ondelete="set null")
    res_model = fields.Char("Related Model", index=True)
    res_id = fields.Many2oneReference("Related Record", model_field="res_model")
    outbox_id = fields.Many2one("invoice_bridge.outbox", string="Delivery", index="btree_not_null",
                                ondelete="set null")
    endpoint = fields.Char("Endpoint / URL")
    http_method = fields.Char("Method")
    http_status = fields.Integer("HTTP Status", aggregator=False)
    duration_ms = fields.Integer("Duration (ms)", aggregator="avg")
    attempt = fields.Integer(aggregator=False)
    message = fields.Char(help="Short human-readable outcome.")
    hint = fields.Char("What to do next")
    error = fields.Text(help="Details of the failure.")
    request_headers = fields.Text()
    request_body = fields.Text()
    response_body = fields.Text()
    user_id = fields.Many2one("res.users", string="User", ondelete="set null")
    reference = fields.Char(index="btree_not_null",
                            help="The other side's number for the document (e.g. the sender's invoice number).")
    # what a line shows after later attempts is computed from its message: a line is never rewritten
    retryable = fields.Boolean(compute="_compute_followup")
    attempt_line_count = fields.Integer("Attempts", compute="_compute_followup")
    followup = fields.Char("Since then", compute="_compute_followup",
                           help="What became of the delivery after this attempt.")
    current_hint = fields.Char("What to do now", compute="_compute_followup")

    @api.depends("channel", "state", "move_id", "res_model", "res_id")
    def _compute_summary(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        states = dict(self._fields["state"]._description_selection(self.env))
        for log in self:
            about = log.move_id.display_name
            if not about and log.res_model in self.env and log.res_id:
                record = self.env[log.res_model].browse(log.res_id).exists()
                about = record.sudo().display_name if record else ""
            log.summary = " · ".join(p for p in (channels.get(log.channel), log.reference, about,
                                                 states.get(log.state)) if p)

    @api.depends("state", "hint", "outbox_id.state")
    def _compute_followup(self):
        """Per line, from its message's later lines: is this the message's latest attempt (Retry is offered
        there only), how many lines the message has, and what became of it since (one query for all)."""
        outboxes = self.outbox_id
        latest, counts = {}, {}
        if outboxes:
            for outbox, last_id, count in self.sudo()._read_group(
                    [("outbox_id", "in", outboxes.ids)], ["outbox_id"], ["id:max", "__count"]):
                latest[outbox.id], counts[outbox.id] = last_id, count
        states = dict(self._fields["state"]._description_selection(self.env))
        outbox_states = dict(self.env["invoice_bridge.outbox"]._fields["state"]._description_selection(self.env))
        for log in self:
            outbox = log.outbox_id
            last_id = latest.get(outbox.id)
            is_latest = not outbox or not log.id or last_id is None or log.id >= last_id
            log.retryable = bool(outbox) and is_latest and outbox.state in ("failed", "dead")
            log.attempt_line_count = counts.get(outbox.id, 0)
            log.followup = False
            log.current_hint = log.hint if (is_latest and (not outbox or outbox.state != "done")) else False
            if not is_latest:
                last = self.browse(last_id).sudo()
                log.followup = _("Later: %(state)s on %(when)s (attempt %(n)s). The delivery is now: %(now)s.",
                                 state=states.get(last.state, "").lower(),
                                 when=fields.Datetime.context_timestamp(log, last.create_date).strftime(
                                     "%Y-%m-%d %H:%M"), n=last.attempt, now=outbox_states.get(outbox.state, ""))
            elif outbox and outbox.state == "cancelled" and log.state != "success":
                log.followup = _("The delivery was cancelled.")

    # ------------------------------------------------------------------------------------ writing lines
    @api.model
    def _body_limit(self):
        limit = self.env["invoice_bridge.config"]._get("log_body_limit", DEFAULT_BODY_LIMIT)
        return limit if limit > 0 else DEFAULT_BODY_LIMIT

    @api.model
    def _ib_known_secrets(self):
        """Every secret value the addon holds (extension point: each channel adds its own), masked by value in
        every line and in the server log. Cached; the models holding them clear the cache when they change."""
        return ()

    @tools.ormcache()
    def _ib_known_secrets_cached(self):
        secrets = tuple(s for s in self.sudo()._ib_known_secrets() if s)
        remember_secrets(secrets)  # the server log's filter masks them too
        return secrets

    @api.model
    def _masked_header_names(self):
        """Header names masked besides the credential-looking ones (a setting, comma-separated)."""
        names = self.env["invoice_bridge.config"]._get("log_masked_headers", "")
        return tuple(n.strip() for n in names.split(",") if n.strip())

    @api.model
    def _prepare_vals(self, vals_list):
        """Mask and truncate. ``secrets`` (literal secret strings) and ``request_headers`` (a dict) are accepted."""
        limit = self._body_limit()
        known = self._ib_known_secrets_cached()
        extra_headers = self._masked_header_names()
        prepared = []
        for vals in vals_list:
            vals = dict(vals)
            secrets = (*(vals.pop("secrets", ()) or ()), *known)
            headers = vals.get("request_headers")
            if isinstance(headers, dict):
                vals["request_headers"] = sanitize(
                    "\n".join(f"{k}: {v}" for k, v in mask_headers(headers, extra_headers).items()), secrets,
                    limit)
            for key in ("request_body", "response_body", "error", "endpoint"):
                if vals.get(key):
                    vals[key] = sanitize(vals[key], secrets, limit)
            if vals.get("message"):
                vals["message"] = sanitize(vals["message"], secrets, 250)
            # PostgreSQL refuses NUL in text: an outside value carrying one (a path, a header) is shown escaped
            vals.update({key: value.replace("\x00", "\\x00") for key, value in vals.items()
                         if isinstance(value, str) and "\x00" in value})
            if vals.get("res_model") == "account.move" and vals.get("res_id") and "move_id" not in vals:
                vals["move_id"] = vals["res_id"]
            prepared.append(vals)
        return prepared

    @api.model
    def _log(self, vals_list):
        """Write log lines in the current transaction (they share its fate)."""
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        return self.sudo().create(self._prepare_vals(vals_list))

    @api.model
    def _log_detached(self, vals_list):
        """Write log lines through a separate cursor, so they survive a rollback of the current transaction.

        Used for refused requests and failed sends. Only ids of records that are already committed may be
        referenced. Under Odoo's test runner the current cursor is used: a test's data is never committed, so
        a second connection could neither see it nor be rolled back afterwards.
        """
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        vals_list = self._prepare_vals(vals_list)
        if odoo_module.current_test:  # read at call time: the runner sets it per test
            return self.sudo().create(vals_list).ids
        with self.env.registry.cursor() as cr:
            ids = self.with_env(self.env(cr=cr, su=True)).create(vals_list).ids
        return ids

    @api.ondelete(at_uninstall=False)
    def _unlink_only_by_the_vacuum(self):
        """An audit trail is append-only: only the retention vacuum (superuser) removes lines. No context flag
        opens this (an RPC caller could set one); uninstalling the addon still drops the table."""
        if not self.env.su:
            raise UserError(_("Sync log lines cannot be deleted: the nightly vacuum removes them after their "
                              "retention (Settings ▸ Invoice Bridge ▸ Sync log)."))

    # ------------------------------------------------------------------------------------------ actions
    def action_retry(self):
        """Retry the deliveries behind these lines (one Retry, the delivery's: the same as on the delivery or
        its business record). From the list, several at once: lines already retried or delivered are skipped."""
        outboxes = self.filtered("retryable").outbox_id
        if not outboxes:
            raise UserError(_("Nothing to retry: these deliveries were delivered, are already being retried, or "
                              "cannot be retried (only failed deliveries and those given up can be)."))
        outboxes.action_retry()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "sticky": False, "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            "message": _("%s delivery(ies) will be retried in a moment.", len(outboxes))}}

    def action_open_attempts(self):
        """Every line of this line's delivery, oldest first."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("invoice_bridge.sync_log_action")
        action.update({"domain": [("outbox_id", "=", self.outbox_id.id)], "name": _("Attempts: %s", self.summary),
                       "context": {"create": False}, "views": [(False, "list"), (False, "form")]})
        return action

    def action_cancel_message(self):
        """Give up the message behind these lines for good (managers: the outbox's access rights apply)."""
        self.filtered("retryable").outbox_id.action_cancel()
        return True

    def action_open_related(self):
        self.ensure_one()
        return open_record_action(self.res_model, self.res_id)

    # ------------------------------------------------------------------------------------------- vacuum
    @api.model
    def _cron_vacuum(self, batch=10000):
        """Delete lines older than their retention: successes after ``log_retention_days`` (90), failed, dead
        and retried attempts after ``log_failure_retention_days`` (365; never shorter than the first); finished
        outbox messages with the successes; refused-request counters after their own retention."""
        days = self.env["invoice_bridge.config"]._get("log_retention_days", 90)
        failure_days = self.env["invoice_bridge.config"]._get("log_failure_retention_days", 365)
        now = fields.Datetime.now()
        count = 0
        for states, keep in ((("success", "pending"), days), (("retrying", "failed", "dead"), max(failure_days, days))):
            if keep <= 0:
                continue
            old = self.sudo().search([("state", "in", states), ("create_date", "<", now - timedelta(days=keep))],
                                     limit=batch)
            count += len(old)
            old.unlink()
        if days > 0:
            self.env["invoice_bridge.outbox"].sudo()._vacuum(now - timedelta(days=days), batch)
        self.env["invoice_bridge.refused.request"].sudo()._vacuum()
        _logger.info("invoice_bridge: vacuumed %d sync-log lines (kept %d days, failures %d days)", count, days,
                     failure_days)
        if count >= batch:
            self.env.ref("invoice_bridge.ir_cron_vacuum")._trigger()
        return count
