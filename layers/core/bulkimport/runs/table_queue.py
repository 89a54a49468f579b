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
    entry = Ticket(ticket=ticket, execution_arn=execution_arn, run=run, queued_at=now_iso())
    return _take(keys.tenant_pk(tenant), keys.table_queue_prefix(table), [keys.table_lock_sk(table)], entry)


def acquire_slot(tenant: str, ticket: str, execution_arn: str, run: str, slots: int) -> bool:
    """Once the run holds its table: queue it in its tenant's queue (idempotent) and take one of the
    tenant's `slots` run slots if fewer than `slots` live runs are ahead of it. The same queue and
    locks as a table's, with `slots` locks: at most that many runs of a tenant hold one at once."""
    entry = Ticket(ticket=ticket, execution_arn=execution_arn, run=run, queued_at=now_iso())
    pk = keys.tenant_pk(tenant)
    if any(item["ticket"] == ticket for item in ControlStore().query_all(pk, keys.TENANT_SLOT_PREFIX)):
        return True  # a poll repeated after it took one: never a second slot
    return _take(pk, keys.TENANT_QUEUE_PREFIX, [keys.tenant_slot_sk(i) for i in range(slots)], entry, slots)


def _take(pk: str, queue_prefix: str, lock_sks: list[str], entry: Ticket, places: int = 1) -> bool:
    """Queue `entry` under `queue_prefix` and take one of the locks `lock_sks` if fewer than `places`
    live entries are ahead of it. The queue gives the order; each lock (one conditional put) is held
    by one run at most. Entries and locks of runs whose execution died are dropped on the way."""
    store = ControlStore()
    store.put(_item(pk, f"{queue_prefix}{entry.ticket}", entry), if_absent=True)
    live_ahead = 0
    for item in store.query_all(pk, queue_prefix):
        ahead = Ticket.model_validate(item)
        if ahead.ticket == entry.ticket:
            break
        if execution_running(ahead.execution_arn):
            live_ahead += 1
            if live_ahead >= places:
                return False
        else:
            store.delete(pk, item["sk"])  # its run died without releasing

    lock = entry.model_copy(update={"queued_at": None, "since": now_iso()})
    for lock_sk in lock_sks:
        for _ in range(2):
            if store.put(_item(pk, lock_sk, lock), if_absent=True, condition=Attr("ticket").eq(entry.ticket)):
                return True
            found = store.get(pk, lock_sk)
            held = Ticket.model_validate(found) if found else None
            if held and execution_running(held.execution_arn):
                break  # held: the next lock, if any
            if held:
                store.delete(pk, lock_sk, condition=Attr("ticket").eq(held.ticket))
    return False


def _item(pk: str, sk: str, ticket: Ticket) -> dict:
    return {"pk": pk, "sk": sk, **ticket.model_dump(exclude_none=True)}


def release(tenant: str, table: str, ticket: str | None) -> None:
    """Give the table and the tenant's run slot back (idempotent): the next runs in line take them at
    their next poll."""
    if not ticket:
        return
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    for item in store.query_all(pk, keys.TENANT_SLOT_PREFIX):
        if item["ticket"] == ticket:
            store.delete(pk, item["sk"], condition=Attr("ticket").eq(ticket))
    store.delete(pk, f"{keys.TENANT_QUEUE_PREFIX}{ticket}")
    store.delete(pk, keys.table_lock_sk(table), condition=Attr("ticket").eq(ticket))
    store.delete(pk, keys.table_queue_sk(table, ticket))


def drop_execution(tenant: str, execution_arn: str) -> None:
    """Drop every queue entry and lock (of its tables, of its tenant's slots) held by an execution
    that died (the sweeper's part, so that no slot waits for the next waiter to notice)."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    for prefix in (keys.TENANT_SLOT_PREFIX, keys.TENANT_QUEUE_PREFIX, keys.TABLE_LOCK_PREFIX, keys.TABLE_QUEUE_PREFIX):
        for item in store.query_all(pk, prefix):
            if item.get("execution_arn") == execution_arn:
                store.delete(pk, item["sk"], condition=Attr("execution_arn").eq(execution_arn))


def holder(tenant: str, table: str) -> Ticket | None:
    """The run holding the table, if any."""
    item = ControlStore().get(keys.tenant_pk(tenant), keys.table_lock_sk(table))
    return Ticket.model_validate(item) if item else None


def tenant_counts(tenant: str) -> tuple[int, int]:
    """How many of the tenant's runs hold a run slot (running) and wait for their table or a slot
    (queued), across all its tables."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    running = {item["ticket"] for item in store.query_all(pk, keys.TENANT_SLOT_PREFIX)}
    waiting = {
        item["ticket"]
        for prefix in (keys.TABLE_QUEUE_PREFIX, keys.TENANT_QUEUE_PREFIX)
        for item in store.query_all(pk, prefix)
    }
    return len(running), len(waiting - running)
