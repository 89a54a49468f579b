"""A recipe column's cleaning: its `transform` steps, `sources` + `join`, `default` and `format`,
compiled once per chunk into a ColumnReading (schema/validation.py) that reads a whole column of
cells at a time.

Pure code (no AWS). Each step maps over a column's list of texts, with C builtins where a step is a
str method, so a column costs a few passes rather than a Python call per step per cell. A step
leaves an empty (blank) cell as it is, so only `default` fills one; after the steps a cell is read as
v1 reads it, without surrounding spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from bulkimport.recipes.models import ColumnMap, MapStep, NumberFormat, ReplaceStep, SplitStep, Step
from bulkimport.schema.failures import Invalid
from bulkimport.schema.models import FieldSpec
from bulkimport.schema.rules import compile_pattern
from bulkimport.schema.validation import ColumnReading, Converter

Texts = list[str]
# A step over a column: the texts, and the failures found so far by position (a `map` that fails adds).
ColumnStep = Callable[[Texts, dict[int, Invalid]], Texts]

_SPACES = re.compile(r"\s+")


def _str_step(method: Callable[[str], str]) -> ColumnStep:
    # A blank cell stays blank under each of these (str.isspace holds after lower, upper, title, NFKC).
    return lambda texts, bad: list(map(method, texts))


_SIMPLE: dict[str, ColumnStep] = {
    "trim": _str_step(str.strip),
    "collapse_spaces": _str_step(partial(_SPACES.sub, " ")),
    "lower": _str_step(str.lower),
    "upper": _str_step(str.upper),
    "title": _str_step(str.title),
    "nfkc": _str_step(partial(unicodedata.normalize, "NFKC")),
}


def _filled(text: str) -> bool:
    return bool(text) and not text.isspace()


def _replace(step: ReplaceStep) -> ColumnStep:
    program, replacement = compile_pattern(step.replace.pattern), step.replace.with_
    sub = partial(program.sub, replacement)
    return lambda texts, bad: [sub(t) if _filled(t) else t for t in texts]


def _map(step: MapStep) -> ColumnStep:
    """A cell is looked up without its surrounding spaces (with ignore_case, casefolded on both sides)."""
    fold = str.casefold if step.ignore_case else None
    table = {(fold(k) if fold else k).strip(): v for k, v in step.map.items() if k.strip()}
    otherwise = step.otherwise

    def apply(texts: Texts, bad: dict[int, Invalid]) -> Texts:
        looked = list(map(str.strip, texts))
        if fold:
            looked = list(map(fold, looked))
        if otherwise == "keep":
            return list(map(table.get, looked, texts))
        if otherwise == "empty":
            return [table.get(k, "") if k else t for k, t in zip(looked, texts)]
        unknown = set(looked).difference(table, ("",))
        if unknown:
            for position, key in enumerate(looked):
                if key in unknown:
                    bad.setdefault(position, Invalid("NOT_MAPPED"))
        return list(map(table.get, looked, texts))

    return apply


def _split(step: SplitStep) -> ColumnStep:
    separator, take = step.split.separator, step.split.take

    def part(text: str) -> str:
        parts = text.split(separator)
        return parts[take] if -len(parts) <= take < len(parts) else ""

    return lambda texts, bad: [part(t) if _filled(t) else t for t in texts]


def compile_step(step: Step) -> ColumnStep:
    if isinstance(step, str):
        return _SIMPLE[step]
    if isinstance(step, ReplaceStep):
        return _replace(step)
    if isinstance(step, MapStep):
        return _map(step)
    return _split(step)


# ---------------------------------------------------------------- formats

_D = r"(\d{1,2})"
_Y = r"(\d{4})"
# Each format's pattern and the order of its groups (year, month, day).
_DATE_PATTERNS: dict[str, tuple[re.Pattern[str], tuple[int, int, int]]] = {
    "YYYY-MM-DD": (re.compile(rf"{_Y}-{_D}-{_D}"), (1, 2, 3)),
    "YYYY/MM/DD": (re.compile(rf"{_Y}/{_D}/{_D}"), (1, 2, 3)),
    "DD/MM/YYYY": (re.compile(rf"{_D}/{_D}/{_Y}"), (3, 2, 1)),
    "MM/DD/YYYY": (re.compile(rf"{_D}/{_D}/{_Y}"), (3, 1, 2)),
    "DD.MM.YYYY": (re.compile(rf"{_D}\.{_D}\.{_Y}"), (3, 2, 1)),
    # Taiwan's Republic-of-China calendar: year 1 is 1912. 113/05/01, 113.5.1, 113-05-01, 民國113年5月1日.
    "ROC": (
        re.compile(
            r"(?:民國\s*)?(\d{1,3})\s*(?:(?P<s>[/.-])\s*(\d{1,2})\s*(?P=s)|年\s*(\d{1,2})\s*月)\s*(\d{1,2})\s*日?"
        ),
        (1, 0, 5),
    ),
}
ROC_OFFSET = 1911


def _date_format(name: str) -> Converter:
    pattern, (y, m, d) = _DATE_PATTERNS[name]
    roc = name == "ROC"

    def convert(text: str) -> str:
        match = pattern.fullmatch(text)
        if match is None:
            raise Invalid("INVALID_DATE", format=name)
        if roc:
            year, month = int(match[1]) + ROC_OFFSET, int(match[3] or match[4])
            if int(match[1]) < 1:
                raise Invalid("INVALID_DATE", format=name)
        else:
            year, month = int(match[y]), int(match[m])
        try:
            return date(year, month, int(match[d])).isoformat()
        except ValueError:
            raise Invalid("INVALID_DATE", format=name) from None

    return convert


def _number_format(spec: FieldSpec, fmt: NumberFormat) -> Converter:
    """Digits grouped by threes with `group` (or not grouped), then `decimal` and the fraction."""
    group, decimal = re.escape(fmt.group), re.escape(fmt.decimal)
    grouped = rf"\d{{1,3}}(?:{group}\d{{3}})+|" if fmt.group else ""
    pattern = re.compile(rf"[+-]?(?:{grouped}\d+)(?:{decimal}\d+)?")
    code = "INVALID_INTEGER" if spec.type == "integer" else "INVALID_NUMBER"
    shown = f"decimal '{fmt.decimal}'" + (f", group '{fmt.group}'" if fmt.group else "")

    def convert(text: str) -> Any:
        if not pattern.fullmatch(text):
            raise Invalid(code, format=shown)
        plain = (text.replace(fmt.group, "") if fmt.group else text).replace(fmt.decimal, ".")
        try:
            value = Decimal(plain)
        except InvalidOperation:
            raise Invalid(code, format=shown) from None
        if spec.type == "integer":
            if value != value.to_integral_value():
                raise Invalid(code, format=shown)
            return int(value)
        return value

    return convert


def format_converter(spec: FieldSpec, fmt: Any) -> Converter | None:
    if fmt is None:
        return None
    if isinstance(fmt, str):
        return _date_format(fmt)
    return _number_format(spec, fmt)


def format_fits(spec: FieldSpec, fmt: Any) -> bool:
    """A date format is for date fields, a number format for integer and number fields."""
    if fmt is None:
        return True
    return spec.type == "date" if isinstance(fmt, str) else spec.type in ("integer", "number")


# ---------------------------------------------------------------- a column


def column_reading(column: ColumnMap, spec: FieldSpec, indexes: list[int]) -> ColumnReading:
    """The column's cleaning over the cells at `indexes` (its sources' positions in the file)."""
    steps = [compile_step(step) for step in column.transform]
    default, separator = column.default, column.join
    joined = column.sources is not None

    def clean(cells_of_sources: list[Texts]) -> tuple[Texts, dict[int, Invalid]]:
        if joined:
            texts = [separator.join(filter(None, map(str.strip, parts))) for parts in zip(*cells_of_sources)]
        else:
            texts = cells_of_sources[0]
        bad: dict[int, Invalid] = {}
        for step in steps:
            texts = step(texts, bad)
        texts = list(map(str.strip, texts))
        if default:
            texts = [t or default for t in texts]
        return texts, bad

    return ColumnReading(indexes, clean, format_converter(spec, column.format))
