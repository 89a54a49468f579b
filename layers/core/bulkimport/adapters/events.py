"""EventBridge: what the service announces (imports and jobs ending, records created), all with
source `bulkimport` on the stack's bus."""

from __future__ import annotations

import json
from typing import Any

from bulkimport.adapters.aws import client
from bulkimport.config import Events, section

EVENT_SOURCE = "bulkimport"
PUT_EVENTS_MAX = 10  # entries a PutEvents call takes


def publish(detail_type: str, details: list[dict[str, Any]]) -> None:
    """One event per detail; raises if EventBridge refuses any (the caller's step is then retried)."""
    bus = section(Events).event_bus_name
    entries = [
        {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, ensure_ascii=False),
            "EventBusName": bus,
        }
        for detail in details
    ]
    events = client("events")
    for start in range(0, len(entries), PUT_EVENTS_MAX):
        response = events.put_events(Entries=entries[start : start + PUT_EVENTS_MAX])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"{response['FailedEntryCount']} {detail_type} events were not accepted")
