"""Domain errors to HTTP statuses, in one table: the only place that chooses an error's status."""

from __future__ import annotations

from bulkimport.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    UnsupportedMediaType,
)

STATUS: dict[type[DomainError], int] = {
    MalformedRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    RateLimited: 429,
}


def status_of(error: DomainError) -> int:
    """The status of the error's class (or of the nearest class it derives from)."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    raise TypeError(f"{type(error).__name__} has no HTTP status: add its class to STATUS")
