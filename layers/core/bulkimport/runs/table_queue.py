"""One run at a time per table: imports and batch jobs of a table run in the order they started.

A run takes a ticket (a ULID) when its execution starts and waits in its state machine, polling
`acquire`, until it is the first live entry of its table's queue and holds the table's lock. The queue
gives the order; the lock (one conditional put) guarantees that two runs never hold a table together,
even if their tickets were taken a millisecond apart on different machines. `release` is called when
the run settles. A run whose execution died without releasing never blocks the table: its entry and
lock are dropped by the next waiter that finds its execution no longer running.
"""

from __future__ import annotations

from pydantic import BaseModel

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore
from bulkimport.adapters.sfn import execution_running
from bulkimport.ids import now_iso


class Ticket(BaseModel):
    """A run's place in its table's queue (`queued_at`), or its hold of the table (`since`)."""

    ticket: str
    execution_arn: str
    run: str  # "import:<id>", "job:<id>"
    queued_at: str | None = None
    since: str | None = None


def acquire(tenant: str, table: str, ticket: str, execution_arn: str, run: str) -> bool:
    """Queue the run (idempotent) and take the table if it is the run's turn. `run` names it ("import:<id>")."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    entry = Ticket(ticket=ticket, execution_arn=execution_arn, run=run, queued_at=now_iso())
    store.put(_item(pk, keys.table_queue_sk(table, ticket), entry), if_absent=True)
    for item in store.query_all(pk, keys.table_queue_prefix(table)):
        ahead = Ticket.model_validate(item)
        if ahead.ticket == ticket:
            break
        if execution_running(ahead.execution_arn):
            return False
        store.delete(pk, item["sk"])  # its run died without releasing the table

    lock = Ticket(ticket=ticket, execution_arn=execution_arn, run=run, since=now_iso())
    for _ in range(2):
        if store.put(_item(pk, keys.table_lock_sk(table), lock), if_absent=True, condition=Attr("ticket").eq(ticket)):
            return True
        held = holder(tenant, table)
        if held and execution_running(held.execution_arn):
            return False
        if held:
            store.delete(pk, keys.table_lock_sk(table), condition=Attr("ticket").eq(held.ticket))
    return False


def _item(pk: str, sk: str, ticket: Ticket) -> dict:
    return {"pk": pk, "sk": sk, **ticket.model_dump(exclude_none=True)}


def release(tenant: str, table: str, ticket: str | None) -> None:
    """Give the table back (idempotent): the next run in line takes it at its next poll."""
    if not ticket:
        return
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    store.delete(pk, keys.table_lock_sk(table), condition=Attr("ticket").eq(ticket))
    store.delete(pk, keys.table_queue_sk(table, ticket))


def holder(tenant: str, table: str) -> Ticket | None:
    """The run holding the table, if any."""
    item = ControlStore().get(keys.tenant_pk(tenant), keys.table_lock_sk(table))
    return Ticket.model_validate(item) if item else None


def tenant_counts(tenant: str) -> tuple[int, int]:
    """How many of the tenant's runs hold their table (running) and wait in a table's queue (queued),
    across all its tables. A run whose execution died counts until a waiter or the sweeper drops it."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    holding = {item["ticket"] for item in store.query_all(pk, keys.TABLE_LOCK_PREFIX)}
    waiting = {item["ticket"] for item in store.query_all(pk, keys.TABLE_QUEUE_PREFIX)} - holding
    return len(holding), len(waiting)
