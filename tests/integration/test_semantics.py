"""What happens to each row: unique keys, modes, duplicates, parents, dry run, all-or-nothing,
failure reports. Every rule holds whatever order the chunks run in."""

import csv
import io
import threading

import requests

from tests.conftest import TEST_CHUNK_ROWS
from tests.helpers import csv_bytes
from tests.integration.test_exactly_once import stored_records
from tests.samples import HEADER, contacts_recipe, good_row, setup_contacts


def import_rows(api, recipe_id, rows, **fields):
    return api.wait(api.import_file(recipe_id, csv_bytes([HEADER, *rows]), **fields)["id"])


def failures(api, import_id):
    return [(f["row"], f["field"], f["code"], f["first_row"]) for f in api.all_pages(f"/imports/{import_id}/failures")]


def by_number(api, table="contacts"):
    return {r["data"]["membership_no"]: r for r in api.all_pages(f"/tables/{table}/records")}


def test_insert_refuses_a_key_that_exists_in_the_table(tenant):
    recipe = setup_contacts(tenant.admin)
    import_rows(tenant.editor, recipe["id"], [good_row(n) for n in range(1, 11)])
    second = import_rows(tenant.editor, recipe["id"], [good_row(5), good_row(11)])
    assert (second["status"], second["success_count"], second["fail_count"]) == ("completed_with_errors", 1, 1)
    assert failures(tenant.viewer, second["id"]) == [(1, "membership_no", "ALREADY_EXISTS", None)]
    taken = tenant.viewer.ok("GET", f"/imports/{second['id']}/failures")["data"][0]
    assert (taken["value"], taken["message"]) == ("M000005", "A record with 會員編號 'M000005' already exists.")
    assert len(by_number(tenant.viewer)) == 11
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 11


def test_upsert_updates_existing_records_and_inserts_new_ones(tenant):
    tenant.admin.create_table(
        {
            "key": "contacts",
            "fields": [
                {"key": "membership_no", "type": "string", "required": True, "unique": True},
                {"key": "name", "type": "string", "required": True},
                {"key": "level", "type": "enum", "options": ["A", "B"]},
            ],
        }
    )
    columns = [
        {"source": "會員編號", "target": "membership_no"},
        {"source": "姓名", "target": "name"},
        {"source": "等級", "target": "level"},
    ]
    insert = tenant.admin.create_recipe({"name": "insert", "table": "contacts", "columns": columns})
    upsert = tenant.admin.create_recipe(
        {
            "name": "upsert",
            "table": "contacts",
            "columns": columns,
            "unique_columns": ["membership_no"],
            "mode": "upsert",
        }
    )
    header = ["會員編號", "姓名", "等級"]
    tenant.editor.wait(
        tenant.editor.import_file(insert["id"], csv_bytes([header, ["M1", "one", "A"], ["M2", "two", "A"]]))["id"]
    )
    before = by_number(tenant.viewer)
    done = tenant.editor.wait(
        tenant.editor.import_file(upsert["id"], csv_bytes([header, ["M2", "two again", "B"], ["M3", "three", "B"]]))[
            "id"
        ]
    )
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 2, 0)
    after = by_number(tenant.viewer)
    assert after["M2"]["id"] == before["M2"]["id"]
    assert after["M2"]["data"] == {"membership_no": "M2", "name": "two again", "level": "B"}
    assert after["M1"]["data"]["level"] == "A" and after["M3"]["data"]["name"] == "three"
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 3


def test_update_mode_reports_missing_records(tenant):
    recipe = setup_contacts(tenant.admin)
    import_rows(tenant.editor, recipe["id"], [good_row(1), good_row(2)])
    update = tenant.admin.create_recipe(
        contacts_recipe(
            name="levels",
            mode="update",
            unique_columns=["membership_no"],
            columns=[{"source": "會員編號", "target": "membership_no"}, {"source": "等級", "target": "level"}],
        )
    )
    content = csv_bytes([["會員編號", "等級"], ["M000002", "A"], ["M000099", "B"]])
    done = tenant.editor.wait(tenant.editor.import_file(update["id"], content)["id"])
    assert (done["success_count"], done["fail_count"]) == (1, 1)
    assert failures(tenant.viewer, done["id"]) == [(2, "membership_no", "NOT_FOUND", None)]
    records = by_number(tenant.viewer)
    assert records["M000002"]["data"]["level"] == "A" and records["M000002"]["data"]["name"] == "客戶2"
    assert len(records) == 2


def test_duplicates_in_one_file_keep_the_first_whatever_order_chunks_run(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 2 * TEST_CHUNK_ROWS + 1)]
    rows[TEST_CHUNK_ROWS + 49] = good_row(50)  # row 150 (chunk 1) repeats row 50 (chunk 0)
    rows[TEST_CHUNK_ROWS - 1] = good_row(160)  # row 100 (chunk 0) is repeated by row 160 (chunk 1)
    rows[7][2] = "bad-email"  # row 8 is invalid, so row 9 repeating its key is the first valid one
    rows[8] = good_row(8)
    # Chunk 0's first run dies before it writes anything (a record's put is its first write): chunk
    # 1 is done long before chunk 0 is.
    faults.crash(
        "ProcessChunkFunction",
        "dynamodb.PutItem",
        after=0,
        times=1,
        when=lambda event: event["chunk"]["index"] == 0,
        pool=True,  # the records' puts run on the writer's pool
    )
    done = import_rows(tenant.editor, recipe["id"], rows)
    assert (done["success_count"], done["fail_count"]) == (2 * TEST_CHUNK_ROWS - 3, 3)
    assert failures(tenant.viewer, done["id"]) == [
        (8, "email", "INVALID_EMAIL", None),
        (150, "membership_no", "DUPLICATE_IN_FILE", 50),
        (160, "membership_no", "DUPLICATE_IN_FILE", 100),
    ]
    records = by_number(tenant.viewer)
    # A record's origin (meta.origin, not shown by the API) is its import and source row: each key is
    # held by its first valid row.
    origins = {
        i["data"]["M"]["membership_no"]["S"]: i["meta"]["M"]["origin"]["S"] for i in stored_records(stack, tenant.id)
    }
    assert origins["M000050"] == f"{done['id']}00000050"
    assert origins["M000160"] == f"{done['id']}00000100"
    assert origins["M000008"] == f"{done['id']}00000009"
    assert len(records) == 2 * TEST_CHUNK_ROWS - 3
    message = tenant.viewer.ok(
        "GET", f"/imports/{done['id']}/failures?per_page=3", headers={"Accept-Language": "zh-TW"}
    )["data"][1]["message"]
    assert message == "會員編號「M000050」與本檔第 50 列重複。"
    duplicate = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures?per_page=3")["data"][1]
    assert (duplicate["value"], duplicate["first_row"], duplicate["first_sheet"]) == ("M000050", 50, None)
    assert duplicate["message"] == "會員編號 'M000050' repeats row 50 of this file."


def test_dry_run_reports_everything_and_writes_nothing(tenant):
    recipe = setup_contacts(tenant.admin)
    import_rows(tenant.editor, recipe["id"], [good_row(1)])
    rows = [good_row(1), good_row(2), good_row(3), good_row(3)]
    rows[1][3] = "Z"
    done = import_rows(tenant.editor, recipe["id"], rows, dry_run=True)
    assert done["dry_run"] is True and done["status"] == "completed_with_errors"
    assert (done["success_count"], done["fail_count"]) == (1, 3)
    assert failures(tenant.viewer, done["id"]) == [
        (1, "membership_no", "ALREADY_EXISTS", None),
        (2, "level", "NOT_IN_OPTIONS", None),
        (4, "membership_no", "DUPLICATE_IN_FILE", 3),
    ]
    assert list(by_number(tenant.viewer)) == ["M000001"]
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 1
    # the dry run claimed nothing: the same rows import for real afterwards
    real = import_rows(tenant.editor, recipe["id"], [good_row(3)])
    assert real["success_count"] == 1


def test_atomic_writes_nothing_if_any_row_fails(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 2 * TEST_CHUNK_ROWS + 1)]
    rows[-1][6] = "not a date"
    done = import_rows(tenant.editor, recipe["id"], rows, atomic=True)
    assert done["status"] == "failed" and done["error"]["code"] == "ATOMIC_ROWS_FAILED"
    assert (done["processed_count"], done["success_count"], done["fail_count"]) == (200, 199, 1)
    assert failures(tenant.viewer, done["id"]) == [(200, "visit_date", "INVALID_DATE", None)]
    assert by_number(tenant.viewer) == {}

    rows[-1] = good_row(200)
    done = import_rows(tenant.editor, recipe["id"], rows, atomic=True)
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 200, 0)
    assert len(by_number(tenant.viewer)) == 200


def test_parent_child_import(tenant):
    tenant.admin.create_table(
        {
            "key": "patients",
            "fields": [{"key": "membership_no", "type": "string", "required": True, "unique": True}, {"key": "name"}],
        }
    )
    tenant.admin.create_table(
        {
            "key": "visits",
            "parent": "patients",
            "fields": [
                {"key": "visit_date", "type": "date", "required": True},
                {"key": "ct_value", "label": "測量數字", "type": "number"},
            ],
        }
    )
    patients = tenant.admin.create_recipe(
        {
            "name": "patients",
            "table": "patients",
            "columns": [{"source": "no", "target": "membership_no"}, {"source": "name", "target": "name"}],
        }
    )
    tenant.editor.wait(tenant.editor.import_file(patients["id"], b"no,name\nP1,Ann\nP2,Bob\n")["id"])
    bad = tenant.admin.post(
        "/recipes",
        json={"name": "x", "table": "visits", "mode": "upsert", "columns": [{"source": "d", "target": "visit_date"}]},
    )
    assert {d["code"] for d in bad.json()["error"]["details"]} == {"PARENT_LINK_REQUIRED", "IDENTITY_REQUIRED"}
    visits = tenant.admin.create_recipe(
        {
            "name": "客戶ct檢測匯入",
            "table": "visits",
            "mode": "upsert",
            "columns": [
                {"source": "會員編號", "target": "parent.membership_no"},
                {"source": "日期", "target": "visit_date"},
                {"source": "測量數字", "target": "ct_value"},
            ],
            "unique_columns": ["parent.membership_no"],
            "relation_unique_column": "visit_date",
        }
    )
    content = (
        "會員編號,日期,測量數字\nP1,2026-11-01,20.5\nP1,2026-11-02,21\nP2,2026-11-01,30\nP9,2026-11-01,1\n".encode()
    )
    done = tenant.editor.wait(tenant.editor.import_file(visits["id"], content)["id"])
    assert (done["success_count"], done["fail_count"]) == (3, 1)
    assert failures(tenant.viewer, done["id"]) == [(4, "parent.membership_no", "PARENT_NOT_FOUND", None)]
    parents = {r["data"]["membership_no"]: r["id"] for r in tenant.viewer.all_pages("/tables/patients/records")}
    ann = tenant.viewer.all_pages(f"/tables/visits/records?parent_id={parents['P1']}")
    assert sorted((r["data"]["visit_date"], r["data"]["ct_value"]) for r in ann) == [
        ("2026-11-01", 20.5),
        ("2026-11-02", 21),
    ]
    assert all(r["parent_id"] == parents["P1"] for r in ann)
    # Same parent and date again: the visit is updated, not added.
    again = tenant.editor.wait(
        tenant.editor.import_file(visits["id"], "會員編號,日期,測量數字\nP1,2026/11/1,22\n".encode())["id"]
    )
    assert again["success_count"] == 1
    ann = tenant.viewer.all_pages(f"/tables/visits/records?parent_id={parents['P1']}")
    assert sorted((r["data"]["visit_date"], r["data"]["ct_value"]) for r in ann) == [
        ("2026-11-01", 22),
        ("2026-11-02", 21),
    ]
    assert tenant.viewer.ok("GET", "/tables/visits")["data"]["record_count"] == 3


def test_results_of_several_imports(tenant, other_tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 11)]
    for n in (2, 3, 4, 7):
        rows[n - 1][3] = "Z"
    first = import_rows(tenant.editor, recipe["id"], rows)
    second = import_rows(tenant.editor, recipe["id"], [good_row(20)])
    results = tenant.viewer.ok("GET", f"/imports/results?ids={first['id']},{second['id']}")["data"]
    assert [(r["id"], r["status"], r["progress"], r["fail_count"]) for r in results] == [
        (first["id"], "completed_with_errors", 100, 4),
        (second["id"], "completed", 100, 0),
    ]
    assert [(d["row_number_start"], d["row_number_end"], d["field"], d["code"]) for d in results[0]["fail_detail"]] == [
        (2, 4, "level", "NOT_IN_OPTIONS"),
        (7, 7, "level", "NOT_IN_OPTIONS"),
    ]
    assert other_tenant.viewer.get(f"/imports/results?ids={first['id']}").status_code == 404


def test_failures_csv_fixed_and_uploaded_again_completes_the_data(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 151)]
    rows[9][2] = "nope"  # row 10
    rows[120][0] = ""  # row 121
    rows[120][4] = "x"
    done = import_rows(tenant.editor, recipe["id"], rows)
    assert done["fail_count"] == 2
    response = tenant.viewer.get(f"/imports/{done['id']}/failures.csv", allow_redirects=False)
    assert response.status_code == 303
    downloaded = requests.get(response.headers["Location"], timeout=30)
    assert downloaded.content.startswith("\ufeff".encode())  # opens as UTF-8 in Excel
    table = list(csv.reader(io.StringIO(downloaded.content.decode("utf-8-sig"))))
    assert table[0] == ["_row", *HEADER, "error_code", "error_message"]  # _row: the failing row's number
    assert [r[:9] for r in table[1:]] == [["10", *rows[9]], ["121", *rows[120]]]
    assert [r[9] for r in table[1:]] == ["INVALID_EMAIL", "REQUIRED; INVALID_NUMBER"]

    table[1][1 + 2] = "c10@example.com"
    table[2][1 + 0], table[2][1 + 4] = "M000121", "121.5"
    fixed = io.StringIO()
    csv.writer(fixed).writerows(table)
    again = tenant.editor.wait(tenant.editor.import_file(recipe["id"], fixed.getvalue().encode("utf-8-sig"))["id"])
    assert (again["status"], again["success_count"]) == ("completed", 2)
    assert len(by_number(tenant.viewer)) == 150


def test_uniqueness_holds_when_imports_race(tenant):
    recipe = setup_contacts(tenant.admin)
    files = [[good_row(n) for n in range(start, start + 150)] for start in (1, 51, 101)]
    results = []

    def run(rows):
        results.append(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])

    threads = [threading.Thread(target=run, args=(rows,)) for rows in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = [tenant.viewer.wait(i) for i in results]
    records = tenant.viewer.all_pages("/tables/contacts/records")
    numbers = [r["data"]["membership_no"] for r in records]
    assert sorted(numbers) == [f"M{n:06d}" for n in range(1, 251)]
    assert sum(i["success_count"] for i in finished) == 250
    assert sum(i["fail_count"] for i in finished) == 450 - 250
