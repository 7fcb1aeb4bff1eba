from odoo import api, models

from ..lib.core_masking import remember_secrets


class IapAccount(models.Model):
    _inherit = "iap.account"

    # Override of iap.account: a changed token is masked at once (the sync log caches the known secrets)
    def write(self, vals):
        if "account_token" in vals:
            remember_secrets([vals["account_token"]])  # before the UPDATE: a failed one is logged with it
            self.env.registry.clear_cache()
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        remember_secrets([vals.get("account_token") for vals in vals_list])
        self.env.registry.clear_cache()
        return super().create(vals_list)
