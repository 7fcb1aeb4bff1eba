from odoo import _, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    ib_easybill_journal = fields.Boolean(related="journal_id.ib_easybill")

    def action_ib_easybill_export(self):
        """Export this customer's month (of this invoice's date) to easybill now."""
        self.ensure_one()
        if not self.journal_id.ib_easybill or self.move_type not in ("out_invoice", "out_refund"):
            raise UserError(_("Only customer invoices of a journal invoiced in easybill are exported."))
        exports = self.env["invoice_bridge.easybill.export"]._export_period(
            self.company_id, self.date, partners=self.commercial_partner_id)
        if not exports:
            raise UserError(_("Nothing left to export: this customer's services of %s are already in easybill "
                              "(or none match the export settings).", self.date.strftime("%m/%Y")))
        return {"type": "ir.actions.act_window", "res_model": exports._name, "view_mode": "form",
                "res_id": exports.id, "target": "current"}
