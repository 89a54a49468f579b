"""Counting a unit of a run (an import's chunk, a job's page) exactly once, and showing a unit's
progress while it runs.

A unit's amounts move in the one conditional update that also adds the unit to the run's counted set,
so a unit run again (a retried worker, a restarted run) is never counted twice.

While a unit runs, its worker may note how far it got in an attribute of its own (`live_attribute`):
set, never added, and only while the unit is not counted, so a unit run twice at once or again later
shows one figure, and the update that counts it removes it. Readers add the figures of the units
not yet counted to the counters for a progress that moves inside long units; the counters themselves
stay exact.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore

LIVE_PREFIX = "live_"
# A worker notes its unit's progress at most this often: on AWS a chunk takes about a second, so
# most chunks note nothing (each note is a write of the run's item); on the local stack, every second.
LIVE_NOTE_SECONDS = 1.0


def live_attribute(counted_set: str, unit: int) -> str:
    """The attribute where a unit of the counted set notes its progress while it runs."""
    return f"{LIVE_PREFIX}{counted_set}_{unit}"


def live_amount(attributes: Mapping[str, Any], counted: Collection[int], counted_set: str) -> int:
    """What the units of `counted_set` not yet counted (`counted`: those counted) noted of their
    progress, among a run item's `attributes`."""
    prefix = f"{LIVE_PREFIX}{counted_set}_"
    total = 0
    for name, value in attributes.items():
        if name.startswith(prefix) and int(name[len(prefix) :]) not in counted:
            total += int(value)
    return total


def note_live(tenant: str, item_sk: str, counted_set: str, unit: int, amount: int) -> None:
    """Note how far a unit got (nothing once the unit is counted)."""
    ControlStore().update(
        keys.tenant_pk(tenant),
        item_sk,
        set_values={live_attribute(counted_set, unit): amount},
        condition=~Attr(counted_set).contains(unit),
        new_item=False,  # a run's item is large, and a note is made every second a unit runs
    )


def count_once(
    tenant: str,
    item_sk: str,
    counted_set: str,
    unit: int,
    amounts: dict[str, int],
    set_values: dict[str, Any] | None = None,
) -> bool:
    """Add `amounts` to the run's counters and `unit` to its `counted_set`, unless the unit is counted
    already (and remove the unit's live figure). True if this call counted it."""
    counted = ControlStore().update(
        keys.tenant_pk(tenant),
        item_sk,
        set_values={**(set_values or {}), live_attribute(counted_set, unit): None},
        add_values={**amounts, counted_set: {unit}},
        condition=~Attr(counted_set).contains(unit),
        new_item=False,
    )
    return counted is not None
