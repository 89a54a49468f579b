"""A page of a list: its items and where the next page starts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ListMeta(BaseModel):
    per_page: int
    next_cursor: str | None = None
    total: int | None = None


class Page(BaseModel):
    data: list[Any]
    meta: ListMeta
