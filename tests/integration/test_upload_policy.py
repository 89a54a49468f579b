"""An import's presigned POST, used as a careless client or an attacker would: the local S3 refuses what
the signed POST policy refuses on AWS (devstack/s3_post.py), with S3's status and error, and stores
nothing."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from datetime import datetime

import boto3
import pytest
import requests

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

CONTENT = csv_bytes([HEADER, good_row(1)])


def _ticket(tenant) -> tuple[dict, dict]:
    """A new import of the tenant waiting for its upload, and its upload ticket."""
    recipe = setup_contacts(tenant.admin)
    created = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"]})["data"]
    return created, created["upload"]


def _post(url: str, fields: dict, content: bytes) -> requests.Response:
    return requests.post(url, data=fields, files={"file": ("data.csv", content)}, timeout=30)


def _error(response: requests.Response) -> dict:
    assert response.headers["Content-Type"] == "application/xml", response.text
    return {child.tag: child.text for child in ET.fromstring(response.content)}


def _stored(stack, key: str) -> bool:
    found = boto3.client("s3").list_objects_v2(Bucket=stack.resource_name("DataBucket"), Prefix=key)
    return any(entry["Key"] == key for entry in found.get("Contents", []))


def test_the_ticket_policy_binds_the_key_the_size_and_the_expiry(tenant):
    _, upload = _ticket(tenant)
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert {"key": upload["fields"]["key"]} in policy["conditions"]
    assert ["content-length-range", 1, upload["max_bytes"]] in policy["conditions"]
    expires = datetime.fromisoformat(policy["expiration"]) - datetime.fromisoformat(upload["expires_at"])
    assert abs(expires.total_seconds()) <= 2
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4, as S3 wants for new buckets


def test_a_key_changed_to_another_tenants_upload_is_refused_and_nothing_is_stored(stack, tenant, other_tenant):
    mine, upload = _ticket(tenant)
    theirs, their_upload = _ticket(other_tenant)
    their_key = their_upload["fields"]["key"]
    response = _post(upload["url"], {**upload["fields"], "key": their_key}, CONTENT)
    assert response.status_code == 403
    error = _error(response)
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "' + upload["fields"]["key"] + '"]'
    )
    assert not _stored(stack, their_key) and not _stored(stack, upload["fields"]["key"])
    assert other_tenant.viewer.ok("GET", f"/imports/{theirs['id']}")["data"]["status"] == "waiting_upload"
    assert tenant.viewer.ok("GET", f"/imports/{mine['id']}")["data"]["status"] == "waiting_upload"


def test_an_empty_file_is_refused_entity_too_small(stack, tenant):
    _, upload = _ticket(tenant)
    response = _post(upload["url"], upload["fields"], b"")
    assert response.status_code == 400
    error = _error(response)
    assert (error["Code"], error["ProposedSize"], error["MinSizeAllowed"]) == ("EntityTooSmall", "0", "1")
    assert not _stored(stack, upload["fields"]["key"])


def test_a_file_over_the_policys_size_is_refused_entity_too_large(stack, tenant):
    """A policy of 10 bytes (made as the service makes its own, with the stack's credentials): the
    service's ticket allows 100 MB, too much to send in a test."""
    key = f"uploads/{tenant.id}/over-size/source"
    post = boto3.client("s3").generate_presigned_post(
        Bucket=stack.resource_name("DataBucket"), Key=key, Conditions=[["content-length-range", 1, 10]]
    )
    response = _post(post["url"], post["fields"], b"x" * 11)
    assert response.status_code == 400
    error = _error(response)
    assert (error["Code"], error["ProposedSize"], error["MaxSizeAllowed"]) == ("EntityTooLarge", "11", "10")
    assert not _stored(stack, key)
    assert _post(post["url"], post["fields"], b"x" * 10).status_code == 204  # at the bound: stored
    assert _stored(stack, key)


def test_an_expired_policy_is_refused(stack, tenant):
    key = f"uploads/{tenant.id}/expired/source"
    post = boto3.client("s3").generate_presigned_post(Bucket=stack.resource_name("DataBucket"), Key=key, ExpiresIn=0)
    response = _post(post["url"], post["fields"], CONTENT)
    assert response.status_code == 403
    assert _error(response) | {"RequestId": None} == {
        "Code": "AccessDenied",
        "Message": "Invalid according to Policy: Policy expired.",
        "RequestId": None,
        "HostId": "local",
    }
    assert not _stored(stack, key)


def test_a_policy_rewritten_by_the_client_does_not_match_its_signature(stack, tenant, other_tenant):
    _, upload = _ticket(tenant)
    _, their_upload = _ticket(other_tenant)
    their_key = their_upload["fields"]["key"]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    policy["conditions"] = [c if "key" not in c else {"key": their_key} for c in policy["conditions"]]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    response = _post(upload["url"], {**upload["fields"], "key": their_key, "policy": forged}, CONTENT)
    assert response.status_code == 403 and _error(response)["Code"] == "SignatureDoesNotMatch"
    assert not _stored(stack, their_key)


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (
            {"Content-Type": "text/html"},
            "AccessDenied",
            "Invalid according to Policy: Extra input fields: content-type",
        ),
        ({"x-amz-date": "20200101T000000Z"}, "AccessDenied", "Invalid according to Policy: Policy Condition failed"),
        ({"policy": None}, "AccessDenied", "Access Denied"),
        ({"x-amz-signature": None}, "AccessDenied", "Access Denied"),
        ({"policy": "not base64!"}, "SignatureDoesNotMatch", "The request signature we calculated"),
        ({"x-amz-signature": "簽名"}, "SignatureDoesNotMatch", "The request signature we calculated"),
        ({"x-amz-credential": "someone/20260101/us-east-1/s3/aws4_request"}, "InvalidAccessKeyId", "The AWS Access"),
    ],
    ids=[
        "extra-field",
        "changed-signed-field",
        "no-policy",
        "no-signature",
        "garbled-policy",
        "non-ascii-signature",
        "unknown-access-key",
    ],
)
def test_fields_the_policy_does_not_allow_are_refused(stack, tenant, change, code, message):
    _, upload = _ticket(tenant)
    fields = {k: v for k, v in {**upload["fields"], **change}.items() if v is not None}
    response = _post(upload["url"], fields, CONTENT)
    error = _error(response)
    assert (response.status_code, error["Code"]) == (403, code) and error["Message"].startswith(message)
    assert not _stored(stack, upload["fields"]["key"])


def test_the_ticket_as_given_uploads_and_starts_the_import(tenant):
    created, upload = _ticket(tenant)
    response = _post(upload["url"], upload["fields"], CONTENT)
    assert response.status_code == 204, response.text
    assert tenant.viewer.wait(created["id"])["status"] == "completed"
