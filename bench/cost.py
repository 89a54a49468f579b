"""AWS cost per million rows, from the operations counted in a real run on the local stack, and a
model of the wall time of a 1M-row import on AWS.

Prices: us-east-1 list prices as of 2026-11 (checked against AWS's pricing pages as quoted by
public summaries; the DynamoDB on-demand prices are those in force since the 50% cut of 2024-11-01).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.meter import PROGRESS_NOTE

IMPORT_DEFINITION = Path(__file__).resolve().parent.parent / "statemachine" / "import.asl.json"

PRICES = {
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand, per write request unit
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand, per read request unit
    "sfn_transition": 0.025 / 1000,  # standard workflows, per state transition
    "sfn_express_request": 1.00 / 1e6,  # express workflows, per execution started
    "sfn_express_gb_second": 0.00001667,  # express duration, first 1,000 GB-hours a month
    "lambda_gb_second": 0.0000133334,  # arm64, first 7.5 billion GB-s a month
    "lambda_request": 0.20 / 1e6,
    "s3_put_class": 0.005 / 1000,  # PUT, COPY, POST, LIST
    "s3_get_class": 0.0004 / 1000,  # GET, HEAD and the rest
    "eventbridge_event": 1.00 / 1e6,  # custom events; events from AWS services (S3) are free
}
PRICES_AS_OF = "2026-11 (us-east-1 list prices; DynamoDB on-demand since 2024-11-01)"

# A Step Functions state transition happens for every state a standard execution enters,
# also again on a retry. The parent's are in its history; moto does not list a Distributed Map's
# child executions, so each child's (one Task state, ProcessChunk) are counted from the Lambda
# runtime's log: one per attempt.
_STATE_ENTERED = ("StateEntered",)
# An express execution is billed per request and by its duration, rounded up to 100 ms, at its
# memory in 64 MB steps: 50 MB + the definition + its data, so a chunk's child bills 64 MB.
EXPRESS_BILLED_GB = 64 / 1024
EXPRESS_ROUNDING_S = 0.1


def state_transitions(history: list[dict], chunk_attempts: int, child_type: str) -> dict:
    parent = sum(1 for event in history if event["type"].endswith(_STATE_ENTERED))
    children = chunk_attempts if child_type == "STANDARD" else 0  # express children have none
    return {"parent": parent, "children": children, "total": parent + children}


def express_children(executions: int, attempts: int, child_seconds: float, chunk_seconds: float) -> float:
    """GB-s of express child executions: each lasts the model's child time (its chunk and the
    Map's overhead), a retried one a chunk's time more for each attempt after the first."""
    billed = math.ceil(round(child_seconds / EXPRESS_ROUNDING_S, 6)) * EXPRESS_ROUNDING_S
    return (executions * billed + (attempts - executions) * chunk_seconds) * EXPRESS_BILLED_GB


def cost_per_million_rows(service: dict, rows: int, shape: str, model: dict, unique_fields: int = 0) -> dict:
    """$ of importing a 1M-row file into a table of `shape` ("no unique field", "one unique field"),
    from one import's counted operations: what each row and each chunk costs scales to a million
    rows (DynamoDB, S3, chunk workers and their child executions); what the import does once (its
    other functions, the parent execution's states, its event) counts once.

    Lambda duration: a chunk worker's local wall time is mostly waiting for the local stack's one
    moto (eight workers share it), which AWS does not bill; the headline prices each chunk attempt
    at the wall-time model's chunk duration on AWS (`model`: its stated latencies, minus the Map's own
    child-execution overhead), the other functions at their local durations. The local durations
    and the handlers' CPU time are priced too, as upper and lower bounds.

    The Map's children are priced as the template's definition runs them on AWS (the local stack runs
    them STANDARD): STANDARD by state transition, EXPRESS per child execution started (as counted by
    the Map runs) and by its duration at the model's child time (chunk + child overhead)."""
    counted = service["counted"]
    invocations = service["invocations"]
    memory = service["memory"]
    chunks = [i for i in invocations if i.function == "ProcessChunkFunction"]
    once = [i for i in invocations if i.function != "ProcessChunkFunction"]
    child_type = service["child_execution_type"]
    transitions = state_transitions(service["history"], len(chunks), child_type)
    chunk_seconds_on_aws = model["chunk_lambda_seconds"]
    express = child_type == "EXPRESS"
    children = service["child_executions"]
    express_gb_s = express_children(children, len(chunks), model["chunk_seconds"], chunk_seconds_on_aws)
    scale = 1e6 / rows

    def gb_seconds(chunk_seconds, other_seconds) -> float:
        """GB-s of a 1M-row import, given how long a chunk attempt and another invocation are billed."""
        return sum(chunk_seconds(i) * memory[i.function] / 1024 for i in chunks) * scale + sum(
            other_seconds(i) * memory[i.function] / 1024 for i in once
        )

    gb_s = gb_seconds(lambda i: chunk_seconds_on_aws, lambda i: i.seconds)
    gb_s_local = gb_seconds(lambda i: i.seconds, lambda i: i.seconds)
    gb_s_cpu = gb_seconds(lambda i: i.cpu_seconds, lambda i: i.cpu_seconds)
    # Progress notes: a chunk notes its rows at most once a second while it runs, so their number
    # follows how long chunks run. Chunks run far longer here (waiting for the one moto) than the
    # model's chunk on AWS: the headline scales the counted notes by AWS chunk time / local chunk time.
    by_kind = counted["dynamodb_write_units_by_kind"]
    notes_counted = sum(units for kind, units in by_kind.items() if PROGRESS_NOTE in kind)
    local_chunk_seconds = sum(i.seconds for i in chunks)
    aws_chunk_seconds = len(chunks) * chunk_seconds_on_aws
    notes_on_aws = notes_counted * min(1.0, aws_chunk_seconds / local_chunk_seconds) if chunks else 0
    write_units_counted = sum(counted["dynamodb_write_units"].values())
    write_units = write_units_counted - notes_counted + notes_on_aws
    read_units = sum(counted["dynamodb_read_units"].values())
    per_million = {
        "dynamodb_writes": write_units * scale * PRICES["dynamodb_write_unit"],
        "dynamodb_reads": read_units * scale * PRICES["dynamodb_read_unit"],
        "step_functions": (transitions["children"] * scale + transitions["parent"]) * PRICES["sfn_transition"]
        + express * scale * (children * PRICES["sfn_express_request"] + express_gb_s * PRICES["sfn_express_gb_second"]),
        "lambda_duration": gb_s * PRICES["lambda_gb_second"],
        "lambda_requests": (len(chunks) * scale + len(once)) * PRICES["lambda_request"],
        "s3": scale
        * (
            counted["s3_requests"].get("PUT", 0) * PRICES["s3_put_class"]
            + counted["s3_requests"].get("GET", 0) * PRICES["s3_get_class"]
        ),
        "eventbridge": counted["events"] * PRICES["eventbridge_event"],
    }
    total = sum(per_million.values())
    floor = 1e6 * PRICES["dynamodb_write_unit"]  # one write unit per row of at most 1 KB
    # This design's floor: each row writes its record (with a unique field: its conditional put,
    # keyed by the first unique field's value, is that key's claim) and, for each further unique
    # field, its key's index item (a conditional put), 1 write unit each (docs/DESIGN.md, "Unique keys").
    design_units = max(1, unique_fields)
    design_floor = design_units * floor
    records_table = next(name for name, role in service["tables"].items() if role == "records")
    index_items = counted["dynamodb_index_items_written"].get(records_table, 0)
    index_units = counted["dynamodb_index_write_units"].get(records_table, 0)

    notes_as_counted = (notes_counted - notes_on_aws) * scale * PRICES["dynamodb_write_unit"]

    def ratio_with_lambda(gb_seconds: float) -> float:
        return round((total - per_million["lambda_duration"] + gb_seconds * PRICES["lambda_gb_second"]) / floor, 3)

    return {
        "table_shape": shape,
        "prices_as_of": PRICES_AS_OF,
        "counted": {
            "rows": rows,
            "dynamodb_write_units": counted["dynamodb_write_units"],
            "dynamodb_write_units_counted": write_units_counted,
            "dynamodb_write_units_per_row": round(write_units / rows, 4),
            "progress_notes": {
                "write_units_counted": notes_counted,
                "local_chunk_seconds": round(local_chunk_seconds, 1),
                "aws_chunk_seconds_model": round(aws_chunk_seconds, 1),
                "write_units_at_aws_chunk_time": round(notes_on_aws, 1),
            },
            "dynamodb_write_units_by_kind": counted["dynamodb_write_units_by_kind"],
            "record_items_written": counted["dynamodb_items_written"].get(records_table, 0) - index_items,
            "unique_index_items_written": index_items,
            "unique_index_write_units_per_row": round(index_units / rows, 4),
            "dynamodb_read_units": counted["dynamodb_read_units"],
            "state_transitions": transitions,
            "child_executions": {"type": child_type, "count": children, "express_gb_seconds": round(express_gb_s, 3)}
            if express
            else {"type": child_type, "count": children},
            "lambda_invocations": len(invocations),
            "chunk_seconds_on_aws_model": round(chunk_seconds_on_aws, 3),
            "lambda_gb_seconds_per_million_rows": round(gb_s, 2),
            "lambda_gb_seconds_local_durations": round(gb_s_local, 2),
            "lambda_gb_seconds_if_billed_by_cpu": round(gb_s_cpu, 2),
            "s3_requests": counted["s3_requests"],
            "eventbridge_events": counted["events"],
        },
        "usd_per_million_rows": {k: round(v, 5) for k, v in per_million.items()},
        "usd_per_million_rows_total": round(total, 4),
        "usd_floor_per_million_rows": round(floor, 4),
        "ratio_to_floor": round(total / floor, 3),
        "ratio_to_floor_progress_notes_as_counted": round((total + notes_as_counted) / floor, 3),
        "design_floor_write_units_per_row": design_units,
        "usd_design_floor_per_million_rows": round(design_floor, 4),
        "ratio_to_design_floor": round(total / design_floor, 3),
        "ratio_to_floor_lambda_local_durations": ratio_with_lambda(gb_s_local),
        "ratio_to_floor_lambda_by_cpu_time": ratio_with_lambda(gb_s_cpu),
    }


def report_cost(cost: dict) -> None:
    c = cost["counted"]
    print(
        f"AWS cost per million rows, table with {cost['table_shape']}, from the counted operations of "
        f"the {c['rows']:,}-row import (prices {cost['prices_as_of']}):"
    )
    notes = c["progress_notes"]
    print(
        f"  DynamoDB write units {c['dynamodb_write_units_counted']:,} counted "
        f"({c['dynamodb_write_units_per_row']} a row with the progress notes at AWS chunk time; "
        f"{c['record_items_written']:,} record items, "
        f"{c['unique_index_items_written']:,} unique-key index items = {c['unique_index_write_units_per_row']} a row), "
        f"read units {sum(c['dynamodb_read_units'].values()):,.1f}"
    )
    for kind, units in c["dynamodb_write_units_by_kind"].items():
        print(f"    {kind:60s} {units:9,} write units, {units / c['rows']:.4f} a row")
    print(
        f"  progress notes: {notes['write_units_counted']:,} write units counted in {notes['local_chunk_seconds']:,} s of "
        f"chunks here; {notes['write_units_at_aws_chunk_time']:,} in the model's {notes['aws_chunk_seconds_model']:,} s "
        f"on AWS (the headline; as counted here: {cost['ratio_to_floor_progress_notes_as_counted']:.3f}x)"
    )
    t = c["state_transitions"]
    children = c["child_executions"]
    express = (
        f", {children['express_gb_seconds']} GB-s at 64 MB, priced per request and GB-s"
        if children["type"] == "EXPRESS"
        else ""
    )
    print(f"  the Map's child executions: {children['count']} {children['type']}{express}")
    print(
        f"  state transitions {t['total']:,} (parent {t['parent']}, chunk executions {t['children']}), "
        f"Lambda {c['lambda_invocations']} invocations; a 1M-row import {c['lambda_gb_seconds_per_million_rows']:,.1f} GB-s "
        f"(chunks at the model's {c['chunk_seconds_on_aws_model']} s on AWS; local durations "
        f"{c['lambda_gb_seconds_local_durations']:,.1f} GB-s, the handlers' CPU time "
        f"{c['lambda_gb_seconds_if_billed_by_cpu']:,.1f} GB-s)"
    )
    print(f"  S3 requests {c['s3_requests']}, EventBridge events {c['eventbridge_events']}")
    for name, usd in cost["usd_per_million_rows"].items():
        print(f"    {name:18s} ${usd:9.5f}")
    print(
        f"  total ${cost['usd_per_million_rows_total']:.4f} vs floor ${cost['usd_floor_per_million_rows']:.4f}"
        f" (1 write unit a row): {cost['ratio_to_floor']:.3f}x"
        f"   (Lambda at local durations {cost['ratio_to_floor_lambda_local_durations']:.3f}x,"
        f" at CPU time {cost['ratio_to_floor_lambda_by_cpu_time']:.3f}x)"
    )
    units = cost["design_floor_write_units_per_row"]
    if units > 1:
        print(
            f"  floor of this design: the record + {units - 1} unique key item{'s' if units > 2 else ''} = {units} write "
            f"units a row, ${cost['usd_design_floor_per_million_rows']:.4f}; measured {cost['ratio_to_floor']:.3f}x the "
            f"one-unit floor is {cost['ratio_to_design_floor']:.3f}x this design's floor "
            f"({(cost['ratio_to_design_floor'] - 1) * 100:.1f}% above it)"
        )


# ---------------------------------------------------------------- wall time on AWS


def wall_time_model(
    rows: int = 1_000_000,
    row_bytes: float = 102.5,
    chunk_rows: int = 2000,
    concurrency: int | None = None,  # the template's
    cpu_us_per_row_chunk: float = 20.0,
    cpu_us_per_row_prepare: float = 3.0,
    unique_keys: int = 0,
) -> dict:
    """Seconds for a file of `rows` rows on AWS, from stated per-step latencies and the CPU cost per
    row measured by the CPU bench (on this machine's core; Lambda gives memory/1769 MB of a vCPU).
    With a unique field a row's record is a conditional PutItem (keyed by the first unique field's
    value) instead of a 25th of a BatchWriteItem, and each further unique field adds one (its index
    item), PARALLEL_REQUESTS in flight (records.writer)."""
    from bulkimport.adapters.keys import RECORD_SHARDS  # the bench puts the layer on the path

    concurrency = concurrency or template_concurrency()
    assumptions = {
        "rows": rows,
        "chunk_rows": chunk_rows,
        "map_max_concurrency": concurrency,
        "batch_write_item_ms": 15.0,  # 25 items of ~300 B, same region, typical p50
        "control_call_ms": 6.0,  # GetItem / PutItem / UpdateItem
        "unique_keys": unique_keys,
        "conditional_put_ms": 6.0,  # a keyed record's put, or a further unique key's claim
        "claims_in_flight": 16,  # records.writer.PARALLEL_REQUESTS
        "s3_first_byte_ms": 30.0,
        "s3_mb_per_s": 80.0,  # one stream
        "lambda_invoke_overhead_ms": 30.0,  # warm
        "sfn_child_overhead_ms": 100.0,  # a Distributed Map child execution starting and ending
        "sfn_state_ms": 50.0,  # parent Task/Choice state changes
        "prepare_memory_mb": 1024,
        "chunk_memory_mb": 256,
        "cpu_us_per_row_chunk": cpu_us_per_row_chunk,
        "cpu_us_per_row_prepare": cpu_us_per_row_prepare,
        # DynamoDB: a new on-demand table sustains 4,000 writes a second; a warm one (an earlier peak,
        # or warm throughput set) is bound by one table's record shards (partition keys, adapters.keys)
        # at 1,000 WRU/s a partition, if no two of them share a partition.
        "new_table_wru_per_s": 4000,
        "record_shards": RECORD_SHARDS,
    }
    a = assumptions
    chunks = math.ceil(rows / chunk_rows)
    vcpu_prepare = a["prepare_memory_mb"] / 1769
    vcpu_chunk = a["chunk_memory_mb"] / 1769
    prepare = (
        a["s3_first_byte_ms"] / 1000
        + rows * row_bytes / 1e6 / a["s3_mb_per_s"]
        + rows * a["cpu_us_per_row_prepare"] / 1e6 / vcpu_prepare
        + 3 * a["control_call_ms"] / 1000
    )
    batches = math.ceil(chunk_rows / 25)
    puts = math.ceil(chunk_rows / a["claims_in_flight"]) * a["conditional_put_ms"]  # one a row, 16 in flight
    records = batches * a["batch_write_item_ms"] if not unique_keys else puts
    chunk = (
        a["lambda_invoke_overhead_ms"]
        + a["sfn_child_overhead_ms"]
        + a["s3_first_byte_ms"]
        + 3 * a["control_call_ms"]
        + records
        + max(0, unique_keys - 1) * puts
    ) / 1000 + chunk_rows * a["cpu_us_per_row_chunk"] / 1e6 / vcpu_chunk
    waves = math.ceil(chunks / concurrency)
    map_seconds = waves * chunk
    write_rate = rows / map_seconds
    # TakeTable, TableFree, Prepare, IsPlanned, WasCheckPass (+ Finalize)
    fixed = 5 * a["sfn_state_ms"] / 1000 + prepare + a["lambda_invoke_overhead_ms"] / 1000

    def total(table_wru_per_s: float) -> float:
        return fixed + max(map_seconds, rows / table_wru_per_s)

    warm = a["record_shards"] * 1000
    # The floor: no concurrency writes a table's rows faster than its partitions take them.
    floor = fixed + rows / warm
    return {
        "assumptions": assumptions,
        "formula": "T = states + prepare + max(ceil(chunks / concurrency) * t_chunk, rows / table WRU/s) + finalize; "
        "t_chunk = invoke + child + S3 GET + 3 control calls + ceil(chunk_rows/25) * BatchWriteItem "
        "(with unique keys: ceil(chunk_rows/16) * PutItem for the keyed records and for each further key) "
        "+ chunk_rows * cpu_per_row / vCPU(256 MB)",
        "chunks": chunks,
        "prepare_seconds": round(prepare, 2),
        "chunk_seconds": round(chunk, 3),
        # what Lambda bills of a chunk: its duration without the Map's child execution around it
        "chunk_lambda_seconds": round(chunk - a["sfn_child_overhead_ms"] / 1000, 3),
        "waves": waves,
        "map_seconds_unthrottled": round(map_seconds, 1),
        "write_rate_rows_per_s_unthrottled": round(write_rate),
        "total_seconds_warm_table": round(total(warm), 1),
        "rows_per_s_warm_table": round(rows / total(warm)),
        "floor_seconds_warm_table": round(floor, 1),
        "total_over_floor_warm_table": round(total(warm) / floor, 3),
        "total_seconds_new_table": round(total(a["new_table_wru_per_s"]), 1),
        "rows_per_s_new_table": round(rows / total(a["new_table_wru_per_s"])),
    }


def template_concurrency() -> int:
    """The import Map's MaxConcurrency, as the template deploys it."""
    return json.loads(IMPORT_DEFINITION.read_text())["States"]["ProcessChunks"]["MaxConcurrency"]


def model_at(concurrencies: list[int], **kwargs) -> list[dict]:
    """The model at each concurrency, the template's own marked."""
    own = template_concurrency()
    return [wall_time_model(concurrency=c, **kwargs) | {"template": c == own} for c in sorted({*concurrencies, own})]


def report_model(models: list[dict]) -> None:
    a = models[0]["assumptions"]
    print(
        f"wall time of a {a['rows']:,}-row file on AWS (model; chunk {a['chunk_rows']} rows, "
        f"BatchWriteItem {a['batch_write_item_ms']:.0f} ms, CPU {a['cpu_us_per_row_chunk']:.1f} us/row at 1 core):"
    )
    print(f"  {models[0]['formula']}")
    print(
        f"  {models[0]['chunks']} chunks, prepare {models[0]['prepare_seconds']} s, one chunk {models[0]['chunk_seconds']} s"
    )
    print(
        f"  table limits: warm {a['record_shards']} shards x 1,000 = {a['record_shards'] * 1000:,} WRU/s; "
        f"new on-demand table {a['new_table_wru_per_s']:,} WRU/s"
    )
    floor = models[0]["floor_seconds_warm_table"]
    print(
        f"  floor on a warm table: {a['rows']:,} rows / {a['record_shards'] * 1000:,} WRU/s + prepare and states = "
        f"{floor} s, whatever the concurrency (more record shards would lower it)"
    )
    for m in models:
        c = m["assumptions"]["map_max_concurrency"]
        print(
            f"  MaxConcurrency {c:3d}{' (template)' if m['template'] else '           '}: "
            f"{m['waves']:4d} waves x {m['chunk_seconds']} s = {m['map_seconds_unthrottled']:6.1f} s "
            f"({m['write_rate_rows_per_s_unthrottled']:,} rows/s) -> total {m['total_seconds_warm_table']:6.1f} s warm table "
            f"({m['rows_per_s_warm_table']:,} rows/s, {m['total_over_floor_warm_table']:.3f}x the floor), "
            f"{m['total_seconds_new_table']:6.1f} s new table"
        )
