"""The import API's live event stream (Server-Sent Events): ``GET /api/sales/sse/invoices/``."""
import logging
import selectors
import threading
import time

import werkzeug.wrappers

from odoo import SUPERUSER_ID, api, http
from odoo.http import request
from odoo.modules.registry import Registry
from odoo.tools import SQL

from ..lib import import_api_messages as msg
from ..models.import_api_event import NOTIFY_CHANNEL
from .core_http import pg_connection
from .import_api_base import ImportApiBase, Refusal, json_response

_logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15  # the setting invoice_bridge.sse_keepalive_seconds overrides it
#: a stream is closed after this long (clients reconnect with Last-Event-ID): connections are recycled
STREAM_MAX_SECONDS = 3600
#: events read at once
BATCH = 200


class ImportApiStream(ImportApiBase):

    @http.route("/api/sales/sse/invoices/", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False, readonly=False)
    def invoice_stream(self, **kwargs):
        env = request.env(user=SUPERUSER_ID)
        started = time.perf_counter()
        caller = None
        try:
            caller = self._authenticate(env)
            self._check_rate(env, caller)
            self._check_may_read(env, caller)
        except Refusal as refusal:
            return self._refuse(env, caller, refusal, started)
        last_id = request.httprequest.headers.get("Last-Event-ID") or kwargs.get("last_event_id")
        try:
            last_id = int(last_id) if last_id not in (None, "") else None
        except ValueError:
            return json_response(400, msg.json_error_body(msg.MSG_VALIDATION_FAILED, errors={
                "Last-Event-ID": ["A valid integer is required."]}))
        if last_id is None:  # a new client receives what happens from now on
            last_id = env["invoice_bridge.api.event"]._last_id(caller.company.id)
        self._log(env, caller, 200, started, message=f"event stream opened after event {last_id}")
        keepalive = env["invoice_bridge.config"]._get("sse_keepalive_seconds", float(KEEPALIVE_SECONDS))
        stream = EventStream(request.db, caller.company.id, last_id, keepalive or KEEPALIVE_SECONDS)
        # an open stream must not be killed by Odoo's request watchdog (limit_time_real), which skips the
        # threads marked as websockets (addons/bus/websocket.py does the same)
        threading.current_thread().type = "websocket"
        return werkzeug.wrappers.Response(stream.events(), status=200, direct_passthrough=True, headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        })


    def _check_may_read(self, env, caller):
        """The same rule as import and PATCH: only who may read the company's invoices hears about them."""
        user_env = env(user=caller.uid, context={"allowed_company_ids": [caller.company.id]}, su=False)
        if not (user_env["account.move"].has_access("read")
                and user_env["invoice_bridge.api.event"].has_access("read")):
            raise Refusal(403, msg.json_error_body(msg.MSG_FORBIDDEN),
                          hint="Give the calling user Billing rights in the company.")


class EventStream:
    """Server-Sent Events of one company, read from the stored events and woken by PostgreSQL NOTIFY.

    Runs after the request's cursor is closed, on a cursor of its own: ``LISTEN`` there, then on every
    notification (or every keep-alive interval) read the events after the last one sent, with the event model's
    own query. Events are committed before their NOTIFY is delivered, so nothing is missed between a read and
    the next wake-up.
    """

    def __init__(self, dbname, company_id, last_id, keepalive=KEEPALIVE_SECONDS):
        self.dbname, self.company_id, self.last_id, self.keepalive = dbname, company_id, last_id, keepalive

    def _read(self, env):
        rows = env["invoice_bridge.api.event"]._since(self.company_id, self.last_id, limit=BATCH)
        # this stream's own cursor, never the request's transaction: ending its read snapshot lets the next read
        # see newer events
        env.cr.commit()  # pylint: disable=invalid-commit
        return rows

    def events(self):
        threading.current_thread().type = "websocket"
        deadline = time.monotonic() + STREAM_MAX_SECONDS
        try:
            with Registry(self.dbname).cursor() as cr, selectors.DefaultSelector() as selector:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cr.execute(SQL("LISTEN %s", SQL.identifier(NOTIFY_CHANNEL)))
                cr.commit()  # pylint: disable=invalid-commit  # LISTEN takes effect on commit (own connection)
                connection = pg_connection(cr)
                selector.register(connection, selectors.EVENT_READ)
                yield f"retry: 3000\n: connected, last event {self.last_id}\n\n".encode()
                while time.monotonic() < deadline:
                    rows = self._read(env)
                    for event_id, event, payload in rows:
                        self.last_id = event_id
                        yield f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()
                    if len(rows) == BATCH:
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
