import hashlib
import hmac
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib.core_masking import remember_secrets
from ..lib.easybill_client import DEFAULT_BASE_URL as EASYBILL_URL
from ..lib.easybill_client import DEFAULT_DOCUMENT_URL, WEBHOOK_PATH, document_url


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

    ib_easybill_document_url = fields.Char(
        "easybill link", default=DEFAULT_DOCUMENT_URL,
        help="How a document opens in easybill's web app: a URL with {id} (easybill's document id) and, "
             "optionally, {number}.")
    ib_easybill_webhook_id = fields.Char("easybill webhook", readonly=True, copy=False,
                                         help="The id of the webhook registered in easybill for the back-sync.")
    ib_easybill_webhook_nonce = fields.Char(readonly=True, copy=False, groups="base.group_system",
                                            help="Derives the webhook URL's token and secret (never stored).")
    ib_easybill_synced_on = fields.Date("easybill read up to", readonly=True, copy=False,
                                        help="The back-sync has read the invoices edited up to this day.")

    @api.constrains("ib_easybill_document_url")
    def _check_ib_easybill_document_url(self):
        for company in self.filtered("ib_easybill_document_url"):
            try:
                document_url(company.ib_easybill_document_url, 1)
            except ValueError as exc:
                raise ValidationError(_("easybill link: %s", exc)) from None

    def _ib_easybill_derived(self, purpose):
        """A value derived from the database secret and the company's nonce: nothing to steal at rest."""
        self.ensure_one()
        nonce = self.sudo().ib_easybill_webhook_nonce
        if not nonce:
            return False
        key = self.env["ir.config_parameter"].sudo().get_param("database.secret", "")
        message = f"invoice_bridge.easybill.{purpose}:{self.id}:{nonce}".encode()
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()

    def _ib_easybill_webhook_url(self):
        self.ensure_one()
        token = self._ib_easybill_derived("webhook-token")
        return token and f"{self.get_base_url()}{WEBHOOK_PATH}/{self.id}/{token}"

    def _ib_easybill_check_webhook_token(self, token):
        expected = self._ib_easybill_derived("webhook-token")
        return bool(expected) and hmac.compare_digest(expected.encode(), (token or "").encode())

    def action_ib_easybill_register_webhook(self):
        """Register (or update) the back-sync's webhook in easybill: a new URL token and secret each time."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only administrators may register easybill webhooks."))
        for company in self:
            if not company.sudo().ib_easybill_api_key:
                raise UserError(_("Set the easybill API key of %s first.", company.name))
            company.sudo().ib_easybill_webhook_nonce = secrets.token_urlsafe(32)  # write() clears the cache
            self.env["invoice_bridge.easybill.export"]._sync_queue(company, "webhook_register")
        return True

    # Override of res.company: a changed secret is masked at once (the sync log caches the known secrets)
    def write(self, vals):
        if set(vals) & set(("ib_easybill_api_key", "ib_easybill_webhook_nonce")):
            # before the UPDATE: a failed one is logged with its parameters
            remember_secrets([vals.get("ib_easybill_api_key"), vals.get("ib_easybill_webhook_nonce")])
            self.env.registry.clear_cache()
        return super().write(vals)
