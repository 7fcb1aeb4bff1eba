/** @odoo-module */
import { registry } from "@web/core/registry";

// README ▸ Monthly easybill export ▸ What became of the draft
// The Python test (TestEasybillTour.test_back_sync_and_pivot) sends a customer's month to easybill, then, in the
// fake, the accountant finalises the draft and the customer pays it; the tour opens the export.

registry.category("web_tour.tours").add("invoice_bridge_tour_easybill_back_sync", {
    steps: () => [
        {
            content: "The export is sent; easybill still shows the draft Odoo made",
            trigger: ".o_form_view .o_field_widget[name='easybill_state']:contains('Draft')",
        },
        {
            content: "Refresh from easybill",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_easybill_refresh']",
            run: "click",
        },
        {
            content: "easybill's number, and the state read back: Paid",
            trigger: ".o_form_view:has(.o_field_widget[name='easybill_number']:contains(/^\\d+$/)) .o_field_widget[name='easybill_state']:contains('Paid')",
        },
        {
            content: "...nothing left open, the final PDF attached",
            trigger: ".o_form_view:has(.o_field_widget[name='easybill_open_amount']:contains('0.00')) .o_field_widget[name='easybill_pdf_id']:contains('.pdf')",
        },
        {
            content: "...a link into easybill's web app",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_open_easybill']",
        },
        {
            content: "...and the chatter says what changed",
            trigger: ".o-mail-Message-body:contains('easybill: Draft → Paid')",
        },
        {
            content: "Back to the exports",
            trigger: ".o_breadcrumb .o_back_button, .o_breadcrumb li.breadcrumb-item:first-child a",
            run: "click",
        },
        {
            content: "Switch to the pivot",
            trigger: ".o_control_panel .o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The month's numbers: exported customers, documents done, paid, still open",
            trigger: ".o_pivot:has(th:contains('Exported customers')):has(th:contains('Documents done')):has(th:contains('Paid')) th:contains('Still open')",
        },
    ],
});
