from odoo import http
from odoo.http import request

from ..lib.easybill_client import WEBHOOK_PATH as ROUTE


class EasybillWebhook(http.Controller):
    """easybill calls this URL when a document changes (the webhook registered from the settings).

    Thin by design (as account_peppol's webhook): easybill documents no signature, so the body is never read. A
    call only wakes the back-sync of the URL's company, which reads the documents back through the authenticated
    API. The URL carries a token derived from the database secret (see easybill_sync.py): any other caller gets
    404, is counted as a refused request and wakes nothing.
    """

    @http.route(f"{ROUTE}/<int:company_id>/<string:token>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def easybill_changed(self, company_id, token, **_kwargs):
        company = request.env["res.company"].sudo().browse(company_id).exists()
        if not (company and company.ib_easybill_enabled and company._ib_easybill_check_webhook_token(token)):
            request.env["invoice_bridge.refused.request"].sudo()._count_refusal(
                request.httprequest.remote_addr, f"{ROUTE}/<company>/<token>", 404, "unknown token")
            return request.make_response("", status=404)
        woken = request.env["invoice_bridge.easybill.export"].sudo().with_company(company)._easybill_webhook_wake(
            company)
        request.env["invoice_bridge.sync.log"].sudo()._log({
            "channel": "easybill", "direction": "inbound", "state": "success", "company_id": company.id,
            "endpoint": f"{ROUTE}/{company.id}/<token>", "http_method": "POST", "http_status": 204,
            "message": "easybill webhook: reading back the edited invoices" if woken else
            "easybill webhook: no export to read back"})
        return request.make_response("", status=204)
