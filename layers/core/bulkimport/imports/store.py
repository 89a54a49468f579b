"""The stored import: its control item (under the tenant's partition), read and moved in one place,
as an ImportRecord.

The item holds what the API shows (models.Import) and what the steps need: the recipe, table and
parent table frozen when the import was created (`*_snapshot`), the file's reader settings once
Prepare planned it (`reader`), the counted set of each pass (`counted_<pass>_chunks`) and the
execution that runs it.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from bulkimport.errors import NotFound
from bulkimport.ids import now_iso
from bulkimport.imports.models import FileInfo, ImportCreate
from bulkimport.recipes.models import Recipe, with_record_id
from bulkimport.runs.kinds import RunRecord
from bulkimport.schema.models import Table


class SheetReader(BaseModel):
    """How a chunk worker reads the rows of one sheet (a text file is one sheet without a name)."""

    index: int
    name: str | None = None
    header: list[str] | None = None
    width: int | None = None  # of its header (None: headerless)
    columns: list[list[Any]]  # [column index, target] of each mapped column (chunks.resolve_columns)
    first_chunk: int


class Reader(BaseModel):
    """How the import's chunks read its file: the object (the upload, or Prepare's UTF-8 CSV copy of
    it), how to parse it, each sheet's columns."""

    key: str
    pin: dict[str, str | None] | None = None  # the version of the upload read (adapters.s3); None: a work copy
    format: str  # of the upload: csv or xlsx
    compression: str | None = None
    encoding: str | None = None
    delimiter: str
    line_column: bool  # every record is led by its source line (ingest.parsing.FilePlan)
    sheets: list[SheetReader]


class AwaitedUpload(BaseModel):
    """An import waiting for its upload, in the index the sweeper reads."""

    tenant: str
    import_id: str
    deadline: str  # when its upload URL expires


class MultipartUpload(BaseModel):
    """An import's file uploaded in parts (imports.multipart): the S3 upload and its plan."""

    upload_id: str
    part_size: int
    part_count: int
    file_size: int
    expires_at: str
    completed_at: str | None = None


class ImportRecord(RunRecord):
    """An import's control item."""

    recipe_id: str
    file: FileInfo
    has_header: bool
    header_row: int = 1
    description: str | None = None
    transaction_id: str | None = None
    dry_run: bool = False
    atomic: bool = False
    scheduled_at: str | None = None
    upload_key: str
    source: dict[str, str | None] | None = None  # the version of the upload it reads, once landed (adapters.s3)
    # What the import runs with, frozen when it was created: later edits of the recipe or table do not change it.
    recipe_snapshot: dict[str, Any]
    table_snapshot: dict[str, Any]
    parent_snapshot: dict[str, Any] | None = None
    # Once it runs
    executed_start_at: str | None = None
    executed_end_at: str | None = None
    restart_at: str | None = None
    total_count: int | None = None
    chunk_count: int | None = None
    pass_: str = Field(default="write", alias="pass")  # the pass its chunks run in: check, write
    reader: Reader | None = None  # once Prepare planned the file
    quota_day: str | None = None  # the UTC day its rows were reserved on (access.quotas), once they were
    quota_rows: int | None = None
    current_sheet_index: int = 0
    # Its counters, moved once per chunk (runs.counting), and the chunks counted in each pass
    processed_count: int = 0
    success_count: int = 0
    fail_count: int = 0
    inserted_count: int = 0  # records it created (a dry run: none)
    created_count: int = 0  # what its rows did (OUTCOME_COUNTERS; a dry run: would do)
    updated_count: int = 0
    unchanged_count: int = 0
    counted_check_chunks: list[int] = Field(default_factory=list)
    counted_write_chunks: list[int] = Field(default_factory=list)
    counted_revert_chunks: list[int] = Field(default_factory=list)
    # Its revert (imports.revert), once asked for
    reverted_from: str | None = None
    revert_started_at: str | None = None
    revert_ended_at: str | None = None
    revert_chunk_count: int | None = None
    revert_deleted: int = 0
    revert_restored: int = 0
    revert_skipped: int = 0
    revert_skipped_list: list[dict[str, Any]] = Field(default_factory=list)
    sample: list[dict[str, Any]] | None = None  # a dry run's first rows as they would be stored
    multipart: MultipartUpload | None = None  # a file uploaded in parts

    def file_with(self, **info: Any) -> dict[str, Any]:
        """What the import stores of its file, with `info` (size, sha256) set."""
        return {**self.file.model_dump(exclude_none=True), **info}

    def counted(self, pass_: str) -> list[int]:
        """The chunks counted in a pass."""
        return getattr(self, counted_attribute(pass_))


def new_record(
    tenant: str,
    import_id: str,
    request: ImportCreate,
    *,
    recipe: Recipe,
    table: Table,
    parent: Table | None,
    scheduled_at: datetime | None,
    created_by: str,
    upload_key: str,
) -> ImportRecord:
    """A new import: waiting for its upload (or scheduled), with what it runs with frozen."""
    stamp = now_iso()
    return ImportRecord(
        id=import_id,
        tenant=tenant,
        recipe_id=recipe.id,
        table=table.key,
        status="scheduled" if scheduled_at else "waiting_upload",
        scheduled_at=scheduled_at.strftime("%Y-%m-%dT%H:%M:%SZ") if scheduled_at else None,
        processed_count=0,
        success_count=0,
        fail_count=0,
        current_sheet_index=0,
        job_turns=0,
        file=FileInfo(name=request.file_name),
        has_header=recipe.options.has_header if request.has_header is None else request.has_header,
        header_row=recipe.options.header_row if request.header_row is None else request.header_row,
        description=request.description,
        transaction_id=request.transaction_id,
        dry_run=request.dry_run,
        atomic=request.atomic,
        created_by=created_by,
        created_at=stamp,
        updated_at=stamp,
        recipe_snapshot=recipe.model_dump(mode="json"),
        table_snapshot=table.model_dump(mode="json"),
        parent_snapshot=parent.model_dump(mode="json") if parent else None,
        upload_key=upload_key,
    )


def create(record: ImportRecord) -> None:
    ControlStore().put(record.to_item(keys.tenant_pk(record.tenant), keys.import_sk(record.id)))


def claim_transaction(tenant: str, transaction_id: str, import_id: str) -> tuple[str, ImportRecord | None]:
    """The import a transaction id stands for: `import_id` when this call claims the transaction
    first; else the first claimer's id and its item (None when that attempt stopped before writing
    its import: this call then writes it, under that id)."""
    control = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.import_transaction_sk(transaction_id)
    if control.put({"pk": pk, "sk": sk, "import_id": import_id}, if_absent=True):
        return import_id, None
    claimed = control.get(pk, sk)
    assert claimed is not None  # the put was refused: the claim is there
    return claimed["import_id"], get(tenant, claimed["import_id"])


def get(tenant: str, import_id: str) -> ImportRecord | None:
    item = ControlStore().get(keys.tenant_pk(tenant), keys.import_sk(import_id))
    return ImportRecord.from_item(item) if item else None


def query(tenant: str, per_page: int, cursor: str | None) -> tuple[list[ImportRecord], str | None]:
    """A page of the tenant's imports, newest first."""
    items, next_cursor = ControlStore().query(
        keys.tenant_pk(tenant), keys.IMPORT_PREFIX, limit=per_page, cursor=cursor, newest_first=True
    )
    return [ImportRecord.from_item(item) for item in items], next_cursor


def query_all(tenant: str) -> Iterable[ImportRecord]:
    """Every import of the tenant, newest first."""
    for item in ControlStore().query_all(keys.tenant_pk(tenant), keys.IMPORT_PREFIX, newest_first=True):
        yield ImportRecord.from_item(item)


def count(tenant: str) -> int:
    return ControlStore().count(keys.tenant_pk(tenant), keys.IMPORT_PREFIX)


def load(tenant: str, import_id: str) -> ImportRecord:
    item = get(tenant, import_id)
    if not item:
        raise NotFound("IMPORT_NOT_FOUND", import_id=import_id)
    return item


def update(
    tenant: str, import_id: str, set_values: dict[str, Any] | None = None, when_status: Any = None, **kwargs: Any
) -> ImportRecord | None:
    """Set attributes of the import (None removes one); with when_status, only while its status is
    one of those (None when it is not). Returns the import as it is now."""
    item = ControlStore().update(
        keys.tenant_pk(tenant), keys.import_sk(import_id), set_values=set_values, when_status=when_status, **kwargs
    )
    return ImportRecord.from_item(item) if item is not None else None


def fail(tenant: str, import_id: str, code: str, params: dict | None = None) -> ImportRecord:
    stamp = now_iso()
    failed = update(
        tenant,
        import_id,
        {
            "status": "failed",
            "error": {"code": code, "params": params or {}},
            "executed_end_at": stamp,
            "updated_at": stamp,
        },
    )
    assert failed is not None  # unconditional
    return failed


def await_upload(tenant: str, import_id: str, deadline: str) -> None:
    """Index the import as waiting for its upload until `deadline` (when its upload URL expires), for
    the sweeper (service.sweep_awaited_uploads)."""
    entry = AwaitedUpload(tenant=tenant, import_id=import_id, deadline=deadline)
    ControlStore().put(
        {"pk": keys.AWAITED_UPLOADS_PK, "sk": keys.awaited_upload_sk(tenant, import_id), **entry.model_dump()}
    )


def awaited_uploads() -> Iterable[AwaitedUpload]:
    """Every indexed import waiting for its upload."""
    for item in ControlStore().query_all(keys.AWAITED_UPLOADS_PK, keys.AWAITED_UPLOAD_PREFIX):
        yield AwaitedUpload.model_validate(item)


def stop_awaiting_upload(tenant: str, import_id: str) -> None:
    ControlStore().delete(keys.AWAITED_UPLOADS_PK, keys.awaited_upload_sk(tenant, import_id))


# The import's counter of each outcome of a row the writer reports ("failed" is fail_count).
OUTCOME_COUNTERS = {"inserted": "created_count", "updated": "updated_count", "unchanged": "unchanged_count"}


def records_added(item: ImportRecord) -> int:
    """The records the import added to its table: those it created, less those its revert deleted."""
    return item.inserted_count - item.revert_deleted


def counted_attribute(pass_: str) -> str:
    """The import attribute holding the set of chunks counted in a pass."""
    return f"counted_{pass_}_chunks"


def current_sheet_index(sheets: list[SheetReader] | None, counted: Collection[int]) -> int:
    """The workbook sheet being imported: the sheet of the first chunk not yet done (`counted`: the
    chunks counted in the pass). A sheet's chunks are consecutive and each is counted once, so this
    only moves forward within a pass."""
    if not sheets:
        return 0
    counted = set(counted)
    next_chunk = next(i for i in itertools.count() if i not in counted)
    current = sheets[0]
    for sheet in sheets:
        if sheet.first_chunk <= next_chunk:
            current = sheet
    return current.index


def recipe_of(item: ImportRecord) -> Recipe:
    # "id" read as the record id where the table has no such field (recipes.models.with_record_id).
    table = Table.model_validate(item.table_snapshot)
    return with_record_id(Recipe.model_validate(item.recipe_snapshot), table)


def tables_of(item: ImportRecord) -> tuple[Table, Table | None]:
    table = Table.model_validate(item.table_snapshot)
    parent = item.parent_snapshot
    return table, (Table.model_validate(parent) if parent else None)


class ChunkMarker(BaseModel):
    """A chunk's done-marker in a pass, under the import's own partition: written before the chunk
    is counted, again the same by a retry; what a retry answers, the failures listing and a revert
    read. A revert's marker has the index, what it skipped and when it was done."""

    index: int
    rows: int = 0
    success: int = 0
    fail: int = 0
    failure_entries: int = 0  # entries in the chunk's failures file of the pass
    written: dict[str, int] | None = None  # {"created", "updated"}: the chunk wrote records to revert
    skipped: list[dict[str, Any]] = Field(default_factory=list)  # a revert's: records left as they are
    done_at: str

    def summary(self) -> dict[str, Any]:
        """What the chunk's worker answered."""
        return self.model_dump(include={"index", "rows", "success", "fail", "failure_entries"})


def put_chunk_marker(tenant: str, import_id: str, pass_: str, marker: ChunkMarker) -> None:
    """Write the marker (a retry writes the same again)."""
    item = marker.model_dump(exclude_unset=True, exclude_none=True)
    ControlStore().put({"pk": keys.chunk_pk(tenant, import_id), "sk": keys.chunk_sk(marker.index, pass_), **item})


def chunk_marker(tenant: str, import_id: str, index: int, pass_: str) -> ChunkMarker | None:
    item = ControlStore().get(keys.chunk_pk(tenant, import_id), keys.chunk_sk(index, pass_))
    return ChunkMarker.model_validate(item) if item else None


def chunk_markers(tenant: str, import_id: str, pass_: str = "write") -> list[ChunkMarker]:
    items = ControlStore().query_all(keys.chunk_pk(tenant, import_id), keys.chunk_prefix(pass_))
    return [ChunkMarker.model_validate(item) for item in items]
