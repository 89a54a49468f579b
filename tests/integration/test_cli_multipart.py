"""`bulkimport import` of a file in parts, as a subprocess: killed part-way, then `--resume`, which
keeps the parts S3 holds as they are in the file and sends the others (one changed since included)."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import boto3
import pytest

from tests.integration.test_cli import BULKIMPORT, Cli, _setup
from tests.integration.test_multipart import MiB, big_csv


@pytest.fixture
def cli(stack, tenant) -> Cli:
    assert BULKIMPORT, "bulkimport is not installed in the venv: make install"
    return Cli(BULKIMPORT, stack.api_url, tenant.keys["admin"])


def _waiting_import(tenant, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = tenant.viewer.ok("GET", "/imports?status=waiting_upload")["data"]
        if found:
            return found[0]["id"]
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the CLI made no import")


def test_an_upload_in_parts_killed_part_way_resumes_and_imports_once(cli, stack, tenant, tmp_path):
    recipe_id = _setup(cli, tmp_path)
    source = tmp_path / "big.csv"
    content = bytearray(big_csv(200, 22 * MiB))  # 5 parts of 5 MiB, the last of 2 MiB
    source.write_bytes(content)
    process = subprocess.Popen(
        [cli.command, "import", str(source), "--recipe", recipe_id, "--multipart", "--parallel", "1"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    import_id = _waiting_import(tenant, process)
    deadline = time.monotonic() + 60
    while len(tenant.viewer.ok("GET", f"/imports/{import_id}/upload")["data"]["parts"]) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # a lost connection, a closed laptop
    _, err = process.communicate(timeout=30)
    assert f"--resume {import_id}" in err  # it said how to go on
    held = tenant.viewer.ok("GET", f"/imports/{import_id}/upload")["data"]["parts"]
    assert 2 <= len(held) < 5, held
    assert tenant.viewer.ok("GET", f"/imports/{import_id}")["data"]["status"] == "waiting_upload"

    # Part 1 changes in the file (a blank line gets a space): S3's copy no longer matches, it goes again.
    at = 3 * MiB
    assert content[at - 1 : at + 1] == b"\n\n"
    content[at] = ord(" ")
    source.write_bytes(content)

    assert cli("import", str(source)).returncode == 2  # neither --recipe nor --resume
    other = tmp_path / "other.csv"
    other.write_bytes(b"x" * MiB)
    wrong = cli("import", str(other), "--resume", import_id)
    assert wrong.returncode == 1 and "NOT_THIS_FILE" in wrong.stderr, wrong.stderr

    done = cli("--json", "import", str(source), "--resume", import_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(held) - 1} of 5 parts already uploaded" in done.stderr
    settled = json.loads(done.stdout)
    assert (settled["id"], settled["status"], settled["success_count"]) == (import_id, "completed", 200)
    stored = boto3.client("s3").get_object(
        Bucket=stack.resource_name("DataBucket"), Key=f"uploads/{tenant.id}/{import_id}/source"
    )
    assert stored["Body"].read() == bytes(content)
    assert len(tenant.viewer.all_pages("/tables/contacts/records")) == 200
