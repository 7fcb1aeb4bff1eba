/** @odoo-module */
import { registry } from "@web/core/registry";

// #17 items 2 and 3: an administrator gives an endpoint extra headers and a payload version, is refused a
// credential as a header, and rotates the signing secret
registry.category("web_tour.tours").add("invoice_bridge_tour_endpoint_rotation", {
    steps: () => [
        {
            content: "A credential as an extra header",
            trigger: ".o_form_view .o_field_widget[name='static_headers'] textarea",
            run: "edit X-Api-Token: abc",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Refused, with why",
            trigger: ".modal:contains('X-Api-Token looks like a credential')",
        },
        {
            content: "Close the message",
            trigger: ".modal:contains('looks like a credential') .modal-footer button",
            run: "click",
        },
        {
            content: "A non-secret header instead",
            trigger: ".o_form_view .o_field_widget[name='static_headers'] textarea",
            run: "edit X-Tenant: acme",
        },
        {
            content: "The Standard Webhooks payload structure",
            trigger: ".o_form_view .o_field_widget[name='payload_version'] input[data-value='2']",
            run: "click",
        },
        {
            content: "Rotate the secret (the button saves the form first)",
            trigger: ".o_form_view .o_form_statusbar button[name='action_rotate_secret']",
            run: "click",
        },
        {
            content: "The confirmation names the rotation window",
            trigger: ".modal:contains('rotation window') .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The chatter says until when both secrets sign",
            trigger: ".o-mail-Message:contains('Signing secret rotated. Until'):contains('UTC')",
        },
    ],
});
