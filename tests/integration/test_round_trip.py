"""Edit in Excel, import back: an export (header `_id` + labels) imported through a recipe with
"columns": "auto" and unique_columns ["id"] (or ["_id"]) updates the records it names and adds the
rows without an id, in CSV and in XLSX; a table's own field `id` stays a field. failures.csv, fixed
and sent back, imports through the recipe that failed it (its `_row` column ignored)."""

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
    assert header[0] == "_id" and "會員編號" in header
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
    assert [(f["row"], f["field"], f["code"]) for f in failures] == [(1, "_id", "NOT_FOUND"), (2, "_id", "NOT_FOUND")]

    bad = tenant.admin.post("/recipes", json={**BY_ID, "name": "mixed", "unique_columns": ["id", "membership_no"]})
    assert bad.status_code == 422
    assert {"target": "unique_columns", "code": "ID_IDENTITY_ALONE"} in bad.json()["error"]["details"]


def test_a_table_with_its_own_id_field_round_trips_by_record_id(tenant):
    tenant.admin.create_table({"key": "items", "fields": [{"key": "id", "unique": True}, {"key": "name"}]})
    recipe = tenant.admin.create_recipe({"name": "items", "table": "items", "columns": "auto"})
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes([["id", "name"], ["S2", "a"]]))["id"])
    assert done["success_count"] == 1
    job = {"job_name": "export", "table": "items", "ids": "all", "search_options": {}, "total": 1, "format": "csv"}
    exported = as_rows(
        requests.get(tenant.editor.wait_job(tenant.editor.start_job(job))["data"]["url"], timeout=30).content, "csv"
    )
    (record,) = tenant.viewer.all_pages("/tables/items/records")
    assert exported == [["_id", "id", "name"], [record["id"], "S2", "a"]]

    # "id" is the field here, "_id" the record: a row names its record by _id.
    by_id = {"name": "by id", "table": "items", "columns": "auto", "unique_columns": ["_id"], "mode": "update"}
    updating = tenant.admin.create_recipe(by_id)
    edited = csv_bytes([exported[0], [record["id"], "S2", "b"]])
    done = tenant.viewer.wait(tenant.editor.import_file(updating["id"], edited)["id"])
    assert (done["status"], done["success_count"]) == ("completed", 1), done
    (after,) = tenant.viewer.all_pages("/tables/items/records")
    assert (after["id"], after["data"]) == (record["id"], {"id": "S2", "name": "b"})
    keyed = tenant.admin.create_recipe({**by_id, "name": "by field", "unique_columns": ["id"], "mode": "upsert"})
    done = tenant.viewer.wait(tenant.editor.import_file(keyed["id"], csv_bytes([["id", "name"], ["S2", "c"]]))["id"])
    assert done["success_count"] == 1 and tenant.viewer.all_pages("/tables/items/records")[0]["data"]["name"] == "c"


def test_a_fixed_failures_csv_imports_through_the_recipe_that_failed_it(tenant):
    setup_contacts(tenant.admin)
    by_position = {
        "name": "by position",
        "table": "contacts",
        "columns": [
            {"source": 0, "target": "membership_no"},
            {"source": 1, "target": "name"},
            {"source": 3, "target": "level"},
        ],
    }
    recipe = tenant.admin.create_recipe(by_position)
    rows = [HEADER, good_row(1), [*good_row(2)[:3], "Z", *good_row(2)[4:]]]
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes(rows))["id"])
    assert (done["success_count"], done["fail_count"]) == (1, 1)
    url = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures.csv", headers={"Accept": "application/json"})[
        "data"
    ]["url"]
    failed_rows = as_rows(requests.get(url, timeout=30).content, "csv")
    assert failed_rows[0][:2] == ["_row", HEADER[0]] and failed_rows[1][:2] == ["2", "M000002"]
    fixed = [row[:-2] for row in failed_rows]  # the error columns dropped, _row kept
    fixed[1][1 + 3] = "B"
    again = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes(fixed))["id"])
    assert (again["success_count"], again["fail_count"]) == (1, 0), again
    numbers = {
        r["data"]["membership_no"]: r["data"].get("level") for r in tenant.viewer.all_pages("/tables/contacts/records")
    }
    assert numbers == {"M000001": "B", "M000002": "B"}


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
