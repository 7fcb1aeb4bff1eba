/** @odoo-module */
import { registry } from "@web/core/registry";
import { openInvoicingApp } from "./invoice_bridge_menu";

// README ▸ The newcomer's tour ▸ 5. Return it to billing; Approve posts it. And the menus' words (#16).
const MENUS = [
    ["menu_sync_log", "Sync Log"],
    ["menu_outbox", "Deliveries"],
    ["menu_imported_invoices", "Imported Invoices"],
    ["menu_easybill_export", "easybill Exports"],
    ["menu_api_event", "Import API Events"],
    ["menu_webhook_endpoint", "Webhook Endpoints"],
    ["menu_api_key", "Import API Keys"],
    ["menu_outbox_target", "Connections"],
];

function openImported() {
    return [
        ...openInvoicingApp(),
        {
            content: "Open the Invoice Bridge menu",
            trigger: '.o_menu_sections button[data-menu-xmlid="invoice_bridge.menu_invoice_bridge_root"]',
            run: "click",
        },
        {
            content: "Open Imported Invoices",
            trigger: '.o-dropdown--menu [data-menu-xmlid="invoice_bridge.menu_imported_invoices"]',
            run: "click",
        },
        {
            content: "Imported Invoices, waiting approval first",
            trigger: ".o_breadcrumb:contains('Imported Invoices')",
        },
    ];
}

registry.category("web_tour.tours").add("invoice_bridge_tour_imported_invoice", {
    steps: () => [
        ...openInvoicingApp(),
        {
            content: "Open the Invoice Bridge menu",
            trigger: '.o_menu_sections button[data-menu-xmlid="invoice_bridge.menu_invoice_bridge_root"]:contains("Invoice Bridge")',
            run: "click",
        },
        ...MENUS.map(([xmlid, label]) => ({
            content: `The menu says ${label}`,
            trigger: `.o-dropdown--menu [data-menu-xmlid="invoice_bridge.${xmlid}"]:contains("${label}")`,
        })),
        {
            content: "The Configuration submenu",
            trigger: '.o-dropdown--menu .dropdown-header:contains("Configuration") ~ [data-menu-xmlid="invoice_bridge.menu_webhook_endpoint"]',
        },
        {
            content: "No old label is back",
            trigger: ".o-dropdown--menu:not(:contains('Outbox')):not(:contains('Delivery Targets'))",
        },
        {
            content: "Open Imported Invoices",
            trigger: '.o-dropdown--menu [data-menu-xmlid="invoice_bridge.menu_imported_invoices"]',
            run: "click",
        },
        {
            content: "Filtered on waiting approval",
            trigger: ".o_searchview_facet:contains('waiting approval')",
        },
        {
            content: "Open the first imported invoice",
            trigger: ".o_list_view .o_data_row td.o_data_cell:contains('LTPI-77282')",
            run: "click",
        },
        {
            content: "Waiting approval: the banner says what Approve and Return to billing do",
            trigger: ".o_form_view .alert-info:contains('LTPI-77282'):contains('waiting for approval')",
        },
        {
            content: "Odoo's Confirm is not offered; Approve and Return to billing are",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_post'])):has(button[name='action_ib_approve']) button[name='action_ib_return_to_billing']",
            run: "click",
        },
        {
            content: "The wizard asks what the sender must correct",
            trigger: ".modal .o_field_widget[name='reason'] textarea",
            run: "edit Batch number missing on PR650",
        },
        {
            content: "Return to billing",
            trigger: ".modal .modal-footer button[name='action_return']",
            run: "click",
        },
        {
            content: "Returned: the banner shows the reason; neither Approve nor Confirm is offered",
            trigger: ".o_form_view:not(:has(button[name='action_ib_approve'])):not(:has(button[name='action_post'])) .alert-warning:contains('Returned to billing'):contains('Batch number missing on PR650')",
        },
        ...openImported(),
        {
            content: "Open the other imported invoice",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('LTPI-77282'))) .o_data_row td.o_data_cell:contains('LTPI-77283')",
            run: "click",
        },
        {
            content: "Approve",
            trigger: ".o_form_view:not(:has(button[name='action_post'])) .o_statusbar_buttons button[name='action_ib_approve']",
            run: "click",
        },
        {
            content: "Approve posted it",
            trigger: ".o_form_view:not(:has(button[name='action_ib_approve'])) .o_statusbar_status .o_arrow_button_current:contains('Posted')",
        },
    ],
});
