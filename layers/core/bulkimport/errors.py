"""Errors a user can cause: a stable code, an HTTP status and message parameters."""

from typing import Any


class AppError(Exception):
    """An error the API answers with `{"error": {"code", "message", "details"}}`."""

    def __init__(self, code: str, status: int, details: list[Any] | None = None, **params: Any):
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params
        self.details = details or []


def not_found(code: str, **params: Any) -> AppError:
    return AppError(code, 404, **params)


class FileError(Exception):
    """A file-level problem: the import fails with `error` set and no row is written."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params
