"""Recipes (import templates): how a file's columns map onto a table's fields."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from bulkimport.schema.models import Key, Strict

# A recipe's target "parent.<field>" links a child table's row to its parent record by one unique
# field of the parent table.
PARENT_PREFIX = "parent."


class ColumnMap(Strict):
    source: str | Annotated[int, Field(ge=0)]
    target: str = Field(min_length=1)


class RecipeOptions(Strict):
    has_header: bool = True
    delimiter: str = "auto"
    encoding: str = "auto"
    sheet: str | int | None = None


class RecipeCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    table: Key
    columns: list[ColumnMap] = Field(min_length=1, max_length=500)
    unique_columns: list[str] = Field(default_factory=list)
    relation_unique_column: str | None = None
    mode: Literal["insert", "upsert", "update"] = "insert"
    options: RecipeOptions = Field(default_factory=RecipeOptions)


class RecipePatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    columns: list[ColumnMap] | None = Field(default=None, min_length=1, max_length=500)
    unique_columns: list[str] | None = None
    relation_unique_column: str | None = None
    mode: Literal["insert", "upsert", "update"] | None = None
    options: RecipeOptions | None = None


class Recipe(RecipeCreate):
    model_config = ConfigDict(extra="ignore")
    id: str
    created_at: str
    updated_at: str


class RecipeOut(Recipe):
    tasks_count: int = 0
