from odoo import api, models

from ..lib.core_settings import parse_setting


class InvoiceBridgeConfig(models.AbstractModel):
    """The one reader of the addon's ``ir.config_parameter`` settings (``invoice_bridge.<key>``).

    Every channel reads its settings here, with the one parsing rule of :func:`~..lib.core_settings.parse_setting`:
    the default's type decides how the text is read, and an empty or unreadable value gives the default.
    """

    _name = "invoice_bridge.config"
    _description = "Invoice Bridge settings"

    @api.model
    def _get(self, key, default):
        # None for a missing key: get_param's own default is False, which would be read as the text "False"
        raw = self.env["ir.config_parameter"].sudo().get_param(f"invoice_bridge.{key}", None)
        return parse_setting(raw, default)
