"""What undo costs on AWS, counted on the local stack: an upsert of 2N rows into a table of N records
(N updated, N created), then its revert. Prints, per row, the DynamoDB units, S3 requests and the S3
bytes kept for the revert (before-images, the ids each chunk wrote, the revert's plans), and $ per
million rows at bench.cost.PRICES.

    .venv/bin/python -m bench.revert_cost [N]     # N defaults to 2,000
"""

from __future__ import annotations

import sys
import time
import uuid

import boto3

from bench.cost import PRICES, PRICES_AS_OF
from bench.meter import count_billable
from devstack.stack import LocalStack

TABLE = {
    "key": "people",
    "fields": [
        {"key": "code", "type": "string", "required": True, "unique": True},
        {"key": "email", "type": "email"},
        {"key": "name", "type": "string"},
    ],
}
COLUMNS = [{"source": c, "target": c} for c in ("code", "email", "name")]


def csv(rows: range, name: str) -> bytes:
    lines = ["code,email,name", *(f"P{n:07d},p{n}@example.com,{name} {n}" for n in rows)]
    return ("\n".join(lines) + "\n").encode()


def usd(counted: dict) -> float:
    return (
        sum(counted["dynamodb_write_units"].values()) * PRICES["dynamodb_write_unit"]
        + sum(counted["dynamodb_read_units"].values()) * PRICES["dynamodb_read_unit"]
        + counted["s3_requests"].get("PUT", 0) * PRICES["s3_put_class"]
        + counted["s3_requests"].get("GET", 0) * PRICES["s3_get_class"]
    )


def line(label: str, counted: dict, rows: int) -> None:
    writes, reads = sum(counted["dynamodb_write_units"].values()), sum(counted["dynamodb_read_units"].values())
    s3 = counted["s3_requests"]
    print(
        f"  {label:26s} write units {writes / rows:.3f}/row, read units {reads / rows:.3f}/row, "
        f"S3 PUT {s3.get('PUT', 0)} GET {s3.get('GET', 0)}; DynamoDB+S3 ${usd(counted) / rows * 1e6:.3f} per million rows"
    )


def main(n: int) -> None:
    from tests.helpers import Api, free_port

    stack = LocalStack(aws_port=free_port(), api_port=free_port()).start()
    try:
        from bulkimport.access.keys import create_api_key  # the stack put the layer on the path

        meter = count_billable(stack)
        tenant = f"bench-{uuid.uuid4().hex[:8]}"
        api = Api(stack.api_url, create_api_key(tenant, "admin"))
        api.create_table(TABLE)
        insert = api.create_recipe({"name": "seed", "table": "people", "columns": COLUMNS, "mode": "insert"})
        upsert = api.create_recipe(
            {"name": "upsert", "table": "people", "columns": COLUMNS, "mode": "upsert", "unique_columns": ["code"]}
        )
        seeded = api.wait(api.import_file(insert["id"], csv(range(n), "seed"))["id"], timeout=600)
        assert seeded["outcomes"]["created"] == n, seeded

        meter.reset()
        done = api.wait(api.import_file(upsert["id"], csv(range(2 * n), "renamed"))["id"], timeout=600)
        imported = meter.snapshot()
        assert done["outcomes"] == {"created": n, "updated": n, "unchanged": 0, "failed": 0}, done

        bucket = stack.resource_name("DataBucket")
        s3 = boto3.client("s3")
        prefix = f"work/{tenant}/{done['id']}/undo/"

        def undo_bytes(suffix: str) -> int:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return sum(o["Size"] for page in pages for o in page.get("Contents", []) if suffix in o["Key"])

        kept = {"before-images": undo_bytes("/before-"), "written ids": undo_bytes("/written.json")}

        meter.reset()
        api.ok("POST", f"/imports/{done['id']}/revert")
        deadline = time.monotonic() + 600
        while (current := api.ok("GET", f"/imports/{done['id']}")["data"])["status"] == "reverting":
            assert time.monotonic() < deadline
            time.sleep(0.5)
        reverted = meter.snapshot()
        assert current["status"] == "reverted" and current["revert"]["deleted"] == n, current
        assert current["revert"]["restored"] == n, current
        kept["revert plans"] = undo_bytes("/revert.json")
    finally:
        stack.stop()

    rows = 2 * n
    print(
        f"Undo on AWS: an upsert of {rows:,} rows ({n:,} updated, {n:,} created), then its revert (prices {PRICES_AS_OF})"
    )
    line("the import (with undo data)", imported, rows)
    line("its revert", reverted, rows)
    month = 0.023 / 1024**3  # S3 Standard, $ per byte-month
    for name, size in kept.items():
        per_row = size / (n if name == "before-images" else rows)
        print(
            f"  S3 kept: {name:14s} {size:,} bytes ({per_row:.0f} bytes a row it covers); "
            f"90 days: ${size / rows * 1e6 * month * 3:.4f} per million rows"
        )
    print(
        "  the revert's DynamoDB calls: "
        + ", ".join(f"{k} {v}" for k, v in sorted(reverted["calls"].items()) if k.startswith("DynamoDB"))
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
