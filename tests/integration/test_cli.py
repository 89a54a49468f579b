"""The installed `bulkimport` command, run as a subprocess against the session's local stack: what a
user types, what they see, and the exit codes the contract promises (0 done, 1 refused or failed,
2 bad usage)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest
import yaml

from tests.helpers import csv_bytes, free_port
from tests.samples import CONTACTS, HEADER, contacts_recipe, good_row

ROOT = Path(__file__).resolve().parents[2]
BULKIMPORT = shutil.which("bulkimport", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def command() -> str:
    assert BULKIMPORT, "bulkimport is not installed in the venv: make install (requirements-dev.txt: -e ./cli)"
    return BULKIMPORT


class Cli:
    """`bulkimport` with a tenant's key and the stack's API in its environment."""

    def __init__(self, command: str, api: str, key: str, env: dict | None = None):
        self.command = command
        self.env = {**os.environ, "BULKIMPORT_API": api, "BULKIMPORT_KEY": key, "COLUMNS": "200", **(env or {})}

    def __call__(self, *args: str, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.command, *args], capture_output=True, text=True, timeout=timeout, env=self.env, **kwargs
        )

    def json(self, *args: str) -> dict:
        done = self("--json", *args)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)


def _rows(count: int, bad_every: int = 0) -> list[list[str]]:
    rows = [good_row(n) for n in range(1, count + 1)]
    if bad_every:
        for n in range(bad_every, count + 1, bad_every):
            rows[n - 1][3] = "C"  # NOT_IN_OPTIONS
    return rows


def _setup(cli: Cli, tmp_path: Path) -> str:
    """The contacts table from YAML and its recipe from JSON, through the CLI; the recipe's id."""
    (tmp_path / "table.yaml").write_text(yaml.safe_dump(CONTACTS, allow_unicode=True), encoding="utf-8")
    (tmp_path / "recipe.json").write_text(json.dumps(contacts_recipe(), ensure_ascii=False), encoding="utf-8")
    made = cli("tables", "create", str(tmp_path / "table.yaml"))
    assert made.returncode == 0 and "Created table contacts." in made.stdout, made.stdout + made.stderr
    return cli.json("recipes", "create", str(tmp_path / "recipe.json"))["id"]


@pytest.fixture
def cli(command, stack, tenant) -> Cli:
    return Cli(command, stack.api_url, tenant.keys["admin"])


def test_import_with_bad_rows_waits_prints_counts_and_failures(cli, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    listed = cli("tables", "list")
    assert listed.returncode == 0 and "contacts" in listed.stdout and "客戶" in listed.stdout

    source = tmp_path / "contacts.csv"
    source.write_bytes(csv_bytes([HEADER, *_rows(300, bad_every=100)]))
    done = cli("import", str(source), "--recipe", recipe_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "completed_with_errors: 300 of 300 rows processed, 297 imported, 3 failed." in done.stdout
    assert "rows/s" in done.stderr  # the import's progress bar

    import_id = cli.json("imports", "list")["data"][0]["id"]
    shown = cli("failures", import_id)
    assert shown.returncode == 0
    lines = [line for line in shown.stdout.splitlines() if "NOT_IN_OPTIONS" in line]
    assert len(lines) == 3 and "101" in lines[0]
    assert [f["row"] for f in cli.json("failures", import_id)["data"]] == [100, 200, 300]

    target = tmp_path / "failures.csv"
    fetched = cli("failures", import_id, "--csv", str(target))
    assert fetched.returncode == 0 and str(target) in fetched.stdout
    content = target.read_text(encoding="utf-8-sig").splitlines()
    assert content[0].startswith("_row,") and content[0].endswith("error_code,error_message") and len(content) == 4
    assert content[1].startswith("100,M000100,") and ",NOT_IN_OPTIONS," in content[1]

    shown = cli.json("imports", "show", import_id)
    assert (shown["success_count"], shown["fail_count"], shown["status"]) == (297, 3, "completed_with_errors")


def test_a_reports_title_is_skipped_with_header_row(cli, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    source = tmp_path / "report.csv"
    source.write_bytes(csv_bytes([["Contacts report"], [], HEADER, *_rows(3, bad_every=2)]))
    done = cli("--json", "import", str(source), "--recipe", recipe_id, "--header-row", "3", "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    shown = json.loads(done.stdout)
    assert (shown["header_row"], shown["success_count"], shown["fail_count"]) == (3, 2, 1)
    (failure,) = cli.json("failures", shown["id"])["data"]
    assert (failure["row"], failure["source_line"]) == (2, 5)  # the file's line, title included
    refused = cli("import", str(source), "--recipe", recipe_id, "--header-row", "0")
    assert refused.returncode == 2 and "--header-row" in refused.stderr


def test_an_import_reverted_with_the_cli(cli, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    source = tmp_path / "three.csv"
    source.write_bytes(csv_bytes([HEADER, *_rows(3)]))
    done = cli("import", str(source), "--recipe", recipe_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Rows: 3 created, 0 updated, 0 unchanged, 0 failed." in done.stdout
    import_id = cli.json("imports", "list")["data"][0]["id"]

    reverted = cli("imports", "revert", import_id, "--wait")
    assert reverted.returncode == 0, reverted.stdout + reverted.stderr
    assert "Reverted: 3 records deleted, 0 restored, 0 skipped (changed since)." in reverted.stdout
    shown = cli.json("imports", "show", import_id)
    assert (shown["status"], shown["revert"]["deleted"]) == ("reverted", 3)
    again = cli("imports", "revert", import_id)
    assert again.returncode == 1 and "ALREADY_REVERTED" in again.stdout + again.stderr


def test_a_failed_import_exits_1_with_its_error(cli, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    source = tmp_path / "wrong.csv"
    source.write_bytes(csv_bytes([["會員編號", "something else"], ["M1", "x"]]))
    done = cli("import", str(source), "--recipe", recipe_id, "--wait")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed: 0 of 0 rows processed" in done.stdout and "MISSING_COLUMN" in done.stdout

    as_json = cli("--json", "import", str(source), "--recipe", recipe_id, "--wait")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["error"]["code"] == "MISSING_COLUMN"


def test_a_large_file_goes_through_the_presigned_upload_with_a_bar(cli, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    # Over 4 MB in a few rows: a wide column the recipe does not map.
    rows = [[*good_row(n), "x" * 300_000] for n in range(1, 16)]
    source = tmp_path / "wide.csv"
    source.write_bytes(csv_bytes([[*HEADER, "notes"], *rows]))
    assert source.stat().st_size > 4 * 1024 * 1024
    done = cli("--json", "import", str(source), "--recipe", recipe_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    settled = json.loads(done.stdout)
    assert settled["success_count"] == 15 and settled["file"]["size"] == source.stat().st_size
    bar = cli("import", str(source), "--recipe", recipe_id, "--dry-run")
    assert bar.returncode == 0 and "Uploading wide.csv" in bar.stderr and "MB" in bar.stderr


def test_export_is_created_waited_for_downloaded_and_opens(cli, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    source = tmp_path / "contacts.csv"
    source.write_bytes(csv_bytes([HEADER, *_rows(120)]))
    assert cli("import", str(source), "--recipe", recipe_id, "--wait").returncode == 0

    target = tmp_path / "level-a.xlsx"
    done = cli("export", "contacts", "--filter", "level=A", "--format", "xlsx", "-o", str(target))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Exported 60 records to {target}" in done.stdout
    sheet = openpyxl.load_workbook(target, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("_id", "會員編號") and len(rows) == 61
    assert {row[4] for row in rows[1:]} == {"A"}

    csv_target = tmp_path / "all.csv"
    assert cli("export", "contacts", "-o", str(csv_target)).returncode == 0
    assert len(csv_target.read_text(encoding="utf-8-sig").splitlines()) == 121

    wrong = cli("export", "contacts", "--filter", "level=A", "--total", "7", "-o", str(tmp_path / "x.csv"))
    assert wrong.returncode == 1 and "TOTAL_MISMATCH" in wrong.stderr and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["import", "README.md"],  # no --recipe
        ["import", "no-such-file.csv", "--recipe", "r"],
        ["imports", "list", "--bogus"],
        ["export", "contacts", "--filter", "level", "-o", "x.csv"],
        ["keys", "create", "--role", "owner"],
        ["--lang", "fr", "tables", "list"],
        ["no-such-command"],
    ],
)
def test_bad_usage_exits_2(cli, args):
    done = cli(*args, cwd=ROOT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Usage:" in done.stderr or "Error:" in done.stderr


def test_keys_through_the_cli_and_a_revoked_key_exits_1_with_the_apis_code(cli, stack, command):
    made = cli.json("keys", "create", "--role", "viewer", "--name", "reader")
    assert made["key"].startswith("bik_") and made["role"] == "viewer"
    plain = cli("keys", "create", "--role", "editor")
    assert plain.returncode == 0 and plain.stdout.strip().startswith("bik_") and "shown this once" in plain.stderr
    reader = Cli(command, stack.api_url, made["key"])
    assert reader("tables", "list").returncode == 0

    listed = cli("keys", "list")
    assert listed.returncode == 0 and "reader" in listed.stdout and made["key"] not in listed.stdout
    assert cli("keys", "revoke", made["id"]).returncode == 0
    deadline = time.monotonic() + 10
    while (refused := reader("tables", "list")).returncode == 0:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.2)
    assert refused.returncode == 1 and "UNAUTHORIZED" in refused.stderr
    assert next(k for k in cli.json("keys", "list")["data"] if k["id"] == made["id"])["revoked_at"]

    own = next(k for k in cli.json("keys", "list")["data"] if k["role"] == "admin")
    last = cli("keys", "revoke", own["id"])
    assert last.returncode == 1 and "LAST_ADMIN_KEY" in last.stderr
    editor = Cli(command, stack.api_url, plain.stdout.strip())
    forbidden = editor("keys", "list")
    assert forbidden.returncode == 1 and "FORBIDDEN" in forbidden.stderr


def test_messages_in_traditional_chinese(cli):
    done = cli("--lang", "zh-TW", "imports", "show", "01NOSUCHIMPORT")
    assert done.returncode == 1 and "IMPORT_NOT_FOUND" in done.stderr and "錯誤" in done.stderr
    assert "找不到" in done.stderr  # the API's own message, in the language asked for


def test_admin_create_key_with_the_stacks_endpoint_and_fast_failure_without_one(command, stack):
    env = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    admin = Cli(command, stack.api_url, "unused", env)
    made = admin("--json", "admin", "create-key", "--tenant", "acme-cli", "--endpoint-url", stack.aws_endpoint)
    assert made.returncode == 0, made.stdout + made.stderr
    key = json.loads(made.stdout)
    assert key["role"] == "admin" and key["tenant"] == "acme-cli"
    assert Cli(command, stack.api_url, key["key"]).json("keys", "list")["data"][0]["id"] == key["id"]

    started = time.monotonic()
    dead = admin("admin", "create-key", "--tenant", "x", "--endpoint-url", f"http://127.0.0.1:{free_port()}")
    assert dead.returncode == 1 and "NO_AWS_ENDPOINT" in dead.stderr and "No AWS endpoint answers" in dead.stderr
    assert time.monotonic() - started < 10


def test_no_api_answering_is_a_clear_error(command):
    done = Cli(command, f"http://127.0.0.1:{free_port()}/v1", "k")("tables", "list")
    assert done.returncode == 1 and "NO_API" in done.stderr


def test_ctrl_c_while_waiting_asks_whether_to_cancel(cli, tenant, faults, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    source = tmp_path / "slow.csv"
    source.write_bytes(csv_bytes([HEADER, *_rows(1000)]))
    gate = threading.Event()
    faults.delay("ProcessChunkFunction", 0.01, when=lambda event: event.get("tenant") == tenant.id and gate.wait(60))
    try:
        waiting = subprocess.Popen(
            [cli.command, "import", str(source), "--recipe", recipe_id, "--wait"],
            env=cli.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not [i for i in tenant.viewer.ok("GET", "/imports")["data"] if i["status"] == "importing"]:
            assert time.monotonic() < deadline, "the import never ran"
            time.sleep(0.2)
        time.sleep(1)  # the CLI is watching it
        waiting.send_signal(signal.SIGINT)
        out, err = waiting.communicate("y\n", timeout=120)
    finally:
        gate.set()
        faults.delay("ProcessChunkFunction", 0)
    assert "Cancel import" in err, err
    assert waiting.returncode == 1, out + err
    assert "cancelled:" in out
    assert tenant.viewer.ok("GET", "/imports")["data"][0]["status"] == "cancelled"


class _JsonApi(BaseHTTPRequestHandler):
    """A stand-in for the API, answering JSON; quiet."""

    def answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


class _Throttled(_JsonApi):
    """An API that answers 429 with Retry-After: 1 to the first request, then a page of tables."""

    seen: ClassVar[list[float]] = []

    def do_GET(self):
        _Throttled.seen.append(time.monotonic())
        if len(_Throttled.seen) == 1:
            body, status, headers = (
                b'{"error": {"code": "RATE_LIMITED", "message": "slow down"}}',
                429,
                {"Retry-After": "1"},
            )
        else:
            body, status, headers = b'{"data": [], "meta": {"per_page": 15, "next_cursor": null}}', 200, {}
        self.answer(status, body, headers)


def test_a_429_is_retried_after_retry_after(command):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Throttled)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Throttled.seen.clear()
        done = Cli(command, f"http://127.0.0.1:{server.server_port}/v1", "k")("--json", "tables", "list")
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_Throttled.seen) == 2 and _Throttled.seen[1] - _Throttled.seen[0] >= 0.95


def test_recipes_suggest_shows_the_proposed_columns(cli, tmp_path):
    (tmp_path / "table.yaml").write_text(yaml.safe_dump(CONTACTS, allow_unicode=True), encoding="utf-8")
    assert cli("tables", "create", str(tmp_path / "table.yaml")).returncode == 0
    source = tmp_path / "new-clients.csv"
    source.write_bytes(csv_bytes([["會員編號", "NAME", "E-mail", "備註"], ["M1", "王", "w@example.com", "x"]]))
    shown = cli("recipes", "suggest", str(source), "--table", "contacts")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "membership_no" in shown.stdout and "similar_name" in shown.stdout
    suggestion = cli.json("recipes", "suggest", str(source), "--table", "contacts")
    assert [(c["source"], c["target"]) for c in suggestion["columns"]] == [
        ("會員編號", "membership_no"),
        ("NAME", "name"),
        ("E-mail", "email"),
    ]
    assert suggestion["unmapped_sources"] == ["備註"]


class _Importing(_JsonApi):
    """An API whose import is `importing` with progress 40 while no chunk is counted yet (a long first
    chunk: `processed_count` moves only when a chunk is done), then `completed`."""

    polls: ClassVar[int] = 0
    RUNNING_POLLS = 6

    def do_GET(self):
        _Importing.polls += 1
        base = {"id": "IMP1", "total_count": 1000, "success_count": 0, "fail_count": 0, "error": None}
        if _Importing.polls <= self.RUNNING_POLLS:
            item = {**base, "status": "importing", "progress": 40, "processed_count": 0}
        else:
            item = {**base, "status": "completed", "progress": 100, "processed_count": 1000, "success_count": 1000}
        self.answer(200, json.dumps({"data": item}).encode())


def test_the_import_bar_follows_the_apis_progress_not_the_counted_chunks(command):
    """On a terminal the bar shows the import's `progress` (which moves inside a chunk), not
    processed_count, which stays 0 until the first chunk is done."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Importing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    primary, secondary = pty.openpty()  # stderr is a terminal: rich draws the bar live
    try:
        _Importing.polls = 0
        env = Cli(command, f"http://127.0.0.1:{server.server_port}/v1", "k").env
        watching = subprocess.Popen(
            [command, "imports", "watch", "IMP1"], env=env, stdout=subprocess.PIPE, stderr=secondary, text=True
        )
        os.close(secondary)
        drawn = b""
        while chunk := _read_terminal(primary):
            drawn += chunk
        out, _ = watching.communicate(timeout=60)
    finally:
        os.close(primary)
        server.shutdown()
    assert watching.returncode == 0, out
    screen = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", drawn).decode(errors="replace")
    assert " 40%" in screen, screen  # as the API said while no chunk was counted
    assert "400/1,000 rows" in screen, screen  # the rows that progress stands for
    assert "completed: 1,000 of 1,000 rows processed" in out


def _read_terminal(fd: int) -> bytes:
    """What the process drew since the last read; b"" once it closed the terminal."""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other end is closed
        return b""


def _terminal_run(command: str, args: list[str], env: dict, columns: int) -> str:
    """The command's stdout on a terminal `columns` wide (escape sequences removed)."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    try:
        running = subprocess.Popen([command, *args], env=env, stdout=secondary, stderr=subprocess.DEVNULL)
        os.close(secondary)
        drawn = b""
        while chunk := _read_terminal(primary):
            drawn += chunk
        running.wait(timeout=60)
    finally:
        os.close(primary)
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", drawn).decode()


def test_tables_use_the_terminals_width_and_are_not_cut_when_piped(cli, tmp_path):
    name = "客戶資料 " + "long name " * 19  # 200 characters: with the other columns, wider than 200
    (tmp_path / "table.yaml").write_text(yaml.safe_dump({**CONTACTS, "name": name}, allow_unicode=True), "utf-8")
    assert cli("tables", "create", str(tmp_path / "table.yaml")).returncode == 0
    env = {k: v for k, v in cli.env.items() if k != "COLUMNS"}

    # Piped: every row on one line, however wide.
    piped = subprocess.run([cli.command, "tables", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    (row,) = [line for line in piped.stdout.splitlines() if "contacts" in line]
    assert name.strip() in row

    # On a terminal: its width, also where rich would fall back to 80 columns (TERM=dumb).
    for term in ("xterm-256color", "dumb"):
        screen = _terminal_run(cli.command, ["tables", "list"], {**env, "TERM": term}, 150)
        widths = [len(line) for line in screen.splitlines() if line.strip()]
        assert max(widths) == 150, (term, screen)


def test_counts_in_tables_have_thousands_separators(cli, tenant, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    tenant.admin.wait(tenant.admin.import_file(recipe_id, csv_bytes([HEADER, *_rows(1200)]))["id"], 300)
    listed = cli("imports", "list")
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if "completed" in line]
    assert row.count("1,200") == 2, row  # total_count and success_count
    shown = cli("tables", "list")
    assert "1,200" in shown.stdout  # record_count
    assert cli.json("imports", "list")["data"][0]["total_count"] == 1200  # JSON keeps numbers


def test_recipes_create_takes_transforms_formats_and_defaults_from_yaml(cli, tmp_path, tenant):
    tenant.admin.create_table(CONTACTS)
    recipe = contacts_recipe(name="cleaning")
    recipe["columns"][3] = {
        "source": "等級",
        "target": "level",
        "transform": ["trim", {"map": {"gold": "A"}, "ignore_case": True, "otherwise": "fail"}],
        "default": "B",
    }
    recipe["columns"][6] = {"source": "就診日", "target": "visit_date", "format": "ROC"}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    recipe_id = cli.json("recipes", "create", str(tmp_path / "recipe.yaml"))["id"]
    stored = tenant.viewer.ok("GET", f"/recipes/{recipe_id}")["data"]
    assert stored["columns"][3] == recipe["columns"][3] and stored["columns"][6] == recipe["columns"][6]
    row = good_row(1)
    row[3], row[6] = " GOLD ", "民國113年5月1日"
    source = tmp_path / "cleaned.csv"
    source.write_bytes(csv_bytes([HEADER, row]))
    done = cli("import", str(source), "--recipe", recipe_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    (record,) = tenant.viewer.all_pages("/tables/contacts/records")
    assert (record["data"]["level"], record["data"]["visit_date"]) == ("A", "2024-05-01")
