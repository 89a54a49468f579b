"""No tenant ever sees another's data: every route, with another tenant's ids, answers 404 or an
empty list, and never changes the owner's data."""

from tests.helpers import csv_bytes
from tests.samples import CONTACTS, HEADER, contacts_recipe, good_row, setup_contacts


def test_every_route_hides_other_tenants_data(tenant, other_tenant):
    owner, stranger = tenant.admin, other_tenant.admin
    recipe = setup_contacts(owner)
    done = owner.wait(
        owner.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), ["", "x", *good_row(2)[2:]]]))["id"]
    )
    record = owner.ok("GET", "/tables/contacts/records")["data"][0]
    import_id = done["id"]

    not_found = [
        ("GET", "/tables/contacts", None),
        ("PATCH", "/tables/contacts", {"description": "mine now"}),
        ("DELETE", "/tables/contacts", None),
        ("GET", f"/recipes/{recipe['id']}", None),
        ("PATCH", f"/recipes/{recipe['id']}", {"name": "mine now"}),
        ("DELETE", f"/recipes/{recipe['id']}", None),
        ("GET", f"/imports/{import_id}", None),
        ("GET", f"/imports/{import_id}/failures", None),
        ("GET", "/tables/contacts/records", None),
        ("GET", f"/tables/contacts/records/{record['id']}", None),
        ("POST", "/imports", {"recipe_id": recipe["id"]}),
    ]
    for method, path, body in not_found:
        response = stranger.request(method, path, json=body)
        assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"

    multipart = stranger.post("/imports", data={"recipe_id": recipe["id"]}, files={"file": ("a.csv", b"a\n1\n")})
    assert multipart.status_code == 404

    for path in ("/tables", "/recipes", "/imports", "/recipes?table=contacts", f"/imports?recipe_id={recipe['id']}"):
        page = stranger.ok("GET", path)
        assert page["data"] == [] and page["meta"]["total"] == 0, path

    # The same table key in another tenant is a different table with its own records.
    stranger.create_table(CONTACTS)
    assert stranger.ok("GET", "/tables/contacts/records")["data"] == []
    assert stranger.ok("GET", "/tables/contacts")["data"]["record_count"] == 0

    # A cursor taken from one tenant's list does not open another tenant's partition.
    for n in range(3):
        owner.create_table({"key": f"extra{n}", "fields": [{"key": "x"}]})
    cursor = owner.ok("GET", "/tables?per_page=2")["meta"]["next_cursor"]
    assert stranger.get(f"/tables?per_page=2&cursor={cursor}").status_code == 400
    records_cursor = owner.ok("GET", "/tables/contacts/records?per_page=1")["meta"]["next_cursor"]
    leaked = stranger.get(f"/tables/contacts/records?per_page=1&cursor={records_cursor}")
    assert leaked.status_code == 400 or leaked.json()["data"] == []

    # Nothing of the owner's changed.
    assert owner.ok("GET", "/tables/contacts")["data"]["description"] is None
    assert owner.ok("GET", f"/recipes/{recipe['id']}")["data"]["name"] == contacts_recipe()["name"]
    assert owner.ok("GET", f"/imports/{import_id}")["data"]["success_count"] == 1
