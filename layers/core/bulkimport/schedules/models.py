"""Recurring schedules as the API takes and shows them."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator

from bulkimport.schema.models import MAX_ID, REQUEST, Strict


class ScheduleCreate(Strict):
    model_config = REQUEST
    recipe_id: str = Field(min_length=1, max_length=MAX_ID)
    expression: str = Field(min_length=1, max_length=256)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    source_prefix: str = Field(min_length=1, max_length=512)
    enabled: bool = True

    @field_validator("source_prefix")
    @classmethod
    def _relative_folder(cls, value: str) -> str:
        value = value.strip().lstrip("/")
        parts = value.rstrip("/").split("/")
        if not value or any(p in ("", ".", "..") for p in parts) or any(ord(c) < 32 for c in value):
            raise ValueError("a folder path like inbox/contacts/ (no empty, '.' or '..' parts)")
        return value.rstrip("/") + "/"


class Schedule(ScheduleCreate):
    model_config = ConfigDict(extra="ignore", strict=False)
    id: str
    source_uri: str
    last_run_at: str | None = None
    last_run_imports: list[str] = Field(default_factory=list)
    created_at: str
    updated_at: str
