"""What the API answers to requests it cannot read: media types, malformed JSON."""

import base64
import json

from tests.samples import setup_contacts


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
