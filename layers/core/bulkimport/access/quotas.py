"""A tenant's quotas, and the rows it imported today, counted in DynamoDB.

`rows_per_day` is taken by reservation: Prepare, once it has counted an import's rows and before any
chunk writes, reserves them in one transaction that (a) adds them to the tenant's usage item of the
current UTC day, on condition that the sum stays within the quota, and (b) marks the import as
reserved, on condition that it was not. Two imports racing for the last rows cannot both pass (the
condition is checked on the one item, atomically), and a retried Prepare never reserves twice.

Reserved rows stay counted for the day whatever becomes of the import (failed, cancelled, reverted):
the rows were read and checked, which is the work the quota bounds. An import refused the quota
reserves nothing. Usage items carry an `expires_at` that the table's TTL deletes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore
from bulkimport.errors import InvalidInput

DEFAULT_MAX_CONCURRENT_RUNS = 5
DEFAULT_ROWS_PER_DAY = 50_000_000
_USAGE_KEPT_SECONDS = 3 * 86400


class Quotas(BaseModel):
    max_concurrent_runs: int = Field(default=DEFAULT_MAX_CONCURRENT_RUNS, ge=1)
    rows_per_day: int = Field(default=DEFAULT_ROWS_PER_DAY, ge=0)


class QuotaExceeded(InvalidInput):
    """An import's rows would take the tenant past its rows_per_day."""


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def of(tenant: str, store: ControlStore | None = None) -> Quotas:
    """The tenant's quotas (the defaults where an operator set none)."""
    item = (store or ControlStore()).get(keys.tenant_pk(tenant), keys.QUOTAS_SK) or {}
    return Quotas.model_validate({k: v for k, v in item.items() if k in Quotas.model_fields})


def set_quotas(
    tenant: str,
    max_concurrent_runs: int | None = None,
    rows_per_day: int | None = None,
    store: ControlStore | None = None,
) -> Quotas:
    """An operator's change of a tenant's quotas (those not given stay as they are); returns them all.
    A value out of range raises pydantic's ValidationError before anything is written."""
    store = store or ControlStore()
    changes = {
        name: value
        for name, value in {"max_concurrent_runs": max_concurrent_runs, "rows_per_day": rows_per_day}.items()
        if value is not None
    }
    Quotas.model_validate(changes)
    if changes:
        store.update(keys.tenant_pk(tenant), keys.QUOTAS_SK, set_values=changes, new_item=False)
    return of(tenant, store)


def rows_today(tenant: str) -> int:
    item = ControlStore().get(keys.usage_pk(tenant), today())
    return int(item["rows"]) if item and "rows" in item else 0


def reserve_rows(tenant: str, run_pk: str, run_sk: str, rows: int) -> None:
    """Reserve an import's `rows` for today, or raise QuotaExceeded having reserved nothing.
    Idempotent per import: the import's item notes the day it reserved (`quota_day`)."""
    store = ControlStore()
    limit = of(tenant).rows_per_day
    day = today()
    used = rows_today(tenant)
    if rows > limit:
        raise QuotaExceeded("QUOTA_EXCEEDED", rows=rows, used=used, limit=limit)
    expires = int(datetime.now(UTC).timestamp()) + _USAGE_KEPT_SECONDS
    room = limit - rows  # the day's count must be at most this before the add
    usage = store.update_request(
        keys.usage_pk(tenant),
        day,
        set_values={"expires_at": expires},
        add_values={"rows": rows},
        condition=Attr("rows").not_exists() | Attr("rows").lte(room),
    )
    mark = store.update_request(
        run_pk, run_sk, set_values={"quota_day": day, "quota_rows": rows}, condition=Attr("quota_day").not_exists()
    )
    for _ in range(5):
        if store.transact([usage, mark]):
            return
        if (store.get(run_pk, run_sk) or {}).get("quota_day"):
            return  # a retried Prepare: this import reserved its rows already
        used = rows_today(tenant)
        if used > room:
            raise QuotaExceeded("QUOTA_EXCEEDED", rows=rows, used=used, limit=limit)
        # else the transaction lost a race with another one on the usage item (not the quota): again
    raise QuotaExceeded("QUOTA_EXCEEDED", rows=rows, used=used, limit=limit)


class Usage(BaseModel):
    """What GET /v1/usage answers: the tenant's runs now, its rows today, its quotas."""

    runs_running: int
    runs_queued: int
    rows_today: int
    quotas: Quotas
