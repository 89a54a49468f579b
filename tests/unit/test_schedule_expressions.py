"""Schedule expressions as EventBridge Scheduler reads them, with time zones: validated by the layer,
fired by the local stack (devstack.schedules)."""

from datetime import UTC, datetime

import pytest

from bulkimport.errors import InvalidInput
from bulkimport.schedules.expressions import parse
from devstack.schedules import next_fire

SUNDAY = datetime(2026, 11, 22, 3, 56, tzinfo=UTC)  # 11:56 on a Sunday in Taipei


@pytest.mark.parametrize(
    ("expression", "zone", "expected"),
    [
        ("cron(0 2 * * ? *)", "Asia/Taipei", datetime(2026, 11, 22, 18, 0)),  # 02:00 Monday in Taipei
        ("cron(0 2 * * ? *)", "UTC", datetime(2026, 11, 23, 2, 0)),
        ("cron(0/15 * ? * MON-FRI *)", "Asia/Taipei", datetime(2026, 11, 22, 16, 0)),
        ("cron(30 9 1 JAN,JUL ? 2027)", "Asia/Taipei", datetime(2027, 1, 1, 1, 30)),
        ("cron(0 12 ? * 1 *)", "Asia/Taipei", datetime(2026, 11, 22, 4, 0)),  # 1 = Sunday, noon today
        ("at(2026-11-23T02:00:00)", "Asia/Taipei", datetime(2026, 11, 22, 18, 0)),
        ("cron(0 3 * * ? *)", "America/New_York", datetime(2026, 11, 22, 8, 0)),
    ],
)
def test_next_firing_in_the_schedules_time_zone(expression, zone, expected):
    assert next_fire(expression, SUNDAY, zone) == expected.replace(tzinfo=UTC)


def test_rates_count_from_the_schedules_start_and_at_fires_once():
    start = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
    assert next_fire("rate(1 hour)", SUNDAY, "UTC", start=start) == datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    assert next_fire("rate(5 minutes)", start, "UTC", start=start) == datetime(2026, 11, 22, 0, 5, tzinfo=UTC)
    assert next_fire("at(2026-11-01T00:00:00)", SUNDAY, "UTC") is None


# New York's clocks go from 02:00 EST to 03:00 EDT on 2026-03-08 and from 02:00 EDT back to 01:00 EST on
# 2026-11-01. EventBridge Scheduler skips a time that does not exist and fires a repeated one once.
@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(30 2 * * ? *)", datetime(2026, 3, 8, 6, 0), datetime(2026, 3, 9, 6, 30)),  # 02:30 on 03-08 never was
        ("cron(30 1 * * ? *)", datetime(2026, 11, 1, 4, 0), datetime(2026, 11, 1, 5, 30)),  # 01:30 EDT, the first one
        ("cron(30 1 * * ? *)", datetime(2026, 11, 1, 5, 30, 30), datetime(2026, 11, 2, 6, 30)),  # not 01:30 EST again
        ("cron(0/15 * * * ? *)", datetime(2026, 11, 1, 6, 10), datetime(2026, 11, 1, 7, 0)),  # in the repeated hour
    ],
)
def test_daylight_saving_changes_as_eventbridge_scheduler_documents(expression, after, expected):
    assert next_fire(expression, after.replace(tzinfo=UTC), "America/New_York") == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 2 * * * *)",  # both day fields given
        "cron(0 2 * * ?)",  # five fields
        "cron(0 25 * * ? *)",
        "cron(0 2 L * ? *)",  # L is not supported
        "cron(0 2 ? * 6#3 *)",
        "rate(1 hours)",
        "rate(0 minutes)",
        "rate(2 weeks)",
        "at(2026-13-01T00:00:00)",
        "every day",
    ],
)
def test_expressions_we_cannot_run_are_refused(expression):
    with pytest.raises(InvalidInput) as caught:
        parse(expression)
    assert caught.value.code == "INVALID_SCHEDULE_EXPRESSION"
