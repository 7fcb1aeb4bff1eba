from odoo import api, fields, models
from odoo.tools import escape_psql

from .core_compat import Constraint


class InvoiceBridgeSalesman(models.Model):
    """A salesman named by an importing system who is not an Odoo user (never turned into a login)."""

    _name = "invoice_bridge.salesman"
    _description = "Invoice Bridge Salesman"
    _order = "name"

    name = fields.Char(required=True, index=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    user_id = fields.Many2one("res.users", "Odoo user", help="Set when the name matches an Odoo user.")
    active = fields.Boolean(default=True)

    _name_company_uniq = Constraint("unique(company_id, name)", "This salesman already exists.")

    @api.model
    def _find_or_create(self, name, company, lock=None):
        """The Odoo user named ``name`` (by name or login) in ``company``, else a salesman record.

        ``lock(names)`` is called before creating one (the import API serializes concurrent creations).
        """
        users = self.env["res.users"].sudo().search(
            ["|", ("name", "=ilike", escape_psql(name)), ("login", "=ilike", escape_psql(name)), ("share", "=", False),
             ("company_ids", "in", company.id)], limit=1)
        salesman = self.sudo().search([("company_id", "=", company.id), ("name", "=ilike", escape_psql(name))], limit=1)
        if not salesman:
            if lock:
                lock([name])
            salesman = self.sudo().create({"name": name, "company_id": company.id, "user_id": users.id})
        return salesman, users
