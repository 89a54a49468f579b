"""Turning a source row into a record: per-field converters compiled once per chunk.

A converter takes the cell's text and returns the typed value, or raises Invalid with a stable code.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bulkimport.ingest.spreadsheets import UNCALCULATED
from bulkimport.schema.models import FieldSpec

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+(?:\s*(?:#|ext\.?|x)\s*[0-9]+)?$", re.IGNORECASE)
_DROP_DIGITS = str.maketrans("", "", "0123456789")
_GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SLASH_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "對", "true."})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "錯"})


class Invalid(Exception):
    def __init__(self, code: str, **params: Any):
        self.code = code
        self.params = params


Converter = Callable[[str], Any]


def _as_is(text: str) -> str:
    return text


def _string(spec: FieldSpec) -> Converter:
    max_length = spec.max_length
    if max_length is None:
        return _as_is

    def convert(text: str) -> str:
        if max_length is not None and len(text) > max_length:
            raise Invalid("TOO_LONG", max_length=max_length)
        return text

    return convert


def _number(text: str) -> Decimal:
    candidate = text.replace(",", "") if "," in text and _GROUPED_NUMBER.match(text) else text
    try:
        value = Decimal(candidate)
    except InvalidOperation:
        raise Invalid("INVALID_NUMBER") from None
    if not value.is_finite():
        raise Invalid("INVALID_NUMBER")
    return value


def _integer(text: str) -> int:
    try:
        value = _number(text)
    except Invalid:
        raise Invalid("INVALID_INTEGER") from None
    if value != value.to_integral_value():
        raise Invalid("INVALID_INTEGER")
    return int(value)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise Invalid("INVALID_BOOLEAN")


def _date(text: str) -> str:
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            date.fromisoformat(text)  # YYYY-MM-DD: when it is a valid date, it is its own isoformat
            return text
        match = _SLASH_DATE.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise Invalid("INVALID_DATE") from None


def _datetime(text: str) -> str:
    try:
        value = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise Invalid("INVALID_DATETIME") from None
    if value.tzinfo is None:
        return value.isoformat()
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _email(text: str) -> str:
    if len(text) > 254 or not _EMAIL.match(text):
        raise Invalid("INVALID_EMAIL")
    return text


def _phone(text: str) -> str:
    if text.isascii() and text.isdigit():
        digits = len(text)  # digits only: the pattern holds
    elif _PHONE_CHARS.match(text):
        digits = len(text) - len(text.translate(_DROP_DIGITS))  # the pattern admits ASCII digits only
    else:
        raise Invalid("INVALID_PHONE")
    if not 6 <= digits <= 20:
        raise Invalid("INVALID_PHONE")
    return text


def _enum(spec: FieldSpec) -> Converter:
    options = frozenset(spec.options or ())
    listed = ", ".join(spec.options or ())

    def convert(text: str) -> str:
        if text not in options:
            raise Invalid("NOT_IN_OPTIONS", options=listed)
        return text

    return convert


def converter_for(spec: FieldSpec) -> Converter:
    if spec.type == "string":
        return _string(spec)
    if spec.type == "enum":
        return _enum(spec)
    simple = {
        "integer": _integer,
        "number": _number,
        "boolean": _boolean,
        "date": _date,
        "datetime": _datetime,
        "email": _email,
        "phone": _phone,
    }.get(spec.type)
    if simple is None:
        raise ValueError(f"fields of type {spec.type} cannot be mapped from a file column")
    return simple


@dataclass
class RowFailure:
    field: str | None
    code: str
    # dataclasses.field: in this class's body `field` names the attribute above.
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    value: str | None = None


@dataclass
class MappedColumn:
    index: int
    field: str
    label: str
    required: bool
    convert: Converter


# 1900-01-01 .. 9999-12-31 as Excel's day numbers, with a time of day as a fraction.
_EXCEL_SERIAL = re.compile(r"\d{1,7}(\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 (past Excel's phantom 1900-02-29, serial 60)


def _cell_converter(spec: FieldSpec, worksheet: bool) -> Converter:
    """The field's converter; for a worksheet's date or datetime field, a plain number is first read as
    Excel's serial day number (a date cell whose date format was lost, e.g. a column formatted General)."""
    convert = converter_for(spec)
    if not worksheet or spec.type not in ("date", "datetime"):
        return convert
    as_date = spec.type == "date"

    def serial_or_text(text: str) -> Any:
        if not _EXCEL_SERIAL.fullmatch(text):
            return convert(text)
        serial = float(text)
        if not 1 <= serial < 2958466 or int(serial) == 60:
            raise Invalid("INVALID_DATE" if as_date else "INVALID_DATETIME")
        moment = _EXCEL_EPOCH + timedelta(days=serial + (1 if serial < 60 else 0))
        if as_date:
            return moment.date().isoformat()
        return moment.replace(microsecond=0).isoformat()

    return serial_or_text


class RowValidator:
    """Validates source rows against the fields that a recipe's columns map onto."""

    def __init__(self, columns: list[tuple[int, FieldSpec]], expected_width: int | None, worksheet: bool = False):
        self.columns = [
            MappedColumn(index, spec.key, spec.label or spec.key, spec.required, _cell_converter(spec, worksheet))
            for index, spec in columns
        ]
        self.expected_width = expected_width
        self.formulas = worksheet  # a worksheet's cell may be an uncalculated formula
        # Rows shorter than this (possible only without a header) are padded with blank cells.
        self._min_width = max((c.index + 1 for c in self.columns), default=0)
        # A string field without a length limit keeps its text as it is: no converter call.
        self._plan = [(c.index, c.field, None if c.convert is _as_is else c.convert, c) for c in self.columns]

    def validate(self, cells: list[str]) -> tuple[dict[str, Any], list[RowFailure]]:
        width = len(cells)
        if self.expected_width is not None and width != self.expected_width:
            failure = RowFailure(None, "COLUMN_COUNT_MISMATCH", {"actual": width, "expected": self.expected_width})
            return {}, [failure]
        if width < self._min_width:
            cells = cells + [""] * (self._min_width - width)
        if self.formulas and UNCALCULATED in cells:
            uncalculated = [
                RowFailure(c.field, "FORMULA_NOT_CALCULATED", {"field": c.label})
                for c in self.columns
                if cells[c.index] == UNCALCULATED
            ]
            if uncalculated:  # never imported as empty: the sheet has a value there, not saved
                return {}, uncalculated
        data: dict[str, Any] = {}
        failures: list[RowFailure] = []
        # This loop runs for every cell of every row: plain tuples and locals, no attribute lookups.
        for index, key, convert, column in self._plan:
            text = cells[index].strip()
            if not text:
                if column.required:
                    failures.append(RowFailure(column.field, "REQUIRED", {"field": column.label}, ""))
            elif convert is None:
                data[key] = text
            else:
                try:
                    data[key] = convert(text)
                except Invalid as invalid:
                    params = {"field": column.label, "value": text, **invalid.params}
                    failures.append(RowFailure(column.field, invalid.code, params, text))
        return data, failures


class RecordValidator:
    """Validates records given as JSON (the batch-create API) against a table's fields, subtables
    included; failures name the field by its path (items[0].sku)."""

    RESERVED = frozenset({"parent_id"})

    def __init__(self, fields: list[FieldSpec]):
        self.fields = {spec.key: spec for spec in fields}
        self.converters = {spec.key: converter_for(spec) for spec in fields if spec.type != "subtable"}
        self.subtables = {spec.key: RecordValidator(spec.fields or []) for spec in fields if spec.type == "subtable"}

    def validate(self, record: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], list[RowFailure]]:
        data: dict[str, Any] = {}
        failures: list[RowFailure] = []
        allowed = self.fields.keys() | (self.RESERVED if not prefix else set())  # parent_id: top level only
        for key in record:
            if key not in allowed:
                failures.append(RowFailure(prefix + key, "UNKNOWN_FIELD", {"field": prefix + key}))
        for key, spec in self.fields.items():
            path = prefix + key
            label = spec.label or path
            value = record.get(key)
            if value is None or (isinstance(value, str) and not value.strip()) or value == []:
                if spec.required:
                    failures.append(RowFailure(path, "REQUIRED", {"field": label}, None))
                continue
            if spec.type == "subtable":
                if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
                    failures.append(RowFailure(path, "INVALID_SUBTABLE", {"field": label}, None))
                    continue
                rows = []
                for index, row in enumerate(value):
                    row_data, row_failures = self.subtables[key].validate(row, f"{path}[{index}].")
                    rows.append(row_data)
                    failures.extend(row_failures)
                data[key] = rows
                continue
            if isinstance(value, (dict, list)):
                failures.append(RowFailure(path, "INVALID_VALUE", {"field": label}, None))
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value).strip()
            try:
                data[key] = self.converters[key](text)
            except Invalid as invalid:
                failures.append(RowFailure(path, invalid.code, {"field": label, "value": text, **invalid.params}, text))
        return data, failures
