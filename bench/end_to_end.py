"""End-to-end import throughput on the local stack vs a naive boto3 batch_writer loop, and the
billable operations of the import, counted as it runs.

Both runs write the same CSV to the same moto endpoint in the same process, one after the other,
so the ratio compares the designs, not the machines. The naive loop also runs against a stock moto
server (`python -m moto.server`, none of devstack's fixes) that the bench starts in the same run:
the baseline a team would have without our stack. The import runs on two tables: without a unique
field, and with one (each row is then a conditional put of its record, keyed by that field, where
the naive loop batches unconditional puts). Each runs twice, in the order service, naive, naive,
service, and its faster run counts: this machine's speed drifts over minutes, and one pair
alone gave ratios from 0.8 to 1.1. The meter (bench/meter.py) only times what moto does in these
runs (the stock server's loop pays for no meter); what AWS would bill is counted in runs of their
own afterwards: the import of the same file, and of its first 20,000 rows into the unique table.

The service is timed from the upload to the end of its state machine execution; the bench polls
the execution (DescribeExecution, which Step Functions does not bill) rather than the API, because
here a poll would run its API Gateway authorizer and API function on the same CPU as the workers,
which on AWS it does not.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import boto3
import requests

from bench.data import RECIPE, RECIPE_UNIQUE, TABLE, TABLE_UNIQUE
from bench.meter import Meter, count_billable
from devstack.stack import LocalStack
from devstack.workers import default_count


def run_service(
    stack: LocalStack, meter: Meter, content: bytes, table: dict = TABLE, recipe_spec: dict = RECIPE
) -> dict:
    from bulkimport.access.keys import create_api_key
    from bulkimport.adapters.sfn import execution_arn
    from bulkimport.config import ImportMachine, section
    from bulkimport.runs.lifecycle import execution_name
    from tests.helpers import Api

    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    api = Api(stack.api_url, create_api_key(tenant, "admin"))
    api.create_table(table)
    recipe = api.create_recipe(recipe_spec)
    meter.reset()
    since = len(stack.runtime.invocations)
    started = time.perf_counter()
    created = api.ok("POST", "/imports", 201, json={"recipe_id": recipe["id"], "file_name": "bench.csv"})["data"]
    upload = created["upload"]
    response = requests.post(upload["url"], data=upload["fields"], files={"file": ("bench.csv", content)}, timeout=600)
    response.raise_for_status()
    sfn = boto3.client("stepfunctions")
    arn = execution_arn(
        section(ImportMachine).state_machine_arn, execution_name("import", tenant, created["id"], turn=1)
    )
    while True:
        try:
            status = sfn.describe_execution(executionArn=arn)["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            status = "NOT_STARTED"
        if status not in ("NOT_STARTED", "RUNNING"):
            break
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    counted = meter.snapshot()
    invocations = stack.runtime.invocations[since:]
    busy = dict(meter.busy)
    done = api.ok("GET", f"/imports/{created['id']}")["data"]
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    map_runs = [sfn.describe_map_run(mapRunArn=m["mapRunArn"]) for m in sfn.list_map_runs(executionArn=arn)["mapRuns"]]
    return {
        "seconds": seconds,
        "import": done,
        "execution_status": status,
        "counted": counted,
        "invocations": invocations,
        "history": history,
        # the Map's child executions, and their type as deployed (the local stack runs them STANDARD)
        "child_executions": sum(m["executionCounts"]["total"] for m in map_runs),
        "child_execution_type": _child_execution_type(stack),
        "busy": busy,
    }


def _child_execution_type(stack: LocalStack) -> str:
    """The import Map's child execution type in the template's definition."""
    _, definition = stack.template.state_machine("ImportStateMachine")
    return json.loads(definition)["States"]["ProcessChunks"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"]


def run_naive(stack: LocalStack, meter: Meter, content: bytes) -> dict:
    """What a team hand-rolls: DictReader, one dict per row, boto3's batch_writer, one thread."""
    # A fresh table with the records table's key schema: moto slows down as a table fills, and the
    # service's run has just filled the records table.
    records = stack.template.resources["RecordsTable"]["Properties"]
    name = f"naive-bench-{uuid.uuid4().hex[:6]}"
    boto3.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=records["AttributeDefinitions"],
        KeySchema=records["KeySchema"],
        BillingMode="PAY_PER_REQUEST",
    )
    table = boto3.resource("dynamodb").Table(name)
    meter.reset()
    seconds = naive_loop(table, content)
    return {"seconds": seconds, "counted": meter.snapshot(), "busy": dict(meter.busy)}


def naive_loop(table, content: bytes) -> float:
    """The loop itself, timed: DictReader, one dict per row, boto3's batch_writer, one thread."""
    started = time.perf_counter()
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    with table.batch_writer() as batch:
        for n, row in enumerate(reader):
            row["amount"] = Decimal(row["amount"])
            batch.put_item(Item={"pk": f"naive#{n % 16}", "sk": f"{n:08d}", "data": row})
    return time.perf_counter() - started


def run_naive_stock_moto(stack: LocalStack, content: bytes, runs: int = 2) -> dict:
    """The naive loop against a stock moto server in a process of its own, started here: moto as
    installed, without devstack's fixes or lock. Fastest of `runs`, each into a fresh table."""
    from tests.helpers import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the stock moto server did not start"
                time.sleep(0.2)
        records = stack.template.resources["RecordsTable"]["Properties"]
        dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint)
        each = []
        for _ in range(runs):
            table = dynamodb.create_table(
                TableName=f"naive-{uuid.uuid4().hex[:6]}",
                AttributeDefinitions=records["AttributeDefinitions"],
                KeySchema=records["KeySchema"],
                BillingMode="PAY_PER_REQUEST",
            )
            each.append(naive_loop(table, content))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"seconds": min(each), "seconds_each": [round(s, 2) for s in each]}


BILLED_UNIQUE_ROWS = 20_000  # the unique table's billed run: its cost per row does not depend on the file's length


def run(
    content: bytes, rows: int, naive: bool = True, billed_unique: bool | None = None, unique_table: bool = False
) -> dict:
    """The import (and the naive loop): each timed run twice with `naive`, else once and billed; then
    (by default with `naive`) the billed run into the unique table. `unique_table`: the import (one
    run, billed, no naive loop) goes into the table with one unique field."""
    if billed_unique is None:
        billed_unique = naive
    from tests.helpers import free_port

    stack = LocalStack(aws_port=free_port(), api_port=free_port(), worker_processes=default_count()).start()
    meter = count_billable(stack)
    try:
        # Timed runs are not billed: the stock moto server's loop pays for no meter either.
        meter.billing = not naive
        services = [run_service(stack, meter, content, *((TABLE_UNIQUE, RECIPE_UNIQUE) if unique_table else ()))]
        baselines = []
        unique = stock = billed = billed_unique_run = None
        if naive:
            baselines = [run_naive(stack, meter, content), run_naive(stack, meter, content)]
            services.append(run_service(stack, meter, content))
            unique = run_service(stack, meter, content, TABLE_UNIQUE, RECIPE_UNIQUE)
            stock = run_naive_stock_moto(stack, content)
            meter.billing = True
            billed = run_service(stack, meter, content)
        if billed_unique:
            meter.billing = True
            billed_unique_run = run_service(
                stack, meter, _first_rows(content, BILLED_UNIQUE_ROWS), TABLE_UNIQUE, RECIPE_UNIQUE
            )
        service = min(services, key=lambda s: s["seconds"])
        baseline = min(baselines, key=lambda b: b["seconds"]) if naive else None
        service["seconds_each"] = [round(s["seconds"], 2) for s in services]
        if naive:
            baseline["seconds_each"] = [round(b["seconds"], 2) for b in baselines]
        memory = {f.logical_id: f.memory for f in stack.runtime.functions.values()}
        tables = {stack.resource_name("RecordsTable"): "records", stack.resource_name("ControlTable"): "control"}
    finally:
        stack.stop()
    billed = billed or service
    expected = [(each, rows) for each in (*services, unique, billed) if each]
    if billed_unique_run:
        expected.append((billed_unique_run, min(rows, BILLED_UNIQUE_ROWS)))
    for each, count in expected:
        done = each["import"]
        assert done["status"] == "completed" and done["success_count"] == count and done["total_count"] == count, done
        each.update(memory=memory, tables=tables)
    return {
        "service": service,
        "naive": baseline,
        "unique": unique,
        "naive_stock_moto": stock,
        "billed": billed,
        "billed_unique": billed_unique_run,
    }


def _first_rows(content: bytes, rows: int) -> bytes:
    """The header and the first `rows` rows of a CSV with one record a line (bench.data's files)."""
    lines = content.split(b"\n", rows + 1)
    return b"\n".join(lines[: rows + 1]) + b"\n"


def summarize(result: dict, rows: int, file_bytes: int) -> dict:
    service, naive = result["service"], result["naive"]
    by_function: dict[str, dict] = {}
    for invocation in service["invocations"]:
        entry = by_function.setdefault(invocation.function, {"calls": 0, "seconds": 0.0, "cpu_seconds": 0.0})
        entry["calls"] += 1
        entry["seconds"] += invocation.seconds
        entry["cpu_seconds"] += invocation.cpu_seconds
    summary = {
        "rows": rows,
        "file_bytes": file_bytes,
        "service_seconds": round(service["seconds"], 2),
        "service_seconds_each_run": service["seconds_each"],
        "service_rows_per_s": round(rows / service["seconds"]),
        "service_seconds_inside_moto": round(sum(service["busy"].values()), 2),
        "handlers": {
            k: {"calls": v["calls"], "seconds": round(v["seconds"], 2), "cpu_seconds": round(v["cpu_seconds"], 2)}
            for k, v in sorted(by_function.items())
        },
    }
    if naive:
        summary.update(
            naive_batch_writer_seconds=round(naive["seconds"], 2),
            naive_batch_writer_seconds_each_run=naive["seconds_each"],
            naive_batch_writer_rows_per_s=round(rows / naive["seconds"]),
            naive_seconds_inside_moto=round(sum(naive["busy"].values()), 2),
            ratio_service_over_naive=round(naive["seconds"] / service["seconds"], 3),
        )
    stock, unique = result.get("naive_stock_moto"), result.get("unique")
    if stock:
        summary.update(
            naive_stock_moto_seconds=round(stock["seconds"], 2),
            naive_stock_moto_seconds_each_run=stock["seconds_each"],
            naive_stock_moto_rows_per_s=round(rows / stock["seconds"]),
            ratio_service_over_naive_stock_moto=round(stock["seconds"] / service["seconds"], 3),
        )
    if unique:
        summary.update(
            unique_service_seconds=round(unique["seconds"], 2),
            unique_service_rows_per_s=round(rows / unique["seconds"]),
            unique_seconds_inside_moto=round(sum(unique["busy"].values()), 2),
        )
        if stock:
            summary["ratio_unique_service_over_naive_stock_moto"] = round(stock["seconds"] / unique["seconds"], 3)
        summary["moto_busy_unique"] = {
            k: round(v, 2) for k, v in sorted(unique["busy"].items(), key=lambda kv: -kv[1])[:6]
        }
    summary["moto_busy_service"] = {
        k: round(v, 2) for k, v in sorted(service["busy"].items(), key=lambda kv: -kv[1])[:8]
    }
    if naive:
        summary["moto_busy_naive"] = {
            k: round(v, 2) for k, v in sorted(naive["busy"].items(), key=lambda kv: -kv[1])[:4]
        }
    return summary


def report(summary: dict) -> None:
    rows = summary["rows"]
    print(f"end to end, {rows:,} rows ({summary['file_bytes'] / 1e6:.1f} MB) on the local stack:")
    runs = summary["service_seconds_each_run"]
    print(
        f"  service (upload -> execution ends)  {summary['service_seconds']:8.2f} s  {summary['service_rows_per_s']:8,} rows/s"
        + (f"   (faster of {runs} s)" if len(runs) > 1 else "")
    )
    if "naive_batch_writer_seconds" in summary:
        print(
            f"  naive batch_writer loop             {summary['naive_batch_writer_seconds']:8.2f} s  "
            f"{summary['naive_batch_writer_rows_per_s']:8,} rows/s   (faster of {summary['naive_batch_writer_seconds_each_run']} s)"
        )
        print(f"  ratio service / naive               {summary['ratio_service_over_naive']:8.3f}")
        print(
            f"  time inside moto: service {summary['service_seconds_inside_moto']:.2f} s, "
            f"naive {summary['naive_seconds_inside_moto']:.2f} s"
        )
    if "naive_stock_moto_seconds" in summary:
        print(
            f"  naive loop, stock moto server       {summary['naive_stock_moto_seconds']:8.2f} s  "
            f"{summary['naive_stock_moto_rows_per_s']:8,} rows/s   (faster of {summary['naive_stock_moto_seconds_each_run']} s)"
        )
        print(f"  ratio service / naive (stock moto)  {summary['ratio_service_over_naive_stock_moto']:8.3f}")
    if "unique_service_seconds" in summary:
        print(
            f"  service, one unique field           {summary['unique_service_seconds']:8.2f} s  "
            f"{summary['unique_service_rows_per_s']:8,} rows/s   (one run)"
        )
        if "ratio_unique_service_over_naive_stock_moto" in summary:
            print(
                f"  ratio unique / naive (stock moto)   {summary['ratio_unique_service_over_naive_stock_moto']:8.3f}"
                "   (the naive loop enforces nothing)"
            )
        print(f"  inside moto (unique run): {summary['moto_busy_unique']}")
    print("  handlers in the service run (wall s / own-thread CPU s):")
    for name, entry in summary["handlers"].items():
        print(f"    {name:24s} {entry['calls']:5d} calls  {entry['seconds']:9.2f} s  {entry['cpu_seconds']:8.2f} s CPU")
    print("  inside moto, by operation (service run):")
    for name, seconds in summary["moto_busy_service"].items():
        print(f"    {name:40s} {seconds:8.2f} s")
