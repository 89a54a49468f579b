"""Webhooks as the API takes and shows them: subscriptions and their deliveries."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from bulkimport.schema.models import MAX_DESCRIPTION, REQUEST, Strict

EventType = Literal["import.completed", "import.failed", "import.reverted", "job.completed", "record.created"]
# The product's EventBridge events (adapters/events.py), by their webhook type.
EVENT_TYPES: dict[str, EventType] = {
    "Import Completed": "import.completed",
    "Import Failed": "import.failed",
    "Import Reverted": "import.reverted",
    "Job Completed": "job.completed",
    "Record Created": "record.created",
}
TEST_TYPE = "webhook.test"
MAX_URL = 2048
MAX_WEBHOOKS = 20  # per tenant


def _distinct(events: list[str]) -> list[str]:
    if len(set(events)) != len(events):
        raise ValueError("each event type once")
    return events


class WebhookCreate(Strict):
    model_config = REQUEST
    url: str = Field(min_length=1, max_length=MAX_URL)
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)

    _distinct = field_validator("events")(classmethod(lambda cls, v: _distinct(v)))


class WebhookUpdate(Strict):
    model_config = REQUEST
    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))
    enabled: bool | None = None

    _distinct = field_validator("events")(classmethod(lambda cls, v: v if v is None else _distinct(v)))


class Webhook(Strict):
    model_config = ConfigDict(extra="ignore", strict=False)
    id: str
    url: str
    events: list[EventType]
    description: str | None = None
    enabled: bool = True
    disabled_reason: str | None = Field(
        default=None, description="Why the service disabled it (its deliveries all failed for 5 days)."
    )
    created_at: str
    updated_at: str


class NewWebhook(Webhook):
    """A webhook just created: `secret` signs its deliveries and is shown this once."""

    secret: str = Field(description="`whsec_...`: verify deliveries with it (Standard Webhooks libraries).")


DeliveryStatus = Literal["pending", "delivered", "failed"]


class Delivery(Strict):
    model_config = ConfigDict(extra="ignore", strict=False)
    id: str = Field(description="Sent as `webhook-id`, the same on every attempt: receivers deduplicate by it.")
    webhook_id: str
    type: str
    status: DeliveryStatus
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None
    created_at: str
