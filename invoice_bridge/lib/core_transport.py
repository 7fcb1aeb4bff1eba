"""The one HTTP helper every outbound channel goes through.

A :class:`Transport` keeps keep-alive ``requests`` sessions for a whole drain, never follows redirects,
always sends a timeout, measures the elapsed time and turns every transport error into an :class:`Exchange`
with ``error`` set, so callers never see a ``requests`` exception.

:meth:`Transport.send_many` keeps up to ``concurrency`` requests in flight (threads, one keep-alive session
each), at most a given number per target, and starts them in the order given. Only HTTP happens in its
threads: the caller decides, in its own thread, whether each request still starts, and reads each answer as
it comes.
"""
import logging
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
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
    #: the body's bytes as they came (a binary answer, e.g. a PDF, cannot be read back from ``body``)
    content: bytes = b""
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


_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>:?\s*")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")


def _root_cause(exc):
    """The innermost reason of a ``requests`` error (urllib3 wraps it in MaxRetryError, then NewConnectionError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None) or exc.__cause__ or exc.__context__
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if inner is None or not isinstance(inner, BaseException):
            return exc
        exc = inner
    return exc


def connection_reason(exc):
    """Why a connection failed, in a few words a person reads ("connection refused", "host name not found")."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "secure connection (TLS) failed"
    root = _root_cause(exc)
    text = _ERRNO.sub("", _OBJECT_REPR.sub("", str(root))).strip()
    lowered = text.lower()
    if isinstance(root, ConnectionRefusedError) or "connection refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or \
            "temporary failure in name resolution" in lowered or "failed to resolve" in lowered:
        return "host name not found"
    if isinstance(root, ConnectionResetError) or "connection reset" in lowered:
        return "connection reset by the other side"
    if "remote end closed connection" in lowered or "connection aborted" in lowered:
        return "the other side closed the connection without answering"
    if "network is unreachable" in lowered or "no route to host" in lowered:
        return "network unreachable"
    return text.split(":")[-1].strip() or root.__class__.__name__


def readable_error(exc):
    """The error of an exception without Python object addresses (``<... object at 0x7f...>``)."""
    return f"{exc.__class__.__name__}: {_OBJECT_REPR.sub('', str(exc))}"


class Transport:
    def __init__(self, session=None, concurrency=1):
        self._own = session is None
        self.session = session or self._new_session()
        self.concurrency = max(int(concurrency or 1), 1)
        self._pool = None
        self._local = threading.local()
        self._thread_sessions = []
        self._lock = threading.Lock()

    def _new_session(self):
        session = requests.Session()
        if not requests.utils.getproxies():
            # requests re-reads proxy settings from os.environ on every request (~0.5 ms each); with no proxy
            # configured there is nothing to find, so skip it. With HTTP(S)_PROXY set, the standard path is kept.
            session.trust_env = False
        return session

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for session in self._thread_sessions:
            session.close()
        self._thread_sessions = []
        if self._own:
            self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, request):
        return self._send(request, self.session)

    def _send_in_thread(self, request):
        session = getattr(self._local, "session", None)
        if session is None:  # one keep-alive session per sending thread (a Session is not thread-safe)
            session = self._local.session = self._new_session()
            with self._lock:
                self._thread_sessions.append(session)
        return self._send(request, session)

    def send_many(self, jobs, limits=None, ready=None):
        """Send ``jobs`` (``(key, target, Request)`` in the order they should start); yield ``(key, Exchange)``
        as the answers come.

        At most ``self.concurrency`` requests are in flight, and at most ``limits.get(target, 1)`` per target
        (``limits`` None: no limit but the concurrency). ``ready(key)``, called in the caller's thread right
        before a job would start, returns False to leave it unsent (a target paused meanwhile, a time budget
        spent). The caller's code between two answers runs in its own thread, so it may use what it likes.
        With a concurrency of 1 the jobs are sent one after the other, in the caller's thread.
        """
        ready = ready or (lambda _key: True)
        targets = {target for _key, target, _request in jobs}
        widest = sum(max(limits.get(t, 1), 1) for t in targets) if limits is not None else len(jobs)
        if min(self.concurrency, widest) <= 1:  # nothing could go side by side: no thread
            for key, _target, request in jobs:
                if ready(key):
                    yield key, self.send(request)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="invoice_bridge-send")
        queue, in_flight, running = list(jobs), {}, {}
        while queue or running:
            started, left = False, []
            for key, target, request in queue:
                limit = limits.get(target, 1) if limits is not None else self.concurrency
                if len(running) >= self.concurrency or in_flight.get(target, 0) >= max(limit, 1):
                    left.append((key, target, request))
                    continue
                if not ready(key):
                    continue
                future = self._pool.submit(self._send_in_thread, request)
                running[future] = (key, target)
                in_flight[target] = in_flight.get(target, 0) + 1
                started = True
            queue = left
            if not running:
                if not started:  # only jobs the caller no longer wants, or none at all
                    return
                continue
            done, _pending = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: list(running).index(f)):
                key, target = running.pop(future)
                in_flight[target] -= 1
                yield key, future.result()

    def _send(self, request, session):
        headers = {"User-Agent": USER_AGENT, **request.headers}
        start = time.perf_counter()
        exchange = Exchange(request=request)
        try:
            resp = session.request(request.method, request.url, data=request.body, headers=headers,
                                   timeout=request.timeout or DEFAULT_TIMEOUT, allow_redirects=False)
            exchange.status = resp.status_code
            exchange.headers = dict(resp.headers)
            exchange.body = resp.text
            exchange.content = resp.content
        except requests.Timeout as exc:
            exchange.error_kind = "timeout"
            exchange.summary = f"no answer within {request.timeout or DEFAULT_TIMEOUT} s"
            exchange.error = f"{exchange.summary} ({readable_error(exc)})"
        except requests.RequestException as exc:
            exchange.error_kind = "connection"
            host = urlsplit(request.url).netloc or request.url
            exchange.summary = f"could not connect to {host}: {connection_reason(exc)}"
            exchange.error = f"{exchange.summary} ({readable_error(exc)})"
        exchange.elapsed_ms = int((time.perf_counter() - start) * 1000)
        _logger.debug("%s %s -> %s in %d ms", request.method, request.url, exchange.status or exchange.error,
                      exchange.elapsed_ms)
        return exchange
