"""`bulkimport webhooks ...`: the tenant's webhooks and their deliveries (admin keys only)."""

from __future__ import annotations

import click

from bulkimport_cli.main import _app, _paging, _show_page, common_options, quiet_option
from bulkimport_cli.output import MESSAGES

EVENT_TYPES = ("import.completed", "import.failed", "import.reverted", "job.completed", "record.created")

MESSAGES.update(
    {
        "webhook_secret": {
            "en": "Webhook {id}. Its signing secret, shown this once (store it now):",
            "zh-TW": "Webhook {id}。簽章密鑰只顯示這一次（請立即保存）：",
        },
        "webhook_deleted": {"en": "Webhook {id} deleted.", "zh-TW": "Webhook {id} 已刪除。"},
        "webhook_retried": {
            "en": "Delivery {id}: one more attempt now. Follow it with: bulkimport webhooks deliveries {webhook}",
            "zh-TW": "傳送 {id}：立即再試一次。查看結果：bulkimport webhooks deliveries {webhook}",
        },
    }
)


@click.group()
def webhooks() -> None:
    """Signed notifications of imports, jobs and records to your endpoints (admin keys only)."""


@webhooks.command("create")
@click.argument("url")
@click.option(
    "--event",
    "events",
    type=click.Choice(EVENT_TYPES),
    multiple=True,
    required=True,
    help="An event type it takes (repeat for more).",
)
@click.option("--description", default=None, help="What the webhook is for.")
@quiet_option
@common_options
def webhooks_create(url: str, events: tuple[str, ...], description: str | None, quiet: bool) -> None:
    """Create a webhook to URL (https); its signing secret is printed this once."""
    app = _app()
    body = {"url": url, "events": list(dict.fromkeys(events)), "description": description}
    webhook = app.client.json("POST", "/webhooks", json=body)["data"]
    if app.as_json:
        app.output.json(webhook)
        return
    if not quiet:
        app.output.note("webhook_secret", id=webhook["id"])
    print(webhook["secret"])


@webhooks.command("list")
@_paging
@common_options
def webhooks_list(per_page: int, cursor: str | None) -> None:
    """The tenant's webhooks (never their secrets)."""
    page = _app().client.json("GET", "/webhooks", params={"per_page": per_page, "cursor": cursor})
    _show_page(page, ["id", "url", "events", "enabled", "disabled_reason", "created_at"])


@webhooks.command("deliveries")
@click.argument("webhook_id")
@_paging
@common_options
def webhooks_deliveries(webhook_id: str, per_page: int, cursor: str | None) -> None:
    """A webhook's deliveries, newest first."""
    page = _app().client.json(
        "GET", f"/webhooks/{webhook_id}/deliveries", params={"per_page": per_page, "cursor": cursor}
    )
    _show_page(page, ["id", "type", "status", "attempts", "last_status_code", "last_error", "next_attempt_at"])


@webhooks.command("retry")
@click.argument("webhook_id")
@click.argument("delivery_id")
@common_options
def webhooks_retry(webhook_id: str, delivery_id: str) -> None:
    """Attempt a delivered or failed delivery once more (same webhook-id)."""
    app = _app()
    delivery = app.client.json("POST", f"/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")["data"]
    if app.as_json:
        app.output.json(delivery)
    else:
        app.output.say("webhook_retried", id=delivery_id, webhook=webhook_id)


@webhooks.command("delete")
@click.argument("webhook_id")
@common_options
def webhooks_delete(webhook_id: str) -> None:
    """Delete a webhook (its pending deliveries end failed)."""
    app = _app()
    app.client.request("DELETE", f"/webhooks/{webhook_id}")
    app.output.json({"id": webhook_id, "deleted": True}) if app.as_json else app.output.say(
        "webhook_deleted", id=webhook_id
    )
