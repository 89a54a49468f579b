"""Reading delimited text files: planning chunks over the whole file, and reading one chunk.

Prepare scans the file once as a stream and cuts it into chunks at record boundaries (a quoted field
may hold newlines, so boundaries come from the CSV parser, not from raw newlines). A chunk is a byte
range of the original object, so a worker reads only its own bytes.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import asdict, dataclass
from typing import BinaryIO, Callable, Iterator

from bulkimport.errors import FileError

CANDIDATE_DELIMITERS = (",", "\t", ";", "|")
_BOM_UTF8 = codecs.BOM_UTF8
# csv's own limit (128 KB a field) would reject real-world long text cells; bounded all the same.
csv.field_size_limit(8 * 1024 * 1024)


@dataclass
class ChunkPlan:
    index: int
    start: int  # byte offset of the chunk's first record
    end: int  # byte offset just past its last record
    first_row: int  # 1-based data row number of its first record
    first_line: int  # 1-based physical line of its first record
    rows: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FilePlan:
    encoding: str
    delimiter: str
    header: list[str] | None
    width: int | None
    chunks: list[ChunkPlan]
    total_rows: int
    size: int
    sha256: str


def resolve_delimiter(option: str, first_line: str) -> str:
    if option and option != "auto":
        return "\t" if option in ("\\t", "tab") else option
    counts = {d: first_line.count(d) for d in CANDIDATE_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def resolve_encoding(option: str) -> str:
    if not option or option == "auto":
        return "utf-8"
    try:
        return codecs.lookup(option).name
    except LookupError:
        raise FileError("UNSUPPORTED_ENCODING", encoding=option) from None


def is_blank(cells: list[str]) -> bool:
    # One joined string rather than a generator: this runs for every row, twice per import.
    return not "".join(cells).strip()


class _CountingLines:
    """Feeds decoded lines to csv.reader while tracking the byte offset and line number consumed."""

    def __init__(self, stream: BinaryIO, encoding: str, hasher):
        self.stream = stream
        self.encoding = encoding
        self.hasher = hasher
        self.offset = 0
        self.line = 0
        self.first = True

    def __iter__(self) -> Iterator[str]:
        for raw in self.stream:
            self.hasher.update(raw)
            self.line += 1
            if self.first:
                self.first = False
                if raw.startswith(_BOM_UTF8) and self.encoding.replace("_", "-") in ("utf-8", "utf-8-sig"):
                    self.offset += len(_BOM_UTF8)
                    raw = raw[len(_BOM_UTF8) :]
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                raise FileError("UNDECODABLE", line=self.line, encoding=self.encoding) from None
            self.offset += len(raw)
            yield text


def plan_file(
    stream: BinaryIO,
    *,
    encoding_option: str,
    delimiter_option: str,
    has_header: bool,
    chunk_rows: int,
    chunk_bytes: int,
    on_header: Callable[[list[str] | None], Callable[[int, list[str]], None]] | None = None,
) -> FilePlan:
    """Scan the whole file once: its header, its row count, and chunks cut at record boundaries.

    `on_header(header)` is called once the header is known (None without one) and returns a
    function that is then given every data row with its row number.
    """
    encoding = resolve_encoding(encoding_option)
    hasher = hashlib.sha256()
    peeked = stream.peek(64 * 1024)[: 64 * 1024] if hasattr(stream, "peek") else b""
    first_line = peeked.split(b"\n", 1)[0].lstrip(_BOM_UTF8).decode(encoding, errors="replace")
    delimiter = resolve_delimiter(delimiter_option, first_line)
    lines = _CountingLines(stream, encoding, hasher)
    reader = csv.reader(iter(lines), delimiter=delimiter)

    header: list[str] | None = None
    chunks: list[ChunkPlan] = []
    total = 0
    chunk_start = chunk_line = None
    chunk_rows_seen = 0
    record_start, record_line = lines.offset, 1
    on_row = None

    def close_chunk(end: int) -> None:
        nonlocal chunk_start, chunk_rows_seen
        chunks.append(ChunkPlan(len(chunks), chunk_start, end, total - chunk_rows_seen + 1, chunk_line, chunk_rows_seen))
        chunk_start = None
        chunk_rows_seen = 0

    try:
        for cells in reader:
            if header is None and has_header:
                if not is_blank(cells):
                    header = [cell.strip() for cell in cells]
                record_start, record_line = lines.offset, lines.line + 1
                continue
            if not is_blank(cells):
                if chunk_start is None:
                    chunk_start, chunk_line = record_start, record_line
                total += 1
                if on_header is not None:
                    if on_row is None:
                        on_row = on_header(header)
                    on_row(total, cells)
                chunk_rows_seen += 1
                if chunk_rows_seen >= chunk_rows or lines.offset - chunk_start >= chunk_bytes:
                    close_chunk(lines.offset)
            record_start, record_line = lines.offset, lines.line + 1
    except csv.Error as error:
        raise FileError("MALFORMED_CSV", line=lines.line, reason=str(error)) from None
    if chunk_start is not None:
        close_chunk(lines.offset)

    if lines.offset == 0 or (header is None and has_header):
        raise FileError("EMPTY_FILE")
    if total == 0:
        raise FileError("NO_DATA_ROWS")
    return FilePlan(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        width=len(header) if header is not None else None,
        chunks=chunks,
        total_rows=total,
        size=lines.offset,
        sha256=hasher.hexdigest(),
    )


def read_chunk(data: bytes, encoding: str, delimiter: str, first_line: int) -> Iterator[tuple[list[str], int]]:
    """The non-blank records of one chunk's bytes, each with the physical line it starts on."""
    text = data.decode(encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = first_line
    for cells in reader:
        if not is_blank(cells):
            yield cells, line
        line = first_line + reader.line_num
