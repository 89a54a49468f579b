"""The stored batch job: its control item under the tenant's partition, read and moved in one place.

The item holds the request (job_name, table, ids, search_options, total, format, changes as JSON
text), its status (queued, running, done) and amounts, the table frozen when it started
(`table_snapshot`), its pages' manifest, the counted set of pages and, once done, its code."""

from __future__ import annotations

import json
from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from bulkimport.errors import NotFound
from bulkimport.ids import now_iso
from bulkimport.jobs.models import JobCreate


def new_item(tenant: str, job_id: str, request: JobCreate, *, table_key: str, created_by: str) -> dict[str, Any]:
    """A new job's item, `queued` until its execution takes its table."""
    stamp = now_iso()
    return {
        "pk": keys.tenant_pk(tenant),
        "sk": keys.job_sk(job_id),
        "id": job_id,
        "tenant": tenant,
        "job_name": request.job_name,
        "table": table_key,
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
        "created_by": created_by,
        "created_at": stamp,
        "updated_at": stamp,
    }


def load(tenant: str, job_id: str) -> dict:
    item = ControlStore().get(keys.tenant_pk(tenant), keys.job_sk(job_id))
    if not item:
        raise NotFound("JOB_NOT_FOUND", batch_code=job_id)
    return item


def update(tenant: str, job_id: str, set_values: dict[str, Any], when_status: Any = None) -> dict | None:
    """Set attributes of the job (None removes one); with when_status, only while its status is one
    of those (None when it is not)."""
    return ControlStore().update(
        keys.tenant_pk(tenant), keys.job_sk(job_id), set_values=set_values, when_status=when_status
    )
