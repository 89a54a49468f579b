"""The stored batch job: its control item under the tenant's partition, read and moved in one place.

The item holds the request (job_name, table, ids, search_options, total, format, changes as JSON
text), its status (queued, running, done) and amounts, the table frozen when it started
(`table_snapshot`), its pages' manifest, the counted set of pages and, once done, its code."""

from __future__ import annotations

from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from bulkimport.errors import NotFound


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
