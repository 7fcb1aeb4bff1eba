"""Live feedback: what the bridge records reaches the forms that are open, through Odoo's bus.

Every sync-log line (every exchange on every channel: a delivery landing, a digitization result, an import or a
correction from the sender, an easybill step) sends one bus notification, ``invoice_bridge/changed``, to its
company's channel. It is written by the bus's pre-commit hook, so it exists only if the transaction commits, and
Odoo's bus delivers it after the commit. The web client (``static/src/live``) reloads an open form that shows one of
the notification's records, unless it has unsaved changes.

Who hears it: each internal user who is an Invoice Bridge user is subscribed, when the websocket connects, to the
channel of every company they may work in. The channel is a ``(res.company, "invoice_bridge")`` pair, which the
client cannot ask for (``ir.websocket`` accepts only strings from the client). The payload carries the records'
model and ids, the channel and the line's state in words: no amount, name or body. Reloading a record goes through
the ordinary access rights.
"""
from odoo import api, models

LIVE_SUBCHANNEL = "invoice_bridge"
LIVE_NOTIFICATION = "invoice_bridge/changed"
LEVELS = {"success": "success", "pending": "info", "retrying": "warning", "failed": "warning", "dead": "warning"}


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        channels = super()._build_bus_channel_list(channels)
        channels.extend(self._ib_live_channels())
        return channels

    def _ib_live_channels(self):
        """The bridge's channels of the current user: one per company they may work in, for bridge users."""
        user = self.env.user
        if not user or user._is_public() or not user._is_internal() \
                or not user.has_group("invoice_bridge.group_invoice_bridge_user"):
            return []
        return [(company, LIVE_SUBCHANNEL) for company in user.company_ids]


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"  # pylint: disable=consider-merging-classes-inherited  # the live part

    def _live_records(self):
        """The records whose form shows something of this line: its business record, its delivery, and what the
        channel adds (``_channel_live_records`` on the delivery)."""
        self.ensure_one()
        records = []
        if self.res_model and self.res_id:
            records.append([self.res_model, self.res_id])
        if self.outbox_id:
            records.append(["invoice_bridge.outbox", self.outbox_id.id])
            records.extend(self.outbox_id._channel_live_records())
        return records

    def _notify_live(self):
        """One bus notification per line, on its company's channel (written at commit, sent after it)."""
        lines = self.filtered("company_id")
        if not lines:
            return
        channels = dict(self._fields["channel"]._description_selection(self.env))
        states = dict(self._fields["state"]._description_selection(self.env))
        bus = self.env["bus.bus"].sudo()
        for line in lines:
            records = line._live_records()
            if not records:
                continue
            message = " · ".join(p for p in (channels.get(line.channel), line.reference, states.get(line.state)) if p)
            bus._sendone((line.company_id, LIVE_SUBCHANNEL), LIVE_NOTIFICATION, {
                "records": records, "message": message, "level": LEVELS.get(line.state, "info"),
                "channel": line.channel, "state": line.state})

    @api.model_create_multi
    def create(self, vals_list):
        # every way a line is written (in the transaction, or through the detached cursor of a refused request)
        # ends here, in the cursor that commits the line: the notification shares its fate
        lines = super().create(vals_list)
        lines._notify_live()
        return lines


class InvoiceBridgeOutbox(models.Model):
    _inherit = "invoice_bridge.outbox"  # pylint: disable=consider-merging-classes-inherited  # the live part

    def _channel_live_records(self):
        """Extension point: more records a channel's form shows of this delivery (e.g. the webhook endpoint, whose
        health it changes), as ``[model, id]`` pairs."""
        return []
