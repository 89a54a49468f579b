"""A chunk's record items are built by a function generated for the shape of its first record's data
(adapters/dynamo/records._item_builder); every item must be exactly what the generic record_item
gives (to_item over the data, keys.record_shard for the partition), whatever the other records
hold: other keys, missing keys, other value types, None."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo.records import record_item, record_items

BOUNDED = settings(
    deadline=None, derandomize=True, database=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow]
)

KEYS = ["no", "name", "amount", "count", "ok", "day", "名稱", "it's"]
OF_TYPE = {
    str: st.text(max_size=4),
    Decimal: st.decimals(allow_nan=False, allow_infinity=False, places=2),
    int: st.integers(-(10**12), 10**12),
    bool: st.booleans(),
    type(None): st.none(),  # left out of the item
    float: st.floats(allow_nan=False, allow_infinity=False),
    list: st.lists(st.text(max_size=2), max_size=2),
    dict: st.dictionaries(st.sampled_from(KEYS), st.text(max_size=2), max_size=2),
}
VALUES = st.one_of(*OF_TYPE.values())


@st.composite
def records(draw):
    """Records mostly of one shape (as a chunk's are), some of another: a key left out or added, a
    value of another type."""
    shape = draw(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
    out = []
    for n in range(draw(st.integers(0, 8))):
        data = {key: draw(OF_TYPE[type(value)]) for key, value in shape.items()}
        data = draw(st.one_of(st.just(data), st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)))
        record_id = "01KAB3XYZ0123456789ABCDEF0" + str(draw(st.integers(0, 10**8))).zfill(8)
        out.append((record_id, data, {"M": {"n": {"N": str(n)}}}))
    return out


SHARD_PKS = [{"S": keys.record_pk("t", "tbl", shard)} for shard in range(keys.RECORD_SHARDS)]


@settings(BOUNDED)
@given(records=records())
def test_items_are_the_generic_record_items(records):
    expected = [record_item(SHARD_PKS, *record) for record in records]
    assert list(record_items(SHARD_PKS, *_columns(records))) == expected


def test_a_chunk_of_one_shape_is_built_inline():
    """Each type the builder encodes inline, and a record of the shape next to records of others."""
    data = {"s": "x", "d": Decimal("1.50"), "i": 7, "b": False, "f": 0.5, "l": ["a"], "m": {"k": "v"}}
    rows = [
        ("id1", data, {}),
        ("id2", {**data, "i": True}, {}),  # a bool where the shape has an int
        ("id3", {**data, "s": None}, {}),
        ("id4", {k: v for k, v in data.items() if k != "b"}, {}),
        ("id5", {**data, "extra": "y"}, {}),
    ]
    items = list(record_items(SHARD_PKS, *_columns(rows)))
    assert items[0]["data"]["M"] == {
        "s": {"S": "x"},
        "d": {"N": "1.50"},
        "i": {"N": "7"},
        "b": {"BOOL": False},
        "f": {"N": "0.5"},
        "l": {"L": [{"S": "a"}]},
        "m": {"M": {"k": {"S": "v"}}},
    }
    assert items[1]["data"]["M"]["i"] == {"BOOL": True}
    assert "s" not in items[2]["data"]["M"]
    assert "b" not in items[3]["data"]["M"] and items[4]["data"]["M"]["extra"] == {"S": "y"}
    assert [item["pk"] for item in items] == [SHARD_PKS[keys.record_shard(record_id)] for record_id, _, _ in rows]


def _columns(records: list[tuple]) -> tuple[list, list, list]:
    """The ids, the data and the meta of the records: encoded_items' arguments."""
    return tuple(map(list, zip(*records))) if records else ([], [], [])  # type: ignore[return-value]
