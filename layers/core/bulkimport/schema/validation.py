"""Turning a source row into a record: per-field converters compiled once per chunk.

A converter takes the cell's text and returns the typed value, or raises Invalid with a stable code.
A chunk's rows are validated a column at a time (RowValidator.validate_rows): a column check takes
a whole column of texts and, when every cell is plainly valid, returns its values from C builtins
(map, all, max, frozenset) without a Python call per cell; otherwise the column goes cell by cell
through the converter, which decides every value and failure. So a column check only ever says
"all valid, these values" for cells its converter would accept with the same values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import compress
from operator import itemgetter
from typing import Any

from bulkimport.ingest.spreadsheets import UNCALCULATED
from bulkimport.schema.failures import Invalid, RowFailure
from bulkimport.schema.models import FieldSpec, TableRule
from bulkimport.schema.rules import RuleCheck, table_rules, with_field_rules

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # of a domain name
_ADDRESS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _LABEL + r"(?:\." + _LABEL + r")+"
_EMAIL = re.compile(f"^{_ADDRESS}$")
# A column of addresses joined by newlines, in one match (_email_column). No address matches a
# newline, so the whole matches exactly when each line is an address. It runs over every email cell
# of a file, so it says the same as _ADDRESS with less backtracking: a label is 1 to 63 letters,
# digits and hyphens that start and end with a letter or digit (checked around the run rather than
# by giving back its last character), the part before "@" cannot hold an "@", and a line once
# matched is kept (each matches up to its newline). tests/unit/test_validation_columns.py holds
# the two to each other.
_LINE_LABEL = r"(?=[A-Za-z0-9])[A-Za-z0-9-]{1,63}(?<=[A-Za-z0-9])"
_LINE_ADDRESS = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]++@" + _LINE_LABEL + r"(?:\." + _LINE_LABEL + r")+"
_EMAIL_LINES = re.compile(f"(?:{_LINE_ADDRESS}\n)*+{_LINE_ADDRESS}")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+(?:\s*(?:#|ext\.?|x)\s*[0-9]+)?$", re.IGNORECASE)
_DROP_DIGITS = str.maketrans("", "", "0123456789")
_GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SLASH_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "對", "true."})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "錯"})


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


def field_converter(spec: FieldSpec, reading: Converter | None = None) -> Converter:
    """How a record's value of the field is read and checked: `reading` (a recipe column's format)
    or the type's converter, then the field's rules (schema/rules.py). Every way in (imports,
    batch-create, batch_update) reads values through this."""
    return with_field_rules(spec, reading or converter_for(spec))


def rules_of(rules: list[TableRule], fields: list[FieldSpec]) -> RuleCheck | None:
    """A table's rules over a record's data (None when it has none)."""
    return table_rules(rules, fields, converter_for) if rules else None


_NO_FIELDS: frozenset[str] = frozenset()


@dataclass
class ColumnReading:
    """How a recipe column reads its cells before its field's converter (recipes/transforms.py):
    `clean` takes the raw cells of each of the column's sources (a list per source, one entry per
    row) and returns each row's text, stripped, with the rows whose cleaning failed; `convert` reads
    the text instead of the type's converter (a date or number format)."""

    sources: list[int]
    clean: Callable[[list[Any]], tuple[list[str], dict[int, Invalid]]]
    convert: Converter | None = None


# ---------------------------------------------------------------- column checks (see the module's doc)

ColumnCheck = Callable[[list[str]], "list[Any] | None"]


def _mapped(convert: Converter) -> ColumnCheck:
    """Any converter over a whole column: still a call per cell, but no Python loop around it."""

    def check(texts: list[str]) -> list[Any] | None:
        try:
            return list(map(convert, texts))
        except Invalid:
            return None

    return check


def _any_text(texts: list[str]) -> list[Any] | None:
    return texts


def _string_column(max_length: int) -> ColumnCheck:
    def check(texts: list[str]) -> list[Any] | None:
        return texts if max(map(len, texts)) <= max_length else None

    return check


def _enum_column(options: frozenset[str]) -> ColumnCheck:
    def check(texts: list[str]) -> list[Any] | None:
        return texts if options.issuperset(texts) else None

    return check


def _email_column(texts: list[str]) -> list[Any] | None:
    """One match over the column joined by newlines, when no text holds a newline of its own."""
    joined = "\n".join(texts)
    if max(map(len, texts)) <= 254 and joined.count("\n") == len(texts) - 1 and _EMAIL_LINES.fullmatch(joined):
        return texts
    return None


def _phone_column(texts: list[str]) -> list[Any] | None:
    """Digits only, 6 to 20 of them (most phone columns): the pattern holds. Others cell by cell."""
    joined = "".join(texts)
    if joined.isascii() and joined.isdigit() and min(map(len, texts)) >= 6 and max(map(len, texts)) <= 20:
        return texts
    return None


def _number_column(texts: list[str]) -> list[Any] | None:
    """Decimal of each text, as _number takes a number without grouping commas (Decimal refuses a
    comma: such a column goes cell by cell)."""
    try:
        values = list(map(Decimal, texts))
    except InvalidOperation:
        return None
    return values if all(map(Decimal.is_finite, values)) else None


def _date_column(texts: list[str]) -> list[Any] | None:
    """YYYY-MM-DD in every cell, each a valid date: its own isoformat, as _date keeps it. Other
    spellings (and invalid dates) cell by cell."""
    if set(map(len, texts)) != {10}:
        return None
    # Ten characters each: the column's dashes are every tenth character of the column joined.
    joined, dashes = "".join(texts), "-" * len(texts)
    if joined[4::10] != dashes or joined[7::10] != dashes:
        return None
    try:
        list(map(date.fromisoformat, texts))
    except ValueError:
        return None
    return texts


# The column checks of the converters most columns have; any other converter (a worksheet's
# serial-date reading among them) is mapped over the column.
_COLUMN_CHECKS: dict[Converter, ColumnCheck] = {
    _as_is: _any_text,
    _email: _email_column,
    _phone: _phone_column,
    _number: _number_column,
    _date: _date_column,
}


def _column_check(spec: FieldSpec, convert: Converter) -> ColumnCheck:
    """The column check of a field whose cells `convert` converts."""
    if convert in _COLUMN_CHECKS:
        return _COLUMN_CHECKS[convert]
    if spec.type == "string" and spec.max_length is not None:
        return _string_column(spec.max_length)
    if spec.type == "enum":
        return _enum_column(frozenset(spec.options or ()))
    return _mapped(convert)


@dataclass
class MappedColumn:
    index: int
    field: str
    label: str
    required: bool
    convert: Converter
    check: ColumnCheck  # the converter over a whole column (see the module's doc)
    reading: ColumnReading | None = None  # a recipe column's cleaning


def _rows_builder(keys: list[str]) -> Callable[..., list[dict[str, Any]]]:
    """A function of the columns' values (one list per key) that returns the dict of each row, keys
    to values: a comprehension over a dict display, which CPython builds presized in one instruction
    where dict(zip(keys, values)) grows a dict by calls, and with no call per row (this runs for every
    row of a file; bench/cpu_path.py measures it). The keys go in as repr() literals, so whatever a
    field key holds stays a string."""
    if not keys:
        return lambda: []
    columns = ", ".join(f"c{i}" for i in range(len(keys)))
    values = "".join(f"v{i}, " for i in range(len(keys)))  # a trailing comma: a tuple of one unpacked too
    entries = ", ".join(f"{key!r}: v{i}" for i, key in enumerate(keys))
    namespace: dict[str, Any] = {}
    exec(f"def build({columns}):\n    return [{{{entries}}} for {values}in zip({columns})]", namespace)
    return namespace["build"]


class _LeftOut:
    """A cell's value in a validated column when the field is left out of the row's data: the cell is
    blank, or failed."""


_LEFT_OUT = _LeftOut()


# 1900-01-01 .. 9999-12-31 as Excel's day numbers, with a time of day as a fraction.
_EXCEL_SERIAL = re.compile(r"\d{1,7}(\.\d+)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 0 (past Excel's phantom 1900-02-29, serial 60)


def _cell_converter(spec: FieldSpec, worksheet: bool, reading: Converter | None = None) -> Converter:
    """The field's converter (field_converter); for a worksheet's date or datetime field, a plain
    number is first read as Excel's serial day number (a date cell whose date format was lost, e.g.
    a column formatted General)."""
    if not worksheet or spec.type not in ("date", "datetime"):
        return field_converter(spec, reading)
    return with_field_rules(spec, _serial_or(spec, reading or converter_for(spec)))


def _serial_or(spec: FieldSpec, convert: Converter) -> Converter:
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

    def __init__(
        self,
        columns: list[tuple[int, FieldSpec]],
        expected_width: int | None,
        worksheet: bool = False,
        readings: dict[str, ColumnReading] | None = None,
        rules: RuleCheck | None = None,
    ):
        """`readings`: the cleaning of the columns (by field key) whose recipe column transforms, joins,
        defaults or formats; `rules`: the table's rules (rules_of), checked after a row's fields."""
        self.columns = []
        readings = readings or {}
        for index, spec in columns:
            reading = readings.get(spec.key)
            convert = _cell_converter(spec, worksheet, reading.convert if reading else None)
            label = spec.label or spec.key
            self.columns.append(
                MappedColumn(index, spec.key, label, spec.required, convert, _column_check(spec, convert), reading)
            )
        self._keys = [c.field for c in self.columns]
        self._rows_data = _rows_builder(self._keys)
        self.expected_width = expected_width
        self.formulas = worksheet  # a worksheet's cell may be an uncalculated formula
        self._rules = rules
        # Rows shorter than this (possible only without a header) are padded with blank cells.
        self._min_width = max((max(c.reading.sources if c.reading else [c.index]) + 1 for c in self.columns), default=0)
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
            if column.reading is None:
                text = cells[index].strip()
            else:
                cleaned, bad = column.reading.clean([[cells[i]] for i in column.reading.sources])
                text = cleaned[0]
                if bad:
                    invalid = bad[0]
                    params = {"field": column.label, "value": text, **invalid.params}
                    failures.append(RowFailure(column.field, invalid.code, params, text))
                    continue
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
        if self._rules is not None:
            failures += self._rules(data, {f.field for f in failures if f.field} if failures else _NO_FIELDS)
        return data, failures

    def validate_rows(self, rows: list[list[str]]) -> tuple[list[dict[str, Any]], dict[int, list[RowFailure]]]:
        """validate() of every row of a chunk, a column at a time: the data of each row, and the
        failures of the rows that have any, by position in `rows`. The same data and failures as
        validate() gives row by row (tests/unit/test_validation.py holds them to it)."""
        if not rows:
            return [], {}
        widths = set(map(len, rows))
        if (
            (self.expected_width is None or widths == {self.expected_width})
            and min(widths) >= self._min_width
            and not (self.formulas and any(UNCALCULATED in cells for cells in rows))
        ):
            return self._validate_columns(rows)
        # Rows of another width (failed, or padded without a header) and rows with an uncalculated
        # formula go row by row; the others still a column at a time.
        data: list[dict[str, Any]] = [{}] * len(rows)
        failed: dict[int, list[RowFailure]] = {}
        regular: list[int] = []
        for position, cells in enumerate(rows):
            width = len(cells)
            if (
                (self.expected_width is not None and width != self.expected_width)
                or width < self._min_width
                or (self.formulas and UNCALCULATED in cells)
            ):
                data[position], failures = self.validate(cells)
                if failures:
                    failed[position] = failures
            else:
                regular.append(position)
        regular_data, regular_failed = self._validate_columns([rows[p] for p in regular])
        for position, values in zip(regular, regular_data):
            data[position] = values
        for index, failures in regular_failed.items():
            failed[regular[index]] = failures
        return data, failed

    def _validate_columns(self, rows: list[list[str]]) -> tuple[list[dict[str, Any]], dict[int, list[RowFailure]]]:
        """Rows of the expected width without uncalculated formulas, a column at a time."""
        if not rows or not self.columns:  # no column to check (max() of none fails), or to zip data from
            return [{} for _ in rows], {}
        columns: list[list[Any]] = []
        failed: dict[int, list[RowFailure]] = {}
        gaps = False  # whether some row leaves a field out
        # The stripped texts of each mapped column: when most columns are mapped, from the rows
        # transposed by zip (in C, and a column at a time: an unmapped one is dropped as soon as it is
        # made), else picked a column at a time. Rows here are at least _min_width wide.
        # A cleaned column (a recipe's transforms) takes its sources' cells as they are.
        raw = {i for c in self.columns if c.reading for i in c.reading.sources}
        if 2 * len(self.columns) >= self._min_width:
            mapped = {c.index for c in self.columns if not c.reading}
            texts_of: dict[int, list[str]] = {}
            raw_of: dict[int, Any] = {}
            for index, cells in enumerate(zip(*rows)):
                if index in mapped:
                    texts_of[index] = list(map(str.strip, cells))
                if index in raw:
                    raw_of[index] = cells
        else:
            texts_of = {
                c.index: list(map(str.strip, map(itemgetter(c.index), rows))) for c in self.columns if not c.reading
            }
            raw_of = {index: list(map(itemgetter(index), rows)) for index in raw}
        for column in self.columns:
            unread: dict[int, Invalid] = {}
            if column.reading:
                texts, unread = column.reading.clean([raw_of[i] for i in column.reading.sources])
            else:
                texts = texts_of[column.index]
            if unread:
                values = None  # its cleaning failed some cell (a map with otherwise "fail"): cell by cell
            elif all(texts):
                values = column.check(texts)
            elif column.required:
                values = None  # a blank fails REQUIRED: cell by cell
            else:
                # Blank cells leave the field out; the filled ones are checked as a column of their own.
                filled = list(compress(texts, texts))
                checked = column.check(filled) if filled else []
                if checked is not None:
                    next_value = iter(checked).__next__
                    values = [next_value() if text else _LEFT_OUT for text in texts]
                    gaps = True
                else:
                    values = None
            if values is None:
                values = self._cell_by_cell(column, texts, failed, unread)
                gaps = True
            columns.append(values)
        if not gaps:
            data = self._rows_data(*columns)
        else:
            keys = self._keys
            data = [
                {key: value for key, value in zip(keys, values) if value is not _LEFT_OUT} for values in zip(*columns)
            ]
        if self._rules is not None:
            self._check_rules(data, failed)
        return data, failed

    def _check_rules(self, data: list[dict[str, Any]], failed: dict[int, list[RowFailure]]) -> None:
        rules = self._rules
        assert rules is not None
        for position, values in enumerate(data):
            earlier = failed.get(position)
            found = rules(values, {f.field for f in earlier if f.field} if earlier else _NO_FIELDS)
            if found:
                failed.setdefault(position, []).extend(found)

    @staticmethod
    def _cell_by_cell(
        column: MappedColumn, texts: list[str], failed: dict[int, list[RowFailure]], unread: dict[int, Invalid]
    ) -> list[Any]:
        """A column that some cell fails, as validate() takes each cell; failures are added to
        `failed` by row (columns come in order, so a row's failures too). `unread`: the cells whose
        cleaning failed, by position."""
        values: list[Any] = []
        for position, text in enumerate(texts):
            if position in unread:
                invalid = unread[position]
                params = {"field": column.label, "value": text, **invalid.params}
                failed.setdefault(position, []).append(RowFailure(column.field, invalid.code, params, text))
                values.append(_LEFT_OUT)
                continue
            if not text:
                if column.required:
                    failure = RowFailure(column.field, "REQUIRED", {"field": column.label}, "")
                    failed.setdefault(position, []).append(failure)
                values.append(_LEFT_OUT)
                continue
            try:
                values.append(column.convert(text))
            except Invalid as invalid:
                params = {"field": column.label, "value": text, **invalid.params}
                failed.setdefault(position, []).append(RowFailure(column.field, invalid.code, params, text))
                values.append(_LEFT_OUT)
        return values


class RecordValidator:
    """Validates records given as JSON (the batch-create API) against a table's fields, subtables
    included; failures name the field by its path (items[0].sku)."""

    RESERVED = frozenset({"parent_id"})

    def __init__(self, fields: list[FieldSpec], rules: list[TableRule] | None = None):
        self.fields = {spec.key: spec for spec in fields}
        self.converters = {spec.key: field_converter(spec) for spec in fields if spec.type != "subtable"}
        self.subtables = {spec.key: RecordValidator(spec.fields or []) for spec in fields if spec.type == "subtable"}
        self._rules = rules_of(rules or [], fields)

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
        if self._rules is not None and not prefix:
            failures += self._rules(data, {f.field.split("[")[0] for f in failures if f.field})
        return data, failures
