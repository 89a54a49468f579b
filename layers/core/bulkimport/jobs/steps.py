"""The jobs state machine's own steps: Prepare (fix the records a job acts on), one page of a
batch_update / batch_delete, and the job's end, settled by the shared Finalize. An export is one
step of its own (exports.py). Waiting for the table and Finalize itself are shared with every kind
of run (runs.lifecycle)."""

from __future__ import annotations

import json
from typing import Any

from bulkimport.adapters import events, keys
from bulkimport.adapters.dynamo import RecordStore, UniqueIndex
from bulkimport.adapters.s3 import BlobStore
from bulkimport.config import JobLimits, JobsMachine, section
from bulkimport.errors import DomainError
from bulkimport.ids import now_iso
from bulkimport.jobs import store
from bulkimport.jobs.changes import validate_changes
from bulkimport.jobs.models import Page
from bulkimport.jobs.store import JobRecord
from bulkimport.records.queries import typed_filters
from bulkimport.records.uniqueness import constraints, index_pk, indexed, key_field
from bulkimport.records.writer import RecordWriter, RowPlan, WriteContext, in_parallel
from bulkimport.runs.counting import count_once
from bulkimport.runs.kinds import RunKind
from bulkimport.schema.models import Table
from bulkimport.schema.tables import add_to_record_count, get_table

SLICE = 25  # records read together (one BatchGetItem) and then acted on in parallel


def prepare(tenant: str, job_id: str) -> dict[str, Any]:
    """Fix the records the job acts on; settle it at once when the request no longer fits the table,
    the total does not match (400) or nothing matched (204)."""
    item = store.load(tenant, job_id)
    started = store.update(
        tenant,
        job_id,
        {"status": "running", "started_at": item.started_at or now_iso(), "updated_at": now_iso()},
        when_status=("queued", "running"),
    )
    if started is None:
        return _prepared("settled", item)
    if started.total_count is not None:  # a retried Prepare that had finished
        return _prepared("ready", started)
    try:
        table, filters = _request_against(tenant, item)
    except DomainError as error:
        return _prepared("settled", end(tenant, job_id, 400, error.code, error.params))
    pages = _Pages(tenant, job_id, section(JobLimits).job_page_records)
    matched, missing = _match(tenant, item, table, filters, pages)
    if item.ids == "all" and matched != item.total:
        return _prepared(
            "settled", end(tenant, job_id, 400, "TOTAL_MISMATCH", {"matched": matched, "total": item.total})
        )
    if matched == 0:
        return _prepared("settled", end(tenant, job_id, 204, failed=missing))
    manifest_key = pages.finish() if item.job_name != "export" else None
    ready = store.update(
        tenant,
        job_id,
        {
            "table_snapshot": table.model_dump(mode="json"),
            "total_count": matched,
            "failed_amount": missing,
            "page_count": len(pages.manifest),
            "manifest_key": manifest_key,
            "updated_at": now_iso(),
        },
        when_status=("running",),
    )
    return _prepared("ready" if ready else "settled", ready or item)


def _request_against(tenant: str, item: JobRecord) -> tuple[Table, dict[str, Any]]:
    """The job's table as it is now, and the request's filters typed by it; DomainError when the
    request no longer fits the table (a field gone, a change that no longer validates)."""
    table = get_table(tenant, item.table)
    filters = typed_filters(table, item.search_options)
    if item.changes:
        validate_changes(table, json.loads(item.changes))
    return table, filters


def _match(tenant: str, item: JobRecord, table: Table, filters: dict[str, Any], pages: _Pages) -> tuple[int, int]:
    """(records matched, ids that name no record: they fail). An update's or delete's records are
    added to `pages`; an export's are only counted (it reads them as it writes)."""
    records = RecordStore()
    if item.ids == "all" and item.job_name == "export":
        return records.count_matching(tenant, table.key, filters), 0
    if item.ids == "all":
        for record in records.all_matching(tenant, table.key, filters, attributes=("sk",)):
            pages.add(record["sk"])
        return pages.count, 0
    wanted = list(dict.fromkeys(item.ids))
    found = records.get_many(tenant, table.key, wanted)
    if item.job_name != "export":
        for record_id in wanted:
            if record_id in found:
                pages.add(record_id)
    return len(found), len(wanted) - len(found)


def _prepared(status: str, item: JobRecord) -> dict[str, Any]:
    return {"status": status, "job_name": item.job_name, "manifest_key": item.manifest_key}


class _Pages:
    """Record ids in pages of `size`, each written to S3 as soon as it is full (memory: one page)."""

    def __init__(self, tenant: str, job_id: str, size: int):
        self.tenant, self.job_id, self.size = tenant, job_id, size
        self.blobs = BlobStore()
        self.current: list[str] = []
        self.manifest: list[Page] = []
        self.count = 0

    def add(self, record_id: str) -> None:
        self.count += 1
        self.current.append(record_id)
        if len(self.current) == self.size:
            self._flush()

    def _flush(self) -> None:
        index = len(self.manifest)
        key = keys.job_page_key(self.tenant, self.job_id, index)
        self.blobs.put_json(key, self.current)
        self.manifest.append(Page(index=index, key=key, count=len(self.current)))
        self.current = []

    def finish(self) -> str:
        """Write the last page and the manifest; returns the manifest's key."""
        if self.current:
            self._flush()
        key = keys.job_manifest_key(self.tenant, self.job_id)
        self.blobs.put_json(key, [page.model_dump() for page in self.manifest])
        return key


def process_page(tenant: str, job_id: str, page: Page) -> dict[str, Any]:
    """Update or delete the records of one page; count them once."""
    item = store.load(tenant, job_id)
    if page.index in item.counted_pages or item.status != "running":
        return {"index": page.index, "skipped": True}
    table = Table.model_validate(item.table_snapshot)
    ids = BlobStore().get_json(page.key)
    if item.job_name == "batch_update":
        succeeded, failed = _update_records(tenant, item, table, ids)
    else:
        succeeded, failed = _delete_records(tenant, table, ids), 0
    count_once(
        tenant,
        keys.job_sk(job_id),
        "counted_pages",
        page.index,
        {"processed_amount": len(ids), "succeeded_amount": succeeded, "failed_amount": failed},
        set_values={"updated_at": now_iso()},
    )
    return {"index": page.index, "succeeded": succeeded, "failed": failed}


def _update_records(tenant: str, item: JobRecord, table: Table, ids: list[str]) -> tuple[int, int]:
    """Set the changes on each record, moving unique keys the way imports do (a value another record
    holds fails that record). Setting the same values again is harmless, so a retried page may."""
    assert item.changes is not None  # a batch_update has changes (JobCreate)
    changes = validate_changes(table, json.loads(item.changes))
    context = WriteContext(
        tenant=tenant,
        table=table,
        recipe=None,
        parent_table=None,
        dry_run=False,
        owner=f"job:{item.id}",
        meta={"created_by": item.created_by, "updated_at": now_iso(), "job_id": item.id},
    )
    writer = RecordWriter(context)
    records = RecordStore()
    succeeded = failed = 0
    for start in range(0, len(ids), SLICE):
        part = ids[start : start + SLICE]
        current = records.get_many(tenant, table.key, part)
        plans = [
            RowPlan(row=n, values=changes, record_id=i, data=dict(changes), existing_id=i) for n, i in enumerate(part)
        ]

        def update(plan: RowPlan) -> None:
            if plan.record_id in current:  # noqa: B023 - in_parallel calls it within this iteration
                writer.update_record(plan, current[plan.record_id])  # noqa: B023 - in_parallel calls it within this iteration
            else:
                plan.failure = writer.record_missing()

        in_parallel(update, plans)
        succeeded += sum(1 for p in plans if p.outcome in ("updated", "unchanged"))
        failed += sum(1 for p in plans if p.failure)
    return succeeded, failed


def _delete_records(tenant: str, table: Table, ids: list[str]) -> int:
    """Delete each record, giving its unique keys back first: a worker that dies in between leaves the
    record (found again by the retry) rather than a key nobody can ever use again. Every id existed
    when the job started and nothing else deletes records of a table while a job holds it, so a
    missing one was deleted by an earlier run of this page: it counts as deleted (the page is
    counted once)."""
    records, index = RecordStore(), UniqueIndex()
    unique = indexed(constraints(table, None), key_field(table))  # the key field's claim is the record
    for start in range(0, len(ids), SLICE):
        part = ids[start : start + SLICE]
        current = records.get_many(tenant, table.key, part)

        def delete(record_id: str) -> None:
            record = current.get(record_id)  # noqa: B023 - in_parallel calls it within this iteration
            if record is None:
                return
            values = {**record.get("data", {}), "parent_id": (record.get("meta") or {}).get("parent_id")}
            for constraint in unique:
                held = index_pk(tenant, table.key, constraint, values)
                if held:
                    index.release(held, record_id)
            records.delete(tenant, table.key, record_id)

        in_parallel(delete, part)
    return len(ids)


def end(
    tenant: str,
    job_id: str,
    code: int,
    error_code: str | None = None,
    params: dict | None = None,
    failed: int | None = None,
) -> JobRecord:
    """End the job with a code (once: a settled job stays as it is). Returns the job as it is now."""
    stamp = now_iso()
    values: dict[str, Any] = {
        "status": "done",
        "code": code,
        "finished_at": stamp,
        "updated_at": stamp,
        "error": {"code": error_code, "params": params or {}} if error_code else None,
    }
    if failed is not None:
        values["failed_amount"] = failed
    return store.update(tenant, job_id, values, when_status=("queued", "running")) or store.load(tenant, job_id)


class JobRun(RunKind[JobRecord]):
    """Batch jobs as a kind of run."""

    name = "job"
    queued_from = ()  # a job is `queued` from its creation until it takes its table
    failure_code = "JOB_INTERNAL_ERROR"
    interrupted_code = "JOB_INTERRUPTED"

    def item_sk(self, run_id: str) -> str:
        return keys.job_sk(run_id)

    def load(self, tenant: str, run_id: str) -> JobRecord:
        return store.load(tenant, run_id)

    def state_machine_arn(self) -> str:
        return section(JobsMachine).jobs_state_machine_arn

    def is_settled(self, item: JobRecord) -> bool:
        return item.status == "done"

    def started_at(self, item: JobRecord) -> str | None:
        return item.started_at

    def settle(self, tenant: str, run_id: str, error: dict | None, failure_code: str) -> JobRecord:
        """The job's end (Finalize): its code from what its workers counted
        (500 when a step failed), the records a batch_delete removed taken off its table's count, and its
        event, once. Returns the item."""
        item = store.load(tenant, run_id)
        if error and item.status != "done":
            item = end(tenant, run_id, 500, failure_code, {"reason": error.get("Error") or "unknown"})
        elif item.status == "running":
            item = end(tenant, run_id, *_outcome(item))
        if item.job_name == "batch_delete":
            add_to_record_count(
                tenant, item.table, keys.job_sk(run_id), -item.succeeded_amount, item.record_count_added
            )
        if item.status == "done" and not item.announced:
            publish_job_event(item)
            item = store.update(tenant, run_id, {"announced": True}) or item
        return item


JOB_RUN = JobRun()


def _outcome(item: JobRecord) -> tuple:
    """(code, error code, params) of a job whose workers have all returned."""
    exported = item.job_name == "export"
    done = item.export_key is not None if exported else len(item.counted_pages) == item.page_count
    if not done:
        return 500, "JOB_INTERNAL_ERROR", {"reason": "not every record was reached"}
    if item.succeeded_amount == 0 and item.failed_amount:
        return 400, "ALL_RECORDS_FAILED", {"count": item.failed_amount}
    return (200,)


def publish_job_event(item: JobRecord) -> None:
    error = item.error
    detail = {
        "tenant": item.tenant,
        "batch_code": item.id,
        "job_name": item.job_name,
        "table": item.table,
        "code": item.code,
        "total": item.total_count,
        "succeeded_amount": item.succeeded_amount,
        "failed_amount": item.failed_amount,
        "error": error.code if error else None,
    }
    events.publish("Job Completed", [detail])
