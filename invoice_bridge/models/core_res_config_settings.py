from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.core_retry import DEFAULT_SCHEDULE, describe_schedule, parse_schedule
from .core_outbox import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from .core_refused_request import DEFAULT_RETENTION_DAYS as DEFAULT_REFUSED_RETENTION_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ib_outbound_disabled = fields.Boolean(
        "Pause all outbound traffic", config_parameter="invoice_bridge.outbound_disabled",
        help="Master switch of every outbound channel: messages keep queueing but nothing is sent. "
             "Neutralized (copied) databases have it on.")
    ib_retry_schedule = fields.Char(
        "Retry schedule", config_parameter="invoice_bridge.retry_schedule", default=DEFAULT_SCHEDULE,
        help="Wait before each attempt, comma-separated (s, m, h, d). The first entry is the first attempt; "
             "after the last one a message is dead.")
    ib_retry_schedule_text = fields.Char("Retries in words", compute="_compute_ib_retry_schedule_text")
    ib_drain_concurrency = fields.Integer(
        "Deliveries at once", config_parameter="invoice_bridge.drain_concurrency", default=DEFAULT_CONCURRENCY,
        help="Requests the delivery engine keeps under way at the same time (1 to 64), whatever their "
             "connection; each webhook endpoint has its own limit too.")
    ib_log_retention_days = fields.Integer(
        "Keep successful log lines (days)", config_parameter="invoice_bridge.log_retention_days", default=90,
        help="Older successful lines and delivered messages are deleted every night.")
    ib_log_failure_retention_days = fields.Integer(
        "Keep failed log lines (days)", config_parameter="invoice_bridge.log_failure_retention_days", default=365,
        help="Older failed, given-up and retried attempts are deleted every night (never before the successful "
             "ones).")
    ib_log_body_limit = fields.Integer(
        "Logged body size (characters)", config_parameter="invoice_bridge.log_body_limit", default=4096)
    ib_log_masked_headers = fields.Char(
        "More masked headers", config_parameter="invoice_bridge.log_masked_headers",
        help="Header names whose values the sync log masks, comma-separated, besides those that look like "
             "credentials (names containing auth, token, key, secret, signature, passw, cookie or session).")
    ib_refused_retention_days = fields.Integer(
        "Keep refused-request counts (days)", config_parameter="invoice_bridge.refused_retention_days",
        default=DEFAULT_REFUSED_RETENTION_DAYS,
        help="Requests refused for their credential or their rate are counted per source and minute; older "
             "counts are deleted every night.")

    @api.depends("ib_retry_schedule")
    def _compute_ib_retry_schedule_text(self):
        for settings in self:
            try:
                settings.ib_retry_schedule_text = describe_schedule(parse_schedule(settings.ib_retry_schedule))
            except ValueError as exc:
                settings.ib_retry_schedule_text = str(exc)

    @api.constrains("ib_drain_concurrency")
    def _check_ib_drain_concurrency(self):
        if any(not 1 <= settings.ib_drain_concurrency <= MAX_CONCURRENCY for settings in self):
            raise ValidationError(_("Deliveries at once must be between 1 and %s.", MAX_CONCURRENCY))

    @api.constrains("ib_retry_schedule")
    def _check_ib_retry_schedule(self):
        for settings in self:
            try:
                parse_schedule(settings.ib_retry_schedule)
            except ValueError as exc:
                raise ValidationError(_("Retry schedule: %s", exc)) from exc
