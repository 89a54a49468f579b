"""Recipes (import templates): how a file's columns map onto a table's fields.

The request models (`RecipeCreate`, `RecipePatch` and the `...In` parts) are bounded; the stored
`Recipe` reads what is stored without those bounds (see schema/models.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from bulkimport.schema.models import (
    MAX_FIELDS,
    MAX_NAME,
    REQUEST,
    Description,
    Key,
    Strict,
    Table,
    check_definition_size,
    not_null,
)

# A recipe's target "parent.<field>" links a child table's row to its parent record by one unique
# field of the parent table.
PARENT_PREFIX = "parent."

# A recipe's target "_id" is the record's own id (an export's first column): with unique_columns
# ["_id"], rows name the records they update by it. "id" says the same in a table without a field
# keyed `id` (as it did before fields could take that key): with_record_id reads it so. "columns":
# "auto" maps headers by key or label.
ID_TARGET = "_id"
LEGACY_ID_TARGET = "id"
AUTO = "auto"
# failures.csv's first column, the failing row's number: recipes ignore it.
ROW_COLUMN = "_row"

MAX_SOURCE = 1_000  # a column's header as the file spells it
MAX_TARGET = 100  # a field key (64) or parent.<key>
MAX_HEADER_ROW = 1_000_000  # above any sheet's rows (1,048,576) is "beyond the file" when read

Target = Annotated[str, Field(min_length=1, max_length=MAX_TARGET)]
Mode = Literal["insert", "upsert", "update"]


# ---------------------------------------------------------------- cleaning steps (recipes/transforms.py)

SIMPLE_STEPS = ("trim", "collapse_spaces", "lower", "upper", "title", "nfkc")
MAX_STEPS = 20
MAX_MAP = 1_000  # entries of one map step
DATE_FORMATS = ("YYYY-MM-DD", "YYYY/MM/DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "ROC")

Text = Annotated[str, Field(max_length=MAX_SOURCE)]


class ReplaceSpec(Strict):
    pattern: str = Field(min_length=1)
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)
    with_: str = Field(default="", alias="with")


class ReplaceStep(Strict):
    replace: ReplaceSpec


class MapStep(Strict):
    map: dict[str, str]
    ignore_case: bool = False
    otherwise: Literal["keep", "empty", "fail"] = "keep"


class SplitSpec(Strict):
    separator: str = Field(min_length=1)
    take: int = 0


class SplitStep(Strict):
    split: SplitSpec


Step = Literal["trim", "collapse_spaces", "lower", "upper", "title", "nfkc"] | ReplaceStep | MapStep | SplitStep


class NumberFormat(Strict):
    decimal: Literal[".", ","] = "."
    group: Literal["", ".", ",", " ", "'", "\u00a0", "\u202f", "_"] = ""

    @model_validator(mode="after")
    def _distinct(self) -> NumberFormat:
        if self.group == self.decimal:
            raise ValueError("group and decimal separators must differ")
        return self


Format = Literal["YYYY-MM-DD", "YYYY/MM/DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "ROC"] | NumberFormat


class ColumnMap(Strict):
    """A file column (`source`, or several `sources` joined by `join`) read into a target: its cell
    cleaned by `transform` steps in order, `default` filling a cell left empty, `format` saying how
    a date or number is written."""

    source: str | Annotated[int, Field(ge=0)] | None = None
    sources: list[str | Annotated[int, Field(ge=0)]] | None = None
    join: str = " "
    target: str = Field(min_length=1)
    transform: list[Step] = Field(default_factory=list)
    default: str | None = None
    format: Format | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ColumnMap:
        if (self.source is None) == (self.sources is None):
            raise ValueError("a column has either source or sources")
        if self.sources is not None and not self.sources:
            raise ValueError("sources names at least one column")
        return self

    @model_serializer(mode="wrap")
    def _shown(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A column says only what it sets: a v1 column reads back as {"source", "target"}."""
        shown = handler(self)
        for name, unset in (
            ("source", None),
            ("sources", None),
            ("transform", []),
            ("default", None),
            ("format", None),
        ):
            if shown.get(name, unset) == unset and name in shown:
                del shown[name]
        if "sources" not in shown:
            shown.pop("join", None)
        return shown

    @property
    def all_sources(self) -> list[str | int]:
        return list(self.sources) if self.sources is not None else [self.source]  # type: ignore[list-item]

    def cleans(self) -> bool:
        """Whether the column reads its cells other than as v1 did (a stripped cell as it is)."""
        return bool(self.transform or self.sources is not None or self.default or self.format is not None)


class ReplaceSpecIn(ReplaceSpec):
    model_config = ConfigDict(
        extra="forbid", strict=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    pattern: str = Field(min_length=1, max_length=MAX_SOURCE)
    with_: str = Field(default="", alias="with", max_length=MAX_SOURCE)


class ReplaceStepIn(ReplaceStep):
    model_config = REQUEST
    replace: ReplaceSpecIn


class MapStepIn(MapStep):
    model_config = REQUEST
    map: Annotated[dict[Text, Text], Field(min_length=1, max_length=MAX_MAP)]


class SplitSpecIn(SplitSpec):
    model_config = REQUEST
    separator: str = Field(min_length=1, max_length=16)
    take: int = Field(default=0, ge=-1000, le=1000)


class SplitStepIn(SplitStep):
    model_config = REQUEST
    split: SplitSpecIn


StepIn = Literal["trim", "collapse_spaces", "lower", "upper", "title", "nfkc"] | ReplaceStepIn | MapStepIn | SplitStepIn


class NumberFormatIn(NumberFormat):
    model_config = REQUEST


class ColumnMapIn(ColumnMap):
    model_config = REQUEST
    source: Annotated[str, Field(max_length=MAX_SOURCE)] | Annotated[int, Field(ge=0)] | None = None
    sources: (
        Annotated[
            list[Annotated[str, Field(max_length=MAX_SOURCE)] | Annotated[int, Field(ge=0)]], Field(max_length=20)
        ]
        | None
    ) = None
    join: str = Field(default=" ", max_length=16)
    target: Target
    transform: list[StepIn] = Field(default_factory=list, max_length=MAX_STEPS)  # type: ignore[assignment]
    default: Text | None = None
    format: (
        Literal["YYYY-MM-DD", "YYYY/MM/DD", "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "ROC"] | NumberFormatIn | None
    ) = None


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


_R = TypeVar("_R", bound=RecipeBase)


def with_record_id(recipe: _R, table: Table) -> _R:
    """The recipe with a target or unique column "id" read as the record id "_id" when the table has
    no field keyed `id` (else "id" is that field)."""
    if table.field(LEGACY_ID_TARGET) is not None:
        return recipe

    def read(target: str) -> str:
        return ID_TARGET if target == LEGACY_ID_TARGET else target

    changes: dict[str, Any] = {"unique_columns": [read(u) for u in recipe.unique_columns]}
    if not isinstance(recipe.columns, str):
        changes["columns"] = [c.model_copy(update={"target": read(c.target)}) for c in recipe.columns]
    return recipe.model_copy(update=changes)


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
    version: int = 1  # each change makes the next (a recipe stored before versions were kept reads as 1)


class RecipeOut(Recipe):
    tasks_count: int = 0


class RecipeVersion(Strict):
    """A recipe as it was from one change to the next."""

    model_config = ConfigDict(extra="ignore")
    number: int
    changed_by: str | None = None
    changed_at: str
    recipe: Recipe
