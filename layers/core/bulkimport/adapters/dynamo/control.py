"""The control table: every item but records (tables, recipes, imports, jobs, chunk markers, API
keys, table queues, rate counters), each under a tenant's partition or a run's own partition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from bulkimport.adapters.aws import client
from bulkimport.adapters.dynamo.codec import from_item, to_attr, to_item
from bulkimport.adapters.dynamo.conditions import Attr, Condition, is_conditional_failure, item_absent, with_condition
from bulkimport.adapters.dynamo.cursors import decode_start_key, encode_cursor
from bulkimport.config import Tables, section


class ControlStore:
    def __init__(self, table_name: str | None = None):
        self.table_name = table_name or section(Tables).control_table
        self.ddb = client("dynamodb")

    def get(self, pk: str, sk: str, consistent: bool = True) -> dict | None:
        response = self.ddb.get_item(
            TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def put(self, item: dict, if_absent: bool = False, condition: Condition | None = None) -> bool:
        """Write an item; with if_absent, only when no item has its key (or `condition` holds on the
        one there); with a condition alone, only when it holds. False when the condition fails."""
        if if_absent:
            condition = item_absent() | condition if condition is not None else item_absent()
        return self._conditional(self.ddb.put_item, {"TableName": self.table_name, "Item": to_item(item)}, condition)

    def delete(self, pk: str, sk: str, condition: Condition | None = None) -> bool:
        """Delete an item (only when the condition holds, if one is given: False otherwise)."""
        return self._conditional(
            self.ddb.delete_item, {"TableName": self.table_name, "Key": to_item({"pk": pk, "sk": sk})}, condition
        )

    @staticmethod
    def _conditional(call, request: dict, condition: Condition | None) -> bool:
        try:
            call(**with_condition(request, condition))
        except ClientError as error:
            if condition is not None and is_conditional_failure(error):
                return False
            raise
        return True

    def update(
        self,
        pk: str,
        sk: str,
        set_values: dict[str, Any] | None = None,
        add_values: dict[str, Any] | None = None,
        condition: Condition | None = None,
        when_status: Iterable[str] | None = None,
        new_item: bool = True,
    ) -> dict | None:
        """SET (None: REMOVE) and ADD attributes; returns the new item (without `new_item`: an empty
        dict, and the item is not sent back), or None when the condition fails. `when_status` applies
        it only while the item's status is one of those."""
        request = self.update_request(pk, sk, set_values, add_values, condition, when_status)
        try:
            response = self.ddb.update_item(**request, ReturnValues="ALL_NEW" if new_item else "NONE")
        except ClientError as error:
            if "ConditionExpression" in request and is_conditional_failure(error):
                return None
            raise
        return from_item(response["Attributes"]) if new_item else {}

    def update_request(
        self,
        pk: str,
        sk: str,
        set_values: dict[str, Any] | None = None,
        add_values: dict[str, Any] | None = None,
        condition: Condition | None = None,
        when_status: Iterable[str] | None = None,
    ) -> dict:
        """An UpdateItem request (also what a transaction's Update action holds)."""
        if when_status is not None:
            status = Attr("status").is_in(list(when_status))
            condition = status if condition is None else status & condition
        names: dict[str, str] = {}
        values: dict[str, dict] = {}
        clauses = []
        set_parts = []
        remove_parts = []
        for i, (name, value) in enumerate((set_values or {}).items()):
            names[f"#s{i}"] = name
            if value is None:
                remove_parts.append(f"#s{i}")
            else:
                values[f":s{i}"] = to_attr(value)
                set_parts.append(f"#s{i} = :s{i}")
        if set_parts:
            clauses.append("SET " + ", ".join(set_parts))
        if remove_parts:
            clauses.append("REMOVE " + ", ".join(remove_parts))
        add_parts = []
        for i, (name, value) in enumerate((add_values or {}).items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = to_attr(value)
            add_parts.append(f"#a{i} :a{i}")
        if add_parts:
            clauses.append("ADD " + ", ".join(add_parts))
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_item({"pk": pk, "sk": sk}),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        return with_condition(request, condition)

    def delete_request(self, pk: str, sk: str, condition: Condition | None = None) -> dict:
        """A transaction's Delete action (for `transact`)."""
        return with_condition({"TableName": self.table_name, "Key": to_item({"pk": pk, "sk": sk})}, condition)

    def transact(self, updates: list[dict], deletes: Iterable[dict] = ()) -> bool:
        """Apply UpdateItem requests (from update_request), and deletes (from delete_request), all or
        none; False when a condition fails."""
        actions = [{"Update": update} for update in updates] + [{"Delete": delete} for delete in deletes]
        try:
            self.ddb.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def query(
        self, pk: str, prefix: str, limit: int = 100, cursor: str | None = None, newest_first: bool = False
    ) -> tuple[list[dict], str | None]:
        """One page of the items of a partition whose sort key starts with `prefix`."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": prefix}),
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        start = decode_start_key(cursor, pk, prefix)  # checked in full before DynamoDB sees it
        if start:
            request["ExclusiveStartKey"] = start
        response = self.ddb.query(**request)
        return [from_item(i) for i in response.get("Items", [])], encode_cursor(response.get("LastEvaluatedKey"))

    def query_all(self, pk: str, prefix: str, newest_first: bool = False) -> Iterable[dict]:
        cursor = None
        while True:
            items, cursor = self.query(pk, prefix, limit=1000, cursor=cursor, newest_first=newest_first)
            yield from items
            if not cursor:
                return

    def count(self, pk: str, prefix: str) -> int:
        total = 0
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": prefix}),
            "Select": "COUNT",
        }
        while True:
            response = self.ddb.query(**request)
            total += response["Count"]
            if "LastEvaluatedKey" not in response:
                return total
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
