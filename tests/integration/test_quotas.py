"""Tenants' quotas (docs/API.md "Quotas"): rows_per_day refused before any write, exactly once under
races; GET /v1/usage; `bulkimport admin set-quota` as the installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

from bulkimport.access import quotas
from bulkimport.adapters import keys
from tests.helpers import csv_bytes, execution_arn
from tests.integration.test_lifecycle import invoke, wait_for
from tests.samples import HEADER, good_row, setup_contacts


def _rows(first: int, count: int) -> bytes:
    return csv_bytes([HEADER, *(good_row(n) for n in range(first, first + count))])


def _usage(api) -> dict:
    return api.ok("GET", "/usage")["data"]


def _records(api) -> int:
    return api.ok("GET", "/tables/contacts/records/count")["data"]["total"]


def test_usage_starts_at_the_defaults_for_any_role(tenant):
    for api in (tenant.viewer, tenant.editor, tenant.admin):
        assert _usage(api) == {
            "runs_running": 0,
            "runs_queued": 0,
            "rows_today": 0,
            "quotas": {"max_concurrent_runs": 5, "rows_per_day": 50_000_000},
        }


def test_an_import_past_rows_per_day_fails_before_writing_and_reserves_nothing(tenant, other_tenant):
    recipe = setup_contacts(tenant.admin)
    quotas.set_quotas(tenant.id, rows_per_day=300)

    first = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], _rows(1, 200))["id"])
    assert first["status"] == "completed" and first["success_count"] == 200
    assert _usage(tenant.viewer)["rows_today"] == 200

    over = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], _rows(1000, 101))["id"])
    assert over["status"] == "failed" and over["error"]["code"] == "QUOTA_EXCEEDED", over
    assert "101" in over["error"]["message"] and "300" in over["error"]["message"]
    assert over["success_count"] == 0 and _records(tenant.viewer) == 200
    assert _usage(tenant.viewer)["rows_today"] == 200  # the refused import reserved nothing

    # Exactly up to the quota passes: 200 + 100 = 300.
    last = tenant.viewer.wait(tenant.editor.import_file(recipe["id"], _rows(2000, 100))["id"])
    assert last["status"] == "completed" and _records(tenant.viewer) == 300
    assert _usage(tenant.viewer)["rows_today"] == 300

    zh = tenant.viewer.ok("GET", f"/imports/{over['id']}", headers={"Accept-Language": "zh-TW"})["data"]
    assert "每日上限 300 列" in zh["error"]["message"]

    # Another tenant's usage and quotas are its own.
    assert _usage(other_tenant.viewer)["rows_today"] == 0
    assert _usage(other_tenant.viewer)["quotas"]["rows_per_day"] == 50_000_000


def test_two_imports_racing_for_the_last_rows_cannot_both_pass(tenant):
    recipe = setup_contacts(tenant.admin)
    quotas.set_quotas(tenant.id, rows_per_day=300)
    files = [_rows(1, 200), _rows(1000, 200)]
    with ThreadPoolExecutor(2) as pool:
        started = list(pool.map(lambda content: tenant.editor.import_file(recipe["id"], content), files))
    done = [tenant.viewer.wait(item["id"]) for item in started]
    assert sorted(item["status"] for item in done) == ["completed", "failed"], done
    assert _usage(tenant.viewer)["rows_today"] == 200 and _records(tenant.viewer) == 200


def test_reservations_are_atomic_and_once_per_import(tenant):
    """Many Prepares at once (as many Lambda instances would), straight against the usage item."""
    quotas.set_quotas(tenant.id, rows_per_day=550)
    pk = keys.tenant_pk(tenant.id)
    barrier = threading.Barrier(10)

    def reserve(n: int) -> bool:
        barrier.wait()
        try:
            quotas.reserve_rows(tenant.id, pk, keys.import_sk(f"race{n}"), 100)
        except quotas.QuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(10) as pool:
        passed = list(pool.map(reserve, range(10)))
    assert passed.count(True) == 5 and quotas.rows_today(tenant.id) == 500
    # A retried Prepare of an import that reserved its rows passes again, reserving nothing more,
    # even with room left.
    quotas.set_quotas(tenant.id, rows_per_day=10_000)
    winner = passed.index(True)
    quotas.reserve_rows(tenant.id, pk, keys.import_sk(f"race{winner}"), 100)
    assert quotas.rows_today(tenant.id) == 500


BULKIMPORT = shutil.which("bulkimport", path=str(Path(sys.executable).parent))


def test_admin_set_quota_as_the_installed_command(tenant, stack):
    assert BULKIMPORT
    env = {"PATH": str(Path(sys.executable).parent), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

    def run(*args: str) -> subprocess.CompletedProcess:
        where = ("--endpoint-url", stack.aws_endpoint)
        return subprocess.run(
            [BULKIMPORT, "--json", "admin", "set-quota", *args, *where],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = run("--tenant", tenant.id, "--rows-per-day", "1234")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) | {"control_table": None} == {
        "tenant": tenant.id,
        "control_table": None,
        "max_concurrent_runs": 5,
        "rows_per_day": 1234,
    }
    done = run("--tenant", tenant.id, "--max-concurrent-runs", "2")
    assert done.returncode == 0, done.stderr
    assert _usage(tenant.viewer)["quotas"] == {"max_concurrent_runs": 2, "rows_per_day": 1234}

    refused = run("--tenant", tenant.id, "--max-concurrent-runs", "0")
    assert refused.returncode != 0 and "max-concurrent-runs" in refused.stdout + refused.stderr
    nothing = run("--tenant", tenant.id)
    assert nothing.returncode == 1 and "NOTHING_TO_SET" in nothing.stdout + nothing.stderr
    assert _usage(tenant.viewer)["quotas"] == {"max_concurrent_runs": 2, "rows_per_day": 1234}


# ---------------------------------------------------------------- max_concurrent_runs


def _notes_tables(tenant, count: int) -> list[dict]:
    """`count` tables of their own (so the per-table lock does not serialize them), a recipe each."""
    recipes = []
    for n in range(count):
        tenant.admin.create_table({"key": f"notes{n}", "fields": [{"key": "text", "type": "string"}]})
        recipes.append(
            tenant.admin.create_recipe(
                {"name": f"notes{n}", "table": f"notes{n}", "columns": [{"source": "text", "target": "text"}]}
            )
        )
    return recipes


def _status(api, import_id: str) -> str:
    return api.ok("GET", f"/imports/{import_id}")["data"]["status"]


def _notes(count: int) -> bytes:
    return ("text\n" + "".join(f"line {n}\n" for n in range(count))).encode()


def test_at_most_max_concurrent_runs_run_and_the_rest_wait_in_start_order(tenant, other_tenant, faults):
    for each in (tenant, other_tenant):
        quotas.set_quotas(each.id, max_concurrent_runs=2)
    recipes = _notes_tables(tenant, 4)
    other = _notes_tables(other_tenant, 1)[0]
    gate = threading.Event()
    faults.delay("ProcessChunkFunction", 0.01, when=lambda event: event["tenant"] == tenant.id and gate.wait(60))
    try:
        started = []
        for recipe in recipes:  # one after the other: start order is this order
            started.append(tenant.editor.import_file(recipe["id"], _notes(50)))
            time.sleep(0.05)
        ids = [item["id"] for item in started]
        wait_for(
            lambda: [_status(tenant.viewer, i) for i in ids] == ["importing"] * 2 + ["queued"] * 2,
            what="2 running, 2 queued",
        )
        # The other tenant's run does not wait behind this tenant's queue.
        theirs = other_tenant.editor.import_file(other["id"], _notes(10))["id"]
        assert other_tenant.viewer.wait(theirs, timeout=30)["status"] == "completed"
        assert _usage(tenant.viewer) | {"quotas": None, "rows_today": None} == {
            "runs_running": 2,
            "runs_queued": 2,
            "rows_today": None,
            "quotas": None,
        }
        time.sleep(1)
        assert [_status(tenant.viewer, i) for i in ids] == ["importing"] * 2 + ["queued"] * 2
    finally:
        gate.set()
        faults.delay("ProcessChunkFunction", 0)
    done = [tenant.viewer.wait(i) for i in ids]
    assert [d["status"] for d in done] == ["completed"] * 4
    # The queued ones started only once a slot was free, in start order.
    first_end = min(done[0]["executed_end_at"], done[1]["executed_end_at"])
    assert first_end <= done[2]["executed_start_at"] <= done[3]["executed_start_at"]
    assert _usage(tenant.viewer)["runs_running"] == _usage(tenant.viewer)["runs_queued"] == 0


def test_a_run_that_died_holding_a_slot_is_freed_by_the_sweeper(tenant, stack, faults):
    quotas.set_quotas(tenant.id, max_concurrent_runs=1)
    first_recipe, second_recipe = _notes_tables(tenant, 2)
    faults.delay("ProcessChunkFunction", 2, when=lambda event: event["tenant"] == tenant.id)
    try:
        held = tenant.editor.import_file(first_recipe["id"], _notes(300))
        wait_for(lambda: _status(tenant.viewer, held["id"]) == "importing", what="the first import to hold the slot")
        assert _usage(tenant.viewer)["runs_running"] == 1
        arn = execution_arn(stack, "ImportStateMachine", "import", tenant.id, held["id"])
        boto3.client("stepfunctions").stop_execution(executionArn=arn, error="Aborted", cause="test")
        wait_for(
            lambda: boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"] != "RUNNING",
            what="the execution to stop",
        )
    finally:
        faults.delay("ProcessChunkFunction", 0)
    assert _usage(tenant.viewer)["runs_running"] == 1  # dead, still holding its slot

    settled = invoke(stack, "SweepRunsFunction", {})
    assert f"import:{held['id']}" in settled["settled"]
    assert _usage(tenant.viewer)["runs_running"] == 0  # the sweeper freed it, before any waiter looked
    nxt = tenant.viewer.wait(tenant.editor.import_file(second_recipe["id"], _notes(20))["id"])
    assert nxt["status"] == "completed"
