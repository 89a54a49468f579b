"""Smoke test of a deployed stack (or the local one): every way a file gets in, and out again.

    python tools/smoke.py --stack-name bulkimport --key <admin key> --tenant <tenant>
    python tools/smoke.py --api https://<id>.execute-api.<region>.amazonaws.com/v1 --key <admin key> \
        --tenant <tenant> --bucket <BucketName output>
    python tools/smoke.py --api http://127.0.0.1:3000/v1 --key dev-key --tenant dev \
        --bucket bulkimport-local-databucket --endpoint-url http://127.0.0.1:5000

It makes a table and a recipe of its own (named smoke_<time>, so runs never collide), then checks, each
with exact counts: an import by presigned upload with bad rows, an S3 drop through the AWS CLI, an
import scheduled a minute ahead, an export job and its download, and a batch-create sent twice with one
transaction id. It prints one line per check with its time and exits 1 if any failed.

The S3 drop needs AWS credentials that may write to the bucket (the AWS CLI's usual settings); with
`--endpoint-url` it uses the local stack's dummy ones. Nothing it creates is deleted: a smoke table is
small and names its run.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
import requests

FINAL = {"completed", "completed_with_errors", "failed", "cancelled"}
ROWS = 50
BAD_ROWS = (7, 23, 41)  # 1-based data rows with an invalid email: the failures the imports must report


class SmokeFailure(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)


@dataclass
class Api:
    base: str
    key: str
    timeout: float
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.headers["Authorization"] = f"Bearer {self.key}"

    def call(self, method: str, path: str, status: int, **kwargs) -> dict:
        response = self.session.request(method, self.base + path, timeout=60, **kwargs)
        if response.status_code != status:
            raise SmokeFailure(f"{method} {path} answered {response.status_code}, not {status}: {response.text[:300]}")
        return response.json() if response.content else {}

    def until(self, what: str, probe: Callable[[], dict | None]) -> dict:
        """Poll `probe` until it returns something, for at most the run's timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise SmokeFailure(f"timed out after {self.timeout:.0f} s waiting for {what}")
            time.sleep(1)

    def final_import(self, import_id: str) -> dict:
        def probe() -> dict | None:
            item = self.call("GET", f"/imports/{import_id}", 200)["data"]
            return item if item["status"] in FINAL else None

        return self.until(f"import {import_id} to finish", probe)


def sample_csv(marker: str) -> bytes:
    """ROWS rows, BAD_ROWS of them with a bad email; `marker` makes every file's codes unique."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Code", "Name", "Email", "Qty"])
    for n in range(1, ROWS + 1):
        email = "not-an-email" if n in BAD_ROWS else f"user{n}@example.com"
        writer.writerow([f"{marker}-{n:04d}", f"客戶 {n}", email, n])
    return out.getvalue().encode("utf-8-sig")


def check_import(item: dict) -> None:
    expect(item["status"] == "completed_with_errors", f"status {item['status']} (error {item.get('error')})")
    counts = (item["total_count"], item["processed_count"], item["success_count"], item["fail_count"])
    expected = (ROWS, ROWS, ROWS - len(BAD_ROWS), len(BAD_ROWS))
    expect(counts == expected, f"counts total/processed/ok/failed {counts}, expected {expected}")


class Smoke:
    def __init__(self, args: argparse.Namespace):
        self.api = Api(args.api.rstrip("/"), args.key, args.timeout)
        self.args = args
        self.run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:4]
        self.table = f"smoke_{self.run_id}"
        self.recipe_id = ""
        self.scheduled_id = ""
        self.imported = 0  # rows written to the smoke table so far, by the checks that ended

    # ---------------------------------------------------------------- the checks, in order
    def setup(self) -> str:
        self.api.call("GET", "/health", 200)
        table = {
            "key": self.table,
            "name": f"Smoke {self.run_id}",
            "fields": [
                {"key": "code", "type": "string", "required": True, "unique": True},
                {"key": "name", "type": "string", "required": True},
                {"key": "email", "type": "email"},
                {"key": "qty", "type": "number"},
            ],
        }
        self.api.call("POST", "/tables", 201, json=table)
        recipe = {
            "name": f"smoke {self.run_id}",
            "table": self.table,
            "columns": [
                {"source": "Code", "target": "code"},
                {"source": "Name", "target": "name"},
                {"source": "Email", "target": "email"},
                {"source": "Qty", "target": "qty"},
            ],
            "mode": "insert",
        }
        self.recipe_id = self.api.call("POST", "/recipes", 201, json=recipe)["data"]["id"]
        return f"table {self.table}, recipe {self.recipe_id}"

    def schedule(self) -> str:
        """Started first and checked last, so its wait overlaps the other checks."""
        at = datetime.now(UTC) + timedelta(seconds=self.args.schedule_lead)
        form = {"recipe_id": self.recipe_id, "scheduled_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        files = {"file": ("scheduled.csv", sample_csv("S"), "text/csv")}
        item = self.api.call("POST", "/imports", 201, data=form, files=files)["data"]
        expect(item["status"] == "scheduled", f"status {item['status']}, expected scheduled")
        self.scheduled_id = item["id"]
        return f"import {item['id']} at {form['scheduled_at']}"

    def presigned_upload(self) -> str:
        created = self.api.call("POST", "/imports", 201, json={"recipe_id": self.recipe_id, "file_name": "upload.csv"})
        item, upload = created["data"], created["data"]["upload"]
        expect(item["status"] == "waiting_upload", f"status {item['status']}, expected waiting_upload")
        response = requests.post(
            upload["url"], data=upload["fields"], files={"file": ("upload.csv", sample_csv("U"))}, timeout=60
        )
        expect(
            response.status_code in (200, 201, 204), f"upload answered {response.status_code}: {response.text[:300]}"
        )
        final = self.api.final_import(item["id"])
        check_import(final)
        failures = self.api.call("GET", f"/imports/{item['id']}/failures", 200, params={"per_page": 100})
        rows = sorted(f["row"] for f in failures["data"])
        expect(rows == list(BAD_ROWS), f"failure rows {rows}, expected {list(BAD_ROWS)}")
        expect({f["code"] for f in failures["data"]} == {"INVALID_EMAIL"}, f"failure codes {failures['data']}")
        self.imported += ROWS - len(BAD_ROWS)
        return f"import {item['id']}: {final['success_count']} ok, failures at rows {rows}"

    def s3_drop(self) -> str:
        name = f"drop-{self.run_id}.csv"
        key = f"drop/{self.args.tenant}/{self.recipe_id}/{name}"
        with tempfile.NamedTemporaryFile(suffix=".csv") as file:
            file.write(sample_csv("D"))
            file.flush()
            command = [aws_cli(), "s3", "cp", "--only-show-errors", file.name, f"s3://{self.args.bucket}/{key}"]
            if self.args.endpoint_url:
                command[1:1] = ["--endpoint-url", self.args.endpoint_url]
            copied = subprocess.run(command, capture_output=True, text=True, env=self._aws_env(), timeout=120)
        expect(copied.returncode == 0, f"aws s3 cp failed: {copied.stderr.strip()[:300]}")

        def dropped() -> dict | None:
            page = self.api.call("GET", "/imports", 200, params={"recipe_id": self.recipe_id, "per_page": 100})
            return next((i for i in page["data"] if i.get("created_by") == f"s3-drop:{key}"), None)

        item = self.api.until(f"an import of s3://{self.args.bucket}/{key}", dropped)
        final = self.api.final_import(item["id"])
        check_import(final)
        self.imported += ROWS - len(BAD_ROWS)
        return f"s3://{self.args.bucket}/{key} -> import {item['id']}: {final['success_count']} ok"

    def batch_create_retried(self) -> str:
        body = {
            "records": [{"code": f"B-{n}", "name": f"batch {n}", "qty": n} for n in range(1, 4)]
            + [{"code": "B-bad", "name": "bad", "email": "nope"}],
            "transaction_id": f"smoke-{self.run_id}",
        }
        first = self.api.call("POST", f"/tables/{self.table}/records/batch-create", 200, json=body)
        again = self.api.call("POST", f"/tables/{self.table}/records/batch-create", 200, json=body)
        expect(first["status"] == "partial" and first["success_count"] == 3, f"first send: {first}")
        expect(again["success_ids"] == first["success_ids"], f"resend gave other ids: {again} vs {first}")
        for code, record_id in zip(("B-1", "B-2", "B-3"), first["success_ids"], strict=True):
            found = self.api.call("GET", f"/tables/{self.table}/records", 200, params={"filter.code": code})
            ids = [record["id"] for record in found["data"]]
            expect(ids == [record_id], f"records with code {code}: {ids}, expected [{record_id}] (written twice?)")
        self.imported += 3
        return "3 created, 1 failed; the resend created nothing and answered the same ids"

    def export(self) -> str:
        total = self.record_count()
        job = {"job_name": "export", "table": self.table, "ids": "all", "search_options": {}, "total": total}
        code = self.api.call("POST", "/jobs", 202, json=job)["data"]["batch_code"]

        def finished() -> dict | None:
            current = self.api.call("GET", f"/jobs/{code}", 200)
            return current if "code" in current else None

        done = self.api.until(f"export job {code}", finished)
        expect(done["code"] == 200, f"job ended {done}")
        response = requests.get(done["data"]["url"], timeout=60)
        expect(response.status_code == 200, f"download answered {response.status_code}")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        expect(len(rows) - 1 == total, f"export has {len(rows) - 1} rows, expected {total}")
        return f"job {code}: {total} records in {done['data']['file_name']}"

    def scheduled_ran(self) -> str:
        final = self.api.final_import(self.scheduled_id)
        check_import(final)
        self.imported += ROWS - len(BAD_ROWS)
        total = self.record_count()
        expect(total == self.imported, f"table has {total} records, expected {self.imported}")
        return f"import {self.scheduled_id} started {final['executed_start_at']}; table has {total} records"

    # ---------------------------------------------------------------- helpers
    def record_count(self) -> int:
        page = self.api.call("GET", f"/tables/{self.table}/records", 200, params={"per_page": 1})
        return page["meta"]["total"]

    def _aws_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.args.endpoint_url:  # the local stack takes any credentials
            env.setdefault("AWS_ACCESS_KEY_ID", "testing")
            env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
            env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        return env


def aws_cli() -> str:
    """The AWS CLI next to this Python (the project's venv has it), else the one on PATH."""
    return shutil.which("aws", path=os.path.dirname(sys.executable)) or shutil.which("aws") or "aws"


def stack_outputs(stack_name: str) -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def run(args: argparse.Namespace) -> int:
    smoke = Smoke(args)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("setup: table and recipe", smoke.setup),
        ("scheduled import created", smoke.schedule),
        ("presigned upload import", smoke.presigned_upload),
        ("S3 drop (AWS CLI)", smoke.s3_drop),
        ("batch-create, resent", smoke.batch_create_retried),
        ("export job and download", smoke.export),
        ("scheduled import ran", smoke.scheduled_ran),
    ]
    print(f"Smoke test of {args.api} (tenant {args.tenant})")
    passed = failed = 0
    for name, check in checks:
        started = time.monotonic()
        try:
            outcome, detail = "PASS", check()
            passed += 1
        except (SmokeFailure, requests.RequestException, subprocess.SubprocessError, OSError) as error:
            outcome, detail = "FAIL", str(error)
            failed += 1
        print(f"{outcome}  {name:<28} {time.monotonic() - started:6.1f} s  {detail}", flush=True)
        if outcome == "FAIL" and name.startswith("setup"):
            break  # nothing else can run without the table and recipe
    print(f"{passed} passed, {failed} failed, {len(checks) - passed - failed} not run")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/smoke.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-name", help="a deployed stack: --api and --bucket default to its outputs")
    parser.add_argument("--api", help="the API's base URL, ending in /v1 (the stack's ApiUrl output)")
    parser.add_argument("--key", required=True, help="an admin API key of the tenant")
    parser.add_argument("--tenant", required=True, help="the key's tenant (names the S3 drop folder)")
    parser.add_argument("--bucket", help="the data bucket (the stack's BucketName output)")
    parser.add_argument("--endpoint-url", help="the AWS endpoint of a local stack (e.g. http://127.0.0.1:5000)")
    parser.add_argument(
        "--schedule-lead", type=int, default=60, help="seconds ahead to schedule the import (default 60)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each import or job")
    args = parser.parse_args(argv)
    if args.stack_name:
        outputs = stack_outputs(args.stack_name)
        args.api = args.api or outputs["ApiUrl"]
        args.bucket = args.bucket or outputs["BucketName"]
    if not args.api or not args.bucket:
        parser.error("give --stack-name, or --api and --bucket")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
