from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from ib_lib.core_retry import (
    DEFAULT_SCHEDULE,
    MAX_RETRY_AFTER,
    ScheduleError,
    delay_after_failure,
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
