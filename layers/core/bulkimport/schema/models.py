"""Tables: the typed schemas that records are imported into, and their field specs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "email", "phone", "enum", "subtable"]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class Strict(BaseModel):
    """A request model: unknown attributes are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class FieldSpec(Strict):
    key: Key
    label: str | None = None
    type: FieldType = "string"
    required: bool = False
    unique: bool = False
    max_length: int | None = Field(default=None, ge=1)
    options: list[str] | None = None
    fields: list[FieldSpec] | None = None

    @model_validator(mode="after")
    def _type_specific(self) -> FieldSpec:
        if self.type == "enum" and not self.options:
            raise ValueError(f"enum field '{self.key}' needs options")
        if self.type == "subtable" and not self.fields:
            raise ValueError(f"subtable field '{self.key}' needs fields")
        if self.type != "subtable" and self.fields:
            raise ValueError(f"only subtable fields have fields ('{self.key}')")
        return self


def _unique_keys(fields: list[FieldSpec]) -> list[FieldSpec]:
    seen: set[str] = set()
    for spec in fields:
        if spec.key in seen:
            raise ValueError(f"field key '{spec.key}' appears twice")
        seen.add(spec.key)
    return fields


class TableCreate(Strict):
    key: Key
    name: str | None = None
    description: str | None = None
    parent: Key | None = None
    fields: list[FieldSpec] = Field(min_length=1, max_length=500)

    _check_fields = field_validator("fields")(_unique_keys)


class TablePatch(Strict):
    name: str | None = None
    description: str | None = None
    fields: list[FieldSpec] | None = Field(default=None, min_length=1, max_length=500)

    _check_fields = field_validator("fields")(lambda v: v if v is None else _unique_keys(v))


class Table(TableCreate):
    model_config = ConfigDict(extra="ignore")
    record_count: int = 0
    created_at: str
    updated_at: str

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)
