from odoo.tests import TransactionCase, tagged

#: every unique constraint and unique index of the addon, by its database name: {name: (table, definition)}.
#: The outbox relies on some of them (ON CONFLICT (name) on the delivery targets, the idempotency keys), the
#: import API on account_move_ib_invoice_no_uniq (invoice_no's idempotency). A model's constraint "_<key>" is
#: "<table>_<key>" on 18.0 (_sql_constraints) and 19.0 (models.Constraint) alike.
UNIQUE = {
    "invoice_bridge_outbox_idempotency_uniq": ("invoice_bridge_outbox", "UNIQUE (channel, idempotency_key)"),
    "invoice_bridge_outbox_target_name_uniq": ("invoice_bridge_outbox_target", "UNIQUE (name)"),
    "invoice_bridge_webhook_event_type_code_uniq": ("invoice_bridge_webhook_event_type", "UNIQUE (code)"),
    "invoice_bridge_easybill_export_period_uniq": (
        "invoice_bridge_easybill_export", "UNIQUE (company_id, partner_id, period_start, supplement)"),
    "invoice_bridge_easybill_export_line_move_line_uniq": (
        "invoice_bridge_easybill_export_line", "UNIQUE (move_line_id)"),
    "invoice_bridge_api_key_key_hash_uniq": ("invoice_bridge_api_key", "UNIQUE (key_hash)"),
    "invoice_bridge_salesman_name_company_uniq": ("invoice_bridge_salesman", "UNIQUE (company_id, name)"),
    "invoice_bridge_api_idempotency_scope_key_uniq": (
        "invoice_bridge_api_idempotency", "UNIQUE (scope, idempotency_key)"),
    # unique indexes made by init() (plain SQL, the same on both versions)
    "account_move_ib_invoice_no_uniq": (
        "account_move", "(company_id, ib_invoice_no) WHERE (ib_invoice_no IS NOT NULL)"),
    "invoice_bridge_api_event_seq_uniq": ("invoice_bridge_api_event", "(seq)"),
    "invoice_bridge_refused_request_minute_uniq": (
        "invoice_bridge_refused_request", "(minute, source, route, status)"),
}
#: the unique indexes above that no model declares as a constraint
INIT_INDEXES = {"account_move_ib_invoice_no_uniq", "invoice_bridge_api_event_seq_uniq",
                "invoice_bridge_refused_request_minute_uniq"}


@tagged("post_install", "-at_install")
class TestUniqueConstraints(TransactionCase):

    def unique_objects(self):
        """``{name: (table, definition)}`` of the unique constraints (pg_constraint) and the other unique indexes
        (pg_indexes, primary keys excluded) on the addon's tables (invoice_bridge_*) and on account_move."""
        self.env.cr.execute(r"""
            SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid)
              FROM pg_constraint
             WHERE contype = 'u'
               AND (conrelid::regclass::text IN %(tables)s OR conrelid::regclass::text LIKE 'invoice\_bridge\_%%')
            UNION ALL
            SELECT indexname, tablename, indexdef
              FROM pg_indexes
             WHERE (tablename IN %(tables)s OR tablename LIKE 'invoice\_bridge\_%%')
               AND indexdef LIKE 'CREATE UNIQUE INDEX %%'
               AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('u', 'p'))
        """, {"tables": tuple({table for table, _definition in UNIQUE.values()})})
        return {name: (table, definition) for name, table, definition in self.env.cr.fetchall()}

    def test_every_unique_constraint_exists_by_name(self):
        found = self.unique_objects()
        for name, (table, definition) in UNIQUE.items():
            with self.subTest(name=name):
                self.assertIn(name, found, f"{name} is missing in the database")
                self.assertEqual(found[name][0], table)
                self.assertIn(definition, found[name][1])
        ours = {name for name, (table, _definition) in found.items() if table.startswith("invoice_bridge_")}
        self.assertEqual(sorted(ours - set(UNIQUE)), [], "a unique constraint of the addon this test does not list")

    def test_odoo_knows_the_model_constraints_by_the_same_names(self):
        """Odoo records each model constraint (its message on a violation, its removal on uninstall) under the
        database name: both versions' registries agree with the database."""
        module = self.env["ir.module.module"].search([("name", "=", "invoice_bridge")])
        recorded = self.env["ir.model.constraint"].search([("module", "=", module.id), ("type", "=", "u")])
        model_constraints = set(UNIQUE) - INIT_INDEXES
        self.assertEqual(set(recorded.mapped("name")), model_constraints)

