"""Counting what a job will touch: GET /tables/{table}/records/count and meta.total of a filtered
list say how many records a search matches, which is the `total` a job over it must give."""

from tests.helpers import csv_bytes
from tests.samples import HEADER, good_row, setup_contacts


def seed(tenant, rows: int) -> None:
    recipe = setup_contacts(tenant.admin)
    done = tenant.viewer.wait(
        tenant.editor.import_file(recipe["id"], csv_bytes([HEADER, *[good_row(n) for n in range(1, rows + 1)]]))["id"]
    )
    assert done["success_count"] == rows


def count(tenant, query: str = "") -> int:
    return tenant.viewer.ok("GET", f"/tables/contacts/records/count{query}")["data"]["total"]


def test_counts_follow_the_filters_and_match_what_a_job_accepts(tenant, other_tenant):
    seed(tenant, 30)  # good_row: level "A" on even rows, "B" on odd ones
    assert count(tenant) == 30
    assert count(tenant, "?filter.level=A") == 15
    assert count(tenant, "?filter.level=A&filter.visits=3") == sum(
        1 for n in range(1, 31) if "AB"[n % 2] == "A" and good_row(n)[5] == "3"
    )
    assert count(tenant, "?filter.membership_no=M000007") == 1  # a unique field: from its index
    assert count(tenant, "?filter.membership_no=M000007&filter.level=A") == 0
    assert count(tenant, "?filter.membership_no=nobody") == 0

    # The count is the total a job over the same search takes (a wrong one is TOTAL_MISMATCH).
    job = {"job_name": "export", "table": "contacts", "ids": "all", "search_options": {"level": "A"}}
    done = tenant.editor.wait_job(tenant.editor.start_job({**job, "total": count(tenant, "?filter.level=A")}))
    assert (done["code"], done["data"]["succeeded_amount"]) == (200, 15)

    bad = tenant.viewer.get("/tables/contacts/records/count?filter.nope=1")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "INVALID_FILTER"
    assert other_tenant.viewer.get("/tables/contacts/records/count").status_code == 404


def test_a_filtered_list_says_its_total_on_the_first_page(tenant):
    seed(tenant, 30)
    first = tenant.viewer.ok("GET", "/tables/contacts/records?filter.level=B&per_page=10")
    assert first["meta"]["total"] == 15 and len(first["data"]) == 10
    rest = tenant.viewer.ok(
        "GET", f"/tables/contacts/records?filter.level=B&per_page=10&cursor={first['meta']['next_cursor']}"
    )
    assert len(rest["data"]) == 5 and rest["meta"]["total"] is None
    unique = tenant.viewer.ok("GET", "/tables/contacts/records?filter.membership_no=M000002")
    assert unique["meta"]["total"] == 1 and [r["data"]["membership_no"] for r in unique["data"]] == ["M000002"]
    assert tenant.viewer.ok("GET", "/tables/contacts/records")["meta"]["total"] == 30
