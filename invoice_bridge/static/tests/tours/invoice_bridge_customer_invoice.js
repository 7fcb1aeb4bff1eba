/** @odoo-module */
import { registry } from "@web/core/registry";
import { openBridgeMenu } from "./invoice_bridge_menu";

// README ▸ The newcomer's tour ▸ 2. Post an invoice and watch its webhook
registry.category("web_tour.tours").add("invoice_bridge_tour_customer_invoice", {
    steps: () => [
        {
            content: "A draft invoice: no Sync button yet",
            trigger: ".o_form_view:not(:has(button[name='action_ib_open_sync_log'])) .o_statusbar_buttons button[name='action_post']:contains('Confirm')",
            run: "click",
        },
        {
            content: "Posted: Send webhook is offered",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_ib_send_webhook']",
        },
        {
            content: "Delivered right after the commit: the Sync button appears",
            trigger: ".o_form_view button[name='action_ib_open_sync_log']:contains('Sync')",
        },
        {
            content: "Back to the invoices",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Invoices')",
            run: "click",
        },
        {
            content: "Open the filters",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Filter on Not Sent",
            trigger: ".o_filter_menu .o_menu_item:contains('Not Sent')",
            run: "click",
        },
        {
            content: "The delivered invoice is still Not Sent (a webhook is not a sending to the customer)",
            trigger: ".o_searchview_facet:contains('Not Sent')",
        },
        {
            content: "...and listed there",
            trigger: ".o_list_view .o_data_row:contains('Tour Customer Ltd')",
        },
        ...openBridgeMenu("menu_outbox", "Deliveries"),
        {
            content: "Deliveries opens on what waits or failed: the delivery that gave up",
            trigger: ".o_list_view .o_data_row:contains('Gave up')",
        },
        {
            content: "Open the filters",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Show the delivered ones too",
            trigger: ".o_filter_menu .o_menu_item:contains('Delivered')",
            run: "click",
        },
        {
            content: "Deliveries: the new invoice, delivered to the endpoint",
            trigger: ".o_list_view .o_data_row:contains('Invoice posted'):contains('Tour receiver'):contains('Delivered')",
        },
        ...openBridgeMenu("menu_sync_log", "Sync Log"),
        {
            content: "Sync Log: the delivery of the invoice, succeeded",
            trigger: ".o_list_view .o_data_row:contains('Tour Customer Ltd'):contains('Webhook')",
        },
        {
            content: "Select a line",
            trigger: ".o_list_view .o_data_row:first .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Open Actions",
            trigger: ".o_control_panel .o_cp_action_menus button:contains('Actions')",
            run: "click",
        },
        {
            content: "Retry is offered...",
            trigger: ".o-dropdown--menu:contains('Retry')",
        },
        {
            content: "...Delete is not: the sync log is append-only",
            trigger: ".o-dropdown--menu:contains('Retry'):not(:contains('Delete'))",
        },
        {
            content: "Close the menu (unselect the line)",
            trigger: ".o_list_view .o_data_row:first .o_list_record_selector input",
            run: "click",
        },
        {
            content: "The delivery that gave up",
            trigger: ".o_list_view .o_data_row:contains('Gave up') td[name='message']",
            run: "click",
        },
        {
            content: "Its line says what to do next",
            trigger: ".o_form_view .alert-warning:contains('What to do next')",
        },
        {
            content: "...and offers one Retry",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_retry'] ~ button[name='action_retry'])) button[name='action_retry']:contains('Retry')",
            run: "click",
        },
        {
            content: "Retried: this line no longer offers Retry, nor the hint",
            trigger: ".o_form_view:not(:has(button[name='action_retry'])):not(:has(.alert-warning:contains('What to do next')))",
        },
    ],
});
