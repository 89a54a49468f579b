"""Peak memory of Prepare and of one ProcessChunk on a ~100 MB, ~1M-row CSV.

The local stack (this process) holds the file in its S3; each step runs in a fresh Python process,
as a Lambda worker would: it imports the function's handler (functions/*/app.py, so Powertools,
boto3, pydantic and the layer), then calls it once against the local stack's endpoint. Reported:
- the worker's RSS after its imports (what any worker costs before it reads a byte),
- its peak RSS (VmHWM) over the whole invocation (not ru_maxrss: see bench.memory_worker),
- in a second, separate worker, the peak of memory Python allocated during the invocation
  (tracemalloc, started after the imports; tracing costs memory of its own, hence two workers).
Event delivery is off, so uploading the file starts nothing: the bench runs the steps itself.

    python -m bench.memory [rows]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import requests

from bench.data import RECIPE, TABLE, csv_file
from bench.env import ROOT


def _bare_interpreter_rss_mb() -> float:
    out = subprocess.run(
        [sys.executable, "-c", "print(open('/proc/self/status').read())"], capture_output=True, text=True, check=True
    )
    return next(int(line.split()[1]) / 1024 for line in out.stdout.splitlines() if line.startswith("VmHWM:"))


def run_worker(step: str, event: dict, traced: bool, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.memory_worker", step, json.dumps(event), "traced" if traced else "rss"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if out.returncode:
        raise RuntimeError(f"{step} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(rows: int = 1_000_000, data_dir: Path | None = None) -> dict:
    from devstack.stack import LocalStack
    from tests.helpers import Api, free_port

    path = csv_file((data_dir or Path(tempfile.gettempdir()) / "bulkimport-bench") / f"bench-{rows}.csv", rows)
    stack = LocalStack(aws_port=free_port(), api_port=free_port(), deliver_events=False).start()
    try:
        from bulkimport.access.keys import create_api_key

        tenant = f"mem-{uuid.uuid4().hex[:8]}"
        api = Api(stack.api_url, create_api_key(tenant, "admin"))
        api.create_table(TABLE)
        recipe = api.create_recipe(RECIPE)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        chunk_rows = stack.template.parameters["ChunkRows"]

        def new_import(file: Path = path) -> str:
            created = api.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": file.name})["data"]
            with file.open("rb") as body:
                upload = created["upload"]
                requests.post(
                    upload["url"], data=upload["fields"], files={"file": (file.name, body)}, timeout=600
                ).raise_for_status()
            return created["id"]

        def manifest(import_id: str) -> list[dict]:
            from bulkimport.adapters import keys
            from bulkimport.adapters.s3 import BlobStore

            return BlobStore().get_json(keys.manifest_key(tenant, import_id))

        result: dict = {
            "rows": rows,
            "file_bytes": path.stat().st_size,
            "chunk_rows": int(chunk_rows),
            "bare_interpreter_rss_mb": round(_bare_interpreter_rss_mb(), 1),
        }
        first, second = new_import(), new_import()
        result["prepare"] = run_worker("prepare", {"tenant": tenant, "run_id": first}, False, env)
        result["prepare_traced"] = run_worker("prepare", {"tenant": tenant, "run_id": second}, True, env)
        chunks = manifest(first)
        result["chunks"] = len(chunks)
        result["chunk"] = run_worker("chunk", {"tenant": tenant, "run_id": first, "chunk": chunks[0]}, False, env)
        result["chunk_traced"] = run_worker("chunk", {"tenant": tenant, "run_id": first, "chunk": chunks[1]}, True, env)
        result["chunk"]["rows"], result["chunk"]["bytes"] = chunks[0]["rows"], chunks[0]["end"] - chunks[0]["start"]

        # The other bound of a chunk: CHUNK_BYTES, reached before 2,000 rows of ~2.1 KB each.
        wide = csv_file(path.parent / "bench-wide-4000.csv", 4000, wide=True)
        big = new_import(wide)
        run_worker("prepare", {"tenant": tenant, "run_id": big}, False, env)
        big_chunks = manifest(big)
        result["chunk_at_byte_cap"] = run_worker(
            "chunk", {"tenant": tenant, "run_id": big, "chunk": big_chunks[0]}, False, env
        )
        result["chunk_at_byte_cap"]["rows"] = big_chunks[0]["rows"]
        result["chunk_at_byte_cap"]["bytes"] = big_chunks[0]["end"] - big_chunks[0]["start"]
    finally:
        stack.stop()
    return result


def report(result: dict) -> None:
    print(
        f"memory, {result['rows']:,}-row file ({result['file_bytes'] / 1e6:.1f} MB), each step in a fresh worker process:"
    )
    print(
        f"  bare interpreter RSS {result['bare_interpreter_rss_mb']} MB; a worker after importing its handler "
        f"(Powertools, boto3, pydantic, the layer): {result['chunk']['rss_after_imports_mb']} MB"
    )
    p, pt = result["prepare"], result["prepare_traced"]
    print(
        f"  Prepare over the whole file ({result['chunks']} chunks planned, {p['seconds']} s):"
        f" peak RSS {p['peak_rss_mb']} MB (+{p['peak_rss_mb'] - p['rss_after_imports_mb']:.1f} MB over its imports),"
        f" Python allocations peak {pt['traced_peak_mb']} MB"
    )
    c, ct = result["chunk"], result["chunk_traced"]
    print(
        f"  ProcessChunk, one chunk of {c['rows']:,} rows / {c['bytes'] / 1e6:.2f} MB ({c['seconds']} s):"
        f" peak RSS {c['peak_rss_mb']} MB (+{c['peak_rss_mb'] - c['rss_after_imports_mb']:.1f} MB over its imports),"
        f" Python allocations peak {ct['traced_peak_mb']} MB"
    )
    b = result["chunk_at_byte_cap"]
    print(
        f"  ProcessChunk at the byte cap (wide rows: {b['rows']:,} rows / {b['bytes'] / 1e6:.2f} MB, {b['seconds']} s):"
        f" peak RSS {b['peak_rss_mb']} MB (+{b['peak_rss_mb'] - b['rss_after_imports_mb']:.1f} MB over its imports)"
    )


if __name__ == "__main__":
    report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
