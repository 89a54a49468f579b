"""`bulkimport webhooks ...` as a user runs it (the installed command, a subprocess) against the
session's local stack, with a receiver on loopback."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook

from tests.integration.test_cli import BULKIMPORT, Cli
from tests.receivers import Receiver


@pytest.fixture
def cli(stack, tenant) -> Cli:
    assert BULKIMPORT, "bulkimport is not installed in the venv: make install"
    return Cli(BULKIMPORT, stack.api_url, tenant.keys["admin"])


def _deliveries(cli: Cli, webhook_id: str, settled: int) -> list[dict]:
    deadline = time.monotonic() + 60
    while True:
        page = cli.json("webhooks", "deliveries", webhook_id)["data"]
        if len([d for d in page if d["status"] != "pending"]) >= settled:
            return page
        assert time.monotonic() < deadline, page
        time.sleep(0.3)


def test_create_list_deliver_retry_and_delete(cli, tenant):
    answers = iter([500] * 8)
    with Receiver(lambda _r: (next(answers, 200), 0.0)) as receiver:
        made = cli("webhooks", "create", receiver.url, "--event", "import.completed", "--event", "record.created")
        assert made.returncode == 0, made.stdout + made.stderr
        secret = made.stdout.strip()
        assert secret.startswith("whsec_") and "shown this once" in made.stderr
        listed = cli.json("webhooks", "list")["data"]
        (webhook,) = listed
        assert webhook["url"] == receiver.url and "secret" not in webhook
        table = cli("webhooks", "list")
        assert table.returncode == 0 and webhook["id"] in table.stdout and "record.created" in table.stdout

        # A test delivery (through the API: the CLI has no `test`), failed after its 8 attempts.
        tenant.admin.ok("POST", f"/webhooks/{webhook['id']}/test", 202)
        (failed,) = _deliveries(cli, webhook["id"], 1)
        assert failed["status"] == "failed" and failed["attempts"] == 8
        shown = cli("webhooks", "deliveries", webhook["id"])
        assert shown.returncode == 0 and failed["id"] in shown.stdout and "failed" in shown.stdout

        retried = cli("webhooks", "retry", webhook["id"], failed["id"])
        assert retried.returncode == 0 and f"Delivery {failed['id']}: one more attempt" in retried.stdout
        deadline = time.monotonic() + 30
        while cli.json("webhooks", "deliveries", webhook["id"])["data"][0]["status"] != "delivered":
            assert time.monotonic() < deadline
            time.sleep(0.3)
        last = receiver.received[-1]
        assert last.headers["webhook-id"] == failed["id"]
        Webhook(secret).verify(last.body, last.headers)

        deleted = cli("webhooks", "delete", webhook["id"])
        assert deleted.returncode == 0 and f"Webhook {webhook['id']} deleted." in deleted.stdout
        assert cli.json("webhooks", "list")["data"] == []


def test_refusals_exit_1_with_the_code_and_bad_usage_exits_2(cli, tenant):
    refused = cli("webhooks", "create", "https://169.254.169.254/latest", "--event", "job.completed")
    assert refused.returncode == 1 and "WEBHOOK_URL_NOT_ALLOWED" in refused.stderr
    chinese = cli("--lang", "zh-TW", "webhooks", "create", "http://example.com/", "--event", "job.completed")
    assert chinese.returncode == 1 and "不允許使用 Webhook 網址" in chinese.stderr
    as_json = cli("--json", "webhooks", "delete", "01M8C9BVB8MA4PQ3011DQJGH53")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["error"]["code"] == "WEBHOOK_NOT_FOUND"
    assert cli("webhooks", "create", "https://hooks.example.com/").returncode == 2  # no --event
    assert cli("webhooks", "create", "https://x.example/", "--event", "import.started").returncode == 2
    viewer = Cli(cli.command, cli.env["BULKIMPORT_API"], tenant.keys["viewer"])
    listed = viewer("webhooks", "list")
    assert listed.returncode == 1 and "FORBIDDEN" in listed.stderr
