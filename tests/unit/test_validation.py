import time
from decimal import Decimal

import pytest

from bulkimport.ingest.spreadsheets import cell_text, zero_padded_text
from bulkimport.schema.models import FieldSpec
from bulkimport.schema.validation import Invalid, RecordValidator, RowFailure, RowValidator, converter_for

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


# ---------------------------------------------------------------- converters: the edges of each rule


@pytest.mark.parametrize(
    ("type_", "text", "expected"),
    [
        ("integer", "1e3", 1000),
        ("integer", "-0", 0),
        ("integer", "+1,234,567", 1234567),
        ("integer", "1234", 1234),
        ("number", "-1,234,567.25", Decimal("-1234567.25")),
        ("number", "1E-2", Decimal("0.01")),
        *[("boolean", text, True) for text in ("true", "T", "Yes", "y", "1", "是", "對", "TRUE.")],
        *[("boolean", text, False) for text in ("false", "F", "No", "N", "0", "否", "錯")],
        ("date", "2024-02-29", "2024-02-29"),
        ("date", "2026.11.05", "2026-11-05"),
        ("date", "2026/1/05", "2026-01-05"),
        ("date", "20261122", "2026-11-22"),
        ("date", "2026-W47-1", "2026-11-16"),  # ten characters, an ISO week date: stored as a plain date
        ("datetime", "2026-11-22T03:56:39.123456Z", "2026-11-22T03:56:39Z"),
        ("datetime", "2026-11-21T22:56:39-05:00", "2026-11-22T03:56:39Z"),
        ("datetime", "2026-11-22", "2026-11-22T00:00:00"),
        ("email", "a@" + "b" * 63 + ".com", "a@" + "b" * 63 + ".com"),  # a 63-character label: the most
        ("email", "x@a-b.example", "x@a-b.example"),
        ("phone", "+1 (555) 123-4567 x89", "+1 (555) 123-4567 x89"),
        ("phone", "02.1234.5678 #12", "02.1234.5678 #12"),
        ("phone", "+" + "1" * 20, "+" + "1" * 20),  # 20 digits among other characters
        ("phone", "12-3456", "12-3456"),  # 6 digits among other characters
    ],
)
def test_values_at_the_edges_convert(type_, text, expected):
    value = convert(type_, text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("type_", "text", "code"),
    [
        ("integer", "1,23", "INVALID_INTEGER"),
        ("integer", "1.000001", "INVALID_INTEGER"),
        ("integer", "inf", "INVALID_INTEGER"),
        ("number", "1,2345", "INVALID_NUMBER"),
        ("number", "1,234,56", "INVALID_NUMBER"),
        ("number", "-Infinity", "INVALID_NUMBER"),
        ("number", "sNaN", "INVALID_NUMBER"),
        ("boolean", "tru", "INVALID_BOOLEAN"),
        ("boolean", "2", "INVALID_BOOLEAN"),
        ("date", "2026-02-29", "INVALID_DATE"),
        ("date", "2026-1-5", "INVALID_DATE"),
        ("date", "2026/13/01", "INVALID_DATE"),
        ("date", "2026-11-22x", "INVALID_DATE"),
        ("datetime", "2026-11-22T25:00", "INVALID_DATETIME"),
        ("email", "a@" + "b" * 64 + ".com", "INVALID_EMAIL"),  # a label of 64 characters
        ("email", "a@-b.com", "INVALID_EMAIL"),
        ("email", "a b@example.com", "INVALID_EMAIL"),
        ("email", "a@example.com ", "INVALID_EMAIL"),
        ("phone", "\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "INVALID_PHONE"),  # full-width digits
        ("phone", "+" + "1" * 21, "INVALID_PHONE"),
        ("phone", "12-345", "INVALID_PHONE"),  # 5 digits among other characters
        ("phone", "123 456 ext", "INVALID_PHONE"),
    ],
)
def test_values_just_past_the_edges_fail(type_, text, code):
    with pytest.raises(Invalid) as caught:
        convert(type_, text)
    assert (caught.value.code, caught.value.params) == (code, {})


def test_a_string_without_a_limit_is_kept_as_it_is_and_with_one_up_to_it():
    assert convert("string", "x" * 10_000) == "x" * 10_000
    assert convert("string", "abc", max_length=3) == "abc"
    with pytest.raises(Invalid) as caught:
        convert("string", "abcd", max_length=3)
    assert (caught.value.code, caught.value.params) == ("TOO_LONG", {"max_length": 3})


# ---------------------------------------------------------------- RecordValidator (batch-create records)

ITEMS = FieldSpec(
    key="items",
    type="subtable",
    label="明細",
    fields=[
        FieldSpec(key="sku", type="string", required=True, max_length=5),
        FieldSpec(key="qty", type="integer", label="數量"),
        FieldSpec(
            key="parts", type="subtable", fields=[FieldSpec(key="code", type="enum", options=["A", "B"], required=True)]
        ),
    ],
)


def record_validator(*fields: FieldSpec) -> RecordValidator:
    return RecordValidator(list(fields))


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (FieldSpec(key="f", type="string"), "  text  ", "text"),
        (FieldSpec(key="f", type="string"), 12, "12"),
        (FieldSpec(key="f", type="string", max_length=3), "abc", "abc"),
        (FieldSpec(key="f", type="integer"), 42, 42),
        (FieldSpec(key="f", type="integer"), "1,234", 1234),
        (FieldSpec(key="f", type="integer"), 0, 0),
        (FieldSpec(key="f", type="number"), 12.5, Decimal("12.5")),
        (FieldSpec(key="f", type="number"), "0.10", Decimal("0.10")),
        (FieldSpec(key="f", type="boolean"), True, True),
        (FieldSpec(key="f", type="boolean"), False, False),
        (FieldSpec(key="f", type="boolean"), "yes", True),
        (FieldSpec(key="f", type="date"), "2026/11/5", "2026-11-05"),
        (FieldSpec(key="f", type="datetime"), "2026-11-22T11:56:39+08:00", "2026-11-22T03:56:39Z"),
        (FieldSpec(key="f", type="email"), " a@example.com ", "a@example.com"),
        (FieldSpec(key="f", type="phone"), "+886 2-1234-5678", "+886 2-1234-5678"),
        (FieldSpec(key="f", type="enum", options=["A", "B"]), "B", "B"),
    ],
)
def test_record_values_of_every_type_convert(spec, value, expected):
    data, failures = record_validator(spec).validate({"f": value})
    assert failures == []
    assert data == {"f": expected} and type(data["f"]) is type(expected)


@pytest.mark.parametrize(
    ("spec", "value", "code", "text", "extra"),
    [
        (FieldSpec(key="f", type="string", max_length=3), " abcd ", "TOO_LONG", "abcd", {"max_length": 3}),
        (FieldSpec(key="f", type="integer"), 1.5, "INVALID_INTEGER", "1.5", {}),
        (FieldSpec(key="f", type="integer"), True, "INVALID_INTEGER", "true", {}),  # a boolean is no number
        (FieldSpec(key="f", type="number"), "twelve", "INVALID_NUMBER", "twelve", {}),
        (FieldSpec(key="f", type="number"), False, "INVALID_NUMBER", "false", {}),
        (FieldSpec(key="f", type="boolean"), 2, "INVALID_BOOLEAN", "2", {}),
        (FieldSpec(key="f", type="date"), "2026-02-30", "INVALID_DATE", "2026-02-30", {}),
        (FieldSpec(key="f", type="datetime"), "noon", "INVALID_DATETIME", "noon", {}),
        (FieldSpec(key="f", type="email"), "nobody", "INVALID_EMAIL", "nobody", {}),
        (FieldSpec(key="f", type="phone"), "12", "INVALID_PHONE", "12", {}),
        (FieldSpec(key="f", type="enum", options=["A", "B"]), "C", "NOT_IN_OPTIONS", "C", {"options": "A, B"}),
    ],
)
def test_record_values_that_do_not_convert_fail_with_their_code_value_and_params(spec, value, code, text, extra):
    data, failures = record_validator(spec).validate({"f": value})
    assert data == {}
    assert failures == [RowFailure("f", code, {"field": "f", "value": text, **extra}, text)]


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_an_empty_value_is_required_or_left_out(empty):
    required = FieldSpec(key="name", type="string", required=True, label="名稱")
    optional = FieldSpec(key="note", type="integer")
    assert record_validator(required, optional).validate({"name": empty, "note": empty}) == (
        {},
        [RowFailure("name", "REQUIRED", {"field": "名稱"}, None)],
    )
    # A missing key is empty too.
    assert record_validator(required, optional).validate({}) == (
        {},
        [RowFailure("name", "REQUIRED", {"field": "名稱"}, None)],
    )


def test_zero_and_false_are_values_not_empty():
    validator = record_validator(
        FieldSpec(key="n", type="integer", required=True), FieldSpec(key="b", type="boolean", required=True)
    )
    assert validator.validate({"n": 0, "b": False}) == ({"n": 0, "b": False}, [])


@pytest.mark.parametrize("value", [{"a": 1}, {}, [1, 2], ["x"]])
def test_an_object_or_a_list_for_a_plain_field_is_an_invalid_value(value):
    spec = FieldSpec(key="f", type="string", label="欄")
    assert record_validator(spec).validate({"f": value}) == ({}, [RowFailure("f", "INVALID_VALUE", {"field": "欄"})])


def test_unknown_fields_are_reported_first_in_record_order_with_every_other_failure():
    validator = record_validator(
        FieldSpec(key="a", type="integer", required=True), FieldSpec(key="b", type="email", label="郵件")
    )
    data, failures = validator.validate({"zz": 1, "b": "bad", "yy": 2})
    assert data == {}
    assert failures == [
        RowFailure("zz", "UNKNOWN_FIELD", {"field": "zz"}),
        RowFailure("yy", "UNKNOWN_FIELD", {"field": "yy"}),
        RowFailure("a", "REQUIRED", {"field": "a"}, None),
        RowFailure("b", "INVALID_EMAIL", {"field": "郵件", "value": "bad"}, "bad"),
    ]


def test_parent_id_is_not_an_unknown_field_at_the_top_level_only():
    validator = record_validator(FieldSpec(key="a", type="string"), ITEMS)
    assert validator.validate({"a": "x", "parent_id": "P1"}) == ({"a": "x"}, [])
    _, failures = validator.validate({"items": [{"sku": "S1", "parent_id": "P1"}]})
    assert failures == [RowFailure("items[0].parent_id", "UNKNOWN_FIELD", {"field": "items[0].parent_id"})]


def test_subtable_rows_are_validated_with_paths_that_name_the_row():
    validator = record_validator(FieldSpec(key="no", type="string"), ITEMS)
    data, failures = validator.validate(
        {
            "no": "O1",
            "items": [
                {"sku": "S1", "qty": "2", "parts": [{"code": "A"}, {"code": "B"}]},
                {"qty": "x", "parts": [{"code": "A"}, {"code": "Z"}, {}], "extra": 1},
                {"sku": "TOOLONG"},
            ],
        }
    )
    assert data == {
        "no": "O1",
        "items": [
            {"sku": "S1", "qty": 2, "parts": [{"code": "A"}, {"code": "B"}]},
            {"parts": [{"code": "A"}, {}, {}]},
            {},
        ],
    }
    assert failures == [
        RowFailure("items[1].extra", "UNKNOWN_FIELD", {"field": "items[1].extra"}),
        RowFailure("items[1].sku", "REQUIRED", {"field": "items[1].sku"}, None),
        RowFailure("items[1].qty", "INVALID_INTEGER", {"field": "數量", "value": "x"}, "x"),
        RowFailure(
            "items[1].parts[1].code",
            "NOT_IN_OPTIONS",
            {"field": "items[1].parts[1].code", "value": "Z", "options": "A, B"},
            "Z",
        ),
        RowFailure("items[1].parts[2].code", "REQUIRED", {"field": "items[1].parts[2].code"}, None),
        RowFailure(
            "items[2].sku", "TOO_LONG", {"field": "items[2].sku", "value": "TOOLONG", "max_length": 5}, "TOOLONG"
        ),
    ]


@pytest.mark.parametrize("value", ["rows", {"sku": "S1"}, [{"sku": "S1"}, "row"], [["S1"]], 3])
def test_a_subtable_must_be_a_list_of_objects(value):
    assert record_validator(ITEMS).validate({"items": value}) == (
        {},
        [RowFailure("items", "INVALID_SUBTABLE", {"field": "明細"}, None)],
    )


def test_an_empty_subtable_is_required_or_left_out():
    required = ITEMS.model_copy(update={"required": True})
    assert record_validator(required).validate({"items": []}) == (
        {},
        [RowFailure("items", "REQUIRED", {"field": "明細"}, None)],
    )
    assert record_validator(ITEMS).validate({"items": []}) == ({}, [])


def test_fields_after_a_subtable_or_an_invalid_value_are_still_validated():
    validator = record_validator(ITEMS, FieldSpec(key="plain", type="string"), FieldSpec(key="after", type="integer"))
    assert validator.validate({"items": [{"sku": "S1"}], "plain": "p", "after": "1"}) == (
        {"items": [{"sku": "S1"}], "plain": "p", "after": 1},
        [],
    )
    assert validator.validate({"items": "bad", "plain": ["x"], "after": "x"}) == (
        {},
        [
            RowFailure("items", "INVALID_SUBTABLE", {"field": "明細"}),
            RowFailure("plain", "INVALID_VALUE", {"field": "plain"}),
            RowFailure("after", "INVALID_INTEGER", {"field": "after", "value": "x"}, "x"),
        ],
    )


@pytest.mark.parametrize("text", ["1-2", "1/2/3", "2026-1"])
def test_short_texts_are_no_date(text):
    with pytest.raises(Invalid) as caught:
        convert("date", text)
    assert caught.value.code == "INVALID_DATE"


def test_a_datetime_with_an_offset_is_stored_in_utc_whatever_the_machines_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Taipei")
    time.tzset()
    try:
        assert convert("datetime", "2026-11-22T11:56:39+08:00") == "2026-11-22T03:56:39Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_worksheets_plain_number_in_a_date_field_is_excels_day_number():
    date_field = FieldSpec(key="d", type="date")
    sheet = RowValidator([(0, date_field)], None, worksheet=True)
    assert [sheet.validate([cell])[0].get("d") for cell in ("1", "59", "61", "46348", "46348.75")] == [
        "1900-01-01",
        "1900-02-28",
        "1900-03-01",
        "2026-11-22",
        "2026-11-22",
    ]
    for phantom in ("60", "0", "2958466"):  # Excel's 1900-02-29, before 1900, after 9999
        assert [f.code for f in sheet.validate([phantom])[1]] == ["INVALID_DATE"]
    moment = RowValidator([(0, FieldSpec(key="t", type="datetime"))], None, worksheet=True)
    assert moment.validate(["46348.5"])[0] == {"t": "2026-11-22T12:00:00"}
    text = RowValidator([(0, date_field)], None)  # a text file's number is no date
    assert [f.code for f in text.validate(["46348"])[1]] == ["INVALID_DATE"]


def test_worksheet_numbers_read_as_people_read_them():
    assert [cell_text(v) for v in (0.00001, 1.5, 12345678901234.0, 1.2e16, -0.25)] == [
        "0.00001",
        "1.5",
        "12345678901234",
        "12000000000000000",
        "-0.25",
    ]


def test_whole_numbers_formatted_with_leading_zeros_read_as_shown():
    shown = {
        (123, "00000"): "00123",  # a zip code
        (123456, "00000"): "123456",  # more digits than placeholders: all of them, as Excel shows
        (123456789, "000-00-0000"): "123-45-6789",
        (12345, "000\\-00\\-0000"): "000-01-2345",  # separators escaped, as Excel saves them
        (5, '"ID"0000'): "ID0005",
        (42.0, "0000"): "0042",
    }
    assert {case: zero_padded_text(*case) for case in shown} == shown
    # Anything else is left to cell_text: General, decimals, grouping, one placeholder, negative
    # numbers, fractions, conditional sections.
    for value, number_format in [
        (7, "General"),
        (7, "0.00"),
        (7, "#,##0"),
        (12, "0"),
        (-5, "000"),
        (1.5, "00000"),
        (True, "00"),
        (7, "[<=99999]00000;00000-0000"),
        (7, None),
    ]:
        assert zero_padded_text(value, number_format) is None, (value, number_format)
