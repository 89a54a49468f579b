"""Batch jobs on the local stack: batch_update and batch_delete by ids or by search + total, exports,
the codes a job ends with, exactly-once under worker crashes, and the queue shared with imports."""

import csv
import io
import os
import re
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import boto3
import openpyxl
import pytest
import requests

from bulkimport.jobs import store as jobs_store
from tests.helpers import csv_bytes, execution_arn
from tests.integration.test_batch_create import drain, watch_events
from tests.integration.test_exactly_once import invoke_again, stored_records
from tests.integration.test_lifecycle import invoke, wait_for
from tests.integration.test_revert import people_recipes, run
from tests.samples import HEADER, good_row, setup_contacts


def seed(tenant, count: int, first: int = 1) -> dict:
    """The contacts table with `count` imported records (level A for even numbers, B for odd)."""
    recipe = setup_contacts(tenant.admin)
    done = tenant.viewer.wait(
        tenant.editor.import_file(
            recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in range(first, first + count)]])
        )["id"]
    )
    assert (done["status"], done["success_count"]) == ("completed", count)
    return recipe


def records_by_number(tenant) -> dict[str, dict]:
    return {r["data"]["membership_no"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")}


def record_count(tenant) -> int:
    return tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"]


def run_job(api, job: dict, timeout: float = 120) -> dict:
    return api.wait_job(api.start_job(job), timeout)


# ---------------------------------------------------------------- batch_update


def test_batch_update_by_ids_and_by_search(tenant, stack):
    seed(tenant, 250)
    queue = watch_events(stack, tenant.id, "Job Completed")
    before = records_by_number(tenant)
    chosen = [before[f"M{n:06d}"]["id"] for n in (1, 2, 3)]

    by_ids = run_job(
        tenant.editor,
        {
            "job_name": "batch_update",
            "table": "contacts",
            "ids": [*chosen, "no-such-id"],
            "changes": {"email": "new@example.com", "ct_value": "7.25"},
        },
    )
    assert by_ids["code"] == 200 and by_ids["success"] is True
    assert (by_ids["data"]["succeeded_amount"], by_ids["data"]["failed_amount"], by_ids["data"]["process"]) == (
        3,
        1,
        100,
    )
    for record_id in chosen:
        record = tenant.viewer.ok("GET", f"/tables/contacts/records/{record_id}")["data"]
        assert (record["data"]["email"], record["data"]["ct_value"]) == ("new@example.com", 7.25)
        assert record["data"]["name"] == before[record["data"]["membership_no"]]["data"]["name"]  # the rest as it was

    by_search = run_job(
        tenant.editor,
        {
            "job_name": "batch_update",
            "table": "contacts",
            "ids": "all",
            "search_options": {"level": "A"},
            "total": 125,
            "changes": {"visits": 99, "vip": None},
        },
    )
    assert by_search["code"] == 200
    assert (by_search["data"]["total"], by_search["data"]["succeeded_amount"], by_search["data"]["failed_amount"]) == (
        125,
        125,
        0,
    )
    after = records_by_number(tenant)
    changed = [r for r in after.values() if r["data"].get("visits") == 99]
    assert len(changed) == 125 and all(r["data"]["level"] == "A" and "vip" not in r["data"] for r in changed)
    untouched = [n for n, r in after.items() if r["data"]["level"] == "B" and n not in ("M000001", "M000003")]
    assert len(untouched) == 123 and all(after[n]["data"] == before[n]["data"] for n in untouched)
    assert record_count(tenant) == 250

    events = sorted((e["detail"] for e in drain(queue)), key=lambda d: d["succeeded_amount"])
    assert [(e["job_name"], e["code"], e["succeeded_amount"], e["failed_amount"]) for e in events] == [
        ("batch_update", 200, 3, 1),
        ("batch_update", 200, 125, 0),
    ]
    assert {e["batch_code"] for e in events} == {by_ids["data"]["batch_code"], by_search["data"]["batch_code"]}


def test_batch_update_moves_unique_keys_but_not_the_key_field(tenant):
    """people: `code` is the key field (the records are keyed by it), `email` a further unique field
    with index items."""
    insert, _ = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"], ["P2", "b@x.io", "Bob"]])
    ids = {r["data"]["code"]: r["id"] for r in tenant.viewer.all_pages("/tables/people/records")}

    moved = run_job(
        tenant.editor,
        {"job_name": "batch_update", "table": "people", "ids": [ids["P1"]], "changes": {"email": "new@x.io"}},
    )
    assert (moved["code"], moved["data"]["succeeded_amount"]) == (200, 1)
    # The old value is free again, the new one is taken.
    create = tenant.editor.ok(
        "POST",
        "/tables/people/records/batch-create",
        json={"records": [{"code": "P3", "email": "a@x.io"}, {"code": "P4", "email": "new@x.io"}]},
    )
    assert create["success_count"] == 1 and [f["code"] for f in create["failures"]] == ["ALREADY_EXISTS"]

    clash = run_job(
        tenant.editor,
        {"job_name": "batch_update", "table": "people", "ids": [ids["P2"]], "changes": {"email": "new@x.io"}},
    )
    assert clash["code"] == 400 and clash["data"]["error"]["code"] == "ALL_RECORDS_FAILED"
    assert tenant.viewer.ok("GET", f"/tables/people/records/{ids['P2']}")["data"]["data"]["email"] == "b@x.io"

    # The key field's value is the record's key: a job changing it is refused (UNIQUE_KEY_FIXED), nothing moves.
    fixed = tenant.editor.post(
        "/jobs",
        json={
            "job_name": "batch_update",
            "table": "people",
            "ids": [ids["P2"]],
            "changes": {"code": "P9", "name": "x"},
        },
    )
    assert fixed.status_code == 422 and fixed.json()["error"]["code"] == "INVALID_CHANGES"
    assert fixed.json()["error"]["details"] == [{"field": "code", "code": "UNIQUE_KEY_FIXED"}]
    assert tenant.viewer.ok("GET", f"/tables/people/records/{ids['P2']}")["data"]["data"] == {
        "code": "P2",
        "email": "b@x.io",
        "name": "Bob",
    }
    assert tenant.viewer.ok("GET", "/tables/people/records?filter.code=P9")["data"] == []

    # A batch_delete gives the further unique field's key back: P1's email is free again, and so is its code.
    gone = run_job(tenant.editor, {"job_name": "batch_delete", "table": "people", "ids": [ids["P1"]]})
    assert (gone["code"], gone["data"]["succeeded_amount"]) == (200, 1)
    again = tenant.editor.ok(
        "POST", "/tables/people/records/batch-create", json={"records": [{"code": "P1", "email": "new@x.io"}]}
    )
    assert again["status"] == "success" and again["success_ids"] == [ids["P1"]]  # the value's id again


# ---------------------------------------------------------------- batch_delete


def test_batch_delete_releases_unique_keys_and_keeps_the_record_count(tenant, stack):
    seed(tenant, 250)
    deleted = run_job(
        tenant.editor,
        {"job_name": "batch_delete", "table": "contacts", "ids": "all", "search_options": {"level": "A"}, "total": 125},
    )
    assert (deleted["code"], deleted["data"]["succeeded_amount"], deleted["data"]["failed_amount"]) == (200, 125, 0)
    left = records_by_number(tenant)
    assert len(left) == 125 and all(r["data"]["level"] == "B" for r in left.values())
    assert len(stored_records(stack, tenant.id)) == 125
    assert record_count(tenant) == 125

    # The deleted records' keys are free: inserting the same membership numbers succeeds.
    again = tenant.editor.ok(
        "POST",
        "/tables/contacts/records/batch-create",
        json={"records": [{"membership_no": f"M{n:06d}", "name": "back"} for n in (2, 4, 6)]},
    )
    assert again["status"] == "success"
    assert record_count(tenant) == 128

    by_ids = run_job(
        tenant.editor, {"job_name": "batch_delete", "table": "contacts", "ids": [*again["success_ids"], "gone"]}
    )
    assert (by_ids["code"], by_ids["data"]["succeeded_amount"], by_ids["data"]["failed_amount"]) == (200, 3, 1)
    assert record_count(tenant) == 125 and len(tenant.viewer.all_pages("/tables/contacts/records")) == 125


# ---------------------------------------------------------------- totals and empty matches


def test_a_total_that_does_not_match_changes_nothing(tenant, stack):
    seed(tenant, 120)
    before = records_by_number(tenant)
    for job in (
        {"job_name": "batch_delete", "table": "contacts", "ids": "all", "search_options": {"level": "A"}, "total": 59},
        {"job_name": "batch_update", "table": "contacts", "ids": "all", "total": 121, "changes": {"visits": 1}},
        {"job_name": "export", "table": "contacts", "ids": "all", "total": 0},
    ):
        result = run_job(tenant.editor, job)
        assert result["code"] == 400, result
        assert result["data"]["error"]["code"] == "TOTAL_MISMATCH"
        assert (result["data"]["succeeded_amount"], result["data"]["url"]) == (0, None)
    message = tenant.viewer.get(f"/jobs/{result['data']['batch_code']}", headers={"Accept-Language": "zh-TW"}).json()
    assert "120" in message["data"]["error"]["message"] and "筆" in message["data"]["error"]["message"]
    assert len(stored_records(stack, tenant.id)) == 120 and record_count(tenant) == 120
    assert records_by_number(tenant) == before


def test_nothing_matched_is_204(tenant):
    seed(tenant, 5)
    nothing = run_job(
        tenant.editor,
        {
            "job_name": "batch_update",
            "table": "contacts",
            "ids": "all",
            "search_options": {"email": "nobody@example.com"},
            "total": 0,
            "changes": {"visits": 1},
        },
    )
    assert (nothing["code"], nothing["data"]["succeeded_amount"], nothing["data"]["failed_amount"]) == (204, 0, 0)
    unknown_ids = run_job(
        tenant.editor, {"job_name": "export", "table": "contacts", "ids": ["x", "y"], "format": "xlsx"}
    )
    assert (unknown_ids["code"], unknown_ids["data"]["failed_amount"], unknown_ids["data"]["url"]) == (204, 2, None)
    assert record_count(tenant) == 5


# ---------------------------------------------------------------- exports

PEOPLE = {
    "key": "people",
    "name": "人員",
    "fields": [
        {"key": "name", "label": "姓名", "type": "string", "required": True},
        {"key": "level", "label": "等級", "type": "enum", "options": ["A", "B"]},
        {"key": "score", "label": "分數", "type": "number"},
        {"key": "note", "label": "備註", "type": "string"},
        {"key": "items", "type": "subtable", "fields": [{"key": "sku", "type": "string"}]},
    ],
}

# (A leading tab or CR never reaches a record: every way in trims values. tests/unit/test_exports.py
# checks that the export would neutralise them too.)
DANGEROUS = ["=1+1", "+886912345678", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")']


def download(result: dict) -> requests.Response:
    response = requests.get(result["data"]["url"], timeout=60)
    assert response.status_code == 200
    return response


def test_csv_export_opens_in_excel_and_runs_no_formula(tenant):
    tenant.admin.create_table(PEOPLE)
    records = [{"name": "王小明", "level": "A", "score": -5, "note": "中文備註，含逗號", "items": [{"sku": "甲-1"}]}]
    records += [{"name": f"客戶{n}", "level": "B", "note": text} for n, text in enumerate(DANGEROUS)]
    created = tenant.editor.ok("POST", "/tables/people/records/batch-create", json={"records": records})
    assert created["status"] == "success"

    result = run_job(tenant.editor, {"job_name": "export", "table": "people", "ids": "all", "total": len(records)})
    assert result["code"] == 200 and result["data"]["succeeded_amount"] == len(records)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert result["data"]["file_name"] == f"people-export-{today}.csv"
    assert result["data"]["url_expires_at"] > datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = parse_qs(urlparse(result["data"]["url"]).query)
    assert "Expires" in query or "X-Amz-Expires" in query  # presigned: it stops working

    response = download(result)
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert result["data"]["file_name"] in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["_id", "姓名", "等級", "分數", "備註", "items"]
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["王小明"][2:] == ["A", "-5", "中文備註，含逗號", '[{"sku": "甲-1"}]']
    assert [by_name[f"客戶{n}"][4] for n in range(len(DANGEROUS))] == ["'" + text for text in DANGEROUS]
    assert sorted(row[0] for row in rows[1:]) == sorted(created["success_ids"])


def test_xlsx_export_by_ids_neutralises_formulas(tenant):
    tenant.admin.create_table(PEOPLE)
    records = [{"name": f"客戶{n}", "score": n + 0.5, "note": text} for n, text in enumerate(DANGEROUS)]
    ids = tenant.editor.ok("POST", "/tables/people/records/batch-create", json={"records": records})["success_ids"]
    result = run_job(
        tenant.editor, {"job_name": "export", "table": "people", "ids": list(reversed(ids)), "format": "xlsx"}
    )
    assert result["code"] == 200 and result["data"]["file_name"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download(result).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("_id", "姓名", "等級", "分數", "備註", "items")
    assert [row[0] for row in rows[1:]] == list(reversed(ids))  # in the order asked for
    cells = {row[1]: row for row in rows[1:]}
    assert [cells[f"客戶{n}"][4] for n in range(len(DANGEROUS))] == ["'" + text for text in DANGEROUS]
    assert cells["客戶1"][3] == 1.5  # numbers stay numbers
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere


# On the local stack every record read costs milliseconds of moto's response serialisation, so the
# suite exports 5,000 records (50 pages of the import's and the export's reads); EXPORT_TEST_ROWS=50000
# runs the same test at 50,000 records (bench/README.md has its measured times).
EXPORT_ROWS = int(os.environ.get("EXPORT_TEST_ROWS", "5000"))


def test_a_large_export_reads_back_with_openpyxl(tenant):
    tenant.admin.create_table(PEOPLE)
    recipe = tenant.admin.create_recipe(
        {
            "name": "人員匯入",
            "table": "people",
            "columns": [
                {"source": "姓名", "target": "name"},
                {"source": "等級", "target": "level"},
                {"source": "分數", "target": "score"},
                {"source": "備註", "target": "note"},
            ],
        }
    )
    rows = [
        ["姓名", "等級", "分數", "備註"],
        *([f"客戶{n}", "AB"[n % 2], str(n), "=1+1" if n % 1000 == 0 else "ok"] for n in range(EXPORT_ROWS)),
    ]
    seeded = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes(rows))["id"], timeout=600)
    assert seeded["success_count"] == EXPORT_ROWS

    result = run_job(
        tenant.editor,
        {"job_name": "export", "table": "people", "ids": "all", "total": EXPORT_ROWS, "format": "xlsx"},
        timeout=900,
    )
    assert (result["code"], result["data"]["succeeded_amount"]) == (200, EXPORT_ROWS)
    book = openpyxl.load_workbook(io.BytesIO(download(result).content), read_only=True)
    read = list(book.active.iter_rows(values_only=True))
    assert read[0] == ("_id", "姓名", "等級", "分數", "備註", "items")
    assert len(read) == EXPORT_ROWS + 1
    assert sorted(int(row[3]) for row in read[1:]) == list(range(EXPORT_ROWS))
    assert sum(1 for row in read[1:] if row[4] == "'=1+1") == EXPORT_ROWS // 1000
    assert all(row[1] == f"客戶{int(row[3])}" for row in read[1:])


# ---------------------------------------------------------------- exactly once


@pytest.mark.parametrize(
    ("job_name", "operation", "after"),
    [
        # Two pages' workers die after acting on 2 of their 4 slices of 25 records; the Retry runs them again.
        ("batch_update", "dynamodb.BatchGetItem", 2),
        # Every record of the page is updated, then the worker dies before it counts them.
        ("batch_update", "dynamodb.UpdateItem", 0),
        ("batch_delete", "dynamodb.BatchGetItem", 2),
    ],
    ids=["update_mid_page", "update_before_counting", "delete_mid_page"],
)
def test_a_killed_worker_is_retried_with_exact_counts(tenant, stack, faults, job_name, operation, after):
    seed(tenant, 300)  # 3 pages of 100: two of them crash once
    since = len(stack.runtime.invocations)
    faults.crash(
        "ProcessPageFunction", operation, after=after, times=2, when=lambda event: event["tenant"] == tenant.id
    )
    job = {"job_name": job_name, "table": "contacts", "ids": "all", "total": 300}
    if job_name == "batch_update":
        job["changes"] = {"visits": 42}
    result = run_job(tenant.editor, job)
    crashed = sum(
        1 for i in stack.runtime.invocations[since:] if i.function == "ProcessPageFunction" and i.outcome == "crashed"
    )
    assert crashed == 2
    assert (result["code"], result["data"]["succeeded_amount"], result["data"]["failed_amount"]) == (200, 300, 0)
    if job_name == "batch_update":
        records = records_by_number(tenant)
        assert len(records) == 300 and all(r["data"]["visits"] == 42 for r in records.values())
        assert record_count(tenant) == 300
    else:
        assert stored_records(stack, tenant.id) == [] and record_count(tenant) == 0
        # No index item: membership_no keys the records, so a deleted record takes its key with it.
        assert unique_key_items(stack, tenant.id) == 0
        assert (
            tenant.editor.ok(
                "POST",
                "/tables/contacts/records/batch-create",
                json={"records": [{"membership_no": "M000001", "name": "free"}]},
            )["status"]
            == "success"
        )


def test_a_page_run_twice_at_the_same_time_is_counted_once(tenant, stack, faults):
    """Both runs of page 1 pass the early "counted already?" check; only the count's condition keeps
    the second count out (a batch_delete: counted twice, it would also take 100 more off record_count)."""
    seed(tenant, 300)  # 3 pages of 100
    # Page 1's first run deletes its records (on a pool of threads), then stops just before its
    # one UpdateItem in the handler's thread: the count.
    with faults.hold(
        "ProcessPageFunction",
        "dynamodb.UpdateItem",
        when=lambda event: event["tenant"] == tenant.id and event["page"]["index"] == 1,
    ) as gate:
        batch_code = tenant.editor.start_job(
            {"job_name": "batch_delete", "table": "contacts", "ids": "all", "total": 300}
        )
        event = gate.wait()
        assert 1 not in jobs_store.load(tenant.id, batch_code).counted_pages

        # The same invocation again, while the first waits: it finds the page uncounted, its records
        # gone (deleted by the first run: counted as deleted), and counts the page.
        assert invoke_again(stack, "ProcessPageFunction", event) == {"index": 1, "succeeded": 100, "failed": 0}
        assert 1 in jobs_store.load(tenant.id, batch_code).counted_pages

        gate.release()  # the first run goes on to count the page a second time: refused
        result = tenant.editor.wait_job(batch_code)
    assert (result["code"], result["data"]["succeeded_amount"], result["data"]["failed_amount"]) == (200, 300, 0)
    assert jobs_store.load(tenant.id, batch_code).processed_amount == 300
    assert stored_records(stack, tenant.id) == [] and record_count(tenant) == 0


def unique_key_items(stack, tenant_id: str) -> int:
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=stack.resource_name("RecordsTable"))
    return sum(
        1 for page in pages for i in page["Items"] if i["pk"]["S"].startswith(f"{tenant_id}#") and i["sk"]["S"] == "U"
    )


# ---------------------------------------------------------------- one run per table


def job_state(tenant, batch_code: str) -> dict:
    return tenant.viewer.ok("GET", f"/jobs/{batch_code}")


def test_a_job_waits_for_an_import_of_its_table(tenant, stack, faults):
    recipe = seed(tenant, 100)
    gate, running = threading.Event(), {}
    faults.delay(
        "ProcessChunkFunction", 0.01, when=lambda event: event["run_id"] == running.get("id") and gate.wait(60)
    )
    try:
        running.update(
            tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in range(101, 301)]]))
        )
        wait_for(
            lambda: tenant.viewer.ok("GET", f"/imports/{running['id']}")["data"]["status"] == "importing",
            what="the import to run",
        )
        # The total counts the import's records too: the job starts only once the import has ended.
        batch_code = tenant.editor.start_job(
            {"job_name": "batch_update", "table": "contacts", "ids": "all", "total": 300, "changes": {"visits": 5}}
        )
        time.sleep(1.5)  # more than one poll of the table
        assert job_state(tenant, batch_code) == {
            "batch_code": batch_code,
            "status": "queued",
            "process": 0,
            "success": False,
        }
    finally:
        gate.set()
        faults.delay("ProcessChunkFunction", 0)
    imported = tenant.viewer.wait(running["id"])
    result = tenant.viewer.wait_job(batch_code)
    assert (result["code"], result["data"]["succeeded_amount"]) == (200, 300)
    assert imported["executed_end_at"] <= result["data"]["started_at"]


def test_an_import_waits_for_a_job_of_its_table(tenant, stack, faults):
    recipe = seed(tenant, 200)
    gate, job = threading.Event(), {}
    faults.delay("ProcessPageFunction", 0.01, when=lambda event: event["run_id"] == job.get("id") and gate.wait(60))
    try:
        job["id"] = tenant.editor.start_job(
            {"job_name": "batch_delete", "table": "contacts", "ids": "all", "total": 200}
        )
        wait_for(lambda: job_state(tenant, job["id"]).get("status") == "running", what="the job to run")
        waiting = tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in range(1, 51)]]))
        wait_for(
            lambda: tenant.viewer.ok("GET", f"/imports/{waiting['id']}")["data"]["status"] == "queued",
            what="the import to wait",
        )
    finally:
        gate.set()
        faults.delay("ProcessPageFunction", 0)
    deleted = tenant.viewer.wait_job(job["id"])
    imported = tenant.viewer.wait(waiting["id"])
    # The import ran after the delete: its 50 rows (numbers the delete freed) are all new.
    assert (deleted["code"], deleted["data"]["succeeded_amount"]) == (200, 200)
    assert (imported["status"], imported["success_count"]) == ("completed", 50)
    assert deleted["data"]["finished_at"] <= imported["executed_start_at"]
    assert record_count(tenant) == 50


def test_a_job_whose_execution_died_is_settled_by_the_sweeper(tenant, stack, faults):
    seed(tenant, 200)
    gate, job = threading.Event(), {}
    faults.delay("ProcessPageFunction", 0.01, when=lambda event: event["run_id"] == job.get("id") and gate.wait(30))
    try:
        job["id"] = tenant.editor.start_job(
            {"job_name": "batch_update", "table": "contacts", "ids": "all", "total": 200, "changes": {"visits": 3}}
        )
        wait_for(lambda: job_state(tenant, job["id"]).get("status") == "running", what="the job to run")
        arn = execution_arn(stack, "JobsStateMachine", "job", tenant.id, job["id"])
        boto3.client("stepfunctions").stop_execution(executionArn=arn, error="Aborted", cause="test")
        wait_for(
            lambda: boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"] != "RUNNING",
            what="the execution to stop",
        )
    finally:
        gate.set()
        faults.delay("ProcessPageFunction", 0)
    assert invoke(stack, "SweepRunsFunction", {})["settled"].count(f"job:{job['id']}") == 1
    dead = job_state(tenant, job["id"])
    assert dead["code"] == 500 and dead["data"]["error"]["code"] == "JOB_INTERRUPTED"
    # Its table is not held by the dead run: the next job runs.
    after = run_job(
        tenant.editor,
        {"job_name": "batch_update", "table": "contacts", "ids": "all", "total": 200, "changes": {"visits": 4}},
    )
    assert (after["code"], after["data"]["succeeded_amount"]) == (200, 200)


# ---------------------------------------------------------------- requests, roles, tenancy


def test_job_requests_are_checked_and_roles_and_tenants_respected(tenant, other_tenant):
    seed(tenant, 3)
    update = {"job_name": "batch_update", "table": "contacts", "ids": "all", "total": 3, "changes": {"level": "B"}}
    assert tenant.viewer.post("/jobs", json=update).json()["error"]["code"] == "FORBIDDEN"
    assert tenant.viewer.post("/jobs", json=update).status_code == 403
    for bad, status, code in (
        ({"total": None}, 422, "VALIDATION_ERROR"),  # "all" needs a total
        ({"changes": None}, 422, "VALIDATION_ERROR"),
        ({"job_name": "merge"}, 422, "VALIDATION_ERROR"),
        ({"ids": []}, 422, "VALIDATION_ERROR"),
        ({"search_options": {"colour": "red"}}, 422, "INVALID_FILTER"),
        ({"search_options": {"visits": "many"}}, 422, "INVALID_FILTER"),
        ({"changes": {"level": "Z"}}, 422, "INVALID_CHANGES"),
        ({"changes": {"name": None}}, 422, "INVALID_CHANGES"),  # a required field cannot be cleared
        ({"changes": {"nope": 1}}, 422, "INVALID_CHANGES"),
        ({"table": "nope"}, 404, "TABLE_NOT_FOUND"),
    ):
        response = tenant.editor.post("/jobs", json={k: v for k, v in {**update, **bad}.items() if v is not None})
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (bad, response.text)

    batch_code = tenant.editor.start_job(update)
    assert tenant.viewer.wait_job(batch_code)["code"] == 200  # viewers may read jobs
    stranger = other_tenant.admin.get(f"/jobs/{batch_code}")
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "JOB_NOT_FOUND")
    assert other_tenant.admin.post("/jobs", json=update).status_code == 404  # their tenant has no such table
    assert tenant.viewer.get("/jobs/01NOSUCHJOB").status_code == 404
    assert re.fullmatch(r"[0-9A-Z]{26}", batch_code)
