"""Loopback fake webhook receiver (stdlib HTTP server, Standard Webhooks verification, failure injection).

Used by tests, benchmarks and the offline demo. Run standalone with::

    python -m tests.fakes.webhook_receiver [--port 0] [--secret whsec_x ...] [--no-bodies]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeWebhookReceiver"

    def log_message(self, *args):
        """Silence per-request logging."""

    def setup(self):
        super().setup()
        if not self.server.receiver._track(self.server, self.connection):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self):
        try:
            super().finish()
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
        reason = self.responses.get(status, ("Unknown",))[0]
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
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

    def reply_json(self, status: int, payload) -> bool:
        return self.reply(status, json.dumps(payload, default=str).encode())


class WebhookReceiver:
    """Fake webhook endpoint on loopback; records deliveries and can inject failures."""

    def __init__(self, secrets=None, host: str = "127.0.0.1", port: int = 0, record_bodies: bool = True):
        self.host = host
        self.port = port
        self.record_bodies = record_bodies
        self.connection_count = 0
        self._webhooks: tuple = ()
        self._verify_errors: tuple = (ValueError,)
        self._secrets: tuple = ()
        self._cond = threading.Condition()
        self._deliveries: list[dict] = []
        self._ok = 0
        self._behaviour_lock = threading.Lock()
        self._fail_left = 0
        self._fail = (503, None, 0.0)
        self._default = (200, None, 0.0)
        self._state_lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conn_lock = threading.Lock()
        self._conns: set = set()
        self.set_secrets(secrets)

    # -- lifecycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> WebhookReceiver:
        """Start serving in a daemon thread (no-op when already serving)."""
        with self._state_lock:
            if self._server is None:
                server = _Server((self.host, self.port), _Handler)
                server.receiver = self
                self.port = server.server_address[1]
                self._server = server
                self._thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"webhook-receiver-{self.port}",
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

    def down(self) -> None:
        """Close the listening socket and open connections: new connections are refused."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- configuration -----------------------------------------------------------------------------------

    def set_secrets(self, secrets) -> None:
        """Set the accepted ``whsec_...`` secrets (a list, one string, or None to disable verification)."""
        if isinstance(secrets, str):
            secrets = [secrets]
        secrets = tuple(secrets or ())
        webhooks: tuple = ()
        if secrets:
            from standardwebhooks.webhooks import Webhook, WebhookVerificationError

            webhooks = tuple(Webhook(secret) for secret in secrets)
            self._verify_errors = (WebhookVerificationError, ValueError)
        self._secrets, self._webhooks = secrets, webhooks

    def fail_next(self, count: int, status: int = 503, retry_after=None, delay: float = 0) -> None:
        """Answer the next ``count`` requests with ``status`` (and Retry-After) after ``delay`` seconds."""
        with self._behaviour_lock:
            self._fail_left = int(count)
            self._fail = (int(status), retry_after, float(delay or 0))

    def set_default(self, status: int = 200, delay: float = 0, retry_after=None) -> None:
        """Change the answer for all following (non-injected) requests."""
        with self._behaviour_lock:
            self._default = (int(status), retry_after, float(delay or 0))

    def reset(self) -> None:
        """Forget deliveries and injected behaviour (secrets are kept)."""
        with self._behaviour_lock:
            self._fail_left = 0
            self._default = (200, None, 0.0)
        self.clear()

    # -- recorded deliveries -----------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[dict]:
        with self._cond:
            return [dict(d) for d in self._deliveries]

    def clear(self) -> None:
        with self._cond:
            self._deliveries.clear()
            self._ok = 0

    def count_ok(self) -> int:
        with self._cond:
            return self._ok

    def wait_for(self, count: int, timeout: float = 10, ok_only: bool = True) -> bool:
        """Block until ``count`` deliveries got a 2xx answer (any status with ok_only=False)."""

        def done() -> bool:
            return (self._ok if ok_only else len(self._deliveries)) >= count

        with self._cond:
            return self._cond.wait_for(done, timeout)

    # -- request handling (called from handler threads) --------------------------------------------------

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

    def _verify(self, body: bytes, headers: dict):
        webhooks = self._webhooks
        if not webhooks:
            return None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        for webhook in webhooks:
            try:
                webhook.verify(text, headers, json_parse=False)
                return True
            except self._verify_errors:
                continue
        return False

    def _on_request(self, handler: _Handler) -> None:
        received_at = time.time()
        try:
            body = handler.read_body()
        except (ValueError, OSError):
            handler.close_connection = True
            handler.reply_json(400, {"error": "bad request body"})
            return
        path = handler.path
        if path.startswith(CONTROL_PREFIX):
            self._on_control(handler, path.split("?", 1)[0], body)
            return
        headers = {k.lower(): v for k, v in handler.headers.items()}
        verified = self._verify(body, headers)
        with self._behaviour_lock:
            injected = self._fail_left > 0
            if injected:
                self._fail_left -= 1
                status, retry_after, delay = self._fail
            else:
                status, retry_after, delay = self._default
        if not injected and verified is False:
            status, retry_after = 401, None
        parsed = None
        if self.record_bodies and body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        if delay:
            time.sleep(delay)
        ok = 200 <= status < 300
        record = {
            "path": path,
            "method": handler.command,
            "headers": headers,
            "body": body if self.record_bodies else None,
            "json": parsed,
            "webhook_id": headers.get("webhook-id"),
            "status": status,
            "verified": verified,
            "received_at": received_at,
        }
        # Record before replying, so a client that has its answer always finds the delivery recorded.
        with self._cond:
            self._deliveries.append(record)
            self._ok += ok
            self._cond.notify_all()
        if ok:
            handler.reply(status, _OK_BODY, retry_after)
        elif status == 401:
            handler.reply(status, b'{"error":"invalid signature"}', retry_after)
        else:
            handler.reply(status, b'{"error":"injected failure"}', retry_after)

    def _on_get(self, handler: _Handler) -> None:
        path = handler.path.split("?", 1)[0]
        if path == CONTROL_PREFIX + "deliveries":
            handler.reply_json(200, {"deliveries": [_jsonable(d) for d in self.deliveries]})
        elif path.startswith(CONTROL_PREFIX):
            handler.reply_json(404, {"error": "unknown control path"})
        else:
            handler.reply_json(405, {"error": "use POST or PUT"})

    def _on_control(self, handler: _Handler, path: str, body: bytes) -> None:
        if path == CONTROL_PREFIX + "reset":
            self.reset()
            handler.reply_json(200, {"ok": True})
        elif path == CONTROL_PREFIX + "behaviour":
            try:
                self._apply_behaviour(json.loads(body or b"{}"))
            except (ValueError, TypeError, AttributeError) as exc:
                handler.reply_json(400, {"error": str(exc)})
                return
            handler.reply_json(200, {"ok": True})
        else:
            handler.reply_json(404, {"error": "unknown control path"})

    def _apply_behaviour(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise TypeError("behaviour must be a JSON object")
        has_fail = "fail_next" in data
        if has_fail:
            self.fail_next(
                int(data["fail_next"]),
                status=int(data.get("status", 503)),
                retry_after=data.get("retry_after"),
                delay=float(data.get("delay") or 0),
            )
        if "default_status" in data:
            self.set_default(
                status=int(data["default_status"]),
                delay=float(data.get("default_delay", 0 if has_fail else data.get("delay")) or 0),
                retry_after=data.get("default_retry_after", None if has_fail else data.get("retry_after")),
            )
        if "secrets" in data:
            self.set_secrets(data["secrets"])


def _jsonable(delivery: dict) -> dict:
    body = delivery.get("body")
    if isinstance(body, bytes):
        delivery["body"] = body.decode("utf-8", errors="replace")
    return delivery


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", action="append", default=[], help="whsec_... (repeatable)")
    parser.add_argument("--no-bodies", action="store_true", help="do not record request bodies")
    args = parser.parse_args(argv)
    stop = stop_event_on_signals()
    receiver = WebhookReceiver(args.secret or None, args.host, args.port, record_bodies=not args.no_bodies)
    receiver.start()
    try:
        sys.stdout.write(json.dumps({"url": receiver.url}) + "\n")
        sys.stdout.flush()
        wait_until(stop)
    finally:
        receiver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
