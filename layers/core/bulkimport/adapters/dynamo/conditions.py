"""Conditions on items, stated by domain code as boto3's condition objects (`Attr("status").is_in(...)`)
and turned into DynamoDB expressions here: no expression strings outside the adapters."""

from __future__ import annotations

from typing import Any, TypeAlias

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder
from botocore.exceptions import ClientError

from bulkimport.adapters.dynamo.codec import to_attr

__all__ = ["Attr", "Condition", "build", "is_conditional_failure", "item_absent", "item_exists"]

Condition: TypeAlias = ConditionBase


def item_exists() -> Condition:
    return Attr("pk").exists()


def item_absent() -> Condition:
    return Attr("pk").not_exists()


def build(condition: Condition, names: dict[str, str], values: dict[str, dict]) -> str:
    """The condition's expression; its name and value placeholders are added to `names` and `values`
    (its placeholders, #n0 and :v0 on, never clash with the update expressions' #s0, :a0...)."""
    built = ConditionExpressionBuilder().build_expression(condition)
    names.update(built.attribute_name_placeholders)
    values.update({name: to_attr(value) for name, value in built.attribute_value_placeholders.items()})
    return built.condition_expression


def is_conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def with_condition(request: dict[str, Any], condition: Condition | None) -> dict[str, Any]:
    """`request` with ConditionExpression and its placeholders merged in."""
    if condition is None:
        return request
    names = dict(request.get("ExpressionAttributeNames") or {})
    values = dict(request.get("ExpressionAttributeValues") or {})
    request["ConditionExpression"] = build(condition, names, values)
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    return request
