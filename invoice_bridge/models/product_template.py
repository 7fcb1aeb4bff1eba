from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    ib_cancellation_fee = fields.Boolean(
        "Cancellation fee", help="Exported to easybill as a cancellation fee (its own type and position).")
    # kept from the import API's items (seed 002)
    ib_manufacturer = fields.Char("Manufacturer", help="The item's company_name in the import API.")
    ib_packing = fields.Char("Packing")
    ib_shelf_location = fields.Char("Shelf location")
    ib_remarks = fields.Text("Remarks")
