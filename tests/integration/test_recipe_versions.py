"""Recipe versions through HTTP: each change a new version, listed with who made it, when, and the
recipe as it was; an import runs with the version it was created with, whatever happens to the
recipe later, restarts included."""

from __future__ import annotations

import requests

from tests.helpers import csv_bytes
from tests.integration.test_lifecycle import execution_status, wait_for

TABLE = {
    "key": "members",
    "fields": [{"key": "no", "required": True}, {"key": "level", "type": "enum", "options": ["A", "B"]}],
}


def level_map(target: str) -> dict:
    return {"source": "Level", "target": "level", "transform": [{"map": {"gold": target}, "ignore_case": True}]}


def recipe_body(target: str = "A") -> dict:
    return {"name": "members", "table": "members", "columns": [{"source": "No", "target": "no"}, level_map(target)]}


def levels(tenant) -> set:
    return {r["data"].get("level") for r in tenant.viewer.all_pages("/tables/members/records")}


def test_each_change_is_a_version_listed_with_who_when_and_the_recipe_as_it_was(tenant):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(recipe_body("A"))
    assert recipe["version"] == 1
    renamed = tenant.admin.ok("PATCH", f"/recipes/{recipe['id']}", json={"name": "renamed"})["data"]
    changed = tenant.admin.ok("PATCH", f"/recipes/{recipe['id']}", json={"columns": recipe_body("B")["columns"]})[
        "data"
    ]
    assert (renamed["version"], changed["version"]) == (2, 3)
    assert tenant.viewer.ok("GET", f"/recipes/{recipe['id']}")["data"]["version"] == 3
    # A PATCH that changes nothing makes no version.
    assert tenant.admin.ok("PATCH", f"/recipes/{recipe['id']}", json={})["data"]["version"] == 3

    versions = tenant.viewer.all_pages(f"/recipes/{recipe['id']}/versions", per_page=2)
    assert [v["number"] for v in versions] == [1, 2, 3]
    # Who: the admin key that made each change (one key here).
    assert all(v["changed_by"] for v in versions) and len({v["changed_by"] for v in versions}) == 1
    assert [v["changed_at"] for v in versions] == sorted(v["changed_at"] for v in versions)
    assert [(v["recipe"]["name"], v["recipe"]["columns"][1]["transform"][0]["map"]["gold"]) for v in versions] == [
        ("members", "A"),
        ("renamed", "A"),
        ("renamed", "B"),
    ]
    assert [v["recipe"]["version"] for v in versions] == [1, 2, 3]
    assert tenant.viewer.get("/recipes/nope/versions").status_code == 404


def test_an_import_runs_with_the_version_it_was_created_with(tenant):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(recipe_body("A"))
    created = tenant.editor.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": "m.csv"})["data"]
    assert created["recipe_version"] == 1
    tenant.admin.ok("PATCH", f"/recipes/{recipe['id']}", json={"columns": recipe_body("B")["columns"]})
    content = csv_bytes([["No", "Level"], ["1", "GOLD"], ["2", "gold"]])
    upload = created["upload"]
    response = requests.post(upload["url"], data=upload["fields"], files={"file": ("m.csv", content)}, timeout=60)
    assert response.status_code in (200, 201, 204), response.text
    done = tenant.editor.wait(created["id"])
    assert (done["status"], done["success_count"], done["recipe_version"]) == ("completed", 2, 1)
    assert levels(tenant) == {"A"}  # version 1's map, not version 2's
    later = tenant.editor.import_file(recipe["id"], csv_bytes([["No", "Level"], ["3", "gold"]]))
    assert tenant.editor.wait(later["id"])["recipe_version"] == 2
    assert levels(tenant) == {"A", "B"}


def test_a_restarted_import_keeps_its_version(tenant, stack, faults):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(recipe_body("A"))
    faults.delay(
        "ProcessChunkFunction", 2, when=lambda event: event["tenant"] == tenant.id and event["chunk"]["index"] >= 1
    )
    try:
        rows = [["No", "Level"], *[[str(n), "gold"] for n in range(400)]]
        created = tenant.editor.import_file(recipe["id"], csv_bytes(rows))
        wait_for(
            lambda: tenant.viewer.ok("GET", f"/imports/{created['id']}")["data"]["processed_count"] >= 100,
            what="the first chunk to be counted",
        )
        cancelled = tenant.editor.ok("POST", f"/imports/{created['id']}/cancel")["data"]
    finally:
        faults.delay("ProcessChunkFunction", 0)
    wait_for(lambda: execution_status(tenant, cancelled, stack) != "RUNNING", timeout=60, what="the execution to end")
    tenant.admin.ok("PATCH", f"/recipes/{recipe['id']}", json={"columns": recipe_body("B")["columns"]})
    restarted = tenant.editor.ok("POST", f"/imports/{created['id']}/restart")["data"]
    assert restarted["recipe_version"] == 1
    done = tenant.viewer.wait(created["id"])
    assert (done["status"], done["success_count"]) == ("completed", 400)
    assert levels(tenant) == {"A"}
