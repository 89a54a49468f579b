"""A scale model: 1,000 tenants each importing a 1M-row file at the same moment, on AWS's published
limits. `python -m bench.tenants` prints, for each scenario, the per-tenant completion time
percentiles, the imports that fail, the resource that bound the run, and the cost.

The chunk's own timing and the prices are bench/cost.py's (wall_time_model, PRICES). Assumptions,
from AWS's published limits (us-east-1, 2026-11) and the template:
- Lambda: one account concurrency pool (1,000 by default) for every function; no function reserves
  any (template.yaml). A function scales by 1,000 execution environments every 10 s.
- Each import's Distributed Map runs at most MaxConcurrency (16) children at once; a child whose
  ProcessChunk invocation is throttled (TooManyRequests) retries 6 times, 1 s doubling, full jitter
  (statemachine/import.asl.json), then fails its import. Step Functions' own limits (10,000 children a
  Map Run, express start rates) do not bind below the Lambda pool and are not modelled.
- DynamoDB: all tenants' records share one on-demand table; a new one sustains 4,000 write units a
  second and serves up to twice its previous peak, a higher peak 30 minutes later; one table takes at
  most 40,000 write units a second (the default table quota); a partition 1,000 (a tenant's table has
  16 record shards, so one tenant's import is bound at 16,000). When the table is saturated every
  running chunk writes at an equal share of it (throttled batches are retried: records.writer).
- A chunk that runs past ProcessChunk's 60 s timeout is retried 3 times (the Map's retrier), then
  fails its import. One write unit per row (no unique field); 3 control writes per chunk.
Nothing here is measured on AWS: it is arithmetic on those limits, stepped one second at a time.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
from dataclasses import dataclass, field

from bench.cost import PRICES, wall_time_model
from bench.env import layer_on_path

CHUNK_TIMEOUT_S = 60  # ProcessChunkFunction's Timeout (template.yaml)
THROTTLE_RETRIES = 6  # the Map's retrier for Lambda.TooManyRequestsException
TIMEOUT_RETRIES = 3  # and for Sandbox.Timedout / States.Timeout
LAMBDA_SCALE_STEP = 1000  # environments per function every 10 s
TABLE_MAX_WRU = 40_000  # the default per-table on-demand quota
NEW_TABLE_WRU = 4_000
RAMP_DELAY_S = 1800  # on-demand: twice the previous peak at once, more after 30 minutes
PARTITION_WRU = 1000
CHUNK_MEMORY_GB = 0.25
PREPARE_MEMORY_GB = 1.0


@dataclass
class Scenario:
    name: str
    account_concurrency: int = 1000
    warm_wru: int = 0  # WarmThroughput set on the records table (0: a new table)
    stack_runs: int = 0  # a stack-wide cap on imports running at once, the rest queued in order (0: none)


@dataclass
class Tenant:
    chunks_left: int  # not yet started
    running: list = field(default_factory=list)  # [rows_left, seconds, attempt]
    waiting: int = 0  # children throttled, waiting for a retry
    prepare_left: float = 0.0
    done_at: float | None = None
    failed: bool = False


def simulate(scenario: Scenario, tenants: int, rows: int, seed: int = 1, step: float = 1.0) -> dict:
    rng = random.Random(seed)
    model = wall_time_model(rows=rows)
    chunk_rows = model["assumptions"]["chunk_rows"]
    concurrency = model["assumptions"]["map_max_concurrency"]
    chunk_s = model["chunk_seconds"]
    chunk_rate = chunk_rows / chunk_s  # rows a second a chunk writes when nothing throttles it
    chunks = math.ceil(rows / chunk_rows)
    shard_cap = model["assumptions"]["record_shards"] * PARTITION_WRU
    all_ = [Tenant(chunks_left=chunks, prepare_left=model["prepare_seconds"]) for _ in range(tenants)]
    retries: list[tuple[float, int, int]] = []  # (when, tenant, attempt)
    peaks: list[tuple[float, float]] = []  # (time, write rate) for the on-demand ramp
    table_cap = max(NEW_TABLE_WRU, scenario.warm_wru)
    bound = {"lambda": 0.0, "dynamodb": 0.0, "map": 0.0}
    lambda_gb_s = write_units = invocations = 0.0
    t = 0.0
    while any(x.done_at is None and not x.failed for x in all_):
        live = [i for i, x in enumerate(all_) if x.done_at is None and not x.failed]
        admitted = set(live[: scenario.stack_runs] if scenario.stack_runs else live)
        pool = min(scenario.account_concurrency, LAMBDA_SCALE_STEP * (1 + int(t // 10)))
        busy = sum(len(all_[i].running) + (all_[i].prepare_left > 0) for i in admitted)
        free = max(0, pool - busy)
        # Children asking for a worker now: new ones (Map concurrency) and throttled ones whose retry is due.
        asks: list[tuple[int, int]] = []
        for i, x in enumerate(all_):
            if x.failed or x.done_at is not None or x.prepare_left > 0 or i not in admitted:
                continue
            fresh = min(concurrency - len(x.running) - x.waiting, x.chunks_left - x.waiting)
            asks.extend((i, 0) for _ in range(max(0, fresh)))
        while retries and retries[0][0] <= t:
            _, i, attempt = heapq.heappop(retries)
            all_[i].waiting -= 1
            if not all_[i].failed:
                asks.append((i, attempt))
        rng.shuffle(asks)
        for n, (i, attempt) in enumerate(asks):
            x = all_[i]
            if x.failed:
                continue
            invocations += 1
            if n < free:
                x.chunks_left -= 1
                x.running.append([chunk_rows, 0.0, 0])
            elif attempt >= THROTTLE_RETRIES:
                x.failed = True
            else:
                x.waiting += 1
                heapq.heappush(retries, (t + rng.uniform(0, 2**attempt), i, attempt + 1))
        if asks and len(asks) > free:
            bound["lambda"] += step
        # DynamoDB: the on-demand ramp, then an equal share per running chunk when saturated.
        while peaks and peaks[0][0] <= t - RAMP_DELAY_S:
            table_cap = min(TABLE_MAX_WRU, max(table_cap, 2 * peaks.pop(0)[1]))
        running = [c for x in all_ if not x.failed for c in x.running]
        demand = len(running) * chunk_rate
        share = chunk_rate if demand <= table_cap else table_cap / len(running)
        if demand > table_cap:
            bound["dynamodb"] += step
        elif running and len(running) < busy and not asks:
            bound["map"] += step
        rate = 0.0
        for i, x in enumerate(all_):
            if x.failed or i not in admitted:
                continue
            if x.prepare_left > 0:
                x.prepare_left -= step
                lambda_gb_s += step * PREPARE_MEMORY_GB
                continue
            tenant_share = min(share, shard_cap / max(1, len(x.running)))
            for c in list(x.running):
                written = min(c[0], tenant_share * step)
                c[0] -= written
                c[1] += step
                rate += written / step
                write_units += written
                lambda_gb_s += step * CHUNK_MEMORY_GB
                if c[0] <= 0:
                    x.running.remove(c)
                    write_units += 3
                elif c[1] >= CHUNK_TIMEOUT_S:  # timed out: its rows are written again on the retry
                    c[2] += 1
                    if c[2] > TIMEOUT_RETRIES:
                        x.failed = True
                        break
                    c[0], c[1] = chunk_rows, 0.0
            if not x.failed and x.chunks_left == 0 and not x.running and x.waiting == 0:
                x.done_at = t + step
        peaks.append((t, rate))
        t += step
    done = sorted(x.done_at for x in all_ if x.done_at is not None)
    usd = (
        write_units * PRICES["dynamodb_write_unit"]
        + lambda_gb_s * PRICES["lambda_gb_second"]
        + invocations * PRICES["lambda_request"]
        + tenants * chunks * (PRICES["sfn_express_request"] + chunk_s * 64 / 1024 * PRICES["sfn_express_gb_second"])
        + tenants * chunks * PRICES["s3_get_class"]
    )
    return {
        "scenario": scenario.name,
        "tenants": tenants,
        "completed": len(done),
        "failed": sum(x.failed for x in all_),
        "p50_s": statistics.median(done) if done else None,
        "p90_s": done[int(0.9 * (len(done) - 1))] if done else None,
        "p99_s": done[int(0.99 * (len(done) - 1))] if done else None,
        "max_s": done[-1] if done else None,
        "elapsed_s": t,
        "bound_seconds": bound,
        "bottleneck": max(bound, key=lambda k: bound[k]),
        "usd": round(usd, 2),
        "usd_per_million_rows_written": round(usd / max(1, len(done) * rows / 1e6), 4),
        "alone_s": model["total_seconds_warm_table"],
    }


SCENARIOS = [
    Scenario("defaults: 1,000 Lambda, a new records table"),
    Scenario("1,000 Lambda, table pre-warmed to 40,000 WRU/s", warm_wru=40_000),
    Scenario("10,000 Lambda, table pre-warmed to 40,000 WRU/s", account_concurrency=10_000, warm_wru=40_000),
    # What the model suggests: no more imports at once than the table can feed within the chunk timeout
    # (40,000 WRU/s over 16 chunks of 2,000 rows in well under 60 s each: 25 imports, 400 chunks).
    Scenario(
        "1,000 Lambda, pre-warmed 40,000 WRU/s, at most 25 imports at once stack-wide", warm_wru=40_000, stack_runs=25
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    layer_on_path()
    print(f"{args.tenants:,} tenants, each importing {args.rows:,} rows at t=0 (model; see bench/tenants.py)")
    for scenario in SCENARIOS:
        r = simulate(scenario, args.tenants, args.rows)

        def fmt(v):
            return "-" if v is None else f"{v:,.0f} s"

        print(f"\n{r['scenario']}")
        print(f"  one import alone on a warm table: {r['alone_s']} s")
        print(
            f"  completed {r['completed']:,}, failed {r['failed']:,}; completion p50 {fmt(r['p50_s'])}, "
            f"p90 {fmt(r['p90_s'])}, p99 {fmt(r['p99_s'])}, last {fmt(r['max_s'])}"
        )
        b = r["bound_seconds"]
        print(
            f"  bottleneck: {r['bottleneck']} (seconds saturated: Lambda pool {b['lambda']:,.0f}, "
            f"DynamoDB table {b['dynamodb']:,.0f})"
        )
        print(f"  cost ${r['usd']:,} (${r['usd_per_million_rows_written']} per million rows written)")


if __name__ == "__main__":
    main()
