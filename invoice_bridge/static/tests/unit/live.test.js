/**
 * The web client's listener of live feedback (#16.9), on Odoo's mock server and mock websocket: a form showing a
 * record of an ``invoice_bridge/changed`` notification reloads and says what happened; a form with unsaved
 * changes only says it; a notification about another record changes nothing. The server side (who is subscribed
 * to what, after which commit) is tested in Python (``test_core_live.py``), the whole path in a browser tour
 * (``TestLiveTour``).
 */
import { describe, expect, test } from "@odoo/hoot";
import { waitFor } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import { mailModels } from "@mail/../tests/mail_test_helpers";
import {
    MockServer,
    contains,
    defineModels,
    fields,
    models,
    mountView,
    onRpc,
} from "@web/../tests/web_test_helpers";
import { concerns } from "@invoice_bridge/live/live_service";

describe.current.tags("desktop");

class Delivery extends models.Model {
    _name = "invoice_bridge.outbox";

    name = fields.Char();
    state = fields.Selection({
        selection: [
            ["pending", "Waiting"],
            ["done", "Delivered"],
        ],
    });
    note = fields.Char();

    _records = [
        { id: 1, name: "Webhook: invoice posted", state: "pending" },
        { id: 2, name: "Webhook: invoice paid", state: "pending" },
    ];
    _views = {
        form: `<form><sheet>
            <field name="name"/>
            <field name="state" readonly="1"/>
            <field name="note"/>
        </sheet></form>`,
    };
}

defineModels({ ...mailModels, Delivery });

/** What the server does at the commit of a sync-log line of delivery 1 (``models/core_bus.py``). */
function deliveryLanded(id = 1) {
    MockServer.env["invoice_bridge.outbox"].write([id], { state: "done" });
    MockServer.env["bus.bus"]._sendone("broadcast", "invoice_bridge/changed", {
        records: [["invoice_bridge.outbox", id], ["account.move", 7]],
        message: "Webhook · INV/2026/00007 · Succeeded",
        level: "success",
        channel: "webhook",
        state: "success",
    });
}

async function mountDelivery() {
    await mountView({ type: "form", resModel: "invoice_bridge.outbox", resId: 1 });
    await animationFrame();  // the bus service's worker is connected
}

test("concerns: the notification names the record", () => {
    const payload = { records: [["invoice_bridge.outbox", 1], ["account.move", 7]] };
    expect(concerns(payload, "account.move", 7)).toBe(true);
    expect(concerns(payload, "account.move", 1)).toBe(false);
    expect(concerns(payload, "account.move", false)).toBe(false);
    expect(concerns({}, "account.move", 7)).toBe(false);
});

test("an open form reloads when its delivery lands, and says so", async () => {
    await mountDelivery();
    expect(".o_field_widget[name=state]").toHaveText("Waiting");
    deliveryLanded();
    await waitFor(".o_notification:contains('Webhook · INV/2026/00007 · Succeeded')");
    await waitFor(".o_field_widget[name=state]:contains('Delivered')");
});

test("a form with unsaved changes is not reloaded: what was typed stays", async () => {
    await mountDelivery();
    await contains(".o_field_widget[name=note] input").edit("typed", { confirm: "blur" });
    deliveryLanded();
    await waitFor(".o_notification:contains('Save or discard your changes to see it.')");
    expect(".o_field_widget[name=note] input").toHaveValue("typed");
    expect(".o_field_widget[name=state]").toHaveText("Waiting");
});

test("a notification about another record changes nothing", async () => {
    let reads = 0;
    onRpc("web_read", () => {
        reads++;
    });
    await mountDelivery();
    const readsBefore = reads;
    deliveryLanded(2);
    await animationFrame();
    await animationFrame();
    expect(reads).toBe(readsBefore);
    expect(".o_notification").toHaveCount(0);
    expect(".o_field_widget[name=state]").toHaveText("Waiting");
});
