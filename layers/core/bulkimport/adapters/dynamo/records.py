"""The records table: every tenant's records, spread over RECORD_SHARDS partitions per table."""

from __future__ import annotations

import builtins
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from bulkimport.adapters import keys
from bulkimport.adapters.aws import client
from bulkimport.adapters.dynamo.codec import (
    MAP_SOURCE_NAMES,
    MapShape,
    from_item,
    map_source,
    shape_of,
    to_attr,
    to_item,
)
from bulkimport.adapters.dynamo.conditions import is_conditional_failure
from bulkimport.adapters.dynamo.cursors import decode_cursor, encode_cursor, invalid_cursor, is_count, is_start_key
from bulkimport.adapters.retry import until_all_processed
from bulkimport.config import Tables, section


class RecordStore:
    BATCH = 25  # BatchWriteItem's limit

    def __init__(self, table_name: str | None = None):
        self.table_name = table_name or section(Tables).records_table
        self.ddb = client("dynamodb")
        self._shard_pks: dict[tuple[str, str], list[dict]] = {}

    def encoded_items(
        self, tenant: str, table: str, ids: Sequence[str], datas: Sequence[dict[str, Any]], metas: Iterable[dict]
    ) -> Iterator[dict]:
        """The DynamoDB item of each record (its id, its data, and its meta as an attribute value: a
        chunk's records share one), one at a time: its id as sort key, its field values, and its metadata.

        Few top-level attributes on purpose: item size (what DynamoDB bills) is the same either way,
        and the local stack's moto recomputes an item's size for every top-level attribute it sets.
        This runs for every record an import writes: see record_items."""
        shard_pks = self._shard_pks.get((tenant, table))
        if shard_pks is None:  # a table's records have RECORD_SHARDS partition keys: encode each once
            shard_pks = [{"S": keys.record_pk(tenant, table, shard)} for shard in range(keys.RECORD_SHARDS)]
            self._shard_pks[(tenant, table)] = shard_pks
        return record_items(shard_pks, ids, datas, metas)

    def write_items(self, items: Iterable[dict]) -> None:
        """BatchWriteItem in 25s until every item is in. Items are taken from `items` 25 at a time,
        so a generator keeps only a batch in memory."""
        items = iter(items)

        def send(pending: list[dict]) -> list[dict]:
            response = self.ddb.batch_write_item(RequestItems={self.table_name: pending})
            return response.get("UnprocessedItems", {}).get(self.table_name, [])

        while batch := list(islice(items, self.BATCH)):
            until_all_processed(send, [{"PutRequest": {"Item": item}} for item in batch])

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

    def put_new(self, item: dict) -> dict | None:
        """Write a record item (DynamoDB JSON) unless one with its key exists: None if this call
        created it, else the record that is there, as the refusal returns it (no read: the failed
        put bills the same write unit either way)."""
        try:
            self.ddb.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(sk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return from_item(error.response.get("Item") or {})
            raise
        return None

    def put_back(self, item: dict) -> None:
        """Write a record item exactly as it was read (DynamoDB's JSON, keys included): a revert
        putting a record's before-image back."""
        self.ddb.put_item(TableName=self.table_name, Item=item)

    def delete(self, tenant: str, table: str, record_id: str) -> None:
        """Delete a record (deleting a missing one is a no-op). Its unique keys are the caller's to give back."""
        key = {"pk": keys.record_pk(tenant, table, keys.record_shard(record_id)), "sk": record_id}
        self.ddb.delete_item(TableName=self.table_name, Key=to_item(key))

    def get_many(self, tenant: str, table: str, record_ids: list[str]) -> dict[str, dict]:
        """{id: record item} of the records that exist (BatchGetItem, 100 at a time)."""
        found: dict[str, dict] = {}

        def send(pending: dict) -> dict:
            response = self.ddb.batch_get_item(RequestItems=pending)
            for item in response["Responses"].get(self.table_name, []):
                found[item["sk"]["S"]] = from_item(item)
            return response.get("UnprocessedKeys") or {}

        unique_ids = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique_ids), 100):
            wanted = [
                to_item({"pk": keys.record_pk(tenant, table, keys.record_shard(i)), "sk": i})
                for i in unique_ids[start : start + 100]
            ]
            until_all_processed(send, {self.table_name: {"Keys": wanted, "ConsistentRead": True}})
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
        shard, start = self._position(tenant, table, cursor)
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
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": to_item({":pk": pk, **values}),
                "Limit": limit - len(found),
            }
            if conditions:
                request["FilterExpression"] = " AND ".join(conditions)
            if names:
                request["ExpressionAttributeNames"] = names
            if start:
                request["ExclusiveStartKey"] = start
            response = self.ddb.query(**request, **projection)
            found.extend(from_item(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if start is None:
                shard += 1
        if shard >= keys.RECORD_SHARDS:
            return found, None
        return found, encode_cursor({"shard": shard, "start": start})

    @staticmethod
    def _position(tenant: str, table: str, cursor: str | None) -> tuple[int, dict | None]:
        """Where a listing goes on: a shard of the table and where its query stopped (checked in full:
        the shard in range, the start key in that shard's partition)."""
        state = decode_cursor(cursor)
        if state is None:
            return 0, None
        if not isinstance(state, dict) or set(state) != {"shard", "start"}:
            raise invalid_cursor()
        shard, start = state["shard"], state["start"]
        if not is_count(shard, below=keys.RECORD_SHARDS):
            raise invalid_cursor()
        if start is not None and not is_start_key(start, keys.record_pk(tenant, table, shard)):
            raise invalid_cursor()
        return shard, start

    def all_matching(
        self,
        tenant: str,
        table: str,
        filters: dict[str, Any],
        attributes: tuple[str, ...] | None = None,
        page: int = 1000,
    ) -> Iterator[dict]:
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
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": to_item({":pk": keys.record_pk(tenant, table, shard), **values}),
                "Select": "COUNT",
            }
            if conditions:
                request.update(FilterExpression=" AND ".join(conditions), ExpressionAttributeNames=names)
            while True:
                response = self.ddb.query(**request)
                total += response["Count"]
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return total

    # builtins.list: in this class's body `list` names the method above.
    @staticmethod
    def _filter(filters: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any], builtins.list[str]]:
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


def record_items(
    shard_pks: list[dict], ids: Sequence[str], datas: Sequence[dict[str, Any]], metas: Iterable[dict]
) -> Iterator[dict]:
    """record_item() of each record (RecordStore.encoded_items), built by a function generated for the
    shape of the first record's data, one call per record."""
    if not datas:
        return iter(())
    return map(_item_builder(shape_of(datas[0]))(shard_pks), ids, datas, metas)


def record_item(shard_pks: list[dict], record_id: str, data: dict[str, Any], meta_attr: dict) -> dict:
    """A record's item (RecordStore.encoded_items), for any record: what every generated builder
    gives, and what it falls back to for data of another shape."""
    return {
        "pk": shard_pks[keys.record_shard(record_id)],
        "sk": {"S": record_id},
        "data": {"M": to_item(data)},
        "meta": meta_attr,
    }


@lru_cache(maxsize=64)
def _item_builder(shape: MapShape) -> Callable[[list[dict]], Callable[[str, dict[str, Any], dict], dict]]:
    """A factory of functions of (record id, data, meta attribute) that build record_item() for data of
    `shape` inline (codec.map_source), and call record_item for other data. Generated once per shape
    (a chunk's parts share one): compiling takes a fraction of a millisecond."""
    source = map_source(shape, "data")
    if source is None:
        return lambda shard_pks: lambda record_id, data, meta: record_item(shard_pks, record_id, data, meta)
    # The shard is keys.record_shard(record_id), inline: no function call per record (bench/cpu_path.py).
    code = f"""
def factory(shard_pks):
    def build(record_id, data, meta):
        try:
            {source.reads}
        except KeyError:
            return record_item(shard_pks, record_id, data, meta)
        if {source.fits}:
            return {{
                "pk": shard_pks[crc32(record_id.encode()) % {keys.RECORD_SHARDS}],
                "sk": {{"S": record_id}},
                "data": {{"M": {source.attrs}}},
                "meta": meta,
            }}
        return record_item(shard_pks, record_id, data, meta)
    return build
"""
    namespace: dict[str, Any] = {**MAP_SOURCE_NAMES, "record_item": record_item, "crc32": zlib.crc32}
    exec(code, namespace)
    return namespace["factory"]
