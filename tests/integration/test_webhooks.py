"""Webhooks through the API against the local stack, to receivers on 127.0.0.1: deliveries signed as
Standard Webhooks (checked with the library's own verifier), retried with one webhook-id, timeouts,
receivers that never answer, URLs refused (SSRF), tenancy and roles."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from standardwebhooks import Webhook

from tests.conftest import WEBHOOK_RETRY_SECONDS, WEBHOOK_TIMEOUT_SECONDS
from tests.helpers import csv_bytes, free_port
from tests.integration.test_revert import revert
from tests.receivers import Receiver, Silent, Trickle
from tests.samples import HEADER, good_row, setup_contacts

ATTEMPTS = 1 + len(WEBHOOK_RETRY_SECONDS.split(","))
# batch-create announces its records (Record Created) when asked to start workflows.
ANNOUNCED = {"records": [{"order_no": "A1"}], "is_start_workflow": True}
ORDERS = {"key": "orders", "fields": [{"key": "order_no", "type": "string", "required": True}]}


def create(api, url: str, events=("record.created",), status: int = 201) -> dict:
    return api.ok("POST", "/webhooks", status, json={"url": url, "events": list(events), "description": "t"})["data"]


def deliveries(api, webhook_id: str) -> list[dict]:
    return api.all_pages(f"/webhooks/{webhook_id}/deliveries")


def settled(api, webhook_id: str, count: int, timeout: float = 60) -> list[dict]:
    """The webhook's deliveries once `count` of them are delivered or failed."""
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries(api, webhook_id)
        if len([d for d in found if d["status"] != "pending"]) >= count:
            return found
        assert time.monotonic() < deadline, f"deliveries still pending after {timeout} s: {found}"
        time.sleep(0.2)


def refused(response, reason_part: str = "") -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "WEBHOOK_URL_NOT_ALLOWED", error
    assert reason_part in error["message"], error["message"]


def test_a_delivery_is_signed_and_verifies_with_the_library(tenant):
    with Receiver() as receiver:
        made = create(tenant.admin, receiver.url, events=["record.created", "import.completed"])
        assert made["secret"].startswith("whsec_") and made["enabled"] is True
        # The secret is shown once: never again.
        assert "secret" not in tenant.admin.ok("GET", f"/webhooks/{made['id']}")["data"]
        assert all("secret" not in w for w in tenant.admin.ok("GET", "/webhooks")["data"])
        tenant.admin.create_table(ORDERS)
        created = tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=ANNOUNCED)
        (request,) = receiver.wait_for(1)
        payload = Webhook(made["secret"]).verify(request.body, request.headers)
        assert payload["type"] == "record.created"
        assert payload["data"] == {"table": "orders", "record_id": created["success_ids"][0]}
        assert request.path == "/hooks/in"
        assert request.headers["webhook-signature"].startswith("v1,")
        # Another secret does not verify it: the signature is really checked.
        with pytest.raises(Exception, match="No matching signature"):
            Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
        (delivery,) = settled(tenant.admin, made["id"], 1)
        assert delivery["id"] == request.headers["webhook-id"]
        assert delivery | {"created_at": None} == {
            "id": delivery["id"],
            "webhook_id": made["id"],
            "type": "record.created",
            "status": "delivered",
            "attempts": 1,
            "last_status_code": 200,
            "last_error": None,
            "next_attempt_at": None,
            "created_at": None,
        }


def test_imports_and_jobs_ending_are_delivered_each_to_the_webhooks_that_take_them(tenant):
    with Receiver() as runs, Receiver() as jobs:
        made = create(tenant.admin, runs.url, events=["import.completed", "import.failed", "import.reverted"])
        job_hook = create(tenant.admin, jobs.url, events=["job.completed"])
        recipe = setup_contacts(tenant.admin)
        done = tenant.editor.wait(
            tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), good_row(2)]))["id"]
        )
        assert done["status"] == "completed"
        assert revert(tenant.editor, done["id"])["status"] == "reverted"
        failed = tenant.editor.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER]))["id"])
        assert failed["status"] == "failed"
        again = tenant.editor.wait(
            tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(3), good_row(4)]))["id"]
        )
        code = tenant.editor.start_job({"job_name": "batch_delete", "table": "contacts", "ids": "all", "total": 2})
        assert tenant.editor.wait_job(code)["code"] == 200
        received = runs.wait_for(4)
        (job,) = jobs.wait_for(1)
    by_type = {r.headers["webhook-id"]: Webhook(made["secret"]).verify(r.body, r.headers) for r in received}
    assert sorted((p["type"], p["data"]["import_id"], p["data"]["status"]) for p in by_type.values()) == sorted(
        [
            ("import.completed", done["id"], "completed"),
            ("import.reverted", done["id"], "reverted"),
            ("import.failed", failed["id"], "failed"),
            ("import.completed", again["id"], "completed"),
        ]
    )
    assert all("tenant" not in p["data"] for p in by_type.values())
    job_payload = Webhook(job_hook["secret"]).verify(job.body, job.headers)
    assert job_payload["type"] == "job.completed" and job_payload["data"]["batch_code"] == code
    assert job_payload["data"]["succeeded_amount"] == 2


def test_the_test_delivery_and_events_not_subscribed(tenant):
    with Receiver() as receiver:
        made = create(tenant.admin, receiver.url, events=["job.completed"])
        tenant.admin.create_table(ORDERS)
        tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=ANNOUNCED)
        test = tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)["data"]
        assert test["type"] == "webhook.test" and test["status"] == "pending"
        (request,) = receiver.wait_for(1)
        assert Webhook(made["secret"]).verify(request.body, request.headers)["type"] == "webhook.test"
        time.sleep(1)  # a record.created delivery, wrongly made, would have arrived by now
        assert len(receiver.received) == 1
        assert [d["type"] for d in settled(tenant.admin, made["id"], 1)] == ["webhook.test"]


def test_a_5xx_is_retried_with_the_same_webhook_id_until_a_2xx(tenant):
    answers = iter([503, 500])
    with Receiver(lambda _r: (next(answers, 204), 0.0)) as receiver:
        made = create(tenant.admin, receiver.url)
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        requests_ = receiver.wait_for(3)
        (delivery,) = settled(tenant.admin, made["id"], 1)
    assert len({r.headers["webhook-id"] for r in requests_}) == 1
    assert requests_[0].body == requests_[2].body
    for request in requests_:  # each attempt signed anew, each verifies
        Webhook(made["secret"]).verify(request.body, request.headers)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["last_status_code"] == 204 and delivery["last_error"] is None
    assert len(receiver.received) == 3


def test_a_slow_receiver_times_out_and_the_delivery_fails_after_the_whole_schedule(tenant):
    with Receiver(lambda _r: (200, WEBHOOK_TIMEOUT_SECONDS + 1)) as receiver:
        made = create(tenant.admin, receiver.url)
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        (delivery,) = settled(tenant.admin, made["id"], 1, timeout=90)
        assert delivery["status"] == "failed" and delivery["attempts"] == ATTEMPTS
        assert delivery["last_status_code"] is None
        assert delivery["last_error"] == f"no answer within {WEBHOOK_TIMEOUT_SECONDS} s"
        assert len(receiver.received) == ATTEMPTS
        webhook = tenant.admin.ok("GET", f"/webhooks/{made['id']}")["data"]
        assert webhook["enabled"] is True  # failing for seconds, not 5 days


def test_a_receiver_that_never_answers_fails_the_delivery_and_others_still_arrive(tenant):
    with Silent() as silent, Receiver() as receiver:
        stuck = create(tenant.admin, silent.url)
        fine = create(tenant.admin, receiver.url)
        tenant.admin.ok("POST", f"/webhooks/{stuck['id']}/test", 202)
        tenant.admin.ok("POST", f"/webhooks/{fine['id']}/test", 202)
        receiver.wait_for(1, timeout=60)
        (failed,) = settled(tenant.admin, stuck["id"], 1, timeout=120)
    assert failed["status"] == "failed" and failed["attempts"] == ATTEMPTS
    assert "no answer" in failed["last_error"]


def test_an_answer_that_trickles_in_past_the_timeout_is_no_answer(tenant):
    # Each byte comes well within any per-read timeout; the whole answer takes about 12 s.
    with Trickle(pause=0.25) as trickle:
        made = create(tenant.admin, trickle.url)
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        deadline = time.monotonic() + 30
        while not (found := deliveries(tenant.admin, made["id"]))[0]["attempts"]:
            assert time.monotonic() < deadline, found
            time.sleep(0.2)
        first = found[0]
        assert first["last_status_code"] is None, first
        assert first["last_error"] == f"no answer within {WEBHOOK_TIMEOUT_SECONDS} s"
        tenant.admin.ok("DELETE", f"/webhooks/{made['id']}", 204)


def test_a_refused_connection_is_told_as_such(tenant):
    made = create(tenant.admin, f"http://127.0.0.1:{free_port()}/closed")  # nothing listens there
    tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
    deadline = time.monotonic() + 30
    while not (found := deliveries(tenant.admin, made["id"]))[0]["attempts"]:
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
    assert found[0]["last_error"].startswith("could not connect: "), found[0]
    assert "Connection refused" in found[0]["last_error"]
    tenant.admin.ok("DELETE", f"/webhooks/{made['id']}", 204)


def test_deliveries_arrive_in_any_order_each_once_delivered(tenant):
    with Receiver(lambda r: (200, 0.3)) as receiver:
        made = create(tenant.admin, receiver.url)
        sent = {tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)["data"]["id"] for _ in range(6)}
        receiver.wait_for(6)
        found = settled(tenant.admin, made["id"], 6)
    assert {r.headers["webhook-id"] for r in receiver.received} == sent
    assert {d["id"] for d in found} == sent and {d["status"] for d in found} == {"delivered"}


def test_redirects_are_not_followed(tenant):
    with Receiver(lambda r: (200 if r.path == "/redirected" else 302, 0.0)) as receiver:
        made = create(tenant.admin, receiver.url)
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        (delivery,) = settled(tenant.admin, made["id"], 1)
    assert delivery["status"] == "failed" and delivery["last_status_code"] == 302
    assert "redirects are not followed" in delivery["last_error"]
    assert {r.path for r in receiver.received} == {"/hooks/in"}


def test_a_failed_delivery_is_retried_by_hand_with_its_webhook_id(tenant):
    answers = iter([500] * ATTEMPTS)
    with Receiver(lambda _r: (next(answers, 200), 0.0)) as receiver:
        made = create(tenant.admin, receiver.url)
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        (failed,) = settled(tenant.admin, made["id"], 1)
        assert failed["status"] == "failed" and failed["last_status_code"] == 500
        retried = tenant.admin.ok("POST", f"/webhooks/{made['id']}/deliveries/{failed['id']}/retry", 202)["data"]
        assert retried["status"] == "pending"
        receiver.wait_for(ATTEMPTS + 1)
        deadline = time.monotonic() + 30
        while (d := deliveries(tenant.admin, made["id"])[0])["status"] != "delivered":
            assert time.monotonic() < deadline, d
            time.sleep(0.2)
    assert d["attempts"] == ATTEMPTS + 1 and d["id"] == failed["id"]
    assert {r.headers["webhook-id"] for r in receiver.received} == {failed["id"]}
    missing = tenant.admin.post(f"/webhooks/{made['id']}/deliveries/01M8C9BVB8MA4PQ3011DQJGH53/retry")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "WEBHOOK_DELIVERY_NOT_FOUND"


def test_retrying_a_pending_delivery_is_refused(tenant):
    with Silent() as silent:
        made = create(tenant.admin, silent.url)
        pending = tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)["data"]
        response = tenant.admin.post(f"/webhooks/{made['id']}/deliveries/{pending['id']}/retry")
        assert response.status_code == 409 and response.json()["error"]["code"] == "WEBHOOK_DELIVERY_PENDING"
        tenant.admin.ok("DELETE", f"/webhooks/{made['id']}", 204)


def test_a_webhook_failing_for_5_days_is_disabled(stack, tenant):
    with Receiver(lambda _r: (500, 0.0)) as receiver:
        made = create(tenant.admin, receiver.url)
        # Its failures began 5 days and a minute ago (the clock moved on by writing the time it keeps).
        boto3.client("dynamodb").update_item(
            TableName=stack.resource_name("ControlTable"),
            Key={"pk": {"S": f"TENANT#{tenant.id}"}, "sk": {"S": f"WEBHOOK#{made['id']}"}},
            UpdateExpression="SET failing_since = :t",
            ExpressionAttributeValues={
                ":t": {"S": (datetime.now(UTC) - timedelta(days=5, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
            },
        )
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        (delivery,) = settled(tenant.admin, made["id"], 1)
        webhook = tenant.admin.ok("GET", f"/webhooks/{made['id']}")["data"]
        assert webhook["enabled"] is False and webhook["disabled_reason"] == "every delivery failed for 5 days"
        # The delivery ended with its webhook: one attempt, no retries to a disabled webhook.
        assert delivery["status"] == "failed" and len(receiver.received) == 1
        tenant.admin.create_table(ORDERS)
        tenant.editor.ok("POST", "/tables/orders/records/batch-create", json=ANNOUNCED)
        time.sleep(1)
        assert len(deliveries(tenant.admin, made["id"])) == 1  # a disabled webhook gets no new deliveries
        enabled = tenant.admin.ok("PATCH", f"/webhooks/{made['id']}", json={"enabled": True})["data"]
        assert enabled["enabled"] is True and enabled["disabled_reason"] is None


def test_a_delivery_that_succeeds_resets_the_failing_clock(stack, tenant):
    answers = iter([500])
    with Receiver(lambda _r: (next(answers, 200), 0.0)) as receiver:
        made = create(tenant.admin, receiver.url)
        tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
        receiver.wait_for(2)
        settled(tenant.admin, made["id"], 1)
    item = boto3.client("dynamodb").get_item(
        TableName=stack.resource_name("ControlTable"),
        Key={"pk": {"S": f"TENANT#{tenant.id}"}, "sk": {"S": f"WEBHOOK#{made['id']}"}},
    )["Item"]
    assert "failing_since" not in item


# ------------------------------------------------------------------ URLs refused (SSRF)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.1.2.3/hook", "10.1.2.3"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://[::1]:8443/hook", "::1"),
        ("https://[::ffff:10.0.0.1]/hook", "::ffff:10.0.0.1"),
        ("https://[fd00:ec2::254]/", "fd00:ec2::254"),
        ("https://100.64.0.1/", "100.64.0.1"),
        ("https://0.0.0.0/", "0.0.0.0"),
        ("https://localhost/hook", "not a public address"),
        ("http://hooks.example.com/", "only https"),
        ("http://127.0.0.2:8080/", "only https"),
        ("https://127.0.0.1:8443/", "127.0.0.1"),
        ("ftp://hooks.example.com/", "only https"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https:///nohost", "no host"),
        ("https://no-such-host.hooks.test/", "does not resolve"),
    ],
)
def test_urls_that_are_not_public_https_are_refused(tenant, names, url, reason):
    refused(tenant.admin.post("/webhooks", json={"url": url, "events": ["import.completed"]}), reason)


def test_names_resolving_to_private_or_metadata_addresses_are_refused(tenant, names):
    names.answer("internal.hooks.test", ["10.20.30.40"])
    names.answer("metadata.hooks.test", ["169.254.169.254"])
    names.answer("v6.hooks.test", ["::1"])
    names.answer("mixed.hooks.test", ["93.184.216.34", "192.168.1.10"])  # one private address is enough
    for host, address in [
        ("internal", "10.20.30.40"),
        ("metadata", "169.254.169.254"),
        ("v6", "::1"),
        ("mixed", "192.168.1.10"),
    ]:
        refused(
            tenant.admin.post("/webhooks", json={"url": f"https://{host}.hooks.test/h", "events": ["job.completed"]}),
            address,
        )
    assert tenant.admin.ok("GET", "/webhooks")["data"] == []
    # PATCH checks a new URL as creation does.
    names.answer("public.hooks.test", ["93.184.216.34"])
    made = create(tenant.admin, "https://public.hooks.test/h")
    refused(tenant.admin.patch(f"/webhooks/{made['id']}", json={"url": "https://internal.hooks.test/"}), "10.20")


def test_a_name_that_resolves_elsewhere_at_delivery_is_refused_again(tenant, names):
    # DNS rebinding: public when the webhook is saved, loopback when a delivery resolves it (loopback
    # rather than 10.x, so that even a broken check sends nothing beyond this machine).
    names.answer("rebind.hooks.test", ["93.184.216.34"], ["127.0.0.2"])
    made = create(tenant.admin, "https://rebind.hooks.test/h")
    tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)
    (delivery,) = settled(tenant.admin, made["id"], 1)
    assert delivery["status"] == "failed" and delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("WEBHOOK_URL_NOT_ALLOWED: rebind.hooks.test resolves to 127.0.0.2")
    # Resolved once at creation and once per attempt: each attempt connects to what it checked.
    assert names.lookups.count("rebind.hooks.test") == 1 + ATTEMPTS


# ------------------------------------------------------------------ tenancy, roles, limits


def test_another_tenant_cannot_see_change_or_trigger_a_webhook(tenant, other_tenant):
    with Receiver() as receiver:
        made = create(tenant.admin, receiver.url)
        own = tenant.admin.ok("POST", f"/webhooks/{made['id']}/test", 202)["data"]
        settled(tenant.admin, made["id"], 1)
        other = other_tenant.admin
        for method, path in [
            ("GET", f"/webhooks/{made['id']}"),
            ("PATCH", f"/webhooks/{made['id']}"),
            ("DELETE", f"/webhooks/{made['id']}"),
            ("POST", f"/webhooks/{made['id']}/test"),
            ("GET", f"/webhooks/{made['id']}/deliveries"),
            ("POST", f"/webhooks/{made['id']}/deliveries/{own['id']}/retry"),
        ]:
            response = other.request(method, path, json={"enabled": False} if method == "PATCH" else None)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "WEBHOOK_NOT_FOUND"
        assert other.ok("GET", "/webhooks")["data"] == []
        # The other tenant's events do not reach this tenant's webhook.
        other.create_table(ORDERS)
        other_tenant.editor.ok(
            "POST",
            "/tables/orders/records/batch-create",
            json={"records": [{"order_no": "B"}], "is_start_workflow": True},
        )
        time.sleep(1)
        assert len(receiver.received) == 1
        assert tenant.admin.ok("GET", f"/webhooks/{made['id']}")["data"]["enabled"] is True


def test_editors_and_viewers_are_refused(tenant):
    made = create(tenant.admin, "http://127.0.0.1:9/never")
    for api in (tenant.editor, tenant.viewer):
        for method, path in [
            ("POST", "/webhooks"),
            ("GET", "/webhooks"),
            ("GET", f"/webhooks/{made['id']}"),
            ("PATCH", f"/webhooks/{made['id']}"),
            ("DELETE", f"/webhooks/{made['id']}"),
            ("POST", f"/webhooks/{made['id']}/test"),
            ("GET", f"/webhooks/{made['id']}/deliveries"),
            ("POST", f"/webhooks/{made['id']}/deliveries/x/retry"),
        ]:
            body = {"url": "http://127.0.0.1:9/", "events": ["job.completed"]} if method == "POST" else None
            response = api.request(method, path, json=body or ({"enabled": False} if method == "PATCH" else None))
            assert response.status_code == 403, (method, path, response.text)
    assert len(tenant.admin.ok("GET", "/webhooks")["data"]) == 1
    assert deliveries(tenant.admin, made["id"]) == []


def test_at_most_20_webhooks_a_tenant(tenant):
    made = [create(tenant.admin, f"http://127.0.0.1:9/{n}") for n in range(20)]
    response = tenant.admin.post("/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["job.completed"]})
    assert response.status_code == 409 and response.json()["error"]["code"] == "WEBHOOK_LIMIT_REACHED"
    tenant.admin.ok("DELETE", f"/webhooks/{made[0]['id']}", 204)
    assert tenant.admin.get(f"/webhooks/{made[0]['id']}").status_code == 404
    assert tenant.admin.delete(f"/webhooks/{made[0]['id']}").status_code == 404  # counted down once
    create(tenant.admin, "http://127.0.0.1:9/again")
    assert (
        tenant.admin.post("/webhooks", json={"url": "http://127.0.0.1:9/y", "events": ["job.completed"]}).status_code
        == 409
    )
    assert tenant.admin.ok("GET", "/webhooks?per_page=100")["meta"]["total"] == 20


def test_bad_bodies_are_refused_with_codes(tenant):
    for body in [
        {"url": "http://127.0.0.1:9/", "events": []},
        {"url": "http://127.0.0.1:9/", "events": ["import.started"]},
        {"url": "http://127.0.0.1:9/", "events": ["job.completed", "job.completed"]},
        {"url": "http://127.0.0.1:9/", "events": ["job.completed"], "secret": "mine"},
        {"events": ["job.completed"]},
    ]:
        response = tenant.admin.post("/webhooks", json=body)
        assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_ERROR", body
    made = create(tenant.admin, "http://127.0.0.1:9/")
    changed = tenant.admin.ok("PATCH", f"/webhooks/{made['id']}", json={"events": ["import.failed"], "enabled": False})
    assert changed["data"]["events"] == ["import.failed"] and changed["data"]["enabled"] is False
    assert tenant.admin.get("/webhooks/nope").status_code == 404
