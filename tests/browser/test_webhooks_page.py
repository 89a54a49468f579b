"""The console's webhooks page in Chromium: an admin creates a webhook to a receiver on loopback,
reads its secret once, sends a test, watches the delivery arrive and retries it; in Traditional
Chinese too; editors see no such page."""

from __future__ import annotations

from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.browser.conftest import new_page, problems, screenshot, sign_in
from tests.receivers import Receiver


def test_an_admin_creates_tests_and_retries_a_webhook(browser, stack, tenant):
    page, errors = new_page(browser, stack)
    page.on("dialog", lambda dialog: dialog.accept())  # the delete confirmation
    sign_in(page, tenant.keys["admin"])
    with Receiver() as receiver:
        page.get_by_role("link", name="Webhooks", exact=True).click()
        page.locator("input[name=webhook-url]").fill(receiver.url)
        page.locator("input[name=webhook-description]").fill("CRM sync")
        page.locator("input[name='event-import.failed']").uncheck()
        page.locator("input[name='event-record.created']").check()
        page.get_by_role("button", name="Create").click()
        secret = page.get_by_test_id("webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        row = page.get_by_test_id("webhooks").locator("tr", has_text="CRM sync")
        expect(row).to_contain_text("import.completed, record.created")
        expect(row).to_contain_text("Enabled")
        (webhook,) = tenant.admin.all_pages("/webhooks")
        assert webhook["events"] == ["import.completed", "record.created"]

        row.get_by_role("button", name="Send a test").click()
        expect(page.locator("p.notice", has_text="Test delivery")).to_be_visible()
        (request,) = receiver.wait_for(1)
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"

        row.get_by_role("button", name="Deliveries").click()
        delivered = page.get_by_test_id("deliveries").locator("tr[data-status=delivered]")
        expect(delivered).to_contain_text("webhook.test", timeout=30_000)
        expect(delivered).to_contain_text("200")
        screenshot(page, "20-webhook-deliveries")
        delivered.get_by_role("button", name="Retry").click()
        requests_ = receiver.wait_for(2)
        assert requests_[1].headers["webhook-id"] == requests_[0].headers["webhook-id"]
        attempts = page.get_by_test_id("deliveries").locator("tr[data-status=delivered] td:nth-child(4)")
        expect(attempts).to_have_text("2", timeout=30_000)

        page.get_by_role("link", name="Back").click()
        row.get_by_role("button", name="Disable").click()
        expect(row).to_contain_text("Disabled")
        assert tenant.admin.ok("GET", f"/webhooks/{webhook['id']}")["data"]["enabled"] is False
        row.get_by_role("button", name="Delete").click()
        expect(page.get_by_test_id("webhooks").locator("tr", has_text="CRM sync")).to_have_count(0)
    # A refused URL shows the API's message.
    page.locator("input[name=webhook-url]").fill("https://169.254.169.254/latest/meta-data")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".error")).to_contain_text("WEBHOOK_URL_NOT_ALLOWED")
    assert problems(errors) == []


def test_the_page_in_traditional_chinese_and_hidden_from_editors(browser, stack, tenant):
    tenant.admin.ok("POST", "/webhooks", 201, json={"url": "http://127.0.0.1:9/x", "events": ["job.completed"]})
    page, errors = new_page(browser, stack, locale="zh-TW")
    sign_in(page, tenant.keys["admin"])
    page.get_by_role("link", name="Webhook", exact=True).click()
    expect(page.get_by_role("heading", name="新增 Webhook")).to_be_visible()
    expect(page.get_by_test_id("webhooks")).to_contain_text("啟用中")
    page.get_by_test_id("webhooks").get_by_role("button", name="傳送紀錄").click()
    expect(page.get_by_role("heading", name="傳送紀錄")).to_be_visible()
    screenshot(page, "21-webhooks-zh-TW")
    assert problems(errors) == []

    editor, _ = new_page(browser, stack)
    sign_in(editor, tenant.keys["editor"])
    expect(editor.get_by_test_id("role")).to_have_text("editor")
    expect(editor.get_by_role("link", name="Webhooks", exact=True)).to_have_count(0)
