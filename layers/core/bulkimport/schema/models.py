"""Tables: the typed schemas that records are imported into, and their field specs.

Request models (`TableCreate`, `TablePatch`, `FieldSpecIn`) bound every string and list they take, so
nothing a client sends can outgrow a DynamoDB item (400 KB) or nest deeper than the code walks; the
stored models (`Table`, `FieldSpec`) read what is stored without those bounds, so an item written
before a bound existed still reads. The shared bounds (and the checks of free-form JSON values) live
here, the lowest layer every request model imports.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "email", "phone", "enum", "subtable"]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

# Bounds of what requests may send: far above what a real user needs, far below what breaks storage.
MAX_NAME = 200  # names and labels
MAX_DESCRIPTION = 2_000
MAX_FIELDS = 500  # fields of a table (or of a subtable); columns of a recipe
MAX_OPTIONS = 1_000  # an enum field's options, each at most MAX_NAME characters
MAX_SUBTABLE_DEPTH = 3  # subtables within subtables
MAX_ID = 128  # ids and transaction ids
MAX_DEFINITION_BYTES = 300_000  # a table or recipe as stored (JSON, UTF-8): below DynamoDB's 400 KB
MAX_VALUE_DEPTH = 10  # a free-form JSON value (a record's field, a change): lists and objects within
MAX_VALUE_STRING = 100_000  # characters of one string inside a free-form value
MAX_VALUE_BYTES = 300_000  # a record (or a job's changes) as JSON, UTF-8

Name = Annotated[str, Field(max_length=MAX_NAME)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]

# A record's fields live in its own `data` map, apart from what the storage keeps beside them (`id`,
# `meta`...), so a field may be keyed `id` or `created_at`. Keys starting with "_" are the service's
# (an export's record-id column `_id`, failures.csv's `_row`): Key admits none. A child table's records
# name their parent as `parent_id` (batch-create, filters), so its own fields may not take that key.
CHILD_RESERVED_KEY = "parent_id"


class Strict(BaseModel):
    """A request model: unknown attributes are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# A request's values as JSON types them, as the OpenAPI document says: no `true` or "5" taken for an
# integer, no 1 or "yes" for a boolean (lax coercion stored `"total": false` as 0). Each request model
# sets it (a model's config does not reach the models nested in it); stored models read leniently.
REQUEST = ConfigDict(extra="forbid", strict=True)


def not_null(value: Any) -> Any:
    """A patch may leave an attribute out (kept as it is) but may not set one that cannot be empty to
    null: `exclude_unset` would store the null."""
    if value is None:
        raise PydanticCustomError("not_null", "may not be null; leave it out to keep the current value")
    return value


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def check_json_value(value: Any, what: str = "value") -> Any:
    """A free-form JSON value (a record's field, a change): at most MAX_VALUE_DEPTH lists and objects
    deep, strings (and object keys) at most MAX_VALUE_STRING characters, at most MAX_VALUE_BYTES in
    all. The walk stops at the first level too deep, so it never recurses further than the bound."""

    def walk(item: Any, depth: int) -> None:
        if isinstance(item, str):
            if len(item) > MAX_VALUE_STRING:
                raise PydanticCustomError(
                    "string_too_long",
                    "a string holds at most {max_length} characters",
                    {"max_length": MAX_VALUE_STRING},
                )
            return
        if not isinstance(item, (dict, list)):
            return
        if depth >= MAX_VALUE_DEPTH:
            raise PydanticCustomError(
                "value_too_deep", "lists and objects nest {max_depth} levels at most", {"max_depth": MAX_VALUE_DEPTH}
            )
        for key, inner in item.items() if isinstance(item, dict) else enumerate(item):
            walk(key, depth)
            walk(inner, depth + 1)

    walk(value, -1 if isinstance(value, dict) else 0)  # a record's own object is not a level
    if json_size(value) > MAX_VALUE_BYTES:
        raise PydanticCustomError(
            "value_too_large",
            "a {what} takes at most {max_bytes} bytes as JSON",
            {"what": what, "max_bytes": MAX_VALUE_BYTES},
        )
    return value


# A bound of a min/max rule: a number for integer and number fields, an ISO date or date-time text for
# date and datetime fields (checked against the field's type when the table is saved).
Bound = int | float | str
RANGE_TYPES = ("integer", "number", "date", "datetime")
MAX_PATTERN = 1_000


class FieldSpec(Strict):
    """A field as stored: the shape and the rules of its type."""

    key: Key
    label: str | None = None
    type: FieldType = "string"
    required: bool = False
    unique: bool = False
    max_length: int | None = Field(default=None, ge=1)
    options: list[str] | None = None
    fields: list[FieldSpec] | None = None
    # Rules on a value beyond its type (schema/rules.py): an RE2 pattern the whole value matches, a
    # range, a least length, a phone number's region (ISO 3166 code, e.g. "TW").
    pattern: str | None = None
    min: Bound | None = None
    max: Bound | None = None
    min_length: int | None = Field(default=None, ge=1)
    region: str | None = None

    @model_validator(mode="after")
    def _type_specific(self) -> FieldSpec:
        if self.type == "enum" and not self.options:
            raise ValueError(f"enum field '{self.key}' needs options")
        if self.type == "subtable" and not self.fields:
            raise ValueError(f"subtable field '{self.key}' needs fields")
        if self.type != "subtable" and self.fields:
            raise ValueError(f"only subtable fields have fields ('{self.key}')")
        return self


class FieldSpecIn(FieldSpec):
    """A field as a request gives it: bounded."""

    model_config = REQUEST
    label: Name | None = None
    options: list[Name] | None = Field(default=None, max_length=MAX_OPTIONS)
    fields: list[FieldSpecIn] | None = Field(default=None, max_length=MAX_FIELDS)  # type: ignore[assignment]
    pattern: Annotated[str, Field(min_length=1, max_length=MAX_PATTERN)] | None = None
    region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None

    @model_validator(mode="after")
    def _rules_fit_the_type(self) -> FieldSpecIn:
        if (self.min is not None or self.max is not None) and self.type not in RANGE_TYPES:
            raise ValueError(f"min and max are for {', '.join(RANGE_TYPES)} fields ('{self.key}')")
        if self.region is not None and self.type != "phone":
            raise ValueError(f"region is for phone fields ('{self.key}')")
        if (self.pattern is not None or self.min_length is not None) and self.type in ("subtable", "boolean"):
            raise ValueError(f"pattern and min_length are for text-like fields ('{self.key}')")
        return self


Op = Literal["<", "<=", ">", ">=", "==", "!="]


class RuleWhen(Strict):
    field: Key
    equals: str | int | float | bool


class RuleCheck(Strict):
    field: Key
    op: Op
    other: Key


class TableRule(Strict):
    """A rule across a record's fields, checked after its fields: either `when` + `require` (the
    fields a record must fill when `when.field` equals `when.equals`), or `check` (`field` op
    `other`, passing when either is empty)."""

    when: RuleWhen | None = None
    require: list[Key] | None = None
    check: RuleCheck | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TableRule:
        if self.check is not None and (self.when is not None or self.require is not None):
            raise ValueError("a rule is either a check or a when + require")
        if self.check is None and (self.when is None or not self.require):
            raise ValueError("a rule needs check, or when with a non-empty require")
        return self


class TableRuleIn(TableRule):
    model_config = REQUEST
    when: RuleWhen | None = None
    require: Annotated[list[Key], Field(min_length=1, max_length=MAX_FIELDS)] | None = None


MAX_RULES = 100


def _unique_keys(fields: list[FieldSpecIn]) -> list[FieldSpecIn]:
    seen: set[str] = set()
    for spec in fields:
        if spec.key in seen:
            raise ValueError(f"field key '{spec.key}' appears twice")
        seen.add(spec.key)
    return fields


def _subtable_depth(raw: Any) -> Any:
    """Subtables nest at most MAX_SUBTABLE_DEPTH levels: checked on the raw request before the field
    specs are validated (recursively), and never walking deeper than the bound."""

    def walk(specs: Any, depth: int) -> None:
        for spec in specs if isinstance(specs, list) else ():
            inner = spec.get("fields") if isinstance(spec, dict) else None
            if isinstance(inner, list):
                if depth >= MAX_SUBTABLE_DEPTH:
                    raise PydanticCustomError(
                        "subtable_too_deep",
                        "subtables nest {max_depth} levels at most (field '{field}')",
                        {"max_depth": MAX_SUBTABLE_DEPTH, "field": str(spec.get("key"))[:MAX_NAME]},
                    )
                walk(inner, depth + 1)

    walk(raw, 0)
    return raw


def check_definition_size(model: BaseModel) -> None:
    if json_size(model.model_dump(mode="json", exclude_unset=True)) > MAX_DEFINITION_BYTES:
        raise PydanticCustomError(
            "definition_too_large",
            "the whole definition takes at most {max_bytes} bytes as JSON",
            {"max_bytes": MAX_DEFINITION_BYTES},
        )


class TableBase(Strict):
    key: Key
    name: str | None = None
    description: str | None = None
    parent: Key | None = None
    fields: list[FieldSpec]
    rules: list[TableRule] = Field(default_factory=list)


class TableCreate(TableBase):
    model_config = REQUEST
    name: Name | None = None
    description: Description | None = None
    fields: list[FieldSpecIn] = Field(min_length=1, max_length=MAX_FIELDS)  # type: ignore[assignment]
    rules: list[TableRuleIn] = Field(default_factory=list, max_length=MAX_RULES)  # type: ignore[assignment]

    _check_depth = field_validator("fields", mode="before")(_subtable_depth)
    _check_fields = field_validator("fields")(_unique_keys)

    @model_validator(mode="after")
    def _size(self) -> TableCreate:
        check_definition_size(self)
        return self


class TablePatch(Strict):
    """Leaving an attribute out keeps it; name and description may be cleared with null, fields not."""

    model_config = REQUEST
    name: Name | None = None
    description: Description | None = None
    fields: list[FieldSpecIn] | None = Field(default=None, min_length=1, max_length=MAX_FIELDS)
    rules: list[TableRuleIn] | None = Field(default=None, max_length=MAX_RULES)

    _rules_not_null = field_validator("rules", mode="before")(not_null)
    _fields_not_null = field_validator("fields", mode="before")(not_null)
    _check_depth = field_validator("fields", mode="before")(_subtable_depth)
    _check_fields = field_validator("fields")(lambda v: v if v is None else _unique_keys(v))

    @model_validator(mode="after")
    def _size(self) -> TablePatch:
        check_definition_size(self)
        return self


class Table(TableBase):
    """A table as stored (and shown)."""

    model_config = ConfigDict(extra="ignore")
    fields: list[FieldSpec] = Field(default_factory=list)
    record_count: int = 0
    created_at: str
    updated_at: str

    @field_validator("fields", mode="before")
    @classmethod
    def _no_fields(cls, value: Any) -> Any:
        # A PATCH once stored `"fields": null`; such a table reads with no fields until a PATCH repairs it.
        return [] if value is None else value

    @field_validator("rules", mode="before")
    @classmethod
    def _no_rules(cls, value: Any) -> Any:
        return [] if value is None else value

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)

    def key_field(self) -> str | None:
        """The first unique field: the table's records are stored under its value (records.uniqueness)."""
        return key_field_of(self.fields)


def key_field_of(fields: list) -> str | None:
    """The key of the first unique field of `fields` (a table's, or a patch's)."""
    return next((f.key for f in fields if f.unique), None)
