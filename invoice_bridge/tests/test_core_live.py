"""Live feedback (#16.9): what the bridge records reaches open forms through Odoo's bus.

Test mode refuses websockets and test cursors drop the bus's post-commit hook, so no tour can see a notification
arrive. What a commit does is done here by hand: the pre-commit hooks run (``cr.flush()``: the bus writes its
``bus.bus`` rows there, in the transaction), and the rows are read back. The web client's side is proven by the JS
unit test of the listener (``static/tests``).
"""
import contextlib
import json
import logging

from websocket import WebSocketTimeoutException

from odoo import release
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.bus.tests.common import WebsocketCase
from odoo.addons.web.tests.test_js import unit_test_error_checker

from ..models.core_bus import LIVE_NOTIFICATION, LIVE_SUBCHANNEL
from .core_common import WebhookCase, user_groups


@tagged("post_install", "-at_install")
class TestLiveFeedback(WebhookCase):

    def live_rows(self, company=None):
        """The bridge's bus notifications written so far in this transaction, for ``company``'s channel."""
        self.env.cr.flush()  # the pre-commit hooks: where the bus writes its rows
        company = company or self.env.company
        channel = json.dumps([self.env.cr.dbname, "res.company", company.id, LIVE_SUBCHANNEL],
                             separators=(",", ":"))
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)], order="id")
        messages = [json.loads(r.message) for r in rows]
        return [m["payload"] for m in messages if m["type"] == LIVE_NOTIFICATION]

    def test_a_delivery_landing_notifies_the_invoice_its_delivery_and_the_endpoint(self):
        move = self.make_invoice()
        before = len(self.live_rows())
        self.drain()
        payloads = self.live_rows()[before:]
        self.assertEqual(len(payloads), 1, "one notification per exchange")
        payload = payloads[0]
        msg = self.messages_for(move)
        self.assertEqual(payload["records"], [["account.move", move.id], ["invoice_bridge.outbox", msg.id],
                                              ["invoice_bridge.webhook.endpoint", self.endpoint.id]])
        self.assertEqual(payload["level"], "success")
        self.assertEqual(payload["state"], "success")
        self.assertIn("Succeeded", payload["message"])
        self.assertNotIn(str(move.amount_total), json.dumps(payload), "no amount, no body on the bus")

    def test_a_failed_delivery_notifies_with_a_warning(self):
        self.endpoint.url = "http://127.0.0.1:9/closed"
        move = self.make_invoice()
        before = len(self.live_rows())
        self.drain()
        payload = self.live_rows()[before:][-1]
        self.assertIn(["account.move", move.id], payload["records"])
        self.assertEqual(payload["level"], "warning")
        self.assertIn("Will retry", payload["message"])

    def test_nothing_is_written_before_the_commit(self):
        self.make_invoice()
        self.env.cr.flush()
        bus_rows = self.env["bus.bus"].sudo().search_count([])
        self.Outbox._drain(autocommit=False, short_wait=0)  # no flush: the transaction has not committed yet
        self.assertEqual(self.env["bus.bus"].sudo().search_count([]), bus_rows,
                         "written by the pre-commit hook: a rolled-back transaction notifies nobody")
        self.assertTrue(self.live_rows(), "and at the commit it is")

    def test_another_company_hears_nothing(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self.env["invoice_bridge.webhook.endpoint"].create({
            "name": "B receiver", "url": f"{self.receiver.url}/b", "company_id": company_b.id})
        self.make_invoice()
        before_b = len(self.live_rows(company_b))
        self.drain()
        self.assertTrue(self.live_rows())
        self.assertEqual(len(self.live_rows(company_b)), before_b, "company A's deliveries stay on A's channel")

    def channels_of(self, user):
        """What ``ir.websocket._build_bus_channel_list`` adds for the bridge when ``user``'s websocket subscribes
        (the rest of that method needs a live websocket request)."""
        return self.env["ir.websocket"].with_user(user)._ib_live_channels()

    def test_who_is_subscribed(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        billing = self.env["res.users"].create({
            "name": "Billing A+B", "login": "live_billing", "company_id": self.env.company.id,
            "company_ids": [(6, 0, (self.env.company | company_b).ids)],
            **user_groups(self.env, self.env.ref("account.group_account_invoice"))})
        internal = self.env["res.users"].create({
            "name": "No accounting", "login": "live_internal", "company_id": self.env.company.id,
            "company_ids": [(6, 0, self.env.company.ids)], **user_groups(self.env, self.env.ref("base.group_user"))})
        portal = self.env["res.users"].create({
            "name": "Portal", "login": "live_portal", "company_id": self.env.company.id,
            "company_ids": [(6, 0, self.env.company.ids)], **user_groups(self.env, self.env.ref("base.group_portal"))})

        def bridge_channels(user):
            return {(c[0]._name, c[0].id, c[1]) for c in self.channels_of(user) if isinstance(c, tuple)
                    and len(c) == 2 and c[1] == LIVE_SUBCHANNEL}

        self.assertEqual(bridge_channels(billing), {("res.company", self.env.company.id, LIVE_SUBCHANNEL),
                                                    ("res.company", company_b.id, LIVE_SUBCHANNEL)})
        self.assertEqual(bridge_channels(internal), set(), "no accounting rights: no bridge channel")
        self.assertEqual(bridge_channels(portal), set())


@tagged("post_install", "-at_install")
class TestLiveWebsocket(WebhookCase, WebsocketCase):
    """The notification reaches a real websocket of a billing user of the company, and no other company's.

    Odoo's own bus tests (``bus/tests/common.py``) open websockets under the test runner: the server's test-mode
    refusal is lifted for this class, and the dispatch that the post-commit hook would trigger is triggered by hand.
    """

    def connect(self, login, company):
        new_test_user(self.env, login=login, groups="account.group_account_invoice", company_id=company.id,
                      company_ids=[(6, 0, company.ids)])
        session = self.authenticate(login, login)
        self.session = None  # the next authenticate() would delete this session (and close its websocket)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid};")
        self.subscribe(websocket, [], self.env["bus.bus"].sudo()._bus_last_id())
        return websocket

    def test_a_billing_user_s_open_websocket_hears_the_delivery(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        websocket = self.connect("live_a", self.env.company)
        websocket_b = self.connect("live_b", company_b)
        move = self.make_invoice()
        self.drain()
        self.trigger_notification_dispatching([(self.env.company, LIVE_SUBCHANNEL), (company_b, LIVE_SUBCHANNEL)])
        live = self.receive(websocket)
        self.assertTrue(any(["account.move", move.id] in p["records"] for p in live), live)
        self.assertEqual(self.receive(websocket_b), [], "company B's user hears nothing of company A")

    def receive(self, websocket):
        """The bridge's notifications the websocket receives within a second (frames without data are skipped)."""
        websocket.settimeout(1)
        live = []
        with contextlib.suppress(WebSocketTimeoutException):
            while True:
                frame = websocket.recv()
                if frame:
                    live.extend(n["message"]["payload"] for n in json.loads(frame)
                                if n["message"]["type"] == LIVE_NOTIFICATION)
        return live


def hoot_id(name):
    """The id Hoot gives a suite or a test (the hash ``web/tests/test_js.py`` computes on 19.0 for ``--test-tags``)."""
    value = 0
    for char in name:
        value = ((value << 5) - value + ord(char)) & 0xFFFFFFFF
    return f"{value:08x}"


@tagged("post_install", "-at_install")
class TestLiveJs(HttpCase):
    """The JS unit tests of the listener (``static/tests/unit/live.test.js``, Hoot), in headless Chromium: only
    the addon's suite, ``@invoice_bridge``, of Odoo's unit-test page."""

    def test_listener(self):
        if release.version_info[0] < 19:
            signal, only = "[HOOT] test suite succeeded", "suite"
        else:
            signal, only = "[HOOT] Test suite succeeded", "id"
        seen = []
        handler = logging.Handler()
        handler.emit = lambda record: seen.append(record.getMessage())
        browser_logger = logging.getLogger(f"{self._logger.name}.browser")
        browser_logger.addHandler(handler)
        try:
            self.browser_js(
                f"/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&{only}={hoot_id('@invoice_bridge')}",
                "", "", login="admin", timeout=900, success_signal=signal, error_checker=unit_test_error_checker)
        finally:
            browser_logger.removeHandler(handler)
        ran = [m for m in seen if '[HOOT] Test "@invoice_bridge/unit/live/' in m and "passed" in m]
        self.assertEqual(len(ran), 4, "the suite's four tests ran and passed (an empty selection also succeeds)")
