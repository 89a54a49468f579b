"""Edit in Excel, import back: an export (header `id` + labels) imported through a recipe with
"columns": "auto" and unique_columns ["id"] updates the records it names and adds the rows without
an id, in CSV and in XLSX."""

import csv
import io

import openpyxl
import pytest
import requests

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

BY_ID = {"name": "edited export", "table": "contacts", "columns": "auto", "unique_columns": ["id"], "mode": "upsert"}


def export(tenant, file_format: str) -> bytes:
    job = {"job_name": "export", "table": "contacts", "ids": "all", "search_options": {}, "total": 3}
    done = tenant.editor.wait_job(tenant.editor.start_job({**job, "format": file_format}))
    return requests.get(done["data"]["url"], timeout=30).content


def as_rows(content: bytes, file_format: str) -> list[list]:
    if file_format == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    # The cells as Excel keeps them when a row is edited: dates stay date cells, numbers numbers.
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def to_file(rows: list[list[str]], file_format: str) -> bytes:
    if file_format == "csv":
        return csv_bytes(rows)
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_edited_and_imported_back_updates_by_id_and_adds_new_rows(tenant, file_format):
    recipe = setup_contacts(tenant.admin)
    tenant.viewer.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in (1, 2, 3)]]))["id"]
    )
    before = {r["data"]["membership_no"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")}
    rows = as_rows(export(tenant, file_format), file_format)
    header = rows[0]
    assert header[0] == "id" and "會員編號" in header
    by_number = {row[header.index("會員編號")]: row for row in rows[1:]}
    by_number["M000002"][header.index("name")] = "改名"  # a cell changed in Excel
    new_row = [""] * len(header)
    new_row[header.index("會員編號")], new_row[header.index("name")] = "M000009", "新客戶"
    edited = [header, *by_number.values(), new_row]

    recipe_id = tenant.admin.create_recipe(BY_ID)["id"]
    name = f"contacts.{file_format}"
    done = tenant.viewer.wait(tenant.editor.import_file(recipe_id, to_file(edited, file_format), name)["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 4, 0), done

    records = {r["data"]["membership_no"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")}
    assert sorted(records) == ["M000001", "M000002", "M000003", "M000009"]
    assert records["M000002"]["data"]["name"] == "改名"
    assert records["M000002"]["id"] == by_number["M000002"][0]  # the same record, updated
    # A row exported and imported back unchanged is the same record, not written again.
    assert records["M000001"] == before["M000001"]
    assert records["M000009"]["id"] not in {row[0] for row in rows[1:]}
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 4


def test_auto_columns_name_what_an_insert_needs_and_update_by_id_needs_the_record(tenant):
    setup_contacts(tenant.admin)
    inserting = tenant.admin.create_recipe({"name": "auto", "table": "contacts", "columns": "auto"})
    done = tenant.viewer.wait(
        tenant.editor.import_file(inserting["id"], csv_bytes([["Email", "level"], ["a@example.com", "A"]]))["id"]
    )
    assert done["error"]["code"] == "MISSING_COLUMN" and "'會員編號'" in done["error"]["message"]

    updating = tenant.admin.create_recipe({**BY_ID, "name": "update by id", "mode": "update"})
    done = tenant.viewer.wait(
        tenant.editor.import_file(updating["id"], csv_bytes([["id", "name"], ["nope", "x"], ["", "y"]]))["id"]
    )
    failures = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert [(f["row"], f["field"], f["code"]) for f in failures] == [(1, "id", "NOT_FOUND"), (2, "id", "NOT_FOUND")]

    bad = tenant.admin.post("/recipes", json={**BY_ID, "name": "mixed", "unique_columns": ["id", "membership_no"]})
    assert bad.status_code == 422
    assert {"target": "unique_columns", "code": "ID_IDENTITY_ALONE"} in bad.json()["error"]["details"]


def test_an_exported_row_whose_key_field_was_edited_is_refused(tenant):
    """contacts are keyed by membership_no: a row of the export that names its record by id but has
    another membership_no would move the record under another key; it fails UNIQUE_KEY_FIXED."""
    recipe = setup_contacts(tenant.admin)
    tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), good_row(2)]))["id"])
    before = {r["id"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")}
    job = {"job_name": "export", "table": "contacts", "ids": "all", "search_options": {}, "total": 2}
    done = tenant.editor.wait_job(tenant.editor.start_job(job))
    rows = as_rows(requests.get(done["data"]["url"], timeout=30).content, "csv")
    header, edited = rows[0], [list(row) for row in rows[1:]]
    first = next(row for row in edited if row[header.index("會員編號")] == "M000001")
    first[header.index("會員編號")] = "M000099"

    recipe_id = tenant.admin.create_recipe(BY_ID)["id"]
    done = tenant.viewer.wait(tenant.editor.import_file(recipe_id, csv_bytes([header, *edited]))["id"])
    assert done["outcomes"] == {"created": 0, "updated": 0, "unchanged": 1, "failed": 1}
    failures = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert [(f["field"], f["code"], f["value"]) for f in failures] == [("membership_no", "UNIQUE_KEY_FIXED", "M000099")]
    assert {r["id"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")} == before
