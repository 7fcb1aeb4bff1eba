/** @odoo-module */
/**
 * An open form hears what the bridge records about its record: a delivery landing, a digitization result, a
 * correction from the sender. Without unsaved changes the form reloads and says what happened; with unsaved
 * changes nothing is reloaded (nothing typed is lost) and the notification says how to see it.
 */
import { useEffect } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { FormController } from "@web/views/form/form_controller";
import { concerns } from "./live_service";

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        // absent where the service is not started (another addon's unit tests): the form is then left alone
        const live = this.env.services.invoice_bridge_live;
        if (live) {
            useEffect(() => live.listen((payload) => this.ibOnLiveChange(payload)), () => []);
        }
    },

    async ibOnLiveChange(payload) {
        const record = this.model.root;
        if (!record || !concerns(payload, record.resModel, record.resId)) {
            return;
        }
        const notification = this.env.services.notification;
        const type = payload.level || "info";
        if (await record.isDirty()) {
            notification.add(_t("Save or discard your changes to see it."), { title: payload.message, type });
            return;
        }
        await record.load();  // through the model's mutex: after a running button action, never dropping its reload
        notification.add(payload.message, { type });
    },
});
