from odoo import fields, models

from ..lib.easybill_client import DEFAULT_BASE_URL as EASYBILL_URL
from ..lib.iap_extract import DEFAULT_ENDPOINT


class ResCompany(models.Model):
    _inherit = "res.company"

    ib_reminder_days_after_due = fields.Integer(
        "Reminder after due (days)", default=1,
        help="A payment_reminder event is sent for posted invoices with an amount due this many days after "
             "their due date.")
    ib_reminder_interval_days = fields.Integer(
        "Reminder interval (days)", default=7, help="At most one reminder per invoice and endpoint per interval.")

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
