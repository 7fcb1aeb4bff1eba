/** @odoo-module */
// Steps shared by the tours: open Invoicing ▸ Invoice Bridge ▸ <menu>, by the menu's xmlid, checking its label.

// the app first: 19.0 shows no app sections on a page opened by its URL (18.0 does)
export function openInvoicingApp() {
    return [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Invoicing",
            trigger: '.o-dropdown--menu .o_app[data-menu-xmlid="account.menu_finance"]',
            run: "click",
        },
        {
            content: "The Invoicing app is open",
            trigger: '.o_menu_sections [data-menu-xmlid="invoice_bridge.menu_invoice_bridge_root"]',
        },
    ];
}

export function openBridgeMenu(xmlid, label) {
    return [
        ...openInvoicingApp(),
        {
            content: "Open the Invoice Bridge menu",
            trigger: '.o_menu_sections button[data-menu-xmlid="invoice_bridge.menu_invoice_bridge_root"]:contains("Invoice Bridge")',
            run: "click",
        },
        {
            content: `Open ${label}`,
            trigger: `.o-dropdown--menu [data-menu-xmlid="invoice_bridge.${xmlid}"]:contains("${label}")`,
            run: "click",
        },
        {
            content: `${label} is shown`,
            trigger: `.o_breadcrumb:contains("${label}")`,
        },
    ];
}
