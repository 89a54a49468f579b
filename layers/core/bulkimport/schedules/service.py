"""Recurring schedules: at each firing, import every file under the tenant's source folder that no
earlier firing imported (each file, identified by key and content hash, becomes one import, once)."""

from __future__ import annotations

import hashlib

from bulkimport.adapters import keys, scheduler
from bulkimport.adapters.dynamo import ControlStore, item_exists
from bulkimport.adapters.s3 import BlobStore
from bulkimport.config import Storage, section
from bulkimport.errors import NotFound
from bulkimport.ids import new_id, now_iso
from bulkimport.imports.service import import_stored_file
from bulkimport.paging import ListMeta, Page
from bulkimport.recipes.service import get_recipe
from bulkimport.schedules.expressions import parse, zone
from bulkimport.schedules.models import Schedule, ScheduleCreate


def _schedule_name(schedule_id: str) -> str:
    return f"schedule-{schedule_id}"


def create_schedule(tenant: str, request: ScheduleCreate) -> Schedule:
    get_recipe(tenant, request.recipe_id)
    parse(request.expression)
    zone(request.timezone)
    schedule_id = new_id()
    stamp = now_iso()
    source = keys.schedule_source_prefix(tenant, request.source_prefix)
    schedule = Schedule(
        **request.model_dump(),
        id=schedule_id,
        created_at=stamp,
        updated_at=stamp,
        source_uri=f"s3://{section(Storage).bucket}/{source}",
    )
    ControlStore().put(
        {"pk": keys.tenant_pk(tenant), "sk": keys.schedule_sk(schedule_id), "tenant": tenant, **schedule.model_dump()}
    )
    scheduler.put_schedule(
        _schedule_name(schedule_id),
        request.expression.strip(),
        request.timezone,
        {"kind": "schedule", "tenant": tenant, "schedule_id": schedule_id},
        enabled=request.enabled,
    )
    return schedule


def _get(tenant: str, schedule_id: str) -> Schedule | None:
    item = ControlStore().get(keys.tenant_pk(tenant), keys.schedule_sk(schedule_id))
    return Schedule.model_validate(item) if item else None


def get_schedule(tenant: str, schedule_id: str) -> Schedule:
    schedule = _get(tenant, schedule_id)
    if schedule is None:
        raise NotFound("SCHEDULE_NOT_FOUND", schedule_id=schedule_id)
    return schedule


def list_schedules(tenant: str, per_page: int, cursor: str | None) -> Page:
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    items, next_cursor = store.query(pk, keys.SCHEDULE_PREFIX, limit=per_page, cursor=cursor, newest_first=True)
    data = [Schedule.model_validate(i).model_dump(mode="json") for i in items]
    return Page(
        data=data,
        meta=ListMeta(per_page=per_page, next_cursor=next_cursor, total=store.count(pk, keys.SCHEDULE_PREFIX)),
    )


def delete_schedule(tenant: str, schedule_id: str) -> None:
    get_schedule(tenant, schedule_id)
    scheduler.delete_schedule(_schedule_name(schedule_id))
    ControlStore().delete(keys.tenant_pk(tenant), keys.schedule_sk(schedule_id))


def run_schedule(tenant: str, schedule_id: str) -> list[str]:
    """One firing: an import of each file no earlier firing imported. Returns the ids of the imports it
    created (a file's import is claimed by a transaction id made of the schedule, key and content hash,
    so a repeated or overlapping firing creates and starts nothing twice)."""
    schedule = _get(tenant, schedule_id)
    if schedule is None or not schedule.enabled:
        return []
    started = []
    for blob in BlobStore().list_objects(keys.schedule_source_prefix(tenant, schedule.source_prefix)):
        transaction_id = (
            "schedule-" + hashlib.sha256(f"{schedule_id}#{blob['key']}#{blob['etag']}".encode()).hexdigest()[:40]
        )
        import_id, is_new = import_stored_file(
            tenant, schedule.recipe_id, blob["key"], blob["size"], transaction_id, f"schedule:{schedule_id}", "schedule"
        )
        if is_new:
            started.append(import_id)
    stamp = now_iso()
    ControlStore().update(
        keys.tenant_pk(tenant),
        keys.schedule_sk(schedule_id),
        set_values={"last_run_at": stamp, "last_run_imports": started[-100:], "updated_at": stamp},
        condition=item_exists(),
    )
    return started
