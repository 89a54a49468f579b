"""`make smoke`'s script against the local stack, so the command users run against AWS cannot rot:
every check passes on a fresh tenant, and a broken deployment makes it fail."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def smoke(stack, tenant, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "tools/smoke.py", "--api", stack.api_url, "--key", tenant.keys["admin"]]
    command += ["--tenant", tenant.id, "--bucket", stack.resource_name("DataBucket")]
    command += ["--endpoint-url", stack.aws_endpoint, "--schedule-lead", "8", "--timeout", "120", *extra]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_smoke_passes_on_the_local_stack(stack, tenant):
    result = smoke(stack, tenant)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("PASS") for line in lines) == 7, result.stdout
    assert lines[-1] == "7 passed, 0 failed, 0 not run"


def test_smoke_fails_when_the_drop_folder_is_not_wired(stack, tenant):
    """A drop into another tenant's folder makes no import of this tenant's recipe: the check times
    out and the run exits 1, naming it (what a deployment without the S3 notification would show)."""
    result = smoke(stack, tenant, "--timeout", "5", "--schedule-lead", "1", "--tenant", "t-nobody")
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert [line.split("  ")[1].strip() for line in failed] == ["S3 drop (AWS CLI)"], result.stdout
