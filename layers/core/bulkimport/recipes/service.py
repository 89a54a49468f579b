"""Recipes (import templates): how a file's columns map onto a table's fields."""

from __future__ import annotations

from pydantic import ValidationError

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import Attr, ControlStore, item_exists
from bulkimport.errors import Conflict, InvalidInput, NotFound, validation_failed
from bulkimport.ids import new_id, now_iso
from bulkimport.paging import ListMeta, Page, offset_page
from bulkimport.recipes.models import (
    AUTO,
    ID_TARGET,
    PARENT_PREFIX,
    ColumnMap,
    Recipe,
    RecipeBase,
    RecipeCreate,
    RecipeOut,
    RecipePatch,
    RecipeVersion,
    ReplaceStep,
    with_record_id,
)
from bulkimport.recipes.transforms import format_fits
from bulkimport.schema.models import Table
from bulkimport.schema.rules import check_replacement
from bulkimport.schema.tables import get_table, get_table_or


def _store() -> ControlStore:
    return ControlStore()


def check_recipe(recipe: RecipeBase, table: Table, parent: Table | None) -> None:
    """Every target must be a mappable field; an insert must fill every required field; a child
    recipe names its parent by one unique field of the parent table; upsert and update need a key.
    Every problem found is named (in this order: the columns, the identity, the required fields)."""
    recipe = with_record_id(recipe, table)
    targets, problems = _mapped_targets(recipe, table, parent)
    problems += _identity_problems(recipe, table, targets)
    if recipe.mode != "update" and recipe.columns != AUTO:
        problems += [
            _problem(s.key, "REQUIRED_FIELD_NOT_MAPPED") for s in table.fields if s.required and s.key not in targets
        ]
    if problems:
        raise InvalidInput("INVALID_RECIPE", details=problems, table=table.key)


def _problem(target: str, code: str) -> dict[str, str]:
    return {"target": target, "code": code}


def _mapped_targets(recipe: RecipeBase, table: Table, parent: Table | None) -> tuple[set[str], list[dict]]:
    """The targets the recipe maps, and the problems of its columns: targets that are no mappable
    field (or no unique field of the parent, for a parent link), and targets mapped twice."""
    if recipe.columns == AUTO:
        # Whatever a file's header names: every field may be mapped, and the record id. Missing
        # required fields are judged per file (MISSING_COLUMN).
        return {f.key for f in table.fields if f.type != "subtable"} | {ID_TARGET}, []
    targets: set[str] = set()
    problems = []
    for column in [] if isinstance(recipe.columns, str) else recipe.columns:
        problems += _cleaning_problems(column, table, parent)
        code = _target_problem(column.target, table, parent)
        if code:
            problems.append(_problem(column.target, code))
        if column.target in targets:
            problems.append(_problem(column.target, "TARGET_MAPPED_TWICE"))
        targets.add(column.target)
    return targets, problems


def _target_problem(target: str, table: Table, parent: Table | None) -> str | None:
    """What is wrong with one column's target, if anything."""
    if target == ID_TARGET:
        return None
    if target.startswith(PARENT_PREFIX):
        parent_field = parent.field(target[len(PARENT_PREFIX) :]) if parent else None
        if parent_field is None:
            return "UNKNOWN_TARGET"
        return None if parent_field.unique else "PARENT_FIELD_NOT_UNIQUE"
    spec = table.field(target)
    return "UNKNOWN_TARGET" if spec is None or spec.type == "subtable" else None


def _identity_problems(recipe: RecipeBase, table: Table, targets: set[str]) -> list[dict]:
    """How the recipe finds existing records: its unique columns are mapped, an upsert or update has
    them, a child recipe links one parent (and finds a child within it by relation_unique_column)."""
    problems = [_problem(u, "UNIQUE_COLUMN_NOT_MAPPED") for u in recipe.unique_columns if u not in targets]
    relation = recipe.relation_unique_column
    if table.parent:
        if len([t for t in targets if t.startswith(PARENT_PREFIX)]) != 1:
            problems.append(_problem("parent.", "PARENT_LINK_REQUIRED"))
        if relation is not None and relation not in targets:
            problems.append(_problem(relation, "UNIQUE_COLUMN_NOT_MAPPED"))
        if recipe.mode != "insert" and relation is None:
            problems.append(_problem("relation_unique_column", "IDENTITY_REQUIRED"))
    else:
        if relation is not None:
            problems.append(_problem("relation_unique_column", "NOT_A_CHILD_TABLE"))
        if recipe.mode != "insert" and not recipe.unique_columns:
            problems.append(_problem("unique_columns", "IDENTITY_REQUIRED"))
    if ID_TARGET in recipe.unique_columns and (recipe.unique_columns != [ID_TARGET] or table.parent):
        problems.append(_problem("unique_columns", "ID_IDENTITY_ALONE"))
    return problems


def _cleaning_problems(column: ColumnMap, table: Table, parent: Table | None) -> list[dict]:
    """A column's steps compile (an invalid pattern is 422 INVALID_PATTERN here, not a failed import)
    and its format fits its field's type."""
    for step in column.transform:
        if isinstance(step, ReplaceStep):
            check_replacement(step.replace.pattern, step.replace.with_)
    if column.target == ID_TARGET:
        return [{"target": column.target, "code": "ID_NOT_CLEANED"}] if column.cleans() else []
    if column.target.startswith(PARENT_PREFIX):
        spec = parent.field(column.target[len(PARENT_PREFIX) :]) if parent else None
    else:
        spec = table.field(column.target)
    if spec is not None and not format_fits(spec, column.format):
        return [{"target": column.target, "code": "FORMAT_NOT_FOR_TYPE", "type": spec.type}]
    return []


def _tables_for(tenant: str, table_key: str) -> tuple[Table, Table | None]:
    table = get_table_or(tenant, table_key, "TABLE_NOT_FOUND")
    return table, (get_table(tenant, table.parent) if table.parent else None)


def get_recipe(tenant: str, recipe_id: str) -> Recipe:
    item = _store().get(keys.tenant_pk(tenant), keys.recipe_sk(recipe_id))
    if not item:
        raise NotFound("RECIPE_NOT_FOUND", recipe_id=recipe_id)
    return Recipe.model_validate(item)


def recipe_out(tenant: str, recipe_id: str) -> RecipeOut:
    item = _store().get(keys.tenant_pk(tenant), keys.recipe_sk(recipe_id))
    if not item:
        raise NotFound("RECIPE_NOT_FOUND", recipe_id=recipe_id)
    return RecipeOut.model_validate(item)


def create_recipe(tenant: str, request: RecipeCreate, actor: str | None = None) -> Recipe:
    check_recipe(request, *_tables_for(tenant, request.table))
    stamp = now_iso()
    recipe = Recipe(**request.model_dump(), id=new_id(), created_at=stamp, updated_at=stamp)
    _keep_version(tenant, recipe, actor, stamp)
    _store().put(
        {
            "pk": keys.tenant_pk(tenant),
            "sk": keys.recipe_sk(recipe.id),
            "tasks_count": 0,
            **recipe.model_dump(mode="json"),
        }
    )
    return recipe


def list_recipes(tenant: str, table: str | None, per_page: int, cursor: str | None) -> Page:
    pk = keys.tenant_pk(tenant)
    if table:
        # Recipes per tenant are few: filter in memory so the page and total agree.
        return offset_page(
            recipes_of_table(tenant, table),
            per_page,
            cursor,
            lambda i: RecipeOut.model_validate(i).model_dump(mode="json"),
        )
    items, next_cursor = _store().query(pk, keys.RECIPE_PREFIX, limit=per_page, cursor=cursor)
    data = [RecipeOut.model_validate(i).model_dump(mode="json") for i in items]
    return Page(
        data=data,
        meta=ListMeta(per_page=per_page, next_cursor=next_cursor, total=_store().count(pk, keys.RECIPE_PREFIX)),
    )


def recipes_of_table(tenant: str, table: str) -> list[dict]:
    return [i for i in _store().query_all(keys.tenant_pk(tenant), keys.RECIPE_PREFIX) if i.get("table") == table]


def _keep_version(tenant: str, recipe: Recipe, actor: str | None, stamp: str) -> None:
    """The recipe as it is at `recipe.version`, kept (once: a version never changes)."""
    kept = RecipeVersion(number=recipe.version, changed_by=actor, changed_at=stamp, recipe=recipe)
    item = {"pk": keys.tenant_pk(tenant), "sk": keys.recipe_version_sk(recipe.id, recipe.version)}
    _store().put({**item, **kept.model_dump(mode="json")}, if_absent=True)


def list_versions(tenant: str, recipe_id: str, per_page: int, cursor: str | None) -> Page:
    """A recipe's versions, oldest first (a recipe stored before versions were kept: its current one)."""
    current = get_recipe(tenant, recipe_id)
    items = list(_store().query_all(keys.tenant_pk(tenant), keys.recipe_versions_prefix(recipe_id)))
    if not items:
        items = [RecipeVersion(number=current.version, changed_at=current.updated_at, recipe=current).model_dump()]
    return offset_page(items, per_page, cursor, lambda i: RecipeVersion.model_validate(i).model_dump(mode="json"))


def patch_recipe(tenant: str, recipe_id: str, patch: RecipePatch, actor: str | None = None) -> RecipeOut:
    current = get_recipe(tenant, recipe_id)
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return recipe_out(tenant, recipe_id)
    try:
        # The recipe as it will be, within a request's bounds (a change may fit alone but not with the rest).
        merged = RecipeCreate.model_validate({**current.model_dump(include=set(RecipeCreate.model_fields)), **changes})
    except ValidationError as error:
        raise validation_failed(error.errors()) from None
    check_recipe(merged, *_tables_for(tenant, merged.table))
    stamp = now_iso()
    # A recipe stored before versions were kept gets its first version kept as it is now.
    _keep_version(tenant, current, None, current.updated_at)
    changes.update(updated_at=stamp, version=current.version + 1)
    # Only over the version read: two changes at once make two versions, never one lost in the other.
    read = (
        Attr("version").eq(current.version) if "version" in current.model_fields_set else Attr("version").not_exists()
    )
    updated = _store().update(
        keys.tenant_pk(tenant), keys.recipe_sk(recipe_id), set_values=changes, condition=item_exists() & read
    )
    if updated is None:
        get_recipe(tenant, recipe_id)  # 404 when it was deleted meanwhile
        raise Conflict("RECIPE_CHANGED", recipe_id=recipe_id)
    recipe = RecipeOut.model_validate(updated)
    _keep_version(tenant, recipe, actor, stamp)
    return recipe


def delete_recipe(tenant: str, recipe_id: str) -> None:
    get_recipe(tenant, recipe_id)
    # Imports keep their own copy of the recipe they ran with, so deleting it loses no history.
    pk = keys.tenant_pk(tenant)
    _store().delete(pk, keys.recipe_sk(recipe_id))
    for version in _store().query_all(pk, keys.recipe_versions_prefix(recipe_id)):
        _store().delete(pk, version["sk"])


def count_task(tenant: str, recipe_id: str) -> None:
    # Conditional, so counting an import never resurrects a deleted recipe.
    _store().update(
        keys.tenant_pk(tenant),
        keys.recipe_sk(recipe_id),
        add_values={"tasks_count": 1},
        condition=item_exists(),
    )
