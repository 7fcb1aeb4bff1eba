import csv
import io
from datetime import date

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..models.easybill_export import month_bounds, month_label, previous_month

MONTHS = [
    ("1", "January"), ("2", "February"), ("3", "March"), ("4", "April"), ("5", "May"), ("6", "June"),
    ("7", "July"), ("8", "August"), ("9", "September"), ("10", "October"), ("11", "November"),
    ("12", "December"),
]
#: years offered before the current one
YEARS_BACK = 10


def csv_table(text):
    """A CSV file (``;``-separated, a header row) as an HTML table."""
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if not rows:
        return Markup()
    head = Markup("").join(Markup("<th>%s</th>") % cell for cell in rows[0])
    body = Markup("").join(
        Markup("<tr>%s</tr>") % Markup("").join(Markup("<td>%s</td>") % cell for cell in row) for row in rows[1:])
    return Markup('<div class="table-responsive"><table class="table table-sm table-bordered table-striped">'
                  "<thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>") % (head, body)


class InvoiceBridgeEasybillExportWizard(models.TransientModel):
    """Send one customer's month to easybill, after a look at the CSV it will carry (every send is previewed:
    the customer's button and the invoice's button open this wizard)."""

    _name = "invoice_bridge.easybill.export.wizard"
    _description = "Send to easybill"

    def _default_period(self):
        return previous_month(fields.Date.context_today(self))

    def _year_selection(self):
        this_year = fields.Date.context_today(self).year
        return [(str(year), str(year)) for year in range(this_year + 1, this_year - YEARS_BACK - 1, -1)]

    partner_id = fields.Many2one("res.partner", "Customer", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    month = fields.Selection(MONTHS, required=True, default=lambda self: str(self._default_period().month))
    year = fields.Selection("_year_selection", required=True, default=lambda self: str(self._default_period().year))
    preview = fields.Html("Services that will be sent", compute="_compute_preview")
    has_services = fields.Boolean(compute="_compute_preview")

    def _period_start(self):
        self.ensure_one()
        return date(int(self.year), int(self.month), 1) if self.year and self.month else None

    @api.depends("partner_id", "company_id", "month", "year")
    def _compute_preview(self):
        exports = self.env["invoice_bridge.easybill.export"]
        for wizard in self:
            (csv_text, errors), period = ("", []), wizard._period_start()
            if wizard.partner_id and period and wizard._company_allowed():
                csv_text, errors = exports._preview_csv(wizard.company_id, wizard.partner_id, period)
            # an invalid file can be sent too: the export then waits, failed, with its errors, for a Retry
            wizard.has_services = bool(csv_text or errors)
            if errors:
                wizard.preview = Markup('<div class="alert alert-danger" role="alert"><p>%s</p><ul>%s</ul></div>') % (
                    _("The CSV would be invalid, nothing would be sent to easybill:"),
                    Markup("").join(Markup("<li>%s</li>") % error for error in errors))
            elif csv_text:
                wizard.preview = csv_table(csv_text)
            else:
                wizard.preview = Markup('<p class="text-muted">%s</p>') % wizard._nothing_left_message()

    def _nothing_left_message(self):
        return _("Nothing left to export for %(partner)s in %(month)s: the services are already in easybill (see "
                 "its easybill exports) or none match the export settings.",
                 partner=self.partner_id.display_name, month=month_label(self.env, self._period_start()))

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
            self.company_id, month_bounds(self._period_start())[0], partners=self.partner_id)
        if not exports:  # sent meanwhile (a second click, another tab): said, not raised
            return {"type": "ir.actions.client", "tag": "display_notification", "params": {
                "type": "warning", "sticky": False, "message": self._nothing_left_message(),
                "next": {"type": "ir.actions.act_window_close"}}}
        return {"type": "ir.actions.act_window", "res_model": exports._name, "view_mode": "form",
                "res_id": exports.id, "target": "current"}
