"""Applying validated rows to a table: parents, unique keys, insert / upsert / update.

Given the rows of one chunk that passed validation and the in-file duplicate check, decide each
row's fate and write it. Every step is idempotent, so a chunk run again lands in the same state:
- a new record's id is fixed: by its key field's value in a table with a unique field (the record's
  conditional put is that key's claim; meta.origin, the import and row, tells a rerun its own
  insert), else by (import, row); its other unique keys are claimed for that id;
- an update sets the same values again; a record's key field value never changes (UNIQUE_KEY_FIXED);
- keys a row claimed before it failed are given back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore, RecordStore, UniqueIndex, to_attr
from bulkimport.recipes.models import AUTO, ID_TARGET, PARENT_PREFIX, Recipe
from bulkimport.records.uniqueness import (
    Constraint,
    constraints,
    digest,
    identity,
    index_pk,
    indexed,
    key_field,
    keyed_record_id,
    record_id_of,
    table_constraint,
)
from bulkimport.schema.models import Table
from bulkimport.schema.validation import RowFailure

# Claims and updates are one request per row; a worker keeps this many in flight.
PARALLEL_REQUESTS = 16
WRITER = "writer"  # the record's meta attribute naming the run that wrote it last (WriteContext.owner)
# A keyed record's meta attribute naming the write that created it: the (import, row) or (batch, index)
# id the record would have without a key field. A rerun knows its own insert by it.
ORIGIN = "origin"
_RECORD_ID, _DATA = attrgetter("record_id"), attrgetter("data")  # of a RowPlan


@dataclass(slots=True)  # one per row of a chunk
class RowPlan:
    row: int
    values: dict[str, Any]  # field -> typed value, including "parent.<field>" links
    record_id: str  # the id a new record gets: given as (import, row); RecordWriter.apply keys it
    # What is stored: set by RecordWriter.apply (or by the caller of update_record) before anything reads
    # it, so typed as set; an Optional would cost a check per row to read it.
    data: dict[str, Any] = None  # type: ignore[assignment]
    parent_id: str | None = None
    existing_id: str | None = None
    failure: RowFailure | None = None
    outcome: str | None = None  # "inserted", "updated" or "unchanged" (an update that changes nothing)
    origin: str | None = None  # the id given, when record_id is the key field's (see ORIGIN)
    current: dict | None = None  # the existing record, when finding it read it


@dataclass
class WriteContext:
    tenant: str
    table: Table
    recipe: Recipe | None  # None for records created by the API: insert, by the table's own keys
    parent_table: Table | None
    dry_run: bool
    meta: dict[str, Any]  # import_id, created_by, timestamps: stamped on what is written
    owner: str  # who claims keys (the import id); also stamped on what is written, as meta.writer
    # Called with {record id: stored item} of the records a part of rows is about to update, before
    # any of them is written (an import keeps them, to revert itself). Not called in a dry run.
    before_update: Callable[[dict[str, dict]], None] | None = None


class RecordWriter:
    def __init__(self, context: WriteContext):
        self.ctx = context
        self.store = RecordStore()
        self.index = UniqueIndex()
        self.keyed = key_field(context.table)  # the table's records are keyed by its value
        # The constraints with index items: every one but the key field's.
        self.constraints = indexed(constraints(context.table, context.recipe), self.keyed)
        self.identity = identity(context.table, context.recipe) if context.recipe else None
        # Only a recipe that maps parent links puts "parent.<field>" values in a row, and only one
        # that maps "id" the record id (it names the record, it is not a field).
        recipe = context.recipe
        self._links = recipe is None or any(c.target.startswith(PARENT_PREFIX) for c in recipe.mapped)
        self._ids = recipe is not None and (recipe.columns == AUTO or any(c.target == ID_TARGET for c in recipe.mapped))
        self.by_id = recipe is not None and recipe.unique_columns == [ID_TARGET]
        # What every new record carries in `meta`, encoded once: updated_at is written by updates
        # only (until then it reads as created_at), and the source row is in the record id.
        # `writer` says who wrote a record last: a revert changes only records still as their import left them.
        self._insert_meta = {k: v for k, v in context.meta.items() if k != "updated_at"} | {WRITER: context.owner}
        self._insert_meta_attr = to_attr(self._insert_meta)

    # ------------------------------------------------------------ the whole chunk
    def apply(self, plans: list[RowPlan], write_records: bool = True) -> list[RowPlan]:
        """Decide and apply every row. With write_records False, new records get their keys but are
        left for the caller to write (outcome "claimed")."""
        if self._links or self._ids:
            for plan in plans:
                plan.data = {k: v for k, v in plan.values.items() if not k.startswith(PARENT_PREFIX) and k != ID_TARGET}
        else:
            for plan in plans:
                plan.data = plan.values  # nothing to take out (and without links nothing reads values again)
        if self.keyed is not None:
            self._key_records(plans)
        live = plans
        if self.ctx.table.parent:
            live = self._resolve_parents(live)
        live = self._find_existing(live)
        # Updates first: an upsert whose key points at a record that was never written becomes an insert.
        self._update_existing([p for p in live if p.existing_id is not None])
        inserts = [p for p in live if p.existing_id is None and p.failure is None and p.outcome is None]
        if self.ctx.dry_run and self.keyed is not None:
            self._check_keyed_free(inserts)
        if self.constraints:  # without index items there is nothing to claim
            self._parallel(self._insert_keys, [p for p in inserts if p.failure is None])
        new_records = [p for p in inserts if p.failure is None]
        if not write_records:
            for plan in new_records:
                plan.outcome = "claimed"
            return plans
        if not self.ctx.dry_run:
            # A keyed record's conditional put is its key's claim; the others go 25 at a time.
            self._parallel(self.put_new, [p for p in new_records if p.origin is not None])
            self.store.write_items(self.iter_record_items([p for p in new_records if p.origin is None]))
        for plan in new_records:
            if plan.failure is None:
                plan.outcome = "inserted"
        return plans

    def put_new(self, plan: RowPlan) -> None:
        """Create the record of a row with a conditional put. A record already there that this very
        write created (an earlier attempt: same origin) is the row's insert; any other holds the key
        field's value: the row fails ALREADY_EXISTS and gives back the keys it claimed."""
        existing = self.store.put_new(self.record_item(plan))
        if existing is None or self._own_insert(existing, plan):
            return
        assert self.keyed is not None  # an unkeyed record's id is its origin's: only its own write has it
        plan.failure = self._taken(self.keyed, plan.data)
        for constraint in self.constraints:
            pk = self._index_pk(constraint, plan.data)
            if pk is not None:
                self.index.release(pk, plan.record_id, plan.origin)

    # ------------------------------------------------------------ steps
    def _key_records(self, plans: list[RowPlan]) -> None:
        """Give each row with a key field value the id of the record that value keys."""
        keyed, tenant, table = self.keyed, self.ctx.tenant, self.ctx.table.key
        assert keyed is not None
        for plan in plans:
            record_id = record_id_of(tenant, table, keyed, plan.data)
            if record_id is not None and plan.origin is None:
                plan.origin, plan.record_id = plan.record_id, record_id

    def _check_keyed_free(self, plans: list[RowPlan]) -> None:
        """Dry run: fail the new rows whose key field value a record holds (what the put would find)."""
        keyed = [p for p in plans if p.origin is not None]
        found = self.store.get_many(self.ctx.tenant, self.ctx.table.key, [p.record_id for p in keyed])
        for plan in keyed:
            holder = found.get(plan.record_id)
            if holder is not None and not self._own_insert(holder, plan):
                assert self.keyed is not None
                plan.failure = self._taken(self.keyed, plan.data)

    @staticmethod
    def _own_insert(record: dict, plan: RowPlan) -> bool:
        """Whether `record` is the one this row's write creates (an earlier attempt wrote it)."""
        meta = record.get("meta") or {}
        return (meta.get(ORIGIN) or record.get("sk")) == (plan.origin or plan.record_id)

    def _resolve_parents(self, plans: list[RowPlan]) -> list[RowPlan]:
        """Find each row's parent record by the parent's unique field the recipe maps (or, without
        a recipe, check the parent_id each record names)."""
        parent = self.ctx.parent_table
        assert parent is not None  # a child table's rows are written with their parent table
        if self.ctx.recipe is None:
            for plan in plans:
                if not plan.parent_id or self.store.get(self.ctx.tenant, parent.key, plan.parent_id) is None:
                    plan.failure = RowFailure("parent_id", "PARENT_NOT_FOUND", {"field": "parent_id"}, plan.parent_id)
                else:
                    plan.data["parent_id"] = plan.parent_id
            return [p for p in plans if p.failure is None]
        links = [t for t in self._mapped_targets() if t.startswith(PARENT_PREFIX)]
        field_name = links[0][len(PARENT_PREFIX) :]
        constraint = table_constraint(parent, field_name)
        by_key = constraint == key_field(parent)  # the parent's id is its value's: no index item
        wanted: dict[int, str] = {}
        for plan in plans:
            key = constraint.key({field_name: plan.values.get(links[0])})
            if key is None:
                plan.failure = RowFailure(links[0], "PARENT_NOT_FOUND", {"field": constraint.label})
            elif by_key:
                wanted[plan.row] = keyed_record_id(self.ctx.tenant, parent.key, key)
            else:
                wanted[plan.row] = keys.unique_index_pk(self.ctx.tenant, parent.key, constraint.name, digest(key))
        if by_key:
            found = {i: i for i in self.store.get_many(self.ctx.tenant, parent.key, list(wanted.values()))}
        else:
            found = self.index.holders(list(wanted.values()))
        for plan in plans:
            if plan.row in wanted:
                plan.parent_id = found.get(wanted[plan.row])
                if plan.parent_id is None:
                    plan.failure = RowFailure(
                        links[0], "PARENT_NOT_FOUND", {"field": constraint.label}, str(plan.values.get(links[0]))
                    )
                else:
                    plan.data["parent_id"] = plan.parent_id  # only for the identity key; not stored in data
        return [p for p in plans if p.failure is None]

    def _find_existing(self, plans: list[RowPlan]) -> list[RowPlan]:
        """Look up the record each row is about; apply the mode's rule to found and missing ones."""
        mode = self.ctx.recipe.mode if self.ctx.recipe else "insert"
        if self.by_id and mode != "insert":
            return self._find_by_id(plans, mode)
        if self.identity is None or mode == "insert":
            return plans  # an insert's key is taken or not when it claims it (its put, for the key field)
        if self.identity == self.keyed:
            return self._find_keyed(plans, mode)
        wanted = {p.row: self._index_pk(self.identity, p.data) for p in plans}
        found = self.index.holders([pk for pk in wanted.values() if pk])
        live = []
        for plan in plans:
            pk = wanted[plan.row]
            holder = found.get(pk) if pk else None
            if holder == plan.record_id and plan.origin is None:
                holder = None  # this row's own insert, from an earlier run of this chunk (keyed: by its origin)
            if holder is None and mode == "update":
                plan.failure = self.record_missing()
            else:
                # (A keyed row's own earlier insert holds it too: _update_existing tells it by its origin.)
                plan.existing_id = holder
                live.append(plan)
        return live

    def _find_keyed(self, plans: list[RowPlan], mode: str) -> list[RowPlan]:
        """Rows whose identity is the key field: their record's id is the value's, read by key (one
        BatchGetItem per 100 rows, which is also what an update needs of it)."""
        found = self.store.get_many(self.ctx.tenant, self.ctx.table.key, [p.record_id for p in plans if p.origin])
        live = []
        for plan in plans:
            current = found.get(plan.record_id) if plan.origin else None
            if current is not None and self._own_insert(current, plan):
                current = None  # this row's own insert, from an earlier run of this chunk
            if current is None and mode == "update":
                plan.failure = self.record_missing()
                continue
            if current is not None:
                plan.existing_id, plan.current = plan.record_id, current
            live.append(plan)
        return live

    def _insert_keys(self, plan: RowPlan) -> None:
        """Claim every indexed unique key of a new record (in a dry run: check that none is taken).
        A keyed record's claims are its origin's: another row of the same key field value shares
        its id, and that row's claim refuses this one (the key field's value is taken)."""
        claimed = []
        for constraint in self.constraints:
            pk = self._index_pk(constraint, plan.data)
            if pk is None:
                continue
            if self.ctx.dry_run:
                holder = self.index.holders([pk]).get(pk)
                free = holder in (None, plan.record_id)
            else:
                free = self._claim(pk, plan.record_id, plan.origin)
            if not free:
                held = None if self.ctx.dry_run or plan.origin is None else self.index.holder(pk)
                # Held for this very record id by another row: that row has this key field value.
                same_record = held is not None and held["record_id"] == plan.record_id
                plan.failure = self._taken(self.keyed if same_record and self.keyed else constraint, plan.data)
                break
            claimed.append(pk)
        if plan.failure and not self.ctx.dry_run:
            for pk in claimed:
                self.index.release(pk, plan.record_id, plan.origin)

    def _update_existing(self, plans: list[RowPlan]) -> None:
        """Read the records the rows found (one BatchGetItem per 100), hand them to before_update,
        then update each."""
        ids = [p.existing_id for p in plans if p.existing_id is not None and p.current is None]
        if not plans:
            return
        current = self.store.get_many(self.ctx.tenant, self.ctx.table.key, ids) if ids else {}
        current.update({p.existing_id: p.current for p in plans if p.current is not None and p.existing_id})
        for plan in plans:
            found = current.get(plan.existing_id or "")
            if found is not None and plan.origin is not None and self._own_insert(found, plan):
                # This row's own insert, from an earlier run of this chunk: inserted, not updated.
                del current[plan.existing_id or ""]
                plan.existing_id = None
        plans = [p for p in plans if p.existing_id is not None]
        if current and self.ctx.before_update and not self.ctx.dry_run:
            self.ctx.before_update(current)
        self._parallel(lambda plan: self._update(plan, current.get(plan.existing_id or "")), plans)

    def _update(self, plan: RowPlan, current: dict | None) -> None:
        """Set the mapped fields of an existing record (`current`, as read), moving any unique key
        whose value changes."""
        if current is None:  # deleted, or claimed by a writer that never wrote it
            assert self.ctx.recipe is not None  # only a recipe's upsert or update finds existing records
            if self.ctx.recipe.mode == "upsert":
                plan.existing_id = None  # insert it instead
            else:
                plan.failure = self.record_missing()
            return
        self.update_record(plan, current)

    def update_record(self, plan: RowPlan, current: dict) -> None:
        """Set plan.data on the existing record `current` (as read; its id is plan.existing_id): claim
        the new value of every unique key that changes, write, then give the old value back. A key
        another record holds fails the row ALREADY_EXISTS and changes nothing."""
        record_id = plan.existing_id
        assert record_id is not None  # `current` is that record: the caller found it
        before = {**current.get("data", {}), "parent_id": (current.get("meta") or {}).get("parent_id")}
        after = {**before, **plan.data}
        if self.keyed is not None and self.keyed.key(before) != self.keyed.key(after):
            plan.failure = self._key_fixed(after)
            return
        moves = self._key_moves(before, after)
        taken = self._claim_moved_keys(plan, moves, after, record_id)
        data = {k: v for k, v in plan.data.items() if k != "parent_id"}
        unchanged = not moves and _same_values(current.get("data") or {}, data)
        if plan.failure or self.ctx.dry_run:
            if not self.ctx.dry_run:  # a dry run claimed nothing
                self._release(taken, record_id)
            plan.outcome = None if plan.failure else "unchanged" if unchanged else "updated"
            return
        if unchanged:
            # The record already holds these values: nothing to write. Written by this very run (an
            # earlier attempt of the chunk), it is this run's update all the same.
            plan.outcome = "updated" if (current.get("meta") or {}).get(WRITER) == self.ctx.owner else "unchanged"
            return
        if not self.store.update_data(self.ctx.tenant, self.ctx.table.key, record_id, data, self._update_meta()):
            plan.failure = self.record_missing()
            self._release(taken, record_id)
            return
        self._release([old_pk for _, old_pk, _ in moves if old_pk], record_id)
        plan.outcome = "updated"

    def _key_fixed(self, after: dict) -> RowFailure:
        """The record is stored under its key field's value: that value is its id, for its life."""
        assert self.keyed is not None
        shown = self.keyed.shown(after)
        return RowFailure(
            self.keyed.fields[0], "UNIQUE_KEY_FIXED", {"field": self.keyed.label, "value": shown}, value=shown
        )

    def _key_moves(self, before: dict, after: dict) -> list[tuple[Constraint, str | None, str | None]]:
        """The further unique keys whose value the update changes: (constraint, old key, new key)."""
        moves = []
        for constraint in self.constraints:
            old_pk, new_pk = self._index_pk(constraint, before), self._index_pk(constraint, after)
            if old_pk != new_pk:
                moves.append((constraint, old_pk, new_pk))
        return moves

    def _claim_moved_keys(
        self, plan: RowPlan, moves: list[tuple[Constraint, str | None, str | None]], after: dict, record_id: str
    ) -> list[str]:
        """Claim each changed key's new value for the record (a dry run only looks whether it is free);
        the first one another record holds fails the row. The keys taken (claimed, or found free)."""
        taken = []
        for constraint, _, new_pk in moves:
            if new_pk is None:
                continue
            if self.ctx.dry_run:
                free = self.index.holders([new_pk]).get(new_pk) in (None, record_id)
            else:
                free = self._claim(new_pk, record_id)
            if not free:
                plan.failure = self._taken(constraint, after)
                break
            taken.append(new_pk)
        return taken

    def _release(self, pks: list[str], record_id: str) -> None:
        for pk in pks:
            self.index.release(pk, record_id)

    def _update_meta(self) -> dict:
        """An updated record's meta: when, by whom, this run as its writer, and the run that changed
        it last."""
        meta = {
            "updated_at": self.ctx.meta["updated_at"],
            "updated_by": self.ctx.meta["created_by"],
            WRITER: self.ctx.owner,
        }
        meta.update({k: self.ctx.meta[k] for k in ("import_id", "job_id") if self.ctx.meta.get(k)})
        return meta

    def _claim(self, pk: str, record_id: str, origin: str | None = None) -> bool:
        """Claim a key (for a new keyed record: for its origin, see UniqueIndex.claim); a key held for
        a record that was never written, by an import that has ended (it died between claiming and
        writing), is taken over rather than refused."""
        if self.index.claim(pk, record_id, self.ctx.owner, origin):
            return True
        held = self.index.holder(pk)
        if held is None:
            return self.index.claim(pk, record_id, self.ctx.owner, origin)
        holder_exists = self.store.get(self.ctx.tenant, self.ctx.table.key, held["record_id"]) is not None
        if holder_exists or not self.orphaned_by(held.get("owner")):
            return False
        return self.index.take_over(pk, held["record_id"], record_id, self.ctx.owner, origin)

    def orphaned_by(self, owner: str | None) -> bool:
        """Whether the claim's owner can no longer write the record it claimed for."""
        if not owner or owner == self.ctx.owner:
            return False
        # Keys are claimed for new records by imports only (the owner is the import's id): its item
        # says whether it ended. Read by key, so the writer needs nothing of the imports package.
        run = ControlStore().get(keys.tenant_pk(self.ctx.tenant), keys.import_sk(owner))
        return run is not None and run["status"] in ("failed", "cancelled")

    # ------------------------------------------------------------ helpers
    def record_item(self, plan: RowPlan) -> dict:
        return self.record_items([plan])[0]

    def record_items(self, plans: list[RowPlan]) -> list[dict]:
        return list(self.iter_record_items(plans))

    def iter_record_items(self, plans: list[RowPlan]) -> Iterator[dict]:
        """The DynamoDB items of new records, one at a time (a chunk's writes take them 25 at a time,
        so its items are never all in memory)."""
        ids: Sequence[str]
        datas: Sequence[dict[str, Any]]
        metas: Iterable[dict]
        if self.ctx.table.parent or self.keyed is not None:
            ids, datas, metas = zip(*map(self._record_parts, plans)) if plans else ((), (), ())
        else:
            # Without a parent table no record has a parent id (parent_id is no field's key either):
            # each record is its id, its data and the chunk's meta, taken without a call per record.
            ids, datas, metas = list(map(_RECORD_ID, plans)), list(map(_DATA, plans)), repeat(self._insert_meta_attr)
        return self.store.encoded_items(self.ctx.tenant, self.ctx.table.key, ids, datas, metas)

    def _record_parts(self, plan: RowPlan) -> tuple[str, dict[str, Any], dict]:
        data = plan.data
        if not plan.parent_id and "parent_id" not in data:
            if plan.origin is None:
                return plan.record_id, data, self._insert_meta_attr  # the same for every record of the chunk
            return plan.record_id, data, {"M": {**self._insert_meta_attr["M"], ORIGIN: {"S": plan.origin}}}
        # The parent's id is kept in meta, not among the record's fields.
        data = {k: v for k, v in data.items() if k != "parent_id"}
        meta = {**self._insert_meta, "parent_id": plan.parent_id} if plan.parent_id else dict(self._insert_meta)
        if plan.origin is not None:
            meta[ORIGIN] = plan.origin
        return plan.record_id, data, to_attr(meta)

    def _taken(self, constraint: Constraint, values: dict[str, Any]) -> RowFailure:
        """ALREADY_EXISTS: another record holds this row's value of the constraint."""
        shown = constraint.shown(values)
        field = self._first_field(constraint)
        return RowFailure(field, "ALREADY_EXISTS", {"field": constraint.label, "value": shown}, value=shown)

    def _index_pk(self, constraint: Constraint, values: dict[str, Any]) -> str | None:
        return index_pk(self.ctx.tenant, self.ctx.table.key, constraint, values)

    def record_missing(self) -> RowFailure:
        if self.identity is None:  # a record named by its id (batch jobs)
            return RowFailure(ID_TARGET, "NOT_FOUND", {"field": ID_TARGET})
        return RowFailure(self._first_field(self.identity), "NOT_FOUND", {"field": self.identity.label})

    def _first_field(self, constraint: Constraint) -> str:
        return next((f for f in constraint.fields if f != "parent_id"), constraint.fields[0])

    def _mapped_targets(self) -> list[str]:
        assert self.ctx.recipe is not None  # called for a recipe's rows only
        return [c.target for c in self.ctx.recipe.mapped]

    def _find_by_id(self, plans: list[RowPlan], mode: str) -> list[RowPlan]:
        """Rows that name their record by its id (an export edited and imported back): a row with an
        id updates that record (one that is gone: update fails NOT_FOUND, upsert inserts); a row
        without one is a new record (update: NOT_FOUND)."""
        live = []
        for plan in plans:
            record_id = plan.values.get(ID_TARGET)
            if record_id and record_id != (plan.origin or plan.record_id):
                plan.existing_id = record_id  # _update finds whether it exists
            elif mode == "update":
                plan.failure = RowFailure(ID_TARGET, "NOT_FOUND", {"field": ID_TARGET})
                continue
            live.append(plan)
        return live

    @staticmethod
    def _parallel(work: Callable[[RowPlan], None], plans: list[RowPlan]) -> None:
        in_parallel(work, plans)


def _same_values(stored: dict[str, Any], changes: dict[str, Any]) -> bool:
    """Whether setting `changes` (None: remove the field) leaves the stored fields as they are."""
    return all(stored.get(name) == value for name, value in changes.items())


def in_parallel(work: Callable[[Any], None], items: list) -> None:
    """Run `work` on every item, PARALLEL_REQUESTS at a time (each is one or a few DynamoDB requests).

    Each of PARALLEL_REQUESTS tasks takes the next item until none is left: a task per thread, not
    per item, since a future, its lock and a wake-up for every row cost more CPU than a small
    request's own client-side work. After an error no task takes another item, and the error is
    raised. The tasks run in the process's pool (_pool)."""
    if len(items) <= 1:
        for item in items:
            work(item)
        return
    feed = iter(items)
    taking = threading.Lock()
    failed = threading.Event()

    def drain() -> None:
        while not failed.is_set():
            with taking:
                item = next(feed, _NONE_LEFT)
            if item is _NONE_LEFT:
                return
            try:
                work(item)
            except BaseException:
                failed.set()
                raise

    tasks = [_pool().submit(drain) for _ in range(min(PARALLEL_REQUESTS, len(items)))]
    for task in tasks:
        task.result()  # waits for every task; raises a task's error


_NONE_LEFT = object()
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One pool of threads for the process's lifetime: a chunk applies its rows 100 at a time
    (imports.chunks.APPLY_ROWS), and starting PARALLEL_REQUESTS threads for each part cost more than
    the part's claims. No task waits for another, so tasks of concurrent calls (a local stack runs
    many handlers in one process; a Lambda runs one at a time) only queue, never deadlock."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=4 * PARALLEL_REQUESTS, thread_name_prefix="in-parallel")
        return _POOL
