"""Against a real Odoo server (threaded, with a cron thread): a commit wakes the drain cron at once."""
import json
import time
from datetime import datetime, timedelta

import pytest


@pytest.fixture(scope="module")
def drain_cron_not_due(odoo, registry):
    """Before the server starts: the drain cron is not due for a day, so only a trigger can run it."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env.ref("invoice_bridge.ir_cron_outbox_drain").nextcall = datetime.utcnow() + timedelta(days=1)


def test_commit_triggers_delivery_by_the_server_cron(drain_cron_not_due, odoo_server, env_factory, receiver):
    with env_factory() as env:
        msg = env["invoice_bridge.outbox"]._enqueue({
            "channel": "http", "target": "srv", "url": f"{receiver.url}/srv", "payload": json.dumps({"n": 1}),
            "idempotency_key": "srv-1"})
        msg_id = msg.id
    assert receiver.wait_for(1, timeout=45), "the running server did not deliver the message"
    states = []
    for _ in range(50):  # the server commits the outcome right after the answer; each poll is a new snapshot
        with env_factory() as env:
            states = env["invoice_bridge.sync.log"].search([("outbox_id", "=", msg_id)]).mapped("state")
            msg_state = env["invoice_bridge.outbox"].browse(msg_id).state
        if states:
            break
        time.sleep(0.2)
    assert states == ["success"]
    assert msg_state == "done"
