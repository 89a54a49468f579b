"""What a unique key saves: a table's records are keyed by its first unique field (an insert is one
conditional put of the record, no index item; a filter or an upsert on that field reads the record by
key), a records filter on another unique field reads its index item instead of walking the table, and
an upsert whose row equals the stored record writes nothing. What a key field's value cannot do:
change (UNIQUE_KEY_FIXED), nor the table change which field it is while it has records."""

import contextvars
import threading

import boto3
import pytest

from bulkimport.adapters import keys
from bulkimport.records.uniqueness import digest
from tests.conftest import TEST_CHUNK_ROWS
from tests.helpers import csv_bytes
from tests.integration.test_exactly_once import stored_records
from tests.integration.test_revert import PEOPLE, people_recipes, run
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


class ChunkCalls:
    """The AWS operations chunk workers make while armed, their pool threads' included (a context
    variable: the pool runs in a copy of the handler's context)."""

    def __init__(self, runtime):
        self.armed = False
        self.operations: list[str] = []
        self._lock = threading.Lock()
        self._in_chunk: contextvars.ContextVar[bool] = contextvars.ContextVar("in_chunk", default=False)
        runtime.add_invocation_hook(self._invocation)
        runtime.add_aws_call_hook(self._aws_call)

    def _invocation(self, function, event, call):
        token = self._in_chunk.set(function.logical_id == "ProcessChunkFunction")
        try:
            return call(function, event)
        finally:
            self._in_chunk.reset(token)

    def _aws_call(self, operation: str) -> None:
        if self.armed and self._in_chunk.get():
            with self._lock:
                self.operations.append(operation)


@pytest.fixture(scope="module")
def chunk_calls(stack) -> ChunkCalls:
    return ChunkCalls(stack.runtime)


def test_an_insert_writes_each_record_with_one_conditional_put_and_no_index_item(tenant, stack, chunk_calls):
    recipe = setup_contacts(tenant.admin)
    rows = 300
    chunk_calls.operations, chunk_calls.armed = [], True
    try:
        done = tenant.editor.wait(
            tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in range(1, rows + 1)]]))[
                "id"
            ]
        )
    finally:
        chunk_calls.armed = False
    assert done["outcomes"] == {"created": rows, "updated": 0, "unchanged": 0, "failed": 0}
    ops = chunk_calls.operations
    chunks = rows // TEST_CHUNK_ROWS
    # A put a record, one done-marker a chunk; no batch write, no read of an index item.
    assert "dynamodb.BatchWriteItem" not in ops and "dynamodb.BatchGetItem" not in ops, ops
    assert rows <= ops.count("dynamodb.PutItem") <= rows + chunks, ops
    # The key field's value is the record's key: no index item holds it.
    ddb = boto3.client("dynamodb")
    index_pk = keys.unique_index_pk(tenant.id, "contacts", "field:membership_no", digest('["M000001"]'))
    item = ddb.get_item(TableName=stack.resource_name("RecordsTable"), Key={"pk": {"S": index_pk}, "sk": {"S": "U"}})
    assert "Item" not in item
    stored = stored_records(stack, tenant.id)
    assert len(stored) == rows and all("origin" in i["meta"]["M"] for i in stored)
    # An upsert by the key field finds its records by key: one BatchGetItem of records per 100 rows
    # (which is also what the update and its before-images need), no index read.
    upsert = tenant.admin.create_recipe(
        {**{k: recipe[k] for k in ("table", "columns")}, "name": "upsert", "unique_columns": ["membership_no"]}
        | {"mode": "upsert"}
    )
    changed = [[*good_row(n)[:1], f"renamed {n}", *good_row(n)[2:]] for n in range(1, rows + 1)]
    chunk_calls.operations, chunk_calls.armed = [], True
    try:
        updated = tenant.editor.wait(tenant.editor.import_file(upsert["id"], csv_bytes([HEADER, *changed]))["id"])
    finally:
        chunk_calls.armed = False
    assert updated["outcomes"] == {"created": 0, "updated": rows, "unchanged": 0, "failed": 0}
    ops = chunk_calls.operations
    assert ops.count("dynamodb.BatchGetItem") == rows // 100, ops
    assert "dynamodb.BatchWriteItem" not in ops, ops  # updates, not puts
    # Ids are opaque and stable: the record read by its id is the one the filter by its key finds.
    first = tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M000001")["data"][0]
    assert (
        tenant.viewer.ok("GET", f"/tables/contacts/records/{first['id']}")["data"]["data"]["membership_no"] == "M000001"
    )


def test_a_filter_on_the_key_field_reads_its_record_not_the_table(tenant, api_calls):
    recipe = setup_contacts(tenant.admin)
    rows = [good_row(n) for n in range(1, 301)]
    tenant.editor.wait(tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *rows]))["id"])

    page = api_calls.during(lambda: tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M000123"))
    assert [r["data"]["membership_no"] for r in page["data"]] == ["M000123"]
    assert page["meta"]["next_cursor"] is None
    assert "dynamodb.Query" not in api_calls.operations, api_calls.operations
    assert api_calls.operations.count("dynamodb.GetItem") <= 3, api_calls.operations  # table, record

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


def test_a_filter_on_another_unique_field_reads_its_index_item(tenant, api_calls):
    insert, _ = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"], ["P2", "b@x.io", "Bob"]])
    page = api_calls.during(lambda: tenant.viewer.ok("GET", "/tables/people/records?filter.email=b@x.io"))
    assert [r["data"]["code"] for r in page["data"]] == ["P2"]
    assert "dynamodb.Query" not in api_calls.operations, api_calls.operations
    assert tenant.viewer.ok("GET", "/tables/people/records?filter.email=c@x.io")["data"] == []


def test_a_records_key_field_value_cannot_change(tenant):
    """people: records keyed by `code`. A row that would change a record's code fails UNIQUE_KEY_FIXED
    and leaves the record as it was; the other rows go in."""
    insert, _ = people_recipes(tenant.admin)
    run(tenant.editor, insert["id"], [["P1", "a@x.io", "Ann"], ["P2", "b@x.io", "Bob"]])
    before = {r["data"]["code"]: r for r in tenant.viewer.all_pages("/tables/people/records")}
    by_email = tenant.admin.create_recipe(
        {
            "name": "people by email",
            "table": "people",
            "columns": [{"source": c, "target": c} for c in ("code", "email", "name")],
            "mode": "upsert",
            "unique_columns": ["email"],
        }
    )
    done = run(tenant.editor, by_email["id"], [["P9", "a@x.io", "Ann"], ["P2", "b@x.io", "Bobby"]])
    assert done["outcomes"] == {"created": 0, "updated": 1, "unchanged": 0, "failed": 1}
    failures = tenant.viewer.ok("GET", f"/imports/{done['id']}/failures")["data"]
    assert [(f["row"], f["field"], f["code"]) for f in failures] == [(1, "code", "UNIQUE_KEY_FIXED")]
    assert "delete the record" in failures[0]["message"]
    after = {r["data"]["code"]: r for r in tenant.viewer.all_pages("/tables/people/records")}
    assert set(after) == {"P1", "P2"} and after["P1"] == before["P1"]
    assert after["P2"]["id"] == before["P2"]["id"] and after["P2"]["data"]["name"] == "Bobby"

    # Which field keys the records cannot change while the table has records.
    fields = PEOPLE["fields"]
    for changed in ([fields[1], fields[0], fields[2]], [{**fields[0], "unique": False}, *fields[1:]]):
        response = tenant.admin.patch("/tables/people", json={"fields": changed})
        assert (response.status_code, response.json()["error"]["code"]) == (409, "KEY_FIELD_NEEDS_EMPTY_TABLE")
    assert tenant.admin.patch("/tables/people", json={"fields": [*fields, {"key": "note", "type": "string"}]}).ok
