"""The three steps the import state machine runs: prepare, process one chunk, finalize.

Exactly once: a record's id is derived from (import, source row), so writing a chunk again rewrites
the same items; the counters move only in the transaction that creates the chunk's done-marker, so a
chunk is counted once however often it runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from bulkimport.aws import client
from bulkimport.errors import FileError
from bulkimport.ids import now_iso
from bulkimport.imports import load_import_item, recipe_of
from bulkimport.messages import render
from bulkimport.models import TERMINAL_STATUSES, Table
from bulkimport.parsing import plan_file, read_chunk
from bulkimport.settings import settings
from bulkimport.storage import keys
from bulkimport.storage.blobs import BlobStore
from bulkimport.storage.dynamo import ControlStore
from bulkimport.uniqueness import PARENT_PREFIX, DuplicateFinder, constraints
from bulkimport.validation import RowValidator
from bulkimport.writing import RecordWriter, RowPlan, WriteContext

EVENT_SOURCE = "bulkimport"


def record_id(import_id: str, row: int) -> str:
    return f"{import_id}{row:08d}"


# ---------------------------------------------------------------- prepare


def prepare(tenant: str, import_id: str) -> dict[str, Any]:
    """Scan the file, check its header, count rows and write the chunk manifest."""
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.import_sk(import_id)
    item = load_import_item(tenant, import_id)
    started = store.update(
        pk,
        sk,
        set_values={"status": "parsing", "executed_start_at": item.get("executed_start_at") or now_iso(), "updated_at": now_iso()},
        when_status=("waiting_upload", "queued", "parsing"),
    )
    if started is None:
        return {"status": "stopped", "manifest_key": None}

    recipe = recipe_of(item)
    table, parent = tables_of(item)
    blobs = BlobStore()
    cfg = settings()
    scan = RowScan(recipe, table, parent)
    try:
        with blobs.open(item["upload_key"]) as stream:
            plan = plan_file(
                stream,
                encoding_option=recipe.options.encoding,
                delimiter_option=recipe.options.delimiter,
                has_header=item["has_header"],
                chunk_rows=cfg.chunk_rows,
                chunk_bytes=cfg.chunk_bytes,
                on_header=scan.on_header,
            )
    except FileError as error:
        fail_import(tenant, import_id, error.code, error.params)
        return {"status": "stopped", "manifest_key": None, "atomic": False}

    manifest = [chunk.to_dict() for chunk in plan.chunks]
    duplicates = scan.finder.duplicates()
    for chunk in manifest:
        last = chunk["first_row"] + chunk["rows"]
        mine = {row: dup for row, dup in duplicates.items() if chunk["first_row"] <= row < last}
        if mine:
            blobs.put_json(keys.chunk_duplicates_key(tenant, import_id, chunk["index"]), mine)
            chunk["duplicates"] = True
    manifest_key = keys.manifest_key(tenant, import_id)
    blobs.put_json(manifest_key, manifest)
    atomic = bool(item.get("atomic"))
    store.update(
        pk,
        sk,
        set_values={
            "status": "importing",
            "total_count": plan.total_rows,
            "chunk_count": len(plan.chunks),
            "pass": "check" if atomic else "write",
            "file": {**item["file"], "size": plan.size, "sha256": plan.sha256},
            "reader": {"encoding": plan.encoding, "delimiter": plan.delimiter, "width": plan.width,
                       "columns": scan.columns, "header": plan.header},
            "updated_at": now_iso(),
        },
    )
    return {"status": "ready", "manifest_key": manifest_key, "atomic": atomic}


class RowScan:
    """What Prepare does with the header and every row while it plans the chunks: resolve the
    recipe's columns, and feed every valid row's unique keys to the duplicate finder, so the first
    valid row with a key is the one imported, whatever order the chunks later run in."""

    def __init__(self, recipe, table: Table, parent: Table | None):
        self.recipe, self.table, self.parent = recipe, table, parent
        self.columns: list[list] = []
        self.finder = DuplicateFinder(constraints(table, recipe))

    def on_header(self, header: list[str] | None) -> Callable[[int, list[str]], None]:
        width = len(header) if header is not None else None
        self.columns = resolve_columns(self.recipe, header, width)
        validator = row_validator(self.table, self.parent, self.columns, width)
        if not self.finder.keyed:
            return _ignore_row  # no unique keys: nothing to find, so no row needs validating here
        finder = self.finder
        parent_target = next((t for _, t in self.columns if t.startswith(PARENT_PREFIX)), None)

        def on_row(row: int, cells: list[str]) -> None:
            values, failures = validator.validate(cells)
            if not failures:
                if parent_target:
                    values["parent_id"] = values.get(parent_target)  # stands in for the parent's id
                finder.add(row, values)

        return on_row


def _ignore_row(row: int, cells: list[str]) -> None:
    return None


def tables_of(item: dict) -> tuple[Table, Table | None]:
    table = Table.model_validate(item["table_snapshot"])
    parent = item.get("parent_snapshot")
    return table, (Table.model_validate(parent) if parent else None)


def row_validator(table: Table, parent: Table | None, columns: list[list], width: int | None) -> RowValidator:
    specs = []
    for index, target in columns:
        if target.startswith(PARENT_PREFIX):
            spec = parent.field(target[len(PARENT_PREFIX):]).model_copy(update={"key": target})
        else:
            spec = table.field(target)
        specs.append((index, spec))
    return RowValidator(specs, width)


def resolve_columns(recipe, header: list[str] | None, width: int | None) -> list[list]:
    """[column index, field key] for each mapped column, or a file error naming what is missing."""
    resolved = []
    for column in recipe.columns:
        if isinstance(column.source, int):
            if width is not None and column.source >= width:
                raise FileError("COLUMN_INDEX_OUT_OF_RANGE", column=column.source, count=width)
            index = column.source
        else:
            if header is None:
                raise FileError("MISSING_COLUMN", column=column.source)
            try:
                index = header.index(column.source.strip())
            except ValueError:
                raise FileError("MISSING_COLUMN", column=column.source) from None
        resolved.append([index, column.target])
    return resolved


# ---------------------------------------------------------------- one chunk


def process_chunk(tenant: str, import_id: str, chunk: dict, pass_: str = "write") -> dict[str, Any]:
    """Validate and apply one chunk. In the check pass of an atomic import nothing is written."""
    store = ControlStore()
    marker_pk, marker_sk = keys.chunk_pk(tenant, import_id), keys.chunk_sk(chunk["index"], pass_)
    item = load_import_item(tenant, import_id)
    if chunk["index"] in item.get(_counted(pass_), ()):
        return _chunk_summary(store.get(marker_pk, marker_sk))
    if item["status"] in TERMINAL_STATUSES:
        return {"index": chunk["index"], "skipped": item["status"]}

    table, parent = tables_of(item)
    recipe = recipe_of(item)
    reader = item["reader"]
    validator = row_validator(table, parent, reader["columns"], reader.get("width"))
    blobs = BlobStore()
    duplicates = blobs.get_json(keys.chunk_duplicates_key(tenant, import_id, chunk["index"])) if chunk.get("duplicates") else {}
    data = blobs.read_range(item["upload_key"], chunk["start"], chunk["end"])

    stamp = now_iso()
    checked = check_rows(data, reader, validator, chunk, duplicates, import_id)
    del data
    plans, failures, sources, rows = checked.plans, checked.failures, checked.sources, checked.rows
    if rows != chunk["rows"]:
        # Prepare and the worker parse the same bytes the same way; a difference means the file changed.
        raise RuntimeError(f"chunk {chunk['index']} has {rows} rows, its plan says {chunk['rows']}")

    dry_run = bool(item.get("dry_run")) or pass_ == "check"
    context = WriteContext(
        tenant=tenant, table=table, recipe=recipe, parent_table=parent, dry_run=dry_run, owner=import_id,
        meta={"import_id": import_id, "created_by": item["created_by"], "created_at": stamp, "updated_at": stamp},
    )
    RecordWriter(context).apply(plans)
    for plan in plans:
        if plan.failure:
            failures[plan.row] = [_failure_entry(plan.failure)]
    inserted = sum(1 for p in plans if p.outcome == "inserted")
    succeeded = sum(1 for p in plans if p.outcome in ("inserted", "updated"))

    entries = []
    for failed_row in sorted(failures):
        line, cells = sources[failed_row]
        for position, entry in enumerate(failures[failed_row]):
            entry.update(row=failed_row, source_line=line)
            if position == 0:
                entry["cells"] = cells  # the original row, for failures.csv
            entries.append(entry)
    if entries:
        body = "\n".join(json.dumps(e, ensure_ascii=False, default=str) for e in entries).encode()
        blobs.put_bytes(keys.chunk_failures_key(tenant, import_id, chunk["index"], pass_), body, "application/x-ndjson")

    summary = {"index": chunk["index"], "rows": rows, "success": succeeded, "fail": len(failures),
               "failure_entries": len(entries)}
    # The marker (what the failures listing reads) may be written twice with the same content; the
    # counters move once, in one conditional update that also records the chunk as counted.
    store.put({"pk": marker_pk, "sk": marker_sk, **summary, "done_at": stamp})
    store.update(
        keys.tenant_pk(tenant),
        keys.import_sk(import_id),
        set_values={"updated_at": stamp},
        add_values={"processed_count": rows, "success_count": succeeded, "fail_count": len(failures),
                    "inserted_count": 0 if dry_run else inserted, _counted(pass_): {chunk["index"]}},
        condition="NOT contains(#counted, :chunk)",
        condition_values={":chunk": chunk["index"]},
        condition_names={"#counted": _counted(pass_)},
    )
    return summary


@dataclass
class CheckedRows:
    plans: list[RowPlan]  # valid rows, to be applied
    failures: dict[int, list[dict]]  # row -> failure entries
    sources: dict[int, tuple[int, list[str]]]  # row -> (source line, cells), for failure reports
    rows: int


def check_rows(data: bytes, reader: dict, validator: RowValidator, chunk: dict, duplicates: dict, import_id: str) -> CheckedRows:
    """Decode, parse and validate one chunk's bytes: the CPU work of a chunk worker before it writes."""
    failures: dict[int, list[dict]] = {}
    sources: dict[int, tuple[int, list[str]]] = {}
    plans: list[RowPlan] = []
    row = chunk["first_row"]
    for cells, line in read_chunk(data, reader["encoding"], reader["delimiter"], chunk["first_line"]):
        sources[row] = (line, cells)
        values, row_failures = validator.validate(cells)
        if row_failures:
            failures[row] = [_failure_entry(f) for f in row_failures]
        elif duplicates and str(row) in duplicates:
            label, first_row = duplicates[str(row)]
            failures[row] = [{"field": None, "code": "DUPLICATE_IN_FILE", "params": {"field": label, "first_row": first_row},
                              "first_row": first_row}]
        else:
            plans.append(RowPlan(row, values, f"{import_id}{row:08d}"))  # record_id(import_id, row), inlined
        row += 1
    return CheckedRows(plans, failures, sources, row - chunk["first_row"])


def _counted(pass_: str) -> str:
    """The import attribute holding the set of chunks counted in a pass."""
    return f"counted_{pass_}_chunks"


def _failure_entry(failure) -> dict:
    return {"field": failure.field, "code": failure.code, "params": failure.params, "value": failure.value}


def _chunk_summary(marker: dict) -> dict[str, Any]:
    return {k: marker[k] for k in ("index", "rows", "success", "fail", "failure_entries")}


# ---------------------------------------------------------------- finalize


def finalize(tenant: str, import_id: str, error: dict | None = None) -> dict[str, Any]:
    """Settle the import's final status and announce it."""
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.import_sk(import_id)
    item = load_import_item(tenant, import_id)
    if error and item["status"] not in TERMINAL_STATUSES:
        reason = error.get("Error") or "unknown"
        item = fail_import(tenant, import_id, "INTERNAL_ERROR", {"reason": reason})
    elif item["status"] == "importing":
        counted = len(item.get(_counted(item.get("pass", "write")), ()))
        if counted != item.get("chunk_count") or item["processed_count"] != item.get("total_count"):
            reason = f"{counted} of {item.get('chunk_count')} chunks counted"
            item = fail_import(tenant, import_id, "INTERNAL_ERROR", {"reason": reason})
        else:
            status = "completed" if item["fail_count"] == 0 else "completed_with_errors"
            stamp = now_iso()
            item = store.update(pk, sk, set_values={"status": status, "executed_end_at": stamp, "updated_at": stamp},
                                when_status=("importing",)) or load_import_item(tenant, import_id)
    _add_to_record_count(item)
    publish_import_event(item)
    return {"status": item["status"]}


def _add_to_record_count(item: dict) -> None:
    """Add the records an import created to its table's count, once (Finalize may run again)."""
    inserted = item.get("inserted_count", 0)
    if not inserted or item.get("record_count_added"):
        return
    store = ControlStore()
    store.transact([
        {"Update": store.update_request(
            keys.tenant_pk(item["tenant"]), keys.import_sk(item["id"]), set_values={"record_count_added": True},
            condition="attribute_not_exists(record_count_added)")},
        {"Update": store.update_request(
            keys.tenant_pk(item["tenant"]), keys.table_sk(item["table"]), add_values={"record_count": inserted},
            condition="attribute_exists(pk)")},
    ])


def after_check(tenant: str, import_id: str) -> dict[str, Any]:
    """Between an atomic import's passes: write only if no row failed the check."""
    item = load_import_item(tenant, import_id)
    if item["status"] != "importing":
        return {"proceed": False}
    if item["fail_count"] or item["processed_count"] != item.get("total_count"):
        fail_import(tenant, import_id, "ATOMIC_ROWS_FAILED", {"count": item["fail_count"]})
        return {"proceed": False}
    ControlStore().update(
        keys.tenant_pk(tenant),
        keys.import_sk(import_id),
        set_values={"pass": "write", "processed_count": 0, "success_count": 0, "fail_count": 0, "updated_at": now_iso()},
        when_status=("importing",),
    )
    return {"proceed": True}


def fail_import(tenant: str, import_id: str, code: str, params: dict | None = None) -> dict:
    stamp = now_iso()
    return ControlStore().update(
        keys.tenant_pk(tenant),
        keys.import_sk(import_id),
        set_values={"status": "failed", "error": {"code": code, "params": params or {}}, "executed_end_at": stamp, "updated_at": stamp},
    )


def publish_import_event(item: dict) -> None:
    status = item["status"]
    if status not in ("completed", "completed_with_errors", "failed"):
        return
    detail = {
        "tenant": item["tenant"],
        "import_id": item["id"],
        "table": item["table"],
        "recipe_id": item["recipe_id"],
        "status": status,
        "total_count": item.get("total_count"),
        "success_count": item.get("success_count", 0),
        "fail_count": item.get("fail_count", 0),
        "error": (item.get("error") or {}).get("code"),
    }
    if item.get("error"):
        detail["message"] = render(item["error"]["code"], item["error"].get("params"))
    client("events").put_events(
        Entries=[{
            "Source": EVENT_SOURCE,
            "DetailType": "Import Failed" if status == "failed" else "Import Completed",
            "Detail": json.dumps(detail, ensure_ascii=False),
            "EventBusName": settings().event_bus_name,
        }]
    )

