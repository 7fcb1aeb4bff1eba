from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.core_retry import DEFAULT_SCHEDULE, describe_schedule, parse_schedule


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
    ib_log_retention_days = fields.Integer(
        "Keep successful log lines (days)", config_parameter="invoice_bridge.log_retention_days", default=90,
        help="Older successful lines and delivered messages are deleted every night; failures are kept.")
    ib_log_body_limit = fields.Integer(
        "Logged body size (characters)", config_parameter="invoice_bridge.log_body_limit", default=4096)

    @api.depends("ib_retry_schedule")
    def _compute_ib_retry_schedule_text(self):
        for settings in self:
            try:
                settings.ib_retry_schedule_text = describe_schedule(parse_schedule(settings.ib_retry_schedule))
            except ValueError as exc:
                settings.ib_retry_schedule_text = str(exc)

    @api.constrains("ib_retry_schedule")
    def _check_ib_retry_schedule(self):
        for settings in self:
            try:
                parse_schedule(settings.ib_retry_schedule)
            except ValueError as exc:
                raise ValidationError(_("Retry schedule: %s", exc)) from exc
