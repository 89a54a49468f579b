"""Undoing an import: the revert pass over its chunks, and the revert's end.

A revert is a run of its own kind (RevertRun, below) on the import's item, executed by the
import state machine: it waits for its table, Prepare lists the import's chunks that wrote something,
and the Map runs one revert of a chunk per item (`pass` "revert"); Finalize settles it.

Each chunk of the import left what a revert needs (imports.chunks._Undo): the ids of the records it
created and updated, and the before-images of the records it updated. Reverting a chunk:
- fixes what happens to each record, once: its first attempt writes the plan to S3 with a conditional
  put, and a retry follows that plan (by then the records show the first attempt's work);
- deletes a created record, giving its unique keys back first; puts an updated record's before-image
  back (data and meta, so the record counts as written by whoever wrote it before: reverts stack),
  taking its old key values back and giving the import's ones back;
- leaves a record that someone wrote after the import (its meta.writer is no longer the import) or
  that was deleted since, and lists it as skipped with the reason; so is a record whose old unique
  value another record holds now;
- counts deleted, restored and skipped once (runs.counting.count_once on `counted_revert_chunks`).
"""

from __future__ import annotations

from typing import Any

from bulkimport.adapters import events, keys
from bulkimport.adapters.dynamo import RecordStore, UniqueIndex, from_item
from bulkimport.adapters.s3 import BlobStore
from bulkimport.ids import now_iso
from bulkimport.imports import store
from bulkimport.imports.models import RevertChunk
from bulkimport.imports.steps import ImportRun
from bulkimport.imports.store import ChunkMarker, ImportRecord
from bulkimport.records.uniqueness import Constraint, constraints, index_pk, indexed, key_field
from bulkimport.records.writer import WRITER, in_parallel
from bulkimport.runs.counting import count_once
from bulkimport.schema.tables import add_to_record_count

REVERT_PASS = "revert"
COUNTED = store.counted_attribute(REVERT_PASS)
SKIPPED_SHOWN = 100  # skipped records listed on the import; revert.skipped_count says how many in all

CHANGED_SINCE = "CHANGED_SINCE"  # written by another import, a batch job, or another run since
DELETED_SINCE = "DELETED_SINCE"  # deleted since (a record the import updated is not brought back)
VALUE_TAKEN = "VALUE_TAKEN"  # another record holds the unique value the record had before the import


def prepare(tenant: str, import_id: str) -> dict[str, Any]:
    """The manifest of the chunks to revert: those that created or updated records and were not
    reverted yet (a restarted revert goes on where it stopped)."""
    item = store.load(tenant, import_id)
    if item.status != "reverting":
        return {"status": "stopped", "manifest_key": None, "pass": None}
    wrote = [m.index for m in store.chunk_markers(tenant, import_id) if m.written]
    store.update(tenant, import_id, {"revert_chunk_count": len(wrote)}, when_status=("reverting",))
    counted = item.counted(REVERT_PASS)
    remaining = [RevertChunk(index=index).model_dump() for index in wrote if index not in counted]
    if not remaining:
        return {"status": "nothing", "manifest_key": None, "pass": None}
    manifest_key = keys.revert_manifest_key(tenant, import_id, item.job_turns)
    BlobStore().put_json(manifest_key, remaining)
    return {"status": "ready", "manifest_key": manifest_key, "pass": REVERT_PASS}


def revert_chunk(tenant: str, import_id: str, index: int) -> dict[str, Any]:
    """Undo what chunk `index` of the import wrote; counted once however often it runs."""
    item = store.load(tenant, import_id)
    if index in item.counted(REVERT_PASS):
        return {"index": index, "counted": True}
    if item.status != "reverting":
        return {"index": index, "skipped": item.status}
    blobs = BlobStore()
    table, _ = store.tables_of(item)
    # The key field's value is the record's id: deleting the record frees it, and an update never moved it.
    unique = indexed(constraints(table, store.recipe_of(item)), key_field(table))
    plan_key = keys.revert_plan_key(tenant, import_id, index)
    plan = _plan(tenant, import_id, table.key, unique, index, blobs)
    if not blobs.put_json_once(plan_key, plan):
        plan = blobs.get_json(plan_key)  # an earlier attempt fixed it, before it changed anything
    _apply(tenant, import_id, table.key, plan)
    stamp = now_iso()
    marker = ChunkMarker(index=index, skipped=plan["skipped"][:SKIPPED_SHOWN], done_at=stamp)
    store.put_chunk_marker(tenant, import_id, REVERT_PASS, marker)
    amounts = {
        "revert_deleted": len(plan["deleted"]),
        "revert_restored": len(plan["restored"]),
        "revert_skipped": len(plan["skipped"]),
    }
    count_once(tenant, keys.import_sk(import_id), COUNTED, index, amounts, set_values={"updated_at": stamp})
    return {"index": index, **amounts}


def _plan(
    tenant: str, import_id: str, table_key: str, unique: list[Constraint], index: int, blobs: BlobStore
) -> dict[str, list]:
    """What reverting the chunk does to each record it wrote, decided from the records as they are."""
    written = blobs.get_json(keys.chunk_written_key(tenant, import_id, index))
    before: dict[str, dict] = {}
    for first_row in written["before_parts"]:
        before.update(blobs.get_json(keys.chunk_before_images_key(tenant, import_id, index, first_row)))
    current = RecordStore().get_many(tenant, table_key, written["created"] + written["updated"])

    def key_pks(record: dict) -> list[str]:
        values = {**(record.get("data") or {}), "parent_id": (record.get("meta") or {}).get("parent_id")}
        return [pk for c in unique if (pk := index_pk(tenant, table_key, c, values)) is not None]

    deleted, restored, skipped = [], [], []
    for record_id in written["created"]:
        record = current.get(record_id)
        reason = _changed_since(record, import_id)
        if reason or record is None:
            skipped.append({"record_id": record_id, "reason": reason})
        else:
            deleted.append({"record_id": record_id, "keys": key_pks(record)})
    for record_id in written["updated"]:
        record = current.get(record_id)
        reason = _changed_since(record, import_id)
        if reason or record is None or record_id not in before:
            skipped.append({"record_id": record_id, "reason": reason or CHANGED_SINCE})
            continue
        now, then = key_pks(record), key_pks(from_item(before[record_id]))
        restored.append(
            {
                "record_id": record_id,
                "item": before[record_id],
                "claim": [pk for pk in then if pk not in now],
                "release": [pk for pk in now if pk not in then],
            }
        )
    # A value the record had before may belong to another record now (one this chunk deletes gives it back).
    wanted = [pk for entry in restored for pk in entry["claim"]]
    if wanted:
        holders = UniqueIndex().holders(wanted)
        freed = {entry["record_id"] for entry in deleted}
        kept = []
        for entry in restored:
            if any(holders.get(pk) not in (None, entry["record_id"], *freed) for pk in entry["claim"]):
                skipped.append({"record_id": entry["record_id"], "reason": VALUE_TAKEN})
            else:
                kept.append(entry)
        restored = kept
    return {"deleted": deleted, "restored": restored, "skipped": skipped}


def _changed_since(record: dict | None, import_id: str) -> str | None:
    """Why a record the import wrote is left as it is (None: it is as the import left it)."""
    if record is None:
        return DELETED_SINCE
    if (record.get("meta") or {}).get(WRITER) != import_id:
        return CHANGED_SINCE
    return None


def _apply(tenant: str, import_id: str, table_key: str, plan: dict[str, list]) -> None:
    """Carry the plan out. Every step is idempotent, so a retry carries out the same plan again."""
    records, index = RecordStore(), UniqueIndex()

    def delete(entry: dict) -> None:
        for pk in entry["keys"]:  # keys first: a worker dying in between leaves the record, found again
            index.release(pk, entry["record_id"])
        records.delete(tenant, table_key, entry["record_id"])

    def restore(entry: dict) -> None:
        for pk in entry["claim"]:
            index.claim(pk, entry["record_id"], import_id)
        records.put_back(entry["item"])
        for pk in entry["release"]:
            index.release(pk, entry["record_id"])

    in_parallel(delete, plan["deleted"])  # first: they may give back values the restores take
    in_parallel(restore, plan["restored"])


class RevertRun(ImportRun):
    """Reverts as a kind of run: on the import's own item, in the import state machine (Prepare and
    the Map's pass "revert" do the revert's steps)."""

    name = "revert"
    queued_from = ()  # `reverting` from the request on, waiting for its table included
    failure_code = "REVERT_FAILED"
    interrupted_code = "REVERT_INTERRUPTED"

    def is_settled(self, item: ImportRecord) -> bool:
        return item.status != "reverting"

    def started_at(self, item: ImportRecord) -> str | None:
        return item.revert_started_at

    def settle(self, tenant: str, run_id: str, error: dict | None, failure_code: str) -> ImportRecord:
        """The revert's end (Finalize): `reverted` once every chunk is counted,
        else `revert_failed`; a cancelled revert stays `revert_cancelled`. The table's record_count loses
        the records deleted, the skipped records are listed on the import, and `Import Reverted` is sent."""
        # The count and the skipped list first, so a client that sees the revert's end sees them too.
        # The Map has ended: the counters are final (a revert's chunks are all counted, or never will be).
        item = store.load(tenant, run_id)
        add_to_record_count(
            tenant, item.table, keys.import_sk(run_id), store.records_added(item), item.record_count_added
        )
        skipped = [s for m in store.chunk_markers(tenant, run_id, REVERT_PASS) for s in m.skipped]
        stamp = now_iso()
        values: dict[str, Any] = {"revert_skipped_list": skipped[:SKIPPED_SHOWN], "updated_at": stamp}
        if item.status == "reverting":
            counted, planned = len(item.counted(REVERT_PASS)), item.revert_chunk_count
            if error or counted != planned:
                reason = (error or {}).get("Error") or f"{counted} of {planned} chunks reverted"
                values |= {"status": "revert_failed", "error": {"code": failure_code, "params": {"reason": reason}}}
            else:
                values |= {"status": "reverted"}
            ended = store.update(tenant, run_id, {**values, "revert_ended_at": stamp}, when_status=("reverting",))
            item = ended or store.load(tenant, run_id)
        else:  # cancelled (or settled before): its end is when its execution ended
            updated = store.update(tenant, run_id, {**values, "revert_ended_at": item.revert_ended_at or stamp})
            assert updated is not None  # unconditional
            item = updated
        if item.status == "reverted":
            events.publish(
                "Import Reverted",
                [
                    {
                        "tenant": tenant,
                        "import_id": run_id,
                        "table": item.table,
                        "status": "reverted",
                        "deleted": item.revert_deleted,
                        "restored": item.revert_restored,
                        "skipped": item.revert_skipped,
                    }
                ],
            )
        return item


REVERT_RUN = RevertRun()
