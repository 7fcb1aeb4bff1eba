"""Loopback fake webhook receiver (stdlib HTTP server, Standard Webhooks verification, failure injection).

Used by tests, benchmarks and the offline demo. Run standalone with::

    python3 tools/fakes.py webhook_receiver [--port 0] [--secret whsec_x ...] [--no-bodies]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from .core_loopback import (
    _OK_BODY,
    CONTROL_PREFIX,
    LoopbackHandler,
    LoopbackServer,
    serve_until_signalled,
    stop_event_on_signals,  # noqa: F401 - re-exported (demo_fakes imports it from here)
    wait_until,  # noqa: F401 - re-exported (demo_fakes imports it from here)
)


class _Handler(LoopbackHandler):
    server_version = "FakeWebhookReceiver"


class WebhookReceiver(LoopbackServer):
    """Fake webhook endpoint on loopback; records deliveries and can inject failures."""

    handler_class = _Handler
    thread_name = "webhook-receiver"
    poll_interval = 0.05

    def __init__(self, secrets=None, host: str = "127.0.0.1", port: int = 0, record_bodies: bool = True):
        super().__init__(host, port)
        self.record_bodies = record_bodies
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
        self.set_secrets(secrets)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def down(self) -> None:
        """Close the listening socket and open connections: new connections are refused."""
        self.stop()

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

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
        body = handler.read_body_or_400()
        if body is None:
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

    def _control_post(self, name: str):
        return self._apply_behaviour if name == "behaviour" else None

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", action="append", default=[], help="whsec_... (repeatable)")
    parser.add_argument("--no-bodies", action="store_true", help="do not record request bodies")
    args = parser.parse_args(argv)
    receiver = WebhookReceiver(args.secret or None, args.host, args.port, record_bodies=not args.no_bodies)
    return serve_until_signalled(receiver)


if __name__ == "__main__":
    sys.exit(main())
