"""Imports as the API takes and shows them."""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from bulkimport.ingest.parsing import ChunkPlan
from bulkimport.recipes.models import MAX_HEADER_ROW, Recipe
from bulkimport.schema.models import MAX_ID, REQUEST, Strict

ImportStatus = Literal[
    "waiting_upload",
    "scheduled",
    "queued",
    "parsing",
    "importing",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
    "reverting",
    "reverted",
    "revert_failed",
    "revert_cancelled",
]
# The revert statuses end the import's own run: a revert is a run of its own (imports.revert).
REVERT_STATUSES = frozenset({"reverting", "reverted", "revert_failed", "revert_cancelled"})
TERMINAL_STATUSES = frozenset({"completed", "completed_with_errors", "failed", "cancelled"}) | REVERT_STATUSES
ACTIVE_STATUSES = frozenset({"waiting_upload", "scheduled", "queued", "parsing", "importing"})


def safe_file_name(name: str) -> str | None:
    """The base name of what a client calls its file: no directories (either slash), no control or
    invisible format characters (a right-to-left override can disguise an extension)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] if base not in ("", ".", "..") else None


class ImportCreate(Strict):
    model_config = REQUEST
    recipe_id: str = Field(min_length=1, max_length=MAX_ID)
    has_header: bool | None = None
    header_row: int | None = Field(default=None, ge=1, le=MAX_HEADER_ROW)  # else the recipe's
    description: str | None = Field(default=None, max_length=1000)
    file_name: str | None = Field(default=None, max_length=255)
    transaction_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID)
    scheduled_at: str | None = Field(default=None, max_length=64)
    dry_run: bool = False
    atomic: bool = False
    # The file's size in bytes, and how it comes: one POST (up to 100 MB), or in parts (multipart,
    # 5 MiB to 5 GiB; the default above 100 MB, and then file_size is required).
    file_size: int | None = Field(default=None, ge=1)
    upload_method: Literal["post", "multipart"] | None = None

    @field_validator("file_name", mode="before")
    @classmethod
    def _base_name(cls, value: Any) -> Any:
        return safe_file_name(value) if isinstance(value, str) else value


class FileInfo(BaseModel):
    name: str | None = None
    size: int | None = None
    sha256: str | None = None


class ImportError_(BaseModel):
    code: str
    message: str


class Outcomes(BaseModel):
    """What the rows of an import did (a dry run: would do, against the table as it was)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0  # an upsert or update whose values the record already held: nothing written
    failed: int = 0


class Skipped(BaseModel):
    record_id: str
    reason: Literal["CHANGED_SINCE", "DELETED_SINCE", "VALUE_TAKEN"]


class Revert(BaseModel):
    """What a revert of the import did (so far, while `reverting`)."""

    deleted: int = 0  # records the import created, deleted
    restored: int = 0  # records the import updated, put back as they were before it
    skipped: list[Skipped] = Field(default_factory=list)  # left as they are (the first 100)
    skipped_count: int = 0
    started_at: str | None = None
    ended_at: str | None = None


class SampleRow(BaseModel):
    row: int
    values: dict[str, Any]


class Import(BaseModel):
    """An import as the API shows it."""

    id: str
    recipe_id: str
    table: str
    status: ImportStatus
    progress: int = 0
    total_count: int | None = None
    processed_count: int = 0
    success_count: int = 0
    fail_count: int = 0
    outcomes: Outcomes = Field(default_factory=Outcomes)
    revert: Revert | None = None  # once a revert was asked for
    current_sheet_index: int = 0
    current_row_index: int = 0
    job_turns: int = 0
    file: FileInfo
    has_header: bool
    header_row: int = 1
    description: str | None = None
    transaction_id: str | None = None
    dry_run: bool = False
    atomic: bool = False
    scheduled_at: str | None = None
    executed_start_at: str | None = None
    executed_end_at: str | None = None
    restart_at: str | None = None
    error: ImportError_ | None = None
    created_by: str | None = None
    created_at: str
    updated_at: str
    recipe: Recipe | None = None
    recipe_version: int = 1  # the recipe's version the import was created with, and runs with
    sample: list[SampleRow] | None = None  # a dry run's first rows as they would be stored


class UploadTicket(BaseModel):
    url: str
    method: Literal["POST"] = "POST"
    fields: dict[str, str]
    max_bytes: int
    expires_at: str


class MultipartTicket(BaseModel):
    """A multipart upload: the file goes in part_count parts of part_size bytes (the last one the rest),
    each PUT to a URL from POST /imports/{id}/upload/parts, then POST /imports/{id}/upload/complete."""

    method: Literal["multipart"] = "multipart"
    part_size: int
    part_count: int
    expires_at: str


class ImportCreated(Import):
    upload: UploadTicket | MultipartTicket | None = None


class PartNumbers(Strict):
    model_config = REQUEST
    numbers: list[int]


class PartUrl(BaseModel):
    number: int
    url: str


class HeldPart(BaseModel):
    """A part S3 holds of an upload: its number, size and ETag (the MD5 of its bytes, in hex)."""

    number: int
    size: int
    etag: str


class UploadState(MultipartTicket):
    parts: list[HeldPart]


class CompletedPart(Strict):
    model_config = REQUEST
    number: int
    etag: str = Field(min_length=1, max_length=128)


class CompleteUpload(Strict):
    model_config = REQUEST
    parts: list[CompletedPart]


class Failure(BaseModel):
    row: int | None
    source_line: int | None = None
    sheet: str | None = None
    field: str | None = None
    code: str
    message: str
    value: Any = None
    first_row: int | None = None  # DUPLICATE_IN_FILE: the row that has the same key and was imported
    first_sheet: str | None = None  # ... and its sheet (XLSX)


class FailureGroup(BaseModel):
    """Failures of one field and code on consecutive rows."""

    row: int | None
    row_number_start: int | None
    row_number_end: int | None
    field: str | None = None
    code: str
    fail_reason: str


class ImportResult(BaseModel):
    """An import's progress with its failures grouped into runs of rows (GET /imports/results)."""

    id: str
    progress: int
    status: ImportStatus
    total_count: int | None = None
    success_count: int
    fail_count: int
    fail_detail: list[FailureGroup]


class RevertChunk(BaseModel):
    """A chunk of a revert's manifest: one that wrote records (imports.revert.prepare)."""

    index: int


class ChunkTask(BaseModel):
    """What the ProcessChunks Map hands ProcessChunk: one item of the manifest Prepare wrote (a chunk's
    plan; in a revert, the chunk to undo) and the pass it runs in."""

    tenant: str
    run_id: str
    pass_: Literal["check", "write", "revert"] = Field(default="write", alias="pass")
    # A plan where the item is one, else a revert's chunk (it has only the index).
    chunk: ChunkPlan | RevertChunk = Field(union_mode="left_to_right")
    attempt: int = 0  # Step Functions' retry count of the chunk's task

    @model_validator(mode="after")
    def _chunk_of_its_pass(self) -> ChunkTask:
        if isinstance(self.chunk, RevertChunk) != (self.pass_ == "revert"):
            raise ValueError(f"a chunk of the {self.pass_} pass needs its plan (a revert: its index only)")
        return self
