/** @odoo-module */
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";

// README ▸ Security model ▸ API keys (#14 item 1), with Odoo's own buttons: a manager opens a key, presses
// Generate key, confirms the password (check_identity), sees the key once, closes the dialog (the form then shows
// only its hint), the key shown works on the import API, and once revoked it is refused.
async function expectStatus(key, status) {
    const response = await fetch("/api/sales/invoices/", { headers: { "X-API-KEY": key } });
    if (response.status !== status) {
        throw new Error(`GET /api/sales/invoices/ with the key shown: ${response.status}, expected ${status}`);
    }
}

registry.category("web_tour.tours").add("invoice_bridge_tour_api_key", {
    steps: () => {
        let shown = "";
        return [
            {
                content: "Generate the key",
                trigger: ".o_form_view .o_form_statusbar button[name='action_generate_key']:contains('Generate key')",
                run: "click",
            },
            {
                content: "Odoo asks for the password again",
                trigger: ".modal .o_field_widget[name='password'] input",
                run: `edit ${user.login}`,
            },
            {
                content: "Confirm the password",
                trigger: ".modal button#password_confirm",
                run: "click",
            },
            {
                content: "The key, shown once, with the warning",
                trigger: ".modal:contains('shown only once') [name='key'] span:contains('ibk_')",
                run() {
                    shown = this.anchor.textContent.trim();
                },
            },
            {
                content: "Done",
                trigger: ".modal:contains('shown only once') .modal-footer button:contains('Done')",
                run: "click",
            },
            {
                content: "The dialog is gone; the form shows the key's hint only",
                trigger: "body:not(:has(.modal)) .o_form_view .o_field_widget[name='key_hint']:contains('ibk_')",
                run() {
                    const hint = this.anchor.textContent.trim().replace("…", "");
                    if (!shown.startsWith(hint) || shown.length <= hint.length + 20) {
                        throw new Error(`the hint ${hint} is not the start of the key shown (${shown.length} chars)`);
                    }
                    if (document.body.textContent.includes(shown)) {
                        throw new Error("the key is still on the page once the dialog is closed");
                    }
                },
            },
            {
                content: "The key shown is the one that works",
                trigger: ".o_form_view",
                async run() {
                    await expectStatus(shown, 200);
                },
            },
            {
                content: "Revoke",
                trigger: ".o_form_view .o_form_statusbar button[name='action_revoke']",
                run: "click",
            },
            {
                content: "Confirm the revocation",
                trigger: ".modal:contains('will be refused from now on') .modal-footer button.btn-primary",
                run: "click",
            },
            {
                content: "The key is revoked",
                trigger: ".o_form_view .ribbon:contains('Revoked')",
                async run() {
                    await expectStatus(shown, 401);
                },
            },
        ];
    },
});
