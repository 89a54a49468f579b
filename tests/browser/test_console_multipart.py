"""A large file in the console goes in parts; the upload cut off after some parts goes on after a
reload when the same file is picked again, sending only the parts S3 does not hold."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import new_page, problems, sign_in
from tests.browser.test_console import TABLE
from tests.helpers import csv_bytes
from tests.integration.test_multipart import MiB, big_csv
from tests.samples import HEADER

PARTS = 5  # of the 21 MiB file, 5 MiB a part


def _recipe(tenant) -> dict:
    tenant.admin.create_table(TABLE)
    columns = [("會員編號", "membership_no"), ("姓名", "name"), ("Email", "email"), ("等級", "level")]
    return tenant.admin.create_recipe(
        {"name": "客戶匯入", "table": "contacts", "columns": [{"source": s, "target": t} for s, t in columns]}
    )


def _pick(page, path, recipe_id: str) -> None:
    page.get_by_role("link", name="New import").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.locator("select[name=recipe]").select_option(recipe_id)
    page.get_by_role("button", name="Import", exact=True).click()


def test_a_large_upload_cut_off_resumes_after_a_reload(browser, stack, tenant, tmp_path):
    recipe = _recipe(tenant)
    source = tmp_path / "big.csv"
    content = big_csv(120, 21 * MiB)  # PARTS parts of 5 MiB, the last of 1 MiB
    assert content.startswith(csv_bytes([HEADER]))
    source.write_bytes(content)
    page, errors = new_page(browser, stack)
    sign_in(page, tenant.keys["editor"])

    puts: list[str] = []

    def cut_after_two(route):
        if route.request.method != "PUT":
            return route.continue_()
        puts.append(route.request.url)
        return route.continue_() if len(puts) <= 2 else route.abort("connectionreset")

    page.route(re.compile(r".*/uploads/.*"), cut_after_two)
    _pick(page, source, recipe["id"])
    expect(page.locator(".error")).to_be_visible(timeout=60_000)  # the line went down
    (waiting,) = tenant.viewer.ok("GET", "/imports?status=waiting_upload")["data"]
    held = tenant.viewer.ok("GET", f"/imports/{waiting['id']}/upload")["data"]["parts"]
    assert len(held) == 2, held

    page.unroute(re.compile(r".*/uploads/.*"))
    puts.clear()
    page.route(re.compile(r".*/uploads/.*"), lambda route: (puts.append(route.request.method), route.continue_()))
    page.reload()
    # The old page is gone: what S3 holds now is what the new one may skip (the old page may have
    # sent a part again after the line came back, before the reload).
    held_at_reload = tenant.viewer.ok("GET", f"/imports/{waiting['id']}/upload")["data"]["parts"]
    _pick(page, source, recipe["id"])
    expect(page).to_have_url(re.compile(rf"#/imports/{waiting['id']}$"), timeout=60_000)  # the same import
    expect(page.locator(".status")).to_have_text("Completed", timeout=90_000)
    assert puts.count("PUT") == PARTS - len(held_at_reload) >= 1  # only the parts S3 did not hold
    assert tenant.admin.ok("GET", "/tables/contacts")["data"]["record_count"] == 120
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('bulkimport.upload.'))") == []
    assert [p for p in problems(errors) if "connectionreset" not in p] == []
