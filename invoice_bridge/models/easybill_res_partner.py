from odoo import _, fields, models

from ..lib.easybill_client import FILE_FORMATS


class ResPartner(models.Model):
    _inherit = "res.partner"

    ib_easybill_customer_id = fields.Char(
        "easybill customer id", company_dependent=True, copy=False, groups="invoice_bridge.group_invoice_bridge_user",
        help="The customer's id in this company's easybill account (found or created by the first export).")
    ib_easybill_file_format = fields.Selection(
        list(FILE_FORMATS), "easybill e-invoice format", groups="invoice_bridge.group_invoice_bridge_user",
        help="For a customer who needs an e-invoice (e.g. a public authority: XRechnung): easybill generates the "
             "invoice in this format (the document's file_format_config). Empty: easybill's usual PDF.")
    ib_easybill_export_count = fields.Integer("easybill", compute="_compute_ib_easybill_export_count",
                                              groups="invoice_bridge.group_invoice_bridge_user")

    def _compute_ib_easybill_export_count(self):
        counts = dict(self.env["invoice_bridge.easybill.export"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]))
        for partner in self:
            partner.ib_easybill_export_count = counts.get(partner.commercial_partner_id, 0)

    def action_ib_open_easybill_exports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("invoice_bridge.easybill_export_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action

    def action_ib_easybill_wizard(self):
        return self._ib_easybill_wizard_action()

    def _ib_easybill_wizard_action(self, company=None, month=None):
        """The preview wizard of this customer (last month by default, or the month of ``month``)."""
        self.ensure_one()
        context = {"default_partner_id": self.commercial_partner_id.id}
        if company:
            context["default_company_id"] = company.id
        if month:
            context.update(default_month=str(month.month), default_year=str(month.year))
        return {
            "type": "ir.actions.act_window", "res_model": "invoice_bridge.easybill.export.wizard",
            "view_mode": "form", "target": "new", "name": _("Send to easybill"), "context": context,
        }
