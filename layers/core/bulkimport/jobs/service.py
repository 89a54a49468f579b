"""Batch jobs: export, batch_update and batch_delete of a table's records, run asynchronously.

A job is created by the API (`queued`) and runs in its own execution of the jobs state machine:
- it waits for its table like an import does (imports and jobs of one table run one at a time, in
  the order they started: runs.table_queue);
- Prepare fixes the records it acts on: the ids sent, or every record that search_options match.
  With "all", the number matched must equal the `total` sent, else the job ends with code 400 and
  nothing done; nothing matched ends it with code 204. The ids of a batch_update / batch_delete are
  written into pages (S3 objects listed in a manifest), so a retried worker acts on the same records;
- one worker per page (a Distributed Map) updates or deletes its records; an export is one worker
  that streams the whole file (exports.py);
- Finalize settles the code and amounts, publishes `Job Completed`, frees the table.

Exactly once: acting on a record is idempotent (setting the same fields again; deleting a record
that an earlier run of the page deleted), and a page's amounts move in the one conditional update
that adds the page to the job's counted set.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bulkimport.access.keys import Principal
from bulkimport.adapters.s3 import BlobStore
from bulkimport.config import JobLimits, section
from bulkimport.i18n.messages import render
from bulkimport.ids import new_id
from bulkimport.jobs import store
from bulkimport.jobs.changes import validate_changes
from bulkimport.jobs.models import JobCreate, JobError, JobFinished, JobResult, JobRunning
from bulkimport.jobs.steps import JOB_RUN
from bulkimport.records.queries import typed_filters
from bulkimport.runs import lifecycle
from bulkimport.schema.tables import get_table


def create_job(principal: Principal, request: JobCreate) -> str:
    """Check the request against the table now (so mistakes answer 422 at once), store the job and
    start its execution. Returns its batch code."""
    tenant = principal.tenant
    table = get_table(tenant, request.table)
    typed_filters(table, request.search_options)
    if request.changes:
        validate_changes(table, request.changes)
    job_id = new_id()
    store.create(store.new_record(tenant, job_id, request, table_key=table.key, created_by=principal.actor))
    lifecycle.start(JOB_RUN, tenant, job_id)
    return job_id


def job_status(tenant: str, job_id: str, language: str = "en") -> JobRunning | JobFinished:
    """What GET /v1/jobs/{batch_code} answers: progress while it runs, its code and amounts at the end
    (an export's download URL is made anew at each call, so it is always fresh)."""
    item = store.load(tenant, job_id)
    if item.status != "done":
        total = item.total_count
        process = min(99, item.processed_amount * 100 // total) if total else 0
        return JobRunning(batch_code=job_id, status=item.status, process=process)
    job_error = (
        JobError(code=item.error.code, message=render(item.error.code, item.error.params, language))
        if item.error
        else None
    )
    result = JobResult(
        batch_code=job_id,
        job_name=item.job_name,
        table=item.table,
        total=item.total_count,
        succeeded_amount=item.succeeded_amount,
        failed_amount=item.failed_amount,
        error=job_error,
        started_at=item.started_at,
        finished_at=item.finished_at,
    )
    if item.export_key and item.file_name:  # set together (jobs.exports)
        ttl = section(JobLimits).export_url_ttl_seconds
        result.url = BlobStore().presigned_get(item.export_key, item.file_name, ttl)
        result.url_expires_at = _in_seconds(ttl)
        result.file_name = item.file_name
    assert item.code is not None  # a job is done with its code (jobs.steps.end)
    return JobFinished(code=item.code, data=result)


def _in_seconds(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
