"""What a newcomer does: start the local stack the way `make run` does, then run the README's quick
start (examples/quickstart.sh) against it: a CSV with every 250th row bad, counted exactly. The
script's steps are the README's; its file has 2,500 rows here, not 10,000 (each row claims a unique
key, one request a row: the full size would cost the suite minutes)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import Api, DevstackProcess, csv_bytes, free_port
from tests.samples import HEADER, good_row, setup_contacts

ROOT = Path(__file__).resolve().parents[2]
DEVSTACK = [sys.executable, "-m", "devstack"]


def test_run_command_and_quickstart():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with DevstackProcess("--key", "acme:viewer:acme-secret", "--quiet") as stack:
        api_port, aws_port = stack.api_port, stack.aws_port
        text = stack.banner
        api = f"http://127.0.0.1:{api_port}/v1"
        assert "dev-key" in text and "acme-secret  (tenant 'acme', role viewer)" in text
        quick_start = f"API={api} bash examples/quickstart.sh"
        assert quick_start in text  # the exact command for its port
        aws = f"http://127.0.0.1:{aws_port}"
        assert f"export AWS_ENDPOINT_URL={aws} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local" in text
        assert requests.get(f"{api}/health", timeout=5).json() == {"status": "ok"}
        # The web console, at the API port's root, named in the banner.
        console = f"http://127.0.0.1:{api_port}/"
        assert f"Console       {console}" in text
        page = requests.get(console, timeout=5)
        assert page.headers["Content-Type"].startswith("text/html") and '<div id="app">' in page.text
        acme = {"Authorization": "Bearer acme-secret"}
        assert requests.get(f"{api}/tables", headers=acme, timeout=5).json()["data"] == []
        table = {"key": "t", "fields": [{"key": "x"}]}
        assert requests.post(f"{api}/tables", headers=acme, json=table, timeout=5).status_code == 403

        # Its ports are taken now: a second stack names the flag to change.
        busy = subprocess.run(
            [*DEVSTACK, "--api-port", str(api_port), "--aws-port", str(free_port())],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert busy.returncode == 2 and f"Port {api_port} is in use" in busy.stderr and "--api-port" in busy.stderr

        # The AWS CLI works with the settings it printed.
        listed = subprocess.run(
            [str(Path(sys.executable).parent / "aws"), "s3", "ls"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "AWS_ENDPOINT_URL": aws, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"},
        )
        assert listed.returncode == 0 and "bulkimport-local-databucket" in listed.stdout, listed.stderr

        quickstart = subprocess.run(
            ["bash", "-c", quick_start],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**env, "PYTHON": sys.executable, "ROWS": "2500"},
        )
        assert quickstart.returncode == 0, quickstart.stdout + quickstart.stderr
        out = quickstart.stdout
        assert "completed_with_errors 100% total=2500 processed=2500 ok=2490 failed=10" in out
        assert "row 250 (line 251) level: NOT_IN_OPTIONS" in out
        assert "... 10 in all" in out
        assert "... 2490 records in the table" in out
        assert stack.stop(timeout=20) == 0
    # --quiet: nothing after the banner, though requests, chunks and runs happened.
    assert "POST " not in stack.output()[len(stack.banner) :]


def test_help_describes_every_flag():
    shown = subprocess.run([*DEVSTACK, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    for flag in ("--api-port", "--aws-port", "--key TENANT:ROLE[:SECRET]", "--quiet", "--stock-moto"):
        assert flag in shown.stdout
    assert "make run API_PORT=3100 AWS_PORT=5100" in " ".join(shown.stdout.split())


def test_make_run_passes_the_ports():
    shown = subprocess.run(
        ["make", "-n", "run", "API_PORT=3100", "AWS_PORT=5100", "STAMP=", "NODE_STAMP="],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0 and "-m devstack --api-port 3100 --aws-port 5100" in shown.stdout


def test_make_run_builds_the_console_again_when_its_sources_or_the_lock_change():
    def planned(*what_if: str) -> str:
        flags = [arg for path in what_if for arg in ("-W", path)]
        shown = subprocess.run(
            ["make", "-n", *flags, "run", "STAMP=", "NODE_STAMP="], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        return shown.stdout

    for changed in ("console/src/pages/import.tsx", "console/src/style.css", "package-lock.json"):
        assert "vite build console" in planned(changed), changed
    assert "vite build console" not in planned()  # built by make test before the tests run: up to date


def _port_in_time_wait() -> int:
    """A port whose last connection waits in TIME-WAIT on the server's side, as a stack stopped a
    moment ago leaves its ports: the server closed first, then the client."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()
        client.recv(1)  # the server's FIN
        client.close()
    return port


def test_a_port_left_in_time_wait_is_free_and_ctrl_c_says_what_it_does_and_exits_at_once():
    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # without SO_REUSEADDR: "in use", what the check used to do
    with DevstackProcess("--quiet", api_port=port) as stack:
        assert "moto fixes: on" in stack.banner
        api = Api(stack.api, "dev-key")
        recipe = setup_contacts(api)
        rows = [good_row(n) for n in range(1, 301)]
        assert api.wait(api.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])["success_count"] == 300
        started = time.monotonic()
        assert stack.stop(timeout=30) == 0
        took = time.monotonic() - started
    after = stack.output()[len(stack.banner) :]
    assert "Stopping: the API and AWS endpoints close, the worker processes end; the data in memory goes." in after
    assert "Stopped." in after
    assert took < 3, f"Ctrl-C took {took:.1f} s"


def test_fixes_written_for_another_moto_refuse_to_start_and_say_what_to_do(tmp_path):
    # A moto release the fixes were not written for, as Python's package metadata would report it.
    (tmp_path / "moto-9.9.9.dist-info").mkdir()
    (tmp_path / "moto-9.9.9.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: moto\nVersion: 9.9.9\n")
    refused = subprocess.run(
        [*DEVSTACK, "--api-port", str(free_port()), "--aws-port", str(free_port()), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    message = refused.stderr
    assert "were not written for moto 9.9.9 (written for 5.2.5)" in message
    assert "DEVSTACK_MOTO_FIXES=0" in message and "--stock-moto" in message and "pip install moto==5.2.5" in message
    assert "Bulk import local stack is up" not in refused.stdout
