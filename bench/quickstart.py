"""The README's quick start as a user meets it on `make run`: the examples' contacts table (one
unique field) and recipe, a 10,000-row file with 40 bad rows (examples/make_sample.py) uploaded in one
multipart call, then watched through the API until its final status.

Figures: seconds from the upload to the final status; how progress moved (polled every half second:
the longest time it stood still and its largest jump); the counts at the end; and the CPU the stack
uses while idle (process CPU seconds per second, before and after the import).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devstack.stack import DEV_KEY, LocalStack
from devstack.workers import default_count

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}


def idle_cpu(seconds: float) -> float:
    """CPU of this process (the whole stack) per wall second, while nothing is asked of it."""
    wall, cpu = time.monotonic(), time.process_time()
    time.sleep(seconds)
    return (time.process_time() - cpu) / (time.monotonic() - wall)


def run(rows: int = 10_000, poll: float = 0.5) -> dict:
    from tests.helpers import Api, free_port

    sample = Path(tempfile.gettempdir()) / "bulkimport-bench" / f"contacts-{rows}.csv"
    sample.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(EXAMPLES / "make_sample.py"), str(rows), str(sample)], check=True)
    stack = LocalStack(aws_port=free_port(), api_port=free_port(), worker_processes=default_count()).start()
    try:
        time.sleep(2)  # let start-up settle
        idle_before = idle_cpu(10)
        api = Api(stack.api_url, DEV_KEY)
        api.create_table(json.loads((EXAMPLES / "contacts-table.json").read_text()))
        recipe = api.create_recipe(json.loads((EXAMPLES / "contacts-recipe.json").read_text()))
        started, started_cpu = time.monotonic(), time.process_time()
        imported = api.import_file(recipe["id"], sample.read_bytes(), "contacts.csv")
        trace = []  # (seconds since the upload, progress, processed_count)
        while True:
            current = api.ok("GET", f"/imports/{imported['id']}")["data"]
            trace.append((round(time.monotonic() - started, 2), current["progress"], current["processed_count"]))
            if current["status"] in TERMINAL:
                break
            time.sleep(poll)
        seconds, cpu_seconds = time.monotonic() - started, time.process_time() - started_cpu
        time.sleep(2)
        idle_after = idle_cpu(10)
    finally:
        stack.stop()
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        # The stack's CPU for the import (all of it runs in this process): on a loaded machine, a
        # steadier figure than the wall time.
        "cpu_seconds": round(cpu_seconds, 2),
        "status": current["status"],
        "counts": {k: current[k] for k in ("total_count", "processed_count", "success_count", "fail_count")},
        "progress_longest_still_seconds": _longest_still(trace),
        "progress_largest_jump": max((b[1] - a[1] for a, b in itertools.pairwise(trace)), default=0),
        "progress_values": sorted({p for _, p, _ in trace}),
        "trace": trace,  # (seconds since the upload, progress, processed_count) of each poll
        "idle_cpu_cores_before": round(idle_before, 4),
        "idle_cpu_cores_after": round(idle_after, 4),
    }


def _longest_still(trace: list[tuple[float, int, int]]) -> float:
    """The longest time progress showed the same value before the end."""
    longest, since, value = 0.0, 0.0, None
    for at, progress, _ in trace:
        if progress != value:
            longest, since, value = max(longest, at - since), at, progress
    return round(max(longest, trace[-1][0] - since) if trace else 0.0, 2)


def report(result: dict) -> None:
    print(f"quick start, {result['rows']:,} rows with one unique field (examples/), on the local stack:")
    print(
        f"  upload -> {result['status']}  {result['seconds']:8.2f} s ({result['cpu_seconds']:.2f} s CPU)"
        f"   counts {result['counts']}"
    )
    print(
        f"  progress: longest still {result['progress_longest_still_seconds']} s, "
        f"largest jump {result['progress_largest_jump']}%, values {result['progress_values']}"
    )
    print(
        f"  idle stack CPU: {result['idle_cpu_cores_before']:.4f} cores before the import, "
        f"{result['idle_cpu_cores_after']:.4f} after"
    )
