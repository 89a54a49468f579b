"""Tables: the typed target schemas that records are imported into."""

from __future__ import annotations

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore, item_exists
from bulkimport.errors import Conflict, InvalidInput, NotFound
from bulkimport.ids import now_iso
from bulkimport.paging import ListMeta, Page
from bulkimport.schema.models import (
    CHILD_RESERVED_KEY,
    FieldSpec,
    Table,
    TableCreate,
    TablePatch,
    TableRule,
    key_field_of,
)
from bulkimport.schema.rules import check_definition
from bulkimport.schema.validation import converter_for


def _store() -> ControlStore:
    return ControlStore()


def get_table(tenant: str, table: str) -> Table:
    item = _store().get(keys.tenant_pk(tenant), keys.table_sk(table))
    if not item:
        raise NotFound("TABLE_NOT_FOUND", table=table)
    return Table.model_validate(item)


def _check_fields(fields: list[FieldSpec], rules: list[TableRule], parent: str | None) -> None:
    """A child table's own field may not take the key its records name their parent by; the fields'
    and the table's rules must fit them (schema/rules.py)."""
    if parent is not None:
        for spec in fields:
            if spec.key == CHILD_RESERVED_KEY:
                raise InvalidInput("RESERVED_FIELD_KEY", field=spec.key, reserved=CHILD_RESERVED_KEY)
    check_definition(fields, rules, converter_for)


def create_table(tenant: str, request: TableCreate) -> Table:
    _check_fields(list(request.fields), list(request.rules), request.parent)
    if request.parent:
        get_table_or(tenant, request.parent, "PARENT_TABLE_NOT_FOUND")
    stamp = now_iso()
    table = Table(**request.model_dump(), created_at=stamp, updated_at=stamp)
    item = {"pk": keys.tenant_pk(tenant), "sk": keys.table_sk(table.key), **table.model_dump(mode="json")}
    if not _store().put(item, if_absent=True):
        raise Conflict("TABLE_EXISTS", table=table.key)
    return table


def get_table_or(tenant: str, table: str, code: str) -> Table:
    try:
        return get_table(tenant, table)
    except NotFound:
        raise InvalidInput(code, table=table) from None


def list_tables(tenant: str, per_page: int, cursor: str | None) -> Page:
    pk = keys.tenant_pk(tenant)
    items, next_cursor = _store().query(pk, keys.TABLE_PREFIX, limit=per_page, cursor=cursor)
    data = [Table.model_validate(i).model_dump(mode="json") for i in items]
    return Page(
        data=data,
        meta=ListMeta(per_page=per_page, next_cursor=next_cursor, total=_store().count(pk, keys.TABLE_PREFIX)),
    )


def patch_table(tenant: str, table_key: str, patch: TablePatch) -> Table:
    table = get_table(tenant, table_key)
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return table
    if patch.fields is not None or patch.rules is not None:
        fields: list[FieldSpec] = list(patch.fields) if patch.fields is not None else table.fields
        _check_fields(fields, list(patch.rules) if patch.rules is not None else table.rules, table.parent)
    if patch.fields is not None and table.record_count:
        # Existing records have no claimed keys for a newly unique field: refuse rather than lie.
        was_unique = {f.key for f in table.fields if f.unique}
        for spec in patch.fields:
            if spec.unique and spec.key not in was_unique:
                raise Conflict("UNIQUE_NEEDS_EMPTY_TABLE", field=spec.key, table=table_key)
        # Records are stored under their key field's value (records.uniqueness.key_field).
        if table.key_field() != key_field_of(patch.fields):
            raise Conflict("KEY_FIELD_NEEDS_EMPTY_TABLE", field=table.key_field(), table=table_key)
    changes["updated_at"] = now_iso()
    updated = _store().update(
        keys.tenant_pk(tenant), keys.table_sk(table_key), set_values=changes, condition=item_exists()
    )
    if updated is None:
        raise NotFound("TABLE_NOT_FOUND", table=table_key)
    return Table.model_validate(updated)


def delete_table(tenant: str, table_key: str) -> None:
    table = get_table(tenant, table_key)
    if table.record_count:
        # Records are removed by a batch_delete job first; a table never vanishes with data in it.
        raise Conflict("TABLE_NOT_EMPTY", table=table_key, count=table.record_count)
    pk = keys.tenant_pk(tenant)
    children = [t for t in _store().query_all(pk, keys.TABLE_PREFIX) if t.get("parent") == table_key]
    # Recipes sit above tables (they map files onto them): their items are read here by key prefix,
    # not through the recipes package.
    recipes = [r for r in _store().query_all(pk, keys.RECIPE_PREFIX) if r.get("table") == table_key]
    users = len(children) + len(recipes)
    if users:
        raise Conflict("TABLE_IN_USE", table=table_key, count=users)
    _store().delete(pk, keys.table_sk(table_key))


def add_to_record_count(tenant: str, table_key: str, run_sk: str, change: int, applied: int) -> None:
    """Move a table's record_count to account for what a run (an import, a batch job) created or
    deleted, once: the run's item keeps the change already applied (`record_count_added`), so a run
    settled again, or restarted, applies only the difference."""
    if change == applied:
        return
    store = _store()
    pk = keys.tenant_pk(tenant)
    store.transact(
        [
            store.update_request(
                pk,
                run_sk,
                set_values={"record_count_added": change},
                condition=Attr("record_count_added").not_exists() | Attr("record_count_added").eq(applied),
            ),
            store.update_request(
                pk, keys.table_sk(table_key), add_values={"record_count": change - applied}, condition=item_exists()
            ),
        ]
    )
