from typing import Annotated

import request_examples as examples
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from contract import Data, link, operation
from web import principal

from bulkimport.errors import Conflict, InvalidInput, NotFound
from bulkimport.paging import Page
from bulkimport.webhooks import service as webhooks
from bulkimport.webhooks.models import MAX_WEBHOOKS, Delivery, NewWebhook, Webhook, WebhookCreate, WebhookUpdate

router = APIGatewayRouter()

WEBHOOK_ID = "01M8C9BVB8MA4PQ3011DQJGH53"
WEBHOOK_NOT_FOUND = NotFound("WEBHOOK_NOT_FOUND", webhook_id=WEBHOOK_ID)
URL_NOT_ALLOWED = InvalidInput(
    "WEBHOOK_URL_NOT_ALLOWED", url="https://10.0.0.5/hook", reason="10.0.0.5 is not a public address"
)
DELIVERY_NOT_FOUND = NotFound("WEBHOOK_DELIVERY_NOT_FOUND", delivery_id=WEBHOOK_ID)


@router.post(
    "/webhooks",
    **operation(
        "Create a webhook",
        tag="Webhooks",
        role="admin",
        body=True,
        answers={201: Data[NewWebhook]},
        links={
            "GetWebhook": link("GET", "/webhooks/{webhook_id}", webhook_id="$response.body#/data/id"),
            "TestWebhook": link("POST", "/webhooks/{webhook_id}/test", webhook_id="$response.body#/data/id"),
        },
        errors=[URL_NOT_ALLOWED, Conflict("WEBHOOK_LIMIT_REACHED", limit=MAX_WEBHOOKS)],
        description="The URL must be https and its host resolve to public addresses only. The answer's `secret` "
        "(`whsec_...`) signs every delivery and is shown this once. At most 20 webhooks a tenant.",
    ),
)
def create_webhook(body: Annotated[WebhookCreate, examples.WEBHOOK]):
    caller = principal(router)
    return {"data": webhooks.create_webhook(caller.tenant, body).model_dump(mode="json")}, 201


@router.get(
    "/webhooks",
    **operation("List webhooks", tag="Webhooks", role="admin", paged=True, answers={200: Page[Webhook]}),
)
def list_webhooks(
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return webhooks.list_webhooks(caller.tenant, per_page, cursor).model_dump(mode="json")


@router.get(
    "/webhooks/<webhook_id>",
    **operation(
        "Get a webhook", tag="Webhooks", role="admin", answers={200: Data[Webhook]}, errors=[WEBHOOK_NOT_FOUND]
    ),
)
def get_webhook(webhook_id: str):
    caller = principal(router)
    return {"data": webhooks.get_webhook(caller.tenant, webhook_id).model_dump(mode="json")}


@router.patch(
    "/webhooks/<webhook_id>",
    **operation(
        "Change a webhook",
        tag="Webhooks",
        role="admin",
        body=True,
        answers={200: Data[Webhook]},
        errors=[WEBHOOK_NOT_FOUND, URL_NOT_ALLOWED],
        description="`url`, `events`, `enabled`. Enabling a webhook the service disabled clears `disabled_reason`.",
    ),
)
def update_webhook(webhook_id: str, body: WebhookUpdate):
    caller = principal(router)
    return {"data": webhooks.update_webhook(caller.tenant, webhook_id, body).model_dump(mode="json")}


@router.delete(
    "/webhooks/<webhook_id>",
    **operation("Delete a webhook", tag="Webhooks", role="admin", answers={204: None}, errors=[WEBHOOK_NOT_FOUND]),
)
def delete_webhook(webhook_id: str):
    caller = principal(router)
    webhooks.delete_webhook(caller.tenant, webhook_id)
    return None, 204


@router.post(
    "/webhooks/<webhook_id>/test",
    **operation(
        "Send a test delivery",
        tag="Webhooks",
        role="admin",
        answers={202: Data[Delivery]},
        errors=[WEBHOOK_NOT_FOUND],
        description="A `webhook.test` delivery, signed and retried as any other; follow it in the deliveries.",
    ),
)
def test_webhook(webhook_id: str):
    caller = principal(router)
    return {"data": webhooks.send_test(caller.tenant, webhook_id).model_dump(mode="json")}, 202


@router.get(
    "/webhooks/<webhook_id>/deliveries",
    **operation(
        "List a webhook's deliveries",
        tag="Webhooks",
        role="admin",
        paged=True,
        answers={200: Page[Delivery]},
        errors=[WEBHOOK_NOT_FOUND],
        description="Newest first, kept 30 days.",
    ),
)
def list_deliveries(
    webhook_id: str,
    per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    cursor: Annotated[str | None, Query()] = None,
):
    caller = principal(router)
    return webhooks.list_deliveries(caller.tenant, webhook_id, per_page, cursor).model_dump(mode="json")


@router.post(
    "/webhooks/<webhook_id>/deliveries/<delivery_id>/retry",
    **operation(
        "Retry a delivery",
        tag="Webhooks",
        role="admin",
        answers={202: Data[Delivery]},
        errors=[WEBHOOK_NOT_FOUND, DELIVERY_NOT_FOUND, Conflict("WEBHOOK_DELIVERY_PENDING", delivery_id=WEBHOOK_ID)],
        description="One more attempt now, with the same `webhook-id`; a delivery still being retried is refused.",
    ),
)
def retry_delivery(webhook_id: str, delivery_id: str):
    caller = principal(router)
    return {"data": webhooks.retry_delivery(caller.tenant, webhook_id, delivery_id).model_dump(mode="json")}, 202
