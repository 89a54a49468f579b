"""API keys through the API: admins create, list and revoke their tenant's keys; the secret is shown
once and stored hashed; a revoked key stops working within the authorizer's cache period."""

import time

import boto3

from devstack.cfn import Template
from devstack.stack import ROOT
from tests.conftest import AUTHORIZER_CACHE_SECONDS
from tests.helpers import Api


def _listed(api: Api) -> dict[str, dict]:
    return {key["id"]: key for key in api.all_pages("/keys")}


def test_an_admin_creates_a_key_whose_secret_is_shown_once_and_stored_hashed(stack, tenant):
    created = tenant.admin.ok("POST", "/keys", 201, json={"name": "nightly sync", "role": "editor"})["data"]
    assert set(created) == {"id", "name", "role", "key", "created_at", "last_used_at", "revoked_at"}
    assert created["role"] == "editor" and created["name"] == "nightly sync" and created["key"].startswith("bik_")

    listed = _listed(tenant.admin)[created["id"]]
    assert "key" not in listed and listed["last_used_at"] is None and listed["revoked_at"] is None
    # The secret appears nowhere in the control table (only its hash does).
    table = stack.resource_name("ControlTable")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert items and created["key"] not in str(items)

    # The key works with its role: an editor creates imports but not tables.
    new = Api(stack.api_url, created["key"])
    assert new.get("/tables").status_code == 200
    assert new.post("/tables", json={"key": "t", "fields": [{"key": "x"}]}).json()["error"]["code"] == "FORBIDDEN"
    assert _listed(tenant.admin)[created["id"]]["last_used_at"] is not None


def test_only_admins_manage_keys_and_bad_requests_are_refused(tenant):
    admin_id = next(k["id"] for k in _listed(tenant.admin).values() if k["role"] == "admin")
    for api in (tenant.editor, tenant.viewer):
        for method, path, body in (
            ("POST", "/keys", {"role": "viewer"}),
            ("GET", "/keys", None),
            ("DELETE", f"/keys/{admin_id}", None),
        ):
            response = api.request(method, path, json=body)
            assert response.status_code == 403, f"{method} {path}: {response.text}"
    assert tenant.admin.post("/keys", json={"role": "owner"}).status_code == 422
    assert tenant.admin.post("/keys", json={"role": "viewer", "secret": "mine"}).status_code == 422


def test_a_revoked_key_answers_401_within_the_authorizer_cache_period(stack, tenant):
    created = tenant.admin.ok("POST", "/keys", 201, json={"name": "leaked", "role": "viewer"})["data"]
    leaked = Api(stack.api_url, created["key"])
    assert leaked.get("/tables").status_code == 200  # its Allow is cached from now on

    tenant.admin.ok("DELETE", f"/keys/{created['id']}", 204)
    revoked_at = time.monotonic()
    while leaked.get("/tables").status_code == 200:
        assert time.monotonic() - revoked_at < AUTHORIZER_CACHE_SECONDS + 2, "still accepted after the cache period"
        time.sleep(0.1)
    response = leaked.get("/tables")
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"
    assert _listed(tenant.admin)[created["id"]]["revoked_at"] is not None
    # Revoking it again changes nothing.
    tenant.admin.ok("DELETE", f"/keys/{created['id']}", 204)


def test_the_deployed_cache_period_keeps_the_60_second_promise():
    identity = Template(ROOT / "template.yaml", {}).api()["Auth"]["Authorizers"]["ApiKeyAuthorizer"]["Identity"]
    assert 0 < identity["ReauthorizeEvery"] <= 60


def test_the_last_admin_key_cannot_be_revoked(stack, tenant):
    first = next(k["id"] for k in _listed(tenant.admin).values() if k["role"] == "admin")
    refused = tenant.admin.delete(f"/keys/{first}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "LAST_ADMIN_KEY"

    second = tenant.admin.ok("POST", "/keys", 201, json={"role": "admin"})["data"]
    tenant.admin.ok("DELETE", f"/keys/{first}", 204)
    other_admin = Api(stack.api_url, second["key"])
    refused = other_admin.delete(f"/keys/{second['id']}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "LAST_ADMIN_KEY"
    assert other_admin.get("/keys").status_code == 200


def test_another_tenants_key_is_not_found(tenant, other_tenant):
    theirs = other_tenant.admin.ok("POST", "/keys", 201, json={"role": "viewer"})["data"]
    response = tenant.admin.delete(f"/keys/{theirs['id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "KEY_NOT_FOUND"
    assert theirs["id"] not in _listed(tenant.admin)
    assert _listed(other_tenant.admin)[theirs["id"]]["revoked_at"] is None


def test_me_names_the_tenant_and_role_of_the_calling_key(tenant, anonymous):
    for api, role in ((tenant.admin, "admin"), (tenant.editor, "editor"), (tenant.viewer, "viewer")):
        me = api.ok("GET", "/me", 200)["data"]
        assert me["tenant"] == tenant.id and me["role"] == role and me["key_id"]
    assert anonymous.get("/me").json()["error"]["code"] == "UNAUTHORIZED"
