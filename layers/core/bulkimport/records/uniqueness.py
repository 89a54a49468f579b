"""Unique keys: which field combinations must be unique in a table, and how a row's key is spelled.

A *constraint* is a set of fields whose values together may appear on one record only:
- every field with `unique: true` is one constraint, across the whole table;
- a recipe's identity (its `unique_columns`, or for a child table the parent plus its
  `relation_unique_column`) is the constraint that finds the record a row is about.

The first unique field of a table is its *key field*: a record with a value there is stored under an
id derived from that value (keyed_record_id), so the record's own conditional put is the claim, and a
row finds its record by computing the id (no index read). Every other constraint's taken keys are
index items in the records table (adapters.dynamo.unique_index), claimed with a conditional write.
Either way uniqueness holds whoever writes: two imports, a batch-create, retries.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from dataclasses import dataclass
from typing import Any

from bulkimport.adapters import keys
from bulkimport.recipes.models import ID_TARGET, Recipe
from bulkimport.schema.models import Table

PARENT_PREFIX = "parent."


@dataclass(frozen=True)
class Constraint:
    name: str  # stable: part of index keys
    fields: tuple[str, ...]  # value keys of a row (a child's parent link is "parent_id")
    label: str  # what a user calls it in messages

    def key(self, values: dict[str, Any]) -> str | None:
        """The canonical spelling of this constraint's value in a row, or None if a part is empty."""
        parts = []
        for field in self.fields:
            value = values.get(field)
            if value is None or value == "":
                return None
            parts.append(str(value))
        return json.dumps(parts, ensure_ascii=False, separators=(",", ":"))

    def shown(self, values: dict[str, Any]) -> str:
        """The value as a user reads it in a failure: the fields' values, joined by " + "."""
        return " + ".join(str(values.get(field)) for field in self.fields)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def index_pk(tenant: str, table_key: str, constraint: Constraint, values: dict[str, Any]) -> str | None:
    """The index item that holds a record's value of a constraint (None when the value is empty)."""
    key = constraint.key(values)
    if key is None:
        return None
    return keys.unique_index_pk(tenant, table_key, constraint.name, digest(key))


def key_field(table: Table) -> Constraint | None:
    """The constraint records are keyed by: the table's first unique field (None: no unique field).
    Fixed while the table has records (schema.tables.patch_table)."""
    field = table.key_field()
    return table_constraint(table, field) if field else None


def keyed_record_id(tenant: str, table_key: str, key: str) -> str:
    """The id of the record whose key field has the value spelled `key` (Constraint.key): stable for
    the record's life, since the value cannot change (records.writer refuses UNIQUE_KEY_FIXED), and
    opaque. Lowercase hex, so it never equals an id made of an import's ULID and a row."""
    return hashlib.sha256(f"{tenant}\x00{table_key}\x00{key}".encode()).hexdigest()[:32]


def record_id_of(tenant: str, table_key: str, keyed: Constraint, values: dict[str, Any]) -> str | None:
    """The id a record with these values has under its key field (None: the value is empty)."""
    key = keyed.key(values)
    return None if key is None else keyed_record_id(tenant, table_key, key)


def indexed(found: list[Constraint], keyed: Constraint | None) -> list[Constraint]:
    """The constraints that keep index items: all but the key field's (its record is its claim)."""
    return [c for c in found if c != keyed]


def identity(table: Table, recipe: Recipe) -> Constraint | None:
    """The constraint that identifies the record a row is about (None: every row is a new record)."""
    if table.parent:
        if not recipe.relation_unique_column:
            return None
        field = recipe.relation_unique_column
        return Constraint(f"child:{field}", ("parent_id", field), _label(table, field))
    if not recipe.unique_columns or recipe.unique_columns == [ID_TARGET]:
        return None  # every row a new record, or rows naming their record by its id (the writer's by_id)
    fields = tuple(sorted(recipe.unique_columns))
    if len(fields) == 1:
        return table_constraint(table, fields[0])
    return Constraint("key:" + "+".join(fields), fields, " + ".join(_label(table, f) for f in fields))


def table_constraint(table: Table, field: str) -> Constraint:
    return Constraint(f"field:{field}", (field,), _label(table, field))


def constraints(table: Table, recipe: Recipe | None) -> list[Constraint]:
    """Every constraint a write to this table must hold: unique fields, then the recipe's identity."""
    found = [table_constraint(table, f.key) for f in table.fields if f.unique]
    ident = identity(table, recipe) if recipe else None
    if ident is not None and ident not in found:
        found.append(ident)
    return found


def _label(table: Table, field: str) -> str:
    spec = table.field(field)
    return (spec.label or spec.key) if spec else field


class DuplicateFinder:
    """Finds, in one pass over a file, the rows whose key repeats an earlier row's.

    Memory is 12 bytes a row per constraint (a 64-bit hash and a row number in arrays), so Prepare
    can judge a million-row file; the rows that repeat are the only ones kept as objects.
    """

    def __init__(self, keyed: list[Constraint]):
        self.keyed = keyed
        self.hashes = [array("q") for _ in keyed]
        self.rows = [array("l") for _ in keyed]

    def add(self, row: int, values: dict[str, Any]) -> None:
        for i, constraint in enumerate(self.keyed):
            key = constraint.key(values)
            if key is not None:
                self.hashes[i].append(
                    int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
                )
                self.rows[i].append(row)

    def duplicates(self) -> dict[int, tuple[Constraint, int]]:
        """{row: (constraint, first row)} for every row that repeats an earlier row's key.

        Constraints are judged in turn; a row already refused by one does not claim keys of the
        next, so it never makes a later row a duplicate of a row that was not imported.
        """
        found: dict[int, tuple[Constraint, int]] = {}
        for constraint, hashes, rows in zip(self.keyed, self.hashes, self.rows):
            order = [i for i in sorted(range(len(hashes)), key=hashes.__getitem__) if rows[i] not in found]
            first = 0  # where the current key first occurs: set at position 0, before it is read
            for position, index in enumerate(order):
                if position and hashes[index] == hashes[order[position - 1]]:
                    found[rows[index]] = (constraint, rows[first])
                else:
                    first = index
        return found
