/** @odoo-module */
import { registry } from "@web/core/registry";

// README ▸ The newcomer's tour ▸ 1. Digitize the demo bill
registry.category("web_tour.tours").add("invoice_bridge_tour_vendor_bill", {
    steps: () => [
        {
            content: "The draft bill offers Digitize, and has no banner yet",
            trigger: ".o_form_view:not(:has(.alert:contains('Digitization:'))) .o_statusbar_buttons button[name='action_ib_digitize']",
            run: "click",
        },
        {
            content: "Sent: the banner says it waits for the results",
            trigger: ".o_form_view .alert-info:contains('Digitization:') [name='ib_extract_banner']:contains('Waiting')",
        },
        {
            content: "Digitize is gone (no second credit)",
            trigger: ".o_form_view:not(:has(button[name='action_ib_digitize'])) .o_statusbar_buttons button[name='action_ib_extract_refresh']",
            run: "click",
        },
        {
            content: "Not ready yet, once: the banner says to press Refresh in a moment",
            trigger: ".o_form_view [name='ib_extract_banner']:contains('Not ready yet'):contains('press Refresh')",
        },
        {
            content: "Refresh again",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_ib_extract_refresh']",
            run: "click",
        },
        {
            content: "Done: the banner says so and Refresh is gone",
            trigger: ".o_form_view:not(:has(button[name='action_ib_extract_refresh'])) [name='ib_extract_banner']:contains('Done')",
        },
        {
            content: "The vendor is filled",
            trigger: ".o_form_view .o_field_widget[name='partner_id'] input:value(Wood Corner)",
        },
        {
            content: "The reference is filled",
            trigger: ".o_form_view .o_field_widget[name='ref'] input:value(WC-2026-117)",
        },
        {
            content: "The line is filled (the bill had none)",
            trigger: ".o_form_view .o_field_widget[name='invoice_line_ids'] .o_data_row",
        },
        {
            content: "The Sync button lists the IAP calls",
            trigger: ".o_form_view button[name='action_ib_open_sync_log']:contains('Sync')",
            run: "click",
        },
        {
            content: "The sync log of the bill: its calls to the digitization service",
            trigger: ".o_list_view .o_data_row:contains('Bill digitization')",
        },
        {
            content: "Three calls: the parse and two polls",
            trigger: ".o_list_view:has(.o_data_row:nth-child(3)):not(:has(.o_data_row:nth-child(4)))",
        },
    ],
});
