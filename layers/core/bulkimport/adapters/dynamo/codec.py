"""DynamoDB attribute values to and from Python values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attr(value: Any) -> dict:
    """A DynamoDB attribute value. Written out by hand for the types we store: boto3's TypeSerializer
    is the slowest step of a chunk worker's hot path."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": to_item(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is int or kind is Decimal:
        return {"N": str(value)}
    if kind is float:
        return {"N": repr(value)}
    if kind is list:
        return {"L": [to_attr(v) for v in value]}
    if value is None:
        return {"NULL": True}
    return _serializer.serialize(_to_dynamo_value(value))


def to_item(data: dict[str, Any]) -> dict[str, dict]:
    """Attribute values of a map's entries (None values are left out). Strings, most of what rows
    hold, and numbers are encoded inline: this runs for every field of every record an import writes."""
    out = {}
    for key, value in data.items():
        if type(value) is str:
            out[key] = {"S": value}
        elif type(value) is Decimal:
            out[key] = {"N": str(value)}
        elif value is not None:
            out[key] = to_attr(value)
    return out


# The attribute value of a value of each of these exact types, as to_item encodes it, as a Python
# expression of the value's name (see map_source); a value of another type goes through to_attr.
_INLINE_ATTRS = {
    str: "{{'S': {v}}}",
    Decimal: "{{'N': str({v})}}",
    int: "{{'N': str({v})}}",
    bool: "{{'BOOL': {v}}}",
}
# What source from map_source needs in the namespace it runs in.
MAP_SOURCE_NAMES = {"Decimal": Decimal, "to_attr": to_attr}

MapShape = tuple[tuple[str, type], ...]  # a map's keys, in order, each with its value's type


def shape_of(data: dict[str, Any]) -> MapShape:
    return tuple((key, type(value)) for key, value in data.items())


@dataclass(frozen=True)
class MapSource:
    """Python source that encodes a map of one shape as to_item does, with no loop, no call and no type
    dispatch per value: a chunk's records mostly share one shape, and this runs for every field of every
    record an import writes. For code generated with exec (RecordStore's item builders), which runs
    `reads`, checks `fits`, and encodes any map that does not fit with to_item."""

    reads: str  # statements setting v0, v1, ... to the map's values (KeyError if a key is missing)
    fits: str  # an expression: whether the map has no other key and each value is of its type
    attrs: str  # an expression: the attribute values of a map that fits (a dict display)


def map_source(shape: MapShape, name: str) -> MapSource | None:
    """The MapSource of maps of `shape`, read from the variable `name`; None for a key that is not a
    string (keys go in as repr() literals)."""
    if not all(type(key) is str for key, _ in shape):
        return None
    reads, checks, attrs = [], [f"len({name}) == {len(shape)}"], []
    for i, (key, kind) in enumerate(shape):
        reads.append(f"v{i} = {name}[{key!r}]")
        template = _INLINE_ATTRS.get(kind)
        if template is None:
            checks.append(f"v{i} is not None")  # to_item leaves None out; any other value: to_attr
            attrs.append(f"{key!r}: to_attr(v{i})")
        else:
            checks.append(f"type(v{i}) is {kind.__name__}")
            attrs.append(f"{key!r}: " + template.format(v=f"v{i}"))
    return MapSource("; ".join(reads) or "pass", " and ".join(checks), "{" + ", ".join(attrs) + "}")


def from_item(item: dict[str, dict]) -> dict[str, Any]:
    return {k: _from_dynamo_value(_deserializer.deserialize(v)) for k, v in item.items()}


def _to_dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "E" not in str(value) else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo_value(v) for v in value]
    return value
