"""Progress bars: a file's upload, an import's rows, a job's percentage (rich, on stderr)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

TERMINAL = frozenset(
    {"completed", "completed_with_errors", "failed", "cancelled", "reverted", "revert_failed", "revert_cancelled"}
)
POLL_SECONDS = 0.5


def upload_bar(console: Console, description: str, enabled: bool = True) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
    )


def watch_import(fetch: Callable[[], dict[str, Any]], console: Console, enabled: bool = True) -> dict[str, Any]:
    """Poll the import until it settles, drawing its `progress`, the rows that stands for, rows/s and
    counts. Returns the settled import. KeyboardInterrupt goes through to the caller (which asks
    whether to cancel)."""
    current = fetch()
    if current["status"] in TERMINAL:
        return current
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn(
            "{task.fields[rows]:>19}  {task.fields[rate]:>8} rows/s"
            "  ok {task.fields[ok]:,}  failed {task.fields[failed]:,}"
        ),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
    )
    with progress:
        task = progress.add_task(current["status"], total=100, rows="", rate="-", ok=0, failed=0)
        first: tuple[float, int] | None = None  # when rows were first seen moving, and how many then
        while True:
            seen, total = _rows_seen(current), current.get("total_count")
            now = time.monotonic()
            if first is None and seen:
                first = (now, seen)
            rate = "-"
            if current["status"] in TERMINAL:
                rate = _overall_rate(current) or rate
            elif first and now > first[0]:
                rate = f"{(seen - first[1]) / (now - first[0]):,.0f}"
            progress.update(
                task,
                description=current["status"],
                completed=current.get("progress") or 0,
                rows=f"{seen:,}/{total:,} rows" if total and current["status"] != "reverting" else "",
                rate=rate,
                ok=current.get("success_count") or 0,
                failed=current.get("fail_count") or 0,
            )
            if current["status"] in TERMINAL:
                return current
            time.sleep(POLL_SECONDS)
            current = fetch()


def _rows_seen(current: dict[str, Any]) -> int:
    """The rows the import's `progress` stands for: it counts the rows of chunks still under way,
    where `processed_count` moves only when a chunk is done (a long chunk kept it at 0)."""
    processed, total = current.get("processed_count") or 0, current.get("total_count") or 0
    return max(processed, (current.get("progress") or 0) * total // 100)


def _overall_rate(settled: dict[str, Any]) -> str | None:
    """Rows/s of a settled import, from the service's start and end times (whole seconds)."""
    start, end = settled.get("executed_start_at"), settled.get("executed_end_at")
    if not (start and end and settled.get("processed_count")):
        return None
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return f"{settled['processed_count'] / max(seconds, 1):,.0f}"


def watch_job(fetch: Callable[[], dict[str, Any]], console: Console, description: str, enabled: bool = True) -> dict:
    """Poll a batch job until it has a `code`; its `process` (0-100) drives the bar."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
    )
    with progress:
        task = progress.add_task(description, total=100)
        while True:
            current = fetch()
            data = current.get("data") if "code" in current else current
            progress.update(task, completed=(data or {}).get("process") or 0)
            if "code" in current:
                return current
            time.sleep(POLL_SECONDS)
