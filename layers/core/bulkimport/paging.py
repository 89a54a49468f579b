"""A page of a list: its items and where the next page starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from bulkimport.errors import MalformedRequest

T = TypeVar("T")


class ListMeta(BaseModel):
    per_page: int
    next_cursor: str | None = None
    total: int | None = None


class Page(BaseModel, Generic[T]):
    """A page of a list. Built unparametrized (items already shown); `Page[Table]` describes a list of
    tables in the API's document."""

    data: list[T]
    meta: ListMeta

    @classmethod
    def of(cls, data: list[Any], per_page: int, next_cursor: str | None, total: int | None) -> Page[Any]:
        return cls(data=data, meta=ListMeta(per_page=per_page, next_cursor=next_cursor, total=total))


def offset_page(matching: list[Any], per_page: int, cursor: str | None, shown: Callable[[Any], Any]) -> Page:
    """A page of a list filtered in memory (short lists: a tenant's recipes of a table, its imports of
    a status): the cursor is the offset of the page's first item."""
    start = 0
    if cursor:
        # ASCII digits only ("²" is a digit to str.isdigit), and short enough to be an offset.
        if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 9):
            raise MalformedRequest("INVALID_CURSOR")
        start = int(cursor)
    end = start + per_page
    next_cursor = str(end) if end < len(matching) else None
    return Page.of([shown(item) for item in matching[start:end]], per_page, next_cursor, len(matching))
