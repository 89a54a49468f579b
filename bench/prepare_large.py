"""Prepare stays streaming on a large file: its time and peak memory on a 1 GiB CSV, against a 100 MiB
one in the same run (a loaded machine makes absolute figures noisy; the ratios say whether memory
grows with the file).

Both for a table without unique fields (Prepare only splits the file) and one with a unique field
(Prepare also reads every row's key to find duplicates within the file).

The CSV is generated on the fly into the local S3 as an upload in parts (one part in memory at a time,
nothing on disk here); Prepare then runs in a fresh worker process, as a Lambda worker would
(bench.memory_worker: peak RSS, VmHWM). Event delivery is off, so the upload starts nothing.

    python -m bench.prepare_large [GiB]
"""

from __future__ import annotations

import csv
import io
import os
import sys
import uuid

from bench.data import HEADER, RECIPE, RECIPE_UNIQUE, TABLE, TABLE_UNIQUE, row
from bench.env import ROOT
from bench.memory import run_worker

MiB = 1024 * 1024


def write_csv(out, size: int) -> int:
    """Write a CSV of exactly `size` bytes to `out` (a file-like writer): rows of bench.data, then
    blank lines (which imports skip) to the byte. Returns the rows written."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    written, rows = 0, 0
    while True:
        for _ in range(10_000):
            writer.writerow(row(rows))
            rows += 1
        block = text.getvalue().encode()
        text.seek(0)
        text.truncate()
        if written + len(block) > size:
            break  # the last block is dropped whole: its rows would be cut
        out.write(block)
        written += len(block)
    rows -= 10_000
    out.write(b"\n" * (size - written))
    return rows


def measure(sizes: list[int]) -> list[dict]:
    from devstack.stack import LocalStack
    from tests.helpers import Api, free_port

    stack = LocalStack(aws_port=free_port(), api_port=free_port(), deliver_events=False).start()
    results = []
    try:
        from bulkimport.access.keys import create_api_key
        from bulkimport.adapters.s3 import BlobStore

        tenant = f"big-{uuid.uuid4().hex[:8]}"
        api = Api(stack.api_url, create_api_key(tenant, "admin"))
        api.create_table(TABLE)
        api.create_table(TABLE_UNIQUE)
        recipes = {"plain": api.create_recipe(RECIPE), "unique": api.create_recipe(RECIPE_UNIQUE)}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for kind, size in [(kind, size) for kind in recipes for size in sizes]:
            recipe = recipes[kind]
            created = api.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": "big.csv"})["data"]
            key = created["upload"]["fields"]["key"]
            with BlobStore().writer(key, "text/csv") as out:
                rows = write_csv(out, size)
            prepared = run_worker("prepare", {"tenant": tenant, "run_id": created["id"]}, False, env)
            item = api.ok("GET", f"/imports/{created['id']}")["data"]
            from bulkimport.adapters import keys

            chunks = len(BlobStore().get_json(keys.manifest_key(tenant, created["id"])))
            results.append(
                {"table": kind, "bytes": size, "rows": rows, "chunks": chunks, "status": item["status"], **prepared}
            )
    finally:
        stack.stop()
    return results


def report(results: list[dict]) -> None:
    for kind in dict.fromkeys(r["table"] for r in results):
        _report([r for r in results if r["table"] == kind])


def _report(results: list[dict]) -> None:
    base = results[0]
    label = "a table with a unique field" if base["table"] == "unique" else "a table without unique fields"
    print(f"{label}:")
    for r in results:
        print(
            f"  Prepare, {r['bytes'] / MiB:,.0f} MiB CSV ({r['rows']:,} rows, {r['chunks']:,} chunks planned):"
            f" {r['seconds']} s ({r['bytes'] / MiB / r['seconds']:.1f} MiB/s), peak RSS {r['peak_rss_mb']} MB"
            f" (+{r['peak_rss_mb'] - r['rss_after_imports_mb']:.1f} MB over its imports); status {r['status']}"
        )
    for r in results[1:]:
        print(
            f"  {r['bytes'] / base['bytes']:.1f}x the file: {r['seconds'] / base['seconds']:.1f}x the time,"
            f" {r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x the peak RSS"
        )


if __name__ == "__main__":
    gib = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    report(measure([100 * MiB, int(gib * 1024 * MiB)]))
