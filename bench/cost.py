"""AWS cost per million rows, from the operations counted in a real run on the local stack, and a
model of the wall time of a 1M-row import on AWS.

Prices: us-east-1 list prices as of 2026-11 (checked against AWS's pricing pages as quoted by
public summaries; the DynamoDB on-demand prices are those in force since the 50% cut of 2024-11-01).
"""

from __future__ import annotations

import math

PRICES = {
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand, per write request unit
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand, per read request unit
    "sfn_transition": 0.025 / 1000,  # standard workflows, per state transition
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


def state_transitions(history: list[dict], chunk_attempts: int) -> dict:
    parent = sum(1 for event in history if event["type"].endswith(_STATE_ENTERED))
    return {"parent": parent, "children": chunk_attempts, "total": parent + chunk_attempts}


def cost_per_million_rows(service: dict, rows: int, shape: str, chunk_seconds_on_aws: float) -> dict:
    """$ of importing a 1M-row file into a table of `shape` ("no unique field", "one unique field"),
    from one import's counted operations: what each row and each chunk costs scales to a million
    rows (DynamoDB, S3, chunk workers and their child executions); what the import does once (its
    other functions, the parent execution's states, its event) counts once.

    Lambda duration: a chunk worker's local wall time is mostly waiting for the local stack's one
    moto (eight workers share it), which AWS does not bill; the headline prices each chunk attempt
    at the wall-time model's chunk duration on AWS (its stated latencies, minus the Map's own
    child-execution overhead), the other functions at their local durations. The local durations
    and the handlers' CPU time are priced too, as upper and lower bounds."""
    counted = service["counted"]
    invocations = service["invocations"]
    memory = service["memory"]
    chunks = [i for i in invocations if i.function == "ProcessChunkFunction"]
    once = [i for i in invocations if i.function != "ProcessChunkFunction"]
    transitions = state_transitions(service["history"], len(chunks))
    scale = 1e6 / rows

    def gb_seconds(chunk_seconds, other_seconds) -> float:
        """GB-s of a 1M-row import, given how long a chunk attempt and another invocation are billed."""
        return sum(chunk_seconds(i) * memory[i.function] / 1024 for i in chunks) * scale + sum(
            other_seconds(i) * memory[i.function] / 1024 for i in once
        )

    gb_s = gb_seconds(lambda i: chunk_seconds_on_aws, lambda i: i.seconds)
    gb_s_local = gb_seconds(lambda i: i.seconds, lambda i: i.seconds)
    gb_s_cpu = gb_seconds(lambda i: i.cpu_seconds, lambda i: i.cpu_seconds)
    write_units = sum(counted["dynamodb_write_units"].values())
    read_units = sum(counted["dynamodb_read_units"].values())
    per_million = {
        "dynamodb_writes": write_units * scale * PRICES["dynamodb_write_unit"],
        "dynamodb_reads": read_units * scale * PRICES["dynamodb_read_unit"],
        "step_functions": (transitions["children"] * scale + transitions["parent"]) * PRICES["sfn_transition"],
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
    records_table = next(name for name, role in service["tables"].items() if role == "records")
    index_items = counted["dynamodb_index_items_written"].get(records_table, 0)
    index_units = counted["dynamodb_index_write_units"].get(records_table, 0)

    def ratio_with_lambda(gb_seconds: float) -> float:
        return round((total - per_million["lambda_duration"] + gb_seconds * PRICES["lambda_gb_second"]) / floor, 3)

    return {
        "table_shape": shape,
        "prices_as_of": PRICES_AS_OF,
        "counted": {
            "rows": rows,
            "dynamodb_write_units": counted["dynamodb_write_units"],
            "dynamodb_write_units_per_row": round(write_units / rows, 4),
            "dynamodb_write_units_by_kind": counted["dynamodb_write_units_by_kind"],
            "record_items_written": counted["dynamodb_items_written"].get(records_table, 0) - index_items,
            "unique_index_items_written": index_items,
            "unique_index_write_units_per_row": round(index_units / rows, 4),
            "dynamodb_read_units": counted["dynamodb_read_units"],
            "state_transitions": transitions,
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
        "ratio_to_floor_lambda_local_durations": ratio_with_lambda(gb_s_local),
        "ratio_to_floor_lambda_by_cpu_time": ratio_with_lambda(gb_s_cpu),
    }


def report_cost(cost: dict) -> None:
    c = cost["counted"]
    print(
        f"AWS cost per million rows, table with {cost['table_shape']}, from the counted operations of "
        f"the {c['rows']:,}-row import (prices {cost['prices_as_of']}):"
    )
    print(
        f"  DynamoDB write units {sum(c['dynamodb_write_units'].values()):,} "
        f"({c['dynamodb_write_units_per_row']} a row; {c['record_items_written']:,} record items, "
        f"{c['unique_index_items_written']:,} unique-key index items = {c['unique_index_write_units_per_row']} a row), "
        f"read units {sum(c['dynamodb_read_units'].values()):,.1f}"
    )
    for kind, units in c["dynamodb_write_units_by_kind"].items():
        print(f"    {kind:60s} {units:9,} write units, {units / c['rows']:.4f} a row")
    t = c["state_transitions"]
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


# ---------------------------------------------------------------- wall time on AWS


def wall_time_model(
    rows: int = 1_000_000,
    row_bytes: float = 102.5,
    chunk_rows: int = 2000,
    concurrency: int = 8,
    cpu_us_per_row_chunk: float = 20.0,
    cpu_us_per_row_prepare: float = 3.0,
    unique_keys: int = 0,
) -> dict:
    """Seconds for a file of `rows` rows on AWS, from stated per-step latencies and the CPU cost per
    row measured by the CPU bench (on this machine's core; Lambda gives memory/1769 MB of a vCPU).
    Each unique key adds a conditional PutItem a row, PARALLEL_REQUESTS in flight (records.writer)."""
    assumptions = {
        "rows": rows,
        "chunk_rows": chunk_rows,
        "map_max_concurrency": concurrency,
        "batch_write_item_ms": 15.0,  # 25 items of ~300 B, same region, typical p50
        "control_call_ms": 6.0,  # GetItem / PutItem / UpdateItem
        "unique_keys": unique_keys,
        "conditional_put_ms": 6.0,  # a unique key's claim
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
        # DynamoDB: a new on-demand table starts at 4,000 write units/s; a warm one (an earlier peak,
        # or warm throughput set) is bound by one table's 16 record shards at 1,000 WRU/s a partition.
        "new_table_wru_per_s": 4000,
        "record_shards": 16,
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
    chunk = (
        a["lambda_invoke_overhead_ms"]
        + a["sfn_child_overhead_ms"]
        + a["s3_first_byte_ms"]
        + 3 * a["control_call_ms"]
        + batches * a["batch_write_item_ms"]
        + unique_keys * math.ceil(chunk_rows / a["claims_in_flight"]) * a["conditional_put_ms"]
    ) / 1000 + chunk_rows * a["cpu_us_per_row_chunk"] / 1e6 / vcpu_chunk
    waves = math.ceil(chunks / concurrency)
    map_seconds = waves * chunk
    write_rate = rows / map_seconds
    # TakeTable, TableFree, Prepare, IsPlanned, WasCheckPass (+ Finalize)
    fixed = 5 * a["sfn_state_ms"] / 1000 + prepare + a["lambda_invoke_overhead_ms"] / 1000

    def total(table_wru_per_s: float) -> float:
        return fixed + max(map_seconds, rows / table_wru_per_s)

    warm = a["record_shards"] * 1000
    return {
        "assumptions": assumptions,
        "formula": "T = states + prepare + max(ceil(chunks / concurrency) * t_chunk, rows / table WRU/s) + finalize; "
        "t_chunk = invoke + child + S3 GET + 3 control calls + ceil(chunk_rows/25) * BatchWriteItem "
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
        "total_seconds_new_table": round(total(a["new_table_wru_per_s"]), 1),
        "rows_per_s_new_table": round(rows / total(a["new_table_wru_per_s"])),
    }


def model_at(concurrencies: list[int], **kwargs) -> list[dict]:
    return [wall_time_model(concurrency=c, **kwargs) for c in concurrencies]


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
    for m in models:
        c = m["assumptions"]["map_max_concurrency"]
        print(
            f"  MaxConcurrency {c:3d}: {m['waves']:4d} waves x {m['chunk_seconds']} s = {m['map_seconds_unthrottled']:6.1f} s "
            f"({m['write_rate_rows_per_s_unthrottled']:,} rows/s) -> total {m['total_seconds_warm_table']:6.1f} s warm table "
            f"({m['rows_per_s_warm_table']:,} rows/s), {m['total_seconds_new_table']:6.1f} s new table"
        )
