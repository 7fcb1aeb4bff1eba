from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.easybill_export import month_bounds, previous_month


class InvoiceBridgeEasybillExportWizard(models.TransientModel):
    """Send one customer's month to easybill now, after a look at the CSV it will carry."""

    _name = "invoice_bridge.easybill.export.wizard"
    _description = "Send to easybill"

    partner_id = fields.Many2one("res.partner", "Customer", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    month = fields.Date(required=True, default=lambda self: previous_month(fields.Date.context_today(self)),
                        help="Any day of the month to export.")
    preview = fields.Text("CSV preview", compute="_compute_preview")
    has_services = fields.Boolean(compute="_compute_preview")

    @api.depends("partner_id", "company_id", "month")
    def _compute_preview(self):
        exports = self.env["invoice_bridge.easybill.export"]
        for wizard in self:
            csv_text = ""
            if wizard.partner_id and wizard.month and wizard._company_allowed():
                csv_text = exports._preview_csv(wizard.company_id, wizard.partner_id, wizard.month)
            wizard.has_services = bool(csv_text)
            wizard.preview = csv_text or _("No services left to export for this customer and month.")

    def _company_allowed(self):
        return self.env.su or self.company_id in self.env.user.company_ids

    @api.constrains("company_id")
    def _check_company(self):
        if not all(wizard._company_allowed() for wizard in self):
            raise AccessError(_("You can only export the months of your own companies."))

    def action_send(self):
        self.ensure_one()
        self._check_company()
        exports = self.env["invoice_bridge.easybill.export"]._export_period(
            self.company_id, month_bounds(self.month)[0], partners=self.partner_id)
        if not exports:
            raise UserError(_("No services left to export for %(partner)s in %(month)s.",
                              partner=self.partner_id.display_name, month=self.month.strftime("%m/%Y")))
        return {"type": "ir.actions.act_window", "res_model": exports._name, "view_mode": "form",
                "res_id": exports.id, "target": "current"}
