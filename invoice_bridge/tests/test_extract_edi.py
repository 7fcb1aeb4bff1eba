"""#18 item 5: no OCR credit is spent on e-invoices. Real files: company B's customer invoice exported by Odoo's
own builders (``account.edi.xml.cii`` embedded in a PDF as Factur-X, ``account.edi.xml.ubl_bis3`` as a UBL XML),
each uploaded as a vendor bill of company A the way the chatter and Odoo's bill upload do (``message_post``)."""
import io

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.pdf import OdooPdfFileReader, OdooPdfFileWriter

from .test_extract import SAMPLE, IapExtractCase


@tagged("post_install", "-at_install")
class TestExtractEInvoices(IapExtractCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_a.ib_extract_auto = "upload"
        cls.company_b = cls.setup_other_company(name="Holzwerk B GmbH")["company"]
        cls.company_b.partner_id.write({"vat": "BE0477472701", "street": "Rue du Bois 1", "zip": "1000",
                                        "city": "Bruxelles", "country_id": cls.env.ref("base.be").id})
        cls.company_a.partner_id.write({"vat": "BE0246697724", "street": "Avenue A 2", "zip": "1000",
                                        "city": "Bruxelles", "country_id": cls.env.ref("base.be").id})
        tax_b = cls.env["account.tax"].with_company(cls.company_b).create({
            "name": "21% B", "amount": 21, "type_tax_use": "sale", "company_id": cls.company_b.id})
        cls.invoice_b = cls.env["account.move"].with_company(cls.company_b).create({
            "move_type": "out_invoice", "partner_id": cls.company_a.partner_id.id, "company_id": cls.company_b.id,
            "invoice_date": "2026-11-02",
            "invoice_line_ids": [Command.create({"name": "Oak desk", "quantity": 2, "price_unit": 600.0,
                                                 "tax_ids": [Command.set(tax_b.ids)]})]})
        cls.invoice_b.action_post()

    def factur_x(self):
        xml, _errors = self.env["account.edi.xml.cii"]._export_invoice(self.invoice_b)
        writer = OdooPdfFileWriter()
        writer.cloneReaderDocumentRoot(OdooPdfFileReader(io.BytesIO(SAMPLE), strict=False))
        writer.addAttachment("factur-x.xml", xml, subtype="text/xml")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    def upload(self, *files):
        move = self.env["account.move"].create({"move_type": "in_invoice"})
        # as the chatter uploads them: on the composer, then moved to the bill by message_post
        attachments = self.env["ir.attachment"].create([{"name": name, "raw": raw, "mimetype": mimetype,
                                                         "res_model": "mail.compose.message", "res_id": 0}
                                                        for name, raw, mimetype in files])
        move.message_post(attachment_ids=attachments.ids)
        self.drain()
        return move

    def assert_decoded_without_credit(self, move):
        self.assertEqual(self.fake.count("parse"), 0, "nothing was sent to OCR")
        self.assertEqual(move.ib_extract_state, "no_extract_requested")
        self.assertEqual(move.partner_id, self.company_b.partner_id)
        self.assertEqual(move.amount_total, 1452.0)
        logs = self.env["invoice_bridge.sync.log"].search([("res_model", "=", "account.move"),
                                                           ("res_id", "=", move.id), ("channel", "=", "iap_extract")])
        self.assertEqual(len(logs), 1, logs.mapped("message"))
        self.assertIn("decoded from the embedded XML, no credit used", logs.message)
        # Digitize says why instead of spending a credit
        with self.assertRaisesRegex(UserError, "spend a credit for nothing"):
            move.action_ib_digitize()
        self.assertEqual(self.fake.count("parse"), 0)

    def test_factur_x_pdf_is_decoded_not_digitized(self):
        move = self.upload(("bill.pdf", self.factur_x(), "application/pdf"))
        self.assert_decoded_without_credit(move)

    def test_ubl_beside_its_pdf_is_decoded_not_digitized(self):
        xml, _errors = self.env["account.edi.xml.ubl_bis3"]._export_invoice(self.invoice_b)
        move = self.upload(("bill.pdf", SAMPLE, "application/pdf"), ("bill.xml", xml, "application/xml"))
        self.assert_decoded_without_credit(move)

    def test_ocr_is_offered_when_the_decoded_bill_lacks_what_the_xml_should_give(self):
        move = self.upload(("bill.pdf", self.factur_x(), "application/pdf"))
        move.invoice_line_ids.filtered(lambda line: line.display_type == "product")[:1].price_unit = 1.0
        move.action_ib_digitize()  # the totals differ: the accountant may digitize
        self.drain()
        self.assertEqual(self.fake.count("parse"), 1)

    def test_a_plain_pdf_is_still_digitized(self):
        move = self.upload(("bill.pdf", SAMPLE, "application/pdf"))
        self.assertEqual(move.ib_extract_state, "waiting_extraction")
        self.assertEqual(self.fake.count("parse"), 1)
