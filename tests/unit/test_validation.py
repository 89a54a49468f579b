from decimal import Decimal

import pytest

from bulkimport.schema.models import FieldSpec
from bulkimport.schema.validation import Invalid, RowFailure, RowValidator, converter_for

LONGEST_EMAIL = "a" * (254 - len("@example.com")) + "@example.com"  # 254 characters: the most an address has


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
        ("date", "2026/11/05", "2026-11-05"),  # ten characters, but not ISO
        ("datetime", "2026-11-22T03:56:39Z", "2026-11-22T03:56:39Z"),
        ("datetime", "2026-11-22T11:56:39+08:00", "2026-11-22T03:56:39Z"),
        ("datetime", "2026-11-22 11:56", "2026-11-22T11:56:00"),
        ("datetime", "2026/11/22 11:56", "2026-11-22T11:56:00"),
        ("email", "a.b+c@example.co.uk", "a.b+c@example.co.uk"),
        ("email", LONGEST_EMAIL, LONGEST_EMAIL),
        ("phone", "+886 2-1234-5678", "+886 2-1234-5678"),
        ("phone", "(02) 1234 5678 ext 12", "(02) 1234 5678 ext 12"),
        ("phone", "123456", "123456"),  # 6 to 20 digits
        ("phone", "1" * 20, "1" * 20),
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
        ("phone", "12345", "INVALID_PHONE"),
        ("phone", "1" * 21, "INVALID_PHONE"),
        ("email", "a" + LONGEST_EMAIL, "INVALID_EMAIL"),
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
    assert (caught.value.code, caught.value.params) == ("TOO_LONG", {"max_length": 4})


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
    assert failures == [
        RowFailure("no", "REQUIRED", {"field": "no"}, ""),
        RowFailure("age", "INVALID_INTEGER", {"field": "age", "value": "x"}, "x"),
        RowFailure("email", "INVALID_EMAIL", {"field": "電子郵件", "value": "bad"}, "bad"),
    ]

    _, failures = validator.validate(["M1", "3"])
    assert [(f.field, f.code, f.params) for f in failures] == [
        (None, "COLUMN_COUNT_MISMATCH", {"actual": 2, "expected": 3})
    ]


def test_short_rows_without_a_header_read_as_blank_cells():
    fields = [
        (0, FieldSpec(key="no", type="string", required=True)),
        (2, FieldSpec(key="email", type="email")),
    ]
    validator = RowValidator(fields, expected_width=None)
    assert validator.validate(["M1"]) == ({"no": "M1"}, [])
    assert validator.validate(["M1", "x"]) == ({"no": "M1"}, [])
    assert RowValidator([], expected_width=None).validate(["anything"]) == ({}, [])


def test_a_subtable_cannot_be_mapped_from_a_file_column():
    with pytest.raises(ValueError, match="fields of type subtable cannot be mapped"):
        converter_for(FieldSpec(key="items", type="subtable", fields=[FieldSpec(key="sku", type="string")]))
