from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

#: messages a replay sends again: every finished one (delivered too); waiting ones are on their way anyway
REPLAYED_STATES = ("done", "failed", "dead", "cancelled")


class InvoiceBridgeWebhookReplay(models.TransientModel):
    """Replay since…: an endpoint's messages of a time range sent again, with their original webhook-id."""

    _name = "invoice_bridge.webhook.replay"
    _description = "Invoice Bridge Webhook Replay"

    endpoint_id = fields.Many2one("invoice_bridge.webhook.endpoint", required=True, readonly=True,
                                  ondelete="cascade")
    date_from = fields.Datetime("Since", required=True, help="Messages queued from this moment on...")
    date_to = fields.Datetime("Until", required=True, default=fields.Datetime.now, help="...up to this one.")
    event_type_ids = fields.Many2many("invoice_bridge.webhook.event.type", "invoice_bridge_webhook_replay_event_rel",
                                      "replay_id", "event_type_id", string="Events",
                                      help="Only these events (all, when empty).")
    message_count = fields.Integer("Messages to send again", compute="_compute_message_count")

    @api.depends("endpoint_id", "date_from", "date_to", "event_type_ids")
    def _compute_message_count(self):
        for wizard in self:
            wizard.message_count = len(wizard._messages()) if wizard.date_from and wizard.date_to else 0

    def _messages(self):
        self.ensure_one()
        domain = [("webhook_endpoint_id", "=", self.endpoint_id.id), ("state", "in", REPLAYED_STATES),
                  ("create_date", ">=", self.date_from), ("create_date", "<=", self.date_to)]
        if self.event_type_ids:
            domain.append(("webhook_event", "in", self.event_type_ids.mapped("code")))
        return self.env["invoice_bridge.outbox"].sudo().search(domain, order="id")

    def action_replay(self):
        self.ensure_one()
        if not self.env.user.has_group("invoice_bridge.group_invoice_bridge_manager"):
            raise AccessError(_("Only Invoice Bridge managers may replay an endpoint's messages."))
        self.endpoint_id.check_access("write")
        if self.date_from > self.date_to:
            raise UserError(_("'Since' must be before 'Until'."))
        messages = self._messages()
        if not messages:
            raise UserError(_("No delivered or finished message of %(endpoint)s between %(start)s and %(end)s.",
                              endpoint=self.endpoint_id.name, start=self.date_from, end=self.date_to))
        messages._requeue(_("Replayed by %(user)s (messages since %(start)s)", user=self.env.user.name,
                            start=self.date_from))
        self.endpoint_id._message_log(body=_(  # a note: the manager may have no email address
            "%(user)s replayed %(n)s message(s) queued between %(start)s and %(end)s, with their original "
            "webhook-id (receivers deduplicate on it).", user=self.env.user.name, n=len(messages),
            start=self.date_from, end=self.date_to))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "sticky": False, "next": {"type": "ir.actions.act_window_close"},
            "message": _("%s message(s) will be sent again in a moment.", len(messages))}}
