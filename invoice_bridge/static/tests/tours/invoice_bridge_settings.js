/** @odoo-module */
import { registry } from "@web/core/registry";
import { session } from "@web/session";

// saving reloads the page; 19.0's tours must be told (18.0's know no such key and refuse it)
const UNLOADS = session.server_version_info[0] < 19 ? {} : { expectUnloadPage: true };

// README ▸ Security model ▸ Masking, and Configuration: an administrator adds header names the sync log masks and
// sets how long refused-request counts are kept, on Odoo's settings page (the Python test, TestSettingsTour,
// then writes a line with such a header).

registry.category("web_tour.tours").add("invoice_bridge_tour_settings", {
    steps: () => [
        {
            content: "The Invoice Bridge block of the Invoicing settings",
            trigger: ".o_form_view .settings h2:contains('Invoice Bridge')",
        },
        {
            content: "More masked headers",
            trigger: ".o_field_widget[name='ib_log_masked_headers'] input",
            run: "edit X-Tenant, X-Customer-Ref",
        },
        {
            content: "Keep refused-request counts for 30 days",
            trigger: ".o_field_widget[name='ib_refused_retention_days'] input",
            run: "edit 30",
        },
        {
            content: "Save",
            trigger: ".o_control_panel .o_form_button_save, .o_form_view .o_form_button_save",
            run: "click",
            ...UNLOADS,
        },
        {
            content: "Saved: the page is back, its buttons enabled",
            trigger: ".o_control_panel .o_form_button_save:enabled",
        },
        {
            // the Python test reads what was saved
            content: "...and the page is there again",
            trigger: ".o_form_view .o_field_widget[name='ib_log_masked_headers'] input",
        },
    ],
});
