import codecs
import csv
import io
import os
import random
import zipfile
from contextlib import contextmanager
from datetime import datetime

import pytest

from bulkimport.errors import FileError
from bulkimport.ingest.formats import Limits, TextEncoding
from bulkimport.ingest.parsing import MAX_RECORD_BYTES, TextLines, _text_rows, plan_upload, read_chunk
from tests.files import gzip_bomb, gzipped, replace_part, xlsx_bomb, xlsx_bytes, xlsx_with_entities

LIMITS = Limits(max_uncompressed_bytes=200 * 1024 * 1024, max_ratio=200)


class Planned:
    """A plan and the UTF-8 text its chunks are ranges of (the upload, or the work object)."""

    def __init__(
        self,
        data: bytes,
        limits: Limits = LIMITS,
        chunk_rows: int = 1000,
        chunk_bytes: int = 10**9,
        has_header: bool = True,
        on_sheet=None,
        **options,
    ):
        self.work = None
        self.plan = plan_upload(
            io.BytesIO(data),
            encoding_option=options.get("encoding", "auto"),
            delimiter_option=options.get("delimiter", "auto"),
            sheet_option=options.get("sheet"),
            has_header=has_header,
            chunk_rows=chunk_rows,
            chunk_bytes=chunk_bytes,
            limits=limits,
            open_work=self._open_work,
            on_sheet=on_sheet,
            header_row=options.get("header_row", 1),
        )
        self.text = self.work if self.plan.transcoded else data

    @contextmanager
    def _open_work(self):
        out = io.BytesIO()
        yield out
        self.work = out.getvalue()

    def rows(self) -> list[tuple[int, list[str], int, int]]:
        """Every row as the workers see it: (row number, cells, source line, sheet), chunk by chunk."""
        rows = []
        for chunk in self.plan.chunks:
            data = self.text[chunk.start : chunk.end]
            read = list(zip(*read_chunk(data, self.plan.delimiter, chunk.first_line, self.plan.line_column)))
            assert len(read) == chunk.rows
            rows += [(chunk.first_row + n, cells, line, chunk.sheet) for n, (cells, line) in enumerate(read)]
        return rows

    def cells(self) -> list[list[str]]:
        return [row[1] for row in self.rows()]


def plan_error(data: bytes, **kwargs) -> FileError:
    with pytest.raises(FileError) as caught:
        Planned(data, **kwargs)
    return caught.value


# ---------------------------------------------------------------- delimited text


def test_chunks_cut_at_record_boundaries_even_inside_quoted_newlines():
    data = b'id,note\r\n1,"first\r\nline two"\r\n2,plain\r\n3,"a ""quoted"", b"\r\n4,"x\ny\nz"\r\n5,last\r\n'
    for size in (1, 2, 3, 5):
        planned = Planned(data, chunk_rows=size)
        assert planned.plan.total_rows == 5
        assert planned.plan.sheets[0].header == ["id", "note"]
        rows = planned.rows()
        assert [r[1] for r in rows] == [
            ["1", "first\r\nline two"],
            ["2", "plain"],
            ["3", 'a "quoted", b'],
            ["4", "x\ny\nz"],
            ["5", "last"],
        ]
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
        assert [r[2] for r in rows] == [2, 4, 5, 6, 9]


def test_records_and_offsets_stay_exact_across_read_blocks():
    # Prepare reads 64 KiB blocks: quoted newlines, multi-byte characters and CRLF fall across their edges.
    rows = [[f"M{n}", f"客戶{n}" if n % 3 else f'多行\n備註 "{n}"', "x" * (n % 97)] for n in range(6000)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([["id", "name", "pad"], *rows])
    for data in (out.getvalue().encode(), out.getvalue().encode()[:-2], out.getvalue().encode("utf-16")):
        planned = Planned(data, chunk_rows=7)
        assert planned.plan.total_rows == len(rows)
        assert planned.cells() == rows
        lines = [r[2] for r in planned.rows()]
        assert lines[:4] == [2, 4, 5, 6] and lines[-1] == 2 + 6000 + 2000 - 1


def _mixed_text(seed: int, lines: int) -> str:
    """Stretches of plain lines (some CRLF) between stretches of lines of every kind the plain-block
    path must hand back to the parser or judge as it would: quoted fields (with delimiters, newlines
    and quotes), blank lines of spaces, delimiters or ideographic spaces, and very wide or very long
    lines."""
    rng = random.Random(seed)
    kinds = ["quoted", "multiline", "empty", "spaces", "commas", "ideographic", "crlf", "wide", "long"]
    out = ["id,name,note\n"]
    n = 0
    while n < lines:
        stretch = ["plain"] * rng.randrange(200, 2000) if rng.random() < 0.5 else [rng.choice(kinds) for _ in range(20)]
        for kind in stretch:
            n += 1
            out.append(
                {
                    "plain": f"M{n},客戶{n},{'x' * rng.randrange(60)}\n",
                    "quoted": f'M{n},"a, ""b""",c\n',
                    "multiline": f'M{n},"line one\nline two",\n',
                    "empty": "\n",
                    "spaces": "  \t \n",
                    "commas": ", ,,\n",
                    "ideographic": "\u3000,\u3000\n",
                    "crlf": f"M{n},crlf,\r\n",
                    "wide": f"M{n}" + "," * rng.choice((10, 999)) + "\n",
                    "long": f"M{n},{'y' * 5000},\n",
                }[kind]
            )
    return "".join(out)


def _plan_outcome(data: bytes, parse_every_row: bool, **options):
    """The plan (or the file error) with the plain-block path, or with every row parsed (a sheet
    callback that takes the cells turns the plain-block path off)."""
    on_sheet = (lambda sheet, header: lambda row, cells, line: None) if parse_every_row else None
    try:
        plan = Planned(data, on_sheet=on_sheet, **options).plan
    except FileError as error:
        return error.code, error.params
    return plan.total_rows, plan.sheets, plan.chunks


@pytest.mark.parametrize("seed", range(4))
def test_plain_blocks_are_planned_exactly_as_parsed_rows(seed):
    # A block of lines without quotes or blank lines is planned without the CSV parser; any file
    # must get the same chunks, rows, lines and errors either way.
    text = _mixed_text(seed, 12_000)
    files = [text.encode(), text.encode("utf-16"), text.encode()[:-1]]
    if seed == 0:
        # A bad line amid plain ones: MALFORMED_CSV, TOO_MANY_COLUMNS
        plain = [f"P{n},plain,\n" for n in range(5000)]
        for bad in ("lone\rcr,\n", "M," + "," * 1000 + "\n"):
            files.append((text + "".join(plain[:4000]) + bad + "".join(plain[4000:])).encode())
    outcomes = []
    for data in files:
        for options in (
            {"chunk_rows": 1000},
            {"chunk_rows": 7, "chunk_bytes": 500},
            {"chunk_rows": 3000, "chunk_bytes": 3000},
        ):
            outcome = _plan_outcome(data, parse_every_row=False, **options)
            assert outcome == _plan_outcome(data, parse_every_row=True, **options)
            outcomes.append(outcome)
    assert all(isinstance(o[0], int) and o[0] > 11_000 for o in outcomes[:9])  # the three texts plan
    if seed == 0:
        assert [o[0] for o in outcomes[9:]] == ["MALFORMED_CSV"] * 3 + ["TOO_MANY_COLUMNS"] * 3

    # The plain path was taken: some blocks went whole, and with the rows parsed they cover the file.
    runs = []
    lines = TextLines(io.BytesIO(files[0]), TextEncoding("utf-8", 0), delimiter=",")
    lines.pass_plain_blocks(lambda first_line, start, ends: runs.append((start, ends)))
    parsed = list(_text_rows(lines, ","))
    assert runs and parsed
    ends = sorted([row.end for row in parsed] + [end for _, run in runs for end in run])
    assert len(set(ends)) == len(ends) and ends[-1] == len(files[0])


def test_bom_is_not_part_of_the_header_and_blank_rows_are_skipped():
    data = "\ufeff會員編號,姓名\n\nM1,王\n,\n  \nM2,李\n".encode("utf-8")
    planned = Planned(data, chunk_rows=1)
    assert not planned.plan.transcoded  # read in place
    assert planned.plan.sheets[0].header == ["會員編號", "姓名"]
    assert planned.plan.total_rows == 2
    assert [r[:3] for r in planned.rows()] == [(1, ["M1", "王"], 3), (2, ["M2", "李"], 6)]
    assert planned.plan.size == len(data)


def test_empty_fields_and_ragged_rows_are_kept_as_they_are():
    planned = Planned(b'a,b,c\n1,,""\n2\n3,4,5,6\n')
    assert planned.cells() == [["1", "", ""], ["2"], ["3", "4", "5", "6"]]


def test_byte_limit_also_cuts_chunks():
    data = ("a\n" + "".join(f"{'x' * 50}\n" for _ in range(10))).encode()
    assert [c.rows for c in Planned(data, chunk_bytes=120).plan.chunks] == [3, 3, 3, 1]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("a\tb\tc", "\t"), ("a;b;c", ";"), ("a|b|c", "|"), ("a,b,c", ","), ('"name, full";age;city', ";")],
)
def test_delimiter_detected_from_the_first_lines(header, delimiter):
    row = delimiter.join(["1", "2", "3"])
    planned = Planned(f"{header}\n{row}\n{row}\n".encode())
    assert planned.plan.delimiter == delimiter
    assert planned.cells()[0] == ["1", "2", "3"]


def test_recipe_delimiter_wins_over_detection():
    planned = Planned(b"a;b,c\n1;2,3\n", delimiter=";")
    assert planned.cells() == [["1", "2,3"]]
    assert Planned(b"a\tb\n1\t2\n", delimiter="\\t").plan.delimiter == "\t"


def test_no_header_mode_counts_every_row():
    planned = Planned(b"1,2\n3,4\n", has_header=False)
    assert planned.plan.sheets[0].header is None
    assert planned.plan.total_rows == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EMPTY_FILE"),
        (b"\n\n", "EMPTY_FILE"),
        (b"a,b\n", "NO_DATA_ROWS"),
        (b"a,b\n1,\x81\n", "ENCODING_UNCERTAIN"),
    ],
)
def test_file_level_errors(data, code):
    assert plan_error(data).code == code


def test_undecodable_names_the_line_past_the_sample_the_encoding_was_judged_on():
    data = b"a,b\n" + b"1,2\n" * 100_000 + b"3,caf\xe9\n"
    error = plan_error(data)
    assert (error.code, error.params) == ("UNDECODABLE", {"line": 100_002, "encoding": "utf-8"})


def test_forced_encoding_is_used():
    data = "名,值\n客戶,1\n".encode("cp950")
    assert plan_error(data, encoding="utf-8").params == {"line": 1, "encoding": "utf-8"}
    assert Planned(data, encoding="big5").cells() == [["客戶", "1"]]
    assert plan_error(data, encoding="no-such-codec").code == "UNSUPPORTED_ENCODING"


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encode", "detected", "header", "text"),
    [
        (lambda t: t.encode("utf-8-sig"), "utf-8", "名,值", "客戶,測量"),
        (lambda t: t.encode("utf-16"), "utf-16-le", "名,值", "客戶,測量"),  # Python writes a BOM, little-endian
        (lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16-be", "名,值", "客戶,測量"),
        (lambda t: t.encode("big5"), "cp950", "名,值", "客戶,測量"),
        # A handful of simplified ideographs can read as EUC-JP or Big5 text too (then ENCODING_UNCERTAIN):
        # a name and a city are told apart.
        (lambda t: t.encode("gb18030"), "gb18030", "姓名,城市", "张伟,北京市"),
        (lambda t: t.encode("shift_jis"), "cp932", "名前,値", "顧客,測定"),
        (lambda t: t.encode("cp1252"), "cp1252", "name,value", "café,5 €"),
    ],
)
def test_encodings_are_detected_and_text_arrives_as_utf8(encode, detected, header, text):
    first, second = text.split(",")
    source = f'{header}\n{text}\n"{first}\n{second}",x\n'
    planned = Planned(encode(source), chunk_rows=1)
    assert planned.plan.encoding == detected
    assert planned.plan.transcoded == (detected != "utf-8")
    assert planned.plan.sheets[0].header == header.split(",")
    assert planned.cells() == [[first, second], [f"{first}\n{second}", "x"]]
    assert [r[2] for r in planned.rows()] == [2, 3]


def test_utf16_lines_split_on_whole_code_units():
    # U+010A and U+0A0A hold the byte 0x0A, which is half of an UTF-16 newline.
    source = 'a,b\nĊ,ਊ\nx,"ਊ\nĊ"\n'
    for encoding in ("utf-16-le", "utf-16-be"):
        bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        planned = Planned(bom + source.encode(encoding), chunk_rows=1)
        assert planned.cells() == [["Ċ", "ਊ"], ["x", "ਊ\nĊ"]]
        assert [r[2] for r in planned.rows()] == [2, 3]


# ---------------------------------------------------------------- gzip


def test_gzipped_csv_is_read_through_the_work_object():
    source = '會員編號,姓名\nM1,客戶\nM2,"測量\n數字"\n'.encode("big5")
    data = gzipped(source)
    planned = Planned(data, chunk_rows=1)
    assert (planned.plan.compression, planned.plan.encoding, planned.plan.transcoded) == ("gzip", "cp950", True)
    assert planned.cells() == [["M1", "客戶"], ["M2", "測量\n數字"]]
    assert planned.plan.size == len(data)  # the original bytes, not the inflated ones


def test_gzip_members_are_read_one_after_another():
    assert Planned(gzipped(b"a,b\n1,2\n") + gzipped(b"3,4\n")).cells() == [["1", "2"], ["3", "4"]]


def test_gzip_cut_short_is_corrupt():
    assert plan_error(gzipped(b"a,b\n" + os.urandom(5000).hex().encode())[:-100]).code == "CORRUPT_FILE"


def test_gzip_bomb_is_stopped_by_its_ratio_and_by_the_size_limit():
    assert plan_error(gzip_bomb(8)).code == "UNCOMPRESSED_TOO_LARGE"
    # Ordinary content, but more of it than allowed.
    content = b"a,b\n" + b"".join(f"{os.urandom(8).hex()},{n}\n".encode() for n in range(40_000))
    small = Limits(max_uncompressed_bytes=256 * 1024, max_ratio=200)
    assert plan_error(gzipped(content), limits=small).code == "UNCOMPRESSED_TOO_LARGE"
    assert Planned(gzipped(content)).plan.total_rows == 40_000


def test_gzip_of_something_else_is_unsupported():
    assert plan_error(gzipped(b"%PDF-1.7\n...")).code == "UNSUPPORTED_FILE_TYPE"
    assert plan_error(gzipped(xlsx_bytes({"a": [["x"], ["1"]]}))).code == "UNSUPPORTED_FILE_TYPE"


# ---------------------------------------------------------------- hostile or unreadable text


def test_a_record_over_the_limit_fails_naming_where_it_starts():
    unclosed = b'a,b\n1,2\n3,"never closed\n' + b"more text\n" * (MAX_RECORD_BYTES // 10 + 10)
    assert plan_error(unclosed).params == {"line": 3, "max_bytes": MAX_RECORD_BYTES}
    one_line = b"a,b\n" + b"x" * (MAX_RECORD_BYTES + 10)
    assert plan_error(one_line).params == {"line": 2, "max_bytes": MAX_RECORD_BYTES}
    just_fits = b"a,b\n" + b"x" * (MAX_RECORD_BYTES - 10) + b",1\n"
    assert Planned(just_fits).plan.total_rows == 1


def test_too_many_columns():
    wide = (",".join(f"c{i}" for i in range(1001)) + "\n").encode()
    assert plan_error(wide + b"1\n").params == {"line": 1, "count": 1001, "max_columns": 1000}
    fine = (",".join(f"c{i}" for i in range(1000)) + "\n").encode()
    assert Planned(fine + b"1\n").plan.total_rows == 1


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "legacy Excel (.xls) or other OLE"),
        (bytes(range(256)) * 40, "binary"),
        (b"a,b\n" + b"\x01\x02\x03\x04,\x05\n" * 50, "binary"),
    ],
)
def test_other_kinds_of_file_are_refused_by_content(data, kind):
    error = plan_error(data)
    assert (error.code, error.params) == ("UNSUPPORTED_FILE_TYPE", {"kind": kind})


# ---------------------------------------------------------------- XLSX


def _workbook() -> bytes:
    return xlsx_bytes(
        {
            "一月": [
                ["會員編號", "姓名", "測量數字", "就診日", "VIP", "合計"],
                ["M1", "客戶", 12.0, datetime(2026, 11, 22), True, "=C2*2"],
                ["M2", "多行\n文字", 2.5, datetime(2026, 11, 22, 3, 4, 5), False],
                [None, None, None, None, None],
                ["M3"],
            ],
            "lookup": [["A"], ["B"]],
            "空白": [],
            "二月": [["姓名", "會員編號"], ["測量", "M4"]],
        },
        hidden=("lookup",),
        cached={"F2": "24"},
    )


def test_xlsx_sheets_are_read_in_order_each_with_its_header():
    seen = []

    def on_sheet(sheet, header):
        seen.append((sheet.index, sheet.name, header))
        return lambda row, cells, line: seen.append((row, cells))

    planned = Planned(_workbook(), chunk_rows=2, on_sheet=on_sheet)
    plan = planned.plan
    assert (plan.format, plan.transcoded, plan.line_column, plan.total_rows) == ("xlsx", True, True, 4)
    assert [(s.index, s.name, s.first_chunk) for s in plan.sheets] == [(0, "一月", 0), (3, "二月", 2)]
    assert plan.sheets[1].header == ["姓名", "會員編號"]
    # Rows: numbered across sheets; lines are the sheet rows Excel shows; chunks never span sheets.
    assert planned.rows() == [
        (1, ["M1", "客戶", "12", "2026-11-22", "true", "24"], 2, 0),
        (2, ["M2", "多行\n文字", "2.5", "2026-11-22T03:04:05", "false", ""], 3, 0),
        (3, ["M3", "", "", "", "", ""], 5, 0),
        (4, ["測量", "M4"], 2, 3),
    ]
    assert [(c.sheet, c.rows) for c in plan.chunks] == [(0, 2), (0, 1), (3, 1)]
    assert seen[0] == (0, "一月", ["會員編號", "姓名", "測量數字", "就診日", "VIP", "合計"])
    assert seen[4] == (3, "二月", ["姓名", "會員編號"])


@pytest.mark.parametrize("option", ["二月", 3])
def test_xlsx_recipe_picks_one_sheet(option):
    planned = Planned(_workbook(), sheet=option)
    assert [s.name for s in planned.plan.sheets] == ["二月"]
    assert planned.cells() == [["測量", "M4"]]


def test_xlsx_hidden_sheet_is_read_when_named():
    assert Planned(_workbook(), sheet="lookup").cells() == [["B"]]


def test_xlsx_unknown_sheet():
    error = plan_error(_workbook(), sheet="三月")
    assert (error.code, error.params) == ("SHEET_NOT_FOUND", {"sheet": "三月", "sheets": "一月, lookup, 空白, 二月"})
    assert plan_error(_workbook(), sheet=9).code == "SHEET_NOT_FOUND"


def test_xlsx_errors_name_the_sheet():
    wide = xlsx_bytes({"ok": [["a"], ["1"]], "wide": [[f"c{i}" for i in range(1001)], ["1"]]})
    error = plan_error(wide)
    assert (error.code, error.params) == (
        "TOO_MANY_COLUMNS",
        {"line": 1, "count": 1001, "max_columns": 1000, "sheet": "wide"},
    )

    def on_sheet(sheet, header):
        raise FileError("MISSING_COLUMN", column="x")

    assert plan_error(wide, sheet="ok", on_sheet=on_sheet).params == {"column": "x", "sheet": "ok"}


def test_xlsx_zip_bomb_is_refused_before_inflating():
    error = plan_error(xlsx_bomb(8))
    assert error.code == "UNCOMPRESSED_TOO_LARGE"
    small = Limits(max_uncompressed_bytes=10_000, max_ratio=200)
    assert plan_error(_workbook(), limits=small).code == "UNCOMPRESSED_TOO_LARGE"


def test_zip_with_too_many_parts_is_refused_before_its_directory_is_loaded():
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(60):
            archive.writestr(f"xl/part{n}.xml", "")
    error = plan_error(many.getvalue(), limits=Limits(max_uncompressed_bytes=10**9, max_ratio=200, max_zip_entries=50))
    assert (error.code, error.params) == ("CORRUPT_FILE", {"reason": "the zip has 61 parts, a workbook has far fewer"})


@pytest.mark.parametrize("trick", ["billion laughs", "external entity"])
def test_xlsx_xml_entities_are_refused(trick):
    assert plan_error(xlsx_with_entities(trick)).code == "UNSAFE_XLSX"


def test_zip_that_is_not_a_workbook_and_broken_workbooks():
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert plan_error(other.getvalue()).params == {"kind": "ZIP"}
    assert plan_error(_workbook()[:-200]).code == "CORRUPT_FILE"
    broken = xlsx_bytes({"a": [["x"], ["1"]]})
    broken = replace_part(broken, "xl/worksheets/sheet1.xml", lambda xml: xml[:-40])
    assert plan_error(broken).code == "CORRUPT_FILE"


def test_header_row_skips_the_title_above_it_and_lines_still_count_every_row():
    text = b"Report\n\n,,\ncode,text\nA,1\nB,2\n"
    planned = Planned(text, header_row=4)
    assert planned.plan.sheets[0].header == ["code", "text"]
    assert planned.rows() == [(1, ["A", "1"], 5, 0), (2, ["B", "2"], 6, 0)]
    assert Planned(text).plan.sheets[0].header == ["Report"]  # header_row 1: as before
    error = plan_error(text, header_row=7)
    assert (error.code, error.params) == ("HEADER_ROW_BEYOND_FILE", {"header_row": 7, "last_row": 6})


def test_header_row_applies_to_each_sheet_of_a_workbook():
    book = xlsx_bytes({"a": [["title"], ["k"], ["1"]], "b": [["title"], ["k"], ["2"], ["3"]]})
    planned = Planned(book, header_row=2)
    assert [s.header for s in planned.plan.sheets] == [["k"], ["k"]]
    assert planned.rows() == [(1, ["1"], 3, 0), (2, ["2"], 3, 1), (3, ["3"], 4, 1)]
