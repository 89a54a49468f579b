"""batch-create takes at most 10 requests a second per tenant (docs/API.md): more answer 429 with a
Retry-After, the same locally as deployed (the limit lives in the code path, counted in DynamoDB),
and other tenants are not slowed by it."""

import time
from concurrent.futures import ThreadPoolExecutor

import boto3

BURST = 30
NOTES = {"key": "notes", "fields": [{"key": "text", "type": "string"}]}


def counted_windows(stack, tenant_id: str) -> dict[str, int]:
    """{second: requests let through} as the limiter counted them."""
    response = boto3.client("dynamodb").query(
        TableName=stack.resource_name("ControlTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RATE#{tenant_id}#batch-create"}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"]: int(item["requests"]["N"]) for item in response["Items"]}


def test_batch_create_is_limited_per_tenant_with_retry_after(tenant, other_tenant, stack):
    for owner in (tenant, other_tenant):
        owner.admin.create_table(NOTES)
    # A burst of cheap requests (the limit counts requests, whatever they answer: these are 404s),
    # started just after a second begins so that it falls in one or two counting windows.
    time.sleep(1 - time.time() % 1 + 0.02)
    with ThreadPoolExecutor(10) as pool:
        responses = list(
            pool.map(
                lambda _: tenant.editor.post("/tables/nope/records/batch-create", json={"records": [{"a": 1}]}),
                range(BURST),
            )
        )
    other = other_tenant.editor.post("/tables/notes/records/batch-create", json={"records": [{"text": "not limited"}]})

    limited = [r for r in responses if r.status_code == 429]
    passed = [r for r in responses if r.status_code == 404]
    assert len(limited) + len(passed) == BURST
    windows = counted_windows(stack, tenant.id)
    assert all(count <= 10 for count in windows.values()) and sum(windows.values()) == len(passed)
    assert len(limited) >= BURST - 10 * len(windows) and limited
    for response in limited:
        assert response.json()["error"]["code"] == "RATE_LIMITED"
        assert response.headers["Retry-After"] == "1"
    assert other.status_code == 200 and other.json()["status"] == "success"  # another tenant is not limited

    time.sleep(int(limited[0].headers["Retry-After"]))
    again = tenant.editor.post("/tables/notes/records/batch-create", json={"records": [{"text": "later"}]})
    assert again.status_code == 200 and again.json()["success_count"] == 1
