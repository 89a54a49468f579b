"""Batch jobs as the API takes and shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, RootModel, model_validator

from bulkimport.schema.models import MAX_FIELDS, MAX_ID, REQUEST, Key, Strict, check_json_value

JobName = Literal["export", "batch_update", "batch_delete"]
JobCode = Literal[200, 204, 400, 403, 500]
MAX_JOB_IDS = 1000  # a larger selection goes by "all" + search_options
MAX_SEARCH_OPTIONS = 50
MAX_SEARCH_VALUE = 1_000

FieldName = Annotated[str, Field(min_length=1, max_length=64)]  # a field key, or parent_id
SearchValue = Annotated[str, Field(max_length=MAX_SEARCH_VALUE)] | bool | int | float | None
Changes = Annotated[
    dict[FieldName, Any], Field(max_length=MAX_FIELDS), AfterValidator(lambda v: check_json_value(v, "changes"))
]


class JobCreate(Strict):
    model_config = REQUEST
    job_name: JobName
    table: Key
    ids: (
        Literal["all"]
        | Annotated[
            list[Annotated[str, Field(min_length=1, max_length=MAX_ID)]], Field(min_length=1, max_length=MAX_JOB_IDS)
        ]
    )
    search_options: dict[FieldName, SearchValue] = Field(default_factory=dict, max_length=MAX_SEARCH_OPTIONS)
    total: int | None = Field(default=None, ge=0)
    format: Literal["csv", "xlsx"] | None = None
    changes: Changes | None = None

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
    """Accepted: the job runs in the background; `data.batch_code` names it."""

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


class JobStatus(RootModel[JobRunning | JobFinished]):
    """A job: running (its progress) or finished (its code and amounts)."""


class Page(BaseModel):
    """A page of the records a batch_update or batch_delete acts on: their ids, in S3 (jobs.steps)."""

    index: int
    key: str
    count: int


class PageTask(BaseModel):
    """What the ProcessPages Map hands ProcessPage: one page of the job's manifest."""

    tenant: str
    run_id: str
    page: Page
    attempt: int = 0  # Step Functions' retry count of the page's task
