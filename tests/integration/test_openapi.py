"""The OpenAPI document describes the API that answers (docs/API.md, "Health and description"): every
operation with a summary, a tag, bearer security unless it is open, schemas for its bodies and every
status it can answer, errors in the API's own envelope. schemathesis (tests/fuzz) checks the API
against it; this test checks that the document says enough to be checked."""

from __future__ import annotations

import pytest

OPEN = {("get", "/health"), ("get", "/openapi.json"), ("get", "/docs")}
ERROR = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture(scope="module")
def spec(stack):
    import requests

    return requests.get(f"{stack.api_url}/openapi.json", timeout=60).json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield method, path, op


def test_the_document_names_its_stage_tags_and_bearer_scheme(spec):
    assert spec["servers"][0]["url"] == "/v1"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "API key",
        "description": "An API key of the tenant: `Authorization: Bearer <key>`.",
    }
    assert {t["name"] for t in spec["tags"]} == {
        "Health",
        "Tables",
        "Recipes",
        "Imports",
        "Records",
        "Schedules",
        "Jobs",
        "Keys",
        "Webhooks",
    }
    # The framework's own 422 shape is never what this API answers.
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


def test_every_operation_is_described_secured_and_answers_with_schemas(spec):
    tags = {t["name"] for t in spec["tags"]}
    seen = 0
    for method, path, op in operations(spec):
        seen += 1
        where = f"{method.upper()} {path}"
        assert op["summary"] and op["summary"] != where, where
        assert op.get("description"), where
        assert len(op["tags"]) == 1 and op["tags"][0] in tags, where
        assert (op.get("security") == [{"bearerAuth": []}]) == ((method, path) not in OPEN), where
        assert any(p["in"] == "header" and p["name"] == "Accept-Language" for p in op["parameters"]), where
        statuses = {int(s) for s in op["responses"]}
        assert any(200 <= s < 400 for s in statuses), where
        for status, response in op["responses"].items():
            if status == "204":
                assert "content" not in response, where
                continue
            (media,) = response["content"].values()
            assert media["schema"], f"{where} {status}"
            if int(status) >= 400:
                assert media["schema"] == ERROR, f"{where} {status}"
                assert media["examples"], f"{where} {status}"
        assert {429, 500} <= statuses, where
        if (method, path) not in OPEN:
            assert 401 in statuses, where
            assert (403 in statuses) == (op["x-required-role"] != "viewer"), where
        if method in ("post", "patch") and "requestBody" in op:
            assert {400, 413, 415, 422} <= statuses, where
        if any(p["name"] == "cursor" for p in op["parameters"]):
            assert {400, 422} <= statuses and "INVALID_CURSOR" in op["responses"]["400"]["description"], where
    assert seen == 50  # with POST /imports/{id}/revert, GET /me, GET /recipes/{id}/versions, the 8 of /webhooks,
    # the 3 of an upload in parts and GET /usage


def test_domain_errors_a_route_declares_are_documented_with_their_status(spec):
    table = spec["paths"]["/tables/{table}"]
    assert "TABLE_NOT_FOUND" in table["get"]["responses"]["404"]["description"]
    assert "TABLE_IN_USE" in table["delete"]["responses"]["409"]["description"]
    assert "Retry-After" in spec["paths"]["/tables"]["get"]["responses"]["429"]["headers"]
    assert "Location" in spec["paths"]["/imports/{import_id}/failures.csv"]["get"]["responses"]["303"]["headers"]


def test_bodies_are_documented_both_bodies_of_post_imports(spec):
    create = spec["paths"]["/imports"]["post"]["requestBody"]["content"]
    assert create["application/json"]["schema"]["required"] == ["recipe_id"]
    form = create["multipart/form-data"]["schema"]
    assert form["required"] == ["recipe_id", "file"] and form["properties"]["file"]["format"] == "binary"
    for path, method in (("/tables", "post"), ("/recipes", "post"), ("/jobs", "post"), ("/schedules", "post")):
        assert spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"], path
    example = spec["paths"]["/tables"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert example["a contacts table"]["value"]["key"] == "contacts"
    records = spec["paths"]["/tables/{table}/records"]["get"]
    assert "filter.<field>" in records["description"]


def test_swagger_ui_carries_the_document_with_its_bearer_scheme(anonymous):
    page = anonymous.get("/docs")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '"bearerAuth"' in page.text and "persistAuthorization: true" in page.text


def test_a_method_a_path_does_not_take_is_405_naming_the_methods_it_takes(tenant):
    response = tenant.admin.request("PUT", "/tables")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert tenant.admin.request("PUT", "/tables/contacts/records/batch-create").headers["Allow"] == "POST"
    assert tenant.admin.get("/no-such-thing").json()["error"]["code"] == "NOT_FOUND_ROUTE"
