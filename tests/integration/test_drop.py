"""A file dropped into the bucket's drop/{tenant}/{recipe_id}/ folder, with the real AWS CLI,
becomes an import and runs."""

import subprocess
import sys
import time

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts


def aws(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", stack.aws_endpoint, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_aws_cli_drop_starts_an_import(tenant, stack, tmp_path):
    recipe = setup_contacts(tenant.admin)
    path = tmp_path / "名單.csv"
    path.write_bytes(csv_bytes([HEADER, good_row(1), good_row(2), ["", "x", *good_row(3)[2:]]]))
    bucket = stack.resource_name("DataBucket")
    copied = aws(stack, "s3", "cp", str(path), f"s3://{bucket}/drop/{tenant.id}/{recipe['id']}/名單.csv")
    assert copied.returncode == 0, copied.stderr

    deadline = time.monotonic() + 60
    while not (listed := tenant.viewer.ok("GET", "/imports")["data"]):
        assert time.monotonic() < deadline, "the dropped file started no import"
        time.sleep(0.3)
    done = tenant.viewer.wait(listed[0]["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed_with_errors", 2, 1)
    assert done["file"]["name"] == "名單.csv" and done["created_by"].startswith("s3-drop:")
    assert done["recipe_id"] == recipe["id"]


def test_drops_that_name_no_import_are_ignored(tenant, stack, tmp_path):
    setup_contacts(tenant.admin)
    path = tmp_path / "a.csv"
    path.write_bytes(b"a\n1\n")
    bucket = stack.resource_name("DataBucket")
    since = len(stack.runtime.invocations)
    for key in (f"drop/{tenant.id}/no-such-recipe/a.csv", f"drop/{tenant.id}/a.csv", "drop/other-tenant/x/a.csv"):
        assert aws(stack, "s3", "cp", str(path), f"s3://{bucket}/{key}").returncode == 0
    deadline = time.monotonic() + 30
    while sum(1 for i in stack.runtime.invocations[since:] if i.function == "ObjectCreatedFunction") < 3:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    outcomes = [i.outcome for i in stack.runtime.invocations[since:] if i.function == "ObjectCreatedFunction"]
    assert outcomes == ["ok", "ok", "ok"]
    assert tenant.viewer.ok("GET", "/imports")["data"] == []
