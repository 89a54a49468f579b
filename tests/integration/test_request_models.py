"""What the request models refuse, through HTTP on the local stack: explicit nulls in patches, strings
and collections past their limits, field keys the storage uses, nesting past its depth. Each is a 422
with the error envelope, never a 500 (nor a stored item that breaks later reads)."""

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import ControlStore
from tests.samples import CONTACTS, contacts_recipe, setup_contacts

HUGE = "x" * 5_000_000  # far past DynamoDB's 400 KB item


def assert_validation_error(response, field: str | None = None) -> dict:
    assert response.status_code == 422, response.text[:500]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"]
    if field is not None:
        assert any(field in [str(part) for part in d["loc"]] for d in error["details"]), error["details"]
    return error


def test_patch_table_refuses_null_fields_and_may_clear_name(tenant):
    api = tenant.admin
    api.create_table(CONTACTS)
    assert_validation_error(api.patch("/tables/contacts", json={"fields": None}), "fields")
    assert api.ok("GET", "/tables/contacts")["data"]["fields"]
    assert api.ok("GET", "/tables")["meta"]["total"] == 1
    assert api.ok("GET", "/tables/contacts/records")["data"] == []
    cleared = api.ok("PATCH", "/tables/contacts", json={"name": None, "description": None})["data"]
    assert cleared["name"] is None and cleared["description"] is None and cleared["fields"]


def test_a_table_stored_with_null_fields_reads_and_is_repaired_by_patch(tenant):
    api = tenant.admin
    api.create_table(CONTACTS)
    api.create_table({"key": "other", "fields": [{"key": "x"}]})
    # As a PATCH of the past left it.
    ControlStore().update(keys.tenant_pk(tenant.id), keys.table_sk("contacts"), set_values={"fields": None})

    listed = api.ok("GET", "/tables")
    assert sorted(t["key"] for t in listed["data"]) == ["contacts", "other"]
    assert api.ok("GET", "/tables/contacts")["data"]["fields"] == []
    assert api.ok("GET", "/tables/contacts/records")["data"] == []

    repaired = api.ok("PATCH", "/tables/contacts", json={"fields": CONTACTS["fields"]})["data"]
    assert [f["key"] for f in repaired["fields"]] == [f["key"] for f in CONTACTS["fields"]]
    assert api.ok("GET", "/tables/contacts")["data"]["fields"] == repaired["fields"]


def test_patch_recipe_refuses_null_for_what_cannot_be_null(tenant):
    api = tenant.admin
    recipe = setup_contacts(api)
    for name in ("columns", "name", "options", "mode", "unique_columns"):
        assert_validation_error(api.patch(f"/recipes/{recipe['id']}", json={name: None}), name)
    assert api.ok("GET", f"/recipes/{recipe['id']}")["data"]["columns"] == recipe["columns"]
    patched = api.ok("PATCH", f"/recipes/{recipe['id']}", json={"description": None, "relation_unique_column": None})
    assert patched["data"]["description"] is None and patched["data"]["columns"] == recipe["columns"]


def test_huge_strings_are_refused_by_every_request_model(tenant):
    api = tenant.admin
    recipe = setup_contacts(api)
    # tables
    assert_validation_error(api.post("/tables", json={"key": "t", "name": HUGE, "fields": [{"key": "x"}]}), "name")
    assert_validation_error(api.patch("/tables/contacts", json={"description": HUGE}), "description")
    many_options = {"key": "t", "fields": [{"key": "x", "type": "enum", "options": ["o"] * 1001}]}
    assert_validation_error(api.post("/tables", json=many_options), "options")
    # recipes
    columns = [{"source": HUGE, "target": "name"}]
    assert_validation_error(api.post("/recipes", json=contacts_recipe(columns=columns)), "source")
    assert_validation_error(api.patch(f"/recipes/{recipe['id']}", json={"unique_columns": [HUGE]}), "unique_columns")
    # imports and schedules
    assert_validation_error(api.post("/imports", json={"recipe_id": HUGE}), "recipe_id")
    schedule = {"recipe_id": HUGE, "expression": "rate(1 day)", "source_prefix": "inbox/"}
    assert_validation_error(api.post("/schedules", json=schedule), "recipe_id")
    # jobs
    search = {"job_name": "export", "table": "contacts", "ids": "all", "total": 0, "search_options": {"name": HUGE}}
    assert_validation_error(api.post("/jobs", json=search), "search_options")
    wide = {**search, "search_options": {f"k{n}": "v" for n in range(51)}}
    assert_validation_error(api.post("/jobs", json=wide), "search_options")
    # batch-create
    record = {"membership_no": "M1", "name": HUGE}
    assert_validation_error(api.post("/tables/contacts/records/batch-create", json={"records": [record]}), "records")
    assert api.ok("GET", "/tables")["meta"]["total"] == 1


def test_field_keys_belong_to_the_table_but_underscores_and_a_childs_parent_id(tenant):
    api = tenant.admin
    keys = ["id", "created_at", "updated_at", "data", "meta", "import_id", "transaction_id", "parent_id"]
    table = api.create_table({"key": "t", "fields": [{"key": key} for key in keys]})
    assert [f["key"] for f in table["fields"]] == keys
    body = {"records": [{key: f"v-{key}" for key in keys}]}
    created = api.ok("POST", "/tables/t/records/batch-create", json=body)
    record = api.ok("GET", f"/tables/t/records/{created['success_ids'][0]}")["data"]
    assert record["id"] == created["success_ids"][0] and record["data"] == {key: f"v-{key}" for key in keys}
    assert api.ok("GET", "/tables/t/records?filter.id=v-id")["meta"]["total"] == 1

    response = api.post("/tables", json={"key": "u", "fields": [{"key": "_id"}]})
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_ERROR"
    api.create_table(CONTACTS)
    child = {"key": "visits", "parent": "contacts", "fields": [{"key": "x"}, {"key": "parent_id"}]}
    response = api.post("/tables", json=child, headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "RESERVED_FIELD_KEY"
    assert "parent_id" in response.json()["error"]["message"] and "保留" in response.json()["error"]["message"]


def _subtable(levels: int) -> dict:
    spec: dict = {"key": "leaf"}
    for n in range(levels):
        spec = {"key": f"s{n}", "type": "subtable", "fields": [spec]}
    return spec


def test_subtables_nest_three_levels_at_most(tenant):
    api = tenant.admin
    api.create_table({"key": "ok", "fields": [_subtable(3)]})
    for levels in (4, 30, 300):
        response = api.post("/tables", json={"key": "deep", "fields": [_subtable(levels)]})
        error = assert_validation_error(response, "fields")
        assert any(d["type"] == "subtable_too_deep" for d in error["details"])
    assert_validation_error(api.patch("/tables/ok", json={"fields": [_subtable(4)]}), "fields")
    assert api.get("/tables/deep").status_code == 404


def test_batch_create_values_nest_ten_levels_at_most(tenant):
    api = tenant.admin
    api.create_table(CONTACTS)
    for depth in (11, 40, 400):
        value: object = "v"
        for _ in range(depth):
            value = [value]
        body = {"records": [{"membership_no": "M1", "name": "n", "visits": value}]}
        error = assert_validation_error(api.post("/tables/contacts/records/batch-create", json=body), "records")
        assert any(d["type"] == "value_too_deep" for d in error["details"])
    assert api.ok("GET", "/tables/contacts")["data"]["record_count"] == 0


def test_tables_and_recipes_stored_before_the_bounds_still_read(tenant):
    api = tenant.admin
    recipe = setup_contacts(api)
    pk, store = keys.tenant_pk(tenant.id), ControlStore()
    long_fields = [{**CONTACTS["fields"][0], "label": "L" * 1_000}, *CONTACTS["fields"][1:], _subtable(5)]
    store.update(pk, keys.table_sk("contacts"), set_values={"name": "N" * 5_000, "fields": long_fields})
    store.update(pk, keys.recipe_sk(recipe["id"]), set_values={"description": "D" * 5_000})

    assert api.ok("GET", "/tables")["data"][0]["name"] == "N" * 5_000
    assert api.ok("GET", "/tables/contacts")["data"]["fields"][0]["label"] == "L" * 1_000
    assert api.ok("GET", "/recipes")["data"][0]["description"] == "D" * 5_000
    assert api.ok("GET", f"/recipes/{recipe['id']}")["data"]["description"] == "D" * 5_000


def test_values_are_taken_as_json_types_them_never_coerced(tenant):
    """Found by schemathesis: `"total": false` started an export of total 0, and a 300-character
    digit string as a recipe's sheet was stored as sheet 0. Integers and booleans are JSON's own."""
    api = tenant.admin
    recipe = setup_contacts(api)
    job = {"job_name": "export", "table": "contacts", "ids": "all", "search_options": {}, "format": "csv"}
    for total in (False, True, "5", 5.5):
        assert_validation_error(api.post("/jobs", json={**job, "total": total}), "total")
    assert_validation_error(api.post("/recipes", json={**contacts_recipe(), "options": {"sheet": "0" * 300}}), "sheet")
    for sheet in (True, "0"):
        response = api.post("/recipes", json={**contacts_recipe(), "options": {"sheet": sheet}})
        assert response.status_code == (201 if sheet == "0" else 422), response.text[:300]
    assert_validation_error(api.post("/tables", json={"key": "t", "fields": [{"key": "x", "required": 1}]}), "required")
    assert_validation_error(
        api.patch(f"/recipes/{recipe['id']}", json={"options": {"has_header": "yes"}}), "has_header"
    )
    assert_validation_error(api.post("/imports", json={"recipe_id": recipe["id"], "dry_run": 1}), "dry_run")
    assert_validation_error(
        api.post("/tables/contacts/records/batch-create", json={"records": [{}], "is_start_workflow": "no"}),
        "is_start_workflow",
    )
    # JSON's own types still go through.
    assert api.ok("POST", "/jobs", 202, json={**job, "total": 0})["data"]["batch_code"]
