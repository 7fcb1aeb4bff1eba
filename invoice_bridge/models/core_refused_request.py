"""Inbound requests refused before anyone was identified (no or a wrong credential) or for their rate: counted,
one row per source, route, status and minute, instead of one sync-log line each."""
from datetime import timedelta

from odoo import api, fields, models
from odoo.modules import module as odoo_module
from odoo.tools import SQL

DEFAULT_RETENTION_DAYS = 14


class InvoiceBridgeRefusedRequest(models.Model):
    _name = "invoice_bridge.refused.request"
    _description = "Invoice Bridge refused inbound requests (per minute)"
    _order = "minute desc, id desc"
    _log_access = False

    minute = fields.Datetime(required=True, readonly=True, index=True)
    source = fields.Char(required=True, readonly=True, help="The client's address, as Odoo sees it.")
    route = fields.Char(required=True, readonly=True)
    status = fields.Integer("HTTP status", required=True, readonly=True, aggregator=False)
    reason = fields.Char(readonly=True, help="Why, e.g. 'Invalid API key' (never the credential).")
    count = fields.Integer(readonly=True, default=1)

    def init(self):
        result = super().init()
        self.env.cr.execute("""CREATE UNIQUE INDEX IF NOT EXISTS invoice_bridge_refused_request_minute_uniq
                               ON invoice_bridge_refused_request (minute, source, route, status)""")
        return result

    @api.model
    def _count_refusal(self, source, route, status, reason):
        """Count one refused request in its minute (one statement, through a cursor of its own: it survives the
        request's rollback; under Odoo's test runner, the test transaction)."""
        now = fields.Datetime.now()
        query = SQL(
            """INSERT INTO invoice_bridge_refused_request AS r (minute, source, route, status, reason, count)
               VALUES (%(minute)s, %(source)s, %(route)s, %(status)s, %(reason)s, 1)
               ON CONFLICT (minute, source, route, status)
               DO UPDATE SET count = r.count + 1, reason = EXCLUDED.reason""",
            minute=now.replace(second=0, microsecond=0), source=(source or "?")[:64], route=(route or "")[:200],
            status=status, reason=(reason or "")[:200])
        if odoo_module.current_test:
            self.env.cr.execute(query)
            return
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")  # concurrent refusals add up, never fail
            cr.execute(query)

    @api.model
    def _vacuum(self):
        days = self.env["invoice_bridge.config"]._get("refused_retention_days", DEFAULT_RETENTION_DAYS)
        if days > 0:
            self.flush_model(["minute"])
            self.env.cr.execute("DELETE FROM invoice_bridge_refused_request WHERE minute < %s",
                                [fields.Datetime.now() - timedelta(days=days)])
        return self.env.cr.rowcount
