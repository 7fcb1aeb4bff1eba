"""The private names of Odoo that ``controllers/core_http.py`` relies on: this fails when Odoo renames them."""
from werkzeug.test import EnvironBuilder

from odoo import http
from odoo.tests import TransactionCase, tagged

from ..controllers import core_http


@tagged("post_install", "-at_install")
class TestPrivateHttpAccess(TransactionCase):

    @staticmethod
    def httprequest(data):
        return http.HTTPRequest(EnvironBuilder(method="POST", data=data).get_environ())

    def test_wrapped_werkzeug_request(self):
        httprequest = self.httprequest(b'{"a": 1}')
        self.assertTrue(hasattr(httprequest, core_http.WRAPPED_ATTRIBUTE), "Odoo renamed HTTPRequest's wrapper")
        self.assertEqual(core_http.read_body(httprequest, 100), b'{"a": 1}')
        with self.assertRaises(core_http.BodyTooLarge):
            core_http.read_body(self.httprequest(b'{"a": 1}'), 3)

    def test_chunked_body_is_limited(self):
        environ = EnvironBuilder(method="POST", data=b"x" * 50).get_environ()
        del environ["CONTENT_LENGTH"]  # as a chunked body arrives: no length, the stream ends at the last chunk
        environ["wsgi.input_terminated"] = True
        with self.assertRaises(core_http.BodyTooLarge):
            core_http.read_body(http.HTTPRequest(environ), 10)

    def test_pg_connection_under_a_cursor(self):
        with self.env.registry.cursor() as cr:
            connection = core_http.pg_connection(cr)
            self.assertTrue(hasattr(connection, "notifies") and hasattr(connection, "poll"))
