from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..models.core_compat import field_name
from .core_common import BridgeCase


@tagged("post_install", "-at_install")
class TestSecurity(BridgeCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.ib_user = new_test_user(cls.env, "ib_user",
                                    groups="base.group_user,invoice_bridge.group_invoice_bridge_user",
                                    company_id=cls.company_a.id, company_ids=[cls.company_a.id])
        cls.ib_manager = new_test_user(cls.env, "ib_manager",
                                       groups="base.group_user,invoice_bridge.group_invoice_bridge_manager",
                                       company_id=cls.company_a.id, company_ids=[cls.company_a.id])
        cls.plain_user = new_test_user(cls.env, "plain_user", groups="base.group_user")
        cls.billing = new_test_user(cls.env, "billing", groups="account.group_account_invoice")
        cls.log_a = cls.Log._log({"channel": "http", "state": "failed", "company_id": cls.company_a.id})
        cls.log_b = cls.Log._log({"channel": "http", "state": "failed", "company_id": cls.company_b.id})

    def test_groups_implied_by_accounting(self):
        self.assertTrue(self.billing.has_group("invoice_bridge.group_invoice_bridge_user"))
        self.assertFalse(self.billing.has_group("invoice_bridge.group_invoice_bridge_manager"))
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("invoice_bridge.group_invoice_bridge_manager"))

    def test_groups_are_filed_and_the_setup_is_idempotent(self):
        """18.0 files the groups under our category, 19.0 under our privilege; running the setup again (an update)
        changes nothing."""
        Groups = self.env["res.groups"]
        groups = self.env.ref("invoice_bridge.group_invoice_bridge_user") | self.env.ref(
            "invoice_bridge.group_invoice_bridge_manager")
        filing = "privilege_id" if "privilege_id" in Groups._fields else "category_id"
        before = groups[filing]
        self.assertEqual(len(before), 1)
        if filing == "category_id":
            self.assertEqual(before, self.env.ref("invoice_bridge.module_category_invoice_bridge"))
        else:
            self.assertEqual(before, self.env.ref("invoice_bridge.res_groups_privilege_invoice_bridge"))
            self.assertEqual(before.category_id, self.env.ref("base.module_category_accounting"))
        count = self.env[before._name].search_count([])
        Groups._ib_setup_security()
        Groups._ib_setup_security()
        self.assertEqual(groups[filing], before)
        self.assertEqual(self.env[before._name].search_count([]), count)
        admins = self.env.ref("base.user_root") | self.env.ref("base.user_admin")
        manager = self.env.ref("invoice_bridge.group_invoice_bridge_manager").with_context(active_test=False)
        self.assertEqual(manager[field_name(Groups, "user_ids", "users")] & admins, admins)

    def test_setup_adopts_what_it_finds(self):
        """19.0: a database upgraded from 18.0 may come with a privilege made from our category, under another XML
        id (or none): the setup files nothing twice, it names that privilege with our XML id. 18.0: groups moved
        out of our category are filed back."""
        Groups = self.env["res.groups"]
        groups = self.env.ref("invoice_bridge.group_invoice_bridge_user") | self.env.ref(
            "invoice_bridge.group_invoice_bridge_manager")
        if "privilege_id" not in Groups._fields:
            category = groups.category_id
            groups.category_id = False
            Groups._ib_setup_security()
            self.assertEqual(groups.mapped("category_id"), category)
            return
        ours = self.env.ref("invoice_bridge.res_groups_privilege_invoice_bridge")
        upgraded = self.env["res.groups.privilege"].create({"name": "Invoice Bridge"})
        self.env["ir.model.data"].create({"module": "invoice_bridge", "name": "privilege_from_category",
                                          "model": upgraded._name, "res_id": upgraded.id})
        groups.privilege_id = upgraded
        ours.unlink()
        count = self.env["res.groups.privilege"].search_count([])
        Groups._ib_setup_security()
        Groups._ib_setup_security()
        self.assertEqual(groups.privilege_id, upgraded)
        self.assertEqual(self.env.ref("invoice_bridge.res_groups_privilege_invoice_bridge"), upgraded)
        self.assertEqual(self.env["res.groups.privilege"].search_count([]), count)

    def test_user_reads_but_does_not_write(self):
        logs = self.Log.with_user(self.ib_user).search([])
        self.assertIn(self.log_a, logs)
        with self.assertRaises(AccessError):
            self.log_a.with_user(self.ib_user).write({"message": "x"})
        with self.assertRaises(AccessError):
            self.log_a.with_user(self.ib_user).unlink()
        with self.assertRaises(AccessError):
            self.Log.with_user(self.ib_user).create({"channel": "http"})

    def test_plain_user_sees_nothing(self):
        with self.assertRaises(AccessError):
            self.Log.with_user(self.plain_user).search([])
        with self.assertRaises(AccessError):
            self.Outbox.with_user(self.plain_user).search([])

    def test_company_isolation(self):
        visible = self.Log.with_user(self.ib_user).search([("id", "in", (self.log_a | self.log_b).ids)])
        self.assertEqual(visible, self.log_a)
        with self.assertRaises(AccessError):
            self.log_b.with_user(self.ib_user).read(["message"])
        msg_b = self.enqueue(1, company_id=self.company_b.id)
        self.assertFalse(self.Outbox.with_user(self.ib_manager).search([("id", "=", msg_b.id)]))

    def test_retry_and_cancel_rights(self):
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0")
        self.receiver.set_default(status=500)
        msg = self.enqueue(1)
        self.drain()
        self.assertEqual(msg.state, "dead")
        # a user retries (from the log) ...
        self.Log.search([("outbox_id", "=", msg.id)]).with_user(self.ib_user).action_retry()
        self.assertEqual(msg.state, "pending")
        # ... but only a manager cancels
        with self.assertRaises(AccessError):
            msg.with_user(self.ib_user).action_cancel()
        log = self.Log.search([("outbox_id", "=", msg.id)], limit=1)
        msg.write({"state": "dead"})
        with self.assertRaises(AccessError):
            log.with_user(self.ib_user).action_cancel_message()
        log.with_user(self.ib_manager).action_cancel_message()
        self.assertEqual(msg.state, "cancelled")
        with self.assertRaises(AccessError):
            msg.with_user(self.plain_user).action_retry()
