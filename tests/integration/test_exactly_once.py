"""Exactly once under crashes and concurrent retries: a chunk worker killed mid-chunk is retried by
the state machine's Retry, a chunk run again while its first run still works counts once, and no row
is written or counted twice."""

import json

import boto3
import pytest

from bulkimport.adapters import keys
from bulkimport.imports import store
from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

ROWS = 500  # 5 chunks of 100 rows; each row is one conditional put of its record (keyed by membership_no)


def crashes(stack, since: int) -> int:
    return sum(
        1 for i in stack.runtime.invocations[since:] if i.function == "ProcessChunkFunction" and i.outcome == "crashed"
    )


def stored_records(stack, tenant_id: str) -> list[dict]:
    """Every record item of the tenant's tables, read straight from DynamoDB (not its unique-key
    index items): each record partition of each table, queried (a scan of the whole records table
    grows with every test of the session)."""
    ddb = boto3.client("dynamodb")
    tables = _query_all(ddb, stack.resource_name("ControlTable"), keys.tenant_pk(tenant_id), keys.table_sk(""))
    return [
        item
        for table in tables
        for shard in range(keys.RECORD_SHARDS)
        for item in _query_all(
            ddb, stack.resource_name("RecordsTable"), keys.record_pk(tenant_id, table["key"]["S"], shard)
        )
    ]


def _query_all(ddb, table_name: str, pk: str, sk_prefix: str | None = None) -> list[dict]:
    items, kwargs = (
        [],
        {
            "TableName": table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        },
    )
    if sk_prefix is not None:
        kwargs["KeyConditionExpression"] += " AND begins_with(sk, :prefix)"
        kwargs["ExpressionAttributeValues"][":prefix"] = {"S": sk_prefix}
    while True:
        page = ddb.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_exact(tenant, stack, done, rows=ROWS):
    assert done["status"] == "completed", done
    assert (done["total_count"], done["processed_count"], done["success_count"], done["fail_count"]) == (
        rows,
        rows,
        rows,
        0,
    )
    # Each record once, counted as created: a rerun knows its own earlier put (meta.origin).
    assert done["outcomes"] == {"created": rows, "updated": 0, "unchanged": 0, "failed": 0}
    items = stored_records(stack, tenant.id)
    assert len(items) == rows
    numbers = sorted(i["data"]["M"]["membership_no"]["S"] for i in items)
    assert numbers == [f"M{n:06d}" for n in range(1, rows + 1)]
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == rows
    assert len(tenant.viewer.all_pages("/tables/contacts/records")) == rows


@pytest.mark.parametrize(
    ("operation", "after", "times"),
    [
        # Two chunk workers die after writing half their records; the Retry runs those chunks again.
        ("dynamodb.PutItem", 50, 2),
        # All rows of the chunk are written, then the worker dies before it counts them.
        ("dynamodb.UpdateItem", 0, 1),
    ],
    ids=["mid_chunk", "after_writing_before_counting"],
)
def test_a_killed_worker_is_retried_without_duplicates(tenant, stack, faults, operation, after, times):
    recipe = setup_contacts(tenant.admin)
    since = len(stack.runtime.invocations)
    faults.crash("ProcessChunkFunction", operation, after=after, times=times, pool=True)
    content = csv_bytes([HEADER, *[good_row(n) for n in range(1, ROWS + 1)]])
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content)["id"])
    assert crashes(stack, since) == times
    assert_exact(tenant, stack, done)


def test_a_retried_chunk_is_told_its_attempt(tenant, stack, faults):
    """The state machine passes Step Functions' retry count ($$.State.RetryCount) to the worker, which
    counts ChunksRetried from it: the crashed chunk's second invocation says attempt 1, the others 0."""
    recipe = setup_contacts(tenant.admin)
    attempts: list[tuple[int, int]] = []

    def record(event: dict) -> bool:  # a filter that delays nothing, only notes each invocation
        attempts.append((event["chunk"]["index"], event["attempt"]))
        return False

    faults.delay("ProcessChunkFunction", 0.001, when=record)
    faults.crash("ProcessChunkFunction", "dynamodb.PutItem", after=0, times=1, pool=True)
    try:
        content = csv_bytes([HEADER, *[good_row(n) for n in range(1, ROWS + 1)]])
        done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content)["id"])
    finally:
        faults.delay("ProcessChunkFunction", 0)
    assert_exact(tenant, stack, done)
    retried = [chunk for chunk, attempt in attempts if attempt == 1]
    assert len(retried) == 1, attempts
    assert sorted(attempts) == sorted([(n, 0) for n in range(len(attempts) - 1)] + [(retried[0], 1)])


def test_a_chunk_run_again_after_it_finished_changes_nothing(tenant, stack):
    recipe = setup_contacts(tenant.admin)
    content = csv_bytes([HEADER, *[good_row(n) for n in range(1, ROWS + 1)]])
    done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content)["id"])
    assert_exact(tenant, stack, done)

    # Lambda may deliver the same invocation twice: run chunk 2 again through the Lambda Invoke API.
    s3 = boto3.client("s3")
    manifest = json.loads(
        s3.get_object(Bucket=stack.resource_name("DataBucket"), Key=f"work/{tenant.id}/{done['id']}/manifest.json")[
            "Body"
        ].read()
    )
    event = {"tenant": tenant.id, "run_id": done["id"], "chunk": manifest[2]}
    response = boto3.client("lambda").invoke(
        FunctionName=stack.resource_name("ProcessChunkFunction"), Payload=json.dumps(event).encode()
    )
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {
        "index": 2,
        "rows": 100,
        "success": 100,
        "fail": 0,
        "failure_entries": 0,
    }
    assert_exact(tenant, stack, tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"])


def invoke_again(stack, function: str, event: dict) -> dict:
    """Deliver an invocation again through the Lambda Invoke API, as Lambda may while the first still runs."""
    response = boto3.client("lambda").invoke(
        FunctionName=stack.resource_name(function), Payload=json.dumps(event).encode()
    )
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def test_a_chunk_run_twice_at_the_same_time_is_counted_once(tenant, stack, faults):
    """Both runs of chunk 2 pass the early "counted already?" check; only the count's condition keeps
    the second count out."""
    recipe = setup_contacts(tenant.admin)
    content = csv_bytes([HEADER, *[good_row(n) for n in range(1, ROWS + 1)]])
    # The chunk's first run stops just before its one UpdateItem: the count (records, failures and
    # the done-marker are written by then).
    with faults.hold(
        "ProcessChunkFunction",
        "dynamodb.UpdateItem",
        when=lambda event: event["tenant"] == tenant.id and event["chunk"]["index"] == 2,
    ) as gate:
        import_id = tenant.editor.import_file(recipe["id"], content)["id"]
        event = gate.wait()
        assert 2 not in store.load(tenant.id, import_id).counted("write")

        # The same invocation again, while the first waits: it too finds the chunk uncounted, and counts it.
        assert invoke_again(stack, "ProcessChunkFunction", event) == {
            "index": 2,
            "rows": 100,
            "success": 100,
            "fail": 0,
            "failure_entries": 0,
        }
        assert 2 in store.load(tenant.id, import_id).counted("write")

        gate.release()  # the first run goes on to count the chunk a second time: refused
        done = tenant.viewer.wait(import_id)
    assert_exact(tenant, stack, done)  # processed and success counts, records, the table's record_count
    assert store.load(tenant.id, import_id).inserted_count == ROWS


def test_a_worker_that_keeps_dying_fails_the_import_clearly(tenant, stack, faults):
    recipe = setup_contacts(tenant.admin)
    faults.crash("ProcessChunkFunction", "dynamodb.PutItem", after=0, times=50, pool=True)
    try:
        content = csv_bytes([HEADER, *[good_row(n) for n in range(1, 101)]])
        done = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content)["id"], timeout=180)
    finally:
        faults.crash("ProcessChunkFunction", "dynamodb.PutItem", after=0, times=0)
    assert done["status"] == "failed"
    # On AWS the Map fails (States.ExceedToleratedFailureThreshold) and its Catch reaches Finalize; either
    # way Finalize sees chunks that never finished and fails the import rather than completing it.
    assert done["error"]["code"] == "INTERNAL_ERROR"
    assert done["success_count"] == 0  # nothing counted as imported: the import does not claim success

    # The dead worker had claimed the rows' unique keys but never wrote their records: importing the
    # same rows again takes those keys over instead of calling them ALREADY_EXISTS.
    again = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], content)["id"])
    assert (again["status"], again["success_count"], again["fail_count"]) == ("completed", 100, 0)
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 100
