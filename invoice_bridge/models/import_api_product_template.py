from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    # kept from the import API's items (seed 002)
    ib_manufacturer = fields.Char("Manufacturer", help="The item's company_name in the import API.")
    ib_packing = fields.Char("Packing")
    ib_shelf_location = fields.Char("Shelf location")
    ib_remarks = fields.Text("Remarks")
