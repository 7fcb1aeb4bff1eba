from odoo import _, fields, models


class InvoiceBridgeSyncLogMixin(models.AbstractModel):
    """The *Sync* smart button: how many sync-log lines concern a record, and the list of them.

    Every model that shows the button inherits this mixin. By default a record's lines are those linked to it
    (``res_model`` / ``res_id``); a model whose lines are found otherwise (an invoice: every line about it, a
    partner: every line of its exchanges) overrides :meth:`_ib_sync_log_field`.
    """

    _name = "invoice_bridge.sync.log.mixin"
    _description = "Invoice Bridge: Sync smart button"

    ib_sync_log_count = fields.Integer("Sync", compute="_compute_ib_sync_log_count",
                                       groups="invoice_bridge.group_invoice_bridge_user")

    def _ib_sync_log_field(self):
        """The sync-log field that points at these records: ``res_id`` is the generic link (with res_model)."""
        return "res_id"

    def _ib_sync_log_domain(self, ids):
        field = self._ib_sync_log_field()
        if field != "res_id":
            return [(field, "in", ids)]
        return [("res_model", "=", self._name), ("res_id", "in", ids)]

    def _compute_ib_sync_log_count(self):
        field = self._ib_sync_log_field()
        groups = self.env["invoice_bridge.sync.log"]._read_group(
            self._ib_sync_log_domain(self.ids), [field], ["__count"])
        counts = {(key.id if hasattr(key, "id") else key): count for key, count in groups}
        for record in self:
            record.ib_sync_log_count = counts.get(record.id, 0)

    def action_ib_open_sync_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("invoice_bridge.sync_log_action")
        action.update({"domain": self._ib_sync_log_domain(self.ids), "name": _("Sync: %s", self.display_name),
                       "context": {"create": False}})
        return action
