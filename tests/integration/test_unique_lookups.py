"""What a unique key saves: a records filter on a unique field reads the key's index item instead of
walking the table, and an upsert whose row equals the stored record writes nothing."""

import threading

import pytest

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts


class ApiCalls:
    """The AWS operations the API function makes while armed (runtime hooks: devstack/runtime.py)."""

    def __init__(self, runtime):
        self.armed = False
        self.operations: list[str] = []
        self._in_api = threading.local()
        runtime.add_invocation_hook(self._invocation)
        runtime.add_aws_call_hook(self._aws_call)

    def _invocation(self, function, event, call):
        self._in_api.on = function.logical_id == "ApiFunction"
        try:
            return call(function, event)
        finally:
            self._in_api.on = False

    def _aws_call(self, operation: str) -> None:
        if self.armed and getattr(self._in_api, "on", False):
            self.operations.append(operation)

    def during(self, action):
        self.operations, self.armed = [], True
        try:
            return action()
        finally:
            self.armed = False


@pytest.fixture(scope="module")
def api_calls(stack) -> ApiCalls:
    return ApiCalls(stack.runtime)


def test_a_filter_on_a_unique_field_reads_its_index_item_not_the_table(tenant, api_calls):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 301)]
    tenant.editor.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])

    page = api_calls.during(lambda: tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M000123"))
    assert [r["data"]["membership_no"] for r in page["data"]] == ["M000123"]
    assert page["meta"]["next_cursor"] is None
    assert "dynamodb.Query" not in api_calls.operations, api_calls.operations
    assert api_calls.operations.count("dynamodb.GetItem") <= 4, api_calls.operations  # table, index item, record

    # Other filters still apply to the record the key names; a value nobody holds finds nothing.
    both = tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M000123&filter.level=B")
    assert [r["data"]["membership_no"] for r in both["data"]] == ["M000123"]
    assert tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M000123&filter.level=A")["data"] == []
    assert tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M999999")["data"] == []
    # A filter on a field that is not unique walks the table, as before.
    walked = api_calls.during(lambda: tenant.viewer.ok("GET", "/tables/contacts/records?filter.level=B&per_page=100"))
    assert len(walked["data"]) == 100 and "dynamodb.Query" in api_calls.operations


def test_an_upsert_row_equal_to_its_record_writes_nothing(tenant):
    recipe = setup_contacts(tenant.admin)
    first = tenant.editor.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), good_row(2)]))["id"]
    )
    upsert = tenant.admin.create_recipe(
        {**{k: recipe[k] for k in ("table", "columns")}, "name": "upsert", "unique_columns": ["membership_no"]}
        | {"mode": "upsert"}
    )
    changed = good_row(2)
    changed[1] = "renamed"
    done = tenant.editor.wait(tenant.editor.import_file(upsert["id"], csv_bytes([HEADER, good_row(1), changed]))["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed", 2, 0)

    records = {r["data"]["membership_no"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")}
    same, renamed = records["M000001"], records["M000002"]
    # The equal row left its record as the first import wrote it; the changed one was updated.
    assert (same["import_id"], same["updated_at"]) == (first["id"], same["created_at"])
    assert renamed["import_id"] == done["id"] and renamed["data"]["name"] == "renamed"
