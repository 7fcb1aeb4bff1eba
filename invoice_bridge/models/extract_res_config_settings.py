from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_extract_endpoint = fields.Char(related="company_id.ib_extract_endpoint", readonly=False)
    ib_extract_token = fields.Char(related="company_id.ib_extract_token", readonly=False,
                                   groups="base.group_system")
    ib_extract_test_mode = fields.Boolean(related="company_id.ib_extract_test_mode", readonly=False)
    ib_extract_auto = fields.Selection(related="company_id.ib_extract_auto", readonly=False)
    ib_extract_generation = fields.Selection(related="company_id.ib_extract_generation", readonly=False)
    ib_extract_line_per_tax = fields.Boolean(related="company_id.ib_extract_line_per_tax", readonly=False)
