"""Small adapters over DynamoDB: the control table (tables, recipes, imports, chunk markers, keys)
and the records table."""

from __future__ import annotations

import base64
import json
import random
import time
from decimal import Decimal
from itertools import islice
from typing import Any, Iterable, Iterator

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from bulkimport.adapters.aws import client
from bulkimport.errors import AppError
from bulkimport.config import settings
from bulkimport.adapters import keys

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
    hold, are encoded inline: this runs for every field of every record an import writes."""
    out = {}
    for key, value in data.items():
        if type(value) is str:
            out[key] = {"S": value}
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


def is_conditional_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def encode_cursor(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, expected_pk: str | None = None) -> Any:
    """Decode a cursor, refusing any that does not belong to the partition being listed."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise AppError("INVALID_CURSOR", 400) from None
    if expected_pk is not None and (not isinstance(value, dict) or value.get("pk", {}).get("S") != expected_pk):
        raise AppError("INVALID_CURSOR", 400)
    return value


class ControlStore:
    """Control items, all under a tenant's partition or an import's chunk partition."""

    def __init__(self, table_name: str | None = None):
        self.table_name = table_name or settings().control_table
        self.ddb = client("dynamodb")

    def get(self, pk: str, sk: str, consistent: bool = True) -> dict | None:
        response = self.ddb.get_item(
            TableName=self.table_name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def put(self, item: dict, if_absent: bool = False, condition: str | None = None,
            condition_values: dict[str, Any] | None = None) -> bool:
        """Write an item; with if_absent, only when no item has its key; with a condition, only when
        it holds. Returns False when the condition fails."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": to_item(item)}
        if if_absent:
            condition = "attribute_not_exists(pk)" + (f" OR ({condition})" if condition else "")
        return self._conditional(self.ddb.put_item, kwargs, condition, condition_values)

    def delete(self, pk: str, sk: str, condition: str | None = None, condition_values: dict[str, Any] | None = None) -> bool:
        """Delete an item (only when the condition holds, if one is given: returns False otherwise)."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Key": to_item({"pk": pk, "sk": sk})}
        return self._conditional(self.ddb.delete_item, kwargs, condition, condition_values)

    @staticmethod
    def _conditional(call, kwargs: dict, condition: str | None, condition_values: dict[str, Any] | None) -> bool:
        if condition:
            kwargs["ConditionExpression"] = condition
            if condition_values:
                kwargs["ExpressionAttributeValues"] = to_item(condition_values)
        try:
            call(**kwargs)
        except ClientError as error:
            if condition and is_conditional_failure(error):
                return False
            raise
        return True

    def update(
        self,
        pk: str,
        sk: str,
        set_values: dict[str, Any] | None = None,
        add_values: dict[str, int] | None = None,
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
        condition_names: dict[str, str] | None = None,
        when_status: tuple[str, ...] | None = None,
    ) -> dict | None:
        """SET and ADD attributes; returns the new item, or None when the condition fails."""
        request = self.update_request(pk, sk, set_values, add_values, condition, condition_values, condition_names, when_status)
        try:
            response = self.ddb.update_item(**request, ReturnValues="ALL_NEW")
        except ClientError as error:
            if condition and is_conditional_failure(error):
                return None
            raise
        return from_item(response["Attributes"])

    def update_request(
        self,
        pk: str,
        sk: str,
        set_values: dict[str, Any] | None = None,
        add_values: dict[str, int] | None = None,
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
        condition_names: dict[str, str] | None = None,
        when_status: tuple[str, ...] | None = None,
    ) -> dict:
        """An UpdateItem request; `when_status` makes it apply only while the item's status is one of those."""
        names: dict[str, str] = dict(condition_names or {})
        if when_status:
            placeholders = [f":status{i}" for i in range(len(when_status))]
            condition = f"#status IN ({', '.join(placeholders)})"
            condition_values = {**(condition_values or {}), **dict(zip(placeholders, when_status))}
            names["#status"] = "status"
        values: dict[str, Any] = {}
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
        if condition:
            request["ConditionExpression"] = condition
            for name, value in (condition_values or {}).items():
                values[name] = to_attr(value)
        if values:
            request["ExpressionAttributeValues"] = values
        return request

    def transact(self, actions: list[dict]) -> bool:
        """Run TransactWriteItems; False when a condition in it fails."""
        try:
            self.ddb.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def query(
        self,
        pk: str,
        prefix: str,
        limit: int = 100,
        cursor: str | None = None,
        newest_first: bool = False,
    ) -> tuple[list[dict], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": prefix}),
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        start = decode_cursor(cursor, expected_pk=pk)
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = self.ddb.query(**kwargs)
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
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": pk, ":prefix": prefix}),
            "Select": "COUNT",
        }
        while True:
            response = self.ddb.query(**kwargs)
            total += response["Count"]
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class RecordStore:
    """Records of every tenant's tables, spread over RECORD_SHARDS partitions per table."""

    BATCH = 25  # BatchWriteItem's limit

    def __init__(self, table_name: str | None = None):
        self.table_name = table_name or settings().records_table
        self.ddb = client("dynamodb")
        self._shard_pks: dict[tuple[str, str], list[dict]] = {}

    def encoded_items(self, tenant: str, table: str, records: Iterable[tuple[str, dict[str, Any], dict]]) -> Iterator[dict]:
        """The DynamoDB item of each (record id, data, meta as an attribute value: a chunk's records
        share one), one at a time: its id as sort key, its field values, and its metadata.

        Few top-level attributes on purpose: item size (what DynamoDB bills) is the same either way,
        and the local stack's moto recomputes an item's size for every top-level attribute it sets.
        This loop runs for every record an import writes: locals only."""
        shard_pks = self._shard_pks.get((tenant, table))
        if shard_pks is None:  # a table's records have RECORD_SHARDS partition keys: encode each once
            shard_pks = [{"S": keys.record_pk(tenant, table, shard)} for shard in range(keys.RECORD_SHARDS)]
            self._shard_pks[(tenant, table)] = shard_pks
        shard = keys.record_shard
        for record_id, data, meta_attr in records:
            yield {"pk": shard_pks[shard(record_id)], "sk": {"S": record_id}, "data": {"M": to_item(data)}, "meta": meta_attr}

    def write_items(self, items: Iterable[dict]) -> None:
        """BatchWriteItem in 25s, retrying unprocessed items with jittered backoff until all are in.
        Items are taken from `items` 25 at a time, so a generator keeps only a batch in memory."""
        items = iter(items)
        while batch := list(islice(items, self.BATCH)):
            pending = [{"PutRequest": {"Item": item}} for item in batch]
            attempt = 0
            while pending:
                response = self.ddb.batch_write_item(RequestItems={self.table_name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if pending:
                    attempt += 1
                    time.sleep(min(2.0, 0.05 * 2**attempt) * random.random())

    # ------------------------------------------------------------ unique-key index items
    def claim(self, index_pk: str, record_id: str, owner: str) -> bool:
        """Take a unique key for a record; True if it is now (or already was) that record's."""
        return self._put_index(index_pk, record_id, owner, "attribute_not_exists(pk) OR record_id = :rid", record_id)

    def take_over(self, index_pk: str, old_record_id: str, record_id: str, owner: str) -> bool:
        """Move a key from a record that was never written to another, if nobody moved it first."""
        return self._put_index(index_pk, record_id, owner, "record_id = :rid", old_record_id)

    def _put_index(self, index_pk: str, record_id: str, owner: str, condition: str, expected_record_id: str) -> bool:
        try:
            self.ddb.put_item(
                TableName=self.table_name,
                Item=to_item({"pk": index_pk, "sk": "U", "record_id": record_id, "owner": owner}),
                ConditionExpression=condition,
                ExpressionAttributeValues={":rid": {"S": expected_record_id}},
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def holder(self, index_pk: str) -> dict | None:
        response = self.ddb.get_item(TableName=self.table_name, Key=to_item({"pk": index_pk, "sk": "U"}), ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def exists(self, index_pk: str, record_id: str) -> bool:
        """Whether the record a key points to exists (the key names the record's table)."""
        tenant, table = index_pk.split("#")[:2]
        return self.get(tenant, table, record_id) is not None

    def release(self, index_pk: str, record_id: str) -> None:
        """Give a unique key back, only if that record still holds it."""
        try:
            self.ddb.delete_item(
                TableName=self.table_name,
                Key=to_item({"pk": index_pk, "sk": "U"}),
                ConditionExpression="record_id = :rid",
                ExpressionAttributeValues={":rid": {"S": record_id}},
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise

    def holders(self, index_pks: list[str]) -> dict[str, str]:
        """{index pk: record id} for the keys that are taken (BatchGetItem, 100 at a time)."""
        found: dict[str, str] = {}
        unique_pks = list(dict.fromkeys(index_pks))
        for start in range(0, len(unique_pks), 100):
            pending = {self.table_name: {"Keys": [to_item({"pk": pk, "sk": "U"}) for pk in unique_pks[start : start + 100]],
                                         "ConsistentRead": True}}
            attempt = 0
            while pending:
                response = self.ddb.batch_get_item(RequestItems=pending)
                for item in response["Responses"].get(self.table_name, []):
                    found[item["pk"]["S"]] = item["record_id"]["S"]
                pending = response.get("UnprocessedKeys") or {}
                if pending:
                    attempt += 1
                    time.sleep(min(2.0, 0.05 * 2**attempt) * random.random())
        return found

    def update_data(self, tenant: str, table: str, record_id: str, data: dict[str, Any], meta: dict[str, Any]) -> bool:
        """Set some fields of an existing record (a None value removes the field); False if the
        record does not exist."""
        pk = keys.record_pk(tenant, table, keys.record_shard(record_id))
        names: dict[str, str] = {"#d": "data", "#m": "meta"}
        values: dict[str, Any] = {}
        parts, removed = [], []
        for i, (name, value) in enumerate(data.items()):
            names[f"#f{i}"] = name
            if value is None:
                removed.append(f"#d.#f{i}")
                continue
            values[f":f{i}"] = to_attr(value)
            parts.append(f"#d.#f{i} = :f{i}")
        for i, (name, value) in enumerate(meta.items()):
            names[f"#g{i}"] = name
            values[f":g{i}"] = to_attr(value)
            parts.append(f"#m.#g{i} = :g{i}")
        try:
            self.ddb.update_item(
                TableName=self.table_name,
                Key=to_item({"pk": pk, "sk": record_id}),
                UpdateExpression="SET " + ", ".join(parts) + (" REMOVE " + ", ".join(removed) if removed else ""),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def put_new(self, item: dict) -> bool:
        """Write a record item unless one with its key exists; True if this call created it."""
        try:
            self.ddb.put_item(TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(sk)")
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def delete(self, tenant: str, table: str, record_id: str) -> None:
        """Delete a record (deleting a missing one is a no-op). Its unique keys are the caller's to give back."""
        key = {"pk": keys.record_pk(tenant, table, keys.record_shard(record_id)), "sk": record_id}
        self.ddb.delete_item(TableName=self.table_name, Key=to_item(key))

    def get_many(self, tenant: str, table: str, record_ids: list[str]) -> dict[str, dict]:
        """{id: record item} of the records that exist (BatchGetItem, 100 at a time)."""
        found: dict[str, dict] = {}
        unique_ids = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique_ids), 100):
            wanted = [to_item({"pk": keys.record_pk(tenant, table, keys.record_shard(i)), "sk": i})
                      for i in unique_ids[start : start + 100]]
            pending = {self.table_name: {"Keys": wanted, "ConsistentRead": True}}
            attempt = 0
            while pending:
                response = self.ddb.batch_get_item(RequestItems=pending)
                for item in response["Responses"].get(self.table_name, []):
                    found[item["sk"]["S"]] = from_item(item)
                pending = response.get("UnprocessedKeys") or {}
                if pending:
                    attempt += 1
                    time.sleep(min(2.0, 0.05 * 2**attempt) * random.random())
        return found

    def get(self, tenant: str, table: str, record_id: str) -> dict | None:
        pk = keys.record_pk(tenant, table, keys.record_shard(record_id))
        response = self.ddb.get_item(TableName=self.table_name, Key=to_item({"pk": pk, "sk": record_id}))
        item = response.get("Item")
        return from_item(item) if item else None

    def list(
        self,
        tenant: str,
        table: str,
        limit: int,
        cursor: str | None,
        filters: dict[str, Any],
        attributes: tuple[str, ...] | None = None,
    ) -> tuple[list[dict], str | None]:
        """One page of a table's records, walking its shards in order; filters match top-level values.
        `attributes` (paths like "sk", "data", "meta.parent_id") limits what is read back."""
        state = decode_cursor(cursor) or {"shard": 0}
        if not isinstance(state, dict) or not isinstance(state.get("shard"), int):
            raise AppError("INVALID_CURSOR", 400)
        shard, start = state["shard"], state.get("start")
        names, values, conditions = self._filter(filters)
        projection = {}
        if attributes:
            paths = []
            for i, path in enumerate(attributes):
                parts = path.split(".")
                names.update({f"#a{i}_{j}": part for j, part in enumerate(parts)})
                paths.append(".".join(f"#a{i}_{j}" for j in range(len(parts))))
            projection = {"ProjectionExpression": ", ".join(paths)}
        found: list[dict] = []
        while shard < keys.RECORD_SHARDS and len(found) < limit:
            pk = keys.record_pk(tenant, table, shard)
            if start is not None and start.get("pk", {}).get("S") != pk:
                raise AppError("INVALID_CURSOR", 400)
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": to_item({":pk": pk, **values}),
                "Limit": limit - len(found),
            }
            if conditions:
                kwargs["FilterExpression"] = " AND ".join(conditions)
            if names:
                kwargs["ExpressionAttributeNames"] = names
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = self.ddb.query(**kwargs, **projection)
            found.extend(from_item(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if start is None:
                shard += 1
        if shard >= keys.RECORD_SHARDS:
            return found, None
        return found, encode_cursor({"shard": shard, "start": start})

    def all_matching(self, tenant: str, table: str, filters: dict[str, Any], attributes: tuple[str, ...] | None = None,
                     page: int = 1000) -> Iterator[dict]:
        """Every record of a table that the filters match, a page at a time (memory: one page)."""
        cursor = None
        while True:
            items, cursor = self.list(tenant, table, page, cursor, filters, attributes)
            yield from items
            if not cursor:
                return

    def count_matching(self, tenant: str, table: str, filters: dict[str, Any]) -> int:
        """How many records of a table the filters match (the items are read, not returned)."""
        names, values, conditions = self._filter(filters)
        total = 0
        for shard in range(keys.RECORD_SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": to_item({":pk": keys.record_pk(tenant, table, shard), **values}),
                "Select": "COUNT",
            }
            if conditions:
                kwargs.update(FilterExpression=" AND ".join(conditions), ExpressionAttributeNames=names)
            while True:
                response = self.ddb.query(**kwargs)
                total += response["Count"]
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return total

    @staticmethod
    def _filter(filters: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any], list[str]]:
        """(names, values, conditions) of equality filters on data fields (and meta.parent_id)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        conditions = []
        for i, (name, value) in enumerate(filters.items()):
            if name == "parent_id":
                path = "#m.#p"
                names.update({"#m": "meta", "#p": "parent_id"})
            else:
                path = f"#d.#f{i}"
                names.update({"#d": "data", f"#f{i}": name})
            values[f":f{i}"] = value
            conditions.append(f"{path} = :f{i}")
        return names, values, conditions
