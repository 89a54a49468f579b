"""The benchmarks, in sections; each prints its figures and all go to
bench/results/latest.json (a section run alone replaces only its own entry there).

    make bench         # cpu, memory, end_to_end (+ cost and the AWS wall-time model), quickstart
    make bench-large   # large: a ~100 MB, 1M-row import on the local stack (long)
    make bench-large-unique   # large_unique: the same into a table with one unique field (longer)
    python -m bench.import_bench [section ...] [--rows N]

- cpu         bench.cpu_path: our CPU path vs csv.DictReader + pydantic, one core, same file, same run
- memory      bench.memory: Prepare and one ProcessChunk on a ~100 MB file, each in a fresh worker
- end_to_end  bench.end_to_end: a 100k-row import vs a naive batch_writer loop, same endpoint, same
              run, and vs the same loop into a stock moto server the bench starts; the import again
              into a table with one unique field; their counted operations priced per million rows
              (bench.cost), and the model of a 1M-row import's wall time on AWS
- quickstart  bench.quickstart: the README's quick start (10k rows, one unique field) from upload to
              final status, how its progress moved, and the idle stack's CPU
- large       the ~1M-row, ~100 MB file imported completely on the local stack; its cost too
- large_unique  the same into the table with one unique field (each row a conditional put of its record, keyed by the field)
- cost        end_to_end's billed runs alone (no timed runs, a few minutes): the cost per million rows of
              both table shapes and the wall-time model
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.env import layer_on_path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "latest.json"
DEFAULT = ("cpu", "memory", "end_to_end", "quickstart")
EXTRA = ("cost", "large", "large_unique")  # not in `make bench`: end_to_end prints the cost; large is long


def header() -> dict:
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "load_average_at_end": os.getloadavg()[0],  # the machine is shared: other work slows both sides
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def section_cpu(rows: int) -> dict:
    from bench import cpu_path

    result = cpu_path.run_apart(rows, repeats=5)
    cpu_path.report(result)
    return result


def section_memory(rows: int) -> dict:
    from bench import memory

    result = memory.measure(rows)
    memory.report(result)
    return result


def section_end_to_end(rows: int, cpu: dict | None) -> dict:
    from bench import end_to_end
    from bench.data import make_csv

    content = make_csv(rows)
    result = end_to_end.run(content, rows)
    summary = end_to_end.summarize(result, rows, len(content))
    end_to_end.report(summary)
    return summary | aws_figures(result, rows, cpu)


def section_cost(rows: int, cpu: dict | None) -> dict:
    """end_to_end's billed runs alone (no timed runs): the cost per million rows and the wall-time model."""
    from bench import end_to_end
    from bench.data import make_csv

    result = end_to_end.run(make_csv(rows), rows, naive=False, billed_unique=True)
    return {"rows": rows} | aws_figures(result, rows, cpu)


def aws_figures(result: dict, rows: int, cpu: dict | None) -> dict:
    """The billed runs of `result` priced per million rows, and the AWS wall-time model."""
    from bench import cost

    summary: dict = {}
    per_row = {}
    if cpu:  # the CPU bench's figures of this machine's core, for the model's compute time
        per_row = {
            "cpu_us_per_row_chunk": round(cpu["ours_chunks_cpu_s"] / cpu["rows"] * 1e6, 2),
            "cpu_us_per_row_prepare": round(cpu["ours_prepare_scan_cpu_s"] / cpu["rows"] * 1e6, 2),
        }
    model = cost.wall_time_model(**per_row)
    summary["cost"] = cost.cost_per_million_rows(result["billed"], rows, "no unique field", model)
    cost.report_cost(summary["cost"])
    if result.get("billed_unique"):
        model = cost.wall_time_model(unique_keys=1, **per_row)
        billed_rows = result["billed_unique"]["import"]["total_count"]
        summary["cost_unique"] = cost.cost_per_million_rows(
            result["billed_unique"], billed_rows, "one unique field", model, unique_fields=1
        )
        cost.report_cost(summary["cost_unique"])
    summary["aws_wall_time_model"] = cost.model_at([8, 32], **per_row)
    cost.report_model(summary["aws_wall_time_model"])
    return summary


def section_quickstart(rows: int) -> dict:
    from bench import quickstart

    result = quickstart.run(rows)
    quickstart.report(result)
    return result


def section_large(rows: int, unique: bool = False) -> dict:
    import tempfile

    from bench import cost, end_to_end
    from bench.data import csv_file

    path = csv_file(Path(tempfile.gettempdir()) / "bulkimport-bench" / f"bench-{rows}.csv", rows)
    content = path.read_bytes()
    started = time.perf_counter()
    result = end_to_end.run(content, rows, naive=False, billed_unique=False, unique_table=unique)
    summary = end_to_end.summarize(result, rows, len(content))
    summary["table"] = "one unique field" if unique else "no unique field"
    summary["wall_seconds_with_stack_start"] = round(time.perf_counter() - started, 1)
    summary["complete"] = {
        k: result["service"]["import"][k]
        for k in ("status", "total_count", "processed_count", "success_count", "fail_count")
    }
    end_to_end.report(summary)
    print(f"  import: {summary['complete']}")
    summary["cost"] = cost.cost_per_million_rows(
        result["billed"],
        rows,
        summary["table"],
        cost.wall_time_model(rows=rows, unique_keys=int(unique)),
        unique_fields=int(unique),
    )
    cost.report_cost(summary["cost"])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "sections", nargs="*", help=f"of {', '.join((*DEFAULT, *EXTRA))} (default: {' '.join(DEFAULT)})"
    )
    parser.add_argument(
        "--rows",
        type=int,
        help="rows of the section's file (defaults: cpu and end_to_end 100k, memory and large 1M, quickstart 10k)",
    )
    args = parser.parse_args()
    unknown = set(args.sections) - {*DEFAULT, *EXTRA}
    if unknown:
        parser.error(f"no section {', '.join(sorted(unknown))}")
    sections = args.sections or list(DEFAULT)
    if len(sections) > 1:
        # One process a section: the local stack's moto is per process, and can start only once.
        for section in sections:
            command = [sys.executable, "-u", "-m", "bench.import_bench", section] + (
                ["--rows", str(args.rows)] if args.rows else []
            )
            subprocess.run(command, check=True, cwd=ROOT.parent)
        return
    layer_on_path()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for section in sections:
        started = time.perf_counter()
        if section == "cpu":
            figures = section_cpu(args.rows or 100_000)
        elif section == "memory":
            figures = section_memory(args.rows or 1_000_000)
        elif section == "end_to_end":
            figures = section_end_to_end(args.rows or 100_000, previous.get("cpu"))
        elif section == "cost":
            figures = section_cost(args.rows or 100_000, previous.get("cpu"))
        elif section == "quickstart":
            figures = section_quickstart(args.rows or 10_000)
        else:
            figures = section_large(args.rows or 1_000_000, unique=section == "large_unique")
        figures = {**header(), "section_seconds": round(time.perf_counter() - started, 1), **figures}
        previous[section] = figures
        # Read again: another section (bench-large is long) may have written its figures meanwhile.
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results = {k: v for k, v in results.items() if k in (*DEFAULT, *EXTRA)} | {section: figures}
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"written to {RESULTS.relative_to(ROOT.parent)}\n")


if __name__ == "__main__":
    main()
    # The stack this process ran holds everything it imported (a million items after `large`): the
    # interpreter's final garbage collection of it took minutes, after the figures were written.
    sys.stdout.flush()
    os._exit(0)
