"""The invoice import REST API's routes (seed 002's paths, headers and bodies): authenticate → parse → service →
respond, each step in ``import_api_base.py``, the business rules in ``models/import_api_service.py``."""
from odoo import SUPERUSER_ID, http, release
from odoo.http import request

from ..lib import import_api_fields as contract
from ..lib import import_api_messages as msg
from ..lib.import_api_openapi import build_openapi
from .import_api_base import ImportApiBase, json_response

#: what the answers of POST and PATCH carry of the invoice (its one serialisation, ``_ib_import_data``)
IMPORTED_KEYS = ("id", "invoice_no", "total_amount")
UPDATED_KEYS = ("id", "invoice_no", "status", "total_amount", "untaxed_amount", "tax_amount", "updated_at")


class ImportApi(ImportApiBase):

    @http.route("/api/sales/import/invoice/", type="http", auth="none", methods=["POST"], csrf=False,
                save_session=False, readonly=False)
    def import_invoice(self, **_kwargs):
        return self._serve(self._do_import)

    @http.route("/api/sales/update/invoice/", type="http", auth="none", methods=["PATCH"], csrf=False,
                save_session=False, readonly=False)
    def update_invoice(self, **_kwargs):
        return self._serve(self._do_update)

    @http.route("/api/sales/openapi.json", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False)
    def openapi(self, **_kwargs):
        env = request.env(user=SUPERUSER_ID)
        version = env["ir.module.module"].search([("name", "=", "invoice_bridge")]).latest_version or ""
        # the API's version is the addon's, the same on every Odoo series (Odoo stores it as 18.0.1.0.0, 19.0.1.0.0)
        version = version.removeprefix(f"{release.major_version}.")
        document = build_openapi(request.httprequest.host_url.rstrip("/"), version=version or None)
        return json_response(200, document)

    def _do_import(self, env, caller, body):
        payload = contract.parse_import(body)
        move = env["invoice_bridge.import.service"]._import_invoice(payload, caller.company, api_key=caller.key)
        return 201, {"success": True, "message": msg.MSG_IMPORTED, "data": move._ib_import_data(IMPORTED_KEYS)}, move

    def _do_update(self, env, caller, body):
        payload = contract.parse_update(body)
        move = env["invoice_bridge.import.service"]._update_invoice(payload, caller.company)
        return 200, {"success": True, "message": msg.MSG_UPDATED, "data": move._ib_import_data(UPDATED_KEYS)}, move
