from odoo import api, models
from odoo.fields import Command

from .core_compat import field_name

PRIVILEGE_XMLID = "invoice_bridge.res_groups_privilege_invoice_bridge"


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _ib_setup_security(self):
        """Put the bridge's groups in the user form and give the manager group to the administrators.

        Called by ``security/core_security.xml`` on install and on every update; idempotent. 18.0 files groups
        under a category (``category_id``, users in ``users``); 19.0 under a privilege (``privilege_id``, users
        in ``user_ids``). On 19 the privilege is the one our XML id names, else the one the groups already have
        (Odoo's 18 → 19 upgrade may have made one from the category), else a new one; our XML id then names it,
        so an update keeps it and an uninstall removes it.
        """
        groups = self.env.ref("invoice_bridge.group_invoice_bridge_user") | self.env.ref(
            "invoice_bridge.group_invoice_bridge_manager")
        if "privilege_id" in self._fields:
            privilege = self.env.ref(PRIVILEGE_XMLID, raise_if_not_found=False) or groups.privilege_id[:1]
            if not privilege:
                privilege = self.env["res.groups.privilege"].create({
                    "name": self.env.ref("invoice_bridge.module_category_invoice_bridge").name,
                    "category_id": self.env.ref("base.module_category_accounting").id,
                    "sequence": 40,
                })
            self.env["ir.model.data"]._update_xmlids([{"xml_id": PRIVILEGE_XMLID, "record": privilege}])
            groups.filtered(lambda g: g.privilege_id != privilege).privilege_id = privilege
        else:
            category = self.env.ref("invoice_bridge.module_category_invoice_bridge")
            groups.filtered(lambda g: g.category_id != category).category_id = category
        users = field_name(self, "user_ids", "users")
        admins = self.env.ref("base.user_root") | self.env.ref("base.user_admin")
        manager = self.env.ref("invoice_bridge.group_invoice_bridge_manager").with_context(active_test=False)
        if admins - manager[users]:
            manager[users] = [Command.link(user.id) for user in admins - manager[users]]
