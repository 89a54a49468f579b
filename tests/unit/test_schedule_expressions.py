"""Schedule expressions as EventBridge Scheduler reads them, with time zones: validated by the layer,
fired by the local stack (devstack.schedules)."""

from datetime import UTC, datetime

import pytest

from bulkimport.errors import InvalidInput
from bulkimport.schedules.expressions import parse, zone
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


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 2 * * ?)", "cron takes 6 fields: minutes hours day-of-month month day-of-week year"),
        ("cron(0 2 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 25 * * ? *)", "'25' is not a value in 0-23 (L, W and # are not supported)"),
        ("cron(0-1-2 * * * ? *)", "'1-2' is not a value in 0-59 (L, W and # are not supported)"),
        ("cron(5-3 * * * ? *)", "'5-3' is not a valid range or step"),
        ("cron(1/0 * * * ? *)", "'1/0' is not a valid range or step"),
        ("cron(1/x * * * ? *)", "'1/x' is not a valid range or step"),
        ("rate(1 hours)", "rate(<value> <unit>) with minute(s), hour(s) or day(s); 1 takes the singular unit"),
        ("at(2026-13-01T00:00:00)", "at(yyyy-mm-ddThh:mm:ss)"),
        ("every day", "at(...), rate(...) or cron(...)"),
        (None, "at(...), rate(...) or cron(...)"),
    ],
)
def test_a_refused_expression_says_why(expression, reason):
    with pytest.raises(InvalidInput) as caught:
        parse(expression)
    assert caught.value.params == {"expression": expression, "reason": reason}


def test_what_an_expression_reads_as():
    every_15_from_5 = parse("cron(5/15 * * * ? *)")
    assert (every_15_from_5.text, every_15_from_5.kind) == ("cron(5/15 * * * ? *)", "cron")
    assert every_15_from_5.cron[0] == {5, 20, 35, 50}
    assert parse("cron(*/1 * * * ? *)").cron[0] == set(range(60))
    assert parse("cron(59 23 31 12 ? 2199)").cron == ({59}, {23}, {31}, {12}, None, {2199})  # each field's highest
    assert parse(" rate(2 hours) ") == parse("rate(2 hours)")
    assert (parse("rate(2 hours)").text, parse("rate(2 hours)").every) == ("rate(2 hours)", 7200)
    assert parse("at(2026-11-23T02:00:00)").text == "at(2026-11-23T02:00:00)"


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(InvalidInput) as caught:
        zone("Mars/Olympus_Mons")
    assert (caught.value.code, caught.value.params) == ("INVALID_TIMEZONE", {"timezone": "Mars/Olympus_Mons"})
