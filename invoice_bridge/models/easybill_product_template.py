from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    ib_cancellation_fee = fields.Boolean(
        "Cancellation fee", help="Exported to easybill as a cancellation fee (its own type and position).")
