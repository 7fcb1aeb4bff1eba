"""The import API's live event stream (Server-Sent Events): ``GET /api/sales/sse/invoices/``.

Served like Odoo serves its bus: in prefork mode by the gevent worker (``--gevent-port``, the reverse proxy
sends the stream's path there); an HTTP worker answers at once that the stream is served elsewhere, and never
holds the worker. In threaded mode (one process, the demo) the same code serves it. Waiting streams hold no
database connection: the hub (``import_api_stream_hub.py``) reads each event once per process and hands it over.
"""
import logging
import selectors
import socket
import threading
import time

import werkzeug.wrappers

import odoo
from odoo import SUPERUSER_ID, api, http
from odoo.http import request
from odoo.tools import config

from ..lib import import_api_messages as msg
from .core_http import client_socket
from .import_api_base import ImportApiBase, Refusal, json_response
from .import_api_stream_hub import Subscriber, acquire_cursor, frame, hub

_logger = logging.getLogger(__name__)

#: the settings (invoice_bridge.<name>) and their defaults
KEEPALIVE_SECONDS = 15  # sse_keepalive_seconds: a comment line when nothing else was sent
MAX_STREAMS_PER_KEY = 10  # sse_max_streams_per_key: beyond, 429 with Retry-After
WRITE_TIMEOUT_SECONDS = 30  # sse_write_timeout_seconds: a client whose write stays blocked this long is dropped
MAX_AGE_SECONDS = 3600  # sse_max_age_seconds: then the stream ends; clients reconnect with Last-Event-ID
#: events a stream reads at once when it catches up after Last-Event-ID
BATCH = 200
#: how often a waiting stream checks that its client is still there (and whether it was revoked)
TICK_SECONDS = 1.0
MSG_ELSEWHERE = ("The event stream is served by the gevent worker: send this path to Odoo's --gevent-port "
                 "(the reverse proxy's /websocket rule), not to the HTTP workers.")


def is_http_worker():
    """A prefork HTTP worker, which a long-lived response would hold (Odoo kills it at limit_time_real)."""
    return bool(config["workers"]) and not odoo.evented


class ImportApiStream(ImportApiBase):

    @http.route("/api/sales/sse/invoices/", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False, readonly=False)
    def invoice_stream(self, **kwargs):
        if is_http_worker():
            return json_response(421, msg.json_error_body(MSG_ELSEWHERE))
        env = request.env(user=SUPERUSER_ID)
        started = time.perf_counter()
        settings = env["invoice_bridge.config"]
        caller = None
        try:
            caller = self._authenticate(env)
            self._check_rate(env, caller)
            self._check_may_read(env, caller)
            feed = hub.feed(request.db)
            limit = settings._get("sse_max_streams_per_key", MAX_STREAMS_PER_KEY)
            if caller.key and limit and feed.count(caller.key.id) >= limit:
                raise Refusal(429, msg.json_error_body(
                    f"Too many open streams for this key (at most {limit}): close one, or retry later."),
                    headers={"Retry-After": "30"}, hint="The client opens more streams than it needs.")
        except Refusal as refusal:
            return self._refuse(env, caller, refusal, started)
        last_id = request.httprequest.headers.get("Last-Event-ID") or kwargs.get("last_event_id")
        try:
            last_id = int(last_id) if last_id not in (None, "") else None
        except ValueError:
            return json_response(400, msg.json_error_body(msg.MSG_VALIDATION_FAILED, errors={
                "Last-Event-ID": ["A valid integer is required."]}))
        if last_id is None:  # a new client receives what happens from now on
            last_id = env["invoice_bridge.api.event"]._last_seq(caller.company.id)
        self._log(env, caller, 200, started, message=f"event stream opened after event {last_id}")
        subscriber = Subscriber(caller.company.id, key_id=caller.key.id if caller.key else None, uid=caller.uid,
                                bearer_index=caller.bearer_index)
        stream = EventStream(request.db, feed, subscriber, last_id,
                             keepalive=settings._get("sse_keepalive_seconds", float(KEEPALIVE_SECONDS)),
                             max_age=settings._get("sse_max_age_seconds", MAX_AGE_SECONDS),
                             client=client_socket(request.httprequest))
        sock = stream.client
        if sock is not None:
            # a client that never reads: its writes block, and the socket's timeout ends them
            sock.settimeout(settings._get("sse_write_timeout_seconds", float(WRITE_TIMEOUT_SECONDS)) or None)
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
    """One client's stream: the events after ``last_seq`` (read by the stream itself, in short cursors), then
    what the hub hands over, until the client leaves, its key is revoked, or the stream's age is reached."""

    def __init__(self, dbname, feed, subscriber, last_seq, keepalive=KEEPALIVE_SECONDS, max_age=MAX_AGE_SECONDS,
                 client=None):
        self.dbname, self.feed, self.subscriber, self.last_seq = dbname, feed, subscriber, last_seq or 0
        self.keepalive, self.max_age, self.client = keepalive or KEEPALIVE_SECONDS, max_age, client

    def _catch_up(self):
        """Frames of the events after ``last_seq``, read in batches with cursors of the stream's own."""
        frames = []
        with acquire_cursor(self.dbname) as cr:
            rows = api.Environment(cr, SUPERUSER_ID, {})["invoice_bridge.api.event"]._since(
                self.subscriber.company_id, self.last_seq, limit=BATCH)
        for seq, _company, event, payload in rows:
            self.last_seq = seq
            frames.append(frame(seq, event, payload))
        return frames, len(rows) == BATCH

    def _client_left(self):
        """The client closed its side (the socket reads EOF): noticed within a tick, not at the next keep-alive."""
        if self.client is None:
            return False
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.client, selectors.EVENT_READ)
                if not selector.select(timeout=0):
                    return False
            return self.client.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def events(self):
        threading.current_thread().type = "websocket"
        subscriber, feed = self.subscriber, self.feed
        feed.ready.wait(10)  # the hub knows where it starts: what it reads from then on is handed over
        feed.subscribe(subscriber)  # then: what is committed while catching up is queued, not missed
        deadline = time.monotonic() + (self.max_age or MAX_AGE_SECONDS)
        try:
            yield f"retry: 3000\n: connected, last event {self.last_seq}\n\n".encode()
            more = True
            while more:
                frames, more = self._catch_up()
                if frames:
                    yield b"".join(frames)
            last_write = time.monotonic()
            while time.monotonic() < deadline:
                if subscriber.closed:
                    yield f": closed ({subscriber.closed})\n\n".encode()
                    return
                frames = []
                while subscriber.queue:
                    seq, data = subscriber.queue.popleft()
                    if seq > self.last_seq:  # what the catch-up sent already is not sent twice
                        self.last_seq = seq
                        frames.append(data)
                if frames:
                    yield b"".join(frames)
                    last_write = time.monotonic()
                    continue
                subscriber.wakeup.clear()
                if subscriber.queue or subscriber.closed:
                    continue
                if not subscriber.wakeup.wait(TICK_SECONDS) and self._client_left():  # checked when idle
                    return
                if time.monotonic() - last_write >= self.keepalive:
                    yield b": keep-alive\n\n"
                    last_write = time.monotonic()
        except GeneratorExit:
            return
        except Exception:
            _logger.exception("invoice_bridge: event stream of company %s ended", subscriber.company_id)
        finally:
            feed.unsubscribe(subscriber)
