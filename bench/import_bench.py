"""End-to-end import throughput on the local stack vs a naive boto3 batch_writer loop.

Both runs write the same 100k-row CSV to the same moto endpoint in the same process, one after the
other, so the ratio compares the designs, not the machines. Prints the figures and writes them to
bench/results/latest.json.

    make bench            # or: python -m bench.import_bench [rows]
"""

from __future__ import annotations

import csv
import io
import json
import platform
import sys
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import boto3
import requests

from devstack.stack import LocalStack
from tests.helpers import Api, free_port

ROOT = Path(__file__).resolve().parent
TABLE = {
    "key": "bench",
    "fields": [
        {"key": "membership_no", "type": "string", "required": True},
        {"key": "name", "type": "string"},
        {"key": "email", "type": "email"},
        {"key": "level", "type": "enum", "options": ["A", "B"]},
        {"key": "amount", "type": "number"},
        {"key": "visit_date", "type": "date"},
    ],
}
HEADER = ["membership_no", "name", "email", "level", "amount", "visit_date"]


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for n in range(rows):
        writer.writerow([f"M{n:07d}", f"客戶{n}", f"c{n}@example.com", "AB"[n % 2], f"{n % 1000}.25", "2026-11-22"])
    return out.getvalue().encode()


def run_service(stack: LocalStack, content: bytes) -> tuple[float, dict]:
    from bulkimport.auth import create_api_key

    api = Api(stack.api_url, create_api_key(f"bench-{uuid.uuid4().hex[:8]}", "admin"))
    api.create_table(TABLE)
    recipe = api.create_recipe({"name": "bench", "table": "bench", "columns": [{"source": h, "target": h} for h in HEADER]})
    created = api.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": "bench.csv"})["data"]
    upload = created["upload"]
    started = time.perf_counter()
    response = requests.post(upload["url"], data=upload["fields"], files={"file": ("bench.csv", content)}, timeout=300)
    response.raise_for_status()
    done = api.wait(created["id"], timeout=3600, poll=1.0)
    return time.perf_counter() - started, done


def run_naive(stack: LocalStack, content: bytes) -> float:
    """What a team hand-rolls: DictReader, one dict per row, boto3's batch_writer, one thread."""
    # A fresh table with the records table's key schema: moto slows down as a table fills, and the
    # service's run has just filled the records table.
    records = stack.template.resources["RecordsTable"]["Properties"]
    boto3.client("dynamodb").create_table(
        TableName="naive-bench", AttributeDefinitions=records["AttributeDefinitions"],
        KeySchema=records["KeySchema"], BillingMode="PAY_PER_REQUEST",
    )
    table = boto3.resource("dynamodb").Table("naive-bench")
    started = time.perf_counter()
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    with table.batch_writer() as batch:
        for n, row in enumerate(reader):
            row["amount"] = Decimal(row["amount"])
            batch.put_item(Item={"pk": f"naive#{n % 16}", "sk": f"{n:08d}", "data": row})
    return time.perf_counter() - started


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    content = make_csv(rows)
    stack = LocalStack(aws_port=free_port(), api_port=free_port()).start()
    try:
        since = len(stack.runtime.invocations)
        service_seconds, done = run_service(stack, content)
        invocations = stack.runtime.invocations[since:]
        service_busy = dict(stack.aws.busy)
        stack.aws.busy.clear()
        naive_seconds = run_naive(stack, content)
        naive_busy = dict(stack.aws.busy)
    finally:
        stack.stop()
    assert done["status"] == "completed" and done["success_count"] == rows, done
    service_rate, naive_rate = rows / service_seconds, rows / naive_seconds
    result = {
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "rows": rows,
        "file_bytes": len(content),
        "end_to_end": {
            "service_seconds": round(service_seconds, 2),
            "service_rows_per_s": round(service_rate),
            "naive_batch_writer_seconds": round(naive_seconds, 2),
            "naive_batch_writer_rows_per_s": round(naive_rate),
            "ratio_service_over_naive": round(service_rate / naive_rate, 3),
        },
    }
    print(f"end to end, {rows:,} rows ({len(content) / 1e6:.1f} MB) on the local stack:")
    print(f"  service (upload -> completed)  {service_seconds:8.2f} s  {service_rate:10,.0f} rows/s")
    print(f"  naive batch_writer loop        {naive_seconds:8.2f} s  {naive_rate:10,.0f} rows/s")
    print(f"  ratio service / naive          {service_rate / naive_rate:8.3f}")
    by_function: dict[str, list[float]] = {}
    for invocation in invocations:
        by_function.setdefault(invocation.function, []).append(invocation.seconds)
    print("  handler time inside the service run:")
    for name, seconds in sorted(by_function.items()):
        print(f"    {name:24s} {len(seconds):4d} calls  {sum(seconds):8.2f} s total  {max(seconds):6.2f} s max")
    print(f"  time inside moto: service {sum(service_busy.values()):.2f} s, naive {sum(naive_busy.values()):.2f} s")
    for name, seconds in sorted(service_busy.items(), key=lambda kv: -kv[1])[:6]:
        print(f"    {name:40s} {seconds:8.2f} s")
    result["handlers"] = {k: {"calls": len(v), "seconds": round(sum(v), 2)} for k, v in by_function.items()}
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "latest.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
