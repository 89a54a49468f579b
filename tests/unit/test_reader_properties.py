"""Property tests of the file readers: whatever the upload, planning either gives a plan or a file
error, and the chunks of a plan read back exactly the rows it counted (what Prepare and the chunk
workers rely on)."""

import csv
import io
from contextlib import contextmanager
from datetime import datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bulkimport.errors import FileError
from bulkimport.ingest.formats import Limits
from bulkimport.ingest.parsing import is_blank, plan_upload, read_chunk
from bulkimport.ingest.spreadsheets import cell_text
from tests.files import xlsx_bytes

LIMITS = Limits(max_uncompressed_bytes=200 * 1024 * 1024, max_ratio=200)
# Fixed and reproducible: derandomized, and no example database written to the checkout.
BOUNDED = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


class Outcome:
    """plan_upload's plan (or its file error), with the cells the planner saw for each data row
    when asked for them, and the rows the chunk workers read back."""

    def __init__(self, data: bytes, want_cells: bool, chunk_rows: int = 3, **options):
        self.work = None
        self.seen: list[list[str]] = []
        self.error: FileError | None = None
        self.plan = None
        try:
            self.plan = plan_upload(
                io.BytesIO(data),
                encoding_option=options.get("encoding", "auto"),
                delimiter_option=options.get("delimiter", "auto"),
                sheet_option=None,
                has_header=options.get("has_header", True),
                chunk_rows=chunk_rows,
                chunk_bytes=options.get("chunk_bytes", 10**9),
                limits=LIMITS,
                open_work=self._open_work,
                on_sheet=self._on_sheet if want_cells else None,
            )
        except FileError as error:
            assert error.code, error
            self.error = error
            event(f"file error {error.code}")  # --hypothesis-show-statistics tells how often
            return
        event("planned")
        text = self.work if self.plan.transcoded else data
        self.read: list[list[str]] = []
        for chunk in self.plan.chunks:
            piece = text[chunk.start : chunk.end]
            rows, lines = read_chunk(piece, self.plan.delimiter, chunk.first_line, self.plan.line_column)
            assert len(rows) == len(lines) == chunk.rows, (chunk, rows)
            self.read += rows
        assert len(self.read) == self.plan.total_rows
        assert sum(chunk.rows for chunk in self.plan.chunks) == self.plan.total_rows
        assert [chunk.first_row for chunk in self.plan.chunks] == [
            1 + sum(c.rows for c in self.plan.chunks[:i]) for i in range(len(self.plan.chunks))
        ]

    @contextmanager
    def _open_work(self):
        out = io.BytesIO()
        yield out
        self.work = out.getvalue()

    def _on_sheet(self, sheet, header):
        return lambda number, cells, line: self.seen.append(list(cells))


# ---------------------------------------------------------------- any bytes


# Random bytes are rarely text: also pieces of text, of other encodings and of file signatures.
_TEXT_PIECES = [*(bytes([b]) for b in b'ab1 ,;\t|"\n\r'), b"\r\n", b"\n\n", "é客😀\u3000".encode()]
_PIECES = st.sampled_from(
    [
        *_TEXT_PIECES,
        "é".encode("latin-1"),
        "客".encode("gb18030"),
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\xfe\xff",
        b"\x00",
        b"\xff",
        b"\x1f\x8b",
        b"PK\x03\x04",
    ]
)
_BYTES = (
    st.binary(max_size=3000)
    | st.lists(_PIECES, max_size=400).map(b"".join)
    | st.lists(st.sampled_from(_TEXT_PIECES), max_size=400).map(b"".join)
)


@settings(BOUNDED, max_examples=1500)
@given(data=_BYTES, chunk_rows=st.integers(1, 5), want_cells=st.booleans(), has_header=st.booleans())
def test_any_bytes_plan_or_file_error_and_chunks_hold_the_rows(data, chunk_rows, want_cells, has_header):
    Outcome(data, want_cells, chunk_rows, has_header=has_header)


# ---------------------------------------------------------------- CSV-ish text

_CELL_CHARS = st.sampled_from(
    [*"abcXYZ019 ", ",", '"', "\n", "\r", "\t", ";", "|", "é", "ß", "客", "戶", "\u3000", "😀", "👍🏽"]
)
_CELL = st.lists(_CELL_CHARS, max_size=8).map("".join) | st.text(max_size=4)
_ROW = st.lists(_CELL, min_size=0, max_size=5)
_NEWLINE = st.sampled_from(["\n", "\r\n"])


@st.composite
def _csv_text(draw) -> str:
    """Rows written by the csv module (fields quoted as needed), some raw lines spliced in (blank
    lines, stray quotes, lone carriage returns), with a chosen line ending, maybe no final one."""
    newline = draw(_NEWLINE)
    rows = draw(st.lists(_ROW, max_size=12))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    for row in rows:
        if draw(st.integers(0, 5)) == 0:
            out.write(draw(st.sampled_from(["", " ", ",,", " , ", "\t", "\u3000"])) + newline)
        if draw(st.integers(0, 9)) == 0:
            out.write("".join(draw(st.lists(_CELL_CHARS, max_size=10))) + newline)
        writer.writerow(row)
    text = out.getvalue()
    if text and draw(st.booleans()):
        text = text.removesuffix(newline)
    return text


def _expected_rows(text: str, delimiter: str, has_header: bool) -> list[list[str]]:
    """What the csv module reads from the whole text, blank records skipped, less the header."""
    rows = [cells for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if not is_blank(cells)]
    return rows[1:] if has_header else rows


@settings(BOUNDED, max_examples=1500)
@given(
    text=_csv_text(),
    chunk_rows=st.integers(1, 4),
    has_header=st.booleans(),
    bom=st.booleans(),
    want_cells=st.booleans(),
    delimiter=st.sampled_from([",", "auto"]),
)
def test_csv_text_reads_back_as_the_csv_module_reads_it(text, chunk_rows, has_header, bom, want_cells, delimiter):
    """A file error is allowed (a lone carriage return or a stray quote can make the service refuse
    what the csv module would read); a plan must read back what the csv module reads."""
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    outcome = Outcome(data, want_cells, chunk_rows, delimiter=delimiter, has_header=has_header)
    if outcome.error is not None:
        return
    assert outcome.plan.encoding == "utf-8" and not outcome.plan.transcoded
    expected = _expected_rows(text, outcome.plan.delimiter, has_header)
    assert outcome.read == expected
    if want_cells:
        assert outcome.seen == expected


def _records_with_lines(text: str, first_line: int) -> list[tuple[list[str], int]]:
    """What the csv module reads from a chunk's text, blank records skipped, each record with the
    line it starts on (the chunk's first line being first_line)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records, line = [], first_line
    for cells in reader:
        if not is_blank(cells):
            records.append((cells, line))
        line = first_line + reader.line_num
    return records


@settings(BOUNDED, max_examples=1000)
@given(text=_csv_text(), first_line=st.integers(1, 10**6))
def test_a_chunk_reads_as_the_csv_module_reads_it_each_record_on_its_line(text, first_line):
    """Chunks without quotes are split, not parsed (parsing.read_chunk): the same records, lines too."""
    assert list(zip(*read_chunk(text.encode(), ",", first_line, False))) == _records_with_lines(text, first_line)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_long_chunk_reads_as_the_csv_module_reads_it_each_record_on_its_line(newline):
    """Longer than the blocks a chunk without quotes is split in, with blank lines here and there."""
    lines = [f"M{n},客戶{n},,{n % 7}.5" if n % 97 else " , " for n in range(10_000)]
    text = newline.join(lines) + newline
    assert len(text.encode()) > 3 * 64 * 1024  # the blocks are 64 KiB
    assert list(zip(*read_chunk(text.encode(), ",", 7, False))) == _records_with_lines(text, 7)


# ---------------------------------------------------------------- workbooks

_VALUE = st.one_of(
    st.none(),
    # Text that openpyxl stores as text (a leading "=" would make a formula).
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=6).filter(
        lambda text: not text.startswith("=")
    ),
    st.integers(-(10**9), 10**9),
    # Floats as openpyxl can store them: it writes 16 significant digits at most.
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False).map(lambda number: float(f"{number:.15g}")),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0)
    ),
)


def _sheet_rows(rows: list[list]) -> list[list[str]]:
    """Cell texts the service promises: blank rows skipped, trailing empty cells dropped and rows
    padded to the first row's width."""
    out, width = [], None
    for values in rows:
        cells = [cell_text(v) for v in values]
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        width = len(cells) if width is None else width
        out.append(cells + [""] * (width - len(cells)))
    return [cells for cells in out if not is_blank(cells)]


@settings(BOUNDED, max_examples=300)
@given(
    sheets=st.lists(st.lists(st.lists(_VALUE, max_size=4), max_size=6), min_size=1, max_size=2),
    chunk_rows=st.integers(1, 3),
    has_header=st.booleans(),
)
def test_small_workbooks_read_back_their_cell_texts(sheets, chunk_rows, has_header):
    data = xlsx_bytes({f"S{i}": rows for i, rows in enumerate(sheets)})
    outcome = Outcome(data, True, chunk_rows, has_header=has_header)
    if outcome.error is not None:
        assert outcome.error.code in ("EMPTY_FILE", "NO_DATA_ROWS"), outcome.error
        return
    expected = []
    for rows in sheets:
        texts = _sheet_rows(rows)
        expected += texts[1:] if has_header else texts
    assert outcome.read == expected
    assert outcome.seen == expected
