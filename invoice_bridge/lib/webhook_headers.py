"""Static, non-secret headers an endpoint adds to every request, read from the lines a user types
(``Name: value``). Nothing here touches the ORM: problems are raised with a code the model words."""
import re

from .core_masking import is_secret_header

#: the most static headers of an endpoint, and the longest value of one
MAX_HEADERS = 20
MAX_VALUE_LENGTH = 1000
#: names the delivery sets itself (Standard Webhooks, HTTP framing): never overridden
RESERVED = frozenset({
    "webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "content-encoding",
    "transfer-encoding", "host", "connection", "keep-alive", "upgrade", "te", "trailer", "expect",
})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_VALUE = re.compile(r"[\t\x20-\x7e\x80-\uffff]*\Z")


class HeaderProblem(ValueError):
    """``code``: syntax, name, reserved, secret, value, duplicate or too_many; ``line``: 1-based; ``name``."""

    def __init__(self, code, line, name=""):
        super().__init__(f"{code} (line {line}: {name})")
        self.code, self.line, self.name = code, line, name


def parse_static_headers(text):
    """The ``Name: value`` lines of ``text`` (blank lines ignored) → ``{name: value}`` in their order.

    Refused: a line without a colon, a name that isn't an HTTP token, a reserved name, a name that looks like a
    credential (these headers are stored and shown in clear: a secret belongs in the signing secret), a value
    with control characters or longer than MAX_VALUE_LENGTH, a name twice (any case), more than MAX_HEADERS.
    """
    headers, seen = {}, set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name:
            raise HeaderProblem("syntax", number, line.strip()[:40])
        if not _TOKEN.match(name):
            raise HeaderProblem("name", number, name[:40])
        if name.lower() in RESERVED:
            raise HeaderProblem("reserved", number, name)
        if is_secret_header(name):
            raise HeaderProblem("secret", number, name)
        if len(value) > MAX_VALUE_LENGTH or not _VALUE.match(value):
            raise HeaderProblem("value", number, name)
        if name.lower() in seen:
            raise HeaderProblem("duplicate", number, name)
        if len(headers) == MAX_HEADERS:
            raise HeaderProblem("too_many", number, name)
        seen.add(name.lower())
        headers[name] = value
    return headers
