"""Reading records of a table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bulkimport.adapters.dynamo import RecordStore, UniqueIndex
from bulkimport.errors import InvalidInput, NotFound
from bulkimport.paging import ListMeta, Page
from bulkimport.records.uniqueness import index_pk, key_field, record_id_of, table_constraint
from bulkimport.schema.models import Table
from bulkimport.schema.rules import stored_form
from bulkimport.schema.tables import get_table
from bulkimport.schema.validation import Invalid, converter_for

META_FIELDS = ("parent_id", "import_id", "created_by", "created_at", "updated_at")


class Record(BaseModel):
    """A record as the API shows it (to_record builds it): its field values under `data`."""

    id: str
    table: str
    data: dict[str, Any]
    parent_id: str | None = None
    import_id: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


def to_record(table: str, item: dict) -> dict[str, Any]:
    meta = item.get("meta") or {}
    record = {"id": item["sk"], "table": table, "data": item.get("data") or {}, **{k: meta.get(k) for k in META_FIELDS}}
    record["updated_at"] = record["updated_at"] or record["created_at"]  # written by updates only
    return record


def typed_filters(schema: Table, filters: dict[str, Any]) -> dict[str, Any]:
    """Equality filters {field: value} with each value converted to its field's type (how records store
    it); `parent_id` filters a child table by its parent. Unknown fields or bad values: INVALID_FILTER."""
    typed: dict[str, Any] = {}
    problems = []
    for name, value in filters.items():
        if name == "parent_id" and schema.parent:
            typed[name] = str(value)
            continue
        spec = schema.field(name)
        if spec is None or spec.type == "subtable":
            problems.append({"field": name, "code": "UNKNOWN_FIELD"})
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value).strip()
        try:
            typed[name] = stored_form(spec, converter_for(spec))(text)
        except Invalid as invalid:
            problems.append({"field": name, "code": invalid.code})
    if problems:
        raise InvalidInput("INVALID_FILTER", details=problems)
    return typed


def get_record(tenant: str, table: str, record_id: str) -> dict[str, Any]:
    get_table(tenant, table)
    item = RecordStore().get(tenant, table, record_id)
    if not item:
        raise NotFound("RECORD_NOT_FOUND", table=table, record_id=record_id)
    return to_record(table, item)


def list_records(
    tenant: str, table: str, filters: dict[str, str], parent_id: str | None, per_page: int, cursor: str | None
) -> Page:
    schema, typed = _filtered(tenant, table, filters, parent_id)
    by_key = _unique_filter(schema, typed)
    if by_key is not None and cursor is None:
        # A unique field names one record at most: its value says which (the key field: the record's
        # id; another unique field: its index item), in one or two reads.
        items, next_cursor = _by_unique_field(tenant, schema, by_key, typed), None
        total: int | None = len(items)
    else:
        items, next_cursor = RecordStore().list(tenant, table, per_page, cursor, typed)
        # Filtered: counted on the first page only (it reads every match), which is where a client
        # looks for it; `count_records` counts alone.
        total = schema.record_count if not typed else (_count(tenant, schema, typed) if cursor is None else None)
    return Page(
        data=[to_record(table, i) for i in items],
        meta=ListMeta(per_page=per_page, next_cursor=next_cursor, total=total),
    )


def count_records(tenant: str, table: str, filters: dict[str, str], parent_id: str | None) -> int:
    """How many records the filters match now: what a batch job's `total` must be."""
    schema, typed = _filtered(tenant, table, filters, parent_id)
    return _count(tenant, schema, typed)


def _filtered(tenant: str, table: str, filters: dict[str, str], parent_id: str | None) -> tuple[Table, dict[str, Any]]:
    schema = get_table(tenant, table)
    typed = typed_filters(schema, filters)
    if parent_id:
        typed["parent_id"] = parent_id
    return schema, typed


def _unique_filter(schema: Table, typed: dict[str, Any]) -> str | None:
    return next((name for name in typed if (spec := schema.field(name)) is not None and spec.unique), None)


def _count(tenant: str, schema: Table, typed: dict[str, Any]) -> int:
    if not typed:
        return schema.record_count
    by_key = _unique_filter(schema, typed)
    if by_key is not None:
        return len(_by_unique_field(tenant, schema, by_key, typed))
    return RecordStore().count_matching(tenant, schema.key, typed)


def _by_unique_field(tenant: str, schema: Table, field: str, filters: dict[str, Any]) -> list[dict]:
    """The record whose unique `field` has the filtered value, if it matches the other filters too."""
    constraint = table_constraint(schema, field)
    if constraint == key_field(schema):
        record_id = record_id_of(tenant, schema.key, constraint, filters)
    else:
        pk = index_pk(tenant, schema.key, constraint, filters)
        holder = UniqueIndex().holder(pk) if pk else None
        record_id = holder["record_id"] if holder else None
    item = RecordStore().get(tenant, schema.key, record_id) if record_id else None
    if item is None:  # a key claimed for a record not (or no longer) written
        return []
    data, meta = item.get("data") or {}, item.get("meta") or {}
    for name, value in filters.items():
        if (meta.get(name) if name == "parent_id" else data.get(name)) != value:
            return []
    return [item]
