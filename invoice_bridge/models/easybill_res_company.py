from odoo import fields, models

from ..lib.easybill_client import DEFAULT_BASE_URL as EASYBILL_URL


class ResCompany(models.Model):
    _inherit = "res.company"

    ib_easybill_enabled = fields.Boolean(
        "Monthly easybill export", help="On the 1st of each month (company time zone) export last month's "
                                       "services of the journals invoiced in easybill.")
    ib_easybill_url = fields.Char("easybill API URL", default=EASYBILL_URL,
                                  help="easybill REST API v1 base URL (change it for a sandbox).")
    ib_easybill_api_key = fields.Char("easybill API key", groups="base.group_system")
    ib_easybill_rate_limit = fields.Selection(
        [("10", "10 requests/minute"), ("60", "60 requests/minute")], "easybill rate limit", default="10",
        required=True, help="easybill's plan limit: the bridge never sends more requests per minute.")
    ib_easybill_line_selection = fields.Selection(
        [("all", "All lines"), ("services", "Service products only")], "Exported lines", default="all",
        required=True, help="Cancellation fees are exported in both cases.")
    ib_easybill_move_state = fields.Selection(
        [("draft", "Draft"), ("posted", "Posted")], "Exported entries", default="draft", required=True,
        help="Draft: the collected services stay drafts in Odoo (easybill's invoice is the accounting document). "
             "Posted: they are posted in Odoo too (revenue booked in Odoo's ledger; easybill's invoice must "
             "then not be booked a second time).")
    ib_easybill_auto_finalize = fields.Boolean(
        "Finalise in easybill", help="Finalise the easybill invoice right away instead of leaving a draft "
                                     "for the accountant to review.")
    ib_easybill_last_period = fields.Date("Last exported month", readonly=True)

    # Override of res.company: a changed secret is masked at once (the sync log caches the known secrets)
    def write(self, vals):
        if set(vals) & set(("ib_easybill_api_key",)):
            self.env.registry.clear_cache()
        return super().write(vals)
