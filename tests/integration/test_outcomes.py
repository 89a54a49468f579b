"""Every import says what its rows did: created, updated, unchanged (an upsert of what the record already
holds writes nothing) and failed; a dry run says what they would do against the live table. The
counts are exact when a chunk runs again."""

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts


def upsert_recipe(api, recipe: dict) -> dict:
    return api.create_recipe(
        {k: recipe[k] for k in ("table", "columns")}
        | {"name": "upsert", "mode": "upsert", "unique_columns": ["membership_no"]},
    )


def seeded(tenant) -> tuple[dict, dict]:
    """Records M000001 and M000002, and an upsert recipe; returns (upsert recipe, the first import)."""
    recipe = setup_contacts(tenant.admin)
    first = tenant.editor.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, good_row(1), good_row(2)]))["id"]
    )
    assert first["outcomes"] == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0}
    return upsert_recipe(tenant.admin, recipe), first


def mixed_file() -> bytes:
    """Row 1 equals its record, row 2 changes its record, row 3 is new, row 4 fails (level Z)."""
    changed, bad = good_row(2), good_row(4)
    changed[1] = "renamed"
    bad[3] = "Z"
    return csv_bytes([HEADER, good_row(1), changed, good_row(3), bad])


MIXED = {"created": 1, "updated": 1, "unchanged": 1, "failed": 1}


def names(tenant) -> dict[str, str]:
    return {r["data"]["membership_no"]: r["data"]["name"] for r in tenant.viewer.all_pages("/tables/contacts/records")}


def test_an_import_counts_each_outcome(tenant):
    upsert, first = seeded(tenant)
    done = tenant.editor.wait(tenant.editor.import_file(upsert["id"], mixed_file())["id"])
    assert done["status"] == "completed_with_errors"
    assert done["outcomes"] == MIXED
    assert (done["success_count"], done["fail_count"]) == (3, 1)
    records = {r["data"]["membership_no"]: r for r in tenant.viewer.all_pages("/tables/contacts/records")}
    assert records["M000001"]["import_id"] == first["id"]  # unchanged: not written
    assert records["M000001"]["updated_at"] == records["M000001"]["created_at"]
    assert (records["M000002"]["import_id"], records["M000002"]["data"]["name"]) == (done["id"], "renamed")
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 3
    shown = tenant.viewer.ok("GET", f"/imports/{done['id']}")["data"]
    assert shown["outcomes"] == MIXED
    listed = tenant.viewer.ok("GET", "/imports")["data"]
    assert next(i for i in listed if i["id"] == done["id"])["outcomes"] == MIXED


def test_a_dry_run_reports_outcomes_against_the_live_table_and_writes_nothing(tenant):
    upsert, _ = seeded(tenant)
    before = names(tenant)
    done = tenant.editor.wait(tenant.editor.import_file(upsert["id"], mixed_file(), dry_run=True)["id"])
    assert done["outcomes"] == MIXED
    assert names(tenant) == before
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 2


def test_an_atomic_import_counts_outcomes_once_over_its_two_passes(tenant):
    upsert, _ = seeded(tenant)
    changed = good_row(2)
    changed[1] = "renamed"
    content = csv_bytes([HEADER, good_row(1), changed, good_row(3)])
    done = tenant.editor.wait(tenant.editor.import_file(upsert["id"], content, atomic=True)["id"])
    assert done["outcomes"] == {"created": 1, "updated": 1, "unchanged": 1, "failed": 0}


def test_a_chunk_run_again_after_updating_counts_its_updates_once(tenant, stack, faults):
    """The worker updates row 2's record, then dies before counting the chunk. The retry finds the
    record already holding row 2's values; it wrote them itself (the record's meta.writer), so the row
    is still `updated`, not `unchanged`, and nothing is counted twice."""
    upsert, _ = seeded(tenant)
    since = len(stack.runtime.invocations)
    # Die before the chunk's first UpdateItem in the worker's own thread: the count (rows 1 and 2 are
    # updated by the writer's pool, whose calls the fault does not stop).
    faults.crash(
        "ProcessChunkFunction", "dynamodb.UpdateItem", after=0, times=1, when=lambda e: e["tenant"] == tenant.id
    )
    done = tenant.editor.wait(tenant.editor.import_file(upsert["id"], mixed_file())["id"])
    died = [i for i in stack.runtime.invocations[since:] if i.function == "ProcessChunkFunction"]
    assert [i.outcome for i in died].count("crashed") == 1, [i.outcome for i in died]
    assert done["outcomes"] == MIXED
    assert (done["processed_count"], done["success_count"], done["fail_count"]) == (4, 3, 1)
    assert names(tenant)["M000002"] == "renamed"
    assert tenant.viewer.ok("GET", "/tables/contacts")["data"]["record_count"] == 3
