"""Opaque list cursors: where a DynamoDB query stopped, or any small position, as URL-safe text."""

from __future__ import annotations

import base64
import json
from typing import Any

from bulkimport.errors import MalformedRequest


def encode_cursor(position: Any) -> str | None:
    if not position:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, expected_pk: str | None = None) -> Any:
    """Decode a cursor, refusing any that does not belong to the partition being listed."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise MalformedRequest("INVALID_CURSOR") from None
    if expected_pk is not None and (not isinstance(value, dict) or value.get("pk", {}).get("S") != expected_pk):
        raise MalformedRequest("INVALID_CURSOR")
    return value
