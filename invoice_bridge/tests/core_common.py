import json

from odoo import Command
from odoo.tests import TransactionCase

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..models.core_compat import field_name
from .fakes.webhook_receiver import WebhookReceiver


def user_groups(env, groups):
    """The values that give a new user exactly ``groups`` (``group_ids`` on 19.0, ``groups_id`` on 18.0)."""
    return {field_name(env["res.users"], "group_ids", "groups_id"): [Command.set(groups.ids)]}


class ReceiverMixin:
    """A loopback HTTP receiver and helpers to drain the outbox in the test transaction."""

    @classmethod
    def _setup_bridge(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.receiver = WebhookReceiver().start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.Outbox = cls.env["invoice_bridge.outbox"]
        cls.Log = cls.env["invoice_bridge.sync.log"]
        cls.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,5s,5m")

    def setUp(self):
        super().setUp()
        self.receiver.reset()

    def precommit(self):
        """Run what a commit runs before COMMIT (the test transaction never commits): the hook that writes the
        webhook events collected in the transaction."""
        self.env.cr.flush()

    def drain(self, **kwargs):
        self.precommit()
        return self.Outbox._drain(autocommit=False, short_wait=0, **kwargs)


class BridgeCase(ReceiverMixin, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_bridge()

    def enqueue(self, count=1, **overrides):
        vals_list = []
        for i in range(count):
            vals = {
                "channel": "http",
                "target": "receiver",
                "url": f"{self.receiver.url}/hook",
                "payload": json.dumps({"n": i}),
                "idempotency_key": f"{self._testMethodName}-{i}-{overrides.get('ordering_key') or ''}",
            }
            vals.update(overrides)
            vals_list.append(vals)
        return self.Outbox._enqueue(vals_list)

    def delivered_ns(self):
        return [d["json"]["n"] for d in self.receiver.deliveries if d["status"] == 200]


class WebhookCase(ReceiverMixin, AccountTestInvoicingCommon):
    """Invoices (the accounting test company) and a webhook endpoint pointing at the loopback receiver."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_bridge()
        cls.endpoint = cls.env["invoice_bridge.webhook.endpoint"].create({
            "name": "Receiver", "url": f"{cls.receiver.url}/hook", "company_id": cls.env.company.id})

    def setUp(self):
        super().setUp()
        self.receiver.set_secrets([self.endpoint.sudo().secret])  # a rotation in an earlier test rolled back

    def make_invoice(self, lines=1, post=True, partner=None, move_type="out_invoice", price=100.0, **vals):
        move = self.env["account.move"].create({
            "move_type": move_type,
            "partner_id": (partner or self.partner_a).id,
            "invoice_date": "2026-10-15",
            "invoice_line_ids": [Command.create({"product_id": self.product_a.id, "quantity": 2,
                                                 "price_unit": price, "tax_ids": []}) for _ in range(lines)],
            **vals,
        })
        if post:
            move.action_post()
        return move

    def messages_for(self, move, event="new_invoice"):
        self.precommit()
        return self.Outbox.search([("res_model", "=", "account.move"), ("res_id", "=", move.id),
                                   ("webhook_event", "=", event)])

    def pay(self, move, amount, payment_date=None):
        """Register a payment of ``amount`` (today, unless ``payment_date``: golden files need a fixed date)."""
        vals = {"amount": amount, **({"payment_date": payment_date} if payment_date else {})}
        return self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids).create(vals)._create_payments()
