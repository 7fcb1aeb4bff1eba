from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.retry import DEFAULT_SCHEDULE, parse_schedule


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
    ib_log_retention_days = fields.Integer(
        "Keep successful log lines (days)", config_parameter="invoice_bridge.log_retention_days", default=90,
        help="Older successful lines and delivered messages are deleted every night; failures are kept.")
    ib_log_body_limit = fields.Integer(
        "Logged body size (characters)", config_parameter="invoice_bridge.log_body_limit", default=4096)

    ib_reminder_days_after_due = fields.Integer(related="company_id.ib_reminder_days_after_due", readonly=False)
    ib_reminder_interval_days = fields.Integer(related="company_id.ib_reminder_interval_days", readonly=False)
    ib_webhook_ledger_cap = fields.Integer(
        "Ledger lines per event", config_parameter="invoice_bridge.webhook_ledger_cap", default=1000,
        help="A new_invoice event carries the partner's most recent ledger lines, up to this many.")

    ib_extract_endpoint = fields.Char(related="company_id.ib_extract_endpoint", readonly=False)
    ib_extract_token = fields.Char(related="company_id.ib_extract_token", readonly=False,
                                   groups="base.group_system")
    ib_extract_test_mode = fields.Boolean(related="company_id.ib_extract_test_mode", readonly=False)
    ib_extract_auto = fields.Selection(related="company_id.ib_extract_auto", readonly=False)
    ib_extract_generation = fields.Selection(related="company_id.ib_extract_generation", readonly=False)
    ib_extract_line_per_tax = fields.Boolean(related="company_id.ib_extract_line_per_tax", readonly=False)

    ib_easybill_enabled = fields.Boolean(related="company_id.ib_easybill_enabled", readonly=False)
    ib_easybill_url = fields.Char(related="company_id.ib_easybill_url", readonly=False)
    ib_easybill_api_key = fields.Char(related="company_id.ib_easybill_api_key", readonly=False,
                                      groups="base.group_system")
    ib_easybill_rate_limit = fields.Selection(related="company_id.ib_easybill_rate_limit", readonly=False)
    ib_easybill_line_selection = fields.Selection(related="company_id.ib_easybill_line_selection", readonly=False)
    ib_easybill_move_state = fields.Selection(related="company_id.ib_easybill_move_state", readonly=False)
    ib_easybill_auto_finalize = fields.Boolean(related="company_id.ib_easybill_auto_finalize", readonly=False)

    @api.constrains("ib_retry_schedule")
    def _check_ib_retry_schedule(self):
        for settings in self:
            try:
                parse_schedule(settings.ib_retry_schedule)
            except ValueError as exc:
                raise ValidationError(_("Retry schedule: %s", exc)) from exc
