"""Synchronous batch create: up to 100 records in one call, idempotent by transaction_id.

A transaction fixes the ids of its records (its base id plus the record's index; in a table with a
unique field, the id its key field's value gives, with that base id and index as the record's
origin), so sending it again creates only the records that are still missing and returns the ids of all. A record is
created by a conditional put, and counted and announced through one conditional update of the
transaction item, so concurrent or repeated sends count and announce each record once.

A resend carries as many records as the first send. The transaction item keeps a digest of each
record as last sent valid: a record an earlier send created must come again unchanged (else 409
TRANSACTION_MISMATCH, before anything is written); a record that failed may come corrected and is
created now.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bulkimport.access import rate_limit
from bulkimport.access.keys import Principal
from bulkimport.adapters import events, keys
from bulkimport.adapters.dynamo import Attr, ControlStore, RecordStore, item_exists
from bulkimport.config import RateLimits, section
from bulkimport.errors import Conflict
from bulkimport.i18n.messages import render
from bulkimport.ids import new_id, now_iso
from bulkimport.records.uniqueness import key_field, record_id_of
from bulkimport.records.writer import ORIGIN, RecordWriter, RowPlan, WriteContext
from bulkimport.schema.models import MAX_FIELDS, MAX_ID, MAX_NAME, Table, check_json_value
from bulkimport.schema.tables import get_table
from bulkimport.schema.validation import RecordValidator

MAX_RECORDS = 100


# A record as sent: at most one key per field (a table has at most MAX_FIELDS, plus parent_id), values
# bounded in depth, string length and size (schema.models.check_json_value).
Record = Annotated[
    dict[Annotated[str, Field(max_length=MAX_NAME)], Any],
    Field(max_length=MAX_FIELDS + 1),
    AfterValidator(lambda v: check_json_value(v, "record")),
]


class BatchCreate(BaseModel):
    # Strict types, but unknown top-level attributes are ignored (docs/API.md).
    model_config = ConfigDict(strict=True)

    records: list[Record] = Field(min_length=1, max_length=MAX_RECORDS)
    transaction_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID)
    data_creator: str | None = Field(default=None, max_length=MAX_NAME)
    is_start_workflow: bool = False


class BatchFailure(BaseModel):
    index: int
    field: str | None = None
    code: str
    message: str


class BatchCreated(BaseModel):
    """What batch_create answers: the ids of the records created (all of a resent transaction) and why
    the others were not."""

    status: Literal["success", "partial", "failed"]
    success_count: int
    success_ids: list[str]
    failures: list[BatchFailure]


def batch_create(principal: Principal, table_key: str, request: BatchCreate, language: str) -> dict[str, Any]:
    """Validate the records, hold them under the request's transaction (a resend finds the same
    ids), write the new ones and announce them once; returns what BatchCreated shows."""
    tenant = principal.tenant
    rate_limit.take(tenant, "batch-create", section(RateLimits).batch_create_per_second)
    table = get_table(tenant, table_key)
    parent = get_table(tenant, table.parent) if table.parent else None
    valid, failures = _validated(table, request, language)
    keyed = key_field(table)
    keyed_ids = {
        index: record_id
        for index, values in valid
        if keyed is not None and (record_id := record_id_of(tenant, table_key, keyed, values)) is not None
    }
    transaction = _transaction(tenant, table_key, request, [index for index, _ in valid], keyed_ids)
    base_id = transaction["base_id"]
    plans = [
        RowPlan(
            row=index,
            values=values,
            record_id=f"{base_id}{index:08d}",
            parent_id=request.records[index].get("parent_id") if parent else None,
        )
        for index, values in valid
    ]
    failures += _write(principal, table, parent, request, plans, owner=f"batch:{transaction['sk']}", language=language)
    ids = {p.row: p.record_id for p in plans}
    succeeded = sorted(p.row for p in plans if p.outcome == "inserted")
    to_announce = _settle(tenant, table_key, transaction["sk"], succeeded, request.is_start_workflow)
    if to_announce:
        _announce(tenant, table_key, [ids[index] for index in to_announce])

    failures.sort(key=lambda f: f["index"])
    status = "success" if not failures else ("partial" if succeeded else "failed")
    return {
        "status": status,
        "success_count": len(succeeded),
        "success_ids": [ids[index] for index in succeeded],
        "failures": failures,
    }


def _validated(
    table: Table, request: BatchCreate, language: str
) -> tuple[list[tuple[int, dict[str, Any]]], list[dict]]:
    """(index, typed values) of each valid record, and the failures of the others."""
    validator = RecordValidator(table.fields, table.rules)
    failures: list[dict] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, record in enumerate(request.records):
        values, problems = validator.validate(record)
        if problems:
            failures += [_failure(index, p.field, p.code, p.params, language) for p in problems]
        else:
            valid.append((index, values))
    return valid, failures


def _write(
    principal: Principal,
    table: Table,
    parent: Table | None,
    request: BatchCreate,
    plans: list[RowPlan],
    owner: str,
    language: str,
) -> list[dict]:
    """Claim the records' parents and unique keys and create those that got them (a record an earlier
    send created stays as it is); marks each plan inserted or failed, and returns the failures."""
    stamp = now_iso()
    context = WriteContext(
        tenant=principal.tenant,
        table=table,
        recipe=None,
        parent_table=parent,
        dry_run=False,
        owner=owner,
        meta={
            "created_by": request.data_creator or principal.actor,
            "created_at": stamp,
            "updated_at": stamp,
            "transaction_id": request.transaction_id,
        },
    )
    writer = RecordWriter(context)
    writer.apply(plans, write_records=False)
    failures = []
    for plan in plans:
        if plan.outcome == "claimed":
            writer.put_new(plan)  # an earlier send's record (same origin) is this one's
            plan.outcome = None if plan.failure else "inserted"
        if plan.failure:
            failures.append(_failure(plan.row, plan.failure.field, plan.failure.code, plan.failure.params, language))
    return failures


def _record_digests(request: BatchCreate) -> list[str]:
    return [
        hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:32]
        for record in request.records
    ]


def _transaction(
    tenant: str, table_key: str, request: BatchCreate, valid: list[int], keyed_ids: dict[int, str]
) -> dict:
    """The transaction item: created on first use with the digests of the valid records (and the ids
    their key field values give); on a resend, checked against what it holds (see _hold_sent_records)."""
    store = ControlStore()
    transaction_id = request.transaction_id or new_id()
    digests = _record_digests(request)
    item: dict[str, Any] = {
        "pk": keys.tenant_pk(tenant),
        "sk": f"BATCHTX#{table_key}#{transaction_id}",
        "transaction_id": transaction_id,
        "base_id": new_id(),
        "count": len(request.records),
        "digests": {str(index): digests[index] for index in valid},
        "keyed_ids": {str(index): record_id for index, record_id in keyed_ids.items()},
        "version": 0,
        "created_at": now_iso(),
    }
    if store.put(item, if_absent=True):
        return item
    existing = store.get(item["pk"], item["sk"])
    assert existing is not None  # the put was refused: the item is there (nothing deletes it)
    if existing["count"] != len(request.records):
        raise Conflict("TRANSACTION_MISMATCH", transaction_id=transaction_id)
    _hold_sent_records(tenant, table_key, existing, digests, valid, keyed_ids)
    return existing


def _hold_sent_records(
    tenant: str, table_key: str, transaction: dict, digests: list[str], valid: list[int], keyed_ids: dict[int, str]
) -> None:
    """Refuse the send if it changes a record an earlier send created; else note the digests of its
    valid records, which later sends must then match once those records exist.

    A digest that differs is a conflict only when its record exists: a record that failed, or whose
    send died before creating it, may come again corrected. The version condition makes concurrent
    sends note their digests one after the other."""
    store = ControlStore()
    records = RecordStore()
    for _ in range(10):
        held: dict[str, str] = dict(transaction.get("digests") or {})
        held_ids: dict[str, str] = dict(transaction.get("keyed_ids") or {})
        for index, digest in enumerate(digests):
            earlier = held.get(str(index))
            if earlier not in (None, digest) and _created_by(tenant, table_key, transaction, index, held_ids, records):
                raise Conflict("TRANSACTION_MISMATCH", transaction_id=transaction["transaction_id"])
        wanted = {**held, **{str(index): digests[index] for index in valid}}
        wanted_ids = {k: v for k, v in held_ids.items() if int(k) not in valid}
        wanted_ids |= {str(index): record_id for index, record_id in keyed_ids.items()}
        if wanted == held and wanted_ids == held_ids:
            return
        if store.update(
            transaction["pk"],
            transaction["sk"],
            set_values={"digests": wanted, "keyed_ids": wanted_ids, "version": transaction["version"] + 1},
            condition=Attr("version").eq(transaction["version"]),
        ):
            transaction.update(digests=wanted, keyed_ids=wanted_ids, version=transaction["version"] + 1)
            return
        fresh = store.get(transaction["pk"], transaction["sk"])
        assert fresh is not None
        transaction = fresh
    raise RuntimeError("could not note the transaction's records: too much contention")


def _created_by(
    tenant: str, table_key: str, transaction: dict, index: int, keyed_ids: dict[str, str], records: RecordStore
) -> bool:
    """Whether an earlier send of the transaction created its record at `index`."""
    origin = f"{transaction['base_id']}{index:08d}"
    record = records.get(tenant, table_key, keyed_ids.get(str(index)) or origin)
    return record is not None and ((record.get("meta") or {}).get(ORIGIN) or record["sk"]) == origin


def _settle(tenant: str, table_key: str, transaction_sk: str, succeeded: list[int], announce: bool) -> list[int]:
    """Count the transaction's records that no earlier send counted, and take the ones no earlier
    send announced; returns those to announce. One conditional update of the transaction item makes
    concurrent sends take each record once (a send that dies right after it loses its events)."""
    store = ControlStore()
    pk = keys.tenant_pk(tenant)
    for _ in range(10):
        transaction = store.get(pk, transaction_sk)
        assert transaction is not None  # created by _transaction, never deleted
        uncounted = set(succeeded) - set(transaction.get("counted", ()))
        unannounced = (set(succeeded) - set(transaction.get("announced", ()))) if announce else set()
        if not uncounted and not unannounced:
            return []
        added = {name: value for name, value in (("counted", uncounted), ("announced", unannounced)) if value}
        actions = [
            store.update_request(
                pk,
                transaction_sk,
                set_values={"version": transaction["version"] + 1},
                add_values=added,
                condition=Attr("version").eq(transaction["version"]),
            )
        ]
        if uncounted:
            actions.append(
                store.update_request(
                    pk, keys.table_sk(table_key), add_values={"record_count": len(uncounted)}, condition=item_exists()
                )
            )
        if store.transact(actions):
            return sorted(unannounced)
    raise RuntimeError("could not settle the transaction's records: too much contention")


def _announce(tenant: str, table_key: str, record_ids: list[str]) -> None:
    events.publish(
        "Record Created", [{"tenant": tenant, "table": table_key, "record_id": record_id} for record_id in record_ids]
    )


def _failure(index: int, field: str | None, code: str, params: dict, language: str) -> dict:
    return {"index": index, "field": field, "code": code, "message": render(code, params, language)}
