"""Imports: creating them, starting them when their file lands, and reading their state and failures."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import tempfile
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError

from bulkimport.runs import registry as runs
from bulkimport.adapters import scheduler
from bulkimport.runs import table_queue
from bulkimport.adapters.aws import client
from bulkimport.access.keys import Principal
from bulkimport.errors import AppError, FileError, not_found
from bulkimport.ingest.formats import check_upload
from bulkimport.ids import new_id, now_iso
from bulkimport.i18n.messages import render
from bulkimport.imports.models import ACTIVE_STATUSES, Failure, TERMINAL_STATUSES, Import, ImportCreate, ImportCreated, UploadTicket
from bulkimport.paging import ListMeta, Page
from bulkimport.recipes.models import Recipe
from bulkimport.recipes.service import count_task, get_recipe
from bulkimport.config import settings
from bulkimport.adapters import keys
from bulkimport.adapters.s3 import BlobStore
from bulkimport.adapters.dynamo.store import ControlStore, decode_cursor, encode_cursor
from bulkimport.schema.tables import get_table

_PREFIX = "IMPORT#"


def _store() -> ControlStore:
    return ControlStore()


# ---------------------------------------------------------------- reading


def load_import_item(tenant: str, import_id: str) -> dict:
    item = _store().get(keys.tenant_pk(tenant), keys.import_sk(import_id))
    if not item:
        raise not_found("IMPORT_NOT_FOUND", import_id=import_id)
    return item


def import_status(tenant: str, import_id: str) -> str | None:
    item = _store().get(keys.tenant_pk(tenant), keys.import_sk(import_id))
    return item["status"] if item else None


def to_import(item: dict, language: str = "en", with_recipe: bool = False) -> Import:
    total = item.get("total_count")
    processed = item.get("processed_count", 0)
    if item["status"] in ("completed", "completed_with_errors"):
        progress = 100
    elif total:
        progress = min(99, processed * 100 // total)
    else:
        progress = 0
    error = item.get("error")
    if error:
        error = {"code": error["code"], "message": render(error["code"], error.get("params"), language)}
    data = {k: v for k, v in item.items() if k in Import.model_fields}
    data.update(progress=progress, error=error, current_row_index=processed, current_sheet_index=current_sheet_index(item))
    if with_recipe:
        data["recipe"] = item["recipe_snapshot"]
    return Import.model_validate(data)


def counted_attribute(pass_: str) -> str:
    """The import attribute holding the set of chunks counted in a pass."""
    return f"counted_{pass_}_chunks"


def current_sheet_index(item: dict) -> int:
    """The workbook sheet being imported: the sheet of the first chunk not yet done. A sheet's
    chunks are consecutive and each is counted once, so this only moves forward within a pass."""
    sheets = (item.get("reader") or {}).get("sheets")
    if not sheets:
        return 0
    counted = item.get(counted_attribute(item.get("pass", "write")), set())
    next_chunk = next(i for i in itertools.count() if i not in counted)
    current = sheets[0]
    for sheet in sheets:
        if sheet["first_chunk"] <= next_chunk:
            current = sheet
    return int(current["index"])


def get_import(tenant: str, import_id: str, language: str = "en") -> Import:
    return to_import(load_import_item(tenant, import_id), language, with_recipe=True)


def list_imports(
    tenant: str, status: str | None, recipe_id: str | None, per_page: int, cursor: str | None, language: str
) -> Page:
    pk = keys.tenant_pk(tenant)
    if not status and not recipe_id:
        items, next_cursor = _store().query(pk, _PREFIX, limit=per_page, cursor=cursor, newest_first=True)
        total = _store().count(pk, _PREFIX)
    else:
        # Filtered lists walk the tenant's imports newest first; the cursor is an offset into the match.
        matching = [
            i
            for i in _store().query_all(pk, _PREFIX, newest_first=True)
            if (not status or i["status"] == status) and (not recipe_id or i["recipe_id"] == recipe_id)
        ]
        start = _offset_cursor(cursor)
        items = matching[start : start + per_page]
        next_cursor = str(start + per_page) if start + per_page < len(matching) else None
        total = len(matching)
    data = [to_import(i, language).model_dump(mode="json") for i in items]
    return Page(data=data, meta=ListMeta(per_page=per_page, next_cursor=next_cursor, total=total))


def _offset_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise AppError("INVALID_CURSOR", 400)
    return int(cursor)


def chunk_markers(tenant: str, import_id: str, pass_: str = "write") -> list[dict]:
    return list(_store().query_all(keys.chunk_pk(tenant, import_id), keys.chunk_prefix(pass_)))


def list_failures(tenant: str, import_id: str, per_page: int, cursor: str | None, language: str) -> Page:
    """Failure entries in row order: chunk by chunk, each chunk's file in row order."""
    item = load_import_item(tenant, import_id)
    pass_ = item.get("pass", "write")
    position = decode_cursor(cursor) or {"chunk": 0, "skip": 0}
    if not isinstance(position, dict) or not {"chunk", "skip"} <= set(position):
        raise AppError("INVALID_CURSOR", 400)
    markers = [m for m in chunk_markers(tenant, import_id, pass_) if m.get("failure_entries")]
    total = sum(m["failure_entries"] for m in markers)
    blobs = BlobStore()
    data: list[dict] = []
    next_position = None
    for marker in markers:
        index = marker["index"]
        if index < position["chunk"]:
            continue
        skip = position["skip"] if index == position["chunk"] else 0
        lines = blobs.read_lines(keys.chunk_failures_key(tenant, import_id, index, pass_))
        for number, line in enumerate(lines):
            if number < skip:
                continue
            if len(data) == per_page:
                next_position = {"chunk": index, "skip": number}
                break
            data.append(render_failure(json.loads(line), language).model_dump(mode="json"))
        if next_position:
            break
    meta = ListMeta(per_page=per_page, next_cursor=encode_cursor(next_position), total=total)
    return Page(data=data, meta=meta)


def render_failure(entry: dict, language: str) -> Failure:
    return Failure(
        row=entry.get("row"),
        source_line=entry.get("source_line"),
        sheet=entry.get("sheet"),
        field=entry.get("field"),
        code=entry["code"],
        message=render(entry["code"], entry.get("params"), language),
        value=entry.get("value"),
        first_row=entry.get("first_row"),
    )


# ---------------------------------------------------------------- creating


def create_import(
    principal: Principal,
    request: ImportCreate,
    file_body: bytes | None = None,
    created_by: str | None = None,
    source_key: str | None = None,
) -> tuple[ImportCreated, bool]:
    """Create an import (or return the one its transaction_id already made). Returns (import, created).

    The file comes in the call (file_body), is already in the bucket (source_key: a dropped file),
    or is uploaded later to the returned presigned POST.
    """
    tenant = principal.tenant
    scheduled_at = _scheduled_time(request.scheduled_at) if request.scheduled_at else None
    recipe = get_recipe(tenant, request.recipe_id)
    if file_body is not None:
        check_direct_upload(file_body, recipe)
    table = get_table(tenant, recipe.table)
    store = _store()
    pk = keys.tenant_pk(tenant)

    import_id = new_id()
    if request.transaction_id:
        claim = {"pk": pk, "sk": keys.import_transaction_sk(request.transaction_id), "import_id": import_id}
        if not store.put(claim, if_absent=True):
            existing_id = store.get(pk, keys.import_transaction_sk(request.transaction_id))["import_id"]
            existing = store.get(pk, keys.import_sk(existing_id))
            if existing:
                return ImportCreated(**to_import(existing).model_dump()), False
            import_id = existing_id  # the first attempt claimed the id but stopped before writing the import

    stamp = now_iso()
    has_header = recipe.options.has_header if request.has_header is None else request.has_header
    item: dict[str, Any] = {
        "pk": pk,
        "sk": keys.import_sk(import_id),
        "id": import_id,
        "tenant": tenant,
        "recipe_id": recipe.id,
        "table": table.key,
        "status": "scheduled" if scheduled_at else "waiting_upload",
        "scheduled_at": scheduled_at.strftime("%Y-%m-%dT%H:%M:%SZ") if scheduled_at else None,
        "processed_count": 0,
        "success_count": 0,
        "fail_count": 0,
        "current_sheet_index": 0,
        "job_turns": 0,
        "file": {"name": request.file_name},
        "has_header": has_header,
        "description": request.description,
        "transaction_id": request.transaction_id,
        "dry_run": request.dry_run,
        "atomic": request.atomic,
        "created_by": created_by or principal.actor,
        "created_at": stamp,
        "updated_at": stamp,
        # What the import runs with, frozen now: later edits of the recipe or table do not change it.
        "recipe_snapshot": recipe.model_dump(mode="json"),
        "table_snapshot": table.model_dump(mode="json"),
        "parent_snapshot": get_table(tenant, table.parent).model_dump(mode="json") if table.parent else None,
        "upload_key": source_key or keys.upload_key(tenant, import_id),
    }
    store.put(item)
    count_task(tenant, recipe.id)
    if scheduled_at:
        scheduler.one_time(_schedule_name(import_id), scheduled_at, {"kind": "import", "tenant": tenant, "import_id": import_id})

    blobs = BlobStore()
    if file_body is not None:
        blobs.put_bytes(item["upload_key"], file_body)
        return ImportCreated(**to_import(item).model_dump()), True
    if source_key is not None:
        return ImportCreated(**to_import(item).model_dump()), True

    cfg = settings()
    post = blobs.presigned_post(item["upload_key"], cfg.upload_max_bytes, cfg.upload_url_ttl_seconds)
    expires = datetime.now(timezone.utc) + timedelta(seconds=cfg.upload_url_ttl_seconds)
    ticket = UploadTicket(
        url=post["url"],
        fields=post["fields"],
        max_bytes=cfg.upload_max_bytes,
        expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return ImportCreated(**to_import(item).model_dump(), upload=ticket), True


def check_direct_upload(body: bytes, recipe: Recipe) -> None:
    """A file sent with the request is refused at once when it is clearly not one we can read."""
    try:
        check_upload(body, recipe.options.encoding)
    except FileError as error:
        raise AppError(error.code, 415 if error.code == "UNSUPPORTED_FILE_TYPE" else 422, **error.params) from None


def _scheduled_time(value: str) -> datetime:
    """scheduled_at as an aware UTC time in the future (a time without an offset is UTC)."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AppError("INVALID_SCHEDULED_AT", 422, value=value) from None
    when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    if when <= datetime.now(timezone.utc):
        raise AppError("INVALID_SCHEDULED_AT", 422, value=value)
    return when.replace(microsecond=0)


def _schedule_name(import_id: str) -> str:
    return f"import-{import_id}"


def run_scheduled_import(tenant: str, import_id: str) -> str:
    """At its scheduled time: start the import if its file is there, else fail it clearly."""
    item = _store().get(keys.tenant_pk(tenant), keys.import_sk(import_id))
    if not item or item["status"] != "scheduled":
        return "skipped"  # cancelled, or a repeated delivery of the schedule
    if BlobStore().size(item["upload_key"]) is None:
        stamp = now_iso()
        _store().update(keys.tenant_pk(tenant), keys.import_sk(import_id),
                        set_values={"status": "failed", "error": {"code": "FILE_NOT_UPLOADED", "params": {}},
                                    "executed_end_at": stamp, "updated_at": stamp},
                        when_status=("scheduled",))
        return "failed"
    start_execution(tenant, import_id, turn=1)
    return "started"


# ---------------------------------------------------------------- cancel and restart


def cancel_import(tenant: str, import_id: str, language: str = "en") -> Import:
    """Cancel an import. One not started yet just ends; a running one stops starting chunks, the chunks
    under way finish (and are counted), and its execution settles it and frees the table."""
    item = load_import_item(tenant, import_id)
    if item["status"] in TERMINAL_STATUSES:
        raise AppError("IMPORT_FINISHED", 409, import_id=import_id, state=item["status"])
    stamp = now_iso()
    cancelled = _store().update(
        keys.tenant_pk(tenant), keys.import_sk(import_id),
        set_values={"status": "cancelled", "executed_end_at": stamp, "updated_at": stamp},
        when_status=tuple(ACTIVE_STATUSES),
    )
    if cancelled is None:
        item = load_import_item(tenant, import_id)
        raise AppError("IMPORT_FINISHED", 409, import_id=import_id, state=item["status"])
    if item["status"] == "scheduled":
        scheduler.delete_schedule(_schedule_name(import_id))
    return to_import(cancelled, language)


def restart_import(tenant: str, import_id: str, language: str = "en") -> Import:
    """Run a failed or cancelled import again from its first chunk not yet counted: counted chunks are
    never run again and records have ids derived from their rows, so nothing is written twice."""
    item = load_import_item(tenant, import_id)
    if item["status"] not in ("failed", "cancelled"):
        raise AppError("IMPORT_NOT_RESTARTABLE", 409, import_id=import_id, state=item["status"])
    if item.get("execution_arn") and table_queue.execution_running(item["execution_arn"]):
        raise AppError("IMPORT_STILL_STOPPING", 409, import_id=import_id)
    if BlobStore().size(item["upload_key"]) is None:
        raise AppError("FILE_NOT_UPLOADED", 409)
    stamp = now_iso()
    restarted = _store().update(
        keys.tenant_pk(tenant), keys.import_sk(import_id),
        set_values={"status": "queued", "error": None, "executed_end_at": None, "restart_at": stamp, "updated_at": stamp},
        when_status=("failed", "cancelled"),
    )
    if restarted is None:
        raise AppError("IMPORT_NOT_RESTARTABLE", 409, import_id=import_id, state=load_import_item(tenant, import_id)["status"])
    start_execution(tenant, import_id, turn=item.get("job_turns", 0) + 1)
    return to_import(load_import_item(tenant, import_id), language)


def parse_upload_key(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "uploads" and parts[3] == "source":
        return parts[1], parts[2]
    return None


def on_upload_landed(key: str, size: int) -> str | None:
    """Start the import whose file just landed (a scheduled one waits for its time). Returns the
    import id started, if any.

    S3 events may arrive more than once: only an import still waiting for its upload starts, and the
    execution is named after the import, so a second start is refused by Step Functions itself.
    """
    parsed = parse_upload_key(key)
    if not parsed:
        return None
    tenant, import_id = parsed
    item = _store().get(keys.tenant_pk(tenant), keys.import_sk(import_id))
    if not item or item["status"] not in ("waiting_upload", "scheduled"):
        return None
    _store().update(
        keys.tenant_pk(tenant),
        keys.import_sk(import_id),
        set_values={"file": {**item["file"], "size": size}, "updated_at": now_iso()},
    )
    if item["status"] == "scheduled":
        return None
    start_execution(tenant, import_id, turn=1)
    return import_id


DROP_PREFIX = "drop/"


def on_file_dropped(key: str, size: int, sequencer: str) -> str | None:
    """A file written to drop/{tenant}/{recipe_id}/{file name} becomes an import of it, started at
    once. The same S3 event delivered twice finds the import it made (the transaction id is the
    object's key and sequencer). Returns the import id, or None when the key names no import."""
    parts = key.split("/", 3)
    if len(parts) != 4 or parts[0] != DROP_PREFIX.rstrip("/") or not parts[3] or key.endswith("/"):
        return None
    tenant, recipe_id = parts[1], parts[2]
    try:
        get_recipe(tenant, recipe_id)
    except AppError:
        return None  # no such recipe for that tenant: nothing to import into
    transaction_id = "drop-" + hashlib.sha256(f"{key}#{sequencer}".encode()).hexdigest()[:40]
    import_id, _ = import_stored_file(tenant, recipe_id, key, size, transaction_id, f"s3-drop:{key}", "s3-drop")
    return import_id


def import_stored_file(tenant: str, recipe_id: str, key: str, size: int, transaction_id: str, created_by: str,
                       key_id: str) -> tuple[str, bool]:
    """Create (once per transaction id) and start an import of a file already in the bucket.
    Returns (import id, whether this call created it)."""
    principal = Principal(tenant=tenant, role="editor", key_id=key_id)
    # ImportCreate keeps only a safe base name of the key's last part.
    request = ImportCreate(recipe_id=recipe_id, file_name=key.rsplit("/", 1)[-1], transaction_id=transaction_id)
    created, is_new = create_import(principal, request, created_by=created_by[:500], source_key=key)
    if created.status == "waiting_upload":
        _store().update(keys.tenant_pk(tenant), keys.import_sk(created.id), set_values={"file": {"name": request.file_name, "size": size}})
        start_execution(tenant, created.id, turn=1)
    return created.id, is_new


def execution_name(import_id: str, turn: int) -> str:
    return import_id if turn <= 1 else f"{import_id}-{turn}"


def execution_arn(name: str) -> str:
    machine = settings().state_machine_arn
    return machine.replace(":stateMachine:", ":execution:", 1) + ":" + name


def start_execution(tenant: str, import_id: str, turn: int) -> None:
    """Start the import's `turn`th execution (1 = the first run, more after restarts).

    The execution first waits for its table (runs of one table go one at a time, in the order of
    the tickets taken here). Starting a turn twice is harmless: Step Functions refuses the second
    execution of one name.
    """
    name = execution_name(import_id, turn)
    arn = execution_arn(name)
    store = _store()
    store.update(keys.tenant_pk(tenant), keys.import_sk(import_id), set_values={"execution_arn": arn, "job_turns": turn},
                 condition="attribute_not_exists(job_turns) OR job_turns < :turn", condition_values={":turn": turn})
    try:
        client("stepfunctions").start_execution(
            stateMachineArn=settings().state_machine_arn,
            name=name,
            input=json.dumps({"tenant": tenant, "import_id": import_id, "ticket": new_id(),
                              "poll_seconds": settings().queue_poll_seconds}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
    runs.register(tenant, "import", import_id, arn)


def recipe_of(item: dict) -> Recipe:
    return Recipe.model_validate(item["recipe_snapshot"])


# ---------------------------------------------------------------- reports


def iter_failures(tenant: str, item: dict):
    """Every failure entry of an import, in row order."""
    pass_ = item.get("pass", "write")
    blobs = BlobStore()
    for marker in chunk_markers(tenant, item["id"], pass_):
        if marker.get("failure_entries"):
            for line in blobs.read_lines(keys.chunk_failures_key(tenant, item["id"], marker["index"], pass_)):
                yield json.loads(line)


def import_results(tenant: str, ids: list[str], language: str, max_groups: int = 100) -> list[dict]:
    """Several imports' progress at once, each with its failures grouped into runs of rows."""
    results = []
    for import_id in ids:
        item = load_import_item(tenant, import_id)
        current = to_import(item, language)
        groups: list[dict] = []
        for entry in iter_failures(tenant, item):
            reason = render(entry["code"], entry.get("params"), language)
            last = groups[-1] if groups else None
            if last and last["field"] == entry.get("field") and last["code"] == entry["code"] and entry["row"] in (last["row_number_end"], last["row_number_end"] + 1):
                last["row_number_end"] = entry["row"]
                continue
            if len(groups) == max_groups:
                break
            groups.append({"row": entry["row"], "row_number_start": entry["row"], "row_number_end": entry["row"],
                           "field": entry.get("field"), "code": entry["code"], "fail_reason": reason})
        results.append({
            "id": current.id, "progress": current.progress, "status": current.status,
            "total_count": current.total_count, "success_count": current.success_count,
            "fail_count": current.fail_count, "fail_detail": groups,
        })
    return results


def failures_csv_url(tenant: str, import_id: str, language: str) -> str:
    """A presigned URL of the failing rows as CSV (original columns + error_code, error_message),
    made once per language when first asked for: a finished import's failures never change."""
    item = load_import_item(tenant, import_id)
    if item["status"] not in TERMINAL_STATUSES:
        raise AppError("IMPORT_NOT_FINISHED", 409, import_id=import_id, state=item["status"])
    reader = item.get("reader")
    if not reader:
        raise AppError("NO_ROW_FAILURES", 409, import_id=import_id)
    blobs = BlobStore()
    key = keys.failures_csv_key(tenant, import_id, language)
    if blobs.size(key) is None:
        with tempfile.TemporaryFile("w+b") as spool:
            text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
            writer = csv.writer(text, delimiter=reader["delimiter"])
            layout = _FailedRowLayout(reader["sheets"])
            if layout.header is not None:
                writer.writerow([*layout.header, "error_code", "error_message"])
            row: dict | None = None
            for entry in iter_failures(tenant, item):
                if row is not None and row["row"] != entry["row"]:
                    _write_failed_row(writer, layout, row)
                    row = None
                if row is None:
                    row = {"row": entry["row"], "sheet": entry.get("sheet"), "cells": entry.get("cells", []),
                           "codes": [], "messages": []}
                row["codes"].append(entry["code"])
                row["messages"].append(render(entry["code"], entry.get("params"), language))
            if row is not None:
                _write_failed_row(writer, layout, row)
            text.flush()
            text.detach()  # leave the spool open for the upload
            spool.seek(0)
            blobs.upload(key, spool, "text/csv; charset=utf-8")
    return blobs.presigned_get(key, f"failures-{import_id}.csv")


def _write_failed_row(writer, layout: "_FailedRowLayout", row: dict) -> None:
    writer.writerow([*layout.cells(row["sheet"], row["cells"]), "; ".join(row["codes"]), " ".join(row["messages"])])


class _FailedRowLayout:
    """The columns of failures.csv: a sheet's own header, or for rows of several sheets a `sheet`
    column and then the union of their headers (matched by name), so that the file can be fixed
    and imported again with the same recipe."""

    def __init__(self, sheets: list[dict]):
        # Stored maps leave out empty values: a text file's sheet has no name, a headerless one no header.
        self.sheets = {s.get("name"): s for s in sheets}
        self.several = len(sheets) > 1
        self.header = sheets[0].get("header") if sheets else None
        self.columns: list[tuple[str, int]] = []
        if self.several and all(s.get("header") is not None for s in sheets):
            for sheet in sheets:
                for column in _numbered(sheet["header"]):
                    if column not in self.columns:
                        self.columns.append(column)
            self.header = ["sheet", *(name for name, _ in self.columns)]
        elif self.several:
            self.header = None

    def cells(self, sheet: str | None, cells: list[str]) -> list[str]:
        if not self.several:
            return cells
        if not self.columns:
            return [sheet, *cells]
        placed = [""] * len(self.columns)
        for column, cell in zip(_numbered(self.sheets[sheet]["header"]), cells):
            placed[self.columns.index(column)] = cell
        return [sheet, *placed]


def _numbered(header: list[str]) -> list[tuple[str, int]]:
    """(name, occurrence) for each column, so that a name used twice in a header stays two columns."""
    seen: dict[str, int] = {}
    numbered = []
    for name in header:
        numbered.append((name, seen.get(name, 0)))
        seen[name] = seen.get(name, 0) + 1
    return numbered
