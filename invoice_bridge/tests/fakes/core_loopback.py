"""Shared machinery of the loopback fakes: the threaded HTTP server, its lifecycle and the CLI loop.

A fake subclasses :class:`LoopbackServer` (setting ``handler_class``, ``thread_name`` and ``poll_interval``)
and implements ``_on_request(handler)`` (POST and PUT) and ``_on_get(handler)``; its handler class derives
from :class:`LoopbackHandler`.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

CONTROL_PREFIX = "/_fake/"
_OK_BODY = b'{"ok":true}'
_MAX_LINE = 65537
_NO_BODY_STATUSES = frozenset({204, 304})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        # Skip HTTPServer.server_bind's getfqdn() lookup: it can be slow and is useless on loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class LoopbackHandler(BaseHTTPRequestHandler):
    """Keep-alive handler that reports its connection to the fake and hands requests to it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeLoopback"

    def log_message(self, *args):
        """Silence per-request logging."""

    def setup(self):
        result = super().setup()
        if not self.server.receiver._track(self.server, self.connection):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        return result

    def finish(self):
        try:
            return super().finish()
        finally:
            self.server.receiver._untrack(self.connection)

    def do_POST(self):
        self.server.receiver._on_request(self)

    def do_PUT(self):
        self.server.receiver._on_request(self)

    def do_GET(self):
        self.server.receiver._on_get(self)

    def read_body(self) -> bytes:
        """Read exactly the request body (Content-Length, or chunked)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def read_body_or_400(self) -> bytes | None:
        """The request body, or None once an unreadable one got a 400 answer (and the connection closes)."""
        try:
            return self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.reply_json(400, {"error": "bad request body"})
            return None

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline(_MAX_LINE).split(b";", 1)[0].strip() or b"0", 16)
            if not size:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)

    def reply(self, status: int, body: bytes = _OK_BODY, retry_after=None) -> bool:
        """Write the whole response in one send; return False if the client is gone."""
        if status in _NO_BODY_STATUSES or status < 200:
            body = b""
        return self.send_whole(status, body, "application/json", retry_after)

    def reply_json(self, status: int, payload) -> bool:
        return self.reply(status, json.dumps(payload, default=str).encode())

    def send_whole(self, status: int, body: bytes, content_type: str, retry_after=None) -> bool:
        """Write status line, headers and ``body`` in one send; return False if the client is gone."""
        reason = self.responses.get(status, ("Unknown",))[0]
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        head += f"Content-Length: {len(body)}\r\n"
        if retry_after is not None:
            head += f"Retry-After: {retry_after}\r\n"
        if self.close_connection:
            head += "Connection: close\r\n"
        try:
            self.wfile.write(head.encode("latin-1") + b"\r\n" + body)
            return True
        except OSError:
            self.close_connection = True
            return False


class LoopbackServer:
    """A fake HTTP service on loopback, served by a daemon thread; tracks and drops its connections."""

    #: the request handler (a LoopbackHandler subclass)
    handler_class: type[LoopbackHandler] = LoopbackHandler
    #: the serving thread is named ``f"{thread_name}-{port}"``
    thread_name = "loopback-fake"
    #: how often the serving thread checks for shutdown (a prompt stop() keeps test teardown fast)
    poll_interval = 0.05

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.connection_count = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._state_lock = threading.RLock()
        self._conn_lock = threading.Lock()
        self._conns: set = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Self:
        """Start serving in a daemon thread (no-op when already serving)."""
        with self._state_lock:
            if self._server is None:
                server = _Server((self.host, self.port), self.handler_class)
                server.receiver = self
                self.port = server.server_address[1]
                self._server = server
                self._thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": self.poll_interval},
                    name=f"{self.thread_name}-{self.port}",
                    daemon=True,
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        with self._state_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.shutdown()
            server.server_close()
            with self._conn_lock:
                conns = list(self._conns)
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            if thread is not None:
                thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- connection tracking (called by LoopbackHandler) -------------------------------------------------

    def _track(self, server, conn) -> bool:
        with self._conn_lock:
            if server is not self._server:
                return False
            self._conns.add(conn)
            self.connection_count += 1
            return True

    def _untrack(self, conn) -> None:
        with self._conn_lock:
            self._conns.discard(conn)

    # -- request handling (handler threads; a fake overrides these) --------------------------------------

    def reset(self) -> None:
        """Forget what happened; ``POST /_fake/reset`` calls it."""

    def _on_request(self, handler: LoopbackHandler) -> None:
        handler.reply_json(405, {"error": "method not allowed"})

    def _on_get(self, handler: LoopbackHandler) -> None:
        handler.reply_json(405, {"error": "method not allowed"})

    def _control_post(self, name: str) -> Callable[[dict], None] | None:
        """What ``POST /_fake/<name>`` applies to its JSON body (a callable), or None: an unknown path."""
        return {}.get(name)

    def _on_control(self, handler: LoopbackHandler, path: str, body: bytes) -> None:
        """A POST below CONTROL_PREFIX (``path`` without its query): reset, or a _control_post action."""
        if path == CONTROL_PREFIX + "reset":
            self.reset()
            handler.reply_json(200, {"ok": True})
            return
        apply = self._control_post(path[len(CONTROL_PREFIX) :])
        if apply is None:
            handler.reply_json(404, {"error": "unknown control path"})
            return
        try:
            apply(json.loads(body or b"{}"))
        except (ValueError, TypeError, AttributeError) as exc:
            handler.reply_json(400, {"error": str(exc)})
            return
        handler.reply_json(200, {"ok": True})


def peak_in_flight(deliveries, delay):
    """The most requests the receiver was answering at once, for a receiver that answers after ``delay`` s.

    A request is in flight from its arrival until ``delay`` later (the receiver answers then): a request sent
    only after an earlier answer arrived never overlaps it, one sent alongside always does."""
    edges = sorted([(d["received_at"], 1) for d in deliveries] + [(d["received_at"] + delay, -1) for d in deliveries])
    peak = current = 0
    for _at, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def stop_event_on_signals() -> threading.Event:
    """Return an event set on SIGINT/SIGTERM (install before announcing readiness)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def wait_until(stop: threading.Event) -> None:
    """Block the main thread until ``stop`` is set (signal-friendly)."""
    while not stop.wait(0.5):
        pass


def serve_until_signalled(fake: LoopbackServer) -> int:
    """CLI loop: start ``fake``, print ``{"url": ...}`` on stdout, serve until SIGINT/SIGTERM, stop."""
    stop = stop_event_on_signals()
    fake.start()
    try:
        sys.stdout.write(json.dumps({"url": fake.url}) + "\n")
        sys.stdout.flush()
        wait_until(stop)
    finally:
        fake.stop()
    return 0
