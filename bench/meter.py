"""Counting what a run on the local stack would be billed for on AWS: DynamoDB read and write units,
S3 requests, EventBridge events and, by operation, every AWS call; and the seconds moto spends on
each operation. For benchmarks: `count_billable(stack)` plugs a meter into the stack's AWS endpoint.

The meter sees each request the endpoint serves to moto, with the request body, the response
body and a look at the DynamoDB items a write replaces, so units follow AWS's rules:
- a write costs ceil(size / 1 KB) write units per item, the larger of the old and new item for
  UpdateItem and an overwriting PutItem, also when its condition fails; a transaction doubles it;
- a read costs ceil(size / 4 KB) read units per item (a Query: of all items it returns together),
  half of that when eventually consistent; a read that finds nothing still costs one unit (half).
Sizes follow "DynamoDB item sizes and formats" (names + values, 3 bytes a map or list, 1 byte an
element).
"""

from __future__ import annotations

import io
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from devstack.cfn import ACCOUNT, REGION
from devstack.stack import LocalStack

KB = 1024
PROGRESS_NOTE = "UpdateItem progress note"  # a unit's progress, noted while it runs (runs.counting)
INDEX_SK = {"S": "U"}  # the sort key of a unique-key index item (adapters.dynamo.unique_index)


def value_size(value: dict) -> int:
    """Bytes of one AttributeValue, without its name."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = Decimal(inner).as_tuple().digits
        significant = len("".join(map(str, digits)).strip("0")) or 1
        return (significant + 1) // 2 + 1
    if kind == "B":
        return math.ceil(len(inner) * 3 / 4)  # base64 on the wire; raw bytes count
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(math.ceil(len(b) * 3 / 4) for b in inner)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(*sizes: int) -> int:
    return max(1, math.ceil(max(sizes) / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return units if consistent else units / 2


def count_billable(stack: LocalStack) -> Meter:
    """Start counting the billable operations of a started stack (DynamoDB units by moto's own items)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    backend = dynamodb_backends[ACCOUNT][REGION]

    def key_names(table: str) -> list[str]:
        found = backend.get_table(table)
        return [found.hash_key_attr] + ([found.range_key_attr] if found.range_key_attr else [])

    def lookup(table: str, key: dict) -> dict | None:
        found = backend.get_table(table)
        range_key = DynamoType(key[found.range_key_attr]) if found.range_key_attr else None
        item = found.get_item(DynamoType(key[found.hash_key_attr]), range_key)
        return item.to_json()["Attributes"] if item else None

    meter = Meter(lookup, key_names)
    stack.aws.wrap_moto(meter.wsgi)
    return meter


class Meter:
    """Tallies of one run. `lookup(table, key)` returns an item's current AttributeValues (or None)
    and `key_names(table)` its key attributes; `wsgi` calls `before` and `after` around each
    DynamoDB request while the endpoint holds moto, so nothing changes the items in between."""

    def __init__(self, lookup: Callable[[str, dict], dict | None], key_names: Callable[[str], list[str]]):
        self.lookup = lookup
        self.key_names = key_names
        self._lock = threading.Lock()
        self.billing = True  # False: only the seconds inside moto are counted (a timed run)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter = Counter()  # "Service.Operation" -> calls
            self.write_units: Counter = Counter()  # table -> write units
            self.read_units: Counter = Counter()  # table -> read units
            self.items_written: Counter = Counter()  # table -> items put, updated or deleted
            # unique-key index items (sort key "U", adapters.dynamo.unique_index) among them
            self.index_items_written: Counter = Counter()
            self.index_write_units: Counter = Counter()
            # (table, what was written) -> write units: what each kind of item costs (item_kind)
            self.write_units_by_kind: Counter = Counter()
            self.s3: Counter = Counter()  # "PUT" class / "GET" class -> requests
            self.events = 0  # custom events put on buses
            self.busy: dict[str, float] = {}  # seconds spent inside moto, by operation

    def wsgi(self, moto_app):
        """moto's WSGI app, telling this meter what AWS would bill for each request it serves."""

        def metered(environ, start_response):
            if not self.billing:  # time inside moto only
                started = time.perf_counter()
                response = list(moto_app(environ, start_response))
                operation = environ.get("HTTP_X_AMZ_TARGET") or f"{environ.get('REQUEST_METHOD')} s3/other"
                self.busy[operation] = self.busy.get(operation, 0.0) + time.perf_counter() - started
                return response
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)  # read once here, again by moto
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            dynamodb = target.startswith("DynamoDB_20120810.")
            started = time.perf_counter()
            touched = self.before(target.split(".")[1], json.loads(body)) if dynamodb else None
            response = list(moto_app(environ, start_response))
            if dynamodb:
                self.after(target.split(".")[1], json.loads(body), json.loads(b"".join(response) or b"{}"), touched)
            operation = target or f"{environ.get('REQUEST_METHOD')} s3/other"
            self.busy[operation] = self.busy.get(operation, 0.0) + time.perf_counter() - started
            if target and not dynamodb:
                self.json_call(target, json.loads(body or b"{}"))
            elif not target and _is_s3(environ):
                self.s3_request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
            return response

        return metered

    # ------------------------------------------------------------ DynamoDB
    def before(self, operation: str, body: dict) -> list[tuple[str, str, dict, dict, int]]:
        """The items a write touches, each with its size before the write."""
        touched = []
        for table, kind, key_or_item in _writes(operation, body):
            key = {name: key_or_item[name] for name in self.key_names(table)}
            touched.append((table, kind, key, key_or_item, item_size(self.lookup(table, key))))
        return touched

    def after(self, operation: str, body: dict, response: dict, touched: list) -> None:
        with self._lock:
            self.calls[f"DynamoDB.{operation}"] += 1
            factor = 2 if operation == "TransactWriteItems" else 1
            for table, kind, key, key_or_item, old_size in touched:
                if kind == "put":
                    new_size = item_size(key_or_item)  # billed even when its condition fails
                elif kind == "update":
                    new_size = item_size(self.lookup(table, key))
                else:
                    new_size = 0
                units = factor * write_units(old_size, new_size)
                self.write_units[table] += units
                self.write_units_by_kind[(table, item_kind(operation, body, key))] += units
                self.items_written[table] += 1
                if key.get("sk") == INDEX_SK:
                    self.index_items_written[table] += 1
                    self.index_write_units[table] += units
            if operation in ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"):
                self._count_reads(operation, body, response)

    def _count_reads(self, operation: str, body: dict, response: dict) -> None:
        if operation == "GetItem":
            self.read_units[body["TableName"]] += read_units(
                item_size(response.get("Item")), body.get("ConsistentRead", False)
            )
        elif operation == "BatchGetItem":
            for table, spec in body["RequestItems"].items():
                found = response.get("Responses", {}).get(table, [])
                sizes = [item_size(i) for i in found] + [0] * (len(spec["Keys"]) - len(found))
                self.read_units[table] += sum(read_units(s, spec.get("ConsistentRead", False)) for s in sizes)
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in response.get("Items", []))
            self.read_units[body["TableName"]] += read_units(size, body.get("ConsistentRead", False))
        elif operation == "TransactGetItems":
            for action in body["TransactItems"]:
                self.read_units[action["Get"]["TableName"]] += 2 * read_units(0, True)

    # ------------------------------------------------------------ other services
    def s3_request(self, method: str, path: str) -> None:
        # S3 bills PUT, COPY, POST and LIST in one class and GET, HEAD and the rest in the other.
        listing = method == "GET" and "/" not in path.strip("/")  # a GET of the bucket, not of a key
        kind = "PUT" if method in ("PUT", "POST", "COPY") or listing else "GET"
        with self._lock:
            self.s3[kind] += 1
            self.calls[f"S3.{method}"] += 1

    def json_call(self, target: str, body: dict) -> None:
        service, _, operation = target.partition(".")
        with self._lock:
            self.calls[f"{service.split('_')[0]}.{operation}"] += 1
            if target == "AWSEvents.PutEvents":
                self.events += len(body.get("Entries", []))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "dynamodb_write_units": dict(self.write_units),
                "dynamodb_read_units": dict(self.read_units),
                "dynamodb_items_written": dict(self.items_written),
                "dynamodb_index_items_written": dict(self.index_items_written),
                "dynamodb_index_write_units": dict(self.index_write_units),
                "dynamodb_write_units_by_kind": {
                    f"{table} {kind}": units for (table, kind), units in sorted(self.write_units_by_kind.items())
                },
                "s3_requests": dict(self.s3),
                "events": self.events,
            }


def item_kind(operation: str, body: dict, key: dict) -> str:
    """What a write wrote, for the cost breakdown: the operation and the item's kind, by its sort key's
    prefix ("IMPORT", "CHUNK", ...; adapters.keys), "unique key" or "record"; an UpdateItem that adds
    to counters apart from one that only sets, and a chunk's progress note (runs.counting) apart."""
    from bulkimport.runs.counting import LIVE_PREFIX  # the layer is on the path once the stack runs

    sort_key = next(iter(key.get("sk", {}).values()), "")
    if key.get("sk") == INDEX_SK:
        kind = "unique key"
    elif "#" in sort_key:
        kind = sort_key.split("#", 1)[0]
    else:
        kind = "record"
    if operation == "UpdateItem":
        adds = " ADD " in f" {body.get('UpdateExpression', '')} "
        if not adds and any(name.startswith(LIVE_PREFIX) for name in body.get("ExpressionAttributeNames", {}).values()):
            return f"{PROGRESS_NOTE} {kind}"
        operation = "UpdateItem ADD" if adds else "UpdateItem SET"
    return f"{operation} {kind}"


def _writes(operation: str, body: dict):
    """(table, "put" | "update" | "delete", key or item) of each item a DynamoDB request writes."""
    if operation == "PutItem":
        yield body["TableName"], "put", body["Item"]
    elif operation == "UpdateItem":
        yield body["TableName"], "update", body["Key"]
    elif operation == "DeleteItem":
        yield body["TableName"], "delete", body["Key"]
    elif operation == "BatchWriteItem":
        for table, requests in body["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    yield table, "put", request["PutRequest"]["Item"]
                else:
                    yield table, "delete", request["DeleteRequest"]["Key"]
    elif operation == "TransactWriteItems":
        for action in body["TransactItems"]:
            ((kind, spec),) = action.items()
            if kind == "Put":
                yield spec["TableName"], "put", spec["Item"]
            elif kind in ("Update", "Delete"):
                yield spec["TableName"], kind.lower(), spec["Key"]


def _is_s3(environ) -> bool:
    signed = unquote(environ.get("HTTP_AUTHORIZATION", "") + environ.get("QUERY_STRING", ""))
    return "/s3/aws4_request" in signed or environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
