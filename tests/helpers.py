"""What tests share: an HTTP client for the API, tenants with keys, waiting for imports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}


ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevstackProcess:
    """`python -m devstack` as a user starts it, on free ports: its output is read as it comes (the
    stack prints a line per request, and a pipe nobody reads would block it), and `with` returns
    once its banner is out and stops it with Ctrl-C (SIGINT) at the end."""

    def __init__(self, *args: str, api_port: int | None = None, env: dict[str, str] | None = None):
        self.api_port, self.aws_port = api_port or free_port(), free_port()
        ports = ("--api-port", str(self.api_port), "--aws-port", str(self.aws_port))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack", *ports, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.banner = ""
        self._up = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/v1"

    @property
    def aws(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 30) -> int | None:
        """Ctrl-C, as a user stops it; its exit status, or None if it had to be killed."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.process.kill()
            self._reader.join(timeout=10)

    def __enter__(self) -> DevstackProcess:
        if not self._up.wait(90) or not self.banner:
            self.stop()
            raise AssertionError("the local stack did not start: " + self.output())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process.poll() is None:
            self.stop()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if "Data lives in memory" in line:
                self.banner = self.output()
                self._up.set()
        self._up.set()  # it ended (without a banner if it never came up)


class Api:
    """requests against the local stack's API with one key."""

    def __init__(self, base_url: str, key: str | None):
        self.base_url = base_url
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=60, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # ------------------------------------------------------------ conveniences
    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> dict:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def create_table(self, table: dict) -> dict:
        return self.ok("POST", "/tables", 201, json=table)["data"]

    def create_recipe(self, recipe: dict) -> dict:
        return self.ok("POST", "/recipes", 201, json=recipe)["data"]

    def import_file(self, recipe_id: str, content: bytes, file_name: str = "data.csv", **fields) -> dict:
        form = {
            "recipe_id": recipe_id,
            **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()},
        }
        return self.ok("POST", "/imports", 201, data=form, files={"file": (file_name, content, "text/csv")})["data"]

    def wait(self, import_id: str, timeout: float = 120, poll: float = 0.2) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            current = self.ok("GET", f"/imports/{import_id}")["data"]
            if current["status"] in TERMINAL:
                return current
            assert time.monotonic() < deadline, f"import still {current['status']} after {timeout}s: {current}"
            time.sleep(poll)

    def start_job(self, job: dict) -> str:
        return self.ok("POST", "/jobs", 202, json=job)["data"]["batch_code"]

    def wait_job(self, batch_code: str, timeout: float = 120, poll: float = 0.2) -> dict:
        """The finished job: {"code", "success": true, "data": {...}}."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.ok("GET", f"/jobs/{batch_code}")
            if "code" in current:
                return current
            assert time.monotonic() < deadline, f"job still running after {timeout}s: {current}"
            time.sleep(poll)

    def all_pages(self, path: str, per_page: int = 100) -> list[dict]:
        items, cursor = [], None
        separator = "&" if "?" in path else "?"
        while True:
            query = f"{separator}per_page={per_page}" + (f"&cursor={cursor}" if cursor else "")
            page = self.ok("GET", path + query)
            items.extend(page["data"])
            cursor = page["meta"]["next_cursor"]
            if not cursor:
                return items


def execution_arn(stack, machine: str, kind: str, tenant: str, run_id: str, turn: int = 1) -> str:
    """A run's execution: named `<kind>-<tenant>-<run id>[-<turn>]`, so it says whose run it is."""
    name = f"{kind}-{tenant}-{run_id}" + (f"-{turn}" if turn > 1 else "")
    return f"arn:aws:states:us-east-1:123456789012:execution:{stack.resource_name(machine)}:{name}"


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def csv_bytes(rows: list[list[str]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")
