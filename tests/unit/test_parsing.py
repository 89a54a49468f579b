import io

import pytest

from bulkimport.errors import FileError
from bulkimport.parsing import plan_file, read_chunk


def plan(data: bytes, chunk_rows: int = 1000, chunk_bytes: int = 10**9, has_header: bool = True, **options):
    stream = io.BufferedReader(io.BytesIO(data))
    return plan_file(
        stream,
        encoding_option=options.get("encoding", "auto"),
        delimiter_option=options.get("delimiter", "auto"),
        has_header=has_header,
        chunk_rows=chunk_rows,
        chunk_bytes=chunk_bytes,
    )


def all_rows(data: bytes, file_plan) -> list[tuple[int, list[str], int]]:
    """Every row as the workers see it: (row number, cells, source line), chunk by chunk."""
    rows = []
    for chunk in file_plan.chunks:
        for offset, (cells, line) in enumerate(
            read_chunk(data[chunk.start : chunk.end], file_plan.encoding, file_plan.delimiter, chunk.first_line)
        ):
            rows.append((chunk.first_row + offset, cells, line))
        assert offset + 1 == chunk.rows
    return rows


def test_chunks_cut_at_record_boundaries_even_inside_quoted_newlines():
    data = 'id,note\r\n1,"first\r\nline two"\r\n2,plain\r\n3,"a ""quoted"", b"\r\n4,"x\ny\nz"\r\n5,last\r\n'.encode()
    for size in (1, 2, 3, 5):
        file_plan = plan(data, chunk_rows=size)
        assert file_plan.total_rows == 5
        assert file_plan.header == ["id", "note"]
        rows = all_rows(data, file_plan)
        assert [r[1] for r in rows] == [
            ["1", "first\r\nline two"], ["2", "plain"], ["3", 'a "quoted", b'], ["4", "x\ny\nz"], ["5", "last"]
        ]
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
        assert [r[2] for r in rows] == [2, 4, 5, 6, 9]


def test_bom_is_not_part_of_the_header_and_blank_rows_are_skipped():
    data = "\ufeff會員編號,姓名\n\nM1,王\n,\n  \nM2,李\n".encode("utf-8")
    file_plan = plan(data, chunk_rows=1)
    assert file_plan.header == ["會員編號", "姓名"]
    assert file_plan.total_rows == 2
    assert [(r[0], r[1], r[2]) for r in all_rows(data, file_plan)] == [(1, ["M1", "王"], 3), (2, ["M2", "李"], 6)]
    assert file_plan.size == len(data)


def test_byte_limit_also_cuts_chunks():
    data = ("a\n" + "".join(f"{'x' * 50}\n" for _ in range(10))).encode()
    file_plan = plan(data, chunk_bytes=120)
    assert [c.rows for c in file_plan.chunks] == [3, 3, 3, 1]


def test_delimiter_detected_from_header():
    data = "a\tb\n1\t2\n".encode()
    file_plan = plan(data)
    assert file_plan.delimiter == "\t"
    assert all_rows(data, file_plan)[0][1] == ["1", "2"]


def test_no_header_mode_counts_every_row():
    data = b"1,2\n3,4\n"
    file_plan = plan(data, has_header=False)
    assert file_plan.header is None
    assert file_plan.total_rows == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "EMPTY_FILE"), (b"\n\n", "EMPTY_FILE"), (b"a,b\n", "NO_DATA_ROWS"), (b"a,b\n1,\xff\xfe\n", "UNDECODABLE")],
)
def test_file_level_errors(data, code):
    with pytest.raises(FileError) as caught:
        plan(data)
    assert caught.value.code == code


def test_undecodable_names_the_line():
    with pytest.raises(FileError) as caught:
        plan(b"a,b\n1,2\n3,\xff\n")
    assert caught.value.params["line"] == 3
