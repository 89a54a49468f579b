"""A run's life, the same for every kind: its execution starts, waits for the run's table, runs the
kind's own steps, and ends in Finalize, which settles the run, frees the table and unregisters it.
The sweeper settles runs whose execution died before reaching Finalize."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bulkimport.adapters import keys, sfn
from bulkimport.adapters.dynamo import Attr, ControlStore
from bulkimport.config import RunQueue, section
from bulkimport.ids import new_id, now_iso
from bulkimport.runs import registry, table_queue
from bulkimport.runs.kinds import RunKind


def seconds_since(stamp: str | None) -> float | None:
    """Seconds from an ISO time to now (None when the run never began its work)."""
    if not stamp:
        return None
    return round((datetime.now(UTC) - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds(), 3)


def execution_name(kind: str, tenant: str, run_id: str, turn: int) -> str:
    """`import-acme-<run id>`: the console and logs say whose run an execution is. A restarted run's
    later turns get -2, -3... The run id makes it unique; the tenant part keeps only the characters
    Step Functions allows in names (and CloudWatch in log streams) and at most 32 of them, so a name
    stays within its 80."""
    tenant_part = re.sub(r"[^0-9A-Za-z_-]", "_", tenant)[:32]
    name = f"{kind}-{tenant_part}-{run_id}"
    return name if turn <= 1 else f"{name}-{turn}"


def start(kind: RunKind, tenant: str, run_id: str, turn: int = 1) -> None:
    """Start the run's `turn`th execution. Its ticket, taken now, is its place in its table's queue.

    Starting a turn twice is harmless: Step Functions refuses a second execution of one name, and the
    item keeps the highest turn started."""
    machine = kind.state_machine_arn()
    name = execution_name(kind.name, tenant, run_id, turn)
    arn = sfn.execution_arn(machine, name)
    ControlStore().update(
        keys.tenant_pk(tenant),
        kind.item_sk(run_id),
        set_values={"execution_arn": arn, "job_turns": turn},
        condition=Attr("job_turns").not_exists() | Attr("job_turns").lt(turn),
    )
    sfn.start_execution(
        machine,
        name,
        {
            "kind": kind.name,
            "tenant": tenant,
            "run_id": run_id,
            "ticket": new_id(),
            "poll_seconds": section(RunQueue).queue_poll_seconds,
        },
    )
    registry.register(tenant, kind.name, run_id, arn)


def take_table(kind: RunKind, tenant: str, run_id: str, ticket: str, execution_arn: str, slots: int) -> dict[str, str]:
    """Whether the run may go on now ("run"), must wait ("wait": another run of the table holds it or
    is ahead in line, or the tenant's `slots` run slots are taken), or is already over ("stop":
    cancelled while it waited). The table first, then a slot: a run never holds a slot while it
    waits for its table, so waiting on a busy table takes nothing from the tenant's other tables."""
    item = kind.load(tenant, run_id)
    if kind.is_settled(item):
        return {"next": "stop"}
    run = f"{kind.name}:{run_id}"
    if table_queue.acquire(tenant, item.table, ticket, execution_arn, run) and table_queue.acquire_slot(
        tenant, ticket, execution_arn, run, slots
    ):
        return {"next": "run"}
    if kind.queued_from:
        ControlStore().update(
            keys.tenant_pk(tenant),
            kind.item_sk(run_id),
            set_values={"status": "queued", "updated_at": now_iso()},
            when_status=kind.queued_from,
        )
    return {"next": "wait"}


def finalize(
    kind: RunKind,
    tenant: str,
    run_id: str,
    error: dict | None = None,
    ticket: str | None = None,
    execution_arn: str | None = None,
    failure_code: str | None = None,
) -> dict[str, Any]:
    """Settle the run (the kind's own end, or failed when a step failed), give its table to the next
    run, and drop it from the active runs. Idempotent: a settled run stays as it is."""
    item = kind.settle(tenant, run_id, error, failure_code or kind.failure_code)
    table_queue.release(tenant, item.table, ticket)
    if execution_arn:
        registry.unregister(tenant, kind.name, run_id, execution_arn)
    return {"status": item.status, "seconds": seconds_since(kind.started_at(item))}


def settle_interrupted(kind: RunKind, entry: registry.ActiveRun) -> None:
    """Settle a registered run whose execution died, unless a newer execution took it over or it is
    settled already."""
    item = kind.load(entry.tenant, entry.run_id)
    if item.execution_arn != entry.execution_arn or kind.is_settled(item):
        return
    status = sfn.execution_status(entry.execution_arn)
    finalize(kind, entry.tenant, entry.run_id, error={"Error": status}, failure_code=kind.interrupted_code)


def sweep(kinds: dict[str, RunKind]) -> list[str]:
    """Settle every registered run whose execution is no longer running; returns "kind:id" of those settled."""
    settled = []
    for entry in registry.dead_runs():
        kind = kinds.get(entry.kind)
        if kind:
            settle_interrupted(kind, entry)
            table_queue.drop_execution(entry.tenant, entry.execution_arn)
            registry.unregister(entry.tenant, entry.kind, entry.run_id, entry.execution_arn)
            settled.append(f"{entry.kind}:{entry.run_id}")
    return settled
