"""What one delivery attempt means for the engine: success, retry (maybe later, maybe pausing the target) or fail.

Outcomes are immutable: a channel that means something else by an answer returns an outcome of its own (e.g.
``dataclasses.replace(outcome, message=...)``), it never edits one the engine gave it.
"""
from dataclasses import dataclass

from .core_retry import parse_retry_after

SUCCESS, RETRY, FAIL = "success", "retry", "fail"
#: answers that mean "the whole target is overloaded": pause it instead of hammering it message by message
SLOW_DOWN_STATUSES = {429, 502, 503, 504}


@dataclass(frozen=True)
class Outcome:
    result: str
    message: str = ""
    #: seconds before the next attempt (None: the retry schedule decides)
    delay: float = None
    #: seconds during which no message of the same target is attempted
    pause_target: float = None
    #: the target said it is gone for good (HTTP 410)
    gone: bool = False
    #: what a user should do next (shown in the sync log)
    hint: str = ""
    #: what the answer carries that the channel's next step needs (e.g. the id the API created or found)
    data: object = None


def classify_http(exchange, retry_client_errors=True):
    """Default meaning of an HTTP exchange.

    2xx success; transport errors, 3xx (redirects are not followed), 408/425/429 and 5xx are retried; 410 fails
    for good; other 4xx are retried when ``retry_client_errors`` (Standard Webhooks semantics), else fail.
    """
    if exchange.error:
        return Outcome(RETRY, exchange.summary or exchange.error,
                       hint="The target did not answer; it is retried automatically.")
    status = exchange.status
    if 200 <= status < 300:
        return Outcome(SUCCESS, f"HTTP {status}")
    retry_after = parse_retry_after(exchange.headers.get("Retry-After") or exchange.headers.get("retry-after"))
    if status in SLOW_DOWN_STATUSES:
        return Outcome(RETRY, f"HTTP {status}: target asks to slow down", delay=retry_after,
                       pause_target=retry_after, hint="Deliveries to this target are paused, then resumed.")
    if status == 410:
        return Outcome(FAIL, "HTTP 410 Gone: the target no longer accepts deliveries", gone=True,
                       hint="Check the target's URL with its owner, then re-enable it and retry.")
    if 300 <= status < 400:
        location = exchange.headers.get("Location") or exchange.headers.get("location") or "?"
        return Outcome(RETRY, f"HTTP {status} redirect to {location} (redirects are not followed)",
                       hint="Update the configured URL to the final address.")
    if status in (408, 425) or status >= 500 or retry_client_errors:
        return Outcome(RETRY, f"HTTP {status}", delay=retry_after, hint="Retried automatically.")
    return Outcome(FAIL, f"HTTP {status}", hint="The target refused the request; fix the data or the "
                                                "configuration, then retry from the sync log.")


@dataclass(frozen=True)
class Attempt:
    """What the engine recorded for one attempt, as a channel's ``_channel_after_attempts`` hook receives it."""

    outcome: Outcome
    #: the HTTP status of the answer, 0 when none came (a timeout, a refused connection)
    status: int = 0
    #: no automatic attempt follows: the message failed for good or is dead
    given_up: bool = False

    @property
    def answer_lost(self):
        """The request may have been carried out although no usable answer came (no answer, or a 5xx)."""
        return not self.status or self.status >= 500
