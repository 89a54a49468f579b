"""What the tour met in the console (issue 32): failures and previews show the API's totals and page
through all of them; the import form's file options; the chosen language's dates and numbers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import new_page, problems, sign_in
from tests.browser.test_console import TABLE, drop_file, failure_rows

RECIPE = {
    "name": "客戶匯入",
    "table": "contacts",
    "columns": [
        {"source": s, "target": t}
        for s, t in (("會員編號", "membership_no"), ("姓名", "name"), ("Email", "email"), ("等級", "level"))
    ],
}
HEADER = "會員編號,姓名,Email,等級\n"


def bad_rows(count: int) -> str:
    """Rows that each fail three fields: a name missing, an email that is none, a level not an option."""
    return "".join(f"M{n:05d},,not-an-email-{n},Z\n" for n in range(1, count + 1))


def test_failures_show_the_apis_total_and_page_through_all_of_them(browser, stack, tenant):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(RECIPE)
    # 700 rows, three failures each: 2,100 entries, more than the console once read.
    done = tenant.admin.wait(tenant.admin.import_file(recipe["id"], (HEADER + bad_rows(700)).encode())["id"], 300)
    total = tenant.admin.ok("GET", f"/imports/{done['id']}/failures?per_page=1")["meta"]["total"]
    assert total == 2100

    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["viewer"])
    page.goto(f"{stack.console_url}#/imports/{done['id']}")
    expect(page.get_by_test_id("failures-count")).to_have_text("2,100 failures")
    expect(page.get_by_role("navigation", name="pagination")).to_contain_text("Page 1 of 84")
    assert [row[0] for row in failure_rows(page)][:4] == ["1", "1", "1", "2"]
    for _ in range(83):  # to the last page, a page of the API at a time
        page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("navigation", name="pagination")).to_contain_text("Page 84 of 84")
    last = failure_rows(page)
    assert len(last) == 25 and last[-1][0] == "700" and last[-1][4] == "NOT_IN_OPTIONS"

    # A filter finds its entries across the whole list.
    page.locator("select[name=code]").select_option("INVALID_EMAIL")
    expect(page.get_by_test_id("failures-count")).to_have_text("700 of 2,100 failures", timeout=60_000)
    expect(page.get_by_role("navigation", name="pagination")).to_contain_text("Page 1 of 28")
    assert {row[4] for row in failure_rows(page)} == {"INVALID_EMAIL"}
    assert problems(errors) == []


def test_the_preview_shows_all_its_failures(browser, stack, tenant):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(RECIPE)
    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["admin"])
    page.get_by_role("link", name="New import").click()
    # 12 failing rows, one failure each: more than the 10 the preview once asked for.
    rows = "".join(f"M{n:03d},王{n},not-an-email-{n},A\n" for n in range(1, 13))
    drop_file(page, "twelve.csv", HEADER + rows)
    page.locator("select[name=recipe]").select_option(recipe["id"])
    page.get_by_role("button", name="Preview (dry run)").click()
    preview = page.get_by_test_id("preview")
    expect(preview.locator("[data-outcome=failed]")).to_have_text("12", timeout=60_000)
    expect(preview.get_by_test_id("failures").locator("tbody tr")).to_have_count(12)
    expect(preview.get_by_test_id("failures-count")).to_have_text("12 failures")
    assert problems(errors) == []
