"""The IAP Extract channel in the delivery engine: parse, get_results and validate calls as outbox messages.

A message's payload is the call's params as they are sent, without the account token and without the document:
both are added when the message is sent (the token is never stored, the document is the bill's attachment).
"""
import base64
import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import extract_client as extract
from ..lib.core_outcome import FAIL, RETRY, SUCCESS, Outcome

CALLS = [("parse", "Send the document"), ("get_results", "Fetch the results"), ("validate", "Send the final values")]
#: the channel's name on every screen
CHANNEL_LABEL = "Bill digitization (OCR)"


class InvoiceBridgeOutbox(models.Model):
    _inherit = "invoice_bridge.outbox"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    channel = fields.Selection(selection_add=[("iap_extract", CHANNEL_LABEL)], ondelete={"iap_extract": "cascade"})

    extract_call = fields.Selection(CALLS, "Extract call", readonly=True)

    # Override of the engine's extension point: "Digitization: send the document of BILL/2026/11/0001"
    def _channel_describe(self):
        mine = self.filtered(lambda m: m.channel == "iap_extract")
        described = super(InvoiceBridgeOutbox, self - mine)._channel_describe()
        calls = dict(CALLS)
        for msg in mine:
            call = calls.get(msg.extract_call, msg.extract_call or "")
            described[msg.id] = _("Digitization: %(call)s (%(bill)s)", call=call.lower(),
                                  bill=msg.res_name or _("several bills"))
        return described

    # Override of the engine's extension point: the service, not its URL
    def _channel_target_labels(self, targets):
        labels = super()._channel_target_labels(targets)
        for target in targets:
            if target.startswith("iap_extract:"):
                labels[target] = _("Odoo's digitization service (%s)", target.split(":", 1)[1])
        return labels

    # ---------------------------------------------------------------------------------------- queueing
    @api.model
    def _extract_client(self, company):
        company = company.sudo()
        if company.ib_extract_generation == "2":
            return extract.IapExtractClientV2(company.ib_extract_endpoint or extract.V2_DEFAULT_ENDPOINT)
        return extract.IapExtractClient(company.ib_extract_endpoint or extract.DEFAULT_ENDPOINT)

    @api.model
    def _extract_vals(self, company, client, call, params, move=None):
        return {
            "channel": "iap_extract",
            "company_id": company.id,
            "target": f"iap_extract:{client.endpoint}",
            "url": client.endpoint + client.routes[call],
            "payload": json.dumps(params),
            "extract_call": call,
            "res_model": move._name if move else False,
            "res_id": move.id if move else False,
            "partner_id": move.partner_id.id if move else False,
        }

    @api.model
    def _extract_queue_parses(self, moves):
        vals_list = []
        for move in moves:
            client = self._extract_client(move.company_id)
            vals_list.append(self._extract_vals(move.company_id, client, "parse",
                                                move._ib_extract_parse_params(client), move))
        return self._enqueue(vals_list, check_existing=False) if vals_list else self.browse()

    @api.model
    def _extract_queue_polls(self, moves):
        """One get_results message per endpoint for all of ``moves`` (per document for generation 2), unless
        a poll of that endpoint is already waiting to be sent."""
        vals_list = []
        for company, company_moves in moves.grouped("company_id").items():
            client = self._extract_client(company)
            waiting = [("channel", "=", "iap_extract"), ("extract_call", "=", "get_results"),
                       ("company_id", "=", company.id), ("target", "=", f"iap_extract:{client.endpoint}"),
                       ("state", "in", ("pending", "in_progress"))]
            if self.sudo().search_count(waiting, limit=1):
                continue
            params_list = client.get_results_params([m._ib_extract_key() for m in company_moves])
            # a call per bill (generation 2, or a single bill) is linked to its bill; a batched one to none
            linked = company_moves if len(params_list) == len(company_moves) else [None] * len(params_list)
            for move, params in zip(linked, params_list, strict=True):
                vals_list.append(self._extract_vals(company, client, "get_results", params, move))
        return self._enqueue(vals_list, check_existing=False) if vals_list else self.browse()

    @api.model
    def _extract_queue_validations(self, moves):
        vals_list = []
        for move in moves:
            client = self._extract_client(move.company_id)
            values = extract.validation_values(move._ib_extract_final_values())
            vals_list.append(self._extract_vals(move.company_id, client, "validate",
                                                client.validate_params(move._ib_extract_key(), values), move))
        return self._enqueue(vals_list, check_existing=False) if vals_list else self.browse()

    @api.model
    def _extract_token(self, company):
        company = company.sudo()
        if company.ib_extract_test_mode:
            return extract.INTEGRATION_TOKEN
        if company.ib_extract_token:
            return company.ib_extract_token
        return self.env["iap.account"].with_company(company).get("invoice_ocr").sudo().account_token

    def _extract_move(self):
        self.ensure_one()
        if self.res_model != "account.move" or not self.res_id:
            return self.env["account.move"]
        return self.env["account.move"].sudo().browse(self.res_id).exists()

    # ------------------------------------------------------------------------------- extension points
    # Override of the engine's extension point: the token and the document are added when the call is sent
    def _channel_requests(self):
        mine = self.filtered(lambda m: m.channel == "iap_extract")
        prepared = super(InvoiceBridgeOutbox, self - mine)._channel_requests()
        for msg in mine:
            prepared[msg.id] = msg._extract_request()
        return prepared

    def _extract_request(self):
        self.ensure_one()
        client, call = self._extract_client(self.company_id), self.extract_call
        params = json.loads(self.payload)
        token = None
        if call == "parse" or (call == "get_results" and isinstance(client, extract.IapExtractClientV2)):
            try:
                token = self._extract_token(self.company_id)
            except UserError as exc:
                return Outcome(FAIL, str(exc), hint=_("Set the IAP account token in Settings ▸ Invoice Bridge."))
        if call == "parse":
            move = self._extract_move()
            attachment = move and move._ib_extract_attachment()
            if not attachment:
                return Outcome(FAIL, _("The bill or its document was deleted."))
            params = dict(params, documents=[base64.b64encode(attachment.raw).decode()])
        return client.request(call, client.with_token(call, params, token))

    # Override of the engine's extension point: the service answers in status codes, not HTTP statuses
    def _channel_interpret(self, exchange):
        if self.channel != "iap_extract":
            return super()._channel_interpret(exchange)
        if exchange.error or not 200 <= exchange.status < 300:
            return super()._channel_interpret(exchange)
        client, call = self._extract_client(self.company_id), self.extract_call
        try:
            result = client.read_answer(call, exchange)
        except extract.IapExtractUnavailable as exc:
            return Outcome(RETRY, str(exc), hint=_("The service answered something unexpected; retried."))
        code = result.get("status_code")
        if call == "get_results":
            answers = client.answers_of(json.loads(self.payload), result)
            ready = sum(1 for a in answers.values() if a.get("status_code") == extract.SUCCESS)
            message = _("Results: %(ready)s of %(count)s document(s) ready", ready=ready, count=len(answers))
            return Outcome(SUCCESS, message, data=answers)
        if code == extract.MAINTENANCE:
            return Outcome(RETRY, _("The service is under maintenance; retried."), data=result)
        if call == "parse":
            if code == extract.SUCCESS:
                return Outcome(SUCCESS, _("Sent; waiting for the results."), data=result)
            if code == extract.NOT_ENOUGH_CREDIT:
                return Outcome(FAIL, _("Not enough credit: buy credits, then digitize."), data=result,
                               hint=_("Buy IAP credits, then press Digitize on the bill again."))
            if code == extract.UNSUPPORTED_FORMAT:
                return Outcome(FAIL, _("This file format is not supported."), data=result)
            return Outcome(FAIL, result.get("status_msg") or _("An error occurred."), data=result)
        if code == extract.SUCCESS:
            return Outcome(SUCCESS, result.get("status_msg") or _("Validated."), data=result)
        return Outcome(FAIL, result.get("status_msg") or _("The validation was refused."), data=result)

    # Override of the engine's extension point: what each answer means for the bills
    def _channel_after_attempts(self, attempts):
        mine = self.filtered(lambda m: m.channel == "iap_extract")
        result = super(InvoiceBridgeOutbox, self - mine)._channel_after_attempts(attempts)
        sent = False
        for msg in mine:
            attempt = attempts[msg.id]
            outcome, move = attempt.outcome, msg._extract_move()
            if msg.extract_call == "parse" and move:
                if outcome.data and outcome.result != RETRY:
                    move._ib_extract_parsed(outcome.data)
                    sent |= outcome.result == SUCCESS
                elif attempt.given_up:
                    move.write({"ib_extract_state": "error_status", "ib_extract_status_msg": outcome.message})
                else:
                    move.ib_extract_status_msg = _("The service could not be reached (%s); retried.",
                                                   outcome.message)
            elif msg.extract_call == "get_results" and outcome.result == SUCCESS:
                msg._extract_moves_of(outcome.data)._ib_extract_answered(outcome.data)
            elif msg.extract_call == "validate" and move and outcome.result != RETRY:
                move.ib_extract_validation = "validated" if outcome.result == SUCCESS else "error"
        if sent:
            self.env.ref("invoice_bridge.ir_cron_extract_poll").sudo()._trigger()
        return result

    def _extract_moves_of(self, answers):
        keys = list(answers)
        field = "ib_extract_document_token" if any(isinstance(k, str) for k in keys) else "ib_extract_document_id"
        return self.env["account.move"].sudo().search([("company_id", "=", self.company_id.id), (field, "in", keys),
                                                        ("state", "=", "draft")])


class InvoiceBridgeSyncLog(models.Model):
    _inherit = "invoice_bridge.sync.log"  # pylint: disable=consider-merging-classes-inherited  # a file per channel

    channel = fields.Selection(selection_add=[("iap_extract", CHANNEL_LABEL)], ondelete={"iap_extract": "cascade"})

    # Override of the sync log's extension point: the companies' tokens, Odoo's IAP account tokens and the token of
    # this database's callback URL (an error answer may echo the webhook_url it was sent)
    def _ib_known_secrets(self):
        self.env["res.company"].flush_model(["ib_extract_token"])  # a token saved in this transaction is masked too
        self.env["iap.account"].flush_model(["account_token"])
        self.env["ir.config_parameter"].flush_model(["key", "value"])
        self.env.cr.execute("""SELECT ib_extract_token FROM res_company WHERE ib_extract_token IS NOT NULL
                               UNION SELECT account_token FROM iap_account WHERE account_token IS NOT NULL
                               UNION SELECT value FROM ir_config_parameter
                                     WHERE key = 'invoice_bridge.extract_webhook_token'""")
        mine = [row[0] for row in self.env.cr.fetchall()]  # before super(): its statements reuse the cursor
        return (*super()._ib_known_secrets(), *mine)
