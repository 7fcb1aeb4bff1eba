/** @odoo-module */
/**
 * Live feedback (#16.9): the server sends ``invoice_bridge/changed`` on the company's bus channel after the commit
 * of every sync-log line (``models/core_bus.py``). This service hands each notification to the views that
 * registered a listener; the form patch (``form_controller_patch.js``) reloads the record it shows.
 */
import { registry } from "@web/core/registry";

export const LIVE_NOTIFICATION = "invoice_bridge/changed";

/** Whether ``payload.records`` (``[[model, id], ...]``) names the record ``resModel``/``resId``. */
export function concerns(payload, resModel, resId) {
    return Boolean(resId) && (payload?.records || []).some(([model, id]) => model === resModel && id === resId);
}

export const invoiceBridgeLiveService = {
    dependencies: ["bus_service"],
    start(env, { bus_service }) {
        const listeners = new Set();
        bus_service.subscribe(LIVE_NOTIFICATION, (payload) => {
            for (const listener of [...listeners]) {
                listener(payload);
            }
        });
        bus_service.start();
        return {
            /** Register ``listener(payload)``; returns the function that removes it. */
            listen(listener) {
                listeners.add(listener);
                return () => listeners.delete(listener);
            },
        };
    },
};

registry.category("services").add("invoice_bridge_live", invoiceBridgeLiveService);
