"""Undoing an import (POST /imports/{id}/revert): created records deleted, updated ones put back with
their unique keys, records changed since left and listed, reverts that stack like undo, the statuses
and refusals, exactly once under killed workers, cancel and resume, and the event."""

import json
import time
from datetime import UTC, datetime, timedelta

import boto3

from tests.helpers import csv_bytes, execution_arn
from tests.integration.test_exactly_once import invoke_again
from tests.integration.test_lifecycle import invoke, wait_for
from tests.samples import HEADER, good_row, setup_contacts

PEOPLE = {
    "key": "people",
    "fields": [
        {"key": "code", "type": "string", "required": True, "unique": True},
        {"key": "email", "type": "email", "unique": True},
        {"key": "name", "type": "string"},
    ],
}
PEOPLE_HEADER = ["code", "email", "name"]


def people_recipes(api) -> tuple[dict, dict]:
    """(insert, upsert by code) recipes of the people table."""
    api.create_table(PEOPLE)
    columns = [{"source": c, "target": c} for c in PEOPLE_HEADER]
    insert = api.create_recipe({"name": "people", "table": "people", "columns": columns, "mode": "insert"})
    upsert = api.create_recipe(
        {"name": "people upsert", "table": "people", "columns": columns, "mode": "upsert", "unique_columns": ["code"]}
    )
    return insert, upsert


def run(api, recipe_id: str, rows: list[list[str]], header=PEOPLE_HEADER, **fields) -> dict:
    done = api.wait(api.import_file(recipe_id, csv_bytes([header, *rows]), **fields)["id"])
    assert done["status"] in ("completed", "completed_with_errors"), done
    return done


def revert(api, import_id: str, timeout: float = 120) -> dict:
    """POST the revert (again while the last run of the import is still stopping) and wait for its end."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.post(f"/imports/{import_id}/revert")
        if response.status_code != 409 or response.json()["error"]["code"] != "IMPORT_STILL_STOPPING":
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] in ("reverting", "reverted")
    return wait_reverted(api, import_id, deadline)


def wait_reverted(api, import_id: str, deadline: float) -> dict:
    while True:
        current = api.ok("GET", f"/imports/{import_id}")["data"]
        if current["status"] != "reverting":
            return current
        assert time.monotonic() < deadline, current
        time.sleep(0.2)


def people(tenant) -> dict[str, dict]:
    return {r["data"]["code"]: r for r in tenant.viewer.all_pages("/tables/people/records")}


def record_count(tenant, table="people") -> int:
    return tenant.viewer.ok("GET", f"/tables/{table}")["data"]["record_count"]


def test_reverting_an_insert_deletes_its_records_and_frees_their_keys(tenant):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 4)]
    done = run(tenant.editor, recipe["id"], rows, header=HEADER)
    reverted = revert(tenant.editor, done["id"])
    assert reverted["status"] == "reverted"
    assert {k: reverted["revert"][k] for k in ("deleted", "restored", "skipped", "skipped_count")} == {
        "deleted": 3,
        "restored": 0,
        "skipped": [],
        "skipped_count": 0,
    }
    assert reverted["outcomes"]["created"] == 3  # what the import did stays on record
    assert tenant.viewer.all_pages("/tables/contacts/records") == []
    assert record_count(tenant, "contacts") == 0
    # The membership numbers are free again.
    again = run(tenant.editor, recipe["id"], rows, header=HEADER)
    assert again["outcomes"]["created"] == 3 and record_count(tenant, "contacts") == 3

    second = tenant.editor.post(f"/imports/{done['id']}/revert")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "ALREADY_REVERTED")
    assert tenant.viewer.post(f"/imports/{again['id']}/revert").status_code == 403  # editor and up


def test_reverting_an_upsert_puts_records_and_unique_keys_back(tenant):
    insert, upsert = people_recipes(tenant.admin)
    seed = run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"], ["P2", "b@x.io", "Bob"]])
    before = people(tenant)
    # P1's email moves to a new value, P2 is unchanged, P3 is new.
    done = run(tenant.editor, upsert["id"], [["P1", "a2@x.io", "Ann"], ["P2", "b@x.io", "Bob"], ["P3", "c@x.io", "C"]])
    assert done["outcomes"] == {"created": 1, "updated": 1, "unchanged": 1, "failed": 0}

    reverted = revert(tenant.editor, done["id"])
    assert (reverted["revert"]["deleted"], reverted["revert"]["restored"], reverted["revert"]["skipped"]) == (1, 1, [])
    after = people(tenant)
    assert after == before  # data and meta: P1 is again as the seed import wrote it
    assert after["P1"]["import_id"] == seed["id"] and after["P1"]["updated_at"] == after["P1"]["created_at"]
    assert record_count(tenant) == 2
    # The email moved back: a2@x.io is free, a@x.io is P1's again.
    check = run(tenant.editor, insert["id"], [["P4", "a2@x.io", "D"], ["P5", "a@x.io", "E"]])
    assert check["outcomes"] == {"created": 1, "updated": 0, "unchanged": 0, "failed": 1}
    failures = tenant.viewer.ok("GET", f"/imports/{check['id']}/failures")["data"]
    assert [(f["row"], f["code"]) for f in failures] == [(2, "ALREADY_EXISTS")]


def test_records_changed_since_are_left_and_listed(tenant):
    insert, upsert = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"], ["P2", "b@x.io", "Bob"]])
    done = run(
        tenant.editor,
        upsert["id"],
        [["P1", "a@x.io", "Ann 2"], ["P2", "b@x.io", "Bob 2"], ["P3", "c@x.io", "C"], ["P4", "d@x.io", "D"]],
    )
    ids = {code: r["id"] for code, r in people(tenant).items()}
    # After the import: another import changes P3, a batch job changes P1 and deletes P2.
    run(tenant.editor, upsert["id"], [["P3", "c@x.io", "C by a later import"]])
    job = tenant.editor.start_job(
        {"job_name": "batch_update", "table": "people", "ids": [ids["P1"]], "changes": {"name": "by a job"}}
    )
    assert tenant.editor.wait_job(job)["code"] == 200
    job = tenant.editor.start_job({"job_name": "batch_delete", "table": "people", "ids": [ids["P2"]]})
    assert tenant.editor.wait_job(job)["code"] == 200

    reverted = revert(tenant.editor, done["id"])
    assert reverted["status"] == "reverted"
    assert (reverted["revert"]["deleted"], reverted["revert"]["restored"]) == (1, 0)  # P4 only
    assert sorted((s["record_id"], s["reason"]) for s in reverted["revert"]["skipped"]) == sorted(
        [(ids["P1"], "CHANGED_SINCE"), (ids["P2"], "DELETED_SINCE"), (ids["P3"], "CHANGED_SINCE")]
    )
    assert reverted["revert"]["skipped_count"] == 3
    left = people(tenant)
    assert {code: r["data"]["name"] for code, r in left.items()} == {"P1": "by a job", "P3": "C by a later import"}
    assert record_count(tenant) == 2


def test_reverting_the_earlier_import_first_leaves_what_the_later_one_wrote(tenant):
    insert, upsert = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"]])
    first = run(tenant.editor, upsert["id"], [["P1", "a1@x.io", "Ann 1"], ["P2", "b@x.io", "Bob"]])
    run(tenant.editor, upsert["id"], [["P1", "a2@x.io", "Ann 2"], ["P2", "b2@x.io", "Bob 2"]])
    after_both = people(tenant)
    early = revert(tenant.editor, first["id"])
    assert (early["revert"]["deleted"], early["revert"]["restored"], early["revert"]["skipped_count"]) == (0, 0, 2)
    assert {s["reason"] for s in early["revert"]["skipped"]} == {"CHANGED_SINCE"}
    assert people(tenant) == after_both


def test_reverting_later_then_earlier_unwinds_both(tenant):
    insert, upsert = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"]])
    original = people(tenant)
    first = run(tenant.editor, upsert["id"], [["P1", "a1@x.io", "Ann 1"], ["P2", "b@x.io", "Bob"]])
    second = run(
        tenant.editor, upsert["id"], [["P1", "a2@x.io", "Ann 2"], ["P2", "b2@x.io", "Bob 2"], ["P3", "c@x.io", "C"]]
    )

    later = revert(tenant.editor, second["id"])
    assert (later["revert"]["deleted"], later["revert"]["restored"], later["revert"]["skipped_count"]) == (1, 2, 0)
    # P1 and P2 are as the first import left them: it wrote them last, so its revert undoes them.
    earlier = revert(tenant.editor, first["id"])
    assert (earlier["revert"]["deleted"], earlier["revert"]["restored"], earlier["revert"]["skipped_count"]) == (
        1,
        1,
        0,
    )
    assert people(tenant) == original
    assert record_count(tenant) == 1
    # Every email the two imports took is free again; the original one is still P1's.
    check = run(
        tenant.editor,
        insert["id"],
        [[f"Q{n}", e, "q"] for n, e in enumerate(["a1@x.io", "a2@x.io", "b@x.io", "b2@x.io", "c@x.io", "a@x.io"])],
    )
    assert check["outcomes"]["created"] == 5 and check["outcomes"]["failed"] == 1


def test_what_cannot_be_reverted(tenant):
    insert, _ = people_recipes(tenant.admin)
    dry = run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"]], dry_run=True)
    refused = tenant.editor.post(f"/imports/{dry['id']}/revert")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "NOTHING_TO_REVERT")
    waiting = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": insert["id"]})["data"]
    refused = tenant.editor.post(f"/imports/{waiting['id']}/revert")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "IMPORT_RUNNING")
    assert "is waiting_upload" in refused.json()["error"]["message"]
    assert tenant.editor.post("/imports/01M8C9BVB8MA4PQ3011DQJGH53/revert").status_code == 404


def test_an_import_older_than_its_undo_data_is_not_reverted(tenant, stack):
    """The undo data expires with the import's work files (90 days): a revert then is refused, not
    run to a `reverted` that undid nothing. A day short of it, the revert runs."""
    insert, _ = people_recipes(tenant.admin)
    done = run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"]])

    def created(days_ago: float) -> None:
        stamp = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        boto3.client("dynamodb").update_item(
            TableName=stack.resource_name("ControlTable"),
            Key={"pk": {"S": f"TENANT#{tenant.id}"}, "sk": {"S": f"IMPORT#{done['id']}"}},
            UpdateExpression="SET created_at = :c",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":c": {"S": stamp}},
        )

    created(days_ago=90.01)
    refused = tenant.editor.post(f"/imports/{done['id']}/revert")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "REVERT_EXPIRED")
    assert "kept for 90 days" in refused.json()["error"]["message"]
    assert tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"]["status"] == "completed"
    created(days_ago=89)
    tenant.editor.ok("POST", f"/imports/{done['id']}/revert")
    assert wait_reverted(tenant.editor, done["id"], time.monotonic() + 60)["revert"]["deleted"] == 1


def test_the_revert_is_exactly_once_when_workers_die(tenant, stack, faults):
    """250 records seeded; an upsert of 500 rows (5 chunks) updates them all and creates 250. Two revert
    workers die after undoing their whole chunk, just before counting it: their retries find the
    records already deleted or put back, and follow the plan the first attempt stored instead of
    calling them deleted or changed since. A third chunk runs twice at once and is counted once."""
    insert, upsert = people_recipes(tenant.admin)
    seed = [[f"P{n:03d}", f"p{n}@x.io", f"name {n}"] for n in range(250)]
    run(tenant.editor, insert["id"], seed)
    original = people(tenant)
    rows = [[f"P{n:03d}", f"p{n}@x.io", f"renamed {n}"] for n in range(500)]
    done = run(tenant.editor, upsert["id"], rows)
    assert done["outcomes"] == {"created": 250, "updated": 250, "unchanged": 0, "failed": 0}

    since = len(stack.runtime.invocations)

    def mine(event: dict, chunks: tuple[int, ...]) -> bool:
        return event["tenant"] == tenant.id and event.get("pass") == "revert" and event["chunk"]["index"] in chunks

    faults.crash("ProcessChunkFunction", "dynamodb.UpdateItem", after=0, times=2, when=lambda e: mine(e, (0, 2)))
    # Chunk 1's revert stops just before its count; the same invocation delivered again meanwhile runs
    # the whole chunk and counts it; then the first goes on, and its count is refused.
    with faults.hold("ProcessChunkFunction", "dynamodb.UpdateItem", when=lambda e: mine(e, (1,))) as gate:
        tenant.editor.ok("POST", f"/imports/{done['id']}/revert")
        event = gate.wait()
        again = invoke_again(stack, "ProcessChunkFunction", event)
        assert again["index"] == 1 and again["revert_deleted"] + again["revert_restored"] == 100
        gate.release()
        reverted = wait_reverted(tenant.editor, done["id"], time.monotonic() + 120)
    died = [i for i in stack.runtime.invocations[since:] if i.function == "ProcessChunkFunction"]
    assert [i.outcome for i in died].count("crashed") == 2
    assert reverted["status"] == "reverted"
    assert (reverted["revert"]["deleted"], reverted["revert"]["restored"], reverted["revert"]["skipped_count"]) == (
        250,
        250,
        0,
    )
    assert people(tenant) == original
    assert record_count(tenant) == 250

    # A chunk's revert delivered again after the end changes nothing and counts nothing.
    event = {"tenant": tenant.id, "run_id": done["id"], "pass": "revert", "chunk": {"index": 1}}
    assert invoke_again(stack, "ProcessChunkFunction", event) == {"index": 1, "counted": True}
    assert tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"]["revert"]["deleted"] == 250


def test_a_retried_chunk_keeps_the_first_attempts_before_images(tenant, stack, faults):
    """The import's chunk dies after updating its records; the retry reads them already updated. The
    before-images it keeps are still those of the first attempt, so the revert puts the old values back."""
    insert, upsert = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"], ["P2", "b@x.io", "Bob"]])
    original = people(tenant)
    since = len(stack.runtime.invocations)
    faults.crash(
        "ProcessChunkFunction", "dynamodb.UpdateItem", after=0, times=1, when=lambda e: e["tenant"] == tenant.id
    )
    done = run(tenant.editor, upsert["id"], [["P1", "a2@x.io", "Ann 2"], ["P2", "b2@x.io", "Bob 2"]])
    died = [i for i in stack.runtime.invocations[since:] if i.function == "ProcessChunkFunction"]
    assert [i.outcome for i in died].count("crashed") == 1
    assert done["outcomes"] == {"created": 0, "updated": 2, "unchanged": 0, "failed": 0}
    reverted = revert(tenant.editor, done["id"])
    assert (reverted["revert"]["restored"], reverted["revert"]["skipped_count"]) == (2, 0)
    assert people(tenant) == original


def three_chunks_and_a_held_revert(tenant, faults):
    """An import of 300 contacts (3 chunks), and an armed gate where the revert of its chunk 0 will wait
    before its first call (leaving the gate's `with` disarms it)."""
    recipe = setup_contacts(tenant.admin)
    done = run(tenant.editor, recipe["id"], [good_row(n) for n in range(1, 301)], header=HEADER)
    gate = faults.hold(
        "ProcessChunkFunction",
        "dynamodb.GetItem",
        when=lambda e: e["tenant"] == tenant.id and e.get("pass") == "revert" and e["chunk"]["index"] == 0,
    )
    return done, gate


def test_a_revert_can_be_cancelled_and_resumed(tenant, stack, faults):
    done, gate = three_chunks_and_a_held_revert(tenant, faults)
    # The revert of chunk 0 waits before its first call while the revert is cancelled; then it finds
    # the revert cancelled and undoes nothing.
    with gate:
        tenant.editor.ok("POST", f"/imports/{done['id']}/revert")
        gate.wait()
        cancelled = tenant.editor.ok("POST", f"/imports/{done['id']}/cancel")["data"]
        assert cancelled["status"] == "revert_cancelled"
        gate.release()
    # Settled as cancelled once its execution ended: what it deleted is counted, the rest is left.
    deadline = time.monotonic() + 60
    while (stopped := tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"])["revert"]["ended_at"] is None:
        assert time.monotonic() < deadline, stopped
        time.sleep(0.2)
    assert stopped["status"] == "revert_cancelled"
    left = len(tenant.viewer.all_pages("/tables/contacts/records"))
    assert left >= 100 and left == 300 - stopped["revert"]["deleted"]
    assert record_count(tenant, "contacts") == left

    resumed = revert(tenant.editor, done["id"])
    assert resumed["status"] == "reverted"
    assert (resumed["revert"]["deleted"], resumed["revert"]["skipped_count"]) == (300, 0)
    assert tenant.viewer.all_pages("/tables/contacts/records") == []
    assert record_count(tenant, "contacts") == 0


def test_a_revert_publishes_import_reverted(tenant, stack):
    bus = stack.resource_name("EventBus")
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue_url = sqs.create_queue(QueueName=f"reverted-{tenant.id}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["bulkimport"], "detail-type": ["Import Reverted"], "detail": {"tenant": [tenant.id]}}
    events.put_rule(Name=f"reverted-{tenant.id}", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"reverted-{tenant.id}", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    recipe = setup_contacts(tenant.admin)
    done = run(tenant.editor, recipe["id"], [good_row(1), good_row(2)], header=HEADER)
    revert(tenant.editor, done["id"])
    received: list = []
    for _ in range(25):
        received += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if received:
            break
        time.sleep(0.2)
    assert [json.loads(m["Body"])["detail"] for m in received] == [
        {
            "tenant": tenant.id,
            "import_id": done["id"],
            "table": "contacts",
            "status": "reverted",
            "deleted": 2,
            "restored": 0,
            "skipped": 0,
        }
    ]


def test_a_revert_whose_execution_died_is_settled_and_resumed(tenant, stack, faults):
    done, gate = three_chunks_and_a_held_revert(tenant, faults)
    with gate:
        started = tenant.editor.ok("POST", f"/imports/{done['id']}/revert")["data"]
        gate.wait()
        # The execution dies without its Finalize (an operator aborts it; on AWS also a timeout).
        arn = execution_arn(stack, "ImportStateMachine", "revert", tenant.id, done["id"], started["job_turns"])
        boto3.client("stepfunctions").stop_execution(executionArn=arn, error="Aborted", cause="test")
        gate.release()
    sfn = boto3.client("stepfunctions")
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", what="the execution to stop")
    time.sleep(1)  # the chunk under way finishes
    assert tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"]["status"] == "reverting"  # stuck

    settled = invoke(stack, "SweepRunsFunction", {})
    assert f"revert:{done['id']}" in settled["settled"]
    stopped = tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"]
    assert (stopped["status"], stopped["error"]["code"]) == ("revert_failed", "REVERT_INTERRUPTED")
    assert record_count(tenant, "contacts") == 300 - stopped["revert"]["deleted"]

    resumed = revert(tenant.editor, done["id"])
    assert (resumed["status"], resumed["revert"]["deleted"], resumed["revert"]["skipped_count"]) == ("reverted", 300, 0)
    assert tenant.viewer.all_pages("/tables/contacts/records") == []
    assert record_count(tenant, "contacts") == 0
