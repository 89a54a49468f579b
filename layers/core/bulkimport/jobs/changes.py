"""A batch_update's changes: checked against the table when the job is created, and again when it runs."""

from __future__ import annotations

from typing import Any

from bulkimport.errors import InvalidInput
from bulkimport.schema.models import Table
from bulkimport.schema.validation import RecordValidator


def validate_changes(table: Table, changes: dict[str, Any]) -> dict[str, Any]:
    """The typed values a batch_update sets; null (or "") clears a field that is not required."""
    problems = [{"field": name, "code": "UNKNOWN_FIELD"} for name in changes if table.field(name) is None]
    # The table's key field (its first unique field) keys its records: its value never changes.
    problems += [{"field": name, "code": "UNIQUE_KEY_FIXED"} for name in changes if name == table.key_field()]
    known = {name: value for name, value in changes.items() if table.field(name) is not None}
    values, failures = RecordValidator(table.fields, table.rules).validate(known)
    for failure in failures:
        assert failure.field is not None  # a record's failures each name their field
        top = failure.field.split("[")[0].split(".")[0]
        if failure.code in ("REQUIRED", "REQUIRED_BY_RULE") and top not in known:
            continue  # a required field the changes leave as it is (a batch_update is checked on what it sets)
        problems.append({"field": failure.field, "code": failure.code})
    if problems:
        raise InvalidInput("INVALID_CHANGES", details=problems)
    cleared = {name: None for name, value in known.items() if value is None or value == "" or value == []}
    return {**values, **cleared}
