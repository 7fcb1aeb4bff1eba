from odoo import fields, models
from odoo.tools import SQL


class InvoiceBridgeOutboxTarget(models.Model):
    """A delivery target (an endpoint, an API host) that can be paused as a whole.

    When a target answers 429/502/503/504 the engine pauses every message to it for the ``Retry-After`` (or the
    retry schedule's delay) instead of trying message after message.
    """

    _name = "invoice_bridge.outbox.target"
    _description = "Invoice Bridge Delivery Target"
    _order = "paused_until desc, id desc"

    name = fields.Char(required=True, index=True, readonly=True)
    paused_until = fields.Datetime(readonly=True)
    pause_reason = fields.Char(readonly=True)

    _sql_constraints = [("name_uniq", "unique(name)", "A delivery target is recorded once.")]

    def _pause(self, target, until, reason):
        """Pause ``target`` until ``until`` (never shortening an existing pause). One statement, no ORM reads."""
        self.env.cr.execute(SQL(
            """INSERT INTO invoice_bridge_outbox_target (name, paused_until, pause_reason, create_date, write_date)
               VALUES (%(name)s, %(until)s, %(reason)s, %(now)s, %(now)s)
               ON CONFLICT (name) DO UPDATE
                  SET paused_until = GREATEST(invoice_bridge_outbox_target.paused_until, EXCLUDED.paused_until),
                      pause_reason = EXCLUDED.pause_reason, write_date = EXCLUDED.write_date""",
            name=target, until=until, reason=(reason or "")[:250], now=fields.Datetime.now()))
        self.invalidate_model()

    def action_resume(self):
        self.write({"paused_until": False, "pause_reason": False})
