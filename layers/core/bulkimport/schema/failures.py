"""What reading a value can fail with: a stable code and its message parameters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class Invalid(Exception):
    def __init__(self, code: str, **params: Any):
        self.code = code
        self.params = params


@dataclass
class RowFailure:
    field: str | None
    code: str
    # dataclasses.field: in this class's body `field` names the attribute above.
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    value: str | None = None
