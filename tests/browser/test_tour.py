"""What the tour met in the console (issue 32): failures and previews show the API's totals and page
through all of them; the import form's file options; the chosen language's dates and numbers."""

from __future__ import annotations

import re

import openpyxl
from playwright.sync_api import expect

from tests.browser.conftest import new_page, problems, sign_in
from tests.browser.test_console import TABLE, drop_file, failure_rows
from tests.unit.test_encoding_corpus import ROWS, as_saved

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


PEOPLE = {
    "key": "people",
    "fields": [{"key": "name", "type": "string", "required": True}, {"key": "address", "type": "string"}],
}
# Vietnamese in Windows-1258 (tones as combining marks) also reads as Windows-1250 text: detection is
# unsure (ENCODING_UNCERTAIN) and the user says the encoding.
VIETNAMESE = [
    (as_saved(name, "cp1258"), as_saved(f"{address}, {city}", "cp1258")) for name, address, city in ROWS["vi"]
]


def drop_bytes(page, name: str, content: bytes) -> None:
    """A file of any bytes dropped on the drop zone (drop_file's, for files that are not UTF-8 text)."""
    transfer = page.evaluate_handle(
        "([name, bytes]) => { const t = new DataTransfer(); t.items.add(new File([new Uint8Array(bytes)], name));"
        " return t; }",
        [name, list(content)],
    )
    page.dispatch_event("[data-testid=drop-zone]", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("[data-testid=drop-zone]", "drop", {"dataTransfer": transfer})


def test_the_import_form_sets_encoding_delimiter_sheet_and_header(browser, stack, tenant, tmp_path):
    tenant.admin.create_table(PEOPLE)
    by_name = tenant.admin.create_recipe(
        {"name": "by name", "table": "people", "columns": [{"source": s, "target": s} for s in ("name", "address")]}
    )
    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["admin"])
    page.get_by_role("link", name="New import").click()

    # The encoding the error message asks for, set on the import form.
    text = "name,address\r\n" + "".join(f'{name},"{address}"\r\n' for name, address in VIETNAMESE)
    drop_bytes(page, "people.csv", text.encode("cp1258"))
    page.locator("select[name=recipe]").select_option(by_name["id"])
    options = page.get_by_test_id("file-options")
    expect(options.locator("input[name=encoding]")).to_have_value("auto")
    page.get_by_role("button", name="Preview (dry run)").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("ENCODING_UNCERTAIN", timeout=60_000)
    expect(preview).to_contain_text("options.encoding")
    options.locator("input[name=encoding]").fill("cp1258")
    options.locator("select[name=delimiter]").select_option(",")
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview.locator("[data-outcome=created]")).to_have_text(str(len(VIETNAMESE)), timeout=60_000)
    saved = tenant.admin.ok("GET", f"/recipes/{by_name['id']}")["data"]["options"]
    assert (saved["encoding"], saved["delimiter"]) == ("cp1258", ",")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".status")).to_have_text("Completed", timeout=60_000)
    stored = tenant.admin.all_pages("/tables/people/records")
    assert sorted((r["data"]["name"], r["data"]["address"]) for r in stored) == sorted(VIETNAMESE)

    # A workbook with a title sheet: only the sheet named on the form is read.
    workbook = openpyxl.Workbook()
    workbook.active.title = "Summary"
    workbook.active.append(["People, December"])
    workbook.active.append(["Total", 1])
    sheet = workbook.create_sheet("People")
    sheet.append(["name", "address"])
    sheet.append(["Ali Veli", "Bursa"])
    workbook.save(tmp_path / "people.xlsx")
    page.get_by_role("link", name="New import").click()
    drop_bytes(page, "people.xlsx", (tmp_path / "people.xlsx").read_bytes())
    page.locator("select[name=recipe]").select_option(by_name["id"])
    # The recipe's options reach the form when it has loaded them: cleared before, the field would be
    # filled again with the recipe's encoding.
    expect(options.locator("input[name=encoding]")).to_have_value("cp1258")
    options.locator("input[name=encoding]").fill("")
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview).to_contain_text("MISSING_COLUMN", timeout=60_000)
    options.locator("input[name=sheet]").fill("People")
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview.locator("[data-outcome=created]")).to_have_text("1", timeout=60_000)
    saved = tenant.admin.ok("GET", f"/recipes/{by_name['id']}")["data"]["options"]
    assert (saved["sheet"], saved["encoding"]) == ("People", "auto")

    # An editor: the header is the import's to say; the rest is the recipe's (an admin's).
    by_index = tenant.admin.create_recipe(
        {
            "name": "by index",
            "table": "people",
            "columns": [{"source": 0, "target": "name"}, {"source": 1, "target": "address"}],
        }
    )
    page, errors_editor = new_page(browser, stack)
    sign_in(page, tenant.keys["editor"])
    page.get_by_role("link", name="New import").click()
    drop_bytes(page, "no-header.csv", b"Ali,Bursa\nVeli,Konya\nCan,Izmir\n")
    page.locator("select[name=recipe]").select_option(by_index["id"])
    options = page.get_by_test_id("file-options")
    expect(options.locator("input[name=encoding]")).to_be_disabled()
    preview = page.get_by_test_id("preview")
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview.locator("[data-outcome=created]")).to_have_text("2", timeout=60_000)  # Ali read as a header
    options.get_by_label("The first row is the header").uncheck()
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview.locator("[data-outcome=created]")).to_have_text("3", timeout=60_000)
    assert tenant.admin.ok("GET", f"/recipes/{by_index['id']}")["data"]["options"]["has_header"] is True
    assert problems(errors) == [] and problems(errors_editor) == []


def test_dates_and_numbers_follow_the_chosen_language_and_the_console_has_an_icon(browser, stack, tenant):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(RECIPE)
    rows = "".join(f"M{n:05d},王{n},w{n}@example.com,A\n" for n in range(1, 1201))
    done = tenant.admin.wait(tenant.admin.import_file(recipe["id"], (HEADER + rows).encode())["id"], 300)
    page, errors = new_page(browser, stack)  # an en-US browser
    sign_in(page, tenant.keys["viewer"])
    page.goto(f"{stack.console_url}#/imports/{done['id']}")
    expect(page.get_by_test_id("total")).to_have_text("1,200")
    expect(page.get_by_test_id("outcomes").locator("[data-outcome=created]")).to_have_text("1,200")
    started = page.get_by_test_id("started")
    expect(started).to_contain_text(re.compile(r"[A-Z][a-z]{2} \d{1,2}, 20\d\d"))  # Dec 8, 2026
    page.get_by_label("Language").select_option("zh-TW")
    expect(started).to_contain_text(re.compile(r"20\d\d年\d{1,2}月\d{1,2}日"))  # the language chosen, not the browser's
    page.get_by_role("link", name="匯入紀錄", exact=True).click()
    expect(page.get_by_test_id("imports").locator("tbody tr").first).to_contain_text("1,200")

    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(page.evaluate("href => new URL(href, document.baseURI).href", icon))
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in answer.body()
    assert problems(errors) == []


def test_the_import_form_takes_a_header_row_below_a_reports_title(browser, stack, tenant):
    tenant.admin.create_table(PEOPLE)
    recipe = tenant.admin.create_recipe(
        {"name": "report", "table": "people", "columns": [{"source": s, "target": s} for s in ("name", "address")]}
    )
    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["editor"])
    page.get_by_role("link", name="New import").click()
    drop_bytes(page, "report.csv", b"People report\n\nname,address\nAli,Bursa\nVeli,Konya\n")
    page.locator("select[name=recipe]").select_option(recipe["id"])
    options = page.get_by_test_id("file-options")
    header_row = options.locator("input[name=header-row]")
    expect(header_row).to_have_value("1")
    expect(header_row).to_be_enabled()  # the import's to say, like the header
    preview = page.get_by_test_id("preview")
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview).to_contain_text("MISSING_COLUMN", timeout=60_000)
    header_row.fill("3")
    page.get_by_role("button", name="Preview (dry run)").click()
    expect(preview.locator("[data-outcome=created]")).to_have_text("2", timeout=60_000)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".status")).to_have_text("Completed", timeout=60_000)
    (done,) = [i for i in tenant.admin.ok("GET", "/imports")["data"] if not i["dry_run"]]
    assert done["header_row"] == 3
    stored = tenant.admin.all_pages("/tables/people/records")
    assert sorted(r["data"]["name"] for r in stored) == ["Ali", "Veli"]
    assert tenant.admin.ok("GET", f"/recipes/{recipe['id']}")["data"]["options"]["header_row"] == 1
    assert problems(errors) == []
