import hashlib
import hmac
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from odoo.addons.base.models.res_users import check_identity

from ..lib.core_masking import remember_secrets
from .core_compat import Constraint

KEY_PREFIX = "ibk_"
#: characters of the key kept in clear to find its row (never enough to use it)
INDEX_SIZE = 12
DEFAULT_RATE_LIMIT = 120


def hash_key(key):
    """Keys are 256-bit random tokens: a plain SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


class InvoiceBridgeApiKey(models.Model):
    """An integration key of the import API (header ``X-API-KEY``), stored only as a hash.

    Requests made with it run as its technical user, in its company.
    """

    _name = "invoice_bridge.api.key"
    _description = "Invoice Bridge Import API Key"
    _inherit = ["mail.thread"]
    _order = "company_id, name"

    name = fields.Char(required=True, tracking=True, help="Who uses it, e.g. the ERP or the courier system.")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    user_id = fields.Many2one(
        "res.users", "Technical user", required=True, ondelete="restrict", tracking=True,
        domain="[('share', '=', False)]",
        help="Invoices are created as this user: give it Billing rights in the key's company only.")
    active = fields.Boolean(default=True, tracking=True)
    key_index = fields.Char(readonly=True, index=True, copy=False, groups="base.group_system")
    key_hash = fields.Char(readonly=True, copy=False, groups="base.group_system")
    key_hint = fields.Char("Key", readonly=True, copy=False, help="The key's first characters, to recognise it.")
    last_used_at = fields.Datetime(readonly=True, copy=False)
    rate_limit = fields.Integer("Requests per minute", default=DEFAULT_RATE_LIMIT,
                                help="Further requests within the minute are refused with 429 (0: no limit).")
    rate_window_start = fields.Datetime(readonly=True, copy=False)
    rate_window_count = fields.Integer(readonly=True, copy=False)

    _key_hash_uniq = Constraint("unique(key_hash)", "This key already exists.")

    @api.constrains("user_id", "company_id")
    def _check_technical_user(self):
        """Requests with a key run as its user: an internal user of the key's company, never an administrator."""
        for key in self:
            user = key.user_id
            if user.share or key.company_id not in user.company_ids:
                raise ValidationError(_("The technical user of %(key)s must be an internal user of %(company)s.",
                                        key=key.name, company=key.company_id.name))
            if user._is_superuser() or user.has_group("base.group_system") or user.has_group(
                    "base.group_erp_manager"):
                raise ValidationError(_("The technical user of %s must not be an administrator: give it Billing "
                                        "rights in the key's company only.", key.name))

    @api.model_create_multi
    def create(self, vals_list):
        keys = super().create(vals_list)
        for key in keys:
            key.message_post(body=_("Key created. Press 'Generate key' to issue its secret."))
        return keys

    @check_identity
    def action_generate_key(self):
        """Issue a new secret (the previous one stops working) and show it once, as Odoo shows its own API keys:
        the password is asked again first, and the key travels in the action's context, never stored."""
        key = self._generate_key()
        return {"type": "ir.actions.act_window", "res_model": "invoice_bridge.api.key.show",
                "name": _("Your new API key"), "views": [(False, "form")], "target": "new",
                "context": {"default_key": key}}

    def _generate_key(self):
        """Issue a new secret for this key and return it: the only moment it exists in clear."""
        self.ensure_one()
        self.check_access("write")
        if not self.env.user.has_group("invoice_bridge.group_invoice_bridge_manager"):
            raise AccessError(_("Only Invoice Bridge managers issue API keys."))
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        remember_secrets([key])  # masked in the server log should a statement carrying its hash fail
        self.sudo().write({"key_index": key[:INDEX_SIZE], "key_hash": hash_key(key),
                           "key_hint": key[:INDEX_SIZE] + "…", "active": True})
        self.message_post(body=_("New secret issued by %s; the previous one no longer works.", self.env.user.name))
        return key

    def action_revoke(self):
        self.sudo().write({"active": False, "key_hash": False, "key_index": False})
        for key in self:
            key.message_post(body=_("Revoked by %s.", self.env.user.name))
        return True

    @api.model
    def _authenticate(self, key):
        """The active key record matching ``key`` (constant-time comparison of the hashes), or an empty set."""
        if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
            return self.browse()
        self.env.cr.execute(SQL(
            "SELECT id, key_hash FROM invoice_bridge_api_key WHERE key_index = %s AND active",
            key[:INDEX_SIZE]))
        digest = hash_key(key)
        for key_id, stored in self.env.cr.fetchall():
            if stored and hmac.compare_digest(stored, digest):
                return self.browse(key_id)
        return self.browse()

    def _consume_rate(self, cr):
        """Count one request in the key's current minute (through ``cr``, committed by the caller).

        Returns the seconds to wait when the key is over its limit, else 0.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        cr.execute(SQL(
            """UPDATE invoice_bridge_api_key
                  SET rate_window_count = CASE WHEN rate_window_start > %(start)s THEN rate_window_count + 1 ELSE 1 END,
                      rate_window_start = CASE WHEN rate_window_start > %(start)s THEN rate_window_start
                                               ELSE %(now)s END,
                      last_used_at = %(now)s
                WHERE id = %(id)s
            RETURNING rate_window_count, rate_window_start, rate_limit""",
            id=self.id, now=now, start=now - timedelta(minutes=1)))
        count, start, limit = cr.fetchone()
        if limit and count > limit:
            return max(int((start + timedelta(minutes=1) - now).total_seconds()) + 1, 1)
        return 0
