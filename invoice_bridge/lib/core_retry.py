"""Retry schedule and ``Retry-After`` parsing for the delivery engine."""
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

#: The Standard Webhooks schedule: the first attempt at once, then these delays after each failure.
DEFAULT_SCHEDULE = "0,5s,5m,30m,2h,5h,10h,14h,20h,24h"
#: Longest wait we accept from a remote ``Retry-After`` header (anything longer is capped).
MAX_RETRY_AFTER = 24 * 3600

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 1}
_TOKEN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)


class ScheduleError(ValueError):
    pass


def parse_schedule(text):
    """``"0,5s,5m"`` → ``[0, 5, 300]`` (seconds). Entry *k* is the wait before attempt *k + 1*."""
    text = (text or "").strip() or DEFAULT_SCHEDULE
    delays = []
    for token in text.split(","):
        match = _TOKEN.match(token)
        if not match:
            raise ScheduleError(f"invalid delay {token.strip()!r}: use numbers with s, m, h or d, e.g. 5s,5m,2h")
        delays.append(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return delays


def max_attempts(schedule):
    return len(schedule)


def delay_after_failure(attempts_done, schedule):
    """Seconds to wait after the ``attempts_done``-th failed attempt, or ``None`` when none is left."""
    if attempts_done < len(schedule):
        return schedule[attempts_done]
    return None


def parse_retry_after(value, now=None):
    """``Retry-After`` (delta-seconds or HTTP-date) → seconds, capped to ``MAX_RETRY_AFTER``; None if absent/bad."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return float(min(max((when - now).total_seconds(), 0), MAX_RETRY_AFTER))


def _duration(seconds):
    """``5`` → ``"5 s"``, ``300`` → ``"5 min"``, ``7200`` → ``"2 h"``, ``90000`` → ``"1 d 1 h"`` (round figures)."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(parts[:2]) or "0 s"


def describe_schedule(schedule):
    """The schedule in words, for the settings screen: when each attempt is made and when the engine gives up.

    ``[0, 5, 300]`` → ``"3 attempts: at once, then after 5 s and 5 min. Gives up 5 min 5 s after the first."``
    """
    if not schedule:
        return ""
    first, later = schedule[0], schedule[1:]
    start = "at once" if not first else f"after {_duration(first)}"
    if not later:
        return f"1 attempt, {start}; no retry."
    waits = [_duration(d) for d in later]
    listed = waits[0] if len(waits) == 1 else ", ".join(waits[:-1]) + " and " + waits[-1]
    return (f"{len(schedule)} attempts: {start}, then after {listed}. "
            f"Gives up {_duration(sum(later))} after the first.")


#: the circuit breaker: a target failing this many times in a row is paused (0: never), first for
#: BREAKER_FIRST_PAUSE seconds, doubling at each failed probe, at most BREAKER_MAX_PAUSE
DEFAULT_BREAKER_FAILURES = 5
BREAKER_FIRST_PAUSE = 30
BREAKER_MAX_PAUSE = 3600


def breaker_pause(failures, threshold=DEFAULT_BREAKER_FAILURES, first=BREAKER_FIRST_PAUSE, cap=BREAKER_MAX_PAUSE):
    """Seconds a target that has just failed ``failures`` times in a row waits before its next probe, or None
    while it is below ``threshold`` (or the breaker is off: ``threshold`` 0)."""
    if threshold <= 0 or failures < threshold:
        return None
    return min(first * 2 ** min(failures - threshold, 20), cap)
