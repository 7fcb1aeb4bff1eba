import json

from odoo import api, fields, models
from odoo.tools import SQL

#: the PostgreSQL channel announcing new events (delivered on commit, dropped on rollback)
NOTIFY_CHANNEL = "invoice_bridge_api_event"
EVENT_TYPES = [
    ("invoice_created", "Invoice created"),
    ("invoice_review", "Invoice returned to billing"),
    ("invoice_updated", "Invoice updated"),
]


class InvoiceBridgeApiEvent(models.Model):
    """A stored event of the import API's live stream: it outlives Odoo's bus, so a client can resume."""

    _name = "invoice_bridge.api.event"
    _description = "Invoice Bridge Import API Event"
    _order = "id desc"

    event = fields.Selection(EVENT_TYPES, required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    move_id = fields.Many2one("account.move", "Invoice", readonly=True, index="btree_not_null",
                              ondelete="set null")
    payload = fields.Text(readonly=True, help="The JSON data of the event.")

    @api.model
    def _emit(self, event, moves):
        """Store one event per invoice and announce it to every worker on commit (other channels may extend
        this: the webhooks announce these events too)."""
        if not moves:
            return self.browse()
        events = self.sudo().create([{
            "event": event, "company_id": move.company_id.id, "move_id": move.id,
            "payload": json.dumps(move._ib_import_data(), default=str),
        } for move in moves])
        self.env.cr.execute(SQL("SELECT pg_notify(%s, %s)", NOTIFY_CHANNEL, ",".join(map(str, events.ids))))
        return events

    @api.model
    def _since(self, company_id, last_id, limit=100):
        """Events of ``company_id`` after ``last_id``, oldest first, as ``(id, event, payload)`` rows."""
        self.env.cr.execute(SQL(
            """SELECT id, event, payload FROM invoice_bridge_api_event
                WHERE company_id = %s AND id > %s ORDER BY id LIMIT %s""", company_id, last_id or 0, limit))
        return self.env.cr.fetchall()

    @api.model
    def _last_id(self, company_id):
        self.env.cr.execute(SQL("SELECT COALESCE(max(id), 0) FROM invoice_bridge_api_event WHERE company_id = %s",
                                company_id))
        return self.env.cr.fetchone()[0]
