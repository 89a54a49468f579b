"""No import waits for its upload forever: an upload whose Object Created event was lost (the function
kept failing, Lambda gave up and sent the event to the dead-letter queue) is started by the sweeper,
and an import whose file never came is failed UPLOAD_EXPIRED once its upload URL has expired."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import requests

from tests.helpers import csv_bytes
from tests.integration.test_lifecycle import invoke, wait_for
from tests.samples import HEADER, good_row, setup_contacts


def _waiting_import(tenant) -> dict:
    recipe = setup_contacts(tenant.admin)
    return tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"]})["data"]


def _dead_letters(stack, key: str) -> list[dict]:
    """The events for `key` in the stack's dead-letter queue (taken off it)."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.resource_name("FailedEventsQueue"))["QueueUrl"]
    found = []
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        event = json.loads(message["Body"])
        if event.get("detail", {}).get("object", {}).get("key") == key:
            found.append(event)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_an_upload_whose_event_was_lost_is_started_by_the_sweeper(stack, tenant, faults):
    created = _waiting_import(tenant)
    upload = created["upload"]
    key = upload["fields"]["key"]
    since = len(stack.runtime.invocations)
    # Every attempt of the function at this upload's event dies (Lambda tries an event 3 times).
    faults.crash(
        "ObjectCreatedFunction", "dynamodb.GetItem", times=3, when=lambda event: event["detail"]["object"]["key"] == key
    )
    try:
        content = csv_bytes([HEADER, *[good_row(n) for n in range(1, 51)]])
        response = requests.post(upload["url"], data=upload["fields"], files={"file": ("a.csv", content)}, timeout=30)
        assert response.status_code == 204, response.text
        letters = wait_for(lambda: _dead_letters(stack, key), timeout=30, what="the event in the dead-letter queue")
    finally:
        faults.crash("ObjectCreatedFunction", "dynamodb.GetItem", times=0)
    assert len(letters) == 1
    attempts = [i.outcome for i in stack.runtime.invocations[since:] if i.function == "ObjectCreatedFunction"]
    assert attempts.count("crashed") == 3
    assert tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["status"] == "waiting_upload"  # stuck

    swept = invoke(stack, "SweepRunsFunction", {})
    assert created["id"] in swept["uploads_started"]
    done = tenant.viewer.wait(created["id"])
    assert (done["status"], done["success_count"], done["file"]["size"]) == ("completed", 50, len(content))
    assert created["id"] not in invoke(stack, "SweepRunsFunction", {})["uploads_started"]  # once


def test_an_import_whose_upload_never_came_fails_upload_expired(stack, tenant):
    created = _waiting_import(tenant)
    assert created["id"] not in invoke(stack, "SweepRunsFunction", {})["uploads_expired"]  # its URL still works
    assert tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["status"] == "waiting_upload"

    # Time passes: the upload URL expired more than the grace (an hour) ago.
    expired_at = (datetime.now(UTC) - timedelta(hours=1, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    boto3.client("dynamodb").update_item(
        TableName=stack.resource_name("ControlTable"),
        Key={"pk": {"S": "AWAITED_UPLOADS"}, "sk": {"S": f"UPLOAD#{tenant.id}#{created['id']}"}},
        UpdateExpression="SET deadline = :d",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":d": {"S": expired_at}},
    )
    assert created["id"] in invoke(stack, "SweepRunsFunction", {})["uploads_expired"]
    failed = tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "UPLOAD_EXPIRED"
    assert expired_at in failed["error"]["message"] and "create a new import" in failed["error"]["message"]
    zh = tenant.viewer.ok("GET", f"/imports/{created['id']}", headers={"Accept-Language": "zh-TW"})["data"]
    assert "上傳網址到期" in zh["error"]["message"]
    assert created["id"] not in invoke(stack, "SweepRunsFunction", {})["uploads_expired"]  # once
