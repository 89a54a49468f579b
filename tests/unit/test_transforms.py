"""Properties of a recipe column's cleaning (recipes/transforms.py): steps are total (no text makes
one raise), nfkc then trim is idempotent, empty cells stay empty, and a chunk cleaned a column at a
time gives the same values and failures as row by row."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkimport.imports.chunks import row_validator
from bulkimport.recipes.models import ColumnMap, Recipe
from bulkimport.recipes.transforms import column_reading
from bulkimport.schema.models import FieldSpec, Table

STAMPS = {"created_at": "2026-11-22T00:00:00Z", "updated_at": "2026-11-22T00:00:00Z"}
TEXT = FieldSpec(key="t", type="string")
cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
steps = st.lists(
    st.one_of(
        st.sampled_from(["trim", "collapse_spaces", "lower", "upper", "title", "nfkc"]),
        st.builds(
            lambda s, t: {"split": {"separator": s, "take": t}},
            st.sampled_from([" ", ",", "-", "ab"]),
            st.integers(-5, 5),
        ),
        st.builds(
            lambda p, w: {"replace": {"pattern": p, "with": w}},
            st.sampled_from(["[0-9]", "\\s+", "a|b", "^x"]),
            st.sampled_from(["", "-", "xx"]),
        ),
        st.builds(lambda k: {"map": {k: "M"}, "ignore_case": True}, st.sampled_from(["a", "Gold", "金"])),
    ),
    max_size=5,
)


def clean(transform: list, texts: list[str], **column) -> list[str]:
    reading = column_reading(
        ColumnMap.model_validate({"source": 0, "target": "t", "transform": transform, **column}), TEXT, [0]
    )
    return reading.clean([texts])[0]


@given(st.lists(cells, max_size=10))
def test_nfkc_then_trim_is_idempotent(texts):
    once = clean(["nfkc", "trim"], texts)
    assert clean(["nfkc", "trim"], once) == once


@given(st.lists(cells, max_size=10), st.text(max_size=3).filter(bool), st.integers(-1000, 1000))
def test_split_with_any_take_never_raises_and_takes_the_part_or_nothing(texts, separator, take):
    got = clean([{"split": {"separator": separator, "take": take}}], texts)
    for text, value in zip(texts, got):
        parts = text.split(separator)
        part = parts[take] if -len(parts) <= take < len(parts) else ""  # a missing part is empty
        assert value == (part if text.strip() else "").strip()


@given(steps, st.lists(st.sampled_from(["", " ", "\t", "\u3000 "]), min_size=1, max_size=5))
def test_steps_leave_empty_cells_empty_and_default_fills_them(transform, blanks):
    assert clean(transform, blanks) == [""] * len(blanks)
    assert clean(transform, blanks, default="B") == ["B"] * len(blanks)


@settings(max_examples=60, deadline=None)
@given(steps, st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=8))
def test_a_chunk_cleaned_a_column_at_a_time_reads_as_row_by_row(transform, rows):
    table = Table.model_validate(
        {
            **STAMPS,
            "key": "t",
            "fields": [{"key": "a", "min_length": 2}, {"key": "b", "type": "enum", "options": ["M", "x"]}],
        }
    )
    columns = [
        {"source": "A", "target": "a", "transform": transform},
        {
            "source": "B",
            "target": "b",
            "transform": [*transform, {"map": {"m": "M"}, "ignore_case": True, "otherwise": "fail"}],
        },
    ]
    recipe = Recipe.model_validate({**STAMPS, "id": "r", "name": "r", "table": "t", "columns": columns})
    validator = row_validator(table, None, [[0, "a"], [1, "b"]], 2, recipe=recipe)
    data, failed = validator.validate_rows(rows)
    for position, row in enumerate(rows):
        values, failures = validator.validate(row)
        assert data[position] == values
        assert failed.get(position, []) == failures


def test_a_pattern_that_stalls_a_backtracking_engine_is_one_linear_pass_here():
    """(a+)+$ on 'aaaa...b' needs 2^n steps on Python's re (n=5000 would never finish); RE2 answers.
    The answer is asserted, not a time: a backtracking engine would not come back to be asserted on."""
    text = "a" * 5000 + "b"
    assert clean([{"replace": {"pattern": "(a+)+$", "with": "X"}}], [text, "aaa"]) == [text, "X"]
    assert re.compile("(a+)+$").search("aaab") is None  # what it means, on a size re can do


@pytest.mark.parametrize(
    ("date_format", "text", "expected"),
    [
        ("ROC", "113/05/01", "2024-05-01"),
        ("ROC", "113.5.1", "2024-05-01"),
        ("ROC", "民國113年5月1日", "2024-05-01"),
        ("ROC", "民國 1 年 1 月 1 日", "1912-01-01"),
        ("DD/MM/YYYY", "29/02/2024", "2024-02-29"),
        ("MM/DD/YYYY", "02/29/2024", "2024-02-29"),
    ],
)
def test_date_formats_read_to_iso_dates(date_format, text, expected):
    reading = column_reading(ColumnMap(source=0, target="d", format=date_format), FieldSpec(key="d", type="date"), [0])
    assert reading.convert is not None and reading.convert(text) == expected
