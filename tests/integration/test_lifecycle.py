"""An import's life on the local stack: imports of one table run one at a time, cancel, restart where
it stopped, a dead execution found and settled, scheduled imports and recurring schedules fired."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3

from tests.helpers import csv_bytes, execution_arn
from tests.integration.test_exactly_once import stored_records
from tests.samples import HEADER, good_row, setup_contacts


def rows_csv(first: int, count: int) -> bytes:
    return csv_bytes([HEADER, *[good_row(n) for n in range(first, first + count)]])


def wait_for(predicate, timeout: float = 60, poll: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)


def execution_status(tenant, import_item: dict, stack) -> str:
    arn = execution_arn(stack, "ImportStateMachine", "import", tenant.id, import_item["id"], import_item["job_turns"])
    return boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"]


def invoke(stack, logical_id: str, event: dict) -> dict:
    response = boto3.client("lambda").invoke(
        FunctionName=stack.resource_name(logical_id), Payload=json.dumps(event).encode()
    )
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def process_chunk_runs(stack, since: int) -> int:
    return sum(
        1 for i in stack.runtime.invocations[since:] if i.function == "ProcessChunkFunction" and i.outcome == "ok"
    )


# ---------------------------------------------------------------- one at a time per table


def test_imports_of_one_table_run_one_at_a_time_in_start_order(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    # The first import's chunk workers are held until the two after it have been seen waiting.
    gate, first = threading.Event(), {}
    faults.delay("ProcessChunkFunction", 0.01, when=lambda event: event["run_id"] == first.get("id") and gate.wait(60))
    try:
        first.update(tenant.editor.import_file(recipe["id"], rows_csv(1, 300)))
        wait_for(
            lambda: tenant.viewer.ok("GET", f"/imports/{first['id']}")["data"]["status"] == "importing",
            what="the first import to start",
        )
        second = tenant.editor.import_file(recipe["id"], rows_csv(2001, 200))
        third = tenant.editor.import_file(recipe["id"], rows_csv(3001, 200))
        for waiting in (second, third):
            wait_for(
                lambda waiting=waiting: (
                    tenant.viewer.ok("GET", f"/imports/{waiting['id']}")["data"]["status"] == "queued"
                ),
                what="the later imports to wait",
            )
    finally:
        gate.set()
        faults.delay("ProcessChunkFunction", 0)
    done = [tenant.viewer.wait(i) for i in (first["id"], second["id"], third["id"])]
    assert [d["status"] for d in done] == ["completed"] * 3
    assert [d["success_count"] for d in done] == [300, 200, 200]
    # Each started only after the one before it had ended.
    assert done[0]["executed_end_at"] <= done[1]["executed_start_at"]
    assert done[1]["executed_end_at"] <= done[2]["executed_start_at"]
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 700


def test_other_tables_do_not_wait(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    tenant.admin.create_table({"key": "notes", "fields": [{"key": "text", "type": "string"}]})
    notes = tenant.admin.create_recipe(
        {"name": "notes", "table": "notes", "columns": [{"source": "text", "target": "text"}]}
    )
    # The contacts import's chunk workers are held until the notes import has finished.
    gate, big = threading.Event(), {}
    faults.delay("ProcessChunkFunction", 0.01, when=lambda event: event["run_id"] == big.get("id") and gate.wait(60))
    try:
        big.update(tenant.editor.import_file(recipe["id"], rows_csv(1, 200)))
        wait_for(
            lambda: tenant.viewer.ok("GET", f"/imports/{big['id']}")["data"]["status"] == "importing",
            what="a running import",
        )
        other = tenant.viewer.wait(tenant.editor.import_file(notes["id"], b"text\nhello\n")["id"])
        assert tenant.viewer.ok("GET", f"/imports/{big['id']}")["data"]["status"] == "importing"  # did not wait for it
    finally:
        gate.set()
        faults.delay("ProcessChunkFunction", 0)
    assert other["status"] == tenant.viewer.wait(big["id"])["status"] == "completed"


# ---------------------------------------------------------------- cancel and restart


def test_an_atomic_import_that_died_in_its_check_pass_restarts_and_writes_every_row(tenant, stack, faults):
    """A restarted atomic import checks only the chunks its check pass had not counted, and then
    writes the whole file, not just those chunks."""
    recipe = setup_contacts(tenant.admin)
    # Chunk 3's check dies every time (the first try and the Map's three retries): the import fails.
    faults.crash(
        "ProcessChunkFunction",
        "s3.GetObject",
        times=4,
        when=lambda event: event["tenant"] == tenant.id and event["pass"] == "check" and event["chunk"]["index"] == 3,
    )
    try:
        created = tenant.editor.import_file(recipe["id"], rows_csv(1, 600), atomic=True)
        failed = tenant.viewer.wait(created["id"])
    finally:
        faults.crash("ProcessChunkFunction", "s3.GetObject", times=0)
    assert failed["status"] == "failed"
    assert stored_records(stack, tenant.id) == []  # an atomic import writes nothing before its check passed

    tenant.editor.ok("POST", f"/imports/{created['id']}/restart")
    done = tenant.viewer.wait(created["id"])
    assert (done["status"], done["processed_count"], done["success_count"], done["fail_count"]) == (
        "completed",
        600,
        600,
        0,
    )
    assert len(stored_records(stack, tenant.id)) == 600
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 600


def test_cancel_mid_import_then_restart_finishes_exactly(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    # Chunks after the first two are slow, so the import is surely mid-way when it is cancelled.
    faults.delay(
        "ProcessChunkFunction", 2, when=lambda event: event["tenant"] == tenant.id and event["chunk"]["index"] >= 2
    )
    try:
        created = tenant.editor.import_file(recipe["id"], rows_csv(1, 1200))
        wait_for(
            lambda: tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["processed_count"] >= 200,
            what="some chunks to be counted",
        )
        not_yet = tenant.viewer.get(f"/imports/{created['id']}/failures.csv")
        assert (not_yet.status_code, not_yet.json()["error"]["code"]) == (409, "IMPORT_NOT_FINISHED")
        assert tenant.viewer.post(f"/imports/{created['id']}/cancel").status_code == 403  # viewers cannot
        cancelled = tenant.editor.ok("POST", f"/imports/{created['id']}/cancel")["data"]
    finally:
        faults.delay("ProcessChunkFunction", 0)
    assert cancelled["status"] == "cancelled" and cancelled["executed_end_at"]

    # The chunks under way finish and are counted; then the execution settles the import.
    wait_for(lambda: execution_status(tenant, cancelled, stack) != "RUNNING", timeout=60, what="the execution to end")
    stopped = tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]
    assert stopped["status"] == "cancelled"
    assert 200 <= stopped["success_count"] < 1200
    assert len(stored_records(stack, tenant.id)) == stopped["success_count"]  # what it says it wrote
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == stopped["success_count"]
    assert tenant.editor.post(f"/imports/{created['id']}/cancel").json()["error"]["code"] == "IMPORT_FINISHED"

    since = len(stack.runtime.invocations)
    restarted = tenant.editor.ok("POST", f"/imports/{created['id']}/restart")["data"]
    assert restarted["status"] == "queued" and restarted["job_turns"] == 2 and restarted["restart_at"]
    assert restarted["error"] is None and restarted["executed_end_at"] is None
    done = tenant.viewer.wait(created["id"])
    assert (
        done["status"],
        done["total_count"],
        done["processed_count"],
        done["success_count"],
        done["fail_count"],
    ) == ("completed", 1200, 1200, 1200, 0)
    assert done["current_row_index"] == 1200 and done["progress"] == 100
    # Only the chunks never counted ran again.
    assert process_chunk_runs(stack, since) == (1200 - stopped["processed_count"]) // 100
    items = stored_records(stack, tenant.id)
    assert sorted(i["data"]["M"]["membership_no"]["S"] for i in items) == [f"M{n:06d}" for n in range(1, 1201)]
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 1200
    assert tenant.editor.post(f"/imports/{created['id']}/restart").json()["error"]["code"] == "IMPORT_NOT_RESTARTABLE"


def test_restart_after_an_injected_crash_counts_every_row_once(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    # Chunk 3's worker dies after its first 25 records every time it runs: the import fails.
    faults.crash(
        "ProcessChunkFunction",
        "dynamodb.PutItem",
        after=25,
        times=50,
        when=lambda event: event["chunk"]["index"] == 3,
        pool=True,
    )
    try:
        failed = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], rows_csv(1, 500))["id"], timeout=180)
    finally:
        faults.crash("ProcessChunkFunction", "dynamodb.PutItem", after=0, times=0)
    assert failed["status"] == "failed" and failed["error"]["code"] == "INTERNAL_ERROR"
    assert failed["processed_count"] < 500
    wait_for(lambda: execution_status(tenant, failed, stack) != "RUNNING", what="the failed execution to end")

    since = len(stack.runtime.invocations)
    tenant.editor.ok("POST", f"/imports/{failed['id']}/restart")
    done = tenant.viewer.wait(failed["id"])
    assert (done["status"], done["processed_count"], done["success_count"], done["fail_count"], done["job_turns"]) == (
        "completed",
        500,
        500,
        0,
        2,
    )
    assert process_chunk_runs(stack, since) == (500 - failed["processed_count"]) // 100
    assert len(stored_records(stack, tenant.id)) == 500
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 500


def test_a_dead_execution_is_detected_and_the_import_can_be_restarted(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    # Chunks after the third start 2 s late, so the import is still under way when its execution dies
    # (all 10 chunks run at once: without the delay it can end before the stop).
    faults.delay(
        "ProcessChunkFunction", 2, when=lambda event: event["tenant"] == tenant.id and event["chunk"]["index"] >= 3
    )
    try:
        created = tenant.editor.import_file(recipe["id"], rows_csv(1, 1000))
        running = wait_for(
            lambda: (i := tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"])["processed_count"] >= 200 and i,
            what="the import to be under way",
        )
        # The execution dies without its Finalize (an operator aborts it; on AWS also a timeout).
        arn = execution_arn(stack, "ImportStateMachine", "import", tenant.id, created["id"])
        boto3.client("stepfunctions").stop_execution(executionArn=arn, error="Aborted", cause="test")
        wait_for(lambda: execution_status(tenant, running, stack) != "RUNNING", what="the execution to stop")
    finally:
        faults.delay("ProcessChunkFunction", 0)
    time.sleep(2.5)  # chunks under way finish
    assert tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["status"] == "importing"  # stuck

    # Another import of the table is not blocked by the dead one.
    other = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], rows_csv(5001, 100))["id"])
    assert other["status"] == "completed"

    # The sweeper (every 5 minutes on its schedule) settles it.
    settled = invoke(stack, "SweepRunsFunction", {})
    assert f"import:{created['id']}" in settled["settled"]
    failed = tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "INTERRUPTED"
    assert "restart" in failed["error"]["message"]
    assert invoke(stack, "SweepRunsFunction", {})["settled"] == []  # once

    tenant.editor.ok("POST", f"/imports/{created['id']}/restart")
    done = tenant.viewer.wait(created["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 1000, 0)
    assert len(stored_records(stack, tenant.id)) == 1100
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 1100


# ---------------------------------------------------------------- schedules


def upload(ticket: dict, content: bytes) -> None:
    import requests

    response = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("data.csv", content)}, timeout=30)
    assert response.status_code in (200, 204), response.text


def test_a_scheduled_import_runs_at_its_time(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    created = tenant.editor.ok(
        "POST", "/imports", 201, json={"recipe_id": recipe["id"], "scheduled_at": at.isoformat()}
    )["data"]
    assert created["status"] == "scheduled" and created["scheduled_at"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    upload(created["upload"], rows_csv(1, 150))
    time.sleep(1)
    assert tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["status"] == "scheduled"  # waits for its time
    done = tenant.viewer.wait(created["id"], timeout=60)
    assert (done["status"], done["success_count"]) == ("completed", 150)
    assert done["executed_start_at"] >= created["scheduled_at"]


def test_scheduled_imports_without_a_file_fail_and_can_be_cancelled(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    missing = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "scheduled_at": soon})["data"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    cancelled = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "scheduled_at": later})[
        "data"
    ]
    assert tenant.editor.ok("POST", f"/imports/{cancelled['id']}/cancel")["data"]["status"] == "cancelled"
    scheduler = boto3.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=stack.resource_name("ScheduleGroup"))["Schedules"]]
    assert f"import-{cancelled['id']}" not in names

    failed = tenant.viewer.wait(missing["id"], timeout=30)
    assert failed["status"] == "failed" and failed["error"]["code"] == "FILE_NOT_UPLOADED"

    past = tenant.editor.post("/imports", json={"recipe_id": recipe["id"], "scheduled_at": "2020-01-01T00:00:00Z"})
    assert (past.status_code, past.json()["error"]["code"]) == (422, "INVALID_SCHEDULED_AT")


def test_a_recurring_schedule_imports_each_new_file_once(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    taipei_soon = (datetime.now(ZoneInfo("Asia/Taipei")) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%S")
    schedule = tenant.admin.ok(
        "POST",
        "/schedules",
        201,
        json={
            "recipe_id": recipe["id"],
            "expression": f"at({taipei_soon})",
            "timezone": "Asia/Taipei",
            "source_prefix": "inbox/contacts/",
        },
    )["data"]
    bucket = stack.resource_name("DataBucket")
    assert schedule["source_uri"] == f"s3://{bucket}/sources/{tenant.id}/inbox/contacts/"
    s3 = boto3.client("s3")
    prefix = f"sources/{tenant.id}/inbox/contacts/"
    s3.put_object(Bucket=bucket, Key=prefix + "a.csv", Body=rows_csv(1, 120))
    s3.put_object(Bucket=bucket, Key=prefix + "b.csv", Body=rows_csv(201, 80))

    fired = wait_for(
        lambda: tenant.viewer.ok("GET", f"/schedules/{schedule['id']}")["data"]["last_run_imports"],
        timeout=30,
        what="the schedule to fire",
    )
    assert len(fired) == 2
    done = [tenant.viewer.wait(i) for i in fired]
    assert sorted((d["file"]["name"], d["success_count"]) for d in done) == [("a.csv", 120), ("b.csv", 80)]
    assert all(d["created_by"] == f"schedule:{schedule['id']}" for d in done)

    # The next firing (what EventBridge Scheduler sends the function) imports only the new file.
    target = boto3.client("scheduler").get_schedule(
        Name=f"schedule-{schedule['id']}", GroupName=stack.resource_name("ScheduleGroup")
    )["Target"]
    # A firing Scheduler cannot deliver after its retries goes to the dead-letter queue.
    assert target["DeadLetterConfig"]["Arn"].endswith(":" + stack.resource_name("FailedEventsQueue"))
    s3.put_object(Bucket=bucket, Key=prefix + "c.csv", Body=rows_csv(401, 30))
    second = invoke(stack, "ScheduledRunFunction", json.loads(target["Input"]))["imports"]
    assert len(second) == 1 and tenant.viewer.wait(second[0])["success_count"] == 30
    assert invoke(stack, "ScheduledRunFunction", json.loads(target["Input"]))["imports"] == []
    assert tenant.viewer.ok("GET", "/imports")["meta"]["total"] == 3
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 230


def test_schedules_are_validated_listed_and_deleted(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    body = {
        "recipe_id": recipe["id"],
        "expression": "cron(0 2 * * ? *)",
        "timezone": "Asia/Taipei",
        "source_prefix": "nightly",
    }
    created = tenant.admin.ok("POST", "/schedules", 201, json=body)["data"]
    assert created["source_prefix"] == "nightly/" and created["enabled"] is True
    aws = boto3.client("scheduler").get_schedule(
        Name=f"schedule-{created['id']}", GroupName=stack.resource_name("ScheduleGroup")
    )
    assert (aws["ScheduleExpression"], aws["ScheduleExpressionTimezone"], aws["State"]) == (
        "cron(0 2 * * ? *)",
        "Asia/Taipei",
        "ENABLED",
    )
    assert tenant.viewer.ok("GET", "/schedules")["data"][0]["id"] == created["id"]
    assert tenant.editor.post("/schedules", json=body).status_code == 403

    for bad, code in (
        ({"expression": "cron(0 2 * * * *)"}, "INVALID_SCHEDULE_EXPRESSION"),
        ({"expression": "every day"}, "INVALID_SCHEDULE_EXPRESSION"),
        ({"timezone": "Mars/Base"}, "INVALID_TIMEZONE"),
        ({"source_prefix": "../other-tenant/"}, "VALIDATION_ERROR"),
    ):
        response = tenant.admin.post("/schedules", json={**body, **bad})
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), response.text

    tenant.admin.ok("DELETE", f"/schedules/{created['id']}", 204)
    assert tenant.viewer.get(f"/schedules/{created['id']}").status_code == 404
    names = [
        s["Name"]
        for s in boto3.client("scheduler").list_schedules(GroupName=stack.resource_name("ScheduleGroup"))["Schedules"]
    ]
    assert f"schedule-{created['id']}" not in names
