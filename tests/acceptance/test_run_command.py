"""What a newcomer does: start the local stack the way `make run` does, then run the README's quick
start (examples/quickstart.sh) against it: a CSV with every 250th row bad, counted exactly. The
script's steps are the README's; its file has 2,500 rows here, not 10,000 (each row claims a unique
key, one request a row: the full size took 85 s of the suite)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_run_command_and_quickstart():
    api_port, aws_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "devstack", "--api-port", str(api_port), "--aws-port", str(aws_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line, "the local stack exited: " + "".join(banner)
            banner.append(line)
            if "Data lives in memory" in line:
                break
        text = "".join(banner)
        api = f"http://127.0.0.1:{api_port}/v1"
        assert api in text and "dev-key" in text and "examples/quickstart.sh" in text
        assert requests.get(f"{api}/health", timeout=5).json() == {"status": "ok"}

        quickstart = subprocess.run(
            ["bash", "examples/quickstart.sh"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**env, "API": api, "KEY": "dev-key", "PYTHON": sys.executable, "ROWS": "2500"},
        )
        assert quickstart.returncode == 0, quickstart.stdout + quickstart.stderr
        out = quickstart.stdout
        assert "completed_with_errors 100% total=2500 processed=2500 ok=2490 failed=10" in out
        assert "row 250 (line 251) level: NOT_IN_OPTIONS" in out
        assert "... 10 in all" in out
        assert "... 2490 records in the table" in out
    finally:
        server.send_signal(signal.SIGINT)
        try:
            assert server.wait(timeout=20) == 0
        finally:
            server.kill()
