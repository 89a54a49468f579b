import codecs

import pytest

from bulkimport.errors import FileError
from bulkimport.imports.models import ImportCreate, safe_file_name
from bulkimport.imports.store import SheetReader, current_sheet_index
from bulkimport.ingest.formats import check_upload, detect_encoding
from tests.files import xlsx_bytes


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.csv", "y.csv"),
        ("report\x00\n\r.csv", "report.csv"),
        ("invoice\u202egpj.csv", "invoicegpj.csv"),  # a right-to-left override would show "vsc.jpg"
        ("客戶 名單.xlsx", "客戶 名單.xlsx"),
        ("dir/..", None),
        ("/", None),
        ("x" * 300 + ".csv", "x" * 255),
    ],
)
def test_file_names_keep_only_a_safe_base_name(given, kept):
    assert safe_file_name(given) == kept
    assert ImportCreate(recipe_id="r", file_name=given).file_name == kept


@pytest.mark.parametrize(
    ("option", "data", "expected"),
    [
        ("utf-16", codecs.BOM_UTF16_BE + "a".encode("utf-16-be"), ("utf-16-be", 2)),
        ("utf-16", "a".encode("utf-16-le"), ("utf-16-le", 0)),
        ("utf-8", codecs.BOM_UTF8 + b"a", ("utf-8", 3)),
        ("utf-8-sig", b"a", ("utf-8", 0)),
        ("Big5", codecs.BOM_UTF8 + b"a", ("big5", 0)),  # forced: the recipe knows better than the bytes
        ("auto", b"plain ascii\n", ("utf-8", 0)),
    ],
)
def test_forced_and_marked_encodings(option, data, expected):
    found = detect_encoding(data, option)
    assert (found.name, found.bom) == expected


def test_direct_upload_checks():
    check_upload(b"a,b\n1,2\n", "auto")
    check_upload(xlsx_bytes({"a": [["x"], ["1"]]}), "auto")
    check_upload("a,b\n".encode("utf-16-le"), "utf-16-le")  # NULs are fine in UTF-16 text
    for body, code in [
        (b"", "EMPTY_FILE"),
        (b"%PDF-1.4", "UNSUPPORTED_FILE_TYPE"),
        ("a,b\n".encode("utf-16-le"), "UNSUPPORTED_FILE_TYPE"),
        (b"PK\x03\x04garbage", "CORRUPT_FILE"),
    ]:
        with pytest.raises(FileError) as caught:
            check_upload(body, "auto")
        assert caught.value.code == code


def test_current_sheet_index_is_the_sheet_of_the_first_chunk_not_done():
    sheets = [SheetReader(index=i, first_chunk=first, columns=[]) for i, first in ((0, 0), (2, 3), (3, 5))]
    assert current_sheet_index(sheets, []) == 0
    assert current_sheet_index(sheets, [0, 1, 2, 4]) == 2
    assert current_sheet_index(sheets, [0, 1, 2, 3, 4]) == 3
    assert current_sheet_index(sheets, list(range(6))) == 3
    assert current_sheet_index(None, []) == 0  # not planned yet
