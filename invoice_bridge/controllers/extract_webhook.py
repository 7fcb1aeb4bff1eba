import hmac

from odoo import http
from odoo.http import request


class IapExtractWebhook(http.Controller):
    """Generation 2 of the Extract API calls this URL when a document's result is ready.

    Thin by design (as account_peppol's webhook): it carries no data we trust, it only wakes the polling cron,
    which fetches the result through the authenticated API. The URL carries a token of this database (the
    setting ``invoice_bridge.extract_webhook_token``, given to the service with each document): any other
    caller gets 404 and wakes nothing.
    """

    @http.route("/invoice_bridge/iap_extract/webhook/<string:token>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def iap_extract_ready(self, token, **_kwargs):
        expected = request.env["account.move"].sudo()._ib_extract_webhook_token(create=False)
        if not (expected and hmac.compare_digest(token.encode(), expected.encode())):
            request.env["invoice_bridge.refused.request"].sudo()._count_refusal(
                request.httprequest.remote_addr, "/invoice_bridge/iap_extract/webhook/<token>", 404, "unknown token")
            return request.make_response("", status=404)
        request.env.ref("invoice_bridge.ir_cron_extract_poll").sudo()._trigger()
        return request.make_response("", status=204)
