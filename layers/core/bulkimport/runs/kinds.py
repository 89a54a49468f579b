"""A kind of run, as the shared run machinery sees it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RunKind:
    name: str  # "import", "job": in execution input, active-run entries and table queue entries
    item_sk: Callable[[str], str]  # the sort key of a run's item, under its tenant's partition
    load: Callable[[str, str], dict]  # (tenant, run id) -> the run's item (NotFound if none)
    state_machine_arn: Callable[[], str]  # the state machine its executions run in
    is_settled: Callable[[dict], bool]  # whether the run's item says it is over
    # Statuses that become `queued` while the run waits for its table (empty: its status says so already).
    queued_from: tuple[str, ...]
    # The kind's own end: settle the item (status, counts, its event) after the steps ran, or with
    # `failure_code` when a step failed (`error` is what Step Functions caught). Returns the item.
    settle: Callable[[str, str, dict | None, str], dict]
    failure_code: str  # a step failed
    interrupted_code: str  # the execution died without settling the run (found by the sweeper)
    started_at_field: str  # the item's attribute saying when the run's work began (its duration metric)
