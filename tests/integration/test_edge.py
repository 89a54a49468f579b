"""What the API answers to requests it cannot read: media types, malformed JSON, forged cursors, and
the spreadsheet safety of failures.csv."""

import base64
import csv
import io
import json

import requests

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts


def _forged(position) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.json()["error"]["code"] == code


def test_non_json_content_type_on_a_json_route_is_415(tenant):
    recipe = setup_contacts(tenant.admin)
    operations = [
        ("POST", "/tables"),
        ("PATCH", "/tables/contacts"),
        ("POST", "/recipes"),
        ("PATCH", f"/recipes/{recipe['id']}"),
        ("POST", "/jobs"),
        ("POST", "/schedules"),
        ("POST", "/tables/contacts/records/batch-create"),
    ]
    body = json.dumps({"key": "other", "fields": [{"key": "x"}]}).encode()
    for method, path in operations:
        for content_type in ("text/plain", "application/xml", "multipart/form-data"):
            response = tenant.admin.request(method, path, data=body, headers={"Content-Type": content_type})
            _error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
        no_type = tenant.admin.request(method, path, data=body)
        _error(no_type, 415, "UNSUPPORTED_MEDIA_TYPE")
    # JSON with a charset, and routes without a body, answer as before.
    created = tenant.admin.post("/tables", data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert created.status_code == 201, created.text
    assert tenant.admin.post("/tables", headers={"Content-Type": "text/plain"}).status_code == 415
    assert tenant.admin.post("/tables").status_code == 422  # no body, no type: the body is missing
    no_body = tenant.admin.post("/imports/nope/cancel", headers={"Content-Type": "text/plain"})
    _error(no_body, 404, "IMPORT_NOT_FOUND")  # a route without a body ignores the type, as before


def test_malformed_json_is_400_everywhere(tenant):
    setup_contacts(tenant.admin)
    json_type = {"Content-Type": "application/json"}
    for method, path in (
        ("POST", "/tables"),
        ("PATCH", "/tables/contacts"),
        ("POST", "/recipes"),
        ("POST", "/jobs"),
        ("POST", "/imports"),
        ("POST", "/tables/contacts/records/batch-create"),
    ):
        for body in (b"{not json", b"[" * 100_000, b'{"a": ' * 50_000):
            response = tenant.admin.request(method, path, data=body, headers=json_type)
            _error(response, 400, "MALFORMED_REQUEST")


def test_forged_cursors_are_400_at_once(tenant):
    api = tenant.admin
    recipe = setup_contacts(api)
    api.ok("POST", "/tables/contacts/records/batch-create", json={"records": [{"membership_no": "M1", "name": "a"}]})
    pk = f"TENANT#{tenant.id}"
    control = [
        {"pk": {"S": pk}},
        {"pk": {"S": pk}, "sk": {"N": "1"}},
        {"pk": {"S": pk}, "sk": {"S": 5}},
        {"pk": {"S": pk}, "sk": {"S": "RECIPE#x"}},
        {"pk": {"S": pk}, "sk": {"S": "TABLE#x"}, "extra": {"S": "y"}},
        {"pk": pk, "sk": "TABLE#x"},
        [1, 2],
    ]
    for position in control:
        _error(api.get(f"/tables?cursor={_forged(position)}"), 400, "INVALID_CURSOR")
        _error(api.get(f"/schedules?cursor={_forged(position)}"), 400, "INVALID_CURSOR")
    shard_pk = f"{tenant.id}#contacts#00"
    records = [
        {"shard": -3000},
        {"shard": -3000, "start": None},
        {"shard": 16, "start": None},
        {"shard": "0", "start": None},
        {"shard": True, "start": None},
        {"shard": 0, "start": "x"},
        {"shard": 0, "start": {"pk": {"S": shard_pk}}},
        {"shard": 0, "start": {"pk": {"S": shard_pk}, "sk": {"N": "1"}}},
        {"shard": 1, "start": {"pk": {"S": shard_pk}, "sk": {"S": "r"}}},
    ]
    for position in records:
        _error(api.get(f"/tables/contacts/records?cursor={_forged(position)}"), 400, "INVALID_CURSOR")
    assert api.get(f"/tables/contacts/records?cursor={_forged({'shard': 15, 'start': None})}").status_code == 200
    _error(api.get("/imports?status=completed&cursor=%C2%B2"), 400, "INVALID_CURSOR")
    _error(api.get("/imports?status=completed&cursor=" + "9" * 5000), 400, "INVALID_CURSOR")

    rows = [good_row(n) for n in range(1, 4)]
    rows[1][2] = "not-an-email"
    done = api.wait(api.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])
    assert done["fail_count"] == 1
    for position in (
        {"chunk": -1, "skip": 0},
        {"chunk": "a", "skip": 0},
        {"chunk": 0, "skip": -5},
        {"chunk": 0, "skip": 1.5},
        {"chunk": 0, "skip": 0, "x": 1},
        {"chunk": 0},
    ):
        _error(api.get(f"/imports/{done['id']}/failures?cursor={_forged(position)}"), 400, "INVALID_CURSOR")
    assert len(api.ok("GET", f"/imports/{done['id']}/failures?cursor={_forged({'chunk': 0, 'skip': 0})}")["data"]) == 1


def test_failures_csv_cells_cannot_run_as_formulas(tenant):
    recipe = setup_contacts(tenant.admin)
    evil = ["+cmd", '=HYPERLINK("http://evil.example","x")', "=cmd|'/C calc'!A0", "@x", "-1+1", "-5", "\tx", "yes"]
    done = tenant.editor.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), evil]))["id"])
    assert done["fail_count"] == 1
    response = tenant.viewer.get(f"/imports/{done['id']}/failures.csv", allow_redirects=False)
    assert response.status_code == 303
    downloaded = requests.get(response.headers["Location"], timeout=30)
    table = list(csv.reader(io.StringIO(downloaded.content.decode("utf-8-sig"))))
    assert table[0] == ["_row", *HEADER, "error_code", "error_message"]
    assert table[1][0] == "2"
    assert table[1][1:9] == [
        "'+cmd",
        '\'=HYPERLINK("http://evil.example","x")',
        "'=cmd|'/C calc'!A0",
        "'@x",
        "'-1+1",
        "-5",  # a plain number stays as it came
        "'\tx",
        "yes",
    ]
    assert not any(cell.startswith(("=", "+", "-1+", "@", "\t")) for cell in table[1][9:])
    # Asked for JSON (a browser's fetch cannot read a redirect's target), the same URL as data.
    linked = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures.csv", headers={"Accept": "application/json"})
    assert requests.get(linked["data"]["url"], timeout=30).content == downloaded.content
