"""Errors a user can cause, as the domain states them: a stable code, message parameters and details.

No HTTP here: the API edge (functions/api/http_errors.py) maps each class to a status, in one table. A
class says what kind of mistake it is; the code says which one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class DomainError(Exception):
    """An error answered with `{"error": {"code", "message", "details"}}` (the message is rendered from
    the code and params in the reader's language)."""

    def __init__(self, code: str, details: list[Any] | None = None, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params
        self.details = details or []


class MalformedRequest(DomainError):
    """The request cannot be read at all (bad JSON, a cursor that is not ours)."""


class Unauthorized(DomainError):
    """No key, or a key that is not valid."""


class Forbidden(DomainError):
    """The key's role is too low for what it asks."""


class NotFound(DomainError):
    """No such thing for this tenant (another tenant's ids are not found either)."""


class MethodNotAllowed(DomainError):
    """The path exists, but not with this method; params carry `allowed`, the methods it takes."""


class Conflict(DomainError):
    """The thing exists but its state does not allow this now."""


class TooLarge(DomainError):
    """The request or its file is larger than this way of sending it allows."""


class UnsupportedMediaType(DomainError):
    """A content or file type the service does not read."""


class InvalidInput(DomainError):
    """Readable, but its content breaks a rule (validation)."""


def validation_failed(problems: Iterable[Mapping[str, Any]]) -> InvalidInput:
    """VALIDATION_ERROR listing each problem's location, type and message, from a model validator's
    error list (pydantic's `errors()`)."""
    details = [{"loc": list(p.get("loc", ())), "type": p.get("type"), "msg": p.get("msg")} for p in problems]
    return InvalidInput("VALIDATION_ERROR", details=details)


class RateLimited(DomainError):
    """Too many requests; params carry `retry_after` in seconds."""


class FileError(Exception):
    """A file-level problem: the import fails with `error` set and no row is written."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params
