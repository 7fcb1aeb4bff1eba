/** @odoo-module */
import { registry } from "@web/core/registry";
import { session } from "@web/session";
import { openBridgeMenu } from "./invoice_bridge_menu";

// README ▸ The newcomer's tour ▸ 3. Send a customer's month to easybill
// The Python test (TestEasybillTour) records last month's services of one customer, "Lagerung" (2 × 12.50) and
// "Stornierung" (1 × 30.00), in the collector journal, and opens that customer.

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];

// last month, as the wizard counts it (and as the test dates the services)
const today = new Date();
const lastMonth = new Date(today.getFullYear(), today.getMonth() - 1, 1);
const MONTH = String(lastMonth.getMonth() + 1);
const YEAR = String(lastMonth.getFullYear());

// a selection field is a <select> on 18.0, a SelectMenu (an input and a dropdown) on 19.0
function pickSelection(field, value, label) {
    if (session.server_version_info[0] < 19) {
        return [{
            content: `${field}: ${label}`,
            trigger: `.modal .o_field_widget[name='${field}'] select`,
            run: `select "${value}"`,
        }];
    }
    return [
        {
            content: `Open the ${field} list`,
            trigger: `.modal .o_field_widget[name='${field}'] input`,
            run: "click",
        },
        {
            content: `${field}: ${label}`,
            trigger: `.o_select_menu_menu .o_select_menu_item:contains(/^${label}$/)`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("invoice_bridge_tour_easybill", {
    steps: () => [
        {
            content: "The customer offers Send to easybill",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_ib_easybill_wizard']:contains('Send to easybill')",
            run: "click",
        },
        {
            content: "The wizard opens on the customer",
            trigger: ".modal .o_field_widget[name='partner_id'] input:value(Müller & Söhne GmbH)",
        },
        // a year without services first: nothing to send
        ...pickSelection("year", String(lastMonth.getFullYear() - 1), String(lastMonth.getFullYear() - 1)),
        {
            content: "Nothing left in that month: said, and no Send button",
            trigger: ".modal:has(.o_field_widget[name='preview']:contains('Nothing left to export')) footer:not(:has(button[name='action_send']))",
        },
        ...pickSelection("month", MONTH, MONTHS[lastMonth.getMonth()]),
        ...pickSelection("year", YEAR, YEAR),
        {
            content: "Preview: the storage line, 2 × 12.50",
            trigger: ".modal .o_field_widget[name='preview'] table tr:has(td:contains('Lagerung')):has(td:contains(/^2$/)):has(td:contains('12.50'))",
        },
        {
            content: "Preview: the cancellation fee, 30.00",
            trigger: ".modal .o_field_widget[name='preview'] table tr:has(td:contains('cancellation_fee')):has(td:contains('30.00'))",
        },
        {
            content: "Send",
            trigger: ".modal footer button[name='action_send']:contains('Send to easybill')",
            run: "click",
        },
        {
            content: "The export, sent right after the commit",
            trigger: ".o_form_view .o_statusbar_status button[aria-checked='true']:contains('Sent')",
        },
        ...openBridgeMenu("menu_easybill_export", "easybill Exports"),
        {
            content: "The customer's export of the month, Sent",
            trigger: ".o_list_view .o_data_row:contains('Müller & Söhne GmbH'):has(td[name='easybill_document_id']:contains(/^\\d+$/)):has(td[name='state']:contains('Sent'))",
        },
        {
            content: "Open it",
            trigger: ".o_list_view .o_data_row:contains('Müller & Söhne GmbH') td[name='partner_id']",
            run: "click",
        },
        {
            content: "The form: Sent",
            trigger: ".o_form_view .o_statusbar_status button[aria-checked='true']:contains('Sent')",
        },
        {
            content: "...the easybill customer, document and attachment ids",
            trigger: ".o_form_view:has(.o_field_widget[name='easybill_customer_id']:contains(/^\\d+$/)):has(.o_field_widget[name='easybill_attachment_id']:contains(/^\\d+$/)) .o_field_widget[name='easybill_document_id']:contains(/^\\d+$/)",
        },
        {
            content: "...the CSV",
            trigger: `.o_form_view .o_field_widget[name='csv_attachment_id']:contains(/^easybill_.+_${YEAR}-${MONTH.padStart(2, "0")}\\.csv$/)`,
        },
        {
            content: "...and Download CSV",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_download_csv']",
        },
        {
            content: "Open the requests",
            trigger: ".o_form_view .o_notebook .nav-link:contains('Requests')",
            run: "click",
        },
        {
            content: "The requests: five, all delivered",
            trigger: ".o_form_view .o_field_widget[name='outbox_ids'] .o_list_table:not(:has(.o_data_row ~ .o_data_row ~ .o_data_row ~ .o_data_row ~ .o_data_row ~ .o_data_row)):has(.o_data_row ~ .o_data_row ~ .o_data_row ~ .o_data_row ~ .o_data_row):not(:has(td[name='state']:not(:contains('Delivered'))))",
        },
    ],
});
