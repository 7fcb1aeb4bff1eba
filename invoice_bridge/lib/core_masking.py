"""Masking of secrets and truncation of bodies before anything reaches the sync log or the server log.

Secrets are masked three ways: by value (the literal secrets of a request, and every secret the addon holds,
remembered by :func:`remember_secrets`), by shape (``Bearer …``, ``whsec_…``, ``ibk_…``, ``access_token=…``) and
by name (headers and JSON keys that look like credentials). :class:`SecretFilter` applies the same to the
server log.
"""
import contextlib
import json
import logging
import re
import threading

MASK = "***"
#: Default size kept of a request/response body in a log line.
DEFAULT_BODY_LIMIT = 4096
#: a secret shorter than this is not masked by value (it would mask ordinary words)
MIN_SECRET_LENGTH = 8

#: header names that look like credentials (auth, token, key, secret, signature, password, cookie, session)
SECRET_HEADER_RE = re.compile(r"auth|token|key|secret|signature|passw|cookie|session", re.IGNORECASE)
#: header names that match the pattern but carry no secret
PUBLIC_HEADERS = {"idempotency-key", "x-idempotency-key"}
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api[_-]?key|apikey|authorization|signature)",
                         re.IGNORECASE)
_INLINE = [
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"(whsec_)[A-Za-z0-9+/=]+"),
    re.compile(r"(ibk_)[A-Za-z0-9_-]+"),
    re.compile(r"(access_token=)[A-Za-z0-9-]+"),
]
_remembered = set()
_remembered_lock = threading.Lock()


def remember_secrets(values):
    """Remember secret values this process holds (tokens, keys, webhook secrets): masked wherever they appear."""
    fresh = {str(v) for v in values or () if v and len(str(v)) >= MIN_SECRET_LENGTH}
    if fresh - _remembered:
        with _remembered_lock:
            _remembered.update(fresh)


def remembered_secrets():
    with _remembered_lock:
        return tuple(_remembered)


def mask_value(value, keep=4):
    """``"abcdef123456"`` → ``"abcd***"``: enough to recognise a key, never enough to use it."""
    value = str(value or "")
    if len(value) <= keep * 2:
        return MASK
    return value[:keep] + MASK


def is_secret_header(name, extra=()):
    name = str(name).lower()
    if name in PUBLIC_HEADERS:
        return False
    return bool(SECRET_HEADER_RE.search(name)) or name in {e.strip().lower() for e in extra}


def mask_headers(headers, extra=()):
    """Headers with the values of credential-looking names masked (``extra``: more names, from the settings)."""
    return {k: (mask_value(v) if is_secret_header(k, extra) else v) for k, v in (headers or {}).items()}


def _mask_obj(obj):
    if isinstance(obj, dict):
        return {k: (mask_value(v) if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, (str, int))
                    else _mask_obj(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask_obj(v) for v in obj]
    return obj


def mask_text(text, secrets=()):
    """Mask known secret strings, secret-looking JSON keys and inline credentials in ``text``."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        with contextlib.suppress(ValueError):  # not JSON after all: masked as plain text below
            text = json.dumps(_mask_obj(json.loads(text)), ensure_ascii=False)
    for secret in {*(secrets or ()), *remembered_secrets()}:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, mask_value(secret))
    for pattern in _INLINE:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def truncate(text, limit=DEFAULT_BODY_LIMIT):
    if text is None or limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters truncated]"


def sanitize(text, secrets=(), limit=DEFAULT_BODY_LIMIT):
    """Mask, then truncate: the one function the sync log applies to every body it stores."""
    return truncate(mask_text(text, secrets), limit)


class SecretFilter(logging.Filter):
    """Masks secrets in server log records (e.g. a failed query Odoo logs with its parameters)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = _mask_plain(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def _mask_plain(text):
    for secret in remembered_secrets():
        if secret in text:
            text = text.replace(secret, mask_value(secret))
    for pattern in _INLINE:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


_FILTER = SecretFilter()


def install_log_filter(logger_names=("odoo.sql_db",)):
    """Put :class:`SecretFilter` on the root logger's handlers and on ``logger_names`` (once)."""
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    for name in logger_names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
