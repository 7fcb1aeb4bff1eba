"""The one HTTP helper every outbound channel goes through.

A :class:`Transport` keeps one keep-alive ``requests.Session`` per drain batch, never follows redirects,
always sends a timeout, measures the elapsed time and turns every transport error into an :class:`Exchange`
with ``error`` set, so callers never see a ``requests`` exception.
"""
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

_logger = logging.getLogger(__name__)

#: Seconds before an outbound request is abandoned, unless the channel says otherwise.
DEFAULT_TIMEOUT = 15
USER_AGENT = "Odoo-invoice_bridge/18.0"


@dataclass
class Request:
    method: str
    url: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    #: literal secrets contained in headers/body, masked before anything is logged
    secrets: tuple = ()
    #: what the sync log keeps of the body when it must not keep the body itself (a whole document); None: the body
    log_body: str = None

    def logged_body(self):
        if self.log_body is not None:
            return self.log_body
        return self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else (self.body or "")


@dataclass
class Exchange:
    request: Request
    status: int = 0
    headers: dict = field(default_factory=dict)
    body: str = ""
    elapsed_ms: int = 0
    #: full transport error (for the log's error tab); empty when the target answered
    error: str = ""
    #: "timeout", "connection" or "" (no transport error)
    error_kind: str = ""
    #: one short line a user can read, e.g. "could not connect to 127.0.0.1:9"
    summary: str = ""

    @property
    def ok(self):
        return not self.error and 200 <= self.status < 300


class Transport:
    def __init__(self, session=None):
        self._own = session is None
        self.session = session or requests.Session()
        if self._own and not requests.utils.getproxies():
            # requests re-reads proxy settings from os.environ on every request (~0.5 ms each); with no proxy
            # configured there is nothing to find, so skip it. With HTTP(S)_PROXY set, the standard path is kept.
            self.session.trust_env = False

    def close(self):
        if self._own:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, request):
        headers = {"User-Agent": USER_AGENT, **request.headers}
        start = time.perf_counter()
        exchange = Exchange(request=request)
        try:
            resp = self.session.request(request.method, request.url, data=request.body, headers=headers,
                                        timeout=request.timeout or DEFAULT_TIMEOUT, allow_redirects=False)
            exchange.status = resp.status_code
            exchange.headers = dict(resp.headers)
            exchange.body = resp.text
        except requests.Timeout as exc:
            exchange.error, exchange.error_kind = f"{exc.__class__.__name__}: {exc}", "timeout"
            exchange.summary = f"no answer within {request.timeout or DEFAULT_TIMEOUT} s"
        except requests.RequestException as exc:
            exchange.error, exchange.error_kind = f"{exc.__class__.__name__}: {exc}", "connection"
            host = urlsplit(request.url).netloc or request.url
            exchange.summary = f"could not connect to {host}"
        exchange.elapsed_ms = int((time.perf_counter() - start) * 1000)
        _logger.debug("%s %s -> %s in %d ms", request.method, request.url, exchange.status or exchange.error,
                      exchange.elapsed_ms)
        return exchange
