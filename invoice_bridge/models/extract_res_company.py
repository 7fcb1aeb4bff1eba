from odoo import fields, models

from ..lib.core_masking import remember_secrets
from ..lib.extract_client import DEFAULT_ENDPOINT


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    ib_extract_endpoint = fields.Char("IAP Extract endpoint", default=DEFAULT_ENDPOINT)
    ib_extract_token = fields.Char(
        "IAP Extract account token", groups="base.group_system",
        help="Leave empty to use Odoo's IAP account of the service invoice_ocr.")
    ib_extract_test_mode = fields.Boolean(
        "IAP Extract test mode", help="Uses the documented integration_token: nothing is analysed or billed.")
    ib_extract_auto = fields.Selection(
        [("off", "Off"), ("upload", "On upload"), ("alias", "On creation from the purchase journal's mail alias")],
        "Automatic digitization", default="off", required=True,
        help="On upload: every vendor bill receiving a PDF/image document (uploaded or e-mailed) is digitized. "
             "On creation from the mail alias: only bills created from an e-mail to the purchase journal.")
    ib_extract_line_per_tax = fields.Boolean(
        "Digitize: one line per tax", help="Fill digitized bills with one line per tax (the sum of the lines "
                                           "having it) instead of one line per extracted line.")
    ib_extract_generation = fields.Selection(
        [("1", "Generation 1 (iap-extract.odoo.com, version 120)"), ("2", "Generation 2 (extract.api.odoo.com)")],
        "IAP Extract protocol", default="1", required=True,
        help="Generation 2 identifies documents by token, is polled one document per call, and calls this "
             "database back when a result is ready (the endpoint must point at its host).")

    # Override of res.company: a changed secret is masked at once (the sync log caches the known secrets)
    def write(self, vals):
        if set(vals) & set(("ib_extract_token", "ib_extract_test_mode")):
            remember_secrets([vals.get("ib_extract_token")])  # before the UPDATE: a failed one is logged with it
            self.env.registry.clear_cache()
        return super().write(vals)
