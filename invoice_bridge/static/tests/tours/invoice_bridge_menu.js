/** @odoo-module */
// Steps shared by the tours: open Invoicing ▸ Invoice Bridge ▸ <menu>, by the menu's xmlid, checking its label.

export function openBridgeMenu(xmlid, label) {
    return [
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
