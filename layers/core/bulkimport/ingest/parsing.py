"""Reading an uploaded file: planning chunks over the whole of it, and reading one chunk.

Prepare streams the file once and cuts it into chunks at record boundaries (a quoted field may hold
newlines, so boundaries come from the CSV parser, not from raw newlines). A chunk is a byte range
of UTF-8 CSV text, so a worker reads only its own bytes and parses them one way:
- a UTF-8 CSV/TSV upload is read in place: chunks are ranges of the upload itself;
- anything else (another encoding, gzip, XLSX) is written once, as Prepare reads it, to a UTF-8 CSV
  work object, and chunks are ranges of that. XLSX rows go there led by their sheet row number,
  and a chunk never spans two sheets, so a worker knows each row's sheet and row as Excel shows them.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from itertools import accumulate
from operator import itemgetter
from typing import TYPE_CHECKING, Protocol, cast

from bulkimport.errors import FileError
from bulkimport.ingest.formats import (
    Hashing,
    Inflating,
    Limits,
    Readable,
    TextEncoding,
    check_archive_sizes,
    check_is_text,
    check_workbook_archive,
    complete_lines,
    detect_encoding,
    read_head,
    sniff,
    zipfile_of,
)
from bulkimport.ingest.spreadsheets import Sheet, SheetRow, Workbook

if TYPE_CHECKING:
    from _typeshed import SupportsRead

CANDIDATE_DELIMITERS = (",", "\t", ";", "|")
# A record (one CSV row, or one spreadsheet row written as CSV) is held whole in memory: bound it.
MAX_RECORD_BYTES = 1024 * 1024
MAX_COLUMNS = 1000
# csv counts characters, never more than the record's bytes.
csv.field_size_limit(MAX_RECORD_BYTES + 1)

# A text file reads as one sheet without a name.
TEXT = Sheet(0, None)
_READ_BYTES = 64 * 1024


class Writable(Protocol):
    def write(self, data: bytes) -> object: ...


@dataclass
class ChunkPlan:
    index: int
    start: int  # byte offset of the chunk's first record
    end: int  # byte offset just past its last record
    first_row: int  # 1-based data row number of its first record
    first_line: int  # 1-based physical line of its first record
    rows: int
    sheet: int = 0  # the workbook sheet its rows come from
    duplicates: bool = False  # some of its rows repeat an earlier row's unique key (Prepare keeps which)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SheetPlan:
    index: int
    name: str | None
    header: list[str] | None
    first_chunk: int


@dataclass
class FilePlan:
    format: str  # csv or xlsx
    compression: str | None  # gzip
    encoding: str | None  # of the source text
    delimiter: str
    transcoded: bool  # chunks are ranges of the work object, not of the upload
    line_column: bool  # every record is led by the source line it came from
    sheets: list[SheetPlan]
    chunks: list[ChunkPlan]
    total_rows: int
    size: int
    sha256: str


@dataclass(slots=True)  # one per row of the file
class SourceRow:
    cells: list[str]
    line: int  # the physical line (text) or sheet row (XLSX) a user sees the record start on
    start: int  # byte range of the record in the text chunk workers read
    end: int
    sheet: Sheet


# Given a sheet and its header, returns what to call with each data row (row number, cells, and the
# line or sheet row a user sees it on), or None if the rows' cells are not needed.
OnSheet = Callable[[Sheet, list[str] | None], Callable[[int, list[str], int], None] | None]
# Given a run of plain records: the line of the first, its start, and where each one ends.
TakePlain = Callable[[int, int, list[int]], None]


def resolve_delimiter(option: str, sample: str) -> str:
    """The recipe's delimiter, or the candidate that splits the first lines into the most columns
    most consistently (parsed as CSV, so delimiters inside quotes do not count)."""
    if option and option != "auto":
        return "\t" if option in ("\\t", "tab") else option
    lines = [line for line in sample.splitlines(keepends=True)[:20] if line.strip()]
    best, best_score = ",", (0, 1)
    for delimiter in CANDIDATE_DELIMITERS:
        widths = [len(cells) for cells in csv.reader(lines, delimiter=delimiter)]
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for width in widths if width == widths[0]), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def is_blank(cells: list[str]) -> bool:
    # Most rows have a first cell, which settles it; else one joined string rather than a
    # generator: this runs for every row, twice per import.
    return not (cells and cells[0].strip()) and not "".join(cells).strip()


# ---------------------------------------------------------------- planning


def plan_upload(
    stream: Readable,
    *,
    encoding_option: str,
    delimiter_option: str,
    sheet_option: str | int | None,
    has_header: bool,
    chunk_rows: int,
    chunk_bytes: int,
    limits: Limits,
    open_work: Callable[[], AbstractContextManager[Writable]],
    on_sheet: OnSheet | None = None,
    header_row: int = 1,
) -> FilePlan:
    """Read the whole upload once: its kind and encoding, each sheet's header, its rows, and chunks
    cut at record boundaries. `open_work()` opens the work object, when one is needed.

    `on_sheet(sheet, header)` is called when a sheet's first data row is reached (so a sheet with
    no data is never judged by its header) and returns a function then given each of its data
    rows with its row number.

    `header_row` is the line (text) or sheet row (XLSX) the header is on: the rows above it, in
    each sheet, are skipped (a report's title); row numbers still count every row of the file."""
    original = Hashing(stream)
    head, source = read_head(original)
    kind = sniff(head)
    planner = _Planner(has_header, chunk_rows, chunk_bytes, on_sheet, header_row)
    if kind == "xlsx":
        with tempfile.TemporaryFile() as spool:
            # A zip is read from its end (its directory): it must be whole and seekable.
            # The cast: copyfileobj always passes a size, which is all Prefixed.read takes.
            shutil.copyfileobj(cast("SupportsRead[bytes]", source), spool, _READ_BYTES)
            with zipfile_of(spool, limits.max_zip_entries) as archive:
                check_workbook_archive(archive)
                check_archive_sizes(archive, limits)
            workbook = Workbook(spool)
            try:
                sheets = workbook.sheets(sheet_option)
                with open_work() as out:
                    planner.run(_sheet_rows(workbook.rows(sheets, header_row), out))
            finally:
                workbook.close()
        encoding, delimiter, transcoded, line_column = None, ",", True, True
    else:
        text = Inflating(source, limits) if kind == "gzip" else source
        sample, text = read_head(text)
        if kind == "gzip" and sniff(sample) != "text":
            raise FileError("UNSUPPORTED_FILE_TYPE", kind="gzip'd archive")
        found = detect_encoding(sample, encoding_option)
        check_is_text(sample, found)
        delimiter = resolve_delimiter(
            delimiter_option, complete_lines(sample)[found.bom :].decode(found.name, "replace")
        )
        transcoded = kind == "gzip" or not found.is_utf8
        with open_work() if transcoded else nullcontext() as out:
            lines = TextLines(text, found, out, delimiter)
            planner.run(_text_rows(lines, delimiter), lines)
        encoding, line_column = found.name, False
    # The whole upload has been read: its size and digest are those of every original byte.
    return FilePlan(
        format="xlsx" if kind == "xlsx" else "csv",
        compression="gzip" if kind == "gzip" else None,
        encoding=encoding,
        delimiter=delimiter,
        transcoded=transcoded,
        line_column=line_column,
        sheets=planner.sheets,
        chunks=planner.chunks,
        total_rows=planner.total,
        size=original.size,
        sha256=original.sha256(),
    )


class _Planner:
    """Cuts rows into chunks: at chunk_rows rows or chunk_bytes bytes, and at every new sheet.
    With a header, each sheet's first non-blank row from header_row on is its header."""

    def __init__(
        self, has_header: bool, chunk_rows: int, chunk_bytes: int, on_sheet: OnSheet | None, header_row: int = 1
    ):
        self.has_header = has_header
        self.header_row = header_row
        self.chunk_rows = chunk_rows
        self.chunk_bytes = chunk_bytes
        self.on_sheet = on_sheet
        self.chunks: list[ChunkPlan] = []
        self.sheets: list[SheetPlan] = []
        self.total = 0
        self._open: ChunkPlan | None = None

    def run(self, rows: Iterable[SourceRow], lines: TextLines | None = None) -> None:
        """Plan `rows`; with the TextLines they are parsed from, the data rows of a sheet whose cells
        nobody needs are taken a plain block at a time, unparsed."""
        sheet = header = on_row = None
        started = seen_any = False
        last_line = 0  # of the rows above header_row, when none reaches it
        for row in rows:
            cells = row.cells
            if is_blank(cells):
                continue
            seen_any = True
            if len(cells) > MAX_COLUMNS:
                raise FileError(
                    "TOO_MANY_COLUMNS", line=row.line, count=len(cells), max_columns=MAX_COLUMNS, **_where(row.sheet)
                )
            if row.sheet is not sheet:
                # Checked only until a sheet's header: the rows after it pay nothing.
                if row.line < self.header_row:
                    last_line = max(last_line, row.line)
                    continue
                self._close()
                sheet, header, on_row, started = row.sheet, None, None, False
                if self.has_header:
                    header = [cell.strip() for cell in cells]
                    continue
            if not started:
                self.sheets.append(SheetPlan(sheet.index, sheet.name, header, len(self.chunks)))
                on_row, started = self._sheet_started(sheet, header), True
                if on_row is None and lines is not None:
                    lines.pass_plain_blocks(self._take_plain)
            # The row joins the open chunk (inline: this runs for every row of the file).
            self.total += 1
            if on_row is not None:
                on_row(self.total, cells, row.line)
            chunk = self._open
            if chunk is None:
                chunk = self._open = ChunkPlan(
                    len(self.chunks), row.start, row.end, self.total, row.line, 0, sheet.index
                )
            chunk.end = row.end
            chunk.rows += 1
            if chunk.rows >= self.chunk_rows or chunk.end - chunk.start >= self.chunk_bytes:
                self._close()
        self._close()
        if not seen_any:
            raise FileError("EMPTY_FILE")
        if sheet is None:  # every non-blank row is above header_row
            raise FileError("HEADER_ROW_BEYOND_FILE", header_row=self.header_row, last_row=last_line)
        if self.total == 0:
            raise FileError("NO_DATA_ROWS")

    def _take_plain(self, first_line: int, start: int, ends: list[int]) -> None:
        """A run of data rows of a text file, one a line, given by where each ends: they join chunks
        as run() would join them one at a time."""
        taken, run_rows = 0, len(ends)
        while taken < run_rows:
            chunk = self._open
            if chunk is None:
                chunk_start = ends[taken - 1] if taken else start
                chunk = self._open = ChunkPlan(
                    len(self.chunks), chunk_start, chunk_start, self.total + 1, first_line + taken, 0, TEXT.index
                )
            last = min(run_rows, taken + self.chunk_rows - chunk.rows)
            # The first row that brings the chunk to chunk_bytes is its last.
            last = min(last, bisect_left(ends, chunk.start + self.chunk_bytes, taken, last) + 1)
            chunk.rows += last - taken
            chunk.end = ends[last - 1]
            self.total += last - taken
            taken = last
            if chunk.rows >= self.chunk_rows or chunk.end - chunk.start >= self.chunk_bytes:
                self._close()

    def _sheet_started(self, sheet: Sheet, header: list[str] | None):
        if self.on_sheet is None:
            return None
        try:
            return self.on_sheet(sheet, header)
        except FileError as error:
            error.params.update(_where(sheet))
            raise

    def _close(self) -> None:
        if self._open is not None:
            self.chunks.append(self._open)
            self._open = None


def _where(sheet: Sheet) -> dict:
    """Names the sheet in a file error, for workbooks."""
    return {"sheet": sheet.name} if sheet.name is not None else {}


# ---------------------------------------------------------------- text


class TextLines:
    """The lines of a text stream, decoded and counted; with `out`, also written to it as UTF-8 (the
    text chunk workers read). `offset` is the position in that text; a record's start is marked with
    start_record(), so that no record grows past MAX_RECORD_BYTES (an unclosed quote would otherwise
    swallow the rest of the file).

    The stream is read and decoded a block of whole lines at a time: decoding line by line was most
    of the cost of Prepare's scan. Once pass_plain_blocks() is called, a block of plain records
    (see _plain_ends) is handed over whole instead of line by line, unparsed."""

    def __init__(self, stream: Readable, encoding: TextEncoding, out: Writable | None = None, delimiter: str = ","):
        self.stream = stream
        self.encoding = encoding
        self.out = out
        # Chunks of an upload read in place count its byte-order mark; a work object has none.
        self.offset = encoding.bom if out is None else 0
        self.line = 0
        self.record_start, self.record_line = self.offset, 1
        self.take_plain: TakePlain | None = None
        # A line of nothing but whitespace and delimiters: a blank record. Matched at the start of a
        # block, then searched for after a newline (a search led by a literal is fast).
        blank = rf"[\s{re.escape(delimiter)}]*\n"
        self._blank_first_line, self._blank_line = re.compile(blank), re.compile("\n" + blank)
        self._delimiter_bytes = delimiter.encode("utf-8")

    def start_record(self) -> None:
        self.record_start, self.record_line = self.offset, self.line + 1

    def pass_plain_blocks(self, take: TakePlain) -> None:
        """From now on, give every block of plain records to `take(first_line, start, ends)` (its
        first line, its start and each record's end, in the text workers read) instead of yielding
        its lines: a caller that needs no record's cells need not parse them."""
        self.take_plain = take

    def __iter__(self) -> Iterator[str]:
        self.stream.read(self.encoding.bom)
        name = self.encoding.name
        for block in self._blocks():
            try:
                text = block.decode(name)
            except UnicodeDecodeError as error:
                # The block decoded up to the first bad byte: its newlines before it count the lines.
                bad_line = self.line + block[: error.start].decode(name, "replace").count("\n") + 1
                raise FileError("UNDECODABLE", line=bad_line, encoding=name) from None
            if self.out is None:
                data = block  # read in place: the upload is UTF-8
            else:
                data = text.encode("utf-8")
                self.out.write(data)
            # Between records (the parser is not inside a quoted field), a plain block goes whole.
            if self.take_plain is not None and self.record_start == self.offset:
                ends = self._plain_ends(text, data)
                if ends is not None:
                    self.take_plain(self.line + 1, self.offset, ends)
                    self.line += len(ends)
                    self.offset = ends[-1]
                    self.start_record()
                    continue
            # Each text line ends with its newline (a quoted field may hold one); its bytes are the
            # piece of `data` between newlines, newline included, except for a last line without one.
            for line, raw in zip(io.StringIO(text, newline="\n"), data.split(b"\n")):
                self.line += 1
                self.offset += len(raw) + 1 if line[-1] == "\n" else len(raw)
                if self.offset - self.record_start > MAX_RECORD_BYTES:
                    self._too_long()
                yield line

    def _plain_ends(self, text: str, data: bytes) -> list[int] | None:
        """Where each line of the block ends, if each line is one record that the CSV parser would
        read as the line split on delimiters, and one the planner would take as it is: no quote, no
        carriage return but before a newline, no blank line, no line of MAX_COLUMNS delimiters, and a
        newline at the end. Else None."""
        if (
            not text.endswith("\n")
            or '"' in text
            or len(data) > MAX_RECORD_BYTES
            or ("\r" in text and text.count("\r") != text.count("\r\n"))
            or self._blank_first_line.match(text)
            or self._blank_line.search(text)
        ):
            return None
        # Each line with its line end (a carriage return here is always before a newline, and
        # bytes.splitlines takes "\r\n" as one line end): line i ends at offset + the sizes of lines 0..i.
        lines = data.splitlines(keepends=True)
        sizes = list(map(len, lines))
        # MAX_COLUMNS delimiters take at least as many bytes: only lines that long are counted.
        if max(sizes) >= MAX_COLUMNS and any(line.count(self._delimiter_bytes) >= MAX_COLUMNS for line in lines):
            return None
        ends = list(accumulate(sizes, initial=self.offset))
        del ends[0]  # the offset itself, where the first line starts
        return ends

    def _blocks(self) -> Iterator[bytes]:
        """The stream in blocks of whole lines (the last may lack its newline), cut on whole code
        units (in UTF-16 the newline is two bytes, and its bytes also occur inside other characters)."""
        newline = "\n".encode(self.encoding.name)
        unit = len(newline)
        pending = b""
        while block := self.stream.read(_READ_BYTES):
            pending += block
            cut = pending.rfind(newline)
            while cut >= 0 and cut % unit:
                cut = pending.rfind(newline, 0, cut)
            if cut < 0:
                if len(pending) > MAX_RECORD_BYTES:
                    self._too_long()
                continue
            yield pending[: cut + unit]
            pending = pending[cut + unit :]
        if pending:
            yield pending

    def _too_long(self):
        raise FileError("RECORD_TOO_LONG", line=self.record_line, max_bytes=MAX_RECORD_BYTES)


def _text_rows(lines: TextLines, delimiter: str) -> Iterator[SourceRow]:
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for cells in reader:
            yield SourceRow(cells, lines.record_line, lines.record_start, lines.offset, TEXT)
            lines.start_record()
    except csv.Error as error:
        raise FileError("MALFORMED_CSV", line=lines.line, reason=str(error)) from None


# ---------------------------------------------------------------- spreadsheets


def _sheet_rows(rows: Iterator[SheetRow], out: Writable) -> Iterator[SourceRow]:
    """Spreadsheet rows written to the work object as CSV lines led by their sheet row number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    offset = 0
    for row in rows:
        writer.writerow([row.number, *row.cells])
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if len(data) > MAX_RECORD_BYTES:
            raise FileError("RECORD_TOO_LONG", line=row.number, max_bytes=MAX_RECORD_BYTES, **_where(row.sheet))
        out.write(data)
        yield SourceRow(row.cells, row.number, offset, offset + len(data), row.sheet)
        offset += len(data)


# ---------------------------------------------------------------- one chunk


def read_chunk(
    data: bytes, delimiter: str, first_line: int, line_column: bool
) -> tuple[list[list[str]], Sequence[int]]:
    """The non-blank records of one chunk's UTF-8 bytes, and the line (or sheet row) each starts on,
    as two lists: a chunk's rows are taken a column at a time next (RowValidator.validate_rows)."""
    # Most files have no carriage return: looked for first, it spares counting the two.
    if b'"' not in data and (b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")):
        rows, lines = _plain_rows(data, delimiter, first_line)
    else:
        rows, lines = _parsed_rows(data, delimiter, first_line)
    if line_column:
        return [cells[1:] for cells in rows], [int(cells[0]) for cells in rows]
    return rows, lines


def _parsed_rows(data: bytes, delimiter: str, first_line: int) -> tuple[list[list[str]], list[int]]:
    # Decoded as it is parsed: the chunk's whole text (4 MB of bytes can be 16 MB of str) is never
    # held at once.
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    rows, lines = [], []
    line = first_line
    for cells in reader:
        if not is_blank(cells):
            rows.append(cells)
            lines.append(line)
        line = first_line + reader.line_num
    return rows, lines


def _plain_rows(data: bytes, delimiter: str, first_line: int) -> tuple[list[list[str]], Sequence[int]]:
    """The records of a chunk without a quote or a carriage return but before a newline: each line
    is one record, and the CSV parser would read it as the line split on the delimiter, which
    str.split does in a fraction of the time. Decoded in blocks of whole lines, so that the chunk's
    whole text is never held at once (neither is it by the parser)."""
    rows: list[list[str]] = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", start + _READ_BYTES)
        end = len(data) if end < 0 else end + 1
        text = data[start:end].decode("utf-8")
        start = end
        if "\r" in text:
            text = text.replace("\r\n", "\n")  # one line end, as the parser takes it
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()  # the empty piece after the last newline
        rows += [text_line.split(delimiter) for text_line in lines]
    # A row whose first cell is not blank is not blank (see is_blank): when every row has one (most
    # chunks), that is settled by C builtins over the column, and each line is a record.
    if all(map(str.strip, map(itemgetter(0), rows))):
        return rows, range(first_line, first_line + len(rows))
    records, record_lines = [], []
    for line, cells in enumerate(rows, first_line):
        if cells[0].strip() or not is_blank(cells):
            records.append(cells)
            record_lines.append(line)
    return records, record_lines
