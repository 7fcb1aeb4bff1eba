import json

from odoo.tests import TransactionCase

# The loopback fakes live outside the shipped addon (tests/fakes/ at the repository root, on PYTHONPATH when
# `make test` runs Odoo's test runner): both test suites and `make demo` use them.
from tests.fakes.webhook_receiver import WebhookReceiver


class BridgeCase(TransactionCase):
    """Shared base: a loopback HTTP receiver and helpers to queue and drain outbox messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.receiver = WebhookReceiver().start()
        cls.addClassCleanup(cls.receiver.stop)
        cls.Outbox = cls.env["invoice_bridge.outbox"]
        cls.Log = cls.env["invoice_bridge.sync.log"]
        cls.env["ir.config_parameter"].sudo().set_param("invoice_bridge.retry_schedule", "0,5s,5m")

    def setUp(self):
        super().setUp()
        self.receiver.reset()

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

    def drain(self, **kwargs):
        return self.Outbox._drain(autocommit=False, short_wait=0, **kwargs)

    def delivered_ns(self):
        return [d["json"]["n"] for d in self.receiver.deliveries if d["status"] == 200]
