from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .webhook_endpoint import DEFAULT_DISABLE_AFTER_DAYS, DEFAULT_ROTATION_HOURS, MAX_ROTATION_HOURS

#: settings field → (key of invoice_bridge.config, default): integer settings where 0 means something
ZERO_MEANS = {
    "ib_webhook_disable_after_days": ("webhook_disable_after_days", DEFAULT_DISABLE_AFTER_DAYS),
    "ib_webhook_rotation_hours": ("webhook_rotation_hours", DEFAULT_ROTATION_HOURS),
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_reminder_days_after_due = fields.Integer(related="company_id.ib_reminder_days_after_due", readonly=False)
    ib_reminder_interval_days = fields.Integer(related="company_id.ib_reminder_interval_days", readonly=False)
    ib_webhook_ledger_cap = fields.Integer(
        "Ledger lines per event", config_parameter="invoice_bridge.webhook_ledger_cap", default=1000,
        help="A new_invoice event carries the partner's most recent ledger lines, up to this many.")
    # 0 is a value of these two (never; no window): Odoo's config_parameter fields store 0 as "no parameter",
    # which reads back as the default, so they are read and written here (ZERO_MEANS)
    ib_webhook_disable_after_days = fields.Integer(
        "Disable after days of failures", default=DEFAULT_DISABLE_AFTER_DAYS,
        help="An endpoint whose deliveries have all failed for this many days is archived, and its responsible "
             "gets an activity and a mail (0: never).")
    ib_webhook_rotation_hours = fields.Integer(
        "Secret rotation window (hours)", default=DEFAULT_ROTATION_HOURS,
        help="After Rotate secret, the previous secret keeps signing this many hours (every message carries both "
             "signatures), time to give the new one to the receiver. 0: it stops at once, for a leaked secret. At "
             "most 720 (30 days).")

    @api.constrains("ib_webhook_rotation_hours")
    def _check_ib_webhook_rotation_hours(self):
        if any(not 0 <= settings.ib_webhook_rotation_hours <= MAX_ROTATION_HOURS for settings in self):
            raise ValidationError(_("The secret rotation window must be between 0 and %s hours.", MAX_ROTATION_HOURS))

    def get_values(self):
        values = super().get_values()
        config = self.env["invoice_bridge.config"]
        values.update({name: config._get(key, default) for name, (key, default) in ZERO_MEANS.items()})
        return values

    def set_values(self):
        res = super().set_values()
        params = self.env["ir.config_parameter"].sudo()
        for name, (key, _default) in ZERO_MEANS.items():
            params.set_param(f"invoice_bridge.{key}", str(self[name]))
        return res
