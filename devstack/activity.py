"""What the local stack prints while it runs, one line per thing that happens: HTTP requests, runs
starting, chunks and pages done, runs settling, objects landing in the bucket (and those ignored,
with why), schedules firing. It reads the invocations through the runtime's invocation hook, so the
handlers know nothing of it."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from devstack.runtime import Answer, Call, LambdaRuntime

Describe = Callable[[dict, Any], str | None]


def _run(event: dict) -> str:
    return f"{event.get('kind', 'import')} {event.get('run_id')} ({event.get('tenant')})"


def _took_table(event: dict, answer: Any) -> str | None:
    return f"{_run(event)} starts" if answer.get("next") == "run" else None


def _chunk(event: dict, answer: Any) -> str | None:
    what = "checked" if event.get("pass") == "check" else "done"
    if "skipped" in answer:
        return f"import {event['run_id']} chunk {answer['index']} skipped ({answer['skipped']})"
    return (
        f"import {event['run_id']} chunk {answer.get('index')} {what}: {answer.get('rows')} rows, "
        f"{answer.get('success')} ok, {answer.get('fail')} failed"
    )


def _page(event: dict, answer: Any) -> str | None:
    return f"job {event.get('run_id')} page {(event.get('page') or {}).get('index', '?')} done"


def _exported(event: dict, answer: Any) -> str | None:
    return f"job {event.get('run_id')} export written"


def _settled(event: dict, answer: Any) -> str | None:
    return f"{_run(event)} settled: {answer.get('status')}"


def _object(event: dict, answer: Any) -> str | None:
    key = ((event.get("detail") or {}).get("object") or {}).get("key")
    if answer.get("started_import"):
        return f"S3 {key}: starts import {answer['started_import']}"
    return f"S3 {key}: ignored, {answer.get('ignored') or 'no import'}"


def _scheduled(event: dict, answer: Any) -> str | None:
    if event.get("kind") == "import":
        return f"schedule of import {event.get('import_id')} fired: {answer.get('outcome')}"
    started = answer.get("imports") or []
    return f"schedule {event.get('schedule_id')} fired: {len(started)} new file(s) imported {' '.join(started)}".strip()


DESCRIBE: dict[str, Describe] = {
    "TakeTableFunction": _took_table,
    "ProcessChunkFunction": _chunk,
    "ProcessPageFunction": _page,
    "ExportRecordsFunction": _exported,
    "FinalizeRunFunction": _settled,
    "ObjectCreatedFunction": _object,
    "ScheduledRunFunction": _scheduled,
}


class ActivityLog:
    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stdout
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            print(f"{stamp}  {text}", file=self.out, flush=True)

    def request(self, method: str, path: str, status: int, seconds: float) -> None:
        self.line(f"{method:<6} {path} {status} {seconds * 1000:.0f} ms")

    def watch(self, runtime: LambdaRuntime) -> None:
        runtime.add_invocation_hook(self._invocation)

    def _invocation(self, function, event: Any, call: Call) -> Answer:
        answer = call(function, event)
        describe = DESCRIBE.get(function.logical_id)
        if describe is None:
            return answer
        if answer.function_error:
            self.line(
                f"{function.logical_id} failed: {answer.outcome} ({_run(event) if isinstance(event, dict) else ''})"
            )
            return answer
        if isinstance(event, dict) and isinstance(answer.payload, dict):
            try:
                text = describe(event, answer.payload)
            except (KeyError, TypeError, AttributeError):  # an answer of another shape: say nothing
                text = None
            if text:
                self.line(text)
        return answer
