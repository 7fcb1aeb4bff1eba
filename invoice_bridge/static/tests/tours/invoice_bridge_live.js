/** @odoo-module */
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

// README ▸ Live feedback: an open invoice hears what the bridge records about it, after the commit, over the bus.
// The changes come from "another tab": a plain RPC that the form does not see, delivered by the drain that runs
// after that request's commit.

function currentInvoiceId() {
    return parseInt(window.location.pathname.split("/").pop(), 10);
}

function callInvoice(method) {
    return rpc("/web/dataset/call_kw/account.move/" + method, {
        model: "account.move", method, args: [[currentInvoiceId()]], kwargs: {},
    });
}

registry.category("web_tour.tours").add("invoice_bridge_tour_live", {
    steps: () => [
        {
            content: "A draft invoice, nothing delivered yet",
            trigger: ".o_form_view:not(:has(button[name='action_ib_open_sync_log'])) .o_statusbar_buttons button[name='action_post']",
            run: () => callInvoice("action_post"),  // confirmed in another tab: this form is not told by the RPC
        },
        {
            content: "The delivery landed: the form says so and reloads (posted, the Sync button)",
            trigger: ".o_notification:contains('Webhook'):contains('Succeeded')",
        },
        {
            content: "...the record is reloaded: posted, with the Sync button",
            trigger: ".o_form_view:not(:has(button[name='action_post'])) button[name='action_ib_open_sync_log']",
        },
        {
            content: "Close the notification",
            trigger: ".o_notification:contains('Succeeded') .o_notification_close",
            run: "click",
        },
        {
            content: "Open Other Info",
            trigger: ".o_notebook a[name='other_info']",
            run: "click",
        },
        {
            content: "Type a customer reference, unsaved",
            trigger: ".o_field_widget[name='ref'] input",
            run: "edit typed-while-open",
        },
        {
            content: "The form is dirty",
            trigger: ".o_form_status_indicator_buttons:not(.invisible) .o_form_button_save",
            run: () => callInvoice("action_ib_send_webhook"),  // sent again from another tab
        },
        {
            content: "The new delivery is announced, without a reload",
            trigger: ".o_notification:contains('Save or discard your changes to see it.')",
        },
        {
            content: "...what was typed is still there",
            trigger: ".o_field_widget[name='ref'] input",
            run() {
                const value = this.anchor.value;
                if (value !== "typed-while-open") {
                    throw new Error(`the form was reloaded under the user: ref is "${value}"`);
                }
            },
        },
        {
            content: "Discard",
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "Discarded: the form is clean",
            trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)",
        },
    ],
});
