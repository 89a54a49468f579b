"""An import reads exactly the file Prepare read (issue 32): the upload ticket of `POST /v1/imports`
stays valid for an hour, so the same tenant can POST another file to the same key while the import
waits, runs or after it finished. Whatever is uploaded after the file landed is never read: the
import, its restart and an atomic import's write pass all read the version of the object that
landed first (S3 versioning), and a bucket that cannot keep versions fails the run SOURCE_CHANGED
(If-Match on the ETag) rather than mixing two files."""

from __future__ import annotations

import hashlib
import time

import boto3
import pytest
import requests

from tests.helpers import csv_bytes
from tests.integration.test_lifecycle import execution_status, wait_for
from tests.samples import HEADER, good_row, setup_contacts

ROWS = 500  # five chunks of the test stack's 100 rows


def _file(name: str, rows: int = ROWS) -> bytes:
    """The contacts file with the same membership numbers, each row's name starting with `name`
    (two CJK characters: files made with names of the same length have the same length)."""
    return csv_bytes(
        [HEADER] + [[row[0], f"{name}{n}", *row[2:]] for n, row in ((n, good_row(n)) for n in range(1, rows + 1))]
    )


FIRST = _file("客戶")
SAME_LENGTH = _file("駭客")
OTHER_LENGTH = _file("另一個檔案", ROWS + 37)
assert len(FIRST) == len(SAME_LENGTH) != len(OTHER_LENGTH)


def _ticket(tenant, **fields) -> dict:
    """A new import of the tenant waiting for its upload (its ticket in `upload`)."""
    recipe = setup_contacts(tenant.admin)
    return tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], **fields})["data"]


def _upload(upload: dict, content: bytes) -> None:
    response = requests.post(upload["url"], data=upload["fields"], files={"file": ("data.csv", content)}, timeout=30)
    assert response.status_code == 204, response.text  # S3 takes any upload the ticket allows


def _names(tenant) -> dict[str, str]:
    return {r["data"]["membership_no"]: r["data"]["name"] for r in tenant.viewer.all_pages("/tables/contacts/records")}


def _first_files_records(tenant) -> None:
    """The table holds the first file's rows, every one, and nothing of another file."""
    assert _names(tenant) == {f"M{n:06d}": f"客戶{n}" for n in range(1, ROWS + 1)}


def _mine(tenant):
    return lambda event: isinstance(event, dict) and event.get("tenant") == tenant.id


def _upload_twice(tenant, faults, created: dict, second: bytes, function: str, operation: str, when=None) -> dict:
    """Upload the first file, and the second with the import's ticket while `function` is held
    before `operation` (for the tenant's run); returns the import once it finished."""
    with faults.hold(function, operation, when=when or _mine(tenant)) as gate:
        _upload(created["upload"], FIRST)
        gate.wait()
        _upload(created["upload"], second)
        gate.release()
    return tenant.viewer.wait(created["id"])


def _stopped(stack, tenant, item: dict) -> None:
    """Wait for the failed import's execution to end (a restart is refused until then)."""
    wait_for(lambda: execution_status(tenant, item, stack) != "RUNNING", what="the execution to end")


def _completed_with_first_file(done: dict) -> None:
    assert done["status"] == "completed", done
    assert (done["total_count"], done["success_count"]) == (ROWS, ROWS)
    assert done["file"]["size"] == len(FIRST) and done["file"]["sha256"] == hashlib.sha256(FIRST).hexdigest()


@pytest.mark.parametrize("replacement", [SAME_LENGTH, OTHER_LENGTH], ids=["same length", "other length"])
def test_a_file_uploaded_again_after_prepare_read_it_is_never_read(tenant, faults, replacement):
    """Prepare read, counted and hashed the first file; the chunks then run after a second upload
    with the same ticket: they read the first file's bytes, not the second's."""
    created = _ticket(tenant)
    # Prepare stops just before it writes the chunk manifest: the file is read, no chunk has run.
    done = _upload_twice(tenant, faults, created, replacement, "PrepareImportFunction", "s3.PutObject")
    _completed_with_first_file(done)
    _first_files_records(tenant)


def test_an_atomic_imports_write_pass_reads_what_its_check_pass_read(tenant, faults):
    created = _ticket(tenant, atomic=True)
    # The last chunk of the check pass stops before it is counted: the write pass has not begun.
    last_check = lambda e: _mine(tenant)(e) and e["pass"] == "check" and e["chunk"]["index"] == 4  # noqa: E731
    done = _upload_twice(
        tenant, faults, created, SAME_LENGTH, "ProcessChunkFunction", "dynamodb.UpdateItem", last_check
    )
    _completed_with_first_file(done)
    _first_files_records(tenant)


def test_a_restart_after_the_file_was_uploaded_again_reads_the_first_file(stack, tenant, faults):
    created = _ticket(tenant)
    upload = created["upload"]
    # Chunk 3 dies every time (the first try and the Map's three retries): the import fails.
    chunk_3 = lambda e: _mine(tenant)(e) and e["chunk"]["index"] == 3  # noqa: E731
    faults.crash("ProcessChunkFunction", "s3.GetObject", times=4, when=chunk_3)
    try:
        _upload(upload, FIRST)
        failed = tenant.viewer.wait(created["id"])
    finally:
        faults.crash("ProcessChunkFunction", "s3.GetObject", times=0)
    assert failed["status"] == "failed" and failed["success_count"] == ROWS - 100

    _upload(upload, SAME_LENGTH)
    _stopped(stack, tenant, failed)
    tenant.editor.ok("POST", f"/imports/{created['id']}/restart")
    _completed_with_first_file(tenant.viewer.wait(created["id"]))
    _first_files_records(tenant)

    _upload(upload, OTHER_LENGTH)  # and once more, before a second restart would be refused
    refused = tenant.editor.post(f"/imports/{created['id']}/restart").json()["error"]
    assert refused["code"] == "IMPORT_NOT_RESTARTABLE"
    _first_files_records(tenant)


def test_an_upload_again_with_the_ticket_after_the_file_landed_starts_and_changes_nothing(stack, tenant, faults):
    """Uploaded again before Prepare read the file (the import may wait for its table), and again
    after it finished: S3 takes both (a presigned POST cannot be revoked), the import reads the file
    that landed first, and nothing starts, restarts or changes afterwards."""
    created = _ticket(tenant)
    upload = created["upload"]
    # Held when the file landed and started the import; Prepare has not looked at it yet.
    done = _upload_twice(tenant, faults, created, SAME_LENGTH, "PrepareImportFunction", "s3.HeadObject")
    _completed_with_first_file(done)
    _first_files_records(tenant)

    since = len(stack.runtime.invocations)
    _upload(upload, OTHER_LENGTH)
    # The upload's event is delivered (the Object Created function runs) and ignored.
    deadline = time.monotonic() + 30
    while not [i for i in stack.runtime.invocations[since:] if i.function == "ObjectCreatedFunction"]:
        assert time.monotonic() < deadline, "the upload's Object Created event was not delivered"
        time.sleep(0.1)
    assert not [i for i in stack.runtime.invocations[since:] if i.function == "PrepareImportFunction"]
    assert tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"] == done
    _first_files_records(tenant)


def test_in_a_bucket_that_keeps_no_versions_a_replaced_file_fails_source_changed(stack, tenant, faults):
    """Versioning turned off (suspended) on the bucket: the object's one version is written over, so
    what Prepare read cannot be read again. The chunks' reads (If-Match on its ETag) refuse the other
    bytes: the import fails SOURCE_CHANGED with nothing written, and a restart is refused."""
    s3 = boto3.client("s3")
    bucket = stack.resource_name("DataBucket")
    created = _ticket(tenant)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    try:
        failed = _upload_twice(tenant, faults, created, SAME_LENGTH, "PrepareImportFunction", "s3.PutObject")
    finally:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert failed["status"] == "failed" and failed["error"]["code"] == "SOURCE_CHANGED", failed
    assert failed["error"]["message"].startswith("The uploaded file was replaced after the import read it")
    assert failed["success_count"] == 0 and _names(tenant) == {}
    in_chinese = tenant.viewer.ok("GET", f"/imports/{created['id']}", headers={"Accept-Language": "zh-TW"})["data"]
    assert in_chinese["error"]["message"].startswith("匯入讀取檔案後")

    _stopped(stack, tenant, failed)
    refused = tenant.editor.post(f"/imports/{created['id']}/restart")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "SOURCE_CHANGED")
    assert _names(tenant) == {}
