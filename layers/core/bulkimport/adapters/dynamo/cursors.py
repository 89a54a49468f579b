"""Opaque list cursors: where a DynamoDB query stopped, or any small position, as URL-safe text.

A cursor comes back from the client, so it is read as untrusted input: every cursor is checked in
full (its shape, its types, its ranges, the partition it belongs to) before any query uses it, and
one that does not pass is MalformedRequest("INVALID_CURSOR"). Nothing unchecked reaches DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from bulkimport.errors import MalformedRequest

MAX_CURSOR_CHARS = 4096  # far more than any cursor we hand out


def encode_cursor(position: Any) -> str | None:
    if not position:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def invalid_cursor() -> MalformedRequest:
    return MalformedRequest("INVALID_CURSOR")


def decode_cursor(cursor: str | None) -> Any:
    """The JSON a cursor carries, unchecked: callers check its shape (start_key, position)."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid_cursor()
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise invalid_cursor() from None


def is_start_key(value: Any, pk: str, prefix: str = "") -> bool:
    """A query's ExclusiveStartKey in the partition `pk`: exactly string `pk` and `sk` attributes,
    the sort key starting with `prefix`."""
    if not isinstance(value, dict) or set(value) != {"pk", "sk"}:
        return False
    attributes = [value["pk"], value["sk"]]
    if not all(isinstance(a, dict) and set(a) == {"S"} and isinstance(a["S"], str) for a in attributes):
        return False
    return value["pk"]["S"] == pk and value["sk"]["S"].startswith(prefix)


def decode_start_key(cursor: str | None, pk: str, prefix: str = "") -> dict | None:
    """Where a query of partition `pk` (sort keys starting with `prefix`) goes on, or None to start."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    if not is_start_key(value, pk, prefix):
        raise invalid_cursor()
    return value


def is_count(value: Any, below: int | None = None) -> bool:
    """A non-negative int (not a bool), below `below` when given."""
    return type(value) is int and value >= 0 and (below is None or value < below)


def decode_position(cursor: str | None, names: tuple[str, ...]) -> dict[str, int] | None:
    """A position of non-negative ints named exactly `names` (e.g. chunk and skip), or None."""
    value = decode_cursor(cursor)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != set(names) or not all(is_count(value[n]) for n in names):
        raise invalid_cursor()
    return value
