"""Pydantic models for every request, response and stored control item."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal[
    "string", "integer", "number", "boolean", "date", "datetime", "email", "phone", "enum", "subtable"
]
Role = Literal["viewer", "editor", "admin"]
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
]
TERMINAL_STATUSES = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})
ACTIVE_STATUSES = frozenset({"waiting_upload", "scheduled", "queued", "parsing", "importing"})

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- tables


class FieldSpec(Strict):
    key: Key
    label: str | None = None
    type: FieldType = "string"
    required: bool = False
    unique: bool = False
    max_length: int | None = Field(default=None, ge=1)
    options: list[str] | None = None
    fields: list[FieldSpec] | None = None

    @model_validator(mode="after")
    def _type_specific(self) -> FieldSpec:
        if self.type == "enum" and not self.options:
            raise ValueError(f"enum field '{self.key}' needs options")
        if self.type == "subtable" and not self.fields:
            raise ValueError(f"subtable field '{self.key}' needs fields")
        if self.type != "subtable" and self.fields:
            raise ValueError(f"only subtable fields have fields ('{self.key}')")
        return self


def _unique_keys(fields: list[FieldSpec]) -> list[FieldSpec]:
    seen: set[str] = set()
    for spec in fields:
        if spec.key in seen:
            raise ValueError(f"field key '{spec.key}' appears twice")
        seen.add(spec.key)
    return fields


class TableCreate(Strict):
    key: Key
    name: str | None = None
    description: str | None = None
    parent: Key | None = None
    fields: list[FieldSpec] = Field(min_length=1, max_length=500)

    _check_fields = field_validator("fields")(_unique_keys)


class TablePatch(Strict):
    name: str | None = None
    description: str | None = None
    fields: list[FieldSpec] | None = Field(default=None, min_length=1, max_length=500)

    _check_fields = field_validator("fields")(lambda v: v if v is None else _unique_keys(v))


class Table(TableCreate):
    model_config = ConfigDict(extra="ignore")
    record_count: int = 0
    created_at: str
    updated_at: str

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)


# ---------------------------------------------------------------- recipes


class ColumnMap(Strict):
    source: str | Annotated[int, Field(ge=0)]
    target: str = Field(min_length=1)


class RecipeOptions(Strict):
    has_header: bool = True
    delimiter: str = "auto"
    encoding: str = "auto"
    sheet: str | int | None = None


class RecipeCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    table: Key
    columns: list[ColumnMap] = Field(min_length=1, max_length=500)
    unique_columns: list[str] = Field(default_factory=list)
    relation_unique_column: str | None = None
    mode: Literal["insert", "upsert", "update"] = "insert"
    options: RecipeOptions = Field(default_factory=RecipeOptions)


class RecipePatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    columns: list[ColumnMap] | None = Field(default=None, min_length=1, max_length=500)
    unique_columns: list[str] | None = None
    relation_unique_column: str | None = None
    mode: Literal["insert", "upsert", "update"] | None = None
    options: RecipeOptions | None = None


class Recipe(RecipeCreate):
    model_config = ConfigDict(extra="ignore")
    id: str
    created_at: str
    updated_at: str


class RecipeOut(Recipe):
    tasks_count: int = 0


# ---------------------------------------------------------------- imports


def safe_file_name(name: str) -> str | None:
    """The base name of what a client calls its file: no directories (either slash), no control or
    invisible format characters (a right-to-left override can disguise an extension)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] if base not in ("", ".", "..") else None


class ImportCreate(Strict):
    recipe_id: str = Field(min_length=1)
    has_header: bool | None = None
    description: str | None = Field(default=None, max_length=1000)
    file_name: str | None = Field(default=None, max_length=255)
    transaction_id: str | None = Field(default=None, min_length=1, max_length=128)
    scheduled_at: str | None = None
    dry_run: bool = False
    atomic: bool = False

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
    current_sheet_index: int = 0
    current_row_index: int = 0
    job_turns: int = 0
    file: FileInfo
    has_header: bool
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


class UploadTicket(BaseModel):
    url: str
    method: Literal["POST"] = "POST"
    fields: dict[str, str]
    max_bytes: int
    expires_at: str


class ImportCreated(Import):
    upload: UploadTicket | None = None


class Failure(BaseModel):
    row: int | None
    source_line: int | None = None
    sheet: str | None = None
    field: str | None = None
    code: str
    message: str
    value: Any = None
    first_row: int | None = None


# ---------------------------------------------------------------- lists


class ListMeta(BaseModel):
    per_page: int
    next_cursor: str | None = None
    total: int | None = None


class Page(BaseModel):
    data: list[Any]
    meta: ListMeta


# ---------------------------------------------------------------- schedules


class ScheduleCreate(Strict):
    recipe_id: str = Field(min_length=1)
    expression: str = Field(min_length=1, max_length=256)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    source_prefix: str = Field(min_length=1, max_length=512)
    enabled: bool = True

    @field_validator("source_prefix")
    @classmethod
    def _relative_folder(cls, value: str) -> str:
        value = value.strip().lstrip("/")
        parts = value.rstrip("/").split("/")
        if not value or any(p in ("", ".", "..") for p in parts) or any(ord(c) < 32 for c in value):
            raise ValueError("a folder path like inbox/contacts/ (no empty, '.' or '..' parts)")
        return value.rstrip("/") + "/"


class Schedule(ScheduleCreate):
    model_config = ConfigDict(extra="ignore")
    id: str
    source_uri: str
    last_run_at: str | None = None
    last_run_imports: list[str] = Field(default_factory=list)
    created_at: str
    updated_at: str


# ---------------------------------------------------------------- batch jobs

JobName = Literal["export", "batch_update", "batch_delete"]
JobCode = Literal[200, 204, 400, 403, 500]
MAX_JOB_IDS = 1000  # a larger selection goes by "all" + search_options


class JobCreate(Strict):
    job_name: JobName
    table: Key
    ids: Literal["all"] | Annotated[list[Annotated[str, Field(min_length=1, max_length=128)]], Field(min_length=1, max_length=MAX_JOB_IDS)]
    search_options: dict[str, Any] = Field(default_factory=dict)
    total: int | None = Field(default=None, ge=0)
    format: Literal["csv", "xlsx"] | None = None
    changes: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> JobCreate:
        if self.ids == "all" and self.total is None:
            raise ValueError('"ids": "all" needs "total", the number of records the search matches now')
        if self.ids != "all" and (self.search_options or self.total is not None):
            raise ValueError('search_options and total go with "ids": "all"')
        if (self.job_name == "batch_update") != bool(self.changes):
            raise ValueError("batch_update needs changes (and only batch_update takes them)")
        if self.format is not None and self.job_name != "export":
            raise ValueError("only export takes a format")
        return self


class JobCreated(BaseModel):
    success: Literal[True] = True
    data: dict[str, str]  # {"batch_code": ...}


class JobRunning(BaseModel):
    """A job not finished yet: `status` queued (another import or job of its table runs) or running."""

    batch_code: str
    status: Literal["queued", "running"]
    process: int
    success: Literal[False] = False


class JobError(BaseModel):
    code: str
    message: str


class JobResult(BaseModel):
    batch_code: str
    job_name: JobName
    table: str
    process: int = 100
    url: str | None = None  # exports: a presigned download URL, made anew at each GET
    url_expires_at: str | None = None
    file_name: str | None = None
    total: int | None = None  # records the job acted on (matched when it started)
    succeeded_amount: int = 0
    failed_amount: int = 0
    error: JobError | None = None
    started_at: str | None = None
    finished_at: str | None = None


class JobFinished(BaseModel):
    code: JobCode
    success: Literal[True] = True
    data: JobResult
