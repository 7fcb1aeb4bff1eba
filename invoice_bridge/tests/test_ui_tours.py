"""The accountant's path, clicked in a real browser (#16): Odoo's JS tours (``static/tests/tours/``) run by
``HttpCase.start_tour`` in headless Chromium, against the loopback fakes.

Deliveries: in production the drain cron is woken right after the commit of the request that queued a message.
In ``HttpCase`` every request shares one test cursor whose ``commit()`` drops post-commit hooks, so no cron ever
runs. :func:`drain_after_commit` stands in for that cron: after each (test) commit of a request it delivers what is
due, in that request, before the browser gets its answer, so the next screen shows the outcome as a person sees it
a moment after clicking.
"""
import json
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable
from odoo.addons.bus.websocket import WebsocketConnectionHandler

from ..lib.import_api_fields import parse_import
from ..models.core_bus import LIVE_SUBCHANNEL
from ..models.core_compat import field_name
from .fakes.extract_fake import IapExtractFake
from .fakes.webhook_receiver import WebhookReceiver

try:  # 19.0
    from odoo.tests.test_cursor import TestCursor
except ImportError:  # 18.0
    from odoo.sql_db import TestCursor

DATA = Path(__file__).resolve().parent / "data"


def tour_login(env):
    """The login the tours use: the test company's accountant (Odoo's "accountman": accounting manager), whose
    password is set to the login."""
    env.user.write({"password": env.user.login})
    return env.user.login


@contextmanager
def drain_after_commit(after=None):
    """The drain cron, run after every commit of the shared test cursor (see the module's docstring); then
    ``after(cr)``, if given."""
    original = TestCursor.commit
    draining = []

    def commit(cr):
        original(cr)
        if draining or cr.readonly:  # a read-only request queues nothing
            return
        draining.append(True)
        try:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if env["invoice_bridge.outbox"]._drain(autocommit=False, short_wait=0):
                original(cr)
            if after:
                after(cr)
        finally:
            draining.clear()

    with patch.object(TestCursor, "commit", commit):
        yield


@tagged("post_install", "-at_install")
class TestTours(AccountTestInvoicingCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,5s,5m")
        cls.receiver = WebhookReceiver().start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.extract = IapExtractFake().start()
        cls.addClassCleanup(cls.extract.stop)
        cls.company = cls.env.company
        cls.company.write({"ib_extract_endpoint": cls.extract.url, "ib_extract_token": "tour-token"})
        cls.env.ref("base.EUR").active = True
        cls.login = tour_login(cls.env)

    def setUp(self):
        super().setUp()
        self.receiver.reset()
        self.extract.reset()

    def tour(self, name, url="/odoo"):
        with drain_after_commit():
            self.start_tour(url, name, login=self.login, timeout=120)
        self.env.invalidate_all()

    # ------------------------------------------------------------------------------ 1: the vendor bill
    def test_01_vendor_bill_digitized(self):
        """README tour 1: Digitize, Refresh ("not ready" once), Refresh: vendor and reference filled, the banner
        says so; the Sync button lists the IAP calls."""
        supplier = self.env["res.partner"].create({"name": "Wood Corner", "vat": "BE0477472701",
                                                   "supplier_rank": 1})
        bill = self.env["account.move"].create({"move_type": "in_invoice"})
        attachment = self.env["ir.attachment"].create({
            "name": "wood-corner-WC-2026-117.pdf", "raw": (DATA / "extract_sample_bill.pdf").read_bytes(),
            "mimetype": "application/pdf", "res_model": "account.move", "res_id": bill.id})
        bill.message_main_attachment_id = attachment
        self.tour("invoice_bridge_tour_vendor_bill", f"/odoo/action-account.action_move_in_invoice_type/{bill.id}")
        self.assertEqual(bill.partner_id, supplier)
        self.assertEqual(bill.ib_extract_state, "done")
        self.assertEqual(self.extract.count("parse"), 1, "one credit spent")

    # ------------------------------------------------------------------------------ 2: the customer invoice
    def test_02_customer_invoice_webhook(self):
        """README tour 2: Confirm with an endpoint active; the delivery is in Deliveries and the Sync button, the
        invoice stays Not Sent; Sync Log lists it without a Delete action; a dead delivery shows its hint and one
        Retry."""
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Tour receiver", "url": f"{self.receiver.url}/hook", "company_id": self.company.id})
        self.receiver.set_secrets([endpoint.sudo().secret])
        partner = self.env["res.partner"].create({"name": "Tour Customer Ltd"})
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": "2026-10-15",
            "invoice_line_ids": [Command.create({"product_id": self.product_a.id, "quantity": 2,
                                                 "price_unit": 100.0, "tax_ids": []})]})
        # a delivery given up at once (a closed port), on another invoice of the customer
        other = invoice.copy({"invoice_date": "2026-10-16"})
        other.action_post()
        self.env.cr.flush()
        Outbox = self.env["invoice_bridge.outbox"]
        Outbox._drain(autocommit=False, short_wait=0)  # other's new_invoice, delivered
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0")
        Outbox._enqueue({"channel": "http", "target": "tour-closed-port", "url": "http://127.0.0.1:9/gone",
                         "idempotency_key": "tour-dead", "payload": json.dumps({"event": "tour"}),
                         "res_model": "account.move", "res_id": other.id, "partner_id": partner.id,
                         "company_id": self.company.id})
        Outbox._drain(autocommit=False, short_wait=0)
        self.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,5s,5m")
        dead = Outbox.search([("idempotency_key", "=", "tour-dead")])
        self.assertEqual(dead.state, "dead")
        self.receiver.reset()
        self.tour("invoice_bridge_tour_customer_invoice",
                  f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}")
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(invoice.is_move_sent, "a webhook delivery does not mark the invoice sent")
        delivered = [d for d in self.receiver.deliveries if d["status"] == 200]
        self.assertEqual([d["json"]["type"] for d in delivered][:1], ["new_invoice"], self.receiver.deliveries)
        self.assertEqual(dead.state, "pending", "Retry (once) queued it again")

    # ------------------------------------------------------------------------------ 3: the imported invoice
    def test_03_imported_invoice_review(self):
        """README tour 5: an imported invoice waiting approval shows Approve, not Confirm; Return to billing asks
        a reason; the menus carry the accountant's words."""
        self.env.ref("base.INR").active = True
        self.env["account.tax"].create({"name": "GST 5%", "amount": 5, "type_tax_use": "sale",
                                        "company_id": self.company.id})
        service = self.env["invoice_bridge.import.service"]
        payload = json.loads((DATA / "import_api_seed002_sample.json").read_bytes())
        returned = service._import_invoice(parse_import(json.dumps(payload).encode()), self.company)
        payload["invoice_no"] = "LTPI-77283"
        approved = service._import_invoice(parse_import(json.dumps(payload).encode()), self.company)
        self.tour("invoice_bridge_tour_imported_invoice", "/odoo/action-account.action_move_out_invoice_type")
        self.assertEqual(returned.ib_import_state, "review")
        self.assertEqual(returned.ib_review_reason, "Batch number missing on PR650")
        self.assertEqual(returned.state, "draft")
        self.assertEqual(approved.ib_import_state, "approved")
        self.assertEqual(approved.state, "posted")

    # ------------------------------------------------------------------------------ 4: the endpoint
    def test_04_endpoint_with_waiting_messages(self):
        """#16.4: Delete is refused with what to do instead; Archive says what becomes of the messages."""
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Paused ERP", "url": "http://127.0.0.1:9/hook", "company_id": self.company.id})
        endpoint.action_send_test_event()
        self.env.cr.flush()
        self.assertEqual(endpoint.pending_count, 1)
        # no drain here: the message keeps waiting (as it would for an endpoint that is down)
        self.start_tour(f"/odoo/action-invoice_bridge.webhook_endpoint_action/{endpoint.id}",
                        "invoice_bridge_tour_endpoint", login=self.login, timeout=120)
        self.env.invalidate_all()
        self.assertFalse(endpoint.active)
        self.assertEqual(endpoint.with_context(active_test=False).pending_count, 1, "kept")


    def test_05_endpoint_headers_version_and_rotation(self):
        """#17 items 2 and 3, as an administrator: a credential refused as an extra header, a header and payload
        version 2 saved, the secret rotated with the window's end in the chatter and on the form."""
        self.env.user.write({field_name(self.env["res.users"], "group_ids", "groups_id"): [
            Command.link(self.env.ref("base.group_system").id)]})
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Rotating ERP", "url": "http://127.0.0.1:9/hook", "company_id": self.company.id})
        old = endpoint.sudo().secret
        self.start_tour(f"/odoo/action-invoice_bridge.webhook_endpoint_action/{endpoint.id}",
                        "invoice_bridge_tour_endpoint_rotation", login=self.login, timeout=120)
        self.env.invalidate_all()
        endpoint = endpoint.sudo()
        self.assertEqual((endpoint.static_headers, endpoint.payload_version), ("X-Tenant: acme", "2"))
        self.assertEqual(endpoint.previous_secret, old)
        self.assertNotEqual(endpoint.secret, old)
        self.assertTrue(endpoint.previous_secret_expires_at)


    def test_06_api_key_shown_once_then_revoked(self):
        """#14 item 1 with Odoo's own buttons: Generate key asks for the password (check_identity), shows the
        key once in a form that stores nothing (no table holds it), the key shown authenticates, Revoke ends it."""
        users = self.env["res.users"]
        technical = users.create({
            "name": "ALFA ERP (technical)", "login": "alfa_erp_tech", "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
            field_name(users, "group_ids", "groups_id"): [Command.set([
                self.env.ref("base.group_user").id, self.env.ref("account.group_account_invoice").id])]})
        key = self.env["invoice_bridge.api.key"].create({
            "name": "ALFA ERP", "user_id": technical.id, "company_id": self.company.id})
        self.start_tour(f"/odoo/action-invoice_bridge.api_key_action/{key.id}", "invoice_bridge_tour_api_key",
                        login=self.login, timeout=120)
        self.env.invalidate_all()
        key = key.sudo().with_context(active_test=False)
        self.assertFalse(key.active)
        self.assertFalse(key.key_hash)
        self.assertTrue(key.key_hint.startswith("ibk_"))
        bodies = key.message_ids.mapped("body")
        self.assertTrue(any("New secret issued by" in body for body in bodies), bodies)
        self.assertTrue(any("Revoked by" in body for body in bodies), bodies)
        self.env.cr.execute("SELECT to_regclass('invoice_bridge_api_key_show')")
        self.assertIsNone(self.env.cr.fetchone()[0], "the shown key has no table to stay in")


@tagged("post_install", "-at_install")
class TestLiveTour(AccountTestInvoicingCommon, HttpCase):
    """#16.9, in the browser: the web client's listener (``static/src/live``) over the real websocket. An open
    invoice reloads when its delivery lands and says so; with unsaved changes it only says so.

    Odoo refuses websockets during tests (the bus and the test share one cursor): ``bus.tests.common.WebsocketCase``
    lifts that, as this class does (the test cursor's lock orders the websocket's reads with the requests). The
    post-commit hook that would wake the websockets is dropped by the test cursor: they are woken after the drain,
    as ``WebsocketCase.trigger_notification_dispatching`` does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True))
        cls.receiver = WebhookReceiver().start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.login = tour_login(cls.env)

    def _wake_websockets(self, cr):
        channel = hashable(channel_with_db(cr.dbname, (self.env.company, LIVE_SUBCHANNEL)))
        for websocket in list(dispatch._channels_to_ws.get(channel, [])):
            websocket.trigger_notification_dispatching()

    def test_an_open_invoice_hears_its_delivery(self):
        endpoint = self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Live receiver", "url": f"{self.receiver.url}/hook", "company_id": self.env.company.id})
        self.receiver.set_secrets([endpoint.sudo().secret])
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.partner_a.id, "invoice_date": "2026-10-15",
            "invoice_line_ids": [Command.create({"product_id": self.product_a.id, "quantity": 1,
                                                 "price_unit": 100.0, "tax_ids": []})]})
        with drain_after_commit(after=self._wake_websockets):
            self.start_tour(f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
                            "invoice_bridge_tour_live", login=self.login, timeout=120)
        self.env.invalidate_all()
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(invoice.ref, "the typed reference was discarded, never saved by a reload")
        self.assertEqual(len([d for d in self.receiver.deliveries if d["status"] == 200]), 2)


@tagged("post_install", "-at_install")
class TestSettingsTour(HttpCase):
    """The settings page as the database's administrator sees it (the accounting test company's fixtures, with
    cash-basis taxes, make Odoo's own settings page raise on load: not ours to test)."""

    def test_masked_headers_and_refused_retention(self):
        """#14: the header names masked besides the credential-looking ones, and the refused requests' retention,
        set on the settings page by an administrator; a line then masks such a header."""
        self.start_tour("/odoo/action-account.action_account_config", "invoice_bridge_tour_settings",
                        login="admin", timeout=120)
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param("invoice_bridge.log_masked_headers"), "X-Tenant, X-Customer-Ref")
        self.assertEqual(params.get_param("invoice_bridge.refused_retention_days"), "30")
        line = self.env["invoice_bridge.sync.log"]._log({
            "channel": "http", "state": "success",
            "request_headers": {"X-Tenant": "tenant-7f3a9c", "X-Customer-Ref": "cust-55aa11", "X-Plain": "shown"}})
        self.assertNotIn("tenant-7f3a9c", line.request_headers)
        self.assertNotIn("cust-55aa11", line.request_headers)
        self.assertIn("X-Plain: shown", line.request_headers)
