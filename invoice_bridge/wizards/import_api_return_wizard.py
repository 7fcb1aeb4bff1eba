from odoo import fields, models


class InvoiceBridgeReturnWizard(models.TransientModel):
    _name = "invoice_bridge.return.wizard"
    _description = "Return imported invoices to billing"

    move_ids = fields.Many2many("account.move", "invoice_bridge_return_wizard_move_rel", "wizard_id", "move_id",
                                required=True)
    reason = fields.Text(required=True, help="What the sender must correct; sent in the invoice_review event.")

    def action_return(self):
        self.ensure_one()
        self.move_ids._ib_return_to_billing(self.reason)
        return {"type": "ir.actions.act_window_close"}
