"""Webhooks on real PostgreSQL connections: post-commit delivery, rollback, receiver outages."""
import time
from collections import defaultdict

import pytest
from ib_fakes.webhook_receiver import WebhookReceiver
from standardwebhooks.webhooks import Webhook


@pytest.fixture(scope="module")
def accounting(odoo, registry, odoo_server):
    """A chart of accounts, a customer, a product (committed); invoice PDFs rendered through a real server."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        # wkhtmltopdf fetches the report's assets over HTTP: from the running server
        env["ir.config_parameter"].set_param("report.url", odoo_server)
        if not env.company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=env.company, install_demo=False)
        partner = env["res.partner"].create({"name": "Webhook customer"})
        product = env["product.product"].create({"name": "Consulting", "list_price": 100.0})
        env["ir.config_parameter"].set_param("invoice_bridge.retry_schedule", "0,1s,1s,1s,1s")
        return {"partner": partner.id, "product": product.id}


@pytest.fixture
def endpoint(odoo, registry, accounting):
    with WebhookReceiver() as receiver:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["invoice_bridge.webhook.endpoint"].search([]).active = False
            ep = env["invoice_bridge.webhook.endpoint"].create({"name": "pytest", "url": f"{receiver.url}/hook"})
            receiver.set_secrets([ep.secret])
            ep_id = ep.id
        yield receiver, ep_id


def _post_invoice(env, accounting, lines=2):
    move = env["account.move"].create({
        "move_type": "out_invoice", "partner_id": accounting["partner"], "invoice_date": "2026-11-02",
        "invoice_line_ids": [(0, 0, {"product_id": accounting["product"], "quantity": 1, "price_unit": 50.0,
                                     "tax_ids": []}) for _ in range(lines)],
    })
    move.action_post()
    return move


def _drain(env_factory, short_wait=5):
    with env_factory() as env:
        return env["invoice_bridge.outbox"]._drain(autocommit=True, short_wait=short_wait, time_budget=20)


def test_rolled_back_post_sends_nothing(env_factory, accounting, endpoint):
    receiver, ep_id = endpoint
    with env_factory(commit=False) as env:
        move = _post_invoice(env, accounting)
        env.cr.flush()  # what a commit runs first: the pre-commit hook writes the message in this transaction
        messages = env["invoice_bridge.outbox"].search([("res_model", "=", "account.move"), ("res_id", "=", move.id)])
        assert len(messages) == 1
    _drain(env_factory, short_wait=0)
    assert receiver.deliveries == []
    with env_factory() as env:
        assert env["invoice_bridge.outbox"].search_count([("webhook_endpoint_id", "=", ep_id)]) == 0


def test_committed_post_is_delivered_signed(env_factory, accounting, endpoint):
    receiver, ep_id = endpoint
    with env_factory() as env:
        name = _post_invoice(env, accounting).name
    _drain(env_factory)
    [delivery] = receiver.deliveries
    assert delivery["verified"] is True
    assert delivery["json"]["operations"][0]["payload"]["invoice"]["invoice_name"] == name
    with env_factory() as env:
        secret = env["invoice_bridge.webhook.endpoint"].browse(ep_id).secret
    # the reference library verifies against the real clock (5-minute tolerance)
    Webhook(secret).verify(delivery["body"].decode(), delivery["headers"])


def test_receiver_down_then_up_every_event_delivered(env_factory, accounting, endpoint):
    """The running server's cron does the delivering: receiver down, then flaky, then fine."""
    receiver, _ep_id = endpoint
    receiver.down()
    with env_factory() as env:
        env["ir.config_parameter"].set_param("invoice_bridge.retry_schedule", "0,1s,2s,3s,5s,8s,13s,21s,34s")
        # the retry path alone: the circuit breaker (its own tests: test_core_outbox) would pause this endpoint
        # 30 s, then 60 s, after the failures of its first seconds, beyond this test's 90 s
        env["ir.config_parameter"].set_param("invoice_bridge.breaker_failures", "0")
        for _ in range(5):
            _post_invoice(env, accounting, lines=1)
    time.sleep(3)
    receiver.up()
    receiver.fail_next(2, status=503)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len({d["webhook_id"] for d in receiver.deliveries
                                               if d["status"] == 200}) < 5:
        time.sleep(0.5)
    bodies = defaultdict(set)
    for d in receiver.deliveries:
        if d["status"] == 200:
            bodies[d["webhook_id"]].add(d["body"])
    assert len(bodies) == 5, "every event delivered"
    assert all(len(b) == 1 for b in bodies.values()), "a duplicate carries the same id and the same bytes"
    assert all(d["verified"] for d in receiver.deliveries if d["status"] == 200)
    with env_factory() as env:
        env["ir.config_parameter"].set_param("invoice_bridge.breaker_failures", False)  # back to the default


def test_a_rotation_during_a_drain_conflicts_with_nothing_and_logs_no_secret(odoo, registry, env_factory,
                                                                             accounting, endpoint, caplog):
    """#14: a rotation that met a running drain made Odoo log the failed UPDATE with the valid secret in it."""
    receiver, ep_id = endpoint
    with env_factory() as env:
        old = env["invoice_bridge.webhook.endpoint"].browse(ep_id).secret
        _post_invoice(env, accounting)
    with registry.cursor() as rotating:  # its snapshot is taken first; the drain commits meanwhile
        rotation = odoo.api.Environment(rotating, odoo.SUPERUSER_ID, {})["invoice_bridge.webhook.endpoint"]
        assert rotation.browse(ep_id).name == "pytest"
        assert _drain(env_factory, short_wait=0) == 1
        assert receiver.wait_for(1)
        rotation.browse(ep_id).action_rotate_secret()  # the drain never wrote the endpoint's row: no conflict
        new = rotation.browse(ep_id).secret
    with env_factory() as env:
        assert env["invoice_bridge.webhook.endpoint"].browse(ep_id).previous_secret == old
        assert env["invoice_bridge.webhook.endpoint"].browse(ep_id).consecutive_failures == 0
    # a concurrent change of the row itself: refused before any statement carries a secret
    with registry.cursor() as rotating:
        rotation = odoo.api.Environment(rotating, odoo.SUPERUSER_ID, {})["invoice_bridge.webhook.endpoint"]
        assert rotation.browse(ep_id).name == "pytest"
        with env_factory() as env:
            env["invoice_bridge.webhook.endpoint"].browse(ep_id).timeout = 7
        with caplog.at_level("INFO"), pytest.raises(odoo.exceptions.UserError, match="try again"):
            rotation.browse(ep_id).action_rotate_secret()
        rotating.rollback()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (old, new):
        assert secret not in logged
