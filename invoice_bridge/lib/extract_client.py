"""Client of Odoo's IAP Extract API, generation 1 (version 120) and 2, and the shapes it reads and writes.

* :class:`IapExtractClient` speaks JSON-RPC 2.0 to ``/iap/invoice_extract/{parse,get_results,validate}``. It
  builds each call's :class:`~.core_transport.Request` (:meth:`~IapExtractClient.request`) and reads its answer
  (:meth:`~IapExtractClient.read_answer`), so the delivery engine sends it; :meth:`~IapExtractClient.call` does both
  at once. Errors come in ``result.status_code`` (not JSON-RPC errors); transport failures and answers that are
  not the protocol become :class:`IapExtractUnavailable` (try again later).
* :func:`read_results` turns one document's ``results[0]`` (feature → feature_result) into a plain "pivot" dict.
* :func:`validation_values` builds the ``values`` of ``validate`` from a bill's final, plain values.
No ORM here: the models orchestrate.
"""
import json
import uuid
from datetime import datetime

from .core_transport import Request, Transport

DEFAULT_ENDPOINT = "https://iap-extract.odoo.com"
#: seconds before an IAP Extract call is abandoned (parse uploads a whole document)
DEFAULT_TIMEOUT = 30
VERSION = 120
#: the documented test token: nothing is analysed or billed, a hard-coded result is answered
INTEGRATION_TOKEN = "integration_token"

SUCCESS, NOT_READY, ERROR, NOT_ENOUGH_CREDIT, UNSUPPORTED_FORMAT, MAINTENANCE, WRONG_VALIDATION_FORMAT = (
    0, 1, 2, 3, 6, 9, 12)
RETRY_LATER = (NOT_READY, MAINTENANCE)

ROUTES = {
    "parse": "/iap/invoice_extract/parse",
    "get_results": "/iap/invoice_extract/get_results",
    "validate": "/iap/invoice_extract/validate",
}


class IapExtractUnavailable(Exception):
    """The service could not be reached or answered something that is not its protocol: try again later."""

    def __init__(self, message, exchange=None):
        super().__init__(message)
        self.exchange = exchange


class IapExtractClient:
    """Generation 1: integer document ids, ``status_code``s, batched ``get_results``."""

    routes = ROUTES

    def __init__(self, endpoint=DEFAULT_ENDPOINT, transport=None, timeout=DEFAULT_TIMEOUT):
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.transport = transport or Transport()
        self.timeout = timeout
        #: the last exchange, for the sync log
        self.last_exchange = None

    def request(self, route, params):
        """The JSON-RPC request of ``route`` with ``params``; the log keeps :func:`log_request_summary` of it."""
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": uuid.uuid4().hex})
        return Request("POST", self.endpoint + self.routes[route], body.encode(),
                       {"Content-Type": "application/json"}, timeout=self.timeout,
                       secrets=(params.get("account_token") or "",), log_body=log_request_summary(route, params))

    def call(self, route, params):
        exchange = self.last_exchange = self.transport.send(self.request(route, params))
        return self.read_answer(route, exchange)

    def read_answer(self, route, exchange):  # noqa: ARG002 - generation 2 reads each route's statuses
        """The ``result`` of an answer (``IapExtractUnavailable`` when it is not the protocol's)."""
        if exchange.error:
            raise IapExtractUnavailable(exchange.summary or exchange.error, exchange)
        if exchange.status != 200:
            raise IapExtractUnavailable(f"HTTP {exchange.status}", exchange)
        try:
            answer = json.loads(exchange.body)
        except ValueError as exc:
            raise IapExtractUnavailable(f"not JSON: {exc}", exchange) from exc
        if "error" in answer:  # a JSON-RPC level error (the service itself does not use them)
            raise IapExtractUnavailable(str(answer["error"].get("message", answer["error"]))[:200], exchange)
        if not isinstance(answer.get("result"), dict):
            raise IapExtractUnavailable("no result in the answer", exchange)
        return answer["result"]

    # what each call sends: params without the token (added by :meth:`with_token`) and without the document
    def parse_params(self, user_infos, webhook_url=None, dbuuid=None):  # noqa: ARG002 - generation 2 only
        return {"version": VERSION, "documents": [], "user_infos": user_infos}

    def get_results_params(self, document_ids):
        """The params of the polling calls: ONE call for every document."""
        return [{"version": VERSION, "documents_ids": [int(i) for i in document_ids]}]

    def validate_params(self, document_id, values):
        return {"document_id": int(document_id), "values": values}

    def with_token(self, route, params, account_token):
        """``params`` with the account token where the route takes it (generation 1: parse only)."""
        if route == "parse":
            return {"account_token": account_token, **params}
        return params

    @staticmethod
    def answers_of(params, result):
        """The answer of the get_results call made with ``params``, as ``{document key: {"status_code",
        "status_msg", "results"}}``."""
        return {int(key): value for key, value in result.items()}  # the service's keys are strings

    def parse(self, account_token, document_b64, user_infos, webhook_url=None, dbuuid=None):
        params = dict(self.parse_params(user_infos, webhook_url, dbuuid), documents=[document_b64])
        return self.call("parse", self.with_token("parse", params, account_token))

    def get_results(self, document_ids, account_token=None):
        """``{document key: {"status_code", "status_msg", "results"}}`` for every document."""
        answers = {}
        for params in self.get_results_params(document_ids):
            answers.update(self.answers_of(params, self.call(
                "get_results", self.with_token("get_results", params, account_token))))
        return answers

    def validate(self, document_id, values):
        return self.call("validate", self.validate_params(document_id, values))


#: generation 2 (public facts): another host, string statuses, a document token, one document per poll
V2_DEFAULT_ENDPOINT = "https://extract.api.odoo.com"
V2_VERSION = 123
V2_ROUTES = {
    "parse": "/api/extract/invoice/2/parse",
    "get_results": "/api/extract/invoice/2/get_result",
    "validate": "/api/extract/invoice/2/validate",
}
#: generation 2 statuses mapped onto the generation 1 codes the models handle
V2_STATUS_CODES = {
    "success": SUCCESS, "processing": NOT_READY, "error_maintenance": MAINTENANCE,
    "error_no_credit": NOT_ENOUGH_CREDIT, "error_unsupported_format": UNSUPPORTED_FORMAT,
    "error_invalid_validation_format": WRONG_VALIDATION_FORMAT,
}


def _v2(result):
    status = result.get("status") or "error_internal"
    return dict(result, status_code=V2_STATUS_CODES.get(status, ERROR),
                status_msg=result.get("status_msg") or status.replace("_", " "))


class IapExtractClientV2(IapExtractClient):
    """Generation 2: ``document_token``s, string statuses (normalised to ``status_code``), a ``webhook_url``
    the service calls when a result is ready, and one ``get_result`` call per document (its API requires it)."""

    routes = V2_ROUTES

    def parse_params(self, user_infos, webhook_url=None, dbuuid=None):
        params = {"version": V2_VERSION, "documents": [], "user_infos": user_infos}
        if webhook_url:
            params["webhook_url"] = webhook_url
        if dbuuid:
            params["dbuuid"] = dbuuid
        return params

    def get_results_params(self, document_ids):
        """One call per document: the API requires it."""
        return [{"version": V2_VERSION, "document_token": token} for token in document_ids]

    def validate_params(self, document_id, values):
        return {"document_token": document_id, "values": values}

    def with_token(self, route, params, account_token):
        if route == "parse":
            return {"account_token": account_token, **params}
        if route == "get_results" and account_token:
            return {**params, "account_token": account_token}
        return params

    @staticmethod
    def answers_of(params, result):
        return {params["document_token"]: result}

    def read_answer(self, route, exchange):
        result = _v2(super().read_answer(route, exchange))
        if route == "parse":
            result["document_id"] = result.get("document_token")
        return result



def log_request_summary(route, params):
    """What the sync log keeps of a request: never the document's base64 content, never the token."""
    if route == "parse":
        docs = params.get("documents") or []
        return json.dumps({"version": params.get("version"), "documents": [f"<{len(d)} base64 characters>"
                                                                          for d in docs],
                           "user_infos": params.get("user_infos")})
    return json.dumps({k: v for k, v in params.items() if k != "account_token"})


# ------------------------------------------------------------------------------------------ reading results
def _selected(feature):
    if not isinstance(feature, dict):
        return None
    candidate = feature.get("selected_value")
    return candidate.get("content") if isinstance(candidate, dict) else None


def _selected_list(feature):
    if not isinstance(feature, dict):
        return []
    candidates = feature.get("selected_values") or []
    return [c.get("content") for c in candidates if isinstance(c, dict) and c.get("content") is not None]


def _taxes(feature):
    """A taxes feature as a list of rates: seed 001's ``selected_value`` (every line feature is a feature_result
    with one selected candidate, line ``taxes`` included) or a ``selected_values`` list (``global_taxes``, and
    line taxes in the service's newer answers)."""
    if isinstance(feature, dict) and "selected_values" in feature:
        contents = _selected_list(feature)
    else:
        contents = [_selected(feature)]
    return [t for t in (_float(v) for v in contents) if t is not None]


def _date(value):
    if not value:
        return None
    try:
        return datetime.strptime(str(value)[:10], "%Y-%m-%d").date()
    except ValueError:
        return None


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_results(results):
    """One document's ``results[0]`` → ``{"supplier", "vat", "country", "currency", "date", "due_date",
    "invoice_id", "subtotal", "total", "global_taxes" [percent], "global_taxes_amount", "bank" {bic, name,
    country_code, city, verified_bic} or None, "iban", "lines": [{description, quantity, unit_price, subtotal,
    total, discount, taxes [percent], product, unit}]}``. Missing features are None (or empty lists)."""
    features = results[0] if isinstance(results, list) and results else (results or {})
    bank = None
    swift = _selected(features.get("SWIFT_code"))
    if swift:
        try:
            bank = json.loads(swift) if isinstance(swift, str) else dict(swift)
        except ValueError:
            bank = None
    lines = []
    for line in features.get("invoice_lines") or []:
        lines.append({
            "description": _selected(line.get("description")) or "",
            "quantity": _float(_selected(line.get("quantity"))),
            "unit_price": _float(_selected(line.get("unit_price"))),
            "subtotal": _float(_selected(line.get("subtotal"))),
            "total": _float(_selected(line.get("total"))),
            "discount": _float(_selected(line.get("discount"))) or 0.0,
            "taxes": _taxes(line.get("taxes")),
            "product": _selected(line.get("product")) or "",
            "unit": _selected(line.get("unit")) or "",
        })
    return {
        "supplier": _selected(features.get("supplier")),
        "vat": _selected(features.get("VAT_Number")),
        "country": _selected(features.get("country")),
        "currency": _selected(features.get("currency")),
        "date": _date(_selected(features.get("date"))),
        "due_date": _date(_selected(features.get("due_date"))),
        "invoice_id": _selected(features.get("invoice_id")),
        "subtotal": _float(_selected(features.get("subtotal"))),
        "total": _float(_selected(features.get("total"))),
        "global_taxes": _taxes(features.get("global_taxes")),
        "global_taxes_amount": _float(_selected(features.get("global_taxes_amount"))),
        "bank": bank,
        "iban": _selected(features.get("iban")),
        "lines": lines,
    }


# ----------------------------------------------------------------------------------------------- validate
def validation_values(bill):
    """``values`` for ``validate`` from a posted bill's final plain values (every feature at once).

    ``bill``: {"supplier", "vat", "country", "currency", "date", "due_date", "invoice_id", "subtotal", "total",
    "global_taxes_amount", "taxes": [{"base", "amount", "type", "price_include"}], "lines": [{"description",
    "quantity", "unit_price", "product", "taxes": [{"amount", "type", "price_include"}], "subtotal", "total"}],
    "merged_lines": bool}.

    ``global_taxes`` in seed 001's terms: ``amount`` is what the tax applies to (the base), ``tax_amount`` the
    tax and ``tax_amount_type`` whether that is a percentage or a fixed value. One consistent form: a tax of rate
    ``amount`` (Odoo's ``account.tax.amount``) of type percent is sent as its base with the rate, "percent" (the
    terms in which the service extracts ``global_taxes``: percentages); a fixed tax as its base with the tax
    amount, "fixed".
    """
    def content(value):
        return {"content": "" if value is None or value is False else value}

    def iso(value):
        return value.isoformat() if hasattr(value, "isoformat") else (value or "")

    return {
        "merged_lines": bool(bill.get("merged_lines")),
        "supplier": content(bill.get("supplier")),
        "VAT_Number": content(bill.get("vat")),
        "country": content(bill.get("country")),
        "currency": content(bill.get("currency")),
        "date": content(iso(bill.get("date"))),
        "due_date": content(iso(bill.get("due_date"))),
        "invoice_id": content(bill.get("invoice_id")),
        "subtotal": content(float(bill.get("subtotal") or 0.0)),
        "total": content(float(bill.get("total") or 0.0)),
        "global_taxes_amount": content(float(bill.get("global_taxes_amount") or 0.0)),
        "global_taxes": {"content": [{
            "amount": float(tax["base"]), "tax_amount": float(tax["amount"]),
            "tax_amount_type": tax["type"], "tax_price_include": bool(tax["price_include"]),
        } for tax in bill.get("taxes") or []]},
        "invoice_lines": {"lines": [{
            "description": line.get("description") or "",
            "quantity": float(line.get("quantity") or 0.0),
            "unit_price": float(line.get("unit_price") or 0.0),
            "product": line.get("product") or "",
            "taxes_amount": float(line.get("taxes_amount") or 0.0),
            "taxes": [{"amount": float(t["amount"]), "type": t["type"], "price_include": bool(t["price_include"])}
                      for t in line.get("taxes") or []],
            "subtotal": float(line.get("subtotal") or 0.0),
            "total": float(line.get("total") or 0.0),
        } for line in bill.get("lines") or []]},
    }
