"""The README's shell examples run as written: every ```bash block of README.md, in order, in one bash
session (so a block uses what an earlier one set), against a local stack started as `make run` does
(`python -m devstack`), with `set -euo pipefail`. Only the ports differ: the stack is on free ports,
and the blocks' 127.0.0.1:3000 and :5000 are rewritten to them. A block preceded by an HTML comment
`<!-- not run by tests/acceptance/test_readme.py: why -->` is left out (starting the stack or the
suite, deploying to AWS, the quick start script that test_run_command.py runs).

The tour's file is scaled from 10,000 rows to 2,500 (every 250th row is bad either way), and the one
figure that follows from its size, the export's `total` of 4,960 level-A records, to 1,240: a total
the README got wrong would stay wrong here and fail the job (10,000 rows took minutes of the suite)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.helpers import DevstackProcess

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```bash\n(?P<code>.*?)\n```", re.S)


def readme_blocks() -> tuple[list[str], list[str]]:
    """(blocks to run, first lines of those left out)."""
    run, skipped = [], []
    for match in BLOCK.finditer((ROOT / "README.md").read_text(encoding="utf-8")):
        if match["before"].startswith("<!-- not run by tests/acceptance/test_readme.py"):
            skipped.append(match["code"].splitlines()[0])
        else:
            run.append(match["code"])
    return run, skipped


def test_every_readme_block_is_run_or_says_why_not():
    run, skipped = readme_blocks()
    assert len(run) >= 4 and len(skipped) == 4, (len(run), skipped)


def test_readme_examples_run_as_written(tmp_path):
    with DevstackProcess() as stack:
        api, api_port, aws_port = stack.api, stack.api_port, stack.aws_port
        blocks, _ = readme_blocks()
        script = "\n".join(blocks).replace("127.0.0.1:3000", f"127.0.0.1:{api_port}")
        script = script.replace("127.0.0.1:5000", f"127.0.0.1:{aws_port}")
        script = script.replace("make_sample.py 10000 ", "make_sample.py 2500 ").replace(
            '"total": 4960', '"total": 1240'
        )
        (tmp_path / "readme.sh").write_text(
            "set -euo pipefail\n" + script + '\necho "TEST BATCH=$BATCH"\n', encoding="utf-8"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BULKIMPORT_"))}
        done = subprocess.run(
            ["bash", str(tmp_path / "readme.sh")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"},
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        out = done.stdout
        assert "completed_with_errors: 2,500 of 2,500 rows processed, 2,490 imported, 10 failed." in out
        assert "Exported 1,240 records to /tmp/level-a.xlsx" in out
        assert "NOT_IN_OPTIONS" in out and "read-only dashboard" in out

        # The export job of the batch jobs example: its total is right, so it exports.
        batch = re.search(r"TEST BATCH=(\S+)", out)[1]
        deadline = time.monotonic() + 120
        while "code" not in (
            job := requests.get(f"{api}/jobs/{batch}", headers={"Authorization": "Bearer dev-key"}).json()
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["code"] == 200 and job["data"]["succeeded_amount"] == 1240, job

        # The stack told what happened, one line each.
        told = stack.output()
        assert re.search(r"POST   /v1/imports 201 \d+ ms", told)
        assert re.search(r"import \S+ chunk \d+ done: \d+ rows", told)
        assert re.search(r"import \S+ \(dev\) settled: completed_with_errors", told)
        assert re.search(r"S3 drop/dev/\S+/again\.csv: starts import", told)
        assert re.search(r"S3 uploads/dev/\S+/source: ignored, import \S+ is \w+, not waiting for its upload", told)
