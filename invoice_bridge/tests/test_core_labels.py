"""The accountant's words (#16.11): the texts that were replaced are gone from every screen of the addon.

``OLD_LABELS`` is the README's changelog table (old → new); each old text must appear in no view, menu, action,
field label, help or selection label of the addon. Texts written at run time (record names, log lines, banners)
are checked by the tests of the behaviour that writes them.
"""
import re

from odoo.tests import TransactionCase, tagged

#: old text → the text that replaced it (README ▸ Changelog ▸ "Labels")
OLD_LABELS = {
    "Outbox": "Deliveries",
    "Delivery Targets": "Connections",
    "Dead": "Gave up",
    "In Progress": "Sending",
    "IAP Extract (OCR)": "Bill digitization (OCR)",
    "Failed or dead": "Failed or gave up",
    "No exchange yet": "No exchange found",
    "Gave up after the last retry": "No more automatic retries after N attempt(s)",
    "Manual retry requested": "Retry requested",
    "(PATCH /api/sales/update/invoice/)": "waiting for the sender's system to send its correction",
    "Invoices sent to POST /api/sales/import/invoice/": "Invoices sent by other systems through the import API",
    "Messages keep queueing in the outbox": "Deliveries keep queueing",
    "Attach the CSV to the invoice": "Attach the CSV",
    "CSV preview": "Services that will be sent",
    "CSV that will be sent": "Services that will be sent",
    "Any day of the month to export.": "Month and year",
}


@tagged("post_install", "-at_install")
class TestAccountantLabels(TransactionCase):

    def _screen_texts(self):
        """(where, text) for every text the addon puts on a screen."""
        data = self.env["ir.model.data"].sudo().search([("module", "=", "invoice_bridge")])
        by_model = {}
        for row in data:
            by_model.setdefault(row.model, []).append(row.res_id)
        texts = []
        for view in self.env["ir.ui.view"].sudo().browse(by_model.get("ir.ui.view", [])).exists():
            texts.append((f"view {view.xml_id}", view.arch_db or ""))
        for menu in self.env["ir.ui.menu"].sudo().browse(by_model.get("ir.ui.menu", [])).exists():
            texts.append((f"menu {menu.complete_name}", menu.name))
        for model in ("ir.actions.act_window", "ir.actions.server"):
            for action in self.env[model].sudo().browse(by_model.get(model, [])).exists():
                texts.append((f"action {action.xml_id}", f"{action.name} {getattr(action, 'help', '') or ''}"))
        fields_ = self.env["ir.model.fields"].sudo().browse(by_model.get("ir.model.fields", [])).exists()
        for field in fields_:
            texts.append((f"field {field.model}.{field.name}", f"{field.field_description} {field.help or ''}"))
            for selection in field.selection_ids:
                texts.append((f"selection {field.model}.{field.name}", selection.name))
        return texts

    def test_old_labels_are_gone(self):
        texts = self._screen_texts()
        self.assertGreater(len(texts), 200, "the addon's views, menus, actions and fields were all read")
        # whole words: "Dead" (the old state) is not "Deadline" (Odoo's activities)
        found = [(where, old) for where, text in texts for old in OLD_LABELS
                 if re.search(rf"(?<!\w){re.escape(old)}(?!\w)", text)]
        self.assertEqual(found, [], "replaced texts still shown (README's old → new table)")

    def test_record_names_are_words(self):
        """Deliveries and connections are named by what they are, not "Webhook #21 → webhook:1"."""
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create(
            {"name": "ERP", "url": "http://127.0.0.1:9/hook"})
        partner = self.env["res.partner"].create({"name": "Customer"})
        [msg] = endpoint._enqueue_event("test", {"event": "test"}, record=partner)
        self.assertEqual(msg.name, "Test event Customer to ERP")
        self.assertEqual(msg.target_label, "Webhook endpoint ERP")
        target = self.env["invoice_bridge.outbox.target"].create({"name": endpoint._target_name()})
        self.assertEqual(target.display_name, "Webhook endpoint ERP")
        self.assertNotIn("webhook:", msg.name + target.display_name)

    def test_no_two_fields_of_a_model_share_a_label(self):
        """Odoo warns at install when two fields of a model have the same label: in filters, group-bys and exports
        the accountant could not tell them apart."""
        clashes = []
        for name in self.env.registry:  # the addon's models, and the fields it adds to Odoo's (ib_*)
            labels = {}
            for field in self.env[name]._fields.values():
                labels.setdefault(field.string, []).append(field.name)
            clashes += [f"{name}: {label!r} for {', '.join(sorted(fields))}"
                        for label, fields in labels.items() if len(fields) > 1
                        and (name.startswith("invoice_bridge.") or any(f.startswith("ib_") for f in fields))]
        self.assertEqual(clashes, [])
