from odoo import api, models


class IapAccount(models.Model):
    _inherit = "iap.account"

    # Override of iap.account: a changed token is masked at once (the sync log caches the known secrets)
    def write(self, vals):
        if "account_token" in vals:
            self.env.registry.clear_cache()
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)
