"""The answers of retry-safe PATCH requests: one row per ``Idempotency-Key`` and API key, kept 24 hours."""
from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.import_api_listing import expired_before
from .core_compat import Constraint


class InvoiceBridgeApiIdempotency(models.Model):
    """The first successful answer to a request with an ``Idempotency-Key``: a repetition gets it again.

    Only the API writes and reads these rows (as superuser); nobody edits them. ``scope`` is the credential the
    key belongs to (an integration key, or an Odoo API key of a user in a company), so two clients never see
    each other's answers even when they pick the same key.
    """

    _name = "invoice_bridge.api.idempotency"
    _description = "Invoice Bridge Import API idempotency key"
    _order = "id desc"

    scope = fields.Char(required=True, readonly=True, help="The credential the key belongs to.")
    idempotency_key = fields.Char("Idempotency key", required=True, readonly=True)
    fingerprint = fields.Char(required=True, readonly=True, help="SHA-256 of the method, path and body.")
    http_status = fields.Integer("HTTP status", readonly=True, aggregator=False)
    response_body = fields.Text(readonly=True)
    move_id = fields.Many2one("account.move", "Invoice", readonly=True, ondelete="set null")

    _scope_key_uniq = Constraint("unique(scope, idempotency_key)", "This idempotency key was used already.")

    @api.model
    def _lock(self, scope, key):
        """Wait for a concurrent request with the same key to end (transaction-level: released on commit)."""
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"ib:idempotency:{scope}:{key}"))

    @api.model
    def _stored(self, scope, key):
        """``(fingerprint, status, body, move id)`` of the unexpired answer for this key, or None.

        Read in a cursor of its own, after :meth:`_lock`: a concurrent request's answer committed after this
        transaction's snapshot was taken is seen (under Odoo's test runner: the test transaction itself).
        """
        with self.env.registry.cursor() as cr:
            cr.execute(SQL(
                """SELECT fingerprint, http_status, response_body, move_id FROM invoice_bridge_api_idempotency
                    WHERE scope = %s AND idempotency_key = %s AND create_date >= %s""",
                scope, key, expired_before(fields.Datetime.now())))
            row = cr.fetchone()
            cr.rollback()
        return row

    @api.model
    def _store(self, scope, key, fingerprint, status, body, move_id=None):
        """Keep the answer (in the request's transaction: it exists exactly when the changes do); an expired
        row of the same key makes room."""
        self.env.cr.execute(SQL(
            "DELETE FROM invoice_bridge_api_idempotency WHERE scope = %s AND idempotency_key = %s",
            scope, key))
        return self.sudo().create({
            "scope": scope, "idempotency_key": key, "fingerprint": fingerprint, "http_status": status,
            "response_body": body.decode() if isinstance(body, bytes) else body, "move_id": move_id or False})

    @api.model
    def _vacuum(self):
        """Forget the keys older than their 24 hours (the nightly sync-log vacuum calls this)."""
        self.flush_model()
        self.env.cr.execute(SQL("DELETE FROM invoice_bridge_api_idempotency WHERE create_date < %s",
                                expired_before(fields.Datetime.now())))
        return self.env.cr.rowcount
