"""Tables, recipes, auth and error shapes through HTTP on the local stack."""

from tests.samples import CONTACTS, contacts_recipe


def test_health_and_openapi_need_no_key(anonymous):
    assert anonymous.ok("GET", "/health") == {"status": "ok"}
    spec = anonymous.ok("GET", "/openapi.json")
    assert spec["info"]["title"] == "Bulk import API"
    assert {"/tables", "/recipes", "/imports", "/imports/{import_id}/failures", "/tables/{table}/records"} <= set(
        spec["paths"]
    )


def test_missing_or_bad_key_is_401_with_error_shape(anonymous, stack):
    for api in (anonymous, type(anonymous)(stack.api_url, "not-a-key")):
        response = api.get("/tables")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_table_lifecycle(tenant):
    api = tenant.admin
    table = api.create_table(CONTACTS)
    assert table["key"] == "contacts" and table["record_count"] == 0
    assert [f["key"] for f in table["fields"]][:2] == ["membership_no", "name"]

    duplicate = api.post("/tables", json=CONTACTS)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "TABLE_EXISTS"

    listed = api.ok("GET", "/tables")
    assert listed["meta"] == {"per_page": 15, "next_cursor": None, "total": 1}
    assert api.ok("GET", "/tables/contacts")["data"]["name"] == "客戶"

    patched = api.ok("PATCH", "/tables/contacts", json={"description": "clinic customers"})["data"]
    assert patched["description"] == "clinic customers" and patched["fields"] == table["fields"]

    api.ok("DELETE", "/tables/contacts", 204)
    assert api.get("/tables/contacts").status_code == 404


def test_table_validation_errors_are_422_with_details(tenant):
    response = tenant.admin.post("/tables", json={"key": "Bad Key", "fields": []})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"]
    enum_without_options = {"key": "t", "fields": [{"key": "level", "type": "enum"}]}
    assert tenant.admin.post("/tables", json=enum_without_options).status_code == 422
    unknown_parent = {"key": "visits", "parent": "nope", "fields": [{"key": "x"}]}
    response = tenant.admin.post("/tables", json=unknown_parent)
    assert response.status_code == 422 and response.json()["error"]["code"] == "PARENT_TABLE_NOT_FOUND"


def test_malformed_json_is_a_clear_4xx(tenant):
    response = tenant.admin.post("/tables", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_a_recipe_names_each_problem_once_in_order(tenant):
    """The columns' problems first, then the identity's, then the required fields not mapped."""
    api = tenant.admin
    api.create_table(CONTACTS)
    bad = contacts_recipe(
        columns=[
            {"source": "a", "target": "name"},
            {"source": "b", "target": "name"},
            {"source": "c", "target": "parent.name"},
        ],
        unique_columns=["email"],
        relation_unique_column="name",
        mode="upsert",
    )
    response = api.post("/recipes", json=bad)
    assert response.status_code == 422
    assert [(d["target"], d["code"]) for d in response.json()["error"]["details"]] == [
        ("name", "TARGET_MAPPED_TWICE"),
        ("parent.name", "UNKNOWN_TARGET"),  # contacts has no parent table
        ("email", "UNIQUE_COLUMN_NOT_MAPPED"),
        ("relation_unique_column", "NOT_A_CHILD_TABLE"),
        ("membership_no", "REQUIRED_FIELD_NOT_MAPPED"),
    ]


def test_recipe_lifecycle_and_checks(tenant):
    api = tenant.admin
    api.create_table(CONTACTS)
    recipe = api.create_recipe(contacts_recipe())
    assert recipe["tasks_count"] == 0 and recipe["options"]["has_header"] is True

    bad = contacts_recipe(columns=[{"source": "x", "target": "nope"}])
    response = api.post("/recipes", json=bad)
    assert response.status_code == 422
    codes = {d["code"] for d in response.json()["error"]["details"]}
    assert codes == {"UNKNOWN_TARGET", "REQUIRED_FIELD_NOT_MAPPED"}

    missing_table = api.post("/recipes", json=contacts_recipe(table="missing"))
    assert missing_table.status_code == 422 and missing_table.json()["error"]["code"] == "TABLE_NOT_FOUND"

    listed = api.ok("GET", "/recipes?table=contacts")
    assert [r["id"] for r in listed["data"]] == [recipe["id"]] and listed["meta"]["total"] == 1
    assert api.ok("GET", "/recipes?table=other")["data"] == []

    patched = api.ok("PATCH", f"/recipes/{recipe['id']}", json={"name": "renamed"})["data"]
    assert patched["name"] == "renamed" and patched["columns"] == recipe["columns"]
    in_use = api.delete("/tables/contacts")
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "TABLE_IN_USE"

    api.ok("DELETE", f"/recipes/{recipe['id']}", 204)
    assert api.get(f"/recipes/{recipe['id']}").status_code == 404


def test_roles(tenant):
    tenant.admin.create_table(CONTACTS)
    recipe = tenant.admin.create_recipe(contacts_recipe())
    # viewer reads only
    assert tenant.viewer.get("/tables").status_code == 200
    assert tenant.viewer.get(f"/recipes/{recipe['id']}").status_code == 200
    forbidden = tenant.viewer.post("/imports", json={"recipe_id": recipe["id"]})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "FORBIDDEN"
    # editor imports but does not define tables or recipes
    assert tenant.editor.post("/imports", json={"recipe_id": recipe["id"]}).status_code == 201
    assert tenant.editor.post("/tables", json={**CONTACTS, "key": "other"}).status_code == 403
    assert tenant.editor.delete(f"/recipes/{recipe['id']}").status_code == 403


def test_errors_speak_traditional_chinese_on_request(tenant):
    response = tenant.admin.get("/tables/nope", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "TABLE_NOT_FOUND", "message": "找不到資料表「nope」。", "details": []}
    english = tenant.admin.get("/tables/nope").json()["error"]["message"]
    assert english == "No table 'nope'."


def test_pagination_walks_every_item_once(tenant):
    for n in range(7):
        tenant.admin.create_table({"key": f"t{n}", "fields": [{"key": "x"}]})
    first = tenant.admin.ok("GET", "/tables?per_page=3")
    assert len(first["data"]) == 3 and first["meta"]["total"] == 7 and first["meta"]["next_cursor"]
    keys = [t["key"] for t in tenant.admin.all_pages("/tables", per_page=3)]
    assert keys == [f"t{n}" for n in range(7)]
    assert tenant.admin.get("/tables?per_page=101").status_code == 422
    assert tenant.admin.get("/tables?cursor=garbage").status_code == 400


def test_unknown_route_is_404_with_error_shape(tenant):
    response = tenant.admin.get("/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND_ROUTE"
