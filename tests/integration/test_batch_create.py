"""Synchronous batch create: validation per record, subtables, idempotent transaction_id, events,
and unique keys that hold against imports running at the same time."""

import json
import threading
import time
import uuid

import boto3

from tests.helpers import csv_bytes
from tests.integration.test_revert import PEOPLE
from tests.samples import HEADER, good_row, setup_contacts

ORDERS = {
    "key": "orders",
    "fields": [
        {"key": "order_no", "type": "string", "required": True, "unique": True},
        {"key": "email", "type": "email"},
        {"key": "total", "type": "number"},
        {
            "key": "items",
            "type": "subtable",
            "fields": [{"key": "sku", "type": "string", "required": True}, {"key": "qty", "type": "integer"}],
        },
    ],
}


def watch_events(stack, tenant_id: str, detail_type: str) -> str:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    bus = stack.resource_name("EventBus")
    url = sqs.create_queue(QueueName=f"rc-{tenant_id}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"rc-{tenant_id}"
    events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps({"detail-type": [detail_type], "detail": {"tenant": [tenant_id]}}),
    )
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def drain(url: str) -> list[dict]:
    sqs, found = boto3.client("sqs"), []
    for _ in range(5):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        found += [json.loads(m["Body"]) for m in batch]
        if not batch:
            time.sleep(0.2)
    return found


def test_batch_create_validates_each_record_and_keeps_subtables(tenant):
    tenant.admin.create_table(ORDERS)
    body = {
        "records": [
            {
                "order_no": "O1",
                "email": "a@example.com",
                "total": 12.5,
                "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2"}],
            },
            {"order_no": "O2", "email": "bad", "items": [{"qty": "x"}]},
            {"order_no": "O3", "colour": "red"},
        ],
        "transaction_id": str(uuid.uuid4()),
        "data_creator": "user-42",
    }
    result = tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=body)
    assert (result["status"], result["success_count"]) == ("partial", 1)
    assert [(f["index"], f["field"], f["code"]) for f in result["failures"]] == [
        (1, "email", "INVALID_EMAIL"),
        (1, "items[0].sku", "REQUIRED"),
        (1, "items[0].qty", "INVALID_INTEGER"),
        (2, "colour", "UNKNOWN_FIELD"),
    ]
    record = tenant.viewer.ok("GET", f"/tables/orders/records/{result['success_ids'][0]}")["data"]
    assert record["data"] == {
        "order_no": "O1",
        "email": "a@example.com",
        "total": 12.5,
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2"}],
    }
    assert record["created_by"] == "user-42"
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 1


def test_limits_and_transaction_reuse(tenant):
    tenant.admin.create_table(ORDERS)
    too_many = {"records": [{"order_no": f"O{n}"} for n in range(101)]}
    response = tenant.editor.post("/tables/orders/records/batch-create", json=too_many)
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert tenant.editor.post("/tables/orders/records/batch-create", json={"records": []}).status_code == 422
    assert (
        tenant.viewer.post("/tables/orders/records/batch-create", json={"records": [{"order_no": "x"}]}).status_code
        == 403
    )
    assert (
        tenant.editor.post("/tables/nope/records/batch-create", json={"records": [{"order_no": "x"}]}).status_code
        == 404
    )
    transaction = str(uuid.uuid4())
    tenant.editor.ok(
        "POST",
        "/tables/orders/records/batch-create",
        json={"records": [{"order_no": "O1"}], "transaction_id": transaction},
    )
    other = tenant.editor.post(
        "/tables/orders/records/batch-create", json={"records": [{"order_no": "O2"}], "transaction_id": transaction}
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "TRANSACTION_MISMATCH"


def test_a_partial_send_resent_creates_only_what_is_missing(tenant, stack, faults):
    tenant.admin.create_table(ORDERS)
    queue = watch_events(stack, tenant.id, "Record Created")
    body = {
        "records": [{"order_no": f"O{n}"} for n in range(5)],
        "transaction_id": str(uuid.uuid4()),
        "is_start_workflow": True,
    }
    # The API function dies after creating 2 of the 5 records: the client sees a 502 and sends again.
    # (The handler's own thread puts the transaction item, then the records; key claims run on a pool.)
    faults.crash("ApiFunction", "dynamodb.PutItem", after=1 + 2, times=1)
    first = tenant.editor.post("/tables/orders/records/batch-create", json=body)
    assert first.status_code == 502
    second = tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=body)
    third = tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=body)
    assert second == third and second["status"] == "success" and len(second["success_ids"]) == 5
    records = tenant.viewer.all_pages("/tables/orders/records")
    assert sorted(r["id"] for r in records) == sorted(second["success_ids"])
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 5
    announced = sorted(e["detail"]["record_id"] for e in drain(queue))
    assert announced == sorted(second["success_ids"])  # one event per record, none for a resend


def test_concurrent_resends_create_and_count_each_record_once(tenant, stack):
    tenant.admin.create_table(ORDERS)
    queue = watch_events(stack, tenant.id, "Record Created")
    body = {
        "records": [{"order_no": f"O{n}"} for n in range(20)],
        "transaction_id": str(uuid.uuid4()),
        "is_start_workflow": True,
    }
    answers = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=body))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and all(a["success_ids"] == answers[0]["success_ids"] for a in answers)
    assert len(tenant.viewer.all_pages("/tables/orders/records")) == 20
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 20
    assert len(drain(queue)) == 20


def test_two_sends_past_the_first_read_count_and_announce_each_record_once(tenant, stack, faults):
    """The first send has created the records and read the transaction (version 0) when it stops,
    just before its settling transaction; a second send then settles on version 0 too. Only the
    version condition turns the first send's transaction away (it reads again, finds every record
    counted and announced, and settles nothing)."""
    tenant.admin.create_table(ORDERS)
    queue = watch_events(stack, tenant.id, "Record Created")
    body = {
        "records": [{"order_no": f"O{n}"} for n in range(5)],
        "transaction_id": str(uuid.uuid4()),
        "is_start_workflow": True,
    }
    path = "/tables/orders/records/batch-create"
    first: list = []
    with faults.hold(
        "ApiFunction",
        "dynamodb.TransactWriteItems",
        when=lambda event: event["path"] == path and event["requestContext"]["authorizer"]["tenant"] == tenant.id,
    ) as gate:
        sender = threading.Thread(target=lambda: first.append(tenant.editor.ok("POST", path, json=body)))
        sender.start()
        gate.wait()
        assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 0  # nothing counted yet

        second = tenant.editor.ok("POST", path, json=body)  # while the first waits
        assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 5

        gate.release()
        sender.join(timeout=60)
    assert not sender.is_alive()
    assert first == [second] and second["status"] == "success" and len(second["success_ids"]) == 5
    # The ids come in the records' order (keyed by order_no, they do not sort that way).
    assert sorted(r["id"] for r in tenant.viewer.all_pages("/tables/orders/records")) == sorted(second["success_ids"])
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 5
    announced = sorted(e["detail"]["record_id"] for e in drain(queue))
    assert announced == sorted(second["success_ids"])  # one event per record


def test_uniqueness_holds_when_two_imports_and_a_batch_create_race(tenant):
    recipe = setup_contacts(tenant.admin)
    files = [[good_row(n) for n in range(1, 201)], [good_row(n) for n in range(101, 301)]]
    api_records = [dict(zip(["membership_no", "name"], good_row(n)[:2])) for n in range(150, 250)]
    import_ids, created = [], []

    def run_import(rows):
        import_ids.append(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])

    def run_batch():
        created.append(tenant.editor.ok("POST", "/tables/contacts/records/batch-create", json={"records": api_records}))

    threads = [threading.Thread(target=run_import, args=(rows,)) for rows in files] + [
        threading.Thread(target=run_batch)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = [tenant.viewer.wait(i) for i in import_ids]
    numbers = sorted(r["data"]["membership_no"] for r in tenant.viewer.all_pages("/tables/contacts/records"))
    assert numbers == [f"M{n:06d}" for n in range(1, 301)]  # every key once, none twice
    written = sum(i["success_count"] for i in finished) + created[0]["success_count"]
    assert written == 300
    assert all(f["code"] == "ALREADY_EXISTS" for f in created[0]["failures"])
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 300


def test_a_resend_may_correct_the_records_that_failed_but_not_change_the_ones_created(tenant):
    tenant.admin.create_table(ORDERS)
    path, transaction = "/tables/orders/records/batch-create", str(uuid.uuid4())
    first = [{"order_no": "C1"}, {"order_no": "C2", "email": "bad"}, {"order_no": "C3"}]
    sent = tenant.editor.ok("POST", path, json={"records": first, "transaction_id": transaction})
    assert sent["status"] == "partial" and [f["index"] for f in sent["failures"]] == [1]
    created = sent["success_ids"]

    # Another number of records, or a created record changed: refused before anything is written
    # (the corrected record 1 in the same send is not created either).
    fewer = tenant.editor.post(path, json={"records": first[:2], "transaction_id": transaction})
    assert fewer.status_code == 409 and fewer.json()["error"]["code"] == "TRANSACTION_MISMATCH"
    changed = [{"order_no": "C1", "total": 5}, {"order_no": "C2", "email": "c2@example.com"}, {"order_no": "C3"}]
    refused = tenant.editor.post(path, json={"records": changed, "transaction_id": transaction})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "TRANSACTION_MISMATCH"
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 2

    # The failed record corrected, the others as they were: it is created now, the ids of all answered.
    corrected = [first[0], {"order_no": "C2", "email": "c2@example.com"}, first[2]]
    again = tenant.editor.ok("POST", path, json={"records": corrected, "transaction_id": transaction})
    assert again["status"] == "success" and again["failures"] == []
    assert again["success_ids"][0] == created[0] and again["success_ids"][2] == created[1]
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 3
    record = tenant.viewer.ok("GET", f"/tables/orders/records/{again['success_ids'][1]}")["data"]
    assert record["data"]["email"] == "c2@example.com"

    # From now on record 1 is created: sending its failed version again is a change, refused.
    stale = tenant.editor.post(path, json={"records": first, "transaction_id": transaction})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "TRANSACTION_MISMATCH"
    same = tenant.editor.ok("POST", path, json={"records": corrected, "transaction_id": transaction})
    assert same["success_ids"] == again["success_ids"]
    assert tenant.viewer.ok("GET", "/tables/orders")["data"]["record_count"] == 3


def test_two_records_of_one_key_value_leave_its_other_keys_to_the_one_created(tenant):
    """people: records keyed by `code`, `email` a further unique field. Two records of one code share
    the record id the code gives; only the one created holds the email (claims are per origin), so
    the other failing gives nothing of it back."""
    tenant.admin.create_table(PEOPLE)
    path = "/tables/people/records/batch-create"
    same = {"code": "P1", "email": "a@x.io", "name": "Ann"}
    both = tenant.editor.ok("POST", path, json={"records": [same, same]})
    assert both["success_count"] == 1 and [f["code"] for f in both["failures"]] == ["ALREADY_EXISTS"]
    clash = tenant.editor.ok("POST", path, json={"records": [{"code": "P5", "email": "a@x.io"}]})
    assert clash["success_count"] == 0 and [(f["field"], f["code"]) for f in clash["failures"]] == [
        ("email", "ALREADY_EXISTS")
    ]
    assert [r["data"]["code"] for r in tenant.viewer.all_pages("/tables/people/records")] == ["P1"]
