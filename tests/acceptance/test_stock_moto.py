"""The stock-moto pass: every kind of run (an import with failures and unique keys, a batch create, a
job, a revert, a scheduled import, a file dropped into the bucket) on a stack started with
`python -m devstack --stock-moto`, so moto, botocore and Powertools as released, none of devstack's
fixes (devstack/moto_fixes.py). The same runs pass on the fixed stack in tests/integration; what the
fixes answer is compared with what this stack answers in tests/integration/test_moto_fixes.py."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import requests

from tests.helpers import Api, csv_bytes
from tests.samples import HEADER, good_row, setup_contacts

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_of_run_on_stock_moto(stock_stack):
    api = Api(stock_stack.api, "dev-key")
    recipe = setup_contacts(api)
    rows = [good_row(n) for n in range(1, 121)]
    bad = [*good_row(121)[:3], "Z", *good_row(121)[4:]]  # a level not in the options
    done = api.wait(api.import_file(recipe["id"], csv_bytes([HEADER, *rows, bad, good_row(7)]))["id"])
    assert (done["status"], done["success_count"], done["fail_count"]) == ("completed_with_errors", 120, 2)
    codes = sorted(f["code"] for f in api.all_pages(f"/imports/{done['id']}/failures"))
    assert codes == ["DUPLICATE_VALUE", "NOT_IN_OPTIONS"] or codes == ["DUPLICATE_IN_FILE", "NOT_IN_OPTIONS"], codes

    created = api.ok(
        "POST",
        "/tables/contacts/records/batch-create",
        json={"records": [{"membership_no": "M900001", "name": "新"}, {"membership_no": "M000001", "name": "重"}]},
    )
    assert (created["status"], created["success_count"], len(created["failures"])) == ("partial", 1, 1), created

    job = api.wait_job(
        api.start_job(
            {
                "job_name": "batch_update",
                "table": "contacts",
                "ids": created["success_ids"],
                "changes": {"email": "new@example.com"},
            }
        )
    )
    assert (job["code"], job["data"]["succeeded_amount"]) == (200, 1), job

    api.ok("POST", f"/imports/{done['id']}/revert")
    deadline = time.monotonic() + 120
    while (current := api.ok("GET", f"/imports/{done['id']}")["data"])["status"] == "reverting":
        assert time.monotonic() < deadline, current
        time.sleep(0.2)
    assert (current["status"], current["revert"]["deleted"]) == ("reverted", 120), current
    assert api.ok("GET", "/tables/contacts")["data"]["record_count"] == 1  # the batch-created one

    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    scheduled = api.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "scheduled_at": at.isoformat()})
    ticket = scheduled["data"]["upload"]
    content = csv_bytes([HEADER, *[good_row(n) for n in range(200, 230)]])
    posted = requests.post(ticket["url"], data=ticket["fields"], files={"file": ("s.csv", content)}, timeout=30)
    assert posted.status_code in (200, 204), posted.text
    assert api.wait(scheduled["data"]["id"], timeout=60)["success_count"] == 30

    s3 = boto3.client(
        "s3",
        endpoint_url=stock_stack.aws,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    s3.put_object(
        Bucket="bulkimport-local-databucket",
        Key=f"drop/dev/{recipe['id']}/dropped.csv",
        Body=csv_bytes([HEADER, *[good_row(n) for n in range(300, 310)]]),
    )
    deadline = time.monotonic() + 60
    while not (dropped := [i for i in api.all_pages("/imports") if i["file"]["name"] == "dropped.csv"]):
        assert time.monotonic() < deadline, "the dropped file started no import"
        time.sleep(0.3)
    assert api.wait(dropped[0]["id"])["success_count"] == 10


STOCK_PROBE = """
import json, sys
from devstack.stack import LocalStack
from devstack.moto_fixes import replaced
from tests.helpers import Api, free_port

stack = LocalStack(aws_port=free_port(), api_port=free_port(), moto_fixes=sys.argv[1] == "on").start()
assert Api(stack.api_url, "dev-key").get("/tables").status_code == 200
print(json.dumps(replaced()))
"""


def test_stock_moto_patches_nothing():
    """A stack started with the fixes off leaves every function of moto, botocore, werkzeug,
    Powertools and the standard library's executor as released (none of them is devstack's)."""

    def probe(setting: str) -> list[str]:
        ran = subprocess.run(
            [sys.executable, "-c", STOCK_PROBE, setting], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stderr
        return json.loads(ran.stdout.splitlines()[-1])

    assert probe("off") == []
