from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    ib_batch_no = fields.Char("Batch number", copy=False, help="Sent by the importing system (import API).")
