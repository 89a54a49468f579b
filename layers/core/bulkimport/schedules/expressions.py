"""EventBridge Scheduler expressions: `at(...)`, `rate(...)` and `cron(...)` with a time zone.

The API validates expressions with this before handing them to EventBridge Scheduler, which runs
them on AWS (the local stack's firing times: devstack/schedules.py). Cron supports what schedules of
imports use: numbers, names (JAN-DEC, SUN-SAT), `*`, `?`, ranges, lists and steps. `L`, `W` and `#`
are refused with a clear error rather than fired wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bulkimport.errors import InvalidInput

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(([^()]+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i + 1 for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])
}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}  # AWS: 1 = Sunday
# minutes, hours, day of month, month, day of week, year
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (1, 7, _DAYS),
    (1970, 2199, {}),
)


def invalid(expression: str, reason: str) -> InvalidInput:
    return InvalidInput("INVALID_SCHEDULE_EXPRESSION", expression=expression, reason=reason)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("INVALID_TIMEZONE", timezone=name) from None


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match or int(match[1]) < 1 or (int(match[1]) == 1) != (not match[2].endswith("s")):
        raise invalid(expression, "rate(<value> <unit>) with minute(s), hour(s) or day(s); 1 takes the singular unit")
    return int(match[1]) * _UNIT_SECONDS[match[2].rstrip("s")]


@dataclass(frozen=True)
class Expression:
    text: str
    kind: str  # at, rate, cron
    at: datetime | None = None  # local wall time, naive
    every: int | None = None  # seconds
    cron: tuple[frozenset[int] | None, ...] | None = None  # per field; None = any ("?")


def parse(expression: str) -> Expression:
    text = (expression or "").strip()
    if match := _AT.match(text):
        try:
            return Expression(text, "at", at=datetime.fromisoformat(match[1]))
        except ValueError:
            raise invalid(expression, "at(yyyy-mm-ddThh:mm:ss)") from None
    if text.startswith("rate("):
        return Expression(text, "rate", every=rate_seconds(text))
    if match := _CRON.match(text):
        return Expression(text, "cron", cron=_parse_cron(expression, match[1].split()))
    raise invalid(expression, "at(...), rate(...) or cron(...)")


def _parse_cron(expression: str, fields: list[str]) -> tuple:
    if len(fields) != 6:
        raise invalid(expression, "cron takes 6 fields: minutes hours day-of-month month day-of-week year")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise invalid(expression, "exactly one of day-of-month and day-of-week must be '?'")
    return tuple(None if text == "?" else _parse_field(expression, text, *spec) for text, spec in zip(fields, _FIELDS))


def _parse_field(expression: str, text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    def number(token: str) -> int:
        value = names.get(token.upper()) if token.upper() in names else (int(token) if token.isdigit() else None)
        if value is None or not low <= value <= high:
            raise invalid(expression, f"'{token}' is not a value in {low}-{high} (L, W and # are not supported)")
        return value

    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (number(t) for t in span.split("-", 1))
        else:
            first = number(span)
            last = high if step else first
        every = int(step) if step.isdigit() and int(step) > 0 else (1 if not step else None)
        if every is None or first > last:
            raise invalid(expression, f"'{part}' is not a valid range or step")
        values.update(range(first, last + 1, every))
    return frozenset(values)
