from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    ib_easybill = fields.Boolean(
        "Invoiced in easybill",
        help="Sales journal collecting services that easybill invoices: its lines are exported monthly to "
             "easybill and never invoiced to the customer from Odoo.")
