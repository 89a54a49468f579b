"""Webhooks: a tenant's subscriptions to the service's events, and their deliveries.

Each event a subscription takes becomes a delivery item (its id is the `webhook-id` every attempt
sends) and an SQS message. The delivery function attempts it; a failed attempt hides the message
until the next attempt is due (the queue's visibility timeout, set per message), so retries wait in
SQS, not in a scheduler of ours. The body is stored with the delivery: every attempt sends the same
bytes, signed anew (Standard Webhooks signs the id, the attempt's timestamp and the body).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook as Signer

from bulkimport.adapters import keys, queue, webhook_http
from bulkimport.adapters.dynamo import Attr, ControlStore, item_absent, item_exists
from bulkimport.config import WebhookDelivery, WebhookQueue, section
from bulkimport.errors import Conflict, InvalidInput, NotFound
from bulkimport.ids import id_at, new_id, now_iso
from bulkimport.paging import Page
from bulkimport.webhooks import urls
from bulkimport.webhooks.models import (
    EVENT_TYPES,
    MAX_WEBHOOKS,
    TEST_TYPE,
    Delivery,
    NewWebhook,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
)

DISABLE_AFTER = timedelta(days=5)  # of deliveries that all failed
DISABLED_REASON = "every delivery failed for 5 days"
KEEP_DELIVERIES_DAYS = 30  # the delivery log's items expire (the table's TTL) after this


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _max_attempts() -> int:
    return 1 + len(section(WebhookDelivery).retry_seconds)


# ---------------------------------------------------------------- subscriptions


def create_webhook(tenant: str, request: WebhookCreate) -> NewWebhook:
    urls.check(request.url)
    store = ControlStore()
    stamp = now_iso()
    webhook = NewWebhook(
        id=new_id(),
        url=request.url,
        events=request.events,
        description=request.description,
        created_at=stamp,
        updated_at=stamp,
        secret=_new_secret(),
    )
    pk = keys.tenant_pk(tenant)
    counted = store.update_request(
        pk,
        keys.WEBHOOK_COUNTER_SK,
        add_values={"webhooks": 1},
        condition=Attr("webhooks").not_exists() | Attr("webhooks").lt(MAX_WEBHOOKS),
    )
    item = {k: v for k, v in webhook.model_dump().items() if v is not None and k != "id"}
    written = store.update_request(
        pk, keys.webhook_sk(webhook.id), {**item, "webhook_id": webhook.id, "tenant": tenant}, condition=item_absent()
    )
    if not store.transact([counted, written]):
        raise Conflict("WEBHOOK_LIMIT_REACHED", limit=MAX_WEBHOOKS)
    return webhook


def _load(tenant: str, webhook_id: str) -> dict:
    item = ControlStore().get(keys.tenant_pk(tenant), keys.webhook_sk(webhook_id))
    if not item:
        raise NotFound("WEBHOOK_NOT_FOUND", webhook_id=webhook_id)
    return item


def _shown(item: dict) -> Webhook:
    return Webhook.model_validate({**item, "id": item["webhook_id"]})


def get_webhook(tenant: str, webhook_id: str) -> Webhook:
    return _shown(_load(tenant, webhook_id))


def _page(
    tenant: str, prefix: str, shown: Callable[[dict], Webhook | Delivery], per_page: int, cursor: str | None
) -> Page:
    """A page of the tenant's items under `prefix`, newest first, as `shown` shows them."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    items, next_cursor = store.query(pk, prefix, limit=per_page, cursor=cursor, newest_first=True)
    data = [shown(item).model_dump(mode="json") for item in items]
    return Page.of(data, per_page, next_cursor, store.count(pk, prefix))


def list_webhooks(tenant: str, per_page: int, cursor: str | None) -> Page:
    return _page(tenant, keys.WEBHOOK_PREFIX, _shown, per_page, cursor)


def update_webhook(tenant: str, webhook_id: str, request: WebhookUpdate) -> Webhook:
    _load(tenant, webhook_id)
    changes: dict[str, Any] = {"updated_at": now_iso()}
    if request.url is not None:
        urls.check(request.url)
        changes["url"] = request.url
    if request.events is not None:
        changes["events"] = list(request.events)
    if request.enabled is not None:
        changes["enabled"] = request.enabled
        if request.enabled:  # enabled again by a person: its failures count from now on
            changes |= {"disabled_reason": None, "failing_since": None}
    updated = ControlStore().update(
        keys.tenant_pk(tenant), keys.webhook_sk(webhook_id), set_values=changes, condition=item_exists()
    )
    if updated is None:
        raise NotFound("WEBHOOK_NOT_FOUND", webhook_id=webhook_id)
    return _shown(updated)


def delete_webhook(tenant: str, webhook_id: str) -> None:
    """Its pending deliveries end `failed` when next attempted; its log expires with them."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    uncounted = store.update_request(pk, keys.WEBHOOK_COUNTER_SK, add_values={"webhooks": -1})
    removed = store.delete_request(pk, keys.webhook_sk(webhook_id), condition=item_exists())
    if not store.transact([uncounted], deletes=[removed]):
        raise NotFound("WEBHOOK_NOT_FOUND", webhook_id=webhook_id)


# ---------------------------------------------------------------- deliveries


def _delivery_item(tenant: str, webhook_id: str, delivery_id: str, type_: str, data: dict, at: datetime) -> dict:
    body = json.dumps({"type": type_, "timestamp": _iso(at), "data": data}, ensure_ascii=False, separators=(",", ":"))
    return {
        "pk": keys.tenant_pk(tenant),
        "sk": keys.webhook_delivery_sk(webhook_id, delivery_id),
        "delivery_id": delivery_id,
        "webhook_id": webhook_id,
        "type": type_,
        "status": "pending",
        "attempts": 0,
        "final_attempt": _max_attempts(),
        "next_attempt_at": now_iso(),
        "created_at": now_iso(),
        "payload": body,
        "expires_at": int(time.time()) + KEEP_DELIVERIES_DAYS * 86400,
    }


def _shown_delivery(item: dict) -> Delivery:
    return Delivery.model_validate({**item, "id": item["delivery_id"]})


def _enqueue(tenant: str, webhook_id: str, delivery_id: str) -> None:
    message = {"delivery": {"tenant": tenant, "webhook_id": webhook_id, "delivery_id": delivery_id}}
    queue.send(section(WebhookQueue).webhook_queue_url, message)


def send_test(tenant: str, webhook_id: str) -> Delivery:
    _load(tenant, webhook_id)
    item = _delivery_item(
        tenant,
        webhook_id,
        new_id(),
        TEST_TYPE,
        {"webhook_id": webhook_id, "message": "A test delivery: your endpoint receives and verifies webhooks."},
        datetime.now(UTC),
    )
    ControlStore().put(item, if_absent=True)
    _enqueue(tenant, webhook_id, item["delivery_id"])
    return _shown_delivery(item)


def list_deliveries(tenant: str, webhook_id: str, per_page: int, cursor: str | None) -> Page:
    _load(tenant, webhook_id)
    return _page(tenant, keys.webhook_delivery_prefix(webhook_id), _shown_delivery, per_page, cursor)


def retry_delivery(tenant: str, webhook_id: str, delivery_id: str) -> Delivery:
    """One more attempt now, with the same `webhook-id`; if it fails, the delivery is `failed` again."""
    _load(tenant, webhook_id)
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.webhook_delivery_sk(webhook_id, delivery_id)
    item = store.get(pk, sk)
    if not item:
        raise NotFound("WEBHOOK_DELIVERY_NOT_FOUND", delivery_id=delivery_id)
    updated = store.update(
        pk,
        sk,
        set_values={"status": "pending", "final_attempt": item["attempts"] + 1, "next_attempt_at": now_iso()},
        when_status=("delivered", "failed"),
    )
    if updated is None:
        raise Conflict("WEBHOOK_DELIVERY_PENDING", delivery_id=delivery_id)
    _enqueue(tenant, webhook_id, delivery_id)
    return _shown_delivery(updated)


def fan_out(event: dict) -> int:
    """An EventBridge event of the service: a delivery to each enabled webhook of its tenant that takes
    its type. Idempotent: a delivery's id is derived from the event's and the webhook's, so the event
    seen again (SQS delivers at least once) makes no second delivery. Returns how many it made."""
    type_ = EVENT_TYPES.get(event.get("detail-type", ""))
    detail = dict(event.get("detail") or {})
    tenant = detail.pop("tenant", None)
    if type_ is None or not tenant:
        return 0
    at = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if event.get("time") else None
    at = at or datetime.now(UTC)
    store = ControlStore()
    made = 0
    for webhook in store.query_all(keys.tenant_pk(tenant), keys.WEBHOOK_PREFIX):
        if not webhook.get("enabled", True) or type_ not in webhook["events"]:
            continue
        seed = hashlib.sha256(f"{event['id']}#{webhook['webhook_id']}".encode()).digest()
        delivery_id = id_at(int(at.timestamp() * 1000), seed)
        item = _delivery_item(tenant, webhook["webhook_id"], delivery_id, type_, detail, at)
        if not store.put(item, if_absent=True):
            seen = store.get(item["pk"], item["sk"]) or {}
            if seen.get("status") != "pending" or seen.get("attempts"):
                continue  # made and sent before: its message is in the queue
        _enqueue(tenant, webhook["webhook_id"], delivery_id)
        made += 1
    return made


def attempt(tenant: str, webhook_id: str, delivery_id: str) -> int | None:
    """One attempt of a pending delivery. Returns the seconds until the next attempt is due, or None
    when the delivery is settled (delivered, failed, or not pending any more)."""
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.webhook_delivery_sk(webhook_id, delivery_id)
    delivery = store.get(pk, sk)
    if not delivery or delivery["status"] != "pending":
        return None
    webhook = store.get(pk, keys.webhook_sk(webhook_id))
    if not webhook or not webhook.get("enabled", True):
        reason = "the webhook was deleted" if not webhook else "the webhook is disabled"
        _settle(store, pk, sk, delivery, status="failed", code=None, error=reason, attempted=False)
        return None
    status, error = _send(webhook, delivery)
    attempts = delivery["attempts"] + 1
    if status is not None and 200 <= status < 300:
        _settle(store, pk, sk, delivery, status="delivered", code=status, error=None)
        store.update(pk, keys.webhook_sk(webhook_id), set_values={"failing_since": None}, condition=item_exists())
        return None
    _note_failure(store, pk, webhook)
    delays = section(WebhookDelivery).retry_seconds
    if attempts >= delivery["final_attempt"] or attempts > len(delays):
        _settle(store, pk, sk, delivery, status="failed", code=status, error=error)
        return None
    delay = delays[attempts - 1]
    next_at = _iso(datetime.now(UTC) + timedelta(seconds=delay))
    _settle(store, pk, sk, delivery, status="pending", code=status, error=error, next_attempt_at=next_at)
    return delay


def _send(webhook: dict, delivery: dict) -> tuple[int | None, str | None]:
    try:
        target = urls.check(webhook["url"])
    except InvalidInput as refused:
        return None, f"WEBHOOK_URL_NOT_ALLOWED: {refused.params['reason']}"
    body = delivery["payload"].encode()
    now = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "bulkimport-webhooks",
        "webhook-id": delivery["delivery_id"],
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(webhook["secret"]).sign(delivery["delivery_id"], now, body),
    }
    answer = webhook_http.post(
        target.scheme,
        target.host,
        target.port,
        target.address,
        target.path,
        body,
        headers,
        section(WebhookDelivery).webhook_timeout_seconds,
    )
    error = answer.error
    if answer.status is not None and not 200 <= answer.status < 300:
        error = f"HTTP {answer.status}" + (" (redirects are not followed)" if 300 <= answer.status < 400 else "")
        error += f": {answer.error}" if answer.error else ""
    return answer.status, error


def _settle(
    store: ControlStore,
    pk: str,
    sk: str,
    delivery: dict,
    status: str,
    code: int | None,
    error: str | None,
    next_attempt_at: str | None = None,
    attempted: bool = True,
) -> None:
    store.update(
        pk,
        sk,
        set_values={
            "status": status,
            "last_status_code": code,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
            "updated_at": now_iso(),
        },
        add_values={"attempts": 1} if attempted else None,
        condition=Attr("attempts").eq(delivery["attempts"]),
        new_item=False,
    )


def _note_failure(store: ControlStore, pk: str, webhook: dict) -> None:
    """Count the webhook as failing since its first failure after its last success; past 5 days of
    that, disable it (no delivery is made to it until a person enables it again)."""
    sk = keys.webhook_sk(webhook["webhook_id"])
    since = webhook.get("failing_since")
    if not since:
        store.update(pk, sk, set_values={"failing_since": now_iso()}, condition=Attr("failing_since").not_exists())
        return
    if datetime.now(UTC) - _parse_iso(since) >= DISABLE_AFTER:
        store.update(
            pk,
            sk,
            set_values={"enabled": False, "disabled_reason": DISABLED_REASON, "updated_at": now_iso()},
            condition=Attr("failing_since").eq(since),
        )


class RetryLater(Exception):
    """The message stays in the queue, hidden until the delivery's next attempt is due."""


def handle_message(body: dict, receipt_handle: str) -> None:
    """A message of the webhook queue: an event of the service (from the EventBridge rule) to fan out,
    or a delivery to attempt. Raises RetryLater once the message is hidden until its next attempt."""
    if "delivery" not in body:
        fan_out(body)
        return
    target = body["delivery"]
    delay = attempt(target["tenant"], target["webhook_id"], target["delivery_id"])
    if delay is not None:
        queue.hide(section(WebhookQueue).webhook_queue_url, receipt_handle, delay)
        raise RetryLater(f"delivery {target['delivery_id']}: next attempt in {delay} s")
