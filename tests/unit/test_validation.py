from decimal import Decimal

import pytest

from bulkimport.schema.models import FieldSpec
from bulkimport.schema.validation import Invalid, RowValidator, converter_for


def convert(type_: str, text: str, **spec):
    return converter_for(FieldSpec(key="f", type=type_, **spec))(text)


@pytest.mark.parametrize(
    ("type_", "text", "expected"),
    [
        ("integer", "42", 42),
        ("integer", "-7", -7),
        ("integer", "1,234", 1234),
        ("integer", "12.0", 12),
        ("number", "12.5", Decimal("12.5")),
        ("number", "1,234.50", Decimal("1234.50")),
        ("number", "-0.001", Decimal("-0.001")),
        ("boolean", "TRUE", True),
        ("boolean", "no", False),
        ("boolean", "是", True),
        ("date", "2026-11-22", "2026-11-22"),
        ("date", "2026/1/5", "2026-01-05"),
        ("datetime", "2026-11-22T03:56:39Z", "2026-11-22T03:56:39Z"),
        ("datetime", "2026-11-22T11:56:39+08:00", "2026-11-22T03:56:39Z"),
        ("datetime", "2026-11-22 11:56", "2026-11-22T11:56:00"),
        ("email", "a.b+c@example.co.uk", "a.b+c@example.co.uk"),
        ("phone", "+886 2-1234-5678", "+886 2-1234-5678"),
        ("phone", "(02) 1234 5678 ext 12", "(02) 1234 5678 ext 12"),
    ],
)
def test_valid_values_convert(type_, text, expected):
    assert convert(type_, text) == expected


@pytest.mark.parametrize(
    ("type_", "text", "code"),
    [
        ("integer", "1.5", "INVALID_INTEGER"),
        ("integer", "abc", "INVALID_INTEGER"),
        ("number", "12,34", "INVALID_NUMBER"),
        ("number", "NaN", "INVALID_NUMBER"),
        ("number", "Infinity", "INVALID_NUMBER"),
        ("boolean", "maybe", "INVALID_BOOLEAN"),
        ("date", "2026-13-01", "INVALID_DATE"),
        ("date", "22/11/2026", "INVALID_DATE"),
        ("datetime", "yesterday", "INVALID_DATETIME"),
        ("email", "not-an-email", "INVALID_EMAIL"),
        ("email", "a@b", "INVALID_EMAIL"),
        ("phone", "call me", "INVALID_PHONE"),
        ("phone", "12", "INVALID_PHONE"),
    ],
)
def test_invalid_values_fail_with_stable_codes(type_, text, code):
    with pytest.raises(Invalid) as caught:
        convert(type_, text)
    assert caught.value.code == code


def test_enum_and_max_length():
    assert convert("enum", "A", options=["A", "B"]) == "A"
    with pytest.raises(Invalid) as caught:
        convert("enum", "a", options=["A", "B"])
    assert caught.value.code == "NOT_IN_OPTIONS"
    assert caught.value.params == {"options": "A, B"}
    assert convert("string", "四個字元", max_length=4) == "四個字元"
    with pytest.raises(Invalid) as caught:
        convert("string", "五個字元了", max_length=4)
    assert caught.value.code == "TOO_LONG"


def test_row_validator_reports_every_failing_field():
    fields = [
        (0, FieldSpec(key="no", type="string", required=True)),
        (1, FieldSpec(key="age", type="integer")),
        (2, FieldSpec(key="email", type="email", label="電子郵件")),
    ]
    validator = RowValidator(fields, expected_width=3)
    data, failures = validator.validate(["M1", " 30 ", ""])
    assert data == {"no": "M1", "age": 30}
    assert failures == []

    data, failures = validator.validate(["", "x", "bad"])
    assert [(f.field, f.code) for f in failures] == [
        ("no", "REQUIRED"),
        ("age", "INVALID_INTEGER"),
        ("email", "INVALID_EMAIL"),
    ]
    assert failures[2].params["field"] == "電子郵件"

    _, failures = validator.validate(["M1", "3"])
    assert [(f.field, f.code, f.params) for f in failures] == [
        (None, "COLUMN_COUNT_MISMATCH", {"actual": 2, "expected": 3})
    ]
