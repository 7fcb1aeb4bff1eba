from odoo import fields, models

from .core_compat import Constraint

POSITION_TYPES = [("service", "Service"), ("cancellation_fee", "Cancellation fee")]


class InvoiceBridgeEasybillExportLine(models.Model):
    """A service line as it was sent to easybill (a snapshot: later edits of the move line do not change it).

    A move line is carried by at most one export: the unique index on ``move_line_id`` guarantees it, also when
    two exports of the same month are prepared at the same time.
    """

    _name = "invoice_bridge.easybill.export.line"
    _description = "Invoice Bridge easybill Export Line"
    _order = "export_id, id"

    export_id = fields.Many2one("invoice_bridge.easybill.export", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="export_id.company_id", store=True)
    move_line_id = fields.Many2one("account.move.line", "Journal item", required=True, ondelete="restrict")
    move_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    position_type = fields.Selection(POSITION_TYPES, required=True, default="service")
    item_number = fields.Char()
    description = fields.Char(required=True)
    # fixed precisions: a named one is looked up per line and field (20,000 lines: about a second)
    quantity = fields.Float(digits=(16, 4), help="Negative for credit-note lines.")
    unit = fields.Char()
    price_unit = fields.Float("Net unit price", digits=(16, 4))
    vat_percent = fields.Float("VAT %")
    subtotal = fields.Float("Net amount", digits="Account")

    _move_line_uniq = Constraint("unique(move_line_id)", "A journal item is exported to easybill at most once.")
