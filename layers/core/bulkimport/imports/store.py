"""The stored import: its control item (under the tenant's partition), read and moved in one place.

The item holds what the API shows (models.Import) and what the steps need: the recipe, table and
parent table frozen when the import was created (`*_snapshot`), the file's reader settings once
Prepare planned it (`reader`), the counted set of each pass (`counted_<pass>_chunks`) and the
execution that runs it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from bulkimport.errors import NotFound
from bulkimport.ids import now_iso
from bulkimport.imports.models import ImportCreate
from bulkimport.recipes.models import Recipe, with_record_id
from bulkimport.schema.models import Table


def new_item(
    tenant: str,
    import_id: str,
    request: ImportCreate,
    *,
    recipe: Recipe,
    table: Table,
    parent: Table | None,
    scheduled_at: datetime | None,
    created_by: str,
    upload_key: str,
) -> dict[str, Any]:
    """A new import's item: waiting for its upload (or scheduled), with what it runs with frozen."""
    stamp = now_iso()
    return {
        "pk": keys.tenant_pk(tenant),
        "sk": keys.import_sk(import_id),
        "id": import_id,
        "tenant": tenant,
        "recipe_id": recipe.id,
        "table": table.key,
        "status": "scheduled" if scheduled_at else "waiting_upload",
        "scheduled_at": scheduled_at.strftime("%Y-%m-%dT%H:%M:%SZ") if scheduled_at else None,
        "processed_count": 0,
        "success_count": 0,
        "fail_count": 0,
        "current_sheet_index": 0,
        "job_turns": 0,
        "file": {"name": request.file_name},
        "has_header": recipe.options.has_header if request.has_header is None else request.has_header,
        "description": request.description,
        "transaction_id": request.transaction_id,
        "dry_run": request.dry_run,
        "atomic": request.atomic,
        "created_by": created_by,
        "created_at": stamp,
        "updated_at": stamp,
        # What the import runs with, frozen now: later edits of the recipe or table do not change it.
        "recipe_snapshot": recipe.model_dump(mode="json"),
        "table_snapshot": table.model_dump(mode="json"),
        "parent_snapshot": parent.model_dump(mode="json") if parent else None,
        "upload_key": upload_key,
    }


def claim_transaction(tenant: str, transaction_id: str, import_id: str) -> tuple[str, dict | None]:
    """The import a transaction id stands for: `import_id` when this call claims the transaction
    first; else the first claimer's id and its item (None when that attempt stopped before writing
    its import: this call then writes it, under that id)."""
    control = ControlStore()
    pk, sk = keys.tenant_pk(tenant), keys.import_transaction_sk(transaction_id)
    if control.put({"pk": pk, "sk": sk, "import_id": import_id}, if_absent=True):
        return import_id, None
    claimed = control.get(pk, sk)
    assert claimed is not None  # the put was refused: the claim is there
    return claimed["import_id"], get(tenant, claimed["import_id"])


def get(tenant: str, import_id: str) -> dict | None:
    return ControlStore().get(keys.tenant_pk(tenant), keys.import_sk(import_id))


def load(tenant: str, import_id: str) -> dict:
    item = get(tenant, import_id)
    if not item:
        raise NotFound("IMPORT_NOT_FOUND", import_id=import_id)
    return item


def update(
    tenant: str, import_id: str, set_values: dict[str, Any] | None = None, when_status: Any = None, **kwargs: Any
) -> dict | None:
    """Set attributes of the import (None removes one); with when_status, only while its status is
    one of those (None when it is not)."""
    return ControlStore().update(
        keys.tenant_pk(tenant), keys.import_sk(import_id), set_values=set_values, when_status=when_status, **kwargs
    )


def fail(tenant: str, import_id: str, code: str, params: dict | None = None) -> dict:
    stamp = now_iso()
    failed = update(
        tenant,
        import_id,
        {
            "status": "failed",
            "error": {"code": code, "params": params or {}},
            "executed_end_at": stamp,
            "updated_at": stamp,
        },
    )
    assert failed is not None  # unconditional
    return failed


def await_upload(tenant: str, import_id: str, deadline: str) -> None:
    """Index the import as waiting for its upload until `deadline` (when its upload URL expires), for
    the sweeper (service.sweep_awaited_uploads)."""
    ControlStore().put(
        {
            "pk": keys.AWAITED_UPLOADS_PK,
            "sk": keys.awaited_upload_sk(tenant, import_id),
            "tenant": tenant,
            "import_id": import_id,
            "deadline": deadline,
        }
    )


def awaited_uploads() -> Iterable[dict]:
    """Every indexed import waiting for its upload: {"tenant", "import_id", "deadline"}."""
    return ControlStore().query_all(keys.AWAITED_UPLOADS_PK, keys.AWAITED_UPLOAD_PREFIX)


def stop_awaiting_upload(tenant: str, import_id: str) -> None:
    ControlStore().delete(keys.AWAITED_UPLOADS_PK, keys.awaited_upload_sk(tenant, import_id))


# The import's counter of each outcome of a row the writer reports ("failed" is fail_count).
OUTCOME_COUNTERS = {"inserted": "created_count", "updated": "updated_count", "unchanged": "unchanged_count"}


def records_added(item: dict) -> int:
    """The records the import added to its table: those it created, less those its revert deleted."""
    return int(item.get("inserted_count", 0)) - int(item.get("revert_deleted", 0))


def counted_attribute(pass_: str) -> str:
    """The import attribute holding the set of chunks counted in a pass."""
    return f"counted_{pass_}_chunks"


def current_sheet_index(item: dict) -> int:
    """The workbook sheet being imported: the sheet of the first chunk not yet done. A sheet's
    chunks are consecutive and each is counted once, so this only moves forward within a pass."""
    sheets = (item.get("reader") or {}).get("sheets")
    if not sheets:
        return 0
    counted = item.get(counted_attribute(item.get("pass", "write")), set())
    next_chunk = next(i for i in itertools.count() if i not in counted)
    current = sheets[0]
    for sheet in sheets:
        if sheet["first_chunk"] <= next_chunk:
            current = sheet
    return int(current["index"])


def recipe_of(item: dict) -> Recipe:
    # "id" read as the record id where the table has no such field (recipes.models.with_record_id).
    table = Table.model_validate(item["table_snapshot"])
    return with_record_id(Recipe.model_validate(item["recipe_snapshot"]), table)


def tables_of(item: dict) -> tuple[Table, Table | None]:
    table = Table.model_validate(item["table_snapshot"])
    parent = item.get("parent_snapshot")
    return table, (Table.model_validate(parent) if parent else None)


def chunk_markers(tenant: str, import_id: str, pass_: str = "write") -> list[dict]:
    return list(ControlStore().query_all(keys.chunk_pk(tenant, import_id), keys.chunk_prefix(pass_)))
