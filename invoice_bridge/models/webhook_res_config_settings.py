from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_reminder_days_after_due = fields.Integer(related="company_id.ib_reminder_days_after_due", readonly=False)
    ib_reminder_interval_days = fields.Integer(related="company_id.ib_reminder_interval_days", readonly=False)
    ib_webhook_ledger_cap = fields.Integer(
        "Ledger lines per event", config_parameter="invoice_bridge.webhook_ledger_cap", default=1000,
        help="A new_invoice event carries the partner's most recent ledger lines, up to this many.")
    ib_webhook_disable_after_days = fields.Integer(
        "Disable after days of failures", config_parameter="invoice_bridge.webhook_disable_after_days", default=5,
        help="An endpoint whose deliveries have all failed for this many days is archived, and its responsible "
             "gets an activity and a mail (0: never).")
