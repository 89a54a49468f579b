"""Mapping help: propose a recipe's columns for a file (or its headers and a few rows) and a table.

Each header is matched to a field by, in order of confidence: the field's key or label (ignoring
case, spaces and width, as imports match headers), a source the tenant's earlier recipes for the
table mapped to a field, and a name that is close (separators dropped, or similar by difflib's
ratio). The sample values then check the match: a column whose values mostly do not fit the field's
type loses confidence, and a column no name matches may still be proposed for the one field whose
type its values fit (an email column for the only email field). Each field is proposed once, to its
best column.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from bulkimport.config import Chunking, section
from bulkimport.errors import FileError, InvalidInput, UnsupportedMediaType
from bulkimport.ingest.formats import Limits
from bulkimport.ingest.parsing import plan_upload
from bulkimport.recipes.headers import header_key
from bulkimport.recipes.models import DATE_FORMATS, MAX_SOURCE, PARENT_PREFIX, Recipe
from bulkimport.recipes.service import recipes_of_table
from bulkimport.recipes.transforms import format_converter
from bulkimport.schema.models import MAX_FIELDS, MAX_NAME, REQUEST, FieldSpec, Table
from bulkimport.schema.tables import get_table
from bulkimport.schema.validation import Invalid, converter_for

SAMPLE_ROWS = 20  # rows of a file whose values check the proposed types
MAX_SAMPLE_CELL = 1_000
HEADER_SEARCH = 20  # the first rows a report's header is looked for in, below its title
# Types whose values say what a column is even when its header says nothing.
TELLING_TYPES = ("email", "date", "datetime")


class SuggestRequest(BaseModel):
    """JSON form of the request: the table, a file's headers and some of its rows."""

    model_config = REQUEST
    table: str = Field(min_length=1, max_length=MAX_NAME)
    headers: list[str] = Field(min_length=1, max_length=MAX_FIELDS)
    rows: list[list[str | int | float | bool | None]] = Field(default_factory=list, max_length=SAMPLE_ROWS * 5)

    def sample(self) -> list[list[str]]:
        return [["" if v is None else str(v)[:MAX_SAMPLE_CELL] for v in row] for row in self.rows[:SAMPLE_ROWS]]


class Proposal(BaseModel):
    """A cleaning step (or a format) proposed for a column, and what in the sample rows it answers."""

    step: str | dict[str, Any] = Field(description='a transform step, or {"format": ...}')
    reason: str


class SuggestedColumn(BaseModel):
    source: str | int = Field(description="a header, or a 0-based column index when the file has no header row")
    target: str
    confidence: float = Field(ge=0, le=1, description="1 for a key or label match; lower for weaker evidence")
    reason: str = Field(description="key, label, earlier_recipe, similar_name or values, and what the sample showed")
    transform: list[str | dict[str, Any]] = Field(default_factory=list, description="proposed steps, in order")
    format: str | None = Field(default=None, description="a date format the sample values fit, the only one")
    proposals: list[Proposal] = Field(default_factory=list, description="each proposed step or format, with why")


class SuggestedOptions(BaseModel):
    has_header: bool
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = Field(default=1, description="the row of the header; above 1 when rows above it are a title")
    header_row_reason: str | None = None


class Suggestion(BaseModel):
    columns: list[SuggestedColumn]
    unmapped_sources: list[str | int]
    missing_required: list[str]
    options: SuggestedOptions


@dataclass
class _Candidate:
    source: str
    position: int
    target: str
    confidence: float
    reason: str


def suggest_for_sample(tenant: str, request: SuggestRequest) -> Suggestion:
    headers = [h[:MAX_SOURCE] for h in request.headers]
    return _suggest(
        tenant, get_table(tenant, request.table), headers, request.sample(), SuggestedOptions(has_header=True)
    )


def suggest_for_file(tenant: str, table_key: str, body: bytes) -> Suggestion:
    """Read the file like an import does (kind, encoding, delimiter, the first sheet with data),
    then suggest from its first row, taken as the header if it looks like one."""
    table = get_table(tenant, table_key)
    rows, lines, plan_options = _first_rows(body)
    if not rows:
        raise InvalidInput("EMPTY_FILE")
    found = _header_index(rows)
    if found:
        plan_options.header_row = lines[found]
        plan_options.header_row_reason = (
            f"row {lines[found]} is the first filled across the table's width, with text, above rows of "
            f"data; the {found} non-blank row(s) above it are narrower (a title)"
        )
        rows = rows[found:]
    first, rest = rows[0], rows[1 : SAMPLE_ROWS + 1]
    as_header = _suggest(tenant, table, first, rest, plan_options)
    if (as_header.columns and max(c.confidence for c in as_header.columns) >= 0.75) or not _looks_like_data(first):
        return as_header
    # The first row is data: sources are 0-based column indexes, and every row is a sample.
    numbered = [str(i) for i in range(len(first))]
    guess = _suggest(tenant, table, numbered, rows[:SAMPLE_ROWS], plan_options, by_name=False)
    guess.options.has_header = False
    return guess


# ---------------------------------------------------------------- matching


def _suggest(
    tenant: str,
    table: Table,
    headers: list[str],
    sample: list[list[str]],
    options: SuggestedOptions,
    by_name: bool = True,
) -> Suggestion:
    fields = [f for f in table.fields if f.type != "subtable"]
    earlier = _earlier_sources(tenant, table.key) if by_name else {}
    candidates = [c for position, source in enumerate(headers) for c in _candidates(source, position, fields, earlier)]
    candidates += _by_values(headers, sample, fields)
    checked = [_checked_by_values(c, sample, table) for c in candidates]

    chosen: list[_Candidate] = []
    taken_sources: set[int] = set()
    taken_targets: set[str] = set()
    for c in sorted(checked, key=lambda c: (-c.confidence, c.position)):
        if c.position in taken_sources or c.target in taken_targets or c.confidence < 0.3:
            continue
        taken_sources.add(c.position)
        taken_targets.add(c.target)
        chosen.append(c)
    return Suggestion(
        columns=[
            SuggestedColumn(
                source=c.source if by_name else c.position,
                target=c.target,
                confidence=round(c.confidence, 2),
                reason=c.reason,
                **_cleaning(table.field(c.target), [row[c.position] for row in sample if c.position < len(row)]),
            )
            for c in sorted(chosen, key=lambda c: c.position)
        ],
        unmapped_sources=[h if by_name else i for i, h in enumerate(headers) if i not in taken_sources],
        missing_required=[f.key for f in fields if f.required and f.key not in taken_targets],
        options=options,
    )


def _candidates(source: str, position: int, fields: list[FieldSpec], earlier: dict[str, str]) -> Iterator[_Candidate]:
    key = header_key(source)
    if not key:
        return
    loose = _loose(key)
    for field in fields:
        names = [("key", field.key)] + ([("label", field.label)] if field.label else [])
        best: tuple[float, str] | None = None
        for kind, name in names:
            other = header_key(name)
            if other == key:
                score, reason = 1.0, kind
            elif _loose(other) == loose and loose:
                score, reason = 0.9, "similar_name"
            else:
                ratio = difflib.SequenceMatcher(None, loose, _loose(other)).ratio()
                score, reason = (0.8 * ratio, "similar_name") if ratio >= 0.75 else (0.0, "")
            if score and (best is None or score > best[0]):
                best = (score, reason)
        if earlier.get(key) == field.key and (best is None or best[0] < 0.95):
            best = (0.95, "earlier_recipe")
        if best:
            yield _Candidate(source, position, field.key, best[0], best[1])


def _by_values(headers: list[str], sample: list[list[str]], fields: list[FieldSpec]) -> list[_Candidate]:
    """A column whose sample values all fit the only field of a telling type (email, date) is
    proposed for it, whatever its header says, at a confidence below any name match."""
    found = []
    for kind in TELLING_TYPES:
        of_kind = [f for f in fields if f.type == kind]
        if len(of_kind) != 1:
            continue
        for position, source in enumerate(headers):
            fit, seen = _fit(of_kind[0], [row[position] for row in sample if position < len(row)])
            if seen >= 3 and fit == 1.0:
                found.append(_Candidate(source, position, of_kind[0].key, 0.5, f"values: all {seen} look like {kind}"))
    return found


def _checked_by_values(candidate: _Candidate, sample: list[list[str]], table: Table) -> _Candidate:
    field = table.field(candidate.target)
    if field is None or candidate.reason.startswith("values"):
        return candidate
    fit, seen = _fit(field, [row[candidate.position] for row in sample if candidate.position < len(row)])
    if seen == 0:
        return candidate
    if fit < 0.5:
        note = f"{candidate.reason}; only {round(fit * seen)} of {seen} sample values fit {field.type}"
        # Scaled by the share that fits: a column none of whose values fit is not proposed at all.
        scaled = candidate.confidence * max(fit, 0.25)
        return _Candidate(candidate.source, candidate.position, candidate.target, scaled, note)
    return _Candidate(
        candidate.source,
        candidate.position,
        candidate.target,
        candidate.confidence,
        f"{candidate.reason}; values fit {field.type}",
    )


def _fit(field: FieldSpec, values: list[str]) -> tuple[float, int]:
    """The share of the non-empty values that the field's type takes, after the cleaning proposed
    for them (a format, a map), and how many there were."""
    convert = _cleaned_converter(field, values)
    seen = ok = 0
    for value in values:
        text = value.strip()
        if not text:
            continue
        seen += 1
        try:
            convert(text)
            ok += 1
        except Invalid:
            pass
    return (ok / seen if seen else 0.0), seen


# ---------------------------------------------------------------- cleaning steps from the sample


def _folded(text: str) -> str:
    """A value as compared ignoring case, width and spaces."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _cleaning(field: FieldSpec | None, values: list[str]) -> dict[str, Any]:
    """Steps and a format for a column from its sample values: `trim` when cells carry surrounding
    spaces; for a date field whose values v1 does not read, the one date format they all fit; for an
    enum or boolean field, a `map` of the values that match an option (or true/false) only ignoring
    case, width and spaces."""
    filled = [v for v in values if v.strip()]
    if field is None or not filled:
        return {}
    transform: list[str | dict[str, Any]] = []
    proposals: list[Proposal] = []
    spaced = sum(1 for v in filled if v != v.strip())
    if spaced:
        transform.append("trim")
        proposals.append(
            Proposal(step="trim", reason=f"{spaced} of {len(filled)} sample cells have surrounding spaces")
        )
    texts = [v.strip() for v in filled]
    found: dict[str, Any] = {}
    if field.type == "date":
        fmt = _date_format_of(texts)
        if fmt is not None:
            found["format"] = fmt
            proposals.append(
                Proposal(step={"format": fmt}, reason=f"all {len(texts)} sample values fit {fmt}, and no other format")
            )
    elif field.type in ("enum", "boolean"):
        step = _map_of(field, texts)
        if step is not None:
            transform.append(step)
            listed = ", ".join(f"'{k}' -> '{v}'" for k, v in step["map"].items())
            what = "the options" if field.type == "enum" else "true/false"
            proposals.append(
                Proposal(step=step, reason=f"{listed}: the same as {what} ignoring case, width and spaces")
            )
    if transform:
        found["transform"] = transform
    if proposals:
        found["proposals"] = proposals
    return found


def _cleaned_converter(field: FieldSpec, values: list[str]) -> Any:
    convert = converter_for(field)
    proposed = _cleaning(field, values)
    if proposed.get("format"):
        return format_converter(field, proposed["format"])
    mapping = next((step["map"] for step in proposed.get("transform", ()) if isinstance(step, dict)), None)
    if mapping:
        return lambda text: convert(mapping.get(text, text))
    return convert


def _date_format_of(texts: list[str]) -> str | None:
    convert = converter_for(FieldSpec(key="d", type="date"))
    if all(_reads(convert, t) for t in texts):
        return None  # read as they are
    fitting = [
        fmt
        for fmt in DATE_FORMATS
        if all(_reads(format_converter(FieldSpec(key="d", type="date"), fmt), t) for t in texts)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _reads(convert: Any, text: str) -> bool:
    try:
        convert(text)
    except Invalid:
        return False
    return True


def _map_of(field: FieldSpec, texts: list[str]) -> dict[str, Any] | None:
    convert = converter_for(field)
    if field.type == "enum":
        targets = {_folded(o): o for o in field.options or ()}
    else:
        targets = {_folded(t): "true" for t in ("true", "yes", "y", "是", "對")}
        targets.update({_folded(t): "false" for t in ("false", "no", "n", "否", "錯")})
    mapping: dict[str, str] = {}
    for text in dict.fromkeys(texts):
        if _reads(convert, text):
            continue
        target = targets.get(_folded(text))
        if target is None:
            return None  # a value nothing matches: a map would only hide it
        mapping[text] = target
    return {"map": mapping} if mapping else None


def _loose(key: str) -> str:
    return re.sub(r"[\s_\-.·・/]+", "", key)


def _earlier_sources(tenant: str, table_key: str) -> dict[str, str]:
    """Header (as matched) -> field key, from the tenant's recipes for the table, newest last."""
    mapping: dict[str, str] = {}
    for item in sorted(recipes_of_table(tenant, table_key), key=lambda i: i.get("updated_at", "")):
        for column in Recipe.model_validate(item).mapped:
            if isinstance(column.source, str) and not column.target.startswith(PARENT_PREFIX):
                mapping[header_key(column.source)] = column.target
    return mapping


def _filled(row: list[str]) -> int:
    return sum(1 for cell in row if cell.strip())


def _header_index(rows: list[list[str]]) -> int:
    """The index of a report's header among its first rows, 0 when the first row is it (or none
    is): the first of the first HEADER_SEARCH rows filled over more than half the table's width
    (its widest row; a merged header cell fills only its first column), mostly with text, and
    followed by a row of data. A title above it fills less."""
    top = rows[:HEADER_SEARCH]
    width = max(_filled(row) for row in top)
    for index, row in enumerate(top[:-1]):
        filled = _filled(row)
        if filled * 2 > width:
            text = sum(1 for cell in row if cell.strip() and not _looks_like_data([cell]))
            return index if text * 2 > filled and _looks_like_data(top[index + 1]) else 0
    return 0


def _looks_like_data(row: list[str]) -> bool:
    """A first row with numbers, dates or emails in it is data, not a header."""
    return any(re.fullmatch(r"[-+]?\d[\d,.]*|\d{4}-\d{2}-\d{2}.*|[^@\s]+@[^@\s]+", cell.strip()) for cell in row)


# ---------------------------------------------------------------- reading a file


def _first_rows(body: bytes) -> tuple[list[list[str]], list[int], SuggestedOptions]:
    """The first rows of the first sheet with data, and the line (or sheet row) of each."""
    rows: list[list[str]] = []
    lines: list[int] = []
    sheet_name: list[str | None] = []

    def on_sheet(sheet, _header) -> Any:
        if sheet_name:
            return None  # only the first sheet with data
        sheet_name.append(sheet.name)

        def on_row(_row: int, cells: list[str], line: int) -> None:
            # Enough for a sample below a header found anywhere in the first HEADER_SEARCH rows.
            if len(rows) <= SAMPLE_ROWS + HEADER_SEARCH:
                rows.append([c[:MAX_SAMPLE_CELL] for c in cells])
                lines.append(line)

        return on_row

    chunking = section(Chunking)
    try:
        plan = plan_upload(
            io.BytesIO(body),
            encoding_option="auto",
            delimiter_option="auto",
            sheet_option=None,
            has_header=False,
            chunk_rows=chunking.chunk_rows,
            chunk_bytes=chunking.chunk_bytes,
            limits=Limits(chunking.max_uncompressed_bytes, chunking.max_compression_ratio),
            # The work copy is not kept (nothing is imported); plan_upload opens it in a `with`.
            open_work=lambda: open(os.devnull, "wb"),  # noqa: SIM115
            on_sheet=on_sheet,
        )
    except FileError as error:
        kind = UnsupportedMediaType if error.code == "UNSUPPORTED_FILE_TYPE" else InvalidInput
        raise kind(error.code, **error.params) from None
    options = SuggestedOptions(
        has_header=True,
        delimiter=None if plan.format == "xlsx" else plan.delimiter,
        encoding=plan.encoding,
        sheet=sheet_name[0] if sheet_name else None,
    )
    return rows, lines, options
