"""When EventBridge Scheduler would fire a schedule: for the local stack's scheduler thread.

Expressions are parsed by the layer (bulkimport.schedules.expressions), as the API validates them,
so the local stack runs exactly what the API accepts; only the firing times are computed here.

Cron times are computed here rather than with croniter, the library the ecosystem uses for cron,
because croniter does not read AWS cron as it is: it has no 6-field form with a year (its 7-field
form puts seconds before the year, and its years stop at 2099, AWS's at 2199), counts day-of-week
from 0 = Sunday where AWS counts from 1, and handles daylight-saving changes otherwise than
EventBridge Scheduler documents, as this module does: a time the spring change skips is skipped
(croniter fires it when the gap ends) and a time the autumn change repeats fires once (croniter: twice).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bulkimport.schedules.expressions import parse, zone


def next_fire(expression: str, after: datetime, tz: str, start: datetime | None = None) -> datetime | None:
    """The first firing of a schedule expression strictly after `after` (aware UTC), or None for
    an `at` already past. `start` is when a rate schedule began (its firings are start + k * rate).
    Raises the layer's error for an expression the API would refuse."""
    parsed = parse(expression)
    if parsed.kind == "at":
        when = parsed.at.replace(tzinfo=zone(tz)).astimezone(UTC)
        return when if when > after else None
    if parsed.kind == "rate":
        start = start or after
        steps = max(0, int((after - start).total_seconds() // parsed.every) + 1)
        return start + timedelta(seconds=steps * parsed.every)
    return _next_cron(parsed.cron, after, zone(tz))


def _next_cron(cron: tuple, after: datetime, tz: ZoneInfo) -> datetime | None:
    minutes, hours, days, months, weekdays, years = cron
    local = after.astimezone(tz).replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
    day = local.date()
    for _ in range(366 * 5):
        aws_weekday = (day.isoweekday() % 7) + 1  # Sunday -> 1
        if (
            day.month in months
            and (years is None or day.year in years)
            and (days is None or day.day in days)
            and (weekdays is None or aws_weekday in weekdays)
        ):
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    candidate = datetime(day.year, day.month, day.day, hour, minute)
                    if candidate < local:
                        continue
                    fire = candidate.replace(tzinfo=tz).astimezone(UTC)
                    # As EventBridge Scheduler does across daylight-saving changes: a wall time the
                    # clocks skip does not fire, and one they repeat fires once, at its first
                    # occurrence (which, seen from inside the repeated hour, is already past).
                    if fire.astimezone(tz).replace(tzinfo=None) == candidate and fire > after:
                        return fire
        day = day + timedelta(days=1)
    return None
