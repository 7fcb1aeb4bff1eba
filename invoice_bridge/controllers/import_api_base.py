"""What every route of the import API shares: who calls, how a refusal is answered, and the sync-log line.

Routes use ``auth='none'`` (read-only cursor by default: the writing ones say ``readonly=False``); the API checks
its own credentials so that every refusal is the seed's JSON (Odoo's ``auth='bearer'`` would answer with its own
401 body). A route runs the same four steps: authenticate → parse → service → respond. Every exception a step
raises becomes an answer through ONE table (:data:`ERRORS`). Every request, accepted or refused, writes one
inbound sync-log line; refused ones through a separate cursor, since the request's transaction is rolled back.
"""
import hashlib
import json
import logging
import random
import re
import time

import psycopg2

from odoo import SUPERUSER_ID, http, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from odoo.addons.base.models.res_users import INDEX_SIZE as BEARER_INDEX_SIZE

from ..lib import import_api_listing as listing
from ..lib import import_api_messages as msg
from ..lib.import_api_fields import DEFAULT_MAX_BODY_BYTES
from ..models.import_api_service import ImportConflict, ImportNotFound, ImportNotInReview, ImportRetry
from .core_http import BodyTooLarge, read_body

_logger = logging.getLogger(__name__)

#: attempts of one request when concurrent imports create or change the records it needs (ImportRetry, or a
#: serialization failure): each round lets at least one of the concurrent requests through
MAX_ATTEMPTS = 10
#: the longest random pause between two attempts (seconds)
MAX_PAUSE = 2.0
BEARER_RE = re.compile(r"^bearer\s+(\S+)\s*$", re.IGNORECASE)


class Refusal(Exception):
    """An answer that is not a success: status, JSON body, headers, and the hint kept in the sync log."""

    def __init__(self, status, body, headers=None, hint="", logged=(None, None)):
        super().__init__(status)
        self.status, self.body, self.headers, self.hint = status, body, headers or {}, hint
        #: (invoice id, partner id) the refused request concerns, for its log line
        self.logged = logged


class IdempotentRequest:
    """A request's ``Idempotency-Key``: its credential's scope, the request's fingerprint, the kept answer
    ``(fingerprint, status, body, move id)`` when there is one."""

    def __init__(self, scope, key, fingerprint, stored):
        self.scope, self.key, self.fingerprint, self.stored = scope, key, fingerprint, stored


class Caller:
    """Who is calling: the user acting, their company, the integration key (if any) and a label for the log;
    for an Odoo API key (Bearer), the index Odoo stores it under (its first characters, never the key)."""

    def __init__(self, uid, company, key=None, label="", bearer_index=None):
        self.uid, self.company, self.key, self.label = uid, company, key, label
        self.bearer_index = bearer_index


def _conflict(exc):
    return Refusal(409, msg.json_error_body(msg.MSG_DUPLICATE, data={"id": exc.move_id, "invoice_no": exc.invoice_no}),
                   hint="The invoice exists already: nothing to do, or PATCH it while it is in review.",
                   logged=(exc.move_id, exc.move.partner_id.id if exc.move else None))


def _not_in_review(exc):
    move = exc.move
    return Refusal(409, msg.json_error_body(msg.MSG_NOT_IN_REVIEW, data={
        "id": move.id, "invoice_no": move.ib_invoice_no, "status": move.ib_import_state, "state": move.state}),
        hint="Only invoices returned to billing (REVIEW) can be corrected.", logged=(move.id, move.partner_id.id))


#: exception raised by a step → its answer (the first matching class wins)
ERRORS = (
    (msg.PayloadError, lambda exc: Refusal(400, exc.body(),
                                           hint="Correct the fields listed in the answer and send again.")),
    (BodyTooLarge, lambda exc: Refusal(413, msg.json_error_body(msg.MSG_TOO_LARGE), hint=(
        f"Bodies are limited to {exc.limit} bytes (invoice_bridge.import_max_body_bytes)."))),
    (ImportConflict, _conflict),
    (ImportNotFound, lambda exc: Refusal(404, msg.json_error_body(msg.MSG_NOT_FOUND),
                                         hint="Check the invoice_no; only imported invoices can be updated.")),
    (ImportNotInReview, _not_in_review),
    (AccessError, lambda exc: Refusal(403, msg.json_error_body(str(exc)),
                                      hint="Give the calling user Billing rights in the company.")),
    # a constraint no field rule foresaw (the invoice number's own is a 409 above): the request changed nothing
    (psycopg2.IntegrityError, lambda exc: Refusal(400, msg.json_error_body(msg.MSG_VALIDATION_FAILED, errors={
        "non_field_errors": [msg.MSG_DB_REFUSED % {"constraint": exc.diag.constraint_name or exc.pgcode}]}),
        hint="Correct the data and send again.")),
    # ValidationError included (a subclass of UserError, as AccessError is: it comes first)
    (UserError, lambda exc: Refusal(400, msg.json_error_body(msg.MSG_VALIDATION_FAILED, errors={
        "non_field_errors": [str(exc)]}), hint="Correct the data and send again.")),
)


def refusal_of(exc):
    """The answer of an exception of :data:`ERRORS`, or None (an unexpected error: let it raise)."""
    if isinstance(exc, Refusal):
        return exc
    for cls, answer in ERRORS:
        if isinstance(exc, cls):
            return answer(exc)
    return None


def json_response(status, body, headers=None):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return request.make_response(body, headers=[("Content-Type", "application/json"), *(headers or {}).items()],
                                 status=status)


class ImportApiBase(http.Controller):
    """The steps every route shares; the routes themselves are in ``import_api.py`` and ``import_api_stream.py``."""

    # ---------------------------------------------------------------------------------------- serving
    def _serve(self, handler, idempotent=False):
        """Answer one writing request; start it again when a concurrent import committed what it needs.

        ``handler(env, caller, body)`` parses the body and calls the service; it returns ``(status, body dict,
        move)``. It runs as the caller, in the caller's company, inside a savepoint. ``idempotent``: the request
        may carry an ``Idempotency-Key`` (see :meth:`_idempotency`).
        """
        started = time.perf_counter()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._serve_once(handler, started, count_rate=attempt == 1, idempotent=idempotent)
                if response.status_code < 400:
                    # what the commit runs first (pre-commit hooks, the last flush) runs here, where a concurrency
                    # failure is retried and answered as JSON, instead of Odoo's HTML error page
                    request.env.cr.precommit.run()
                    request.env.cr.flush()
                return response
            except (ImportRetry, *PG_CONCURRENCY_EXCEPTIONS_TO_RETRY) as exc:
                # as odoo.service.model.retrying does for serialization failures: a new transaction (a new
                # snapshot, which sees the other request's records), after a short random pause
                env = request.env
                env.cr.rollback()
                env.reset()
                env.registry.reset_changes()
                _logger.info("invoice_bridge: concurrent import (%s); attempt %s of %s", type(exc).__name__, attempt,
                             MAX_ATTEMPTS)
                time.sleep(random.uniform(0, min(MAX_PAUSE, 0.05 * 2 ** attempt)))
        body = msg.json_error_body("Busy with concurrent imports of the same records: retry the request.")
        self._log(request.env(user=SUPERUSER_ID), getattr(request, "_ib_caller", None), 503, started,
                  message="too many concurrent attempts", hint="Retry the request.", detached=True)
        return json_response(503, body, {"Retry-After": "1"})

    def _serve_once(self, handler, started, count_rate=True, idempotent=False):
        env = request.env(user=SUPERUSER_ID)
        caller = None
        try:
            caller = request._ib_caller = self._authenticate(env)
            if count_rate:
                self._check_rate(env, caller)
            body = self._read_body(env)
            idempotency = self._idempotency(env, caller, body) if idempotent else None
            if idempotency and idempotency.stored:
                return self._replay(env, caller, idempotency, started)
            user_env = env(user=caller.uid, context={"allowed_company_ids": [caller.company.id]}, su=False)
            with env.cr.savepoint():
                status, payload, move = handler(user_env, caller, body)
        except (ImportRetry, *PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
            raise
        except Exception as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            return self._refuse(env, caller, refusal, started)
        answer = json.dumps(payload).encode()
        if idempotency and status < 300:  # a refusal changed nothing: its retry runs again
            env["invoice_bridge.api.idempotency"]._store(idempotency.scope, idempotency.key,
                                                          idempotency.fingerprint, status, answer, move.id)
        self._log(env, caller, status, started, move.id, move.partner_id.id, message=payload["message"])
        return json_response(status, answer)

    def _serve_read(self, handler):
        """Answer one reading request: authenticate, count it in the key's rate, then ``handler(env, caller)``
        (as the caller, in the caller's company) returns ``(status, body dict, move)``; refusals as for writes."""
        started = time.perf_counter()
        env = request.env(user=SUPERUSER_ID)
        caller = None
        try:
            caller = request._ib_caller = self._authenticate(env)
            self._check_rate(env, caller)
            user_env = env(user=caller.uid, context={"allowed_company_ids": [caller.company.id]}, su=False)
            status, payload, move = handler(user_env, caller)
        except Exception as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            return self._refuse(env, caller, refusal, started)
        self._log(env, caller, status, started, move.id, move.partner_id.id, message=payload["message"])
        return json_response(status, payload)

    # ------------------------------------------------------------------------------------- idempotency
    def _idempotency(self, env, caller, body):
        """The request's ``Idempotency-Key`` (None without one): waits for a concurrent request with the same key
        and credential to end, then finds the answer kept for it. The same key with another body is a 422."""
        key = listing.parse_idempotency_key(request.httprequest.headers.get(listing.IDEMPOTENCY_HEADER))
        if key is None:
            return None
        httprequest = request.httprequest
        # an Odoo API key is known by its user and its index (a hash of it: no part of a credential is stored)
        scope = (f"key:{caller.key.id}" if caller.key else "bearer:{}:{}:{}".format(
            caller.uid, hashlib.sha256((caller.bearer_index or "").encode()).hexdigest()[:16], caller.company.id))
        fingerprint = listing.request_fingerprint(httprequest.method, httprequest.path, body)
        Idempotency = env["invoice_bridge.api.idempotency"]
        Idempotency._lock(scope, key)
        stored = Idempotency._stored(scope, key)
        if stored and stored[0] != fingerprint:
            raise Refusal(422, msg.json_error_body(msg.MSG_IDEMPOTENCY_MISMATCH, errors={
                listing.IDEMPOTENCY_HEADER: [msg.MSG_IDEMPOTENCY_MISMATCH]}),
                hint="Use a new Idempotency-Key for a different request; repeat a request with its own key.",
                logged=(stored[3], None))
        return IdempotentRequest(scope, key, fingerprint, stored)

    def _replay(self, env, caller, idempotency, started):
        """The answer kept for the request's ``Idempotency-Key``, byte for byte; nothing runs again."""
        _fingerprint, status, answer, move_id = idempotency.stored
        move = env["account.move"].browse(move_id).exists() if move_id else env["account.move"]
        self._log(env, caller, status, started, move.id, move.partner_id.id,
                  message=f"the answer to Idempotency-Key {idempotency.key[:64]} given again (nothing changed)")
        return json_response(status, answer.encode(), {"Idempotent-Replayed": "true"})

    # ---------------------------------------------------------------------------------- authentication
    def _authenticate(self, env):
        headers = request.httprequest.headers
        key = headers.get("X-API-KEY")
        authorization = headers.get("Authorization")
        if key:
            record = env["invoice_bridge.api.key"]._authenticate(key.strip())
            if not record or not record.user_id.active:
                raise Refusal(401, msg.json_error_body(msg.MSG_INVALID_API_KEY),
                              hint="The X-API-KEY is unknown or revoked: ask for a new key.")
            return Caller(record.user_id.id, record.company_id, record, f"key {record.name}")
        if authorization:
            match = BEARER_RE.match(authorization)
            uid = match and env["res.users.apikeys"]._check_credentials(scope="rpc", key=match.group(1))
            user = env["res.users"].browse(uid) if uid else env["res.users"]
            if not user or user.share:
                raise Refusal(401, msg.json_error_body(msg.MSG_INVALID_API_KEY),
                              hint="The Bearer token must be an Odoo API key of an internal user.")
            return Caller(user.id, user.company_id, None, f"user {user.login}",
                          bearer_index=match.group(1)[:BEARER_INDEX_SIZE])
        raise Refusal(401, msg.json_error_body(msg.MSG_NO_CREDENTIALS),
                      hint="Send the X-API-KEY header or Authorization: Bearer <Odoo API key>.")

    def _check_rate(self, env, caller):
        if not caller.key:
            return
        with env.registry.cursor() as cr:  # counted even when this request is rolled back
            if isinstance(cr, sql_db.Cursor):  # a real connection (under the test runner: the test cursor)
                # concurrent requests of one key update its counter row: wait for each other, never fail
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            wait = caller.key.with_env(caller.key.env(cr=cr))._consume_rate(cr)
        if wait:
            raise Refusal(429, msg.json_error_body(msg.MSG_RATE_LIMITED), headers={"Retry-After": str(wait)},
                          hint="The key exceeded its requests per minute; the client should wait and retry.")

    def _read_body(self, env):
        """The request body, at most ``invoice_bridge.import_max_body_bytes`` (413 beyond, chunked or not).

        Kept on the request: Odoo replays a request after a serialization failure, and the stream is read once.
        """
        cached = getattr(request, "_ib_body", None)
        if cached is None:
            limit = env["invoice_bridge.config"]._get("import_max_body_bytes", DEFAULT_MAX_BODY_BYTES)
            request._ib_body = read_body(request.httprequest, limit)
        return request._ib_body

    # ------------------------------------------------------------------------------------------ logging
    def _refuse(self, env, caller, refusal, started):
        """Answer a refusal. One sync-log line when the caller is known and allowed to call; a request refused
        for its credentials or its rate is only counted (``invoice_bridge.refused.request``, per minute): a
        client sending bad keys in a loop never fills the log."""
        if refusal.status in (401, 429):
            env["invoice_bridge.refused.request"]._count_refusal(
                request.httprequest.remote_addr, request.httprequest.path, refusal.status,
                self._message_of(refusal.body))
        else:
            self._log(env, caller, refusal.status, started, *refusal.logged, message=self._message_of(refusal.body),
                      hint=refusal.hint, detached=True)
        return json_response(refusal.status, refusal.body, refusal.headers)

    @staticmethod
    def _message_of(body):
        try:
            return json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            return ""

    @staticmethod
    def _reference_of_body():
        """The sender's invoice number, when the body read so far names one: the log is searched by it, also
        for requests that created no invoice (a 400, a 409)."""
        reference = getattr(request, "_ib_reference", None)  # a number in the path (GET)
        if reference:
            return reference[:64]
        body = getattr(request, "_ib_body", None)
        if not body:
            return False
        try:
            number = json.loads(body).get("invoice_no")
        except (ValueError, AttributeError, UnicodeDecodeError):
            return False
        return number.strip()[:64] or False if isinstance(number, str) else False

    def _log(self, env, caller, status, started, move_id=None, partner_id=None, message="", hint="",
             detached=False):
        httprequest = request.httprequest
        vals = {
            "channel": "import_api", "direction": "inbound",
            "state": "success" if status < 400 else "failed",
            "company_id": caller.company.id if caller else False,
            "move_id": move_id or False,
            "partner_id": partner_id or False,
            "res_model": "account.move" if move_id else False, "res_id": move_id or False,
            "endpoint": httprequest.path, "http_method": httprequest.method, "http_status": status,
            "duration_ms": int((time.perf_counter() - started) * 1000),
            "message": f"{caller.label}: {message}" if caller else message,
            "hint": hint or False,
            "user_id": caller.uid if caller else False,
            "request_headers": dict(httprequest.headers),
            "reference": self._reference_of_body(),
        }
        match = BEARER_RE.match(httprequest.headers.get("Authorization") or "")
        vals["secrets"] = tuple(s for s in (httprequest.headers.get("X-API-KEY"), match and match.group(1)) if s)
        log = env["invoice_bridge.sync.log"]
        if detached:
            log._log_detached(vals)
        else:
            log._log(vals)
