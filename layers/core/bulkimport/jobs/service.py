"""Batch jobs: export, batch_update and batch_delete of a table's records, run asynchronously.

A job is created by the API (`queued`) and runs in its own execution of the jobs state machine:
- it waits for its table like an import does (imports and jobs of one table run one at a time, in
  the order they started: table_queue);
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

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.exceptions import ClientError

from bulkimport.runs import registry as runs
from bulkimport.runs import table_queue
from bulkimport.access.keys import Principal
from bulkimport.adapters.aws import client
from bulkimport.errors import AppError, not_found
from bulkimport.ids import new_id, now_iso
from bulkimport.i18n.messages import render
from bulkimport.jobs.models import JobCreate, JobFinished, JobResult, JobRunning
from bulkimport.schema.models import Table
from bulkimport.records.queries import typed_filters
from bulkimport.config import settings
from bulkimport.adapters import keys
from bulkimport.adapters.s3 import BlobStore
from bulkimport.adapters.dynamo.store import ControlStore, RecordStore
from bulkimport.schema.tables import add_to_record_count, get_table
from bulkimport.records.uniqueness import constraints, index_pk
from bulkimport.schema.validation import RecordValidator
from bulkimport.records.writer import RecordWriter, RowPlan, WriteContext, in_parallel

EVENT_SOURCE = "bulkimport"
SLICE = 25  # records read together (one BatchGetItem) and then acted on in parallel


def _store() -> ControlStore:
    return ControlStore()


# ---------------------------------------------------------------- creating and reading


def create_job(principal: Principal, request: JobCreate) -> str:
    """Check the request against the table now (so mistakes answer 422 at once), store the job and
    start its execution. Returns its batch code."""
    tenant = principal.tenant
    table = get_table(tenant, request.table)
    typed_filters(table, request.search_options)
    if request.changes:
        validate_changes(table, request.changes)
    job_id = new_id()
    stamp = now_iso()
    _store().put({
        "pk": keys.tenant_pk(tenant),
        "sk": keys.job_sk(job_id),
        "id": job_id,
        "tenant": tenant,
        "job_name": request.job_name,
        "table": table.key,
        "ids": request.ids,
        "search_options": request.search_options,
        "total": request.total,
        "format": (request.format or "csv") if request.job_name == "export" else None,
        # As JSON text: a stored map would drop the nulls that clear fields.
        "changes": json.dumps(request.changes, ensure_ascii=False) if request.changes else None,
        "status": "queued",
        "processed_amount": 0,
        "succeeded_amount": 0,
        "failed_amount": 0,
        "created_by": principal.actor,
        "created_at": stamp,
        "updated_at": stamp,
    })
    start_execution(tenant, job_id)
    return job_id


def validate_changes(table: Table, changes: dict[str, Any]) -> dict[str, Any]:
    """The typed values a batch_update sets; null (or "") clears a field that is not required."""
    problems = [{"field": name, "code": "UNKNOWN_FIELD"} for name in changes if table.field(name) is None]
    known = {name: value for name, value in changes.items() if table.field(name) is not None}
    values, failures = RecordValidator(table.fields).validate(known)
    for failure in failures:
        top = failure.field.split("[")[0].split(".")[0]
        if failure.code == "REQUIRED" and top not in known:
            continue  # a required field the changes leave as it is
        problems.append({"field": failure.field, "code": failure.code})
    if problems:
        raise AppError("INVALID_CHANGES", 422, details=problems)
    cleared = {name: None for name, value in known.items() if value is None or value == "" or value == []}
    return {**values, **cleared}


def load_job(tenant: str, job_id: str) -> dict:
    item = _store().get(keys.tenant_pk(tenant), keys.job_sk(job_id))
    if not item:
        raise not_found("JOB_NOT_FOUND", batch_code=job_id)
    return item


def job_status(tenant: str, job_id: str, language: str = "en") -> JobRunning | JobFinished:
    """What GET /v1/jobs/{batch_code} answers: progress while it runs, its code and amounts at the end
    (an export's download URL is made anew at each call, so it is always fresh)."""
    item = load_job(tenant, job_id)
    if item["status"] != "done":
        total = item.get("total_count")
        process = min(99, item["processed_amount"] * 100 // total) if total else 0
        return JobRunning(batch_code=job_id, status=item["status"], process=process)
    error = item.get("error")
    result = JobResult(
        batch_code=job_id,
        job_name=item["job_name"],
        table=item["table"],
        total=item.get("total_count"),
        succeeded_amount=item["succeeded_amount"],
        failed_amount=item["failed_amount"],
        error={"code": error["code"], "message": render(error["code"], error.get("params"), language)} if error else None,
        started_at=item.get("started_at"),
        finished_at=item.get("finished_at"),
    )
    if item.get("export_key"):
        ttl = settings().export_url_ttl_seconds
        result.url = BlobStore().presigned_get(item["export_key"], item["file_name"], ttl)
        result.url_expires_at = _in_seconds(ttl)
        result.file_name = item["file_name"]
    return JobFinished(code=item["code"], data=result)


def _in_seconds(seconds: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def execution_arn(job_id: str) -> str:
    return settings().jobs_state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + job_id


def start_execution(tenant: str, job_id: str) -> None:
    """Start the job's execution (named after the job, so a second start is refused by Step
    Functions). Its ticket, taken now, is its place in its table's queue."""
    arn = execution_arn(job_id)
    _store().update(keys.tenant_pk(tenant), keys.job_sk(job_id), set_values={"execution_arn": arn})
    try:
        client("stepfunctions").start_execution(
            stateMachineArn=settings().jobs_state_machine_arn,
            name=job_id,
            input=json.dumps({"tenant": tenant, "job_id": job_id, "ticket": new_id(),
                              "poll_seconds": settings().queue_poll_seconds}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
    runs.register(tenant, "job", job_id, arn)


# ---------------------------------------------------------------- state machine steps


def take_table(tenant: str, job_id: str, ticket: str, execution_arn: str) -> dict[str, str]:
    """Whether the job may run now ("run"), must wait for its table ("wait": it stays `queued`), or is
    already settled ("stop")."""
    item = load_job(tenant, job_id)
    if item["status"] == "done":
        return {"next": "stop"}
    if table_queue.acquire(tenant, item["table"], ticket, execution_arn, f"job:{job_id}"):
        return {"next": "run"}
    return {"next": "wait"}


def prepare(tenant: str, job_id: str) -> dict[str, Any]:
    """Fix the records the job acts on; settle it at once when the request no longer fits the table,
    the total does not match (400) or nothing matched (204)."""
    store = _store()
    pk, sk = keys.tenant_pk(tenant), keys.job_sk(job_id)
    item = load_job(tenant, job_id)
    started = store.update(pk, sk, set_values={"status": "running", "started_at": item.get("started_at") or now_iso(),
                                               "updated_at": now_iso()}, when_status=("queued", "running"))
    if started is None:
        return _prepared("settled", item)
    if started.get("total_count") is not None:  # a retried Prepare that had finished
        return _prepared("ready", started)
    try:
        table = get_table(tenant, item["table"])
        filters = typed_filters(table, item["search_options"])
        if item.get("changes"):
            validate_changes(table, json.loads(item["changes"]))
    except AppError as error:
        return _prepared("settled", settle(tenant, job_id, 400, error.code, error.params))

    records = RecordStore()
    pages = _Pages(tenant, job_id, settings().job_page_records)
    missing = 0
    if item["ids"] == "all" and item["job_name"] == "export":
        matched = records.count_matching(tenant, table.key, filters)  # the export reads them as it writes
    elif item["ids"] == "all":
        for record in records.all_matching(tenant, table.key, filters, attributes=("sk",)):
            pages.add(record["sk"])
        matched = pages.count
    else:
        wanted = list(dict.fromkeys(item["ids"]))
        found = records.get_many(tenant, table.key, wanted)
        missing = len(wanted) - len(found)  # ids that name no record fail
        matched = len(found)
        if item["job_name"] != "export":
            for record_id in wanted:
                if record_id in found:
                    pages.add(record_id)
    if item["ids"] == "all" and matched != item["total"]:
        return _prepared("settled", settle(tenant, job_id, 400, "TOTAL_MISMATCH", {"matched": matched, "total": item["total"]}))
    if matched == 0:
        return _prepared("settled", settle(tenant, job_id, 204, failed=missing))
    manifest_key = pages.finish() if item["job_name"] != "export" else None
    ready = store.update(pk, sk, set_values={
        "table_snapshot": table.model_dump(mode="json"), "total_count": matched, "failed_amount": missing,
        "page_count": len(pages.manifest), "manifest_key": manifest_key, "updated_at": now_iso(),
    }, when_status=("running",))
    return _prepared("ready" if ready else "settled", ready or item)


def _prepared(status: str, item: dict) -> dict[str, Any]:
    return {"status": status, "job_name": item["job_name"], "manifest_key": item.get("manifest_key")}


class _Pages:
    """Record ids in pages of `size`, each written to S3 as soon as it is full (memory: one page)."""

    def __init__(self, tenant: str, job_id: str, size: int):
        self.tenant, self.job_id, self.size = tenant, job_id, size
        self.blobs = BlobStore()
        self.current: list[str] = []
        self.manifest: list[dict] = []
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
        self.manifest.append({"index": index, "key": key, "count": len(self.current)})
        self.current = []

    def finish(self) -> str:
        """Write the last page and the manifest; returns the manifest's key."""
        if self.current:
            self._flush()
        key = keys.job_manifest_key(self.tenant, self.job_id)
        self.blobs.put_json(key, self.manifest)
        return key


def process_page(tenant: str, job_id: str, page: dict) -> dict[str, Any]:
    """Update or delete the records of one page; count them once."""
    item = load_job(tenant, job_id)
    if page["index"] in item.get("counted_pages", ()) or item["status"] != "running":
        return {"index": page["index"], "skipped": True}
    table = Table.model_validate(item["table_snapshot"])
    ids = BlobStore().get_json(page["key"])
    if item["job_name"] == "batch_update":
        succeeded, failed = _update_records(tenant, item, table, ids)
    else:
        succeeded, failed = _delete_records(tenant, table, ids), 0
    _store().update(
        keys.tenant_pk(tenant), keys.job_sk(job_id),
        set_values={"updated_at": now_iso()},
        add_values={"processed_amount": len(ids), "succeeded_amount": succeeded, "failed_amount": failed,
                    "counted_pages": {page["index"]}},
        condition="NOT contains(#counted, :page)", condition_values={":page": page["index"]},
        condition_names={"#counted": "counted_pages"},
    )
    return {"index": page["index"], "succeeded": succeeded, "failed": failed}


def _update_records(tenant: str, item: dict, table: Table, ids: list[str]) -> tuple[int, int]:
    """Set the changes on each record, moving unique keys the way imports do (a value another record
    holds fails that record). Setting the same values again is harmless, so a retried page may."""
    changes = validate_changes(table, json.loads(item["changes"]))
    context = WriteContext(tenant=tenant, table=table, recipe=None, parent_table=None, dry_run=False,
                           owner=f"job:{item['id']}",
                           meta={"created_by": item["created_by"], "updated_at": now_iso(), "job_id": item["id"]})
    writer = RecordWriter(context)
    records = RecordStore()
    succeeded = failed = 0
    for start in range(0, len(ids), SLICE):
        part = ids[start : start + SLICE]
        current = records.get_many(tenant, table.key, part)
        plans = [RowPlan(row=n, values=changes, record_id=i, data=dict(changes), existing_id=i) for n, i in enumerate(part)]

        def update(plan: RowPlan) -> None:
            if plan.record_id in current:
                writer.update_record(plan, current[plan.record_id])
            else:
                plan.failure = writer.record_missing()

        in_parallel(update, plans)
        succeeded += sum(1 for p in plans if p.outcome == "updated")
        failed += sum(1 for p in plans if p.failure)
    return succeeded, failed


def _delete_records(tenant: str, table: Table, ids: list[str]) -> int:
    """Delete each record, giving its unique keys back first: a worker that dies in between leaves the
    record (found again by the retry) rather than a key nobody can ever use again. Every id existed
    when the job started and nothing else deletes records of a table while a job holds it, so a
    missing one was deleted by an earlier run of this page: it counts as deleted (the page is
    counted once)."""
    records = RecordStore()
    unique = constraints(table, None)
    for start in range(0, len(ids), SLICE):
        part = ids[start : start + SLICE]
        current = records.get_many(tenant, table.key, part)

        def delete(record_id: str) -> None:
            record = current.get(record_id)
            if record is None:
                return
            values = {**record.get("data", {}), "parent_id": (record.get("meta") or {}).get("parent_id")}
            for constraint in unique:
                held = index_pk(tenant, table.key, constraint, values)
                if held:
                    records.release(held, record_id)
            records.delete(tenant, table.key, record_id)

        in_parallel(delete, part)
    return len(ids)


# ---------------------------------------------------------------- settling


def settle(tenant: str, job_id: str, code: int, error_code: str | None = None, params: dict | None = None,
           failed: int | None = None) -> dict:
    """End the job with a code (once: a settled job stays as it is). Returns the job as it is now."""
    stamp = now_iso()
    values: dict[str, Any] = {"status": "done", "code": code, "finished_at": stamp, "updated_at": stamp,
                              "error": {"code": error_code, "params": params or {}} if error_code else None}
    if failed is not None:
        values["failed_amount"] = failed
    return _store().update(keys.tenant_pk(tenant), keys.job_sk(job_id), set_values=values,
                           when_status=("queued", "running")) or load_job(tenant, job_id)


def finalize(tenant: str, job_id: str, error: dict | None = None, ticket: str | None = None,
             execution_arn: str | None = None, failure_code: str = "JOB_INTERNAL_ERROR") -> dict[str, Any]:
    """Settle the job's code from what its workers counted, announce it, free its table."""
    item = load_job(tenant, job_id)
    if error and item["status"] != "done":
        item = settle(tenant, job_id, 500, failure_code, {"reason": error.get("Error") or "unknown"})
    elif item["status"] == "running":
        item = settle(tenant, job_id, *_outcome(item))
    if item["job_name"] == "batch_delete":
        add_to_record_count(tenant, item["table"], keys.job_sk(job_id), -item["succeeded_amount"],
                            item.get("record_count_added", 0))
    if item["status"] == "done" and not item.get("announced"):
        publish_job_event(item)
        _store().update(keys.tenant_pk(tenant), keys.job_sk(job_id), set_values={"announced": True})
    table_queue.release(tenant, item["table"], ticket)
    if execution_arn:
        runs.unregister(tenant, "job", job_id, execution_arn)
    return {"code": item.get("code")}


def _outcome(item: dict) -> tuple:
    """(code, error code, params) of a job whose workers have all returned."""
    if item["job_name"] == "export":
        done = item.get("export_key") is not None
    else:
        done = len(item.get("counted_pages", ())) == item.get("page_count")
    if not done:
        return 500, "JOB_INTERNAL_ERROR", {"reason": "not every record was reached"}
    if item["succeeded_amount"] == 0 and item["failed_amount"]:
        return 400, "ALL_RECORDS_FAILED", {"count": item["failed_amount"]}
    return (200,)


def settle_interrupted(entry: dict) -> None:
    """The sweeper's settler for a job whose execution died without settling it: code 500."""
    item = load_job(entry["tenant"], entry["run_id"])
    if item.get("execution_arn") != entry["execution_arn"] or item["status"] == "done":
        return
    status = table_queue.execution_status(entry["execution_arn"])
    finalize(entry["tenant"], entry["run_id"], error={"Error": status}, failure_code="JOB_INTERRUPTED")


def publish_job_event(item: dict) -> None:
    error = item.get("error")
    detail = {
        "tenant": item["tenant"],
        "batch_code": item["id"],
        "job_name": item["job_name"],
        "table": item["table"],
        "code": item["code"],
        "total": item.get("total_count"),
        "succeeded_amount": item["succeeded_amount"],
        "failed_amount": item["failed_amount"],
        "error": error["code"] if error else None,
    }
    client("events").put_events(Entries=[{
        "Source": EVENT_SOURCE,
        "DetailType": "Job Completed",
        "Detail": json.dumps(detail, ensure_ascii=False),
        "EventBusName": settings().event_bus_name,
    }])
