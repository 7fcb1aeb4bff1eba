from odoo import http
from odoo.http import request


class IapExtractWebhook(http.Controller):
    """Generation 2 of the Extract API calls this URL when a document's result is ready.

    Thin by design (as account_peppol's webhook): it carries no data we trust, it only wakes the polling cron,
    which fetches the result through the authenticated API.
    """

    @http.route(["/invoice_bridge/iap_extract/webhook", "/invoice_bridge/iap_extract/webhook/<string:token>"],
                type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def iap_extract_ready(self, token=None, **_kwargs):
        request.env.ref("invoice_bridge.ir_cron_extract_poll").sudo()._trigger()
        return request.make_response("", status=204)
