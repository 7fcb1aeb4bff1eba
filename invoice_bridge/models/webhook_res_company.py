from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_reminder_days_after_due = fields.Integer(
        "Reminder after due (days)", default=1,
        help="A payment_reminder event is sent for posted invoices with an amount due this many days after "
             "their due date.")
    ib_reminder_interval_days = fields.Integer(
        "Reminder interval (days)", default=7, help="At most one reminder per invoice and endpoint per interval.")
