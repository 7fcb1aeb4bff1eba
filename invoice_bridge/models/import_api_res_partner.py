from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_area = fields.Char("Area", help="Sales area given by the import API.")
