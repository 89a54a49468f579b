"""Files uploaded in parts (S3 multipart uploads), as a client sends them over HTTP: part URLs, PUTs,
the parts S3 holds, completion that starts the import once, and every wrong request refused with its
code. The local S3 is checked to hold parts as AWS does (5 MiB minimum but the last, ETags, ListParts)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.conftest import TEST_MAX_FILE_BYTES
from tests.helpers import csv_bytes
from tests.integration.test_lifecycle import invoke
from tests.samples import HEADER, good_row, setup_contacts

MiB = 1024 * 1024


def big_csv(rows: int, size: int) -> bytes:
    """A CSV of `rows` contacts spread over exactly `size` bytes: blank lines (which imports skip)
    between them, so that every part of the file holds rows."""
    lines = [csv_bytes([HEADER])] + [csv_bytes([good_row(n)]) for n in range(1, rows + 1)]
    padding = size - sum(len(line) for line in lines)
    assert padding >= 0
    gap, extra = divmod(padding, rows)
    body = bytearray(lines[0])
    for n, line in enumerate(lines[1:]):
        body += line + b"\n" * (gap + (extra if n == rows - 1 else 0))
    return bytes(body)


def create(tenant, recipe_id: str, size: int, **fields) -> dict:
    body = {"recipe_id": recipe_id, "file_size": size, "upload_method": "multipart", **fields}
    return tenant.editor.ok("POST", "/imports", 201, json=body)["data"]


def put_parts(tenant, import_id: str, content: bytes, part_size: int, numbers: list[int]) -> dict[int, str]:
    """PUT the parts to their presigned URLs, as a client does: their ETags, by number."""
    urls = tenant.editor.ok("POST", f"/imports/{import_id}/upload/parts", json={"numbers": numbers})["data"]
    etags = {}
    for entry in urls:
        n = entry["number"]
        response = requests.put(entry["url"], data=content[(n - 1) * part_size : n * part_size], timeout=60)
        assert response.status_code == 200, response.text
        etags[n] = response.headers["ETag"].strip('"')
    return etags


def error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def s3_parts(stack, created: dict) -> list[dict] | None:
    """What the bucket holds of the import's upload (None: no such upload, aborted or completed)."""
    s3 = boto3.client("s3")
    bucket = stack.resource_name("DataBucket")
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=f"uploads/{created['tenant']}/{created['id']}/")
    found = uploads.get("Uploads", [])
    if not found:
        return None
    return s3.list_parts(Bucket=bucket, Key=found[0]["Key"], UploadId=found[0]["UploadId"]).get("Parts", [])


def test_a_file_in_parts_resumes_and_imports_once(stack, tenant):
    recipe = setup_contacts(tenant.admin)
    content = big_csv(300, 11 * MiB + 12345)
    created = create(tenant, recipe["id"], len(content), file_name="big.csv")
    upload = created["upload"]
    assert (created["status"], upload["method"], upload["part_size"], upload["part_count"]) == (
        "waiting_upload",
        "multipart",
        5 * MiB,
        3,
    )
    expires = datetime.fromisoformat(upload["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)

    # An interrupted upload: parts 1 and 3 went, part 2 did not. S3 holds what went.
    etags = put_parts(tenant, created["id"], content, upload["part_size"], [1, 3])
    held = tenant.viewer.ok("GET", f"/imports/{created['id']}/upload")["data"]
    assert held["part_count"] == 3 and held["part_size"] == 5 * MiB
    assert held["parts"] == [
        {"number": 1, "size": 5 * MiB, "etag": hashlib.md5(content[: 5 * MiB]).hexdigest()},
        {"number": 3, "size": len(content) - 10 * MiB, "etag": hashlib.md5(content[10 * MiB :]).hexdigest()},
    ]
    assert [held["parts"][0]["etag"], held["parts"][1]["etag"]] == [etags[1], etags[3]]

    etags |= put_parts(tenant, created["id"], content, upload["part_size"], [2])
    parts = [{"number": n, "etag": etags[n]} for n in (1, 2, 3)]
    started = tenant.editor.ok("POST", f"/imports/{created['id']}/upload/complete", json={"parts": parts})["data"]
    assert started["status"] not in ("waiting_upload", "failed")
    done = tenant.viewer.wait(created["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 300, 0)
    assert done["file"] == {"name": "big.csv", "size": len(content), "sha256": done["file"]["sha256"]}
    records = tenant.viewer.all_pages("/tables/contacts/records")
    assert len(records) == 300  # the bucket's Object Created event for the completion started nothing more
    stored = boto3.client("s3").get_object(
        Bucket=stack.resource_name("DataBucket"), Key=f"uploads/{tenant.id}/{created['id']}/source"
    )
    assert stored["Body"].read() == content

    # Completed: the upload takes no more parts nor completion.
    again = tenant.editor.post(f"/imports/{created['id']}/upload/complete", json={"parts": parts})
    assert error(again, 409)["code"] == "UPLOAD_CLOSED"
    assert error(tenant.editor.get(f"/imports/{created['id']}/upload"), 409)["code"] == "UPLOAD_CLOSED"


def test_the_size_chooses_the_method_and_bad_sizes_are_refused(tenant):
    recipe = setup_contacts(tenant.admin)
    small = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_size": 1000})["data"]
    assert small["upload"]["method"] == "POST"  # up to 100 MB: one presigned POST

    def refused(status: int, **body) -> dict:
        return error(tenant.editor.post("/imports", json={"recipe_id": recipe["id"], **body}), status)

    assert refused(422, upload_method="multipart")["code"] == "FILE_SIZE_REQUIRED"
    too_small = refused(422, upload_method="multipart", file_size=5 * MiB - 1)
    assert too_small["code"] == "FILE_TOO_SMALL_FOR_MULTIPART" and str(5 * MiB) in too_small["message"]
    big = 100 * 1024 * 1024 + 1
    assert refused(413, upload_method="post", file_size=big)["code"] == "UPLOAD_TOO_LARGE_FOR_POST"
    # Above 100 MB the default is multipart, up to the stack's largest file (5 GiB on AWS).
    over = refused(413, file_size=max(big, TEST_MAX_FILE_BYTES + 1))
    assert over["code"] == "FILE_TOO_LARGE"
    assert refused(422, file_size=0)["code"] == "VALIDATION_ERROR"
    zh = tenant.editor.post(
        "/imports",
        json={"recipe_id": recipe["id"], "upload_method": "multipart"},
        headers={"Accept-Language": "zh-TW"},
    )
    assert error(zh, 422)["message"] == "分段上傳需要 file_size（檔案大小，位元組）。"


def test_wrong_part_requests_are_refused_with_their_codes(tenant, other_tenant):
    recipe = setup_contacts(tenant.admin)
    size = 10 * MiB + 1  # parts 1, 2 of 5 MiB and a last one of a byte
    created = create(tenant, recipe["id"], size)
    path = f"/imports/{created['id']}/upload"

    def parts_refused(numbers) -> str:
        return error(tenant.editor.post(path + "/parts", json={"numbers": numbers}), 422)["code"]

    assert parts_refused([0]) == "PART_NUMBER_OUT_OF_RANGE"
    assert parts_refused([4]) == "PART_NUMBER_OUT_OF_RANGE"
    assert parts_refused([]) == "PART_NUMBERS_REQUIRED"
    assert parts_refused([1] * 101) == "TOO_MANY_PART_NUMBERS"
    assert len(tenant.editor.ok("POST", path + "/parts", json={"numbers": [1] * 100})["data"]) == 1
    assert error(tenant.editor.post(path + "/parts", json={"numbers": ["1"]}), 422)["code"] == "VALIDATION_ERROR"
    assert error(tenant.viewer.post(path + "/parts", json={"numbers": [1]}), 403)["code"] == "FORBIDDEN"
    assert error(other_tenant.editor.get(path), 404)["code"] == "IMPORT_NOT_FOUND"

    content = b"x" * size
    etags = put_parts(tenant, created["id"], content, 5 * MiB, [1, 3])

    def complete_refused(parts) -> dict:
        return error(tenant.editor.post(path + "/complete", json={"parts": parts}), 422)

    missing = complete_refused([{"number": 1, "etag": etags[1]}])
    assert missing["code"] == "PARTS_MISSING" and "2, 3" in missing["message"]
    all_three = [{"number": 1, "etag": etags[1]}, {"number": 2, "etag": "0" * 32}, {"number": 3, "etag": etags[3]}]
    assert complete_refused(all_three)["code"] == "PARTS_NOT_UPLOADED"
    assert complete_refused([*all_three, {"number": 1, "etag": etags[1]}])["code"] == "DUPLICATE_PART_NUMBER"
    assert complete_refused([*all_three, {"number": 4, "etag": etags[1]}])["code"] == "PART_NUMBER_OUT_OF_RANGE"
    # Part 2 sent short (a byte): S3 itself would refuse the completion (EntityTooSmall), the API says which.
    urls = tenant.editor.ok("POST", path + "/parts", json={"numbers": [2]})["data"]
    short = requests.put(urls[0]["url"], data=b"y", timeout=30)
    etags[2] = short.headers["ETag"].strip('"')
    parts = [{"number": n, "etag": etags[n]} for n in (1, 2, 3)]
    wrong_size = complete_refused(parts)
    assert wrong_size["code"] == "PART_SIZE_WRONG" and str(5 * MiB) in wrong_size["message"]
    etags |= put_parts(tenant, created["id"], content, 5 * MiB, [2])
    wrong_etag = complete_refused([{**parts[0], "etag": etags[3]}, *parts[1:]])
    assert wrong_etag["code"] == "PART_ETAG_MISMATCH"
    assert tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["status"] == "waiting_upload"

    post_import = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"]})["data"]
    not_parts = tenant.editor.post(f"/imports/{post_import['id']}/upload/parts", json={"numbers": [1]})
    assert error(not_parts, 409)["code"] == "NOT_MULTIPART"


def _one_part_sent(tenant) -> dict:
    """An import of a 6 MiB file in two parts, the first sent."""
    recipe = setup_contacts(tenant.admin)
    created = create(tenant, recipe["id"], 6 * MiB)
    created["tenant"] = tenant.id
    put_parts(tenant, created["id"], b"z" * 6 * MiB, 5 * MiB, [1])
    return created


def test_cancelling_aborts_the_upload(stack, tenant):
    created = _one_part_sent(tenant)
    assert [p["PartNumber"] for p in s3_parts(stack, created) or []] == [1]
    tenant.editor.ok("POST", f"/imports/{created['id']}/cancel")
    assert s3_parts(stack, created) is None  # aborted: S3 dropped its parts
    refused = tenant.editor.post(f"/imports/{created['id']}/upload/parts", json={"numbers": [2]})
    assert error(refused, 409)["code"] == "UPLOAD_CLOSED"


def test_an_upload_not_completed_in_seven_days_is_aborted_and_fails_upload_expired(stack, tenant):
    created = _one_part_sent(tenant)
    assert created["id"] not in invoke(stack, "SweepRunsFunction", {})["uploads_expired"]  # it has 7 days

    # Seven days pass (and the hour of grace).
    past = (datetime.now(UTC) - timedelta(hours=1, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    dynamodb = boto3.client("dynamodb")
    table = stack.resource_name("ControlTable")
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "AWAITED_UPLOADS"}, "sk": {"S": f"UPLOAD#{tenant.id}#{created['id']}"}},
        UpdateExpression="SET deadline = :d",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":d": {"S": past}},
    )
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": f"TENANT#{tenant.id}"}, "sk": {"S": f"IMPORT#{created['id']}"}},
        UpdateExpression="SET multipart.expires_at = :d",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":d": {"S": past}},
    )
    late = tenant.editor.post(f"/imports/{created['id']}/upload/parts", json={"numbers": [2]})
    assert error(late, 409)["code"] == "UPLOAD_EXPIRED"

    assert created["id"] in invoke(stack, "SweepRunsFunction", {})["uploads_expired"]
    failed = tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]
    assert (failed["status"], failed["error"]["code"]) == ("failed", "UPLOAD_EXPIRED")
    assert s3_parts(stack, created) is None  # aborted


def test_the_local_s3_holds_parts_as_aws_does(stack):
    """boto3 straight at the bucket: every part but the last must be 5 MiB or more (EntityTooSmall at
    completion), a part's ETag is the MD5 of its bytes, ListParts lists number, size and ETag."""
    s3 = boto3.client("s3")
    bucket, key = stack.resource_name("DataBucket"), "uploads/t-s3check/x/source"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    small = b"a" * MiB
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=small)["ETag"]
    last = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=b"b")["ETag"]
    assert etag.strip('"') == hashlib.md5(small).hexdigest()
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [(1, MiB, etag), (2, 1, last)]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}, {"PartNumber": 2, "ETag": last}]}
    with pytest.raises(ClientError) as refused:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=parts)
    assert refused.value.response["Error"]["Code"] == "EntityTooSmall"
    with pytest.raises(ClientError) as wrong:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": last}]},
        )
    assert wrong.value.response["Error"]["Code"] == "InvalidPart"
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
