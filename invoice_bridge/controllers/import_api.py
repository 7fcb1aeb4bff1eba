"""The invoice import REST API (seed 002's paths, headers and bodies) and its live event stream.

Routes use ``auth='none'`` (read-only cursor by default: the writing ones say ``readonly=False``); the API
checks its own credentials so that every refusal is the seed's JSON (Odoo's ``auth='bearer'`` would answer with
its own 401 body). Every request, accepted or refused, writes one inbound
sync-log line; refused ones through a separate cursor, since the request's transaction is rolled back.
"""
import json
import logging
import random
import re
import selectors
import threading
import time

import werkzeug.exceptions
import werkzeug.wrappers

from odoo import SUPERUSER_ID, http, sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request
from odoo.sql_db import TestCursor
from odoo.tools import SQL

from ..lib import import_payload as api
from ..lib.openapi import build_openapi
from ..models.api_event import NOTIFY_CHANNEL
from ..models.import_service import ImportConflict, ImportNotFound, ImportNotInReview, ImportRetry

_logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15  # ir.config_parameter invoice_bridge.sse_keepalive_seconds overrides it
#: attempts of one request when concurrent imports create the records it needs (see ImportRetry)
MAX_ATTEMPTS = 5
#: a stream is closed after this long (clients reconnect with Last-Event-ID): connections are recycled
STREAM_MAX_SECONDS = 3600
BEARER_RE = re.compile(r"^bearer\s+(\S+)\s*$", re.IGNORECASE)


class Refusal(Exception):
    def __init__(self, status, body, headers=None, hint=""):
        super().__init__(status)
        self.status, self.body, self.headers, self.hint = status, body, headers or {}, hint


class Caller:
    """Who is calling: the user acting, their company, the integration key (if any) and a label for the log."""

    def __init__(self, uid, company, key=None, label=""):
        self.uid, self.company, self.key, self.label = uid, company, key, label


def _json(status, body, headers=None):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return request.make_response(body, headers=[("Content-Type", "application/json"), *(headers or {}).items()],
                                 status=status)


class ImportApi(http.Controller):

    # ------------------------------------------------------------------------------------------ routes
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
        version = env["ir.module.module"].search([("name", "=", "invoice_bridge")]).latest_version
        document = build_openapi(request.httprequest.host_url.rstrip("/"), version=version or None)
        return _json(200, document)

    @http.route("/api/sales/sse/invoices/", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False, readonly=False)
    def invoice_stream(self, **kwargs):
        env = request.env(user=SUPERUSER_ID)
        started = time.perf_counter()
        try:
            caller = self._authenticate(env)
            self._check_rate(env, caller)
        except Refusal as refusal:
            self._log(env, None, refusal.status, started, message=self._message_of(refusal.body),
                      hint=refusal.hint, detached=True)
            return _json(refusal.status, refusal.body, refusal.headers)
        last_id = request.httprequest.headers.get("Last-Event-ID") or kwargs.get("last_event_id")
        try:
            last_id = int(last_id) if last_id not in (None, "") else None
        except ValueError:
            return _json(400, api.json_error_body(api.MSG_VALIDATION_FAILED, errors={
                "Last-Event-ID": ["A valid integer is required."]}))
        if last_id is None:  # a new client receives what happens from now on
            last_id = env["invoice_bridge.api.event"]._last_id(caller.company.id)
        self._log(env, caller, 200, started, message=f"event stream opened after event {last_id}")
        keepalive = float(env["ir.config_parameter"].get_param("invoice_bridge.sse_keepalive_seconds",
                                                               KEEPALIVE_SECONDS) or KEEPALIVE_SECONDS)
        stream = EventStream(request.db, caller.company.id, last_id, keepalive)
        # an open stream must not be killed by Odoo's request watchdog (limit_time_real), which skips the
        # threads marked as websockets (addons/bus/websocket.py does the same)
        threading.current_thread().type = "websocket"
        return werkzeug.wrappers.Response(stream.events(), status=200, direct_passthrough=True, headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        })

    # ---------------------------------------------------------------------------------------- handling
    def _serve(self, handler):
        """Answer one API request; start it again when a concurrent import committed what it needs."""
        started = time.perf_counter()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._serve_once(handler, started, count_rate=attempt == 1)
            except ImportRetry as exc:
                # as odoo.service.model.retrying does for serialization failures: a new transaction (a new
                # snapshot, which sees the other request's records), after a short random pause
                env = request.env
                env.cr.rollback()
                env.reset()
                env.registry.reset_changes()
                _logger.info("invoice_bridge: concurrent import created a %s; attempt %s of %s", exc, attempt,
                             MAX_ATTEMPTS)
                time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
        body = api.json_error_body("Busy with concurrent imports of the same records: retry the request.")
        self._log(request.env(user=SUPERUSER_ID), None, 503, started, message="too many concurrent attempts",
                  hint="Retry the request.", detached=True)
        return _json(503, body, {"Retry-After": "1"})

    def _serve_once(self, handler, started, count_rate=True):
        env = request.env(user=SUPERUSER_ID)
        caller = None
        logged = (None, None)  # (invoice id, partner id) the request created or touched
        try:
            caller = self._authenticate(env)
            if count_rate:
                self._check_rate(env, caller)
            body = self._read_body()
            user_env = env(user=caller.uid, context={"allowed_company_ids": [caller.company.id]}, su=False)
            try:
                with env.cr.savepoint():
                    status, payload, move = handler(user_env, caller, body)
            except api.PayloadError as exc:
                raise Refusal(400, exc.body(),
                              hint="Correct the fields listed in the answer and send again.") from exc
            except ImportConflict as exc:
                logged = (exc.move_id, exc.move.partner_id.id if exc.move else None)
                raise Refusal(409, api.json_error_body(api.MSG_DUPLICATE, data={
                    "id": exc.move_id, "invoice_no": exc.invoice_no}),
                    hint="The invoice exists already: nothing to do, or PATCH it while it is in review.") from exc
            except ImportNotFound as exc:
                raise Refusal(404, api.json_error_body(api.MSG_NOT_FOUND),
                              hint="Check the invoice_no; only imported invoices can be updated.") from exc
            except ImportNotInReview as exc:
                logged = (exc.move.id, exc.move.partner_id.id)
                raise Refusal(409, api.json_error_body(api.MSG_NOT_IN_REVIEW, data={
                    "id": exc.move.id, "invoice_no": exc.move.ib_invoice_no,
                    "status": exc.move.ib_import_state, "state": exc.move.state}),
                    hint="Only invoices returned to billing (REVIEW) can be corrected.") from exc
            except AccessError as exc:
                raise Refusal(403, api.json_error_body(str(exc)),
                              hint="Give the calling user Billing rights in the company.") from exc
            except (UserError, ValidationError) as exc:
                raise Refusal(400, api.json_error_body(api.MSG_VALIDATION_FAILED, errors={
                    "non_field_errors": [str(exc)]}), hint="Correct the data and send again.") from exc
        except Refusal as refusal:
            self._log(env, caller, refusal.status, started, *logged, message=self._message_of(refusal.body),
                      hint=refusal.hint, detached=True)
            return _json(refusal.status, refusal.body, refusal.headers)
        self._log(env, caller, status, started, move.id, move.partner_id.id,
                  message=payload["message"])
        return _json(status, payload)

    def _do_import(self, env, caller, body):
        payload = api.parse_import(body)
        move = env["invoice_bridge.import.service"]._import_invoice(payload, caller.company, api_key=caller.key)
        return 201, {"success": True, "message": api.MSG_IMPORTED, "data": {
            "id": move.id, "invoice_no": move.ib_invoice_no, "total_amount": round(move.amount_total, 2)}}, move

    def _do_update(self, env, caller, body):
        payload = api.parse_update(body)
        service = env["invoice_bridge.import.service"]
        move = service._update_invoice(payload, caller.company)
        return 200, {"success": True, "message": api.MSG_UPDATED, "data": service._totals(move)}, move

    # -------------------------------------------------------------------------------------------- auth
    def _authenticate(self, env):
        headers = request.httprequest.headers
        key = headers.get("X-API-KEY")
        authorization = headers.get("Authorization")
        if key:
            record = env["invoice_bridge.api.key"]._authenticate(key.strip())
            if not record or not record.user_id.active:
                raise Refusal(401, api.json_error_body(api.MSG_INVALID_API_KEY),
                              hint="The X-API-KEY is unknown or revoked: ask for a new key.")
            return Caller(record.user_id.id, record.company_id, record, f"key {record.name}")
        if authorization:
            match = BEARER_RE.match(authorization)
            uid = match and env["res.users.apikeys"]._check_credentials(scope="rpc", key=match.group(1))
            user = env["res.users"].browse(uid) if uid else env["res.users"]
            if not user or user.share:
                raise Refusal(401, api.json_error_body(api.MSG_INVALID_API_KEY),
                              hint="The Bearer token must be an Odoo API key of an internal user.")
            return Caller(user.id, user.company_id, None, f"user {user.login}")
        raise Refusal(401, api.json_error_body(api.MSG_NO_CREDENTIALS),
                      hint="Send the X-API-KEY header or Authorization: Bearer <Odoo API key>.")

    def _check_rate(self, env, caller):
        if not caller.key:
            return
        with env.registry.cursor() as cr:  # counted even when this request is rolled back
            if not isinstance(cr, TestCursor):
                # concurrent requests of one key update its counter row: wait for each other, never fail
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            wait = caller.key.with_env(caller.key.env(cr=cr))._consume_rate(cr)
        if wait:
            raise Refusal(429, api.json_error_body(api.MSG_RATE_LIMITED), headers={"Retry-After": str(wait)},
                          hint="The key exceeded its requests per minute; the client should wait and retry.")

    def _read_body(self):
        """The request body, at most ``invoice_bridge.import_max_body_bytes`` (413 beyond, chunked or not).

        Kept on the request: Odoo replays a request after a serialization failure, and the stream is read once.
        """
        cached = getattr(request, "_ib_body", None)
        if cached is not None:
            return cached
        limit = int(request.env["ir.config_parameter"].sudo().get_param(
            "invoice_bridge.import_max_body_bytes", api.DEFAULT_MAX_BODY_BYTES))
        too_large = Refusal(413, api.json_error_body(api.MSG_TOO_LARGE),
                            hint=f"Bodies are limited to {limit} bytes (invoice_bridge.import_max_body_bytes).")
        length = request.httprequest.content_length
        if length is not None and length > limit:
            raise too_large
        # the werkzeug request behind Odoo's wrapper: its stream ends at Content-Length or at the last chunk
        # (werkzeug 2.2, Odoo's pin, does not apply max_content_length to chunked bodies: count here)
        stream = request.httprequest._HTTPRequest__wrapped.stream
        chunks, size = [], 0
        while size <= limit:
            chunk = stream.read(min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise too_large
        request._ib_body = b"".join(chunks)
        return request._ib_body

    # ------------------------------------------------------------------------------------------ helpers
    @staticmethod
    def _message_of(body):
        try:
            return json.loads(body).get("message", "")
        except (ValueError, AttributeError):
            return ""

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
        }
        key = httprequest.headers.get("X-API-KEY")
        vals["secrets"] = (key,) if key else ()
        log = env["invoice_bridge.sync.log"]
        if detached:
            log._log_detached(vals)
        else:
            log._log(vals)


class EventStream:
    """Server-Sent Events of one company, read from the stored events and woken by PostgreSQL NOTIFY.

    Runs after the request's cursor is closed, on its own connection: ``LISTEN`` there, then on every
    notification (or every 15 s) read the events after the last one sent. Events are committed before their
    NOTIFY is delivered, so nothing is missed between a read and the next wake-up.
    """

    def __init__(self, dbname, company_id, last_id, keepalive=KEEPALIVE_SECONDS):
        self.dbname, self.company_id, self.last_id, self.keepalive = dbname, company_id, last_id, keepalive

    def _read(self, cr):
        cr.execute("SELECT id, event, payload FROM invoice_bridge_api_event WHERE company_id = %s AND id > %s "
                   "ORDER BY id LIMIT 200", (self.company_id, self.last_id))
        rows = cr.fetchall()
        # this stream's own connection, never the request's transaction: ending its read snapshot lets the next
        # read see newer events
        cr.commit()  # pylint: disable=invalid-commit
        return rows

    def events(self):
        threading.current_thread().type = "websocket"
        deadline = time.monotonic() + STREAM_MAX_SECONDS
        try:
            with sql_db.db_connect(self.dbname).cursor() as cr, selectors.DefaultSelector() as selector:
                cr.execute(SQL("LISTEN %s", SQL.identifier(NOTIFY_CHANNEL)))
                cr.commit()  # pylint: disable=invalid-commit  # LISTEN takes effect on commit (own connection)
                connection = cr._cnx
                selector.register(connection, selectors.EVENT_READ)
                yield f"retry: 3000\n: connected, last event {self.last_id}\n\n".encode()
                while time.monotonic() < deadline:
                    rows = self._read(cr)
                    for event_id, event, payload in rows:
                        self.last_id = event_id
                        yield f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()
                    if len(rows) == 200:
                        continue
                    if selector.select(timeout=self.keepalive):
                        connection.poll()
                        connection.notifies.clear()
                    else:
                        yield b": keep-alive\n\n"
        except GeneratorExit:
            return
        except Exception:
            _logger.exception("invoice_bridge: event stream of company %s ended", self.company_id)
