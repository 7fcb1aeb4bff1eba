from odoo import _, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    ib_easybill_journal = fields.Boolean(related="journal_id.ib_easybill")

    def action_ib_easybill_export(self):
        """Preview, then send, this customer's month (of this invoice's date): the customer's wizard, with the
        customer and the month filled in (every send to easybill can be previewed)."""
        self.ensure_one()
        if not self.journal_id.ib_easybill or self.move_type not in ("out_invoice", "out_refund"):
            raise UserError(_("Only customer invoices of a journal invoiced in easybill are exported."))
        return self.commercial_partner_id.with_company(self.company_id)._ib_easybill_wizard_action(
            company=self.company_id, month=self.date)
