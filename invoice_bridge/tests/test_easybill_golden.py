"""What the easybill channel sends and answers, byte for byte, vs the files in ``golden/`` (``core_golden.py``).

Recorded before the layout change (#13); a later change of these bytes says why in the README's changelog.
"""
import base64

from odoo.tests import tagged

from ..lib.core_transport import Transport
from . import core_golden as golden
from .test_easybill import EasybillCase


@tagged("post_install", "-at_install")
class TestGoldenEasybill(EasybillCase):

    def test_easybill_requests_and_csv(self):
        self.company.ib_easybill_auto_finalize = True
        self.services(lines=[(self.service, 2, 12.5, "Lagerung Oktober; Halle \"B\""),
                             (self.fee, 1, 30.0, "Storno 12.10.")])
        self.services(move_type="out_refund", lines=[(self.service, 1, 12.5, "Gutschrift Lagerung")])
        with golden.recording_transport(Transport) as sent:
            export = self.export()
        self.assertEqual(export.state, "done")
        csv_text = base64.b64decode(export.csv_attachment_id.datas)
        golden.check(self, "easybill_requests", sent)
        golden.check(self, "easybill_csv", [golden.body_record(csv_text)])

    def test_easybill_lost_answer_and_known_customer(self):
        self.customer.ref = "K-1001"
        self.services()
        # the document is created, the answer lost; then easybill refuses the first link (a 422 ends the export)
        self.fake.fail_next("POST", r"/documents$", status=502, execute=True)
        with golden.recording_transport(Transport) as sent:
            export = self.export()
            self.drain()
            self.fake.fail_next("PUT", "/attachments/", status=422, body={"code": 422, "message": "gesperrt"})
            self.services(day="2026-10-20")
            supplement = self.export()
        self.assertEqual(export.state, "done")
        self.assertEqual(supplement.state, "failed")
        golden.check(self, "easybill_lost_answer", sent)
