"""The import state machine's own steps: Prepare (scan the file, plan its chunks), AfterCheck (between an
atomic import's passes) and the import's end, settled by the shared Finalize. One chunk: chunks.py.
Waiting for the table and Finalize itself are shared with every kind of run (runs.lifecycle)."""

from __future__ import annotations

from typing import Any, ClassVar

from bulkimport.access import quotas
from bulkimport.adapters import events, keys
from bulkimport.adapters.s3 import BlobStore
from bulkimport.config import Chunking, ImportMachine, Uploads, section
from bulkimport.errors import FileError
from bulkimport.i18n.messages import render
from bulkimport.ids import now_iso
from bulkimport.imports import store
from bulkimport.imports.chunks import RowScan
from bulkimport.imports.models import REVERT_STATUSES, TERMINAL_STATUSES
from bulkimport.imports.store import ImportRecord, Reader, SheetReader
from bulkimport.ingest.formats import Limits
from bulkimport.ingest.parsing import FilePlan, plan_upload
from bulkimport.recipes.models import Recipe
from bulkimport.records.uniqueness import Constraint
from bulkimport.runs.kinds import RunKind
from bulkimport.schema.tables import add_to_record_count


def prepare(tenant: str, import_id: str) -> dict[str, Any]:
    """Scan the file, check its header, count rows and write the chunk manifest. A restarted import
    whose file was planned before gets a manifest of the chunks not yet counted instead."""
    item = store.load(tenant, import_id)
    started = store.update(
        tenant,
        import_id,
        {"status": "parsing", "executed_start_at": item.executed_start_at or now_iso(), "updated_at": now_iso()},
        when_status=("waiting_upload", "scheduled", "queued", "parsing"),
    )
    if started is None:
        return {"status": "stopped", "manifest_key": None, "pass": None}
    if item.chunk_count is not None:
        return _resume(tenant, import_id, started)

    recipe = store.recipe_of(item)
    table, parent = store.tables_of(item)
    scan = RowScan(recipe, table, parent)
    work_key = keys.work_data_key(tenant, import_id)
    try:
        source, plan = _plan(item, recipe, scan, work_key)
    except FileError as error:
        store.fail(tenant, import_id, error.code, error.params)
        return {"status": "stopped", "manifest_key": None, "pass": None}
    try:  # the rows are counted now, and nothing is written yet
        quotas.reserve_rows(tenant, keys.tenant_pk(tenant), keys.import_sk(import_id), plan.total_rows)
    except quotas.QuotaExceeded as error:
        store.fail(tenant, import_id, error.code, error.params)
        return {"status": "stopped", "manifest_key": None, "pass": None}
    manifest_key = _write_manifest(tenant, import_id, plan, scan.finder.duplicates())
    pass_ = "check" if item.atomic else "write"
    store.update(
        tenant,
        import_id,
        {
            "status": "importing",
            "total_count": plan.total_rows,
            "chunk_count": len(plan.chunks),
            "pass": pass_,
            "file": item.file_with(size=plan.size, sha256=plan.sha256),
            "source": source,
            # Chunks read the work copy Prepare wrote, or the very version of the upload it read.
            "reader": _reader(
                plan, scan, *((work_key, None) if plan.transcoded else (item.upload_key, source))
            ).model_dump(),
            "updated_at": now_iso(),
        },
        when_status=("parsing",),
    )
    return {"status": "ready", "manifest_key": manifest_key, "pass": pass_}


def _plan(item: ImportRecord, recipe: Recipe, scan: RowScan, work_key: str) -> tuple[dict, FilePlan]:
    """Stream the upload once and plan its chunks (an XLSX, gzip or non-UTF-8 file is written to
    `work_key` as UTF-8 CSV on the way); a file that cannot be imported raises FileError. Returns
    the version of the upload read (adapters.s3 pin): the one that landed, else the current one."""
    blobs = BlobStore()
    cfg, limits = section(Chunking), section(Uploads)
    landed = blobs.head(item.upload_key, item.source)
    if landed is None:
        raise FileError("FILE_NOT_FOUND")
    if landed.size > limits.multipart_max_bytes:  # the largest file, uploaded in parts
        raise FileError("FILE_TOO_LARGE", size=landed.size, max_bytes=limits.multipart_max_bytes)
    source = item.source or landed.pin()
    with blobs.open(item.upload_key, source) as stream:
        return source, plan_upload(
            stream,
            encoding_option=recipe.options.encoding,
            delimiter_option=recipe.options.delimiter,
            sheet_option=recipe.options.sheet,
            has_header=item.has_header,
            chunk_rows=cfg.chunk_rows,
            chunk_bytes=cfg.chunk_bytes,
            limits=Limits(cfg.max_uncompressed_bytes, cfg.max_compression_ratio),
            open_work=lambda: blobs.writer(work_key, "text/csv; charset=utf-8"),
            on_sheet=scan.on_sheet,
            header_row=item.header_row,
        )


def _write_manifest(tenant: str, import_id: str, plan: FilePlan, duplicates: dict[int, tuple[Constraint, int]]) -> str:
    """The chunk manifest the Map reads, and each chunk's in-file duplicates beside it; returns its key."""
    blobs = BlobStore()
    sheet_names = {sheet.index: sheet.name for sheet in plan.sheets}

    def sheet_of(row: int) -> str | None:
        chunk = next(c for c in plan.chunks if c.first_row <= row < c.first_row + c.rows)
        return sheet_names.get(chunk.sheet)

    for chunk in plan.chunks:
        last = chunk.first_row + chunk.rows
        mine = {
            row: {
                "label": constraint.label,
                "fields": list(constraint.fields),
                "first_row": first_row,
                "first_sheet": sheet_of(first_row),
            }
            for row, (constraint, first_row) in duplicates.items()
            if chunk.first_row <= row < last
        }
        if mine:
            blobs.put_json(keys.chunk_duplicates_key(tenant, import_id, chunk.index), mine)
            chunk.duplicates = True
    manifest_key = keys.manifest_key(tenant, import_id)
    blobs.put_json(manifest_key, [chunk.to_dict() for chunk in plan.chunks])
    return manifest_key


def _reader(plan: FilePlan, scan: RowScan, key: str, pin: dict | None) -> Reader:
    """What chunk workers need to read their bytes: the object (and its version), how to parse it,
    each sheet's columns."""
    return Reader(
        key=key,
        pin=pin,
        format=plan.format,
        compression=plan.compression,
        encoding=plan.encoding,
        delimiter=plan.delimiter,
        line_column=plan.line_column,
        sheets=[
            SheetReader(
                index=sheet.index,
                name=sheet.name,
                header=sheet.header,
                width=len(sheet.header) if sheet.header is not None else None,
                columns=scan.columns[sheet.index],
                first_chunk=sheet.first_chunk,
            )
            for sheet in plan.sheets
        ],
    )


def _resume(tenant: str, import_id: str, item: ImportRecord) -> dict[str, Any]:
    """The manifest of a restarted import: the chunks of its current pass that were never counted."""
    pass_ = item.pass_
    counted = item.counted(pass_)
    blobs = BlobStore()
    remaining = [c for c in blobs.get_json(keys.manifest_key(tenant, import_id)) if c["index"] not in counted]
    manifest_key = keys.manifest_key(tenant, import_id, turn=item.job_turns)
    blobs.put_json(manifest_key, remaining)
    store.update(tenant, import_id, {"status": "importing", "updated_at": now_iso()}, when_status=("parsing",))
    return {"status": "ready", "manifest_key": manifest_key, "pass": pass_}


class ImportRun(RunKind[ImportRecord]):
    """Imports as a kind of run."""

    name = "import"
    queued_from: ClassVar[tuple[str, ...]] = ("waiting_upload", "scheduled", "queued")
    failure_code = "INTERNAL_ERROR"
    interrupted_code = "INTERRUPTED"

    def item_sk(self, run_id: str) -> str:
        return keys.import_sk(run_id)

    def load(self, tenant: str, run_id: str) -> ImportRecord:
        return store.load(tenant, run_id)

    def state_machine_arn(self) -> str:
        return section(ImportMachine).state_machine_arn

    def is_settled(self, item: ImportRecord) -> bool:
        return item.status in TERMINAL_STATUSES

    def started_at(self, item: ImportRecord) -> str | None:
        return item.executed_start_at

    def settle(self, tenant: str, run_id: str, error: dict | None, failure_code: str) -> ImportRecord:
        """The import's end (Finalize): its final status, the records it
        created added to its table's count, and its event. A cancelled import is settled here too (its
        chunks stopped starting, those under way finished), so the records it wrote are counted in its
        table before the table goes to the next run. Returns the item."""
        item = store.load(tenant, run_id)
        if error and item.status not in TERMINAL_STATUSES:
            item = store.fail(tenant, run_id, failure_code, {"reason": error.get("Error") or "unknown"})
        elif item.status == "importing":
            counted = len(item.counted(item.pass_))
            if counted != item.chunk_count or item.processed_count != item.total_count:
                item = store.fail(
                    tenant,
                    run_id,
                    "INTERNAL_ERROR",
                    {"reason": f"{counted} of {item.chunk_count} chunks counted"},
                )
            else:
                status = "completed" if item.fail_count == 0 else "completed_with_errors"
                stamp = now_iso()
                item = store.update(
                    tenant,
                    run_id,
                    {"status": status, "executed_end_at": stamp, "updated_at": stamp},
                    when_status=("importing",),
                ) or store.load(tenant, run_id)
        _add_to_record_count(item)
        if item.status in TERMINAL_STATUSES - REVERT_STATUSES:  # a revert may have begun: it sends its own
            publish_import_event(item)
        return item


IMPORT_RUN = ImportRun()


def after_check(tenant: str, import_id: str) -> dict[str, Any]:
    """Between an atomic import's passes: write only if no row failed the check. The write pass reads
    the whole plan, also when a restart ran the check pass on only the chunks it had not counted."""
    item = store.load(tenant, import_id)
    if item.status != "importing":
        return {"proceed": False, "manifest_key": None}
    if item.fail_count or item.processed_count != item.total_count:
        store.fail(tenant, import_id, "ATOMIC_ROWS_FAILED", {"count": item.fail_count})
        return {"proceed": False, "manifest_key": None}
    store.update(
        tenant,
        import_id,
        {
            "pass": "write",
            "processed_count": 0,
            "success_count": 0,
            "fail_count": 0,
            **dict.fromkeys(store.OUTCOME_COUNTERS.values(), 0),
            "updated_at": now_iso(),
        },
        when_status=("importing",),
    )
    return {"proceed": True, "manifest_key": keys.manifest_key(tenant, import_id)}


def publish_import_event(item: ImportRecord) -> None:
    """`Import Completed` for a completed import; `Import Failed` for a failed or cancelled one."""
    status = item.status
    detail = {
        "tenant": item.tenant,
        "import_id": item.id,
        "table": item.table,
        "recipe_id": item.recipe_id,
        "status": status,
        "total_count": item.total_count,
        "success_count": item.success_count,
        "fail_count": item.fail_count,
        "error": item.error.code if item.error else None,
    }
    if item.error:
        detail["message"] = render(item.error.code, item.error.params)
    events.publish("Import Completed" if status.startswith("completed") else "Import Failed", [detail])


def _add_to_record_count(item: ImportRecord) -> None:
    """Add the records an import created to its table's count, once (a restarted import adds only
    what it created since; Finalize may also run again)."""
    add_to_record_count(
        item.tenant,
        item.table,
        keys.import_sk(item.id),
        store.records_added(item),
        item.record_count_added,
    )
