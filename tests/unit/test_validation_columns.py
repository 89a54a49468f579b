"""A chunk is validated a column at a time (RowValidator.validate_rows), with checks over whole
columns for the common case; it must give exactly what validating each row gives: the same values
(of the same types, in the same order) and the same failures (field, code, params, value)."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkimport.ingest.spreadsheets import UNCALCULATED
from bulkimport.schema import validation
from bulkimport.schema.models import FieldSpec
from bulkimport.schema.validation import RowValidator

# Fixed and reproducible: derandomized, and no example database written to the checkout.
BOUNDED = settings(
    deadline=None, derandomize=True, database=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow]
)

FIELDS = [
    FieldSpec(key="no", type="string", required=True, max_length=6),
    FieldSpec(key="name", type="string", label="名稱"),
    FieldSpec(key="email", type="email"),
    FieldSpec(key="phone", type="phone", required=True),
    FieldSpec(key="level", type="enum", options=["A", "B", "金"]),
    FieldSpec(key="amount", type="number"),
    FieldSpec(key="count", type="integer"),
    FieldSpec(key="ok", type="boolean"),
    FieldSpec(key="day", type="date"),
    FieldSpec(key="at", type="datetime"),
]
# Texts each field's column check takes as a column (most cells of a real file) and texts at or past
# the edges of its rule, where a column check must hand the column to the converter.
TEXTS = {
    "no": ["M1", "M12345", "M123456", "四個字元", " M2 "],
    "name": ["Ann", "客戶", " x "],
    "email": [
        "a@example.com",
        "c4@example.co.uk",
        "a" * 243 + "@example.com",
        "a@b",
        "a b@example.com",
        "a@" + "b" * 64 + ".com",
        "x@a-b.example",
        "a@example.com\nb@example.com",  # two addresses on two lines of a quoted cell: not one
    ],
    "phone": [
        "0912345678",
        "123456",
        "12345",
        "1" * 20,
        "1" * 21,
        "+886 2-1234-5678",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        "12-3456",
    ],
    "level": ["A", "B", "金", "a", "C"],
    "amount": ["4.25", "-0.001", "1E-2", "1,234.50", "12,34", "NaN", "Infinity", "1_000", "abc", "0.10"],
    "count": ["42", "1,234", "12.0", "1.5", "1e3", "inf"],
    "ok": ["true", "No", "是", "maybe"],
    "day": ["2026-11-22", "2024-02-29", "2026-02-29", "2026/1/5", "20261122", "2026-W47-1", "2026-1-05", "46348"],
    "at": ["2026-11-22T03:56:39Z", "2026-11-22 11:56", "2026/11/22 11:56", "noon", "46348.5"],
}
BLANKS = ["", "  ", "\t"]


def cell(key: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(TEXTS[key][:2]),  # valid: most cells, so that whole columns pass their check
        st.sampled_from(TEXTS[key] + BLANKS + [UNCALCULATED]),
        st.text(max_size=12),
    )


@st.composite
def chunks(draw):
    mapped = draw(st.lists(st.sampled_from(range(len(FIELDS))), max_size=6, unique=True))
    # Unmapped columns at times: a few (the mapped ones are transposed with them), or most of the row
    # (the mapped ones are picked one by one: RowValidator._validate_columns).
    width = len(mapped) + draw(st.sampled_from([0, 0, 1, 2, 8]))
    positions = draw(st.permutations(range(width)))
    columns = [(positions[i], FIELDS[f]) for i, f in enumerate(mapped)]
    by_position = {positions[i]: FIELDS[f].key for i, f in enumerate(mapped)}
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        cells = [draw(cell(by_position[p])) if p in by_position else draw(st.text(max_size=3)) for p in range(width)]
        if draw(st.integers(0, 9)) == 0:  # a row of another width now and then
            cells = cells[: draw(st.integers(0, width))] + draw(st.lists(st.just("x"), max_size=1))
        rows.append(cells)
    return columns, width, rows


@BOUNDED
@given(chunks(), st.booleans(), st.booleans())
def test_a_chunk_validated_by_columns_is_every_row_validated_alone(chunk, with_header, worksheet):
    columns, width, rows = chunk
    validator = RowValidator(columns, width if with_header else None, worksheet)
    data, failed = validator.validate_rows(rows)
    by_row = [validator.validate(cells) for cells in rows]
    # repr: the values' types and the fields' order count too (Decimal("1.0") == Decimal("1")).
    assert repr(data) == repr([values for values, _ in by_row])
    assert repr(sorted(failed.items())) == repr([(i, failures) for i, (_, failures) in enumerate(by_row) if failures])


def test_whole_columns_of_valid_cells_give_the_values_each_cell_gives():
    validator = RowValidator(list(enumerate(FIELDS)), len(FIELDS))
    rows = [[TEXTS[spec.key][i] for spec in FIELDS] for i in range(2)]
    data, failed = validator.validate_rows(rows)
    assert failed == {}
    assert repr(data) == repr([validator.validate(cells)[0] for cells in rows])


def test_one_cell_at_or_past_the_edge_in_a_column_of_valid_cells_is_taken_as_alone():
    validator = RowValidator(list(enumerate(FIELDS)), len(FIELDS))
    valid = [TEXTS[spec.key][0] for spec in FIELDS]
    for position, spec in enumerate(FIELDS):
        for text in TEXTS[spec.key] + BLANKS:
            rows = [valid, [*valid[:position], text, *valid[position + 1 :]], valid]
            data, failed = validator.validate_rows(rows)
            by_row = [validator.validate(cells) for cells in rows]
            assert repr(data) == repr([values for values, _ in by_row]), (spec.key, text)
            assert repr(failed) == repr({1: by_row[1][1]} if by_row[1][1] else {}), (spec.key, text)


# Addresses at the edges of _ADDRESS's rule: labels of 0 to 65 characters, hyphens at either end,
# an "@" or none or two, other characters now and then.
_LABEL_TEXT = st.one_of(
    st.text(st.sampled_from("aZ9-"), max_size=5),
    st.sampled_from(["-a", "a-", "-", "a-b", "9"]),
    st.integers(61, 65).map(lambda n: "a" * n),
)
_ADDRESS_LIKE = st.builds(
    lambda local, at, labels: local + at + ".".join(labels),
    st.one_of(st.text(st.sampled_from("a.+-"), min_size=1, max_size=3), st.text(st.sampled_from("a@é\n"), max_size=3)),
    st.sampled_from(["@", "@", "@", "", "@@"]),
    st.lists(_LABEL_TEXT, min_size=1, max_size=3),
)


@BOUNDED
@given(st.lists(st.one_of(_ADDRESS_LIKE, st.sampled_from(TEXTS["email"])), min_size=1, max_size=4))
def test_the_email_column_pattern_matches_exactly_the_lines_of_addresses(texts):
    """_EMAIL_LINES, written for speed, says what _ADDRESS says of every line of a column."""
    joined = "\n".join(texts)
    reference = re.compile(f"(?:{validation._ADDRESS}\n)*{validation._ADDRESS}")
    assert bool(validation._EMAIL_LINES.fullmatch(joined)) == bool(reference.fullmatch(joined))
