"""Invoice webhooks: a partner's ledger, as seed 000's new_invoice body shows it."""
from collections import defaultdict

from odoo import models
from odoo.tools import SQL

from ..lib import webhook_payloads as payloads


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    def _ib_webhook_ledgers(self, company):
        """``{partner: ledger}``: the posted receivable/payable lines of these commercial partners in ``company``.

        The most recent ones (capped), oldest first, with the balance of the older lines as opening balance.
        One query, whatever the number of partners and lines.
        """
        cap = self.env["invoice_bridge.config"]._get("webhook_ledger_cap", payloads.DEFAULT_LEDGER_CAP)
        # flush what the query reads: a partner created in this transaction may not be in the database yet
        self.env["account.move.line"].flush_model()
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env["account.account"].flush_model(["account_type"])
        self.env.cr.execute(SQL("""
            SELECT partner, id, date, name, debit, credit, balance, total FROM (
                SELECT p.commercial_partner_id AS partner, l.id, l.date, COALESCE(l.move_name, l.name) AS name,
                       l.debit, l.credit, l.balance,
                       SUM(l.balance) OVER (PARTITION BY p.commercial_partner_id) AS total,
                       ROW_NUMBER() OVER (PARTITION BY p.commercial_partner_id
                                          ORDER BY l.date DESC, l.id DESC) AS recent
                  FROM account_move_line l
                  JOIN res_partner p ON p.id = l.partner_id
                 -- filtered on l.partner_id (its index), not on p: that would scan every line of the company
                 WHERE l.partner_id IN (SELECT id FROM res_partner WHERE commercial_partner_id IN %(partners)s)
                   AND l.company_id = %(company)s
                   AND l.parent_state = 'posted'
                   AND l.account_id IN (SELECT id FROM account_account
                                         WHERE account_type IN ('asset_receivable', 'liability_payable'))
            ) ledger WHERE recent <= %(cap)s ORDER BY partner, date, id""",
            partners=tuple(self.ids), company=company.id, cap=cap))
        rows = defaultdict(list)
        for row in self.env.cr.dictfetchall():
            rows[row["partner"]].append(row)
        by_partner = {}
        for partner in self:
            lines = rows[partner.id]
            opening = (lines[0]["total"] - sum(line["balance"] for line in lines)) if lines else 0.0
            by_partner[partner] = {"partner_id": partner.id, "partner_name": partner.display_name,
                                   "lines": lines, "opening_balance": float(opening)}
        return by_partner
