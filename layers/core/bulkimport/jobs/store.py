"""The stored batch job: its control item under the tenant's partition, read and moved in one place,
as a JobRecord.

The item holds the request (job_name, table, ids, search_options, total, format, changes as JSON
text), its status (queued, running, done) and amounts, the table frozen when it started
(`table_snapshot`), its pages' manifest, the counted set of pages and, once done, its code."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from bulkimport.errors import NotFound
from bulkimport.ids import now_iso
from bulkimport.jobs.models import JobCode, JobCreate, JobName
from bulkimport.runs.kinds import RunRecord


class JobRecord(RunRecord):
    """A job's control item."""

    status: Literal["queued", "running", "done"]
    job_name: JobName
    ids: Literal["all"] | list[str]
    search_options: dict[str, Any] = Field(default_factory=dict)
    total: int | None = None
    format: str | None = None  # of an export: csv or xlsx
    changes: str | None = None  # of a batch_update, as JSON text: a stored map would drop the nulls that clear fields
    processed_amount: int = 0
    succeeded_amount: int = 0
    failed_amount: int = 0
    # Once Prepare fixed the records it acts on
    started_at: str | None = None
    table_snapshot: dict[str, Any] | None = None
    total_count: int | None = None
    page_count: int | None = None
    manifest_key: str | None = None
    counted_pages: list[int] = Field(default_factory=list)
    export_key: str | None = None  # an export's file, and the name it is downloaded as
    file_name: str | None = None
    # Once done
    code: JobCode | None = None
    finished_at: str | None = None
    announced: bool = False  # its Job Completed event was sent


def new_record(tenant: str, job_id: str, request: JobCreate, *, table_key: str, created_by: str) -> JobRecord:
    """A new job, `queued` until its execution takes its table."""
    stamp = now_iso()
    return JobRecord(
        id=job_id,
        tenant=tenant,
        job_name=request.job_name,
        table=table_key,
        ids=request.ids,
        search_options=request.search_options,
        total=request.total,
        format=(request.format or "csv") if request.job_name == "export" else None,
        changes=json.dumps(request.changes, ensure_ascii=False) if request.changes else None,
        status="queued",
        processed_amount=0,
        succeeded_amount=0,
        failed_amount=0,
        created_by=created_by,
        created_at=stamp,
        updated_at=stamp,
    )


def create(record: JobRecord) -> None:
    ControlStore().put(record.to_item(keys.tenant_pk(record.tenant), keys.job_sk(record.id)))


def load(tenant: str, job_id: str) -> JobRecord:
    item = ControlStore().get(keys.tenant_pk(tenant), keys.job_sk(job_id))
    if not item:
        raise NotFound("JOB_NOT_FOUND", batch_code=job_id)
    return JobRecord.from_item(item)


def update(tenant: str, job_id: str, set_values: dict[str, Any], when_status: Any = None) -> JobRecord | None:
    """Set attributes of the job (None removes one); with when_status, only while its status is one
    of those (None when it is not). Returns the job as it is now."""
    item = ControlStore().update(
        keys.tenant_pk(tenant), keys.job_sk(job_id), set_values=set_values, when_status=when_status
    )
    return JobRecord.from_item(item) if item is not None else None
