from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.import_api_fields import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_import_batch_size = fields.Integer(
        "Invoices per batch import", config_parameter="invoice_bridge.import_batch_size", default=DEFAULT_BATCH_SIZE,
        help="The most invoices POST /api/sales/import/invoices/ takes in one request (1 to 250): a larger "
             "batch is refused with a 400.")

    @api.constrains("ib_import_batch_size")
    def _check_ib_import_batch_size(self):
        if any(not 1 <= settings.ib_import_batch_size <= MAX_BATCH_SIZE for settings in self):
            raise ValidationError(_("Invoices per batch import must be between 1 and %s.", MAX_BATCH_SIZE))
