"""Counting a unit of a run (an import's chunk, a job's page) exactly once.

A unit's amounts move in the one conditional update that also adds the unit to the run's counted set,
so a unit run again (a retried worker, a restarted run) is never counted twice.
"""

from __future__ import annotations

from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore


def count_once(
    tenant: str,
    item_sk: str,
    counted_set: str,
    unit: int,
    amounts: dict[str, int],
    set_values: dict[str, Any] | None = None,
) -> bool:
    """Add `amounts` to the run's counters and `unit` to its `counted_set`, unless the unit is counted
    already. True if this call counted it."""
    counted = ControlStore().update(
        keys.tenant_pk(tenant),
        item_sk,
        set_values=set_values,
        add_values={**amounts, counted_set: {unit}},
        condition=~Attr(counted_set).contains(unit),
    )
    return counted is not None
