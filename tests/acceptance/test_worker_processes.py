"""`make run` runs the Lambda handlers in worker processes (devstack/workers.py), as Lambda runs each
invocation in a process of its own, so the stack uses more than one core. Started as `make run`
starts it, with one worker: the worker is a process of its own; killed with SIGKILL while an import's
chunks run in it, its invocations fail with Runtime.ExitError as Lambda reports a runtime that
exited, the state machine's Retry runs them again in a new worker, and the import ends with every
row counted once and every record written once.

(IAM in the workers is tested by test_iam_enforced.py, which starts the stack the same way.)"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.helpers import Api, DevstackProcess, csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

ROWS = 6_000  # 3 chunks of the template's 2,000 rows, each claiming 2,000 unique keys


def workers_of(pid: int) -> list[int]:
    """The worker processes the stack started (multiprocessing's spawn; not its resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # threads come and go
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in command:
                found.append(int(child))
    return found


def test_a_worker_process_killed_mid_import_loses_nothing_and_counts_nothing_twice():
    rows = [good_row(n) for n in range(1, ROWS + 1)]
    rows[10][0] = rows[9][0]  # a duplicate of the row before: first wins
    rows[4000][3] = "Z"  # not one of the enum's options
    with DevstackProcess("--workers", "1") as stack:
        (worker,) = workers_of(stack.process.pid)
        api = Api(stack.api, "dev-key")
        recipe = setup_contacts(api)
        imported = api.import_file(recipe["id"], csv_bytes([HEADER, *rows]))
        deadline = time.monotonic() + 60
        while True:  # kill the worker once chunks are under way in it
            current = api.ok("GET", f"/imports/{imported['id']}")["data"]
            assert current["progress"] < 100 and time.monotonic() < deadline, f"no chance to kill it: {current}"
            if current["progress"] >= 10:  # rows seen by the chunk workers
                break
            time.sleep(0.05)
        os.kill(worker, signal.SIGKILL)
        # A request that reaches the dying worker gets API Gateway's 502, as on AWS; later ones a new
        # worker. The Map's retry waits a second or more anyway.
        time.sleep(1)
        done = api.wait(imported["id"], timeout=120)
        replacement = workers_of(stack.process.pid)
        stats = api.ok("GET", "/tables/contacts")["data"]
        failures = api.ok("GET", f"/imports/{imported['id']}/failures")["data"]
        stack.stop()
    log = stack.output()
    assert "ProcessChunkFunction failed: Runtime.ExitError" in log, log[-3000:]
    assert replacement and worker not in replacement
    assert done["status"] == "completed_with_errors", done
    counts = (done["total_count"], done["processed_count"], done["success_count"], done["fail_count"])
    assert counts == (ROWS, ROWS, ROWS - 2, 2), done
    assert stats["record_count"] == ROWS - 2
    assert sorted((f["row"], f["code"]) for f in failures) == [(11, "DUPLICATE_IN_FILE"), (4001, "NOT_IN_OPTIONS")]
