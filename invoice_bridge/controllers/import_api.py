"""The invoice import REST API's routes (seed 002's paths, headers and bodies): authenticate → parse → service →
respond, each step in ``import_api_base.py``, the business rules in ``models/import_api_service.py``."""
import json

from odoo import SUPERUSER_ID, http, models, release
from odoo.http import request

from ..lib import import_api_fields as contract
from ..lib import import_api_listing as listing
from ..lib import import_api_messages as msg
from ..lib.import_api_openapi import build_openapi
from .import_api_base import ImportApiBase, json_response, refusal_of

#: what the answers of POST, PATCH and GET carry of the invoice (its one serialisation, ``_ib_import_data``):
#: GET answers what PATCH does, then the accounting state, Odoo's number, the currency and the lines
IMPORTED_KEYS = ("id", "invoice_no", "total_amount")
UPDATED_KEYS = ("id", "invoice_no", "status", "total_amount", "untaxed_amount", "tax_amount", "updated_at")
READ_KEYS = (*UPDATED_KEYS, "state", "number", "currency", "items")


class ImportApi(ImportApiBase):

    @http.route("/api/sales/import/invoice/", type="http", auth="none", methods=["POST"], csrf=False,
                save_session=False, readonly=False)
    def import_invoice(self, **_kwargs):
        return self._serve(self._do_import)

    @http.route("/api/sales/import/invoices/", type="http", auth="none", methods=["POST"], csrf=False,
                save_session=False, readonly=False)
    def import_invoices(self, **_kwargs):
        return self._serve(self._do_import_batch)

    @http.route("/api/sales/update/invoice/", type="http", auth="none", methods=["PATCH"], csrf=False,
                save_session=False, readonly=False)
    def update_invoice(self, **_kwargs):
        return self._serve(self._do_update, idempotent=True)

    @http.route("/api/sales/invoice/<path:invoice_no>/", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False, readonly=False)
    def read_invoice(self, invoice_no, **_kwargs):
        request._ib_reference = invoice_no  # the log line is found by the number, as for POST and PATCH
        return self._serve_read(lambda env, caller: self._do_read(env, caller, invoice_no))

    @http.route("/api/sales/invoices/", type="http", auth="none", methods=["GET"], csrf=False, save_session=False,
                readonly=False)
    def list_invoices(self, **_kwargs):
        return self._serve_read(self._do_list)

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

    def _do_import_batch(self, env, caller, body):
        """One result per invoice, in order, each the status and body the single route would answer."""
        size = env["invoice_bridge.config"].sudo()._get("import_batch_size", contract.DEFAULT_BATCH_SIZE)
        items = contract.parse_batch(body, max(1, min(size, contract.MAX_BATCH_SIZE)))
        results = env["invoice_bridge.import.service"]._import_invoices(items, caller.company, api_key=caller.key)
        answers = []
        for result in results:
            if isinstance(result, models.BaseModel):
                answers.append({"status": 201, "body": {"success": True, "message": msg.MSG_IMPORTED,
                                                        "data": result._ib_import_data(IMPORTED_KEYS)}})
            else:
                refusal = refusal_of(result)
                if refusal is None:
                    raise result
                answers.append({"status": refusal.status, "body": json.loads(refusal.body)})
        created = sum(answer["status"] == 201 for answer in answers)
        return 200, {"success": created == len(answers), "message": msg.MSG_BATCH % {
            "created": created, "count": len(answers)}, "results": answers}, env["account.move"]

    def _do_read(self, env, caller, invoice_no):
        move = env["invoice_bridge.import.service"]._read_invoice(invoice_no, caller.company)
        return 200, {"success": True, "message": msg.MSG_FOUND, "data": move._ib_import_data(READ_KEYS)}, move

    def _do_list(self, env, caller):
        query = listing.parse_list_query(request.httprequest.args.to_dict(flat=False))
        page, position, has_more = env["invoice_bridge.import.service"]._list_invoices(query, caller.company,
                                                                                        READ_KEYS)
        cursor = listing.encode_cursor(*position, query) if position else request.httprequest.args.get("cursor")
        return 200, {"success": True, "message": msg.MSG_LISTED, "data": page, "next_cursor": cursor or None,
                     "has_more": has_more}, env["account.move"]

    def _do_update(self, env, caller, body):
        payload = contract.parse_update(body)
        move = env["invoice_bridge.import.service"]._update_invoice(payload, caller.company)
        return 200, {"success": True, "message": msg.MSG_UPDATED, "data": move._ib_import_data(UPDATED_KEYS)}, move
