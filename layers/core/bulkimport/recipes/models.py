"""Recipes (import templates): how a file's columns map onto a table's fields.

The request models (`RecipeCreate`, `RecipePatch` and the `...In` parts) are bounded; the stored
`Recipe` reads what is stored without those bounds (see schema/models.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from bulkimport.schema.models import (
    MAX_FIELDS,
    MAX_NAME,
    REQUEST,
    Description,
    Key,
    Strict,
    check_definition_size,
    not_null,
)

# A recipe's target "parent.<field>" links a child table's row to its parent record by one unique
# field of the parent table.
PARENT_PREFIX = "parent."

# A recipe's target "id" is the record's own id (an export's first column): with unique_columns
# ["id"], rows name the records they update by it. "columns": "auto" maps headers by key or label.
ID_TARGET = "id"
AUTO = "auto"

MAX_SOURCE = 1_000  # a column's header as the file spells it
MAX_TARGET = 100  # a field key (64) or parent.<key>
MAX_HEADER_ROW = 1_000_000  # above any sheet's rows (1,048,576) is "beyond the file" when read

Target = Annotated[str, Field(min_length=1, max_length=MAX_TARGET)]
Mode = Literal["insert", "upsert", "update"]


class ColumnMap(Strict):
    source: str | Annotated[int, Field(ge=0)]
    target: str = Field(min_length=1)


class ColumnMapIn(ColumnMap):
    model_config = REQUEST
    source: Annotated[str, Field(max_length=MAX_SOURCE)] | Annotated[int, Field(ge=0)]
    target: Target


class RecipeOptions(Strict):
    has_header: bool = True
    delimiter: str = "auto"
    encoding: str = "auto"
    sheet: str | int | None = None
    # The 1-based row (line, or sheet row) of the header: a report's title rows above it are skipped.
    header_row: int = 1


class RecipeOptionsIn(RecipeOptions):
    model_config = REQUEST
    delimiter: str = Field(default="auto", max_length=16)
    encoding: str = Field(default="auto", max_length=64)
    sheet: Annotated[str, Field(max_length=MAX_NAME)] | int | None = None
    header_row: int = Field(default=1, ge=1, le=MAX_HEADER_ROW)


class RecipeBase(Strict):
    name: str = Field(min_length=1)
    description: str | None = None
    table: Key
    columns: list[ColumnMap] | Literal["auto"]
    unique_columns: list[str] = Field(default_factory=list)
    relation_unique_column: str | None = None
    mode: Mode = "insert"
    options: RecipeOptions = Field(default_factory=RecipeOptions)


class RecipeCreate(RecipeBase):
    model_config = REQUEST
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: Description | None = None
    columns: Annotated[list[ColumnMapIn], Field(min_length=1, max_length=MAX_FIELDS)] | Literal["auto"]  # type: ignore[assignment]
    unique_columns: list[Target] = Field(default_factory=list, max_length=MAX_FIELDS)
    relation_unique_column: Target | None = None
    options: RecipeOptionsIn = Field(default_factory=RecipeOptionsIn)

    @model_validator(mode="after")
    def _size(self) -> RecipeCreate:
        check_definition_size(self)
        return self


class RecipePatch(Strict):
    """Leaving an attribute out keeps it; description and relation_unique_column may be cleared with
    null, the others not."""

    model_config = REQUEST
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    description: Description | None = None
    columns: Annotated[list[ColumnMapIn], Field(min_length=1, max_length=MAX_FIELDS)] | Literal["auto"] | None = None
    unique_columns: list[Target] | None = Field(default=None, max_length=MAX_FIELDS)
    relation_unique_column: Target | None = None
    mode: Mode | None = None
    options: RecipeOptionsIn | None = None

    _not_null = field_validator("name", "columns", "unique_columns", "mode", "options", mode="before")(not_null)

    @model_validator(mode="after")
    def _size(self) -> RecipePatch:
        check_definition_size(self)
        return self


class Recipe(RecipeBase):
    """A recipe as stored (and shown)."""

    @property
    def mapped(self) -> list[ColumnMap]:
        """The explicit columns ([] for "auto": they are found in each file's header)."""
        return [] if isinstance(self.columns, str) else self.columns

    model_config = ConfigDict(extra="ignore")
    id: str
    created_at: str
    updated_at: str


class RecipeOut(Recipe):
    tasks_count: int = 0
