"""DynamoDB attribute values to and from Python values."""

from __future__ import annotations

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
