"""Imports end to end: HTTP -> S3 -> EventBridge -> the real state machine -> DynamoDB."""

import json
import time

import boto3
import requests

from tests.conftest import TEST_CHUNK_ROWS
from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts


def test_multipart_import_writes_good_rows_and_reports_every_bad_one(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 351)]  # 4 chunks of TEST_CHUNK_ROWS
    rows[0][2] = "not-an-email"  # row 1
    rows[99][3] = "C"  # row 100: the last row of chunk 0
    rows[100][0] = ""  # row 101: the first row of chunk 1
    rows[100][4] = "abc"
    rows[349][6] = "2026-02-30"  # row 350: the very last row
    imported = tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]), "contacts.csv")
    # The file came in the request: the import is started, not waiting for an upload.
    assert imported["status"] in ("queued", "parsing", "importing", "completed_with_errors"), imported["status"]
    assert imported["file"]["name"] == "contacts.csv" and imported["file"]["size"] > 0

    done = tenant.viewer.wait(imported["id"])
    assert done["status"] == "completed_with_errors"
    assert (done["total_count"], done["processed_count"], done["success_count"], done["fail_count"]) == (
        350,
        350,
        346,
        4,
    )
    assert done["progress"] == 100 and done["error"] is None
    assert done["executed_start_at"] and done["executed_end_at"]
    assert done["file"]["size"] > 0 and len(done["file"]["sha256"]) == 64
    assert done["recipe"]["id"] == recipe["id"]

    failures = tenant.viewer.all_pages(f"/imports/{imported['id']}/failures")
    assert [(f["row"], f["source_line"], f["field"], f["code"], f["value"]) for f in failures] == [
        (1, 2, "email", "INVALID_EMAIL", "not-an-email"),
        (100, 101, "level", "NOT_IN_OPTIONS", "C"),
        (101, 102, "membership_no", "REQUIRED", ""),
        (101, 102, "ct_value", "INVALID_NUMBER", "abc"),
        (350, 351, "visit_date", "INVALID_DATE", "2026-02-30"),
    ]
    assert failures[0]["message"] == "email must be an email address, got 'not-an-email'."

    records = tenant.viewer.all_pages("/tables/contacts/records")
    assert len(records) == 346
    assert len({r["id"] for r in records}) == 346
    by_no = {r["data"]["membership_no"]: r for r in records}
    assert "M000001" not in by_no and "M000100" not in by_no
    second = by_no["M000002"]["data"]
    assert second == {
        "membership_no": "M000002",
        "name": "客戶2",
        "email": "c2@example.com",
        "level": "A",
        "ct_value": 2.5,
        "visits": 2,
        "visit_date": "2026-11-22",
        "vip": True,
    }
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 346
    one = tenant.viewer.ok("GET", f"/tables/contacts/records/{by_no['M000002']['id']}")["data"]
    assert one["data"] == second and one["import_id"] == imported["id"]
    assert tenant.viewer.ok("GET", f"/recipes/{recipe['id']}")["data"]["tasks_count"] == 1


def test_records_filter_by_field(tenant):
    recipe = setup_contacts(tenant.admin)
    tenant.editor.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in range(1, 41)]]))["id"]
    )
    level_a = tenant.viewer.all_pages("/tables/contacts/records?filter.level=A")
    assert len(level_a) == 20 and {r["data"]["level"] for r in level_a} == {"A"}
    visits = tenant.viewer.all_pages("/tables/contacts/records?filter.visits=3")
    assert sorted(r["data"]["membership_no"] for r in visits) == [
        "M000003",
        "M000010",
        "M000017",
        "M000024",
        "M000031",
        "M000038",
    ]
    bad = tenant.viewer.get("/tables/contacts/records?filter.visits=three")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "INVALID_FILTER"


def test_presigned_post_upload_starts_the_import(tenant):
    recipe = setup_contacts(tenant.admin)
    created = tenant.editor.ok(
        "POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": "big.csv", "description": "nightly"}
    )["data"]
    upload = created["upload"]
    assert upload["method"] == "POST" and upload["max_bytes"] == 104857600 and upload["expires_at"].endswith("Z")
    assert created["status"] == "waiting_upload"
    content = csv_bytes([HEADER, *[good_row(n) for n in range(1, 251)]])
    response = requests.post(upload["url"], data=upload["fields"], files={"file": ("big.csv", content)}, timeout=30)
    assert response.status_code in (200, 201, 204), response.text
    done = tenant.viewer.wait(created["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 250, 0)
    assert done["file"] == {"name": "big.csv", "size": len(content), "sha256": done["file"]["sha256"]}
    assert done["description"] == "nightly"


def test_transaction_id_returns_the_existing_import(tenant):
    recipe = setup_contacts(tenant.admin)
    body = {"recipe_id": recipe["id"], "transaction_id": "87cd7d71-c6df-4281-9927-469094395677"}
    first = tenant.editor.ok("POST", "/imports", 201, json=body)["data"]
    again = tenant.editor.ok("POST", "/imports", 200, json=body)["data"]
    assert again["id"] == first["id"]
    assert tenant.viewer.ok("GET", "/imports")["meta"]["total"] == 1


def test_too_large_for_direct_upload_names_the_upload_flow(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    from bulkimport.config import Uploads, section

    content = b"x" * (section(Uploads).direct_upload_max_bytes + 1)
    response = tenant.editor.post("/imports", data={"recipe_id": recipe["id"]}, files={"file": ("big.csv", content)})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE" and "upload URL" in error["message"]
    assert tenant.viewer.ok("GET", "/imports")["meta"]["total"] == 0


def test_multipart_without_file_and_unsupported_type(tenant):
    recipe = setup_contacts(tenant.admin)
    no_file = tenant.editor.post("/imports", files={"recipe_id": (None, recipe["id"])})
    assert no_file.status_code == 422 and no_file.json()["error"]["code"] == "FILE_REQUIRED"
    xml = tenant.editor.post("/imports", data="<x/>", headers={"Content-Type": "application/xml"})
    assert xml.status_code == 415
    unknown = tenant.editor.post("/imports", json={"recipe_id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "RECIPE_NOT_FOUND"


def test_missing_columns_fail_the_import_naming_every_one_and_write_nothing(tenant):
    recipe = setup_contacts(tenant.admin)
    header = [h for h in HEADER if h not in ("Email", "VIP")]
    rows = [[c for i, c in enumerate(good_row(n)) if i not in (2, 7)] for n in range(1, 5)]
    imported = tenant.editor.import_file(recipe["id"], csv_bytes([header, *rows]))
    done = tenant.viewer.wait(imported["id"])
    assert done["status"] == "failed"
    assert done["error"] == {
        "code": "MISSING_COLUMN",
        "message": "The file lacks 2 column(s) the recipe maps: 'Email', 'VIP'; fix the header or the recipe.",
    }
    assert done["success_count"] == 0 and done["processed_count"] == 0
    assert tenant.viewer.ok("GET", "/tables/contacts/records")["data"] == []
    zh = tenant.viewer.ok("GET", f"/imports/{imported['id']}", headers={"Accept-Language": "zh-TW"})["data"]
    assert zh["error"]["message"] == "檔案缺少匯入範本對應的 2 個欄位：'Email', 'VIP'，請修正標題列或範本。"


def test_headers_match_sources_ignoring_case_spaces_and_width(tenant):
    """People retype headers: " email ", "EMAIL" and full-width "EMAIL" are the recipe's "Email"."""
    recipe = setup_contacts(tenant.admin)
    for n, email_header in enumerate(
        (" email ", "EMAIL", "\uff25\uff2d\uff21\uff29\uff2c", "\uff25\uff4d\uff41\uff49\uff4c "), start=1
    ):
        header = [email_header if h == "Email" else h for h in HEADER]
        done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes([header, good_row(n)]))["id"])
        assert (done["status"], done["success_count"]) == ("completed", 1), (email_header, done)
    emails = sorted(r["data"]["email"] for r in tenant.viewer.ok("GET", "/tables/contacts/records")["data"])
    assert emails == sorted(good_row(n)[2] for n in range(1, 5))


def test_header_only_and_empty_files_fail_clearly(tenant):
    recipe = setup_contacts(tenant.admin)
    header_only = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER]))["id"])
    assert (header_only["status"], header_only["error"]["code"]) == ("failed", "NO_DATA_ROWS")


def test_column_index_mapping_without_header(tenant):
    tenant.admin.create_table(
        {"key": "pairs", "fields": [{"key": "a", "type": "integer", "required": True}, {"key": "b"}]}
    )
    recipe = tenant.admin.create_recipe(
        {
            "name": "by index",
            "table": "pairs",
            "columns": [{"source": 1, "target": "a"}, {"source": 0, "target": "b"}],
            "options": {"has_header": False},
        }
    )
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], b"x,1\ny,2\nz,three\n")["id"])
    assert (done["status"], done["total_count"], done["success_count"], done["fail_count"]) == (
        "completed_with_errors",
        3,
        2,
        1,
    )
    (failure,) = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert (failure["row"], failure["source_line"], failure["code"]) == (3, 3, "INVALID_INTEGER")
    assert sorted((r["data"]["a"], r["data"]["b"]) for r in tenant.viewer.all_pages("/tables/pairs/records")) == [
        (1, "x"),
        (2, "y"),
    ]


def test_failures_paginate_and_speak_chinese(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 2 * TEST_CHUNK_ROWS + 11)]
    for n in range(0, len(rows), 10):
        rows[n][3] = "Z"
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])
    assert done["fail_count"] == 21
    page = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures?per_page=8", headers={"Accept-Language": "zh-TW"})
    assert page["meta"]["total"] == 21 and len(page["data"]) == 8
    assert page["data"][0]["message"] == "level 必須是 A, B 其中之一，收到「Z」。"
    everything = tenant.viewer.all_pages(f"/imports/{done['id']}/failures", per_page=8)
    assert [f["row"] for f in everything] == list(range(1, len(rows) + 1, 10))


def test_import_lists_filter_by_status_and_recipe(tenant):
    recipe = setup_contacts(tenant.admin)
    good = tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1)]))
    bad = tenant.editor.import_file(recipe["id"], csv_bytes([["nope"], ["1"]]))
    tenant.viewer.wait(good["id"]), tenant.viewer.wait(bad["id"])
    listed = tenant.viewer.ok("GET", "/imports")
    assert [i["id"] for i in listed["data"]] == [bad["id"], good["id"]]  # newest first
    failed = tenant.viewer.ok("GET", "/imports?status=failed")
    assert [i["id"] for i in failed["data"]] == [bad["id"]] and failed["meta"]["total"] == 1
    assert tenant.viewer.ok("GET", f"/imports?recipe_id={recipe['id']}")["meta"]["total"] == 2


def test_completion_events_reach_the_bus(tenant, stack):
    bus = stack.resource_name("EventBus")
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = sqs.create_queue(QueueName=f"events-{tenant.id}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["bulkimport"], "detail": {"tenant": [tenant.id]}}
    events.put_rule(Name=f"watch-{tenant.id}", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"watch-{tenant.id}", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    recipe = setup_contacts(tenant.admin)
    ok = tenant.viewer.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), good_row(2)]))["id"]
    )
    failed = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER]))["id"])

    received = []
    for _ in range(10):
        received += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        time.sleep(0.2)
        if len(received) >= 2:
            break
    bodies = sorted((json.loads(m["Body"]) for m in received), key=lambda e: e["detail-type"])
    assert [(b["detail-type"], b["detail"]["import_id"]) for b in bodies] == [
        ("Import Completed", ok["id"]),
        ("Import Failed", failed["id"]),
    ]
    assert bodies[0]["detail"]["success_count"] == 2 and bodies[1]["detail"]["error"] == "NO_DATA_ROWS"
