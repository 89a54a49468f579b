"""The three steps the import state machine runs: prepare, process one chunk, finalize.

Exactly once: a record's id is derived from (import, source row), so writing a chunk again rewrites
the same items; the counters move only in the transaction that creates the chunk's done-marker, so a
chunk is counted once however often it runs.
"""

from __future__ import annotations

import json
from typing import Any

from bulkimport.aws import client
from bulkimport.errors import FileError
from bulkimport.ids import now_iso
from bulkimport.imports import load_import_item, recipe_of
from bulkimport.messages import render
from bulkimport.models import TERMINAL_STATUSES, FieldSpec, Table
from bulkimport.parsing import plan_file, read_chunk
from bulkimport.settings import settings
from bulkimport.storage import keys
from bulkimport.storage.blobs import BlobStore
from bulkimport.storage.dynamo import ControlStore, RecordStore, to_item
from bulkimport.validation import RowValidator

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
        condition="#status IN (:waiting, :queued, :parsing)",
        condition_values={":waiting": "waiting_upload", ":queued": "queued", ":parsing": "parsing"},
    )
    if started is None:
        return {"status": "stopped", "manifest_key": None}

    recipe = recipe_of(item)
    blobs = BlobStore()
    cfg = settings()
    try:
        with blobs.open(item["upload_key"]) as stream:
            plan = plan_file(
                stream,
                encoding_option=recipe.options.encoding,
                delimiter_option=recipe.options.delimiter,
                has_header=item["has_header"],
                chunk_rows=cfg.chunk_rows,
                chunk_bytes=cfg.chunk_bytes,
            )
        columns = resolve_columns(recipe, Table.model_validate(item["table_snapshot"]), plan.header, plan.width)
    except FileError as error:
        fail_import(tenant, import_id, error.code, error.params)
        return {"status": "stopped", "manifest_key": None}

    manifest_key = keys.manifest_key(tenant, import_id)
    blobs.put_json(manifest_key, [chunk.to_dict() for chunk in plan.chunks])
    store.update(
        pk,
        sk,
        set_values={
            "status": "importing",
            "total_count": plan.total_rows,
            "chunk_count": len(plan.chunks),
            "file": {**item["file"], "size": plan.size, "sha256": plan.sha256},
            "reader": {"encoding": plan.encoding, "delimiter": plan.delimiter, "width": plan.width, "columns": columns},
            "updated_at": now_iso(),
        },
    )
    return {"status": "ready", "manifest_key": manifest_key, "chunk_count": len(plan.chunks)}


def resolve_columns(recipe, table: Table, header: list[str] | None, width: int | None) -> list[list]:
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


def process_chunk(tenant: str, import_id: str, chunk: dict) -> dict[str, Any]:
    store = ControlStore()
    marker_pk, marker_sk = keys.chunk_pk(tenant, import_id), keys.chunk_sk(chunk["index"])
    done = store.get(marker_pk, marker_sk)
    if done:
        return _chunk_summary(done)
    item = load_import_item(tenant, import_id)
    if item["status"] in TERMINAL_STATUSES:
        return {"index": chunk["index"], "skipped": item["status"]}

    table = Table.model_validate(item["table_snapshot"])
    reader = item["reader"]
    specs: dict[str, FieldSpec] = {f.key: f for f in table.fields}
    validator = RowValidator([(index, specs[target]) for index, target in reader["columns"]], reader.get("width"))
    data = BlobStore().read_range(item["upload_key"], chunk["start"], chunk["end"])

    records = RecordStore()
    stamp = now_iso()
    created_by = item["created_by"]
    items: list[dict] = []
    failures: list[dict] = []
    failed_rows = 0
    row = chunk["first_row"]
    for cells, line in read_chunk(data, reader["encoding"], reader["delimiter"], chunk["first_line"]):
        values, row_failures = validator.validate(cells)
        if row_failures:
            failed_rows += 1
            for failure in row_failures:
                failures.append(
                    {"row": row, "source_line": line, "field": failure.field, "code": failure.code,
                     "params": failure.params, "value": failure.value}
                )
        else:
            rid = record_id(import_id, row)
            meta = {"import_id": import_id, "source_row": row, "created_by": created_by, "created_at": stamp, "updated_at": stamp}
            items.append(records.item(tenant, table.key, rid, values, meta))
        row += 1
    del data

    rows = row - chunk["first_row"]
    if rows != chunk["rows"]:
        # Prepare and the worker parse the same bytes the same way; a difference means the file changed.
        raise RuntimeError(f"chunk {chunk['index']} has {rows} rows, its plan says {chunk['rows']}")
    if not item.get("dry_run"):
        records.write_items(items)
    if failures:
        body = "\n".join(json.dumps(f, ensure_ascii=False, default=str) for f in failures).encode()
        BlobStore().put_bytes(keys.chunk_failures_key(tenant, import_id, chunk["index"]), body, "application/x-ndjson")

    summary = {"index": chunk["index"], "rows": rows, "success": len(items), "fail": failed_rows,
               "failure_entries": len(failures)}
    written = 0 if item.get("dry_run") else len(items)
    counted = store.transact([
        {"Put": {"TableName": store.table_name, "Item": to_item({"pk": marker_pk, "sk": marker_sk, **summary, "done_at": stamp}),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": store.update_request(
            keys.tenant_pk(tenant), keys.import_sk(import_id),
            set_values={"updated_at": stamp},
            add_values={"processed_count": rows, "success_count": len(items), "fail_count": failed_rows},
        )},
        {"Update": store.update_request(
            keys.tenant_pk(tenant), keys.table_sk(table.key), add_values={"record_count": written},
            condition="attribute_exists(pk)",
        )},
    ])
    if not counted:
        # Another run of this chunk got there first (or the table was deleted): its counts stand.
        done = store.get(marker_pk, marker_sk)
        return _chunk_summary(done) if done else {"index": chunk["index"], "skipped": "table_deleted"}
    return summary


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
        markers = list(store.query_all(keys.chunk_pk(tenant, import_id), "CHUNK#"))
        counted = sum(m["rows"] for m in markers)
        total = item.get("total_count")
        if len(markers) != item.get("chunk_count") or counted != total or item["processed_count"] != total:
            reason = f"{len(markers)} of {item.get('chunk_count')} chunks counted"
            item = fail_import(tenant, import_id, "INTERNAL_ERROR", {"reason": reason})
        else:
            status = "completed" if item["fail_count"] == 0 else "completed_with_errors"
            stamp = now_iso()
            item = store.update(pk, sk, set_values={"status": status, "executed_end_at": stamp, "updated_at": stamp},
                                condition="#status = :importing", condition_values={":importing": "importing"}) or load_import_item(tenant, import_id)
    publish_import_event(item)
    return {"status": item["status"]}


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

