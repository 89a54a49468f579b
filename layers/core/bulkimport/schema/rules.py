"""Rules beyond a value's type: a field's pattern, range, least length and phone region, and a table's
rules across fields. Checked where every record is read (schema/validation.py: imports, batch-create,
batch_update), so each rule is written once.

User-written patterns run on RE2, whose matching is linear in the text: no pattern, however written,
can stall a chunk the way a backtracking engine can (`(a+)+$` on "aaaa...b").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import re2

from bulkimport.errors import InvalidInput
from bulkimport.schema.failures import Invalid, RowFailure
from bulkimport.schema.models import FieldSpec, TableRule

Converter = Callable[[str], Any]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is the user's 422, not a line in the function's log


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The RE2 program of a pattern (compiled once per process), or 422 INVALID_PATTERN."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise InvalidInput("INVALID_PATTERN", pattern=pattern[:200], reason=str(reason)) from None


def check_replacement(pattern: str, replacement: str) -> None:
    """A replace step's `with` may name only groups its pattern has (`\\1`, `\\g<name>`) and only
    escapes the replacement syntax knows, or 422 INVALID_PATTERN: else every cell it matches would
    fail the chunk. RE2's binding expands replacements as Python's re does, so Python's re checks it
    against an empty pattern of the same groups (no user pattern runs on re)."""
    program = compile_pattern(pattern)
    names = {number: name for name, number in program.groupindex.items()}
    shape = "".join(f"(?P<{names[n]}>)" if n in names else "()" for n in range(1, program.groups + 1))
    try:
        re.compile(shape).sub(replacement, "")
    except (re.error, IndexError) as error:
        raise InvalidInput("INVALID_PATTERN", pattern=replacement[:200], reason=str(error)) from None


# ---------------------------------------------------------------- range bounds


def _naive_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _bound_reader(field_type: str) -> Callable[[Any], Any]:
    """How a bound and a value of the type compare: as numbers, dates or (UTC) date-times."""
    if field_type in ("integer", "number"):
        return lambda v: Decimal(str(v))
    if field_type == "date":
        return lambda v: date.fromisoformat(str(v))
    return lambda v: _naive_utc(str(v))


def _range_text(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low}..{high}"
    return f">= {low}" if low is not None else f"<= {high}"


# ---------------------------------------------------------------- a field's rules


def _phonenumbers() -> Any:
    # Imported when a phone field has a region: its metadata costs every function's cold start else.
    import phonenumbers

    return phonenumbers


def _region_phone(region: str) -> Converter:
    phonenumbers = _phonenumbers()

    def convert(text: str) -> str:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            raise Invalid("INVALID_PHONE", region=region) from None
        if not phonenumbers.is_valid_number(number):
            raise Invalid("INVALID_PHONE", region=region)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return convert


def stored_form(spec: FieldSpec, convert: Converter) -> Converter:
    """How a value of the field is stored, without its checks: a filter's value compares with stored
    values so (a phone with a region as E.164), and a bound outside a range still filters."""
    return _region_phone(spec.region) if spec.type == "phone" and spec.region else convert


def with_field_rules(spec: FieldSpec, convert: Converter) -> Converter:
    """The field's converter with its rules after it (the converter itself when it has none). A
    phone field with a region is read by libphonenumber and stored as E.164."""
    convert = stored_form(spec, convert)
    checks: list[Callable[[str, Any], None]] = []
    if spec.min_length is not None:
        least = spec.min_length

        def too_short(text: str, value: Any) -> None:
            if len(value if isinstance(value, str) else text) < least:
                raise Invalid("TOO_SHORT", min_length=least)

        checks.append(too_short)
    if spec.pattern is not None:
        program, pattern = compile_pattern(spec.pattern), spec.pattern

        def mismatch(text: str, value: Any) -> None:
            if program.fullmatch(value if isinstance(value, str) else text) is None:
                raise Invalid("PATTERN_MISMATCH", pattern=pattern)

        checks.append(mismatch)
    if spec.min is not None or spec.max is not None:
        read = _bound_reader(spec.type)
        low = None if spec.min is None else read(spec.min)
        high = None if spec.max is None else read(spec.max)
        shown = _range_text(spec.min, spec.max)

        def out_of_range(text: str, value: Any) -> None:
            compared = read(value)
            if (low is not None and compared < low) or (high is not None and compared > high):
                raise Invalid("OUT_OF_RANGE", range=shown)

        checks.append(out_of_range)
    if not checks:
        return convert

    def checked(text: str) -> Any:
        value = convert(text)
        for check in checks:
            check(text, value)
        return value

    return checked


# ---------------------------------------------------------------- a table's rules

_ORDERED_FAMILIES = {"integer": "number", "number": "number", "date": "date", "datetime": "datetime"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _family(spec: FieldSpec) -> str:
    return _ORDERED_FAMILIES.get(spec.type, "text")


def _order_key(spec: FieldSpec) -> Callable[[Any], Any]:
    if spec.type in ("integer", "number"):
        return lambda v: Decimal(str(v))
    if spec.type == "datetime":
        return _naive_utc
    return lambda v: v


RuleCheck = Callable[[dict[str, Any], "set[str] | frozenset[str]"], list[RowFailure]]


def table_rules(
    rules: list[TableRule], fields: list[FieldSpec], convert: Callable[[FieldSpec], Converter]
) -> RuleCheck:
    """One function checking a record's data against the table's rules (compiled once): the failures
    of the rules, leaving out those on a field that already failed (`failed`: its value is not in the
    data, and the field failure says why). `convert` reads a when's `equals` as the field's value."""
    specs = {spec.key: spec for spec in fields}
    steps: list[RuleCheck] = []
    for rule in rules:
        if rule.check is not None:
            steps.append(_check_step(rule, specs))
        else:
            steps.append(_require_step(rule, specs, convert))
    if not steps:
        return lambda data, failed: []

    def check(data: dict[str, Any], failed: set[str] | frozenset[str]) -> list[RowFailure]:
        found: list[RowFailure] = []
        for step in steps:
            found += step(data, failed)
        return found

    return check


def _label(spec: FieldSpec) -> str:
    return spec.label or spec.key


def _require_step(rule: TableRule, specs: dict[str, FieldSpec], convert: Callable[[FieldSpec], Converter]) -> Any:
    assert rule.when is not None and rule.require
    when_spec = specs[rule.when.field]
    raw = rule.when.equals
    text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
    equals = convert(when_spec)(text)
    when_key, required = rule.when.field, [specs[key] for key in rule.require]
    params = {"when_field": _label(when_spec), "when_value": text}

    def step(data: dict[str, Any], failed: set[str] | frozenset[str]) -> list[RowFailure]:
        if when_key not in data or data[when_key] != equals:
            return []
        return [
            RowFailure(spec.key, "REQUIRED_BY_RULE", {"field": _label(spec), "value": "", **params}, "")
            for spec in required
            if spec.key not in failed and data.get(spec.key) in (None, "")
        ]

    return step


def _check_step(rule: TableRule, specs: dict[str, FieldSpec]) -> Any:
    assert rule.check is not None
    key, other = rule.check.field, rule.check.other
    spec, other_spec = specs[key], specs[other]
    op, compare = rule.check.op, _OPS[rule.check.op]
    read = _order_key(spec)

    def step(data: dict[str, Any], failed: set[str] | frozenset[str]) -> list[RowFailure]:
        left, right = data.get(key), data.get(other)
        if left in (None, "") or right in (None, "") or key in failed:
            return []  # either side empty passes
        if compare(read(left), read(right)):
            return []
        params = {
            "field": _label(spec),
            "value": str(left),
            "op": op,
            "other": _label(other_spec),
            "other_value": str(right),
        }
        return [RowFailure(key, "RULE_FAILED", params, str(left))]

    return step


# ---------------------------------------------------------------- a table's definition


def check_definition(
    fields: list[FieldSpec], rules: list[TableRule], convert: Callable[[FieldSpec], Converter]
) -> None:
    """Rules that fit their fields, or 422: patterns compile on RE2 (INVALID_PATTERN), ranges are of
    the field's type and in order, regions are libphonenumber's, a table rule names top-level
    fields, a when's value reads as its field's (by `convert`), and a check compares fields of one
    kind (INVALID_RULE, with details)."""
    problems: list[dict[str, Any]] = []
    for spec in fields:
        if spec.pattern is not None:
            compile_pattern(spec.pattern)
        if spec.min is not None or spec.max is not None:
            read = _bound_reader(spec.type)
            try:
                bounds = [read(b) if b is not None else None for b in (spec.min, spec.max)]
            except (ValueError, TypeError, InvalidOperation):
                problems.append(
                    {"field": spec.key, "problem": f"min and max of a {spec.type} field must be of its type"}
                )
            else:
                if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
                    problems.append({"field": spec.key, "problem": "min is above max"})
        if spec.region is not None and spec.region not in _phonenumbers().SUPPORTED_REGIONS:
            problems.append({"field": spec.key, "problem": f"region '{spec.region}' is not a known region"})
        for inner in spec.fields or ():
            try:
                check_definition([inner], [], convert)
            except InvalidInput as error:
                if error.code != "INVALID_RULE":
                    raise
                problems += [{**d, "field": f"{spec.key}.{d['field']}"} for d in error.details]
    specs = {spec.key: spec for spec in fields if spec.type != "subtable"}
    for number, rule in enumerate(rules):
        named = [rule.check.field, rule.check.other] if rule.check else [rule.when.field, *(rule.require or [])]  # type: ignore[union-attr]
        unknown = [key for key in named if key not in specs]
        if unknown:
            problems.append({"rule": number, "field": unknown[0], "problem": "not a field of the table"})
            continue
        if rule.when is not None:
            equals = rule.when.equals
            text = ("true" if equals else "false") if isinstance(equals, bool) else str(equals)
            try:
                convert(specs[rule.when.field])(text)
            except Invalid:
                problems.append({"rule": number, "field": rule.when.field, "problem": f"'{text}' is not a value of it"})
        if rule.check is not None:
            left, right = specs[rule.check.field], specs[rule.check.other]
            if _family(left) != _family(right):
                problems.append({"rule": number, "field": left.key, "problem": f"cannot compare with {right.key}"})
            elif rule.check.op not in ("==", "!=") and _family(left) == "text" and left.type != right.type:
                problems.append({"rule": number, "field": left.key, "problem": f"cannot order against {right.key}"})
    if problems:
        raise InvalidInput("INVALID_RULE", details=problems)
