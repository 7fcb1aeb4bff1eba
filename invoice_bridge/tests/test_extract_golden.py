"""What the IAP Extract channel sends and answers, byte for byte, vs the files in ``golden/`` (``core_golden.py``).

Recorded before the layout change (#13); a later change of these bytes says why in the README's changelog.
"""
from odoo.tests import tagged

from ..lib.core_transport import Transport
from . import core_golden as golden
from .test_extract import IapExtractCase


@tagged("post_install", "-at_install")
class TestGoldenIapExtract(IapExtractCase):

    def _walk(self):
        with golden.recording_transport(Transport) as sent:
            move = self.digitize_and_fetch(self.bill())
            move.action_post()
            self.drain()
        return move, sent

    def test_generation_1(self):
        move, sent = self._walk()
        self.assertEqual(move.ib_extract_validation, "validated")
        golden.check(self, "extract_generation_1", sent)

    def test_generation_2(self):
        self.env.company.ib_extract_generation = "2"
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://127.0.0.1:9")
        self.fake.set_not_ready_polls(0)
        with golden.recording_transport(Transport) as sent:
            move = self.bill()
            self.digitize(move)
            self.refresh(move)
            move.action_post()
            self.drain()
        self.assertEqual(move.ib_extract_validation, "validated")
        golden.check(self, "extract_generation_2", sent)
