"""The three steps the import state machine runs: prepare, process one chunk, finalize.

Exactly once: a record's id is derived from (import, source row), so writing a chunk again rewrites
the same items; the counters move only in the transaction that creates the chunk's done-marker, so a
chunk is counted once however often it runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from bulkimport.jobs import service as jobs
from bulkimport.runs import registry as runs
from bulkimport.runs import table_queue
from bulkimport.adapters.aws import client
from bulkimport.errors import FileError
from bulkimport.ingest.formats import Limits
from bulkimport.ids import now_iso
from bulkimport.imports.service import counted_attribute, load_import_item, recipe_of
from bulkimport.i18n.messages import render
from bulkimport.imports.models import TERMINAL_STATUSES
from bulkimport.schema.models import Table
from bulkimport.ingest.parsing import plan_upload, read_chunk
from bulkimport.config import settings
from bulkimport.adapters import keys
from bulkimport.adapters.s3 import BlobStore
from bulkimport.adapters.dynamo.store import ControlStore
from bulkimport.runs.table_queue import execution_status
from bulkimport.schema.tables import add_to_record_count
from bulkimport.recipes.models import PARENT_PREFIX
from bulkimport.records.uniqueness import DuplicateFinder, constraints
from bulkimport.schema.validation import RowValidator
from bulkimport.records.writer import RecordWriter, RowPlan, WriteContext

EVENT_SOURCE = "bulkimport"


def record_id(import_id: str, row: int) -> str:
    return import_id + str(row).zfill(8)  # as f"{import_id}{row:08d}", in half the time (it runs for every row)


# ---------------------------------------------------------------- waiting for the table


def take_table(tenant: str, import_id: str, ticket: str, execution_arn: str) -> dict[str, str]:
    """Whether the import may run now ("run"), must wait for its table ("wait", status `queued`), or
    was cancelled while it waited ("stop")."""
    item = load_import_item(tenant, import_id)
    if item["status"] in TERMINAL_STATUSES:
        return {"next": "stop"}
    if table_queue.acquire(tenant, item["table"], ticket, execution_arn, f"import:{import_id}"):
        return {"next": "run"}
    ControlStore().update(keys.tenant_pk(tenant), keys.import_sk(import_id),
                          set_values={"status": "queued", "updated_at": now_iso()},
                          when_status=("waiting_upload", "scheduled", "queued"))
    return {"next": "wait"}


# ---------------------------------------------------------------- prepare


def prepare(tenant: str, import_id: str) -> dict[str, Any]:
    """Scan the file, check its header, count rows and write the chunk manifest. A restarted import
    whose file was planned before gets a manifest of the chunks not yet counted instead."""
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.import_sk(import_id)
    item = load_import_item(tenant, import_id)
    started = store.update(
        pk,
        sk,
        set_values={"status": "parsing", "executed_start_at": item.get("executed_start_at") or now_iso(), "updated_at": now_iso()},
        when_status=("waiting_upload", "scheduled", "queued", "parsing"),
    )
    if started is None:
        return {"status": "stopped", "manifest_key": None, "pass": None}
    if item.get("chunk_count") is not None:
        return _resume(tenant, import_id, started)

    recipe = recipe_of(item)
    table, parent = tables_of(item)
    blobs = BlobStore()
    cfg = settings()
    scan = RowScan(recipe, table, parent)
    work_key = keys.work_data_key(tenant, import_id)
    try:
        size = blobs.size(item["upload_key"])
        if size is None:
            raise FileError("FILE_NOT_FOUND")
        if size > cfg.upload_max_bytes:
            raise FileError("FILE_TOO_LARGE", size=size, max_bytes=cfg.upload_max_bytes)
        with blobs.open(item["upload_key"]) as stream:
            plan = plan_upload(
                stream,
                encoding_option=recipe.options.encoding,
                delimiter_option=recipe.options.delimiter,
                sheet_option=recipe.options.sheet,
                has_header=item["has_header"],
                chunk_rows=cfg.chunk_rows,
                chunk_bytes=cfg.chunk_bytes,
                limits=Limits(cfg.max_uncompressed_bytes, cfg.max_compression_ratio),
                open_work=lambda: blobs.writer(work_key, "text/csv; charset=utf-8"),
                on_sheet=scan.on_sheet,
            )
    except FileError as error:
        fail_import(tenant, import_id, error.code, error.params)
        return {"status": "stopped", "manifest_key": None, "pass": None}

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
            # What chunk workers need to read their bytes: the object, how to parse it, each sheet's columns.
            "reader": {
                "key": work_key if plan.transcoded else item["upload_key"],
                "format": plan.format,
                "compression": plan.compression,
                "encoding": plan.encoding,
                "delimiter": plan.delimiter,
                "line_column": plan.line_column,
                "sheets": [
                    {"index": sheet.index, "name": sheet.name, "header": sheet.header,
                     "width": len(sheet.header) if sheet.header is not None else None,
                     "columns": scan.columns[sheet.index], "first_chunk": sheet.first_chunk}
                    for sheet in plan.sheets
                ],
            },
            "updated_at": now_iso(),
        },
        when_status=("parsing",),
    )
    return {"status": "ready", "manifest_key": manifest_key, "pass": "check" if atomic else "write"}


def _resume(tenant: str, import_id: str, item: dict) -> dict[str, Any]:
    """The manifest of a restarted import: the chunks of its current pass that were never counted."""
    pass_ = item.get("pass", "write")
    counted = item.get(counted_attribute(pass_), set())
    blobs = BlobStore()
    remaining = [c for c in blobs.get_json(keys.manifest_key(tenant, import_id)) if c["index"] not in counted]
    manifest_key = keys.manifest_key(tenant, import_id, turn=item["job_turns"])
    blobs.put_json(manifest_key, remaining)
    ControlStore().update(keys.tenant_pk(tenant), keys.import_sk(import_id),
                          set_values={"status": "importing", "updated_at": now_iso()}, when_status=("parsing",))
    return {"status": "ready", "manifest_key": manifest_key, "pass": pass_}


class RowScan:
    """What Prepare does with each sheet's header and every row while it plans the chunks: resolve
    the recipe's columns for the sheet, and feed every valid row's unique keys, whatever sheet they
    are on, to one duplicate finder, so the first valid row with a key is the one imported, whatever
    order the chunks later run in."""

    def __init__(self, recipe, table: Table, parent: Table | None):
        self.recipe, self.table, self.parent = recipe, table, parent
        self.columns: dict[int, list[list]] = {}  # sheet index -> [column index, field key]
        self.finder = DuplicateFinder(constraints(table, recipe))

    def on_sheet(self, sheet, header: list[str] | None) -> Callable[[int, list[str]], None] | None:
        width = len(header) if header is not None else None
        columns = self.columns[sheet.index] = resolve_columns(self.recipe, header, width)
        validator = row_validator(self.table, self.parent, columns, width)
        if not self.finder.keyed:
            return None  # no unique keys: nothing to find, so no row needs validating (nor parsing) here
        finder = self.finder
        parent_target = next((t for _, t in columns if t.startswith(PARENT_PREFIX)), None)

        def on_row(row: int, cells: list[str]) -> None:
            values, failures = validator.validate(cells)
            if not failures:
                if parent_target:
                    values["parent_id"] = values.get(parent_target)  # stands in for the parent's id
                finder.add(row, values)

        return on_row


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
    if chunk["index"] in item.get(counted_attribute(pass_), ()):
        return _chunk_summary(store.get(marker_pk, marker_sk))
    if item["status"] in TERMINAL_STATUSES:
        return {"index": chunk["index"], "skipped": item["status"]}

    table, parent = tables_of(item)
    recipe = recipe_of(item)
    reader = item["reader"]
    sheet = next(s for s in reader["sheets"] if s["index"] == chunk["sheet"])
    validator = row_validator(table, parent, sheet["columns"], sheet.get("width"))
    blobs = BlobStore()
    duplicates = blobs.get_json(keys.chunk_duplicates_key(tenant, import_id, chunk["index"])) if chunk.get("duplicates") else {}
    data = blobs.read_range(reader["key"], chunk["start"], chunk["end"])

    stamp = now_iso()
    checked = check_rows(data, reader, validator, chunk, duplicates, import_id)
    del data
    plans, failures, rows = checked.plans, checked.failures, checked.rows
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
        line, cells = checked.source(failed_row)
        for position, entry in enumerate(failures[failed_row]):
            entry.update(row=failed_row, source_line=line, sheet=sheet.get("name"))
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
                    "inserted_count": 0 if dry_run else inserted, counted_attribute(pass_): {chunk["index"]}},
        condition="NOT contains(#counted, :chunk)",
        condition_values={":chunk": chunk["index"]},
        condition_names={"#counted": counted_attribute(pass_)},
    )
    return summary


@dataclass
class CheckedRows:
    plans: list[RowPlan]  # valid rows, to be applied
    failures: dict[int, list[dict]]  # row -> failure entries
    sources: list[tuple[int, list[str]]]  # (source line, cells) of each row from the first, for failure reports
    first_row: int
    rows: int

    def source(self, row: int) -> tuple[int, list[str]]:
        return self.sources[row - self.first_row]


def check_rows(data: bytes, reader: dict, validator: RowValidator, chunk: dict, duplicates: dict, import_id: str) -> CheckedRows:
    """Decode, parse and validate one chunk's bytes: the CPU work of a chunk worker before it writes.
    This loop runs for every row of a file: locals only."""
    failures: dict[int, list[dict]] = {}
    sources: list[tuple[int, list[str]]] = []
    plans: list[RowPlan] = []
    first_row = row = chunk["first_row"]
    validate = validator.validate
    for cells, line in read_chunk(data, reader["delimiter"], chunk["first_line"], reader["line_column"]):
        sources.append((line, cells))
        values, row_failures = validate(cells)
        if row_failures:
            failures[row] = [_failure_entry(f) for f in row_failures]
        elif duplicates and str(row) in duplicates:
            label, first_row_with_key = duplicates[str(row)]
            failures[row] = [{"field": None, "code": "DUPLICATE_IN_FILE", "params": {"field": label, "first_row": first_row_with_key},
                              "first_row": first_row_with_key}]
        else:
            plans.append(RowPlan(row, values, record_id(import_id, row)))
        row += 1
    return CheckedRows(plans, failures, sources, first_row, row - first_row)


def _failure_entry(failure) -> dict:
    return {"field": failure.field, "code": failure.code, "params": failure.params, "value": failure.value}


def _chunk_summary(marker: dict) -> dict[str, Any]:
    return {k: marker[k] for k in ("index", "rows", "success", "fail", "failure_entries")}


# ---------------------------------------------------------------- finalize


def finalize(tenant: str, import_id: str, error: dict | None = None, ticket: str | None = None,
             execution_arn: str | None = None, failure_code: str = "INTERNAL_ERROR") -> dict[str, Any]:
    """Settle the import's final status, announce it, and give its table to the next run.

    A cancelled import is settled here too (its chunks stopped starting, those under way finished),
    so the records it wrote are counted in its table before the table goes to the next run."""
    store = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.import_sk(import_id)
    item = load_import_item(tenant, import_id)
    if error and item["status"] not in TERMINAL_STATUSES:
        reason = error.get("Error") or "unknown"
        item = fail_import(tenant, import_id, failure_code, {"reason": reason})
    elif item["status"] == "importing":
        counted = len(item.get(counted_attribute(item.get("pass", "write")), ()))
        if counted != item.get("chunk_count") or item["processed_count"] != item.get("total_count"):
            reason = f"{counted} of {item.get('chunk_count')} chunks counted"
            item = fail_import(tenant, import_id, "INTERNAL_ERROR", {"reason": reason})
        else:
            status = "completed" if item["fail_count"] == 0 else "completed_with_errors"
            stamp = now_iso()
            item = store.update(pk, sk, set_values={"status": status, "executed_end_at": stamp, "updated_at": stamp},
                                when_status=("importing",)) or load_import_item(tenant, import_id)
    _add_to_record_count(item)
    if item["status"] in TERMINAL_STATUSES:
        publish_import_event(item)
    table_queue.release(tenant, item["table"], ticket)
    if execution_arn:
        runs.unregister(tenant, "import", import_id, execution_arn)
    return {"status": item["status"]}


def settle_interrupted(entry: dict) -> None:
    """The sweeper's settler for an import whose execution died without settling it."""
    item = load_import_item(entry["tenant"], entry["run_id"])
    if item.get("execution_arn") != entry["execution_arn"] or item["status"] in TERMINAL_STATUSES:
        return
    status = execution_status(entry["execution_arn"])
    finalize(entry["tenant"], entry["run_id"], error={"Error": status}, failure_code="INTERRUPTED")


def sweep() -> list[str]:
    """Settle every run (import or job) whose execution died (run on a schedule)."""
    return runs.sweep({"import": settle_interrupted, "job": jobs.settle_interrupted})


def _add_to_record_count(item: dict) -> None:
    """Add the records an import created to its table's count, once (a restarted import adds only
    what it created since; Finalize may also run again)."""
    add_to_record_count(item["tenant"], item["table"], keys.import_sk(item["id"]), item.get("inserted_count", 0),
                        item.get("record_count_added", 0))


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
    """`Import Completed` for a completed import; `Import Failed` for a failed or cancelled one."""
    status = item["status"]
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
            "DetailType": "Import Completed" if status.startswith("completed") else "Import Failed",
            "Detail": json.dumps(detail, ensure_ascii=False),
            "EventBusName": settings().event_bus_name,
        }]
    )

