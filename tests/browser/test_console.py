"""The console's quick start in Chromium: sign in, drop a file with bad rows, make its recipe from the
suggested mapping, preview it, import it, watch it complete, read the exact failures, download
failures.csv, export the table and download the export; and the same pages in Traditional Chinese."""

from __future__ import annotations

import csv
import io
import re

import requests
from playwright.sync_api import expect

from tests.browser.conftest import new_page, problems, screenshot, sign_in

TABLE = {
    "key": "contacts",
    "name": "客戶",
    "fields": [
        {"key": "membership_no", "label": "會員編號", "type": "string", "required": True, "unique": True},
        {"key": "name", "label": "姓名", "type": "string", "required": True},
        {"key": "email", "label": "Email", "type": "email"},
        {"key": "level", "label": "等級", "type": "enum", "options": ["A", "B"]},
    ],
}
# Rows 2 and 4 are bad: an email that is none, a level that is not an option.
CSV = (
    "會員編號,姓名,Email,等級\n"
    "M001,王小明,wang@example.com,A\n"
    "M002,李小華,not-an-email,B\n"
    "M003,陳大文,chen@example.com,B\n"
    "M004,林美麗,lin@example.com,Z\n"
    "M005,張志明,chang@example.com,A\n"
)


def drop_file(page, name: str, text: str) -> None:
    """What a drag from the desktop delivers: a drop event whose DataTransfer holds the file."""
    transfer = page.evaluate_handle(
        "([name, text]) => { const t = new DataTransfer(); t.items.add(new File([text], name, {type: 'text/csv'}));"
        " return t; }",
        [name, text],
    )
    page.dispatch_event("[data-testid=drop-zone]", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("[data-testid=drop-zone]", "drop", {"dataTransfer": transfer})


def failure_rows(page) -> list[list[str]]:
    rows = page.locator("[data-testid=failures] tbody tr")
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def test_the_quick_start_in_the_browser(browser, stack, tenant, tmp_path):
    tenant.admin.create_table(TABLE)
    page, errors = new_page(browser, stack)
    screenshot(page, "01-sign-in")
    sign_in(page, tenant.keys["admin"])
    expect(page.get_by_test_id("tenant")).to_have_text(tenant.id)
    expect(page.get_by_test_id("role")).to_have_text("admin")

    # A file dropped, its recipe made from the suggested mapping (every header matched a label).
    page.get_by_role("link", name="New import").click()
    drop_file(page, "contacts.csv", CSV)
    expect(page.get_by_test_id("chosen-file")).to_contain_text("contacts.csv")
    page.get_by_role("button", name="Make a recipe from this file").click()
    page.locator("select[name=suggest-table]").select_option("contacts")
    page.get_by_role("button", name="Suggest", exact=True).click()
    mapping = page.get_by_test_id("mapping")
    expect(mapping.get_by_label("Field: 會員編號")).to_have_value("membership_no")
    expect(mapping.get_by_label("Field: 等級")).to_have_value("level")
    expect(mapping).to_contain_text("100%")
    screenshot(page, "03-new-import-mapping")
    page.get_by_role("button", name="Save the recipe").click()
    expect(page.locator("select[name=recipe]")).not_to_have_value("")

    # Preview: a dry run says what would happen and writes nothing.
    page.get_by_role("button", name="Preview (dry run)").click()
    preview = page.get_by_test_id("preview")
    expect(preview.locator("[data-outcome=failed]")).to_have_text("2", timeout=60_000)
    expect(preview.get_by_test_id("failures")).to_contain_text("INVALID_EMAIL")
    # The sample: the rows that pass, as they would be stored, as a table.
    sample = preview.get_by_test_id("sample")
    expect(sample.locator("thead th").first).to_have_text("Row")
    expect(sample.locator("tbody tr")).to_have_count(3)  # rows 1, 3 and 5 pass
    expect(sample.locator("tbody tr").first.locator("td").first).to_have_text("1")
    expect(sample).to_contain_text("M001")
    screenshot(page, "04-preview")
    assert tenant.admin.ok("GET", "/tables/contacts")["data"]["record_count"] == 0

    # The import: uploaded with a bar, then its page follows it to the end.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/imports/\w+$"))
    import_page = page.url
    expect(page.locator(".status")).to_have_text("Completed with errors", timeout=60_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    outcomes = page.get_by_test_id("outcomes")
    expect(outcomes.locator("[data-outcome=failed]")).to_have_text("2")
    expect(page.get_by_test_id("failures")).to_be_visible()
    assert failure_rows(page) == [
        ["2", "", "3", "email", "INVALID_EMAIL", "Email must be an email address, got 'not-an-email'.", "not-an-email"],
        ["4", "", "5", "level", "NOT_IN_OPTIONS", "等級 must be one of A, B, got 'Z'.", "Z"],
    ]
    screenshot(page, "05-import")
    page.locator("select[name=code]").select_option("NOT_IN_OPTIONS")
    assert [row[0] for row in failure_rows(page)] == ["4"]

    # failures.csv: the failing rows as they came, with their codes and messages.
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download failures.csv").click()
    content = downloading.value.path().read_bytes().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(content))) == [
        ["_row", "會員編號", "姓名", "Email", "等級", "error_code", "error_message"],
        [
            "2",
            "M002",
            "李小華",
            "not-an-email",
            "B",
            "INVALID_EMAIL",
            "Email must be an email address, got 'not-an-email'.",
        ],
        ["4", "M004", "林美麗", "lin@example.com", "Z", "NOT_IN_OPTIONS", "等級 must be one of A, B, got 'Z'."],
    ]

    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.get_by_test_id("imports").locator("tbody tr")).to_have_count(2)  # the preview and the import
    screenshot(page, "02-imports")

    # An export of the level-A contacts: the total counted first, the file downloaded when done.
    page.get_by_role("link", name="Exports").click()
    page.locator("select[name=export-table]").select_option("contacts")
    page.get_by_role("button", name="Add a filter").click()
    page.get_by_label("Field", exact=True).select_option("level")
    page.get_by_label("level =").fill("A")
    page.get_by_role("button", name="Count matching records").click()
    expect(page.get_by_test_id("matching")).to_have_text("2 records match")
    page.get_by_role("button", name="Export", exact=True).click()
    download_button = page.get_by_test_id("exports").get_by_role("button", name="Download")
    with page.expect_download() as downloading:
        download_button.click(timeout=60_000)
    exported = list(csv.DictReader(io.StringIO(downloading.value.path().read_bytes().decode("utf-8-sig"))))
    assert sorted(row["會員編號"] for row in exported) == ["M001", "M005"]
    screenshot(page, "06-exports")

    # Undo: the import's three records are deleted once the confirmation is accepted.
    page.goto(import_page)
    confirmations: list[str] = []
    page.once("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Revert").click()
    expect(page.locator(".status")).to_have_text("Reverted", timeout=60_000)
    expect(page.get_by_test_id("revert-result")).to_have_text("Reverted: 3 deleted, 0 restored, 0 left as they are.")
    assert "Records it created are deleted" in confirmations[0]
    expect(page.get_by_role("button", name="Revert")).to_have_count(0)  # a second revert is not offered
    assert tenant.admin.ok("GET", "/tables/contacts")["data"]["record_count"] == 0
    assert tenant.admin.ok("GET", "/tables/contacts/records")["data"] == []
    screenshot(page, "06b-reverted")

    for link, name in (("Tables", "07-tables"), ("Recipes", "08-recipes"), ("API keys", "09-keys")):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.locator("h1")).to_have_text(link)
        screenshot(page, name)

    # In Chinese every page of an admin still fits the window: long labels wrap, nothing overflows.
    page.get_by_label("Language").select_option("zh-TW")
    for link in ("匯入紀錄", "新增匯入", "資料表", "匯入範本", "匯出", "API 金鑰"):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.locator("h1")).to_have_text(link)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, link
    assert problems(errors) == []


def test_traditional_chinese_follows_the_browser_and_can_be_switched(browser, stack, tenant):
    tenant.admin.create_table(TABLE)
    recipe = tenant.admin.create_recipe(
        {
            "name": "客戶匯入",
            "table": "contacts",
            "columns": [
                {"source": s, "target": t}
                for s, t in (("會員編號", "membership_no"), ("姓名", "name"), ("Email", "email"), ("等級", "level"))
            ],
        }
    )
    done = tenant.admin.wait(tenant.admin.import_file(recipe["id"], CSV.encode(), "客戶.csv")["id"])

    page, errors = new_page(browser, stack, locale="zh-TW")
    expect(page.get_by_role("heading", name="登入")).to_be_visible()
    sign_in(page, tenant.keys["viewer"])
    expect(page.get_by_role("link", name="匯入紀錄")).to_be_visible()
    expect(page.get_by_role("link", name="新增匯入")).to_have_count(0)  # a viewer does not import
    page.goto(f"{stack.console_url}#/imports/{done['id']}")
    expect(page.locator(".status")).to_have_text("已完成（有錯誤）")
    # The API answers in the console's language: the failure messages are in Chinese too.
    expect(page.get_by_test_id("failures")).to_contain_text("NOT_IN_OPTIONS")
    expect(page.get_by_role("columnheader", name="錯誤代碼")).to_be_visible()
    chinese_message = page.get_by_test_id("failures").locator("tbody tr").nth(1).locator("td").nth(5).inner_text()
    assert chinese_message != "等級 must be one of A, B, got 'Z'." and "Z" in chinese_message
    # Long Chinese labels wrap: nothing is wider than the 1280-pixel window.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "10-import-zh-TW")

    page.get_by_label("語言").select_option("en")
    expect(page.get_by_role("link", name="Imports", exact=True)).to_be_visible()
    assert problems(errors) == []


def test_the_stack_serves_the_console_with_its_types_and_security_headers(stack):
    index = requests.get(stack.console_url, timeout=10)
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    # The deployed policy (template.yaml), with the local origins: the pages above ran under it.
    (deployed,) = stack.template.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    deployed_csp = deployed["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    deployed_csp = deployed_csp["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "connect-src 'self' https://${DataBucket}.s3." in deployed_csp
    expected = deployed_csp[: deployed_csp.index("connect-src")] + f"connect-src 'self' {stack.aws_endpoint}; "
    expected += deployed_csp[deployed_csp.index("base-uri") :]
    assert index.headers["Content-Security-Policy"] == expected
    assert index.headers["X-Frame-Options"] == "DENY" and index.headers["X-Content-Type-Options"] == "nosniff"
    script = next(part.split('"')[0] for part in index.text.split('src="')[1:] if part.split('"')[0].endswith(".js"))
    asset = requests.get(stack.console_url + script.removeprefix("./"), timeout=10)
    assert asset.status_code == 200 and asset.headers["Content-Type"].startswith("text/javascript")
    assert requests.get(stack.console_url + "../template.yaml", timeout=10).status_code == 404
    assert requests.get(stack.console_url + "v1/health", timeout=10).json() == {"status": "ok"}


def test_an_admin_makes_and_edits_tables_recipes_and_keys(browser, stack, tenant):
    page, errors = new_page(browser, stack)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations (revoke)
    sign_in(page, tenant.keys["admin"])

    page.get_by_role("link", name="Tables", exact=True).click()
    page.get_by_role("button", name="New table").click()
    page.locator("input[name=table-key]").fill("products")
    page.locator("input[name=table-name]").fill("商品")
    form = page.locator("form.card")
    field_rows = form.locator("table")
    field_rows.get_by_label("Key", exact=True).fill("sku")
    field_rows.get_by_label("Required").check()
    field_rows.get_by_label("Unique").check()
    page.get_by_role("button", name="Add a field").click()
    field_rows.get_by_label("Key", exact=True).nth(1).fill("price")
    field_rows.get_by_label("Type").nth(1).select_option("number")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("tables")).to_contain_text("商品")
    page.get_by_test_id("tables").get_by_role("button", name="Edit").click()
    page.get_by_role("button", name="Add a field").click()
    field_rows.get_by_label("Key", exact=True).nth(2).fill("color")
    field_rows.get_by_label("Type").nth(2).select_option("enum")
    field_rows.get_by_label("Options (comma separated)").fill("red, blue")
    page.get_by_role("button", name="Save").click()
    expect(form).to_have_count(0)
    fields = tenant.admin.ok("GET", "/tables/products")["data"]["fields"]
    assert [(f["key"], f["type"], f["required"], f["unique"], f["options"]) for f in fields] == [
        ("sku", "string", True, True, None),
        ("price", "number", False, False, None),
        ("color", "enum", False, False, ["red", "blue"]),
    ]

    page.get_by_role("link", name="Recipes", exact=True).click()
    page.get_by_role("button", name="New recipe").click()
    page.locator("input[name=recipe-name]").fill("商品匯入")
    page.get_by_label("Source column").fill("SKU")
    page.get_by_label("Target field").select_option("sku")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("recipes")).to_contain_text("SKU → sku")
    page.get_by_test_id("recipes").get_by_role("button", name="Edit").click()
    page.get_by_role("button", name="Add a column").click()
    page.get_by_label("Source column").nth(1).fill("單價")
    page.get_by_label("Target field").nth(1).select_option("price")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("recipes")).to_contain_text("單價 → price")
    (recipe,) = tenant.admin.all_pages("/recipes")
    assert recipe["columns"] == [{"source": "SKU", "target": "sku"}, {"source": "單價", "target": "price"}]

    # A column's cleaning: steps (JSON), a format, a default; a steps text that is not JSON is refused.
    page.get_by_test_id("recipes").get_by_role("button", name="Edit").click()
    page.get_by_label("Steps (JSON)").first.fill('["trim", ')
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Steps (JSON)")
    page.get_by_label("Steps (JSON)").first.fill('["trim", "upper"]')
    page.get_by_label("Format").nth(1).select_option("1.234,5")
    page.get_by_label("Default").nth(1).fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("recipes")).to_contain_text('單價 → price (Format 1.234,5; Default "0")')
    expect(page.get_by_test_id("recipes")).to_contain_text("SKU → sku (trim, upper)")
    (recipe,) = tenant.admin.all_pages("/recipes")
    assert recipe["columns"] == [
        {"source": "SKU", "target": "sku", "transform": ["trim", "upper"]},
        {"source": "單價", "target": "price", "default": "0", "format": {"decimal": ",", "group": "."}},
    ]
    assert recipe["version"] == 3
    # Opened again, the form shows what the columns set.
    page.get_by_test_id("recipes").get_by_role("button", name="Edit").click()
    expect(page.get_by_label("Steps (JSON)").first).to_have_value('["trim","upper"]')
    expect(page.get_by_label("Format").nth(1)).to_have_value("1.234,5")
    expect(page.get_by_label("Default").nth(1)).to_have_value("0")
    page.get_by_role("button", name="Cancel").click()

    page.get_by_role("link", name="API keys", exact=True).click()
    page.locator("input[name=key-name]").fill("nightly sync")
    page.locator("select[name=key-role]").select_option("viewer")
    page.get_by_role("button", name="Create").click()
    secret = page.get_by_test_id("new-key").inner_text()
    me = requests.get(f"{stack.api_url}/me", headers={"Authorization": f"Bearer {secret}"}, timeout=10).json()
    assert me["data"]["tenant"] == tenant.id and me["data"]["role"] == "viewer"
    row = page.get_by_test_id("keys").locator("tr", has_text="nightly sync")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("Revoked")
    assert problems(errors) == []


def test_a_picked_recipe_and_the_upload_bar_on_a_slow_line(browser, stack, tenant):
    tenant.admin.create_table(TABLE)
    columns = [("會員編號", "membership_no"), ("姓名", "name"), ("Email", "email"), ("等級", "level")]
    recipe = tenant.admin.create_recipe(
        {"name": "客戶匯入", "table": "contacts", "columns": [{"source": s, "target": t} for s, t in columns]}
    )
    # 150 rows of ~1 KB (a long column the recipe leaves out): seconds to upload, a moment to import.
    note = "x" * 1000
    rows = "".join(f"M{n:06d},客戶{n},c{n}@example.com,{'AB'[n % 2]},{note}\n" for n in range(150))
    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["editor"])
    page.get_by_role("link", name="New import").click()
    drop_file(page, "big.csv", "會員編號,姓名,Email,等級,note\n" + rows)
    page.locator("select[name=recipe]").select_option(recipe["id"])
    # 60 KB/s up: the upload takes seconds, and the bar shows it going.
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 60_000},
    )
    page.get_by_role("button", name="Import", exact=True).click()
    bar = page.get_by_role("progressbar", name="Uploading")
    expect(bar).to_be_visible()
    seen = {int(bar.get_attribute("aria-valuenow") or 0) for _ in range(8) if not page.wait_for_timeout(150)}
    assert any(0 < value < 100 for value in seen), seen
    expect(page).to_have_url(re.compile(r"#/imports/\w+$"), timeout=60_000)
    expect(page.locator(".status")).to_have_text("Completed", timeout=60_000)
    assert tenant.admin.ok("GET", "/tables/contacts")["data"]["record_count"] == 150
    assert problems(errors) == []


def tab_to(page, selector: str, presses: int = 40) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user would)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement?.matches(selector) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_file_imported_with_the_keyboard_alone(browser, stack, tenant, tmp_path):
    """No mouse: Tab and Enter follow the menu, Tab reaches the file chooser with its focus shown,
    arrow keys pick the recipe and Enter starts the import."""
    tenant.admin.create_table(TABLE)
    columns = [("會員編號", "membership_no"), ("姓名", "name"), ("Email", "email"), ("等級", "level")]
    tenant.admin.create_recipe(
        {"name": "客戶匯入", "table": "contacts", "columns": [{"source": s, "target": t} for s, t in columns]}
    )
    (tmp_path / "contacts.csv").write_text(CSV, encoding="utf-8")
    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["editor"])
    expect(page.get_by_test_id("role")).to_have_text("editor")

    tab_to(page, "nav a[href='#/new-import']")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("New import")
    tab_to(page, "input[type=file]")
    chooser_label = page.locator("label.button", has=page.locator("input[type=file]"))
    assert chooser_label.evaluate("label => getComputedStyle(label).outlineStyle") != "none"  # focus is visible
    # The picker it opens is the system's own dialog (headless Chromium opens none): the file is given
    # to the focused input as the dialog would.
    page.locator("input[type=file]").set_input_files(str(tmp_path / "contacts.csv"))
    expect(page.get_by_test_id("chosen-file")).to_contain_text("contacts.csv")
    tab_to(page, "select[name=recipe]")
    page.keyboard.press("ArrowDown")
    expect(page.locator("select[name=recipe]")).not_to_have_value("")
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    expect(page.locator(".status")).to_have_text("Completed with errors", timeout=60_000)
    assert tenant.admin.ok("GET", "/tables/contacts")["data"]["record_count"] == 3
    assert problems(errors) == []
