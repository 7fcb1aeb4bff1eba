"""An e-invoice format per customer (#18 item 7): chosen on the customer's form, sent as the document's
``file_format_config`` (the swagger's enum; the fake refuses any other value, as easybill does)."""
from odoo import Command
from odoo.tests import Form, tagged

from .core_common import user_groups
from .test_easybill import EasybillCase


@tagged("post_install", "-at_install")
class TestEasybillFileFormat(EasybillCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls.env["res.users"].create({
            "name": "easybill accountant", "login": "ib_easybill_format", "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
            **user_groups(cls.env, cls.env.ref("account.group_account_manager")
                          | cls.env.ref("base.group_partner_manager"))})

    def test_a_customer_s_format_is_set_on_its_easybill_document(self):
        # the accountant picks it on the customer's form (Sales & Purchase tab)
        with Form(self.customer.with_user(self.accountant)) as form:
            form.ib_easybill_file_format = "xrechnung3_0_xml"
        self.services()
        export = self.export()
        self.assertEqual(export.state, "done", export.last_error)
        self.assertEqual(export.file_format, "xrechnung3_0_xml")
        document = self.fake.documents[int(export.easybill_document_id)]
        self.assertEqual(document["file_format_config"], [{"type": "xrechnung3_0_xml"}])

    def test_without_a_format_the_document_is_easybill_s_usual_pdf(self):
        self.services()
        export = self.export()
        self.assertEqual(export.state, "done", export.last_error)
        self.assertFalse(export.file_format)
        self.assertNotIn("file_format_config", self.fake.documents[int(export.easybill_document_id)])

    def test_a_contact_s_invoices_take_the_company_s_format(self):
        self.customer.ib_easybill_file_format = "zugferd2_2"
        contact = self.env["res.partner"].create({"name": "Frau Müller", "parent_id": self.customer.id,
                                                  "type": "invoice"})
        self.services(partner=contact)
        export = self.export()
        self.assertEqual(export.file_format, "zugferd2_2")

    def test_the_choices_reach_the_ui(self):
        """A selection given as a tuple is reflected nowhere (Odoo reads a field's options from
        ir.model.fields.selection, filled only from a list): the form's dropdown was empty, the export's form
        crashed on a set format. The UI's own call, fields_get in the user's language, lists every option."""
        for model, field, values in (
                ("res.partner", "ib_easybill_file_format", ["zugferd1", "xrechnung3_0_xml"]),
                ("invoice_bridge.easybill.export", "file_format", ["zugferd2_2"]),
                ("invoice_bridge.easybill.export", "easybill_state", ["draft", "paid", "deleted"])):
            options = dict(self.env[model].with_user(self.accountant).with_context(lang="en_US").fields_get(
                [field])[field]["selection"])
            for value in values:
                self.assertIn(value, options, f"{model}.{field}")
