"""Real-world files end to end: encodings, delimiters, XLSX with several sheets, gzip, and hostile
files, each imported through the API (or the bucket) and read back through the records API."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import os
import random
import time
from datetime import datetime

import boto3
import pytest
import requests

from tests.conftest import TEST_CHUNK_ROWS, TEST_MAX_FILE_BYTES
from tests.files import gzip_bomb, xlsx_bomb, xlsx_bytes, xlsx_with_entities
from tests.helpers import TERMINAL, csv_bytes
from tests.samples import HEADER, contacts_recipe, good_row, setup_contacts
from tests.unit.test_encoding_corpus import ROWS, as_saved
from tests.unit.test_encoding_languages import PROMISED, people

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NOTES = {
    "key": "notes",
    "fields": [{"key": "code", "type": "string", "required": True, "unique": True}, {"key": "text", "type": "string"}],
}


def notes_recipe(api, code_header: str, text_header: str, **options) -> dict:
    api.create_table(NOTES)
    return api.create_recipe(
        {
            "name": "notes",
            "table": "notes",
            "options": options,
            "columns": [{"source": code_header, "target": "code"}, {"source": text_header, "target": "text"}],
        }
    )


def records_by(api, table: str, field: str) -> dict:
    return {r["data"][field]: r["data"] for r in api.all_pages(f"/tables/{table}/records")}


def upload(api, recipe_id: str, content: bytes, file_name: str) -> dict:
    """Create an import for the presigned POST flow and upload the file; returns the finished import."""
    created = api.ok("POST", "/imports", 201, json={"recipe_id": recipe_id, "file_name": file_name})["data"]
    response = requests.post(
        created["upload"]["url"], data=created["upload"]["fields"], files={"file": (file_name, content)}, timeout=60
    )
    assert response.status_code in (200, 201, 204), response.text
    return api.wait(created["id"])


def drop(stack, tenant, recipe_id: str, name: str, content: bytes) -> dict:
    """Put a file into the drop folder; returns the import it became, finished."""
    key = f"drop/{tenant.id}/{recipe_id}/{name}"
    boto3.client("s3").put_object(Bucket=stack.resource_name("DataBucket"), Key=key, Body=content)
    deadline = time.monotonic() + 60
    while not (made := [i for i in tenant.viewer.ok("GET", "/imports")["data"] if i["created_by"] == f"s3-drop:{key}"]):
        assert time.monotonic() < deadline, "the dropped file started no import"
        time.sleep(0.3)
    return tenant.viewer.wait(made[0]["id"])


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encode", "headers", "texts"),
    [
        (lambda t: t.encode("big5"), ("編號", "內容"), ("客戶", "測量數字")),
        (lambda t: t.encode("utf-8-sig"), ("編號", "內容"), ("客戶", "測量數字")),
        (lambda t: t.encode("utf-16"), ("編號", "內容"), ("客戶", "測量數字")),
        (lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), ("編號", "內容"), ("客戶", "測量數字")),
        (lambda t: t.encode("gb18030"), ("编号", "内容"), ("客户", "测量数字")),
        (lambda t: t.encode("shift_jis"), ("番号", "内容"), ("顧客", "測定値")),
        (lambda t: t.encode("cp1252"), ("code", "text"), ("café", "5 € crème brûlée")),
    ],
    ids=["big5", "utf-8-bom", "utf-16-le", "utf-16-be", "gb18030", "shift_jis", "windows-1252"],
)
def test_text_in_every_encoding_arrives_intact(tenant, encode, headers, texts):
    recipe = notes_recipe(tenant.admin, *headers)
    first, second = texts
    source = f'{headers[0]},{headers[1]}\r\nA1,{first}\r\nA2,"{first}\r\n{second}"\r\nA3,{second}\r\n'
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], encode(source), "notes.csv")["id"])
    assert (done["status"], done["success_count"]) == ("completed", 3), done["error"]
    assert {code: r.get("text") for code, r in records_by(tenant.viewer, "notes", "code").items()} == {
        "A1": first,
        "A2": f"{first}\r\n{second}",
        "A3": second,
    }


def test_recipe_encoding_is_used_as_given(tenant):
    recipe = notes_recipe(tenant.admin, "編號", "內容", encoding="utf-8")
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], "編號,內容\nA1,客戶\n".encode("big5"))["id"])
    assert (done["status"], done["error"]["code"]) == ("failed", "UNDECODABLE")
    assert done["error"]["message"].startswith("Line 1 is not valid utf-8 text")
    assert tenant.viewer.ok("GET", "/tables/notes/records")["data"] == []


CITIES = {
    "cp1251": [
        ("Иванов Иван Петрович", "Москва, ул. Тверская, д. 7, кв. 12"),
        ("Смирнова Анна Сергеевна", "Санкт-Петербург, Невский проспект, д. 28"),
        ("Кузнецов Дмитрий", "Новосибирск, ул. Ленина, д. 15"),
        ("Попова Елена Викторовна", "Екатеринбург, ул. Малышева, д. 36"),
        ("Соколов Алексей", "Казань, пр. Победы, д. 101"),
        ("Морозова Ольга", "Нижний Новгород, ул. Большая Покровская, д. 3"),
    ],
    "euc_kr": [
        ("김민준", "서울특별시 강남구 테헤란로 152"),
        ("이서연", "부산광역시 해운대구 해운대해변로 264"),
        ("박지훈", "대구광역시 중구 동성로 12"),
        ("최수아", "인천광역시 연수구 송도과학로 32"),
        ("정우진", "광주광역시 서구 상무중앙로 110"),
        ("강하은", "대전광역시 유성구 대학로 99"),
    ],
    "cp1253": [
        ("Γιώργος Παπαδόπουλος", "Οδός Ερμού 25, Αθήνα"),
        ("Μαρία Κωνσταντίνου", "Λεωφόρος Νίκης 12, Θεσσαλονίκη"),
        ("Νίκος Γεωργίου", "Οδός Μαιζώνος 48, Πάτρα"),
        ("Ελένη Δημητρίου", "Οδός Κορωνιού 7, Ηράκλειο"),
    ],
    "cp1254": [
        ("Mehmet Yılmaz", "Atatürk Caddesi No: 45, İstanbul"),  # noqa: RUF001
        ("Ayşe Kaya", "Kızılay Mahallesi Gazi Mustafa Kemal Bulvarı 12, Ankara"),  # noqa: RUF001
        ("Mustafa Demir", "Alsancak Kıbrıs Şehitleri Caddesi 8, İzmir"),  # noqa: RUF001
        ("Fatma Şahin", "Çarşı Mahallesi Uzunçarşı Sokak 3, Trabzon"),  # noqa: RUF001
    ],
}


def cities_file(encoding: str) -> tuple[tuple[str, str], bytes, dict]:
    """Names and addresses under a plain header, as the tester's files were: a wrong reading of them
    used to import 'completed'."""
    headers, rows = ("name", "address"), CITIES[encoding]
    text = f"{headers[0]},{headers[1]}\r\n" + "".join(f'{name},"{address}"\r\n' for name, address in rows)
    return headers, text.encode(encoding), dict(rows)


@pytest.mark.parametrize(
    "encoding",
    ["cp1251", "euc_kr", "cp1253", "cp1254"],
    ids=["windows-1251-russian", "euc-kr-korean", "windows-1253-greek", "windows-1254-turkish"],
)
def test_the_testers_russian_korean_greek_and_turkish_files_arrive_intact(tenant, encoding):
    """The tester's files: these imported 'completed' with every name read as GB18030 or Windows-1252,
    then were refused ENCODING_UNCERTAIN; uploaded with the ticket, they arrive as written."""
    headers, content, rows = cities_file(encoding)
    recipe = notes_recipe(tenant.admin, *headers)
    done = upload(tenant.editor, recipe["id"], content, "people.csv")
    stored = {code: r["text"] for code, r in records_by(tenant.viewer, "notes", "code").items()}
    assert (done["status"], done["success_count"]) == ("completed", len(rows)), done["error"]
    assert stored == rows


@pytest.mark.parametrize(("language", "encoding"), PROMISED, ids=[f"{lang}-{enc}" for lang, enc in PROMISED])
def test_a_few_dozen_names_in_a_legacy_encoding_import_intact_through_the_api(tenant, language, encoding):
    """v1.2 "Encodings, detected by language": no options.encoding, the file sent as it was saved;
    every name arrives as written (four of six such files were refused ENCODING_UNCERTAIN)."""
    names = people(language, 24, random.Random(language))
    text = "code,name\r\n" + "".join(f"P{n:03d},{name}\r\n" for n, name in enumerate(names, 1))
    recipe = notes_recipe(tenant.admin, "code", "name")
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], text.encode(encoding), "people.csv")["id"])
    assert (done["status"], done["success_count"]) == ("completed", len(names)), done.get("error")
    stored = {code: r["text"] for code, r in records_by(tenant.viewer, "notes", "code").items()}
    assert stored == {f"P{n:03d}": name for n, name in enumerate(names, 1)}


def test_a_file_detection_is_unsure_of_is_refused_with_the_candidates_and_imports_once_the_recipe_says(tenant):
    # Vietnamese in Windows-1258 (tones as combining marks) also reads as Windows-1250 text.
    headers = ("name", "address")
    rows = {as_saved(name, "cp1258"): as_saved(f"{address}, {city}", "cp1258") for name, address, city in ROWS["vi"]}
    text = "name,address\r\n" + "".join(f'{name},"{address}"\r\n' for name, address in rows.items())
    content = text.encode("cp1258")
    recipe = notes_recipe(tenant.admin, *headers)
    response = tenant.editor.post(
        "/imports", data={"recipe_id": recipe["id"]}, files={"file": ("people.csv", content, "text/csv")}
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (422, "ENCODING_UNCERTAIN")
    assert "cp1258" in error["message"] and "options.encoding" in error["message"]
    done = upload(tenant.editor, recipe["id"], content, "people.csv")
    assert (done["status"], done["error"]["code"]) == ("failed", "ENCODING_UNCERTAIN")
    # The import's error shows only code and message: the message names the candidates and the way out.
    assert set(done["error"]) == {"code", "message"}
    assert "cp1258" in done["error"]["message"] and "options.encoding" in done["error"]["message"]
    zh = tenant.viewer.ok("GET", f"/imports/{done['id']}", headers={"Accept-Language": "zh-TW"})["data"]["error"]
    assert "cp1258" in zh["message"] and "options.encoding" in zh["message"] and "無法確定檔案的編碼" in zh["message"]
    assert tenant.viewer.ok("GET", "/tables/notes/records")["data"] == []

    tenant.admin.ok("PATCH", f"/recipes/{recipe['id']}", 200, json={"options": {"encoding": "cp1258"}})
    done = upload(tenant.editor, recipe["id"], content, "people.csv")
    assert (done["status"], done["success_count"]) == ("completed", len(rows)), done["error"]
    assert {code: r["text"] for code, r in records_by(tenant.viewer, "notes", "code").items()} == rows


# ---------------------------------------------------------------- delimited text


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_delimiter_is_detected(tenant, delimiter):
    recipe = setup_contacts(tenant.admin)
    rows = [HEADER, *[good_row(n) for n in range(1, 4)]]
    rows[2][1] = f"客戶{delimiter}二"  # quoted, since it holds the delimiter
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], out.getvalue().encode(), "contacts.txt")["id"])
    assert (done["status"], done["success_count"]) == ("completed", 3)
    assert records_by(tenant.viewer, "contacts", "membership_no")["M000002"]["name"] == f"客戶{delimiter}二"


def test_rfc4180_edge_cases_across_chunk_boundaries(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 2 * TEST_CHUNK_ROWS + 51)]
    rows[TEST_CHUNK_ROWS - 1][1] = 'last of chunk 0,\r\n"quoted"\r\nthree lines'  # row 100
    rows[TEST_CHUNK_ROWS][1] = "first of chunk 1\nsecond line"  # row 101
    rows[149][2] = rows[149][3] = rows[149][4] = ""  # empty optional fields
    rows[159] = rows[159] + ["extra"]  # ragged rows
    rows[169] = rows[169][:5]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], out.getvalue().encode())["id"])
    assert (done["total_count"], done["success_count"], done["fail_count"]) == (250, 248, 2)

    failures = tenant.viewer.all_pages(f"/imports/{done['id']}/failures")
    # Rows 100 and 101 span 3 and 2 physical lines: later rows start 3 lines further down.
    assert [(f["row"], f["source_line"], f["code"], f["sheet"]) for f in failures] == [
        (160, 164, "COLUMN_COUNT_MISMATCH", None),
        (170, 174, "COLUMN_COUNT_MISMATCH", None),
    ]
    records = records_by(tenant.viewer, "contacts", "membership_no")
    assert records["M000100"]["name"] == 'last of chunk 0,\r\n"quoted"\r\nthree lines'
    assert records["M000101"]["name"] == "first of chunk 1\nsecond line"
    assert {"email", "level", "ct_value"}.isdisjoint(records["M000150"])


# ---------------------------------------------------------------- XLSX


def _sheet_rows(first: int, count: int) -> list[list]:
    rows = []
    for n in range(first, first + count):
        row = good_row(n)
        rows.append(
            [row[0], row[1], row[2], row[3], float(row[4]), int(row[5]), datetime(2026, 11, 22), row[7] == "yes"]
        )
    return rows


def test_xlsx_every_sheet_with_its_own_header(tenant):
    recipe = setup_contacts(tenant.admin)
    january = [HEADER, *_sheet_rows(1, 150)]
    january[5][3] = "Z"  # sheet row 6
    january[140][4] = 12.0  # a whole number, as Excel stores it
    reordered = [HEADER[1], HEADER[0], *HEADER[2:]]  # the second sheet has its columns in another order
    february = [reordered, [], *[[r[1], r[0], *r[2:]] for r in _sheet_rows(151, 60)]]
    february[10][2] = "not-an-email"  # sheet row 11
    workbook = xlsx_bytes({"一月": january, "說明": [["只是說明"]], "空白": [], "二月": february}, hidden=("說明",))

    created = tenant.editor.import_file(recipe["id"], workbook, "客戶.xlsx")
    seen = []
    while (current := tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"])["status"] not in TERMINAL:
        seen.append(current["current_sheet_index"])
        time.sleep(0.05)
    assert seen == sorted(seen)  # it only moves forward
    assert (current["status"], current["total_count"], current["success_count"], current["fail_count"]) == (
        "completed_with_errors",
        210,
        208,
        2,
    )
    assert current["current_sheet_index"] == 3
    assert current["file"]["name"] == "客戶.xlsx" and current["file"]["sha256"] == hashlib.sha256(workbook).hexdigest()

    failures = tenant.viewer.all_pages(f"/imports/{created['id']}/failures")
    assert [(f["row"], f["sheet"], f["source_line"], f["code"]) for f in failures] == [
        (5, "一月", 6, "NOT_IN_OPTIONS"),
        (159, "二月", 11, "INVALID_EMAIL"),
    ]
    records = records_by(tenant.viewer, "contacts", "membership_no")
    assert len(records) == 208
    assert records["M000140"]["ct_value"] == 12 and records["M000002"]["visit_date"] == "2026-11-22"
    assert records["M000200"] == {
        "membership_no": "M000200",
        "name": "客戶200",
        "email": "c200@example.com",
        "level": "A",
        "ct_value": 200.5,
        "visits": 4,
        "visit_date": "2026-11-22",
        "vip": True,
    }

    # The failing rows of both sheets under one header, by column name, to fix and import again.
    download = tenant.viewer.get(f"/imports/{created['id']}/failures.csv", allow_redirects=False).headers["Location"]
    table = list(csv.reader(io.StringIO(requests.get(download, timeout=30).content.decode("utf-8-sig"))))
    assert table[0] == ["_row", "sheet", *HEADER, "error_code", "error_message"]
    assert [r[:4] for r in table[1:]] == [["5", "一月", "M000005", "客戶5"], ["159", "二月", "M000159", "客戶159"]]


def test_excel_habits_numbers_as_text_and_dates_as_day_numbers(tenant):
    """What the sheet shows is what arrives: text that looks numeric stays as typed (leading zeros,
    long ids), a number formatted with leading zeros keeps them, numbers never in scientific
    notation, and a date field's plain number is Excel's day number (a date column formatted
    General). In a CSV such a number is no date."""
    tenant.admin.create_table(
        {
            "key": "ids",
            "fields": [
                {"key": "code", "type": "string", "required": True},
                {"key": "reading", "type": "string"},
                {"key": "seen_on", "type": "date"},
                {"key": "seen_at", "type": "datetime"},
            ],
        }
    )
    columns = [
        {"source": s, "target": t}
        for s, t in (("code", "code"), ("reading", "reading"), ("on", "seen_on"), ("at", "seen_at"))
    ]
    recipe = tenant.admin.create_recipe({"name": "ids", "table": "ids", "columns": columns})
    header = ["code", "reading", "on", "at"]
    rows = [
        ["00123", 0.00001, 46348, 46348.5],
        ["1234567890123456789", 12345678901234.0, datetime(2026, 11, 22), datetime(2026, 11, 22, 12, 0)],
        [501, 123456789, None, None],  # a zip code and an id kept as numbers, formatted to show zeros
    ]
    workbook = xlsx_bytes({"s": [header, *rows]}, number_formats={"A4": "00000", "B4": "000-00-0000"})
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], workbook, "ids.xlsx")["id"])
    assert (done["status"], done["success_count"]) == ("completed", 3), done
    stored = records_by(tenant.viewer, "ids", "code")
    assert stored["00123"] == {
        "code": "00123",
        "reading": "0.00001",
        "seen_on": "2026-11-22",
        "seen_at": "2026-11-22T12:00:00",
    }
    assert stored["1234567890123456789"]["reading"] == "12345678901234"
    assert stored["1234567890123456789"]["seen_on"] == "2026-11-22"
    assert stored["00501"]["reading"] == "123-45-6789"

    as_csv = tenant.viewer.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([header, ["9", "", "46348", ""]]), "ids.csv")["id"]
    )
    (failure,) = tenant.viewer.ok("GET", f"/imports/{as_csv['id']}/failures")["data"]
    assert (failure["field"], failure["code"]) == ("seen_on", "INVALID_DATE")


def test_xlsx_recipe_picks_one_sheet(tenant):
    setup_contacts(tenant.admin)
    by_name = tenant.admin.create_recipe(contacts_recipe(name="二月 only", options={"sheet": "二月"}))
    by_index = tenant.admin.create_recipe(contacts_recipe(name="index 9", options={"sheet": 9}))
    workbook = xlsx_bytes({"一月": [HEADER, *_sheet_rows(1, 3)], "二月": [HEADER, *_sheet_rows(4, 2)]})

    done = tenant.viewer.wait(tenant.editor.import_file(by_name["id"], workbook, "book.xlsx")["id"])
    assert (done["status"], done["total_count"], done["current_sheet_index"]) == ("completed", 2, 1)
    assert sorted(records_by(tenant.viewer, "contacts", "membership_no")) == ["M000004", "M000005"]

    missing = tenant.viewer.wait(tenant.editor.import_file(by_index["id"], workbook, "book.xlsx")["id"])
    assert missing["error"] == {
        "code": "SHEET_NOT_FOUND",
        "message": "The workbook has no sheet '9' (it has: 一月, 二月); "
        "fix the recipe's sheet option (a name or a 0-based index).",
    }


def test_a_key_repeated_on_another_sheet_names_the_first_row_and_its_sheet(tenant):
    recipe = setup_contacts(tenant.admin)
    february = _sheet_rows(3, 2)
    february[1][0] = "M000002"  # the second sheet's second data row repeats the first sheet's row 2
    workbook = xlsx_bytes({"一月": [HEADER, *_sheet_rows(1, 2)], "二月": [HEADER, *february]})
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], workbook, "book.xlsx")["id"])
    assert (done["success_count"], done["fail_count"]) == (3, 1)
    (failure,) = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert {k: failure[k] for k in ("row", "sheet", "source_line", "field", "code", "value")} == {
        "row": 4,
        "sheet": "二月",
        "source_line": 3,
        "field": "membership_no",
        "code": "DUPLICATE_IN_FILE",
        "value": "M000002",
    }
    assert (failure["first_row"], failure["first_sheet"]) == (2, "一月")


def test_a_formula_saved_without_its_value_fails_its_row_and_never_imports_as_empty(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = _sheet_rows(1, 3)
    rows[0][4] = "=F2*2"  # 測量數字 of sheet row 2: a formula with the value Excel cached (below)
    rows[1][4] = "=F3*2"  # ... and one saved without a value (openpyxl writes none)
    for row in rows:
        row.append("note")
    rows[2][8] = "=A4"  # an uncalculated formula in a column the recipe does not map: no harm
    workbook = xlsx_bytes({"一月": [[*HEADER, "備註"], *rows]}, cached={"E2": "8"})
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], workbook, "book.xlsx")["id"])
    assert (done["success_count"], done["fail_count"]) == (2, 1)
    (failure,) = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert (failure["row"], failure["source_line"], failure["field"], failure["code"]) == (
        2,
        3,
        "ct_value",
        "FORMULA_NOT_CALCULATED",
    )
    assert failure["message"].startswith("測量數字 is a formula saved without its value")
    records = records_by(tenant.viewer, "contacts", "membership_no")
    assert records["M000001"]["ct_value"] == 8 and "M000002" not in records
    download = tenant.viewer.get(f"/imports/{done['id']}/failures.csv", allow_redirects=False).headers["Location"]
    table = list(csv.reader(io.StringIO(requests.get(download, timeout=30).content.decode("utf-8-sig"))))
    # the formula's cell comes back empty, to fill in, not as a marker
    assert table[0][1 + 4] == "測量數字" and table[1][1 + 4] == ""  # after _row


def test_xlsx_sheet_missing_a_column_names_the_sheet(tenant):
    recipe = setup_contacts(tenant.admin)
    workbook = xlsx_bytes({"一月": [HEADER, *_sheet_rows(1, 2)], "備註": [["備註"], ["hello"]]})
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], workbook, "book.xlsx")["id"])
    assert done["error"]["code"] == "MISSING_COLUMN"
    assert done["error"]["message"].startswith(
        "Sheet '備註': The file lacks 8 column(s) the recipe maps: '會員編號', '姓名'"
    )
    zh = tenant.viewer.ok("GET", f"/imports/{done['id']}", headers={"Accept-Language": "zh-TW"})["data"]
    assert zh["error"]["message"].startswith("工作表「備註」：")
    assert tenant.viewer.ok("GET", "/tables/contacts/records")["data"] == []


# ---------------------------------------------------------------- gzip


def test_gzipped_csv_larger_than_a_work_object_part(tenant):
    """12 MB of text once inflated: the work object goes up as a multipart upload."""
    tenant.admin.create_table(NOTES)
    recipe = tenant.admin.create_recipe(
        {
            "name": "notes",
            "table": "notes",
            "columns": [{"source": "code", "target": "code"}, {"source": "text", "target": "text"}],
        }
    )
    rows = [["code", "text", "filler"]] + [[f"A{n}", f"客戶 {n}", os.urandom(300 * 1024).hex()] for n in range(20)]
    content = gzip.compress(csv_bytes(rows), compresslevel=1)
    done = upload(tenant.editor, recipe["id"], content, "notes.csv.gz")
    assert (done["status"], done["success_count"]) == ("completed", 20), done["error"]
    assert done["file"] == {"name": "notes.csv.gz", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    assert records_by(tenant.viewer, "notes", "code")["A19"]["text"] == "客戶 19"


# ---------------------------------------------------------------- hostile files


def _unclosed_quote() -> bytes:
    return csv_bytes([HEADER, good_row(1)]) + b'M2,"never closed\n' + b"x" * (1024 * 1024 + 10)


@pytest.mark.parametrize(
    ("make", "name", "code"),
    [
        (lambda: xlsx_bomb(64), "bomb.xlsx", "UNCOMPRESSED_TOO_LARGE"),
        (lambda: gzip_bomb(64), "bomb.csv.gz", "UNCOMPRESSED_TOO_LARGE"),
        (lambda: xlsx_with_entities("billion laughs"), "laughs.xlsx", "UNSAFE_XLSX"),
        (lambda: xlsx_with_entities("external entity"), "xxe.xlsx", "UNSAFE_XLSX"),
        (lambda: csv_bytes([[f"c{i}" for i in range(5000)], ["1"]]), "wide.csv", "TOO_MANY_COLUMNS"),
        (_unclosed_quote, "unclosed.csv", "RECORD_TOO_LONG"),
        (lambda: b"%PDF-1.7\n" + os.urandom(2000), "report.csv", "UNSUPPORTED_FILE_TYPE"),
        (lambda: os.urandom(50_000), "data.csv", "UNSUPPORTED_FILE_TYPE"),
    ],
    ids=[
        "xlsx-bomb",
        "gzip-bomb",
        "billion-laughs",
        "external-entity",
        "5000-columns",
        "unclosed-quote",
        "pdf",
        "random",
    ],
)
def test_hostile_uploads_fail_the_import_and_write_nothing(tenant, make, name, code):
    recipe = setup_contacts(tenant.admin)
    done = upload(tenant.editor, recipe["id"], make(), name)
    assert (done["status"], done["error"]["code"], done["processed_count"]) == ("failed", code, 0)
    assert tenant.viewer.ok("GET", "/tables/contacts/records")["data"] == []


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"%PDF-1.7\n" + os.urandom(2000), 415, "UNSUPPORTED_FILE_TYPE"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(2000), 415, "UNSUPPORTED_FILE_TYPE"),
        (os.urandom(5000), 415, "UNSUPPORTED_FILE_TYPE"),
        (xlsx_bytes({"a": [["x"]]}).replace(b"xl/workbook.xml", b"xl/notebook.xml"), 415, "UNSUPPORTED_FILE_TYPE"),
        (b"", 422, "EMPTY_FILE"),
    ],
    ids=["pdf", "png", "random", "zip-not-workbook", "empty"],
)
def test_direct_upload_of_what_is_clearly_no_spreadsheet_is_refused_at_once(tenant, content, status, code):
    recipe = setup_contacts(tenant.admin)
    response = tenant.editor.post(
        "/imports", data={"recipe_id": recipe["id"]}, files={"file": ("data.csv", content, "text/csv")}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert tenant.viewer.ok("GET", "/imports")["meta"]["total"] == 0


def test_path_like_file_names_keep_only_a_safe_base_name(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    content = csv_bytes([HEADER, good_row(1)])
    assert tenant.editor.import_file(recipe["id"], content, "../../etc/passwd")["file"]["name"] == "passwd"
    created = tenant.editor.ok(
        "POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": "C:\\x\\y\x07.csv"}
    )
    assert created["data"]["file"]["name"] == "y.csv"
    dropped = drop(stack, tenant, recipe["id"], "..\\..\\名單\x01.csv", content)
    assert dropped["file"]["name"] == "名單.csv"


def test_dropped_files_are_checked_for_size_before_being_read(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    empty = drop(stack, tenant, recipe["id"], "empty.csv", b"")
    assert (empty["status"], empty["error"]["code"]) == ("failed", "EMPTY_FILE")

    limit = TEST_MAX_FILE_BYTES  # the stack's MaxFileBytes (5 GiB on AWS)
    content = csv_bytes([HEADER, good_row(1)]) + b"\n" * limit
    huge = drop(stack, tenant, recipe["id"], "huge.csv", content)
    assert (huge["status"], huge["error"]["code"], huge["file"]["size"]) == ("failed", "FILE_TOO_LARGE", len(content))
    assert (
        huge["error"]["message"]
        == f"The file is {len(content)} bytes; imports take at most {limit}. Split it into smaller files."
    )
    boto3.client("s3").delete_object(
        Bucket=stack.resource_name("DataBucket"), Key=f"drop/{tenant.id}/{recipe['id']}/huge.csv"
    )
    assert tenant.viewer.ok("GET", "/tables/contacts/records")["data"] == []


# ---------------------------------------------------------------- report-style files (options.header_row)


def _report_workbook() -> bytes:
    """A report as people save one: a title merged across the table, a blank row, then a header
    whose last cell is merged over two columns (the file keeps the value in the first), and
    data rows shorter than the title and header spans (no trailing cells stored)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "報表"
    sheet.append(["Notes report, December 2026"])
    sheet.merge_cells("A1:C1")
    sheet.append([])
    sheet.append(["編號", "內容", None])
    sheet.merge_cells("B3:C3")
    sheet.append(["N1", "first"])
    sheet.append([None, "no code"])  # sheet row 5: fails, and must say row 5
    sheet.append(["N3"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_report_style_workbook_imports_below_its_title_with_header_row(tenant):
    workbook = _report_workbook()
    without = notes_recipe(tenant.admin, "編號", "內容")
    failed = tenant.viewer.wait(tenant.editor.import_file(without["id"], workbook, "report.xlsx")["id"])
    assert failed["error"]["code"] == "MISSING_COLUMN"  # its header is not on row 1

    recipe = tenant.admin.ok("PATCH", f"/recipes/{without['id']}", 200, json={"options": {"header_row": 3}})["data"]
    assert recipe["options"]["header_row"] == 3
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], workbook, "report.xlsx")["id"])
    assert (done["status"], done["header_row"], done["total_count"]) == ("completed_with_errors", 3, 3)
    assert {code: r.get("text") for code, r in records_by(tenant.viewer, "notes", "code").items()} == {
        "N1": "first",
        "N3": None,
    }
    (failure,) = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    # `row` counts data rows; `source_line` is the sheet row Excel shows, title rows included.
    assert (failure["row"], failure["source_line"], failure["sheet"], failure["field"]) == (2, 5, "報表", "code")


def test_csv_header_row_skips_title_lines_and_an_import_may_override_it(tenant):
    recipe = notes_recipe(tenant.admin, "code", "text")
    content = b"Exported notes\nfrom the old system\n\ncode,text\nA1,one\n,missing\nA3,three\n"
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content, "notes.csv", header_row=4)["id"])
    assert (done["status"], done["header_row"], done["success_count"], done["fail_count"]) == (
        "completed_with_errors",
        4,
        2,
        1,
    )
    (failure,) = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert (failure["row"], failure["source_line"]) == (2, 6)
    assert sorted(records_by(tenant.viewer, "notes", "code")) == ["A1", "A3"]

    # JSON (the presigned flow) takes it too; a header row past the file's rows fails the import.
    beyond = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "header_row": 40})["data"]
    response = requests.post(
        beyond["upload"]["url"], data=beyond["upload"]["fields"], files={"file": ("n.csv", content)}, timeout=60
    )
    assert response.status_code in (200, 201, 204), response.text
    failed = tenant.viewer.wait(beyond["id"])
    assert failed["error"] == {
        "code": "HEADER_ROW_BEYOND_FILE",
        "message": "The header row is set to row 40, but the file's last non-blank row is row 7.",
    }
    zh = tenant.viewer.ok("GET", f"/imports/{beyond['id']}", headers={"Accept-Language": "zh-TW"})["data"]
    assert zh["error"]["message"] == "標題列設為第 40 列，但檔案最後一個非空白列是第 7 列。"


@pytest.mark.parametrize("value", [0, -1, "3", 1.5, True])
def test_a_bad_header_row_is_refused_with_a_validation_error(tenant, value):
    tenant.admin.create_table(NOTES)
    body = {"name": "n", "table": "notes", "columns": "auto", "options": {"header_row": value}}
    response = tenant.admin.post("/recipes", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), response.text
    recipe = tenant.admin.create_recipe({**body, "options": {}})
    assert recipe["options"]["header_row"] == 1
    response = tenant.editor.post("/imports", json={"recipe_id": recipe["id"], "header_row": value})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), response.text
    if isinstance(value, int) and not isinstance(value, bool):
        form = {"recipe_id": recipe["id"], "header_row": str(value)}
        response = tenant.editor.post("/imports", data=form, files={"file": ("n.csv", b"code\nA\n", "text/csv")})
        assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
        zh = tenant.editor.post(
            "/imports", data=form, files={"file": ("n.csv", b"code\nA\n")}, headers={"Accept-Language": "zh-TW"}
        )
        assert zh.status_code == 422 and zh.json()["error"]["message"] == "請求內容不正確，請參考 details。"
