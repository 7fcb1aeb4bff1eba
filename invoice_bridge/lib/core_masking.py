"""Masking of secrets and truncation of bodies before anything reaches the sync log."""
import contextlib
import json
import re

MASK = "***"
#: Default size kept of a request/response body in a log line.
DEFAULT_BODY_LIMIT = 4096

SECRET_HEADERS = {"authorization", "x-api-key", "api-key", "webhook-signature", "cookie", "set-cookie",
                  "proxy-authorization", "x-odoo-api-key"}
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api[_-]?key|apikey|authorization|signature)",
                         re.IGNORECASE)
_INLINE = [
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"(whsec_)[A-Za-z0-9+/=]+"),
    re.compile(r"(access_token=)[A-Za-z0-9-]+"),
]


def mask_value(value, keep=4):
    """``"abcdef123456"`` → ``"abcd***"``: enough to recognise a key, never enough to use it."""
    value = str(value or "")
    if len(value) <= keep * 2:
        return MASK
    return value[:keep] + MASK


def mask_headers(headers):
    return {k: (mask_value(v) if k.lower() in SECRET_HEADERS else v) for k, v in (headers or {}).items()}


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
    for secret in secrets or ():
        if secret and len(secret) >= 4:
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
