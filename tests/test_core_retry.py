from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from ib_lib.core_retry import (
    BREAKER_MAX_PAUSE,
    DEFAULT_SCHEDULE,
    MAX_RETRY_AFTER,
    ScheduleError,
    breaker_pause,
    delay_after_failure,
    describe_schedule,
    parse_retry_after,
    parse_schedule,
)


def test_default_is_the_standard_webhooks_schedule():
    assert parse_schedule(DEFAULT_SCHEDULE) == [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert parse_schedule("") == parse_schedule(DEFAULT_SCHEDULE)


def test_units_and_errors():
    assert parse_schedule("0, 1.5s ,2m,1h,1d") == [0, 1.5, 120, 3600, 86400]
    with pytest.raises(ScheduleError):
        parse_schedule("5 minutes")


def test_delay_after_failure_then_dead():
    schedule = parse_schedule("0,5s,5m")
    assert delay_after_failure(1, schedule) == 5
    assert delay_after_failure(2, schedule) == 300
    assert delay_after_failure(3, schedule) is None


def test_retry_after_seconds_date_and_garbage():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now=now) == 0
    assert parse_retry_after("999999999") == MAX_RETRY_AFTER
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_schedule_in_words():
    """#16.12: the settings screen says what the schedule means instead of showing only the raw string."""
    assert describe_schedule(parse_schedule(DEFAULT_SCHEDULE)) == (
        "10 attempts: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 1 d. "
        "Gives up 3 d 3 h after the first.")
    assert describe_schedule([0, 5, 300]) == "3 attempts: at once, then after 5 s and 5 min. Gives up 5 min 5 s " \
                                             "after the first."
    assert describe_schedule([0]) == "1 attempt, at once; no retry."
    assert describe_schedule([60, 90]) == "2 attempts: after 1 min, then after 1 min 30 s. Gives up 1 min 30 s " \
                                          "after the first."


def test_breaker_pauses_from_the_threshold_doubling_up_to_the_cap():
    assert [breaker_pause(n, threshold=3) for n in range(1, 7)] == [None, None, 30, 60, 120, 240]
    assert breaker_pause(40, threshold=3) == BREAKER_MAX_PAUSE
    assert breaker_pause(10 ** 6, threshold=3) == BREAKER_MAX_PAUSE
    assert breaker_pause(99, threshold=0) is None  # off
