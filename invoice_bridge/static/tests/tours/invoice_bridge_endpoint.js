/** @odoo-module */
import { registry } from "@web/core/registry";

// #16.4: an endpoint with waiting messages is archived, not deleted
registry.category("web_tour.tours").add("invoice_bridge_tour_endpoint", {
    steps: () => [
        {
            content: "The endpoint: one message waiting",
            trigger: ".o_form_view button[name='action_open_messages']:contains('1'):contains('Waiting')",
        },
        {
            content: "Open the gear menu",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "Delete",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains('Delete')",
            run: "click",
        },
        {
            content: "Confirm the deletion",
            trigger: ".modal .modal-footer button.btn-primary:contains('Delete')",
            run: "click",
        },
        {
            content: "Refused, with what to do instead",
            trigger: ".modal:contains('Paused ERP still has 1 message(s) waiting'):contains('Archive it instead')",
        },
        {
            content: "Close the message",
            trigger: ".modal:contains('Archive it instead') .modal-footer button",
            run: "click",
        },
        {
            content: "Open the gear menu again",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "Archive",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains('Archive')",
            run: "click",
        },
        {
            content: "Confirm archiving",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "A notification says the waiting message is kept",
            trigger: ".o_notification:contains('Archived. 1 waiting message(s) are kept')",
        },
        {
            content: "The form says it is archived and what happens on unarchive",
            trigger: ".o_form_view .ribbon:contains('Archived')",
        },
    ],
});
