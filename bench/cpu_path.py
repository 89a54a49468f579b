"""CPU path on one core: our code from bytes to DynamoDB items vs csv.DictReader + pydantic.

Ours is what the functions run, not a copy: Prepare's scan (bulkimport.ingest.parsing.plan_upload with the
pipeline's RowScan), then for every chunk of the plan what ProcessChunk does before its network calls
(pipeline.check_rows: decode, parse, map, validate; RecordWriter.apply without writing; then the
items RecordWriter.iter_record_items gives to BatchWriteItem, taken one at a time as its writes take them). No AWS call is made.

The baseline is what a team would write: csv.DictReader over the decoded file and a pydantic model
of the same fields, validated 2,000 rows at a time with TypeAdapter(list[Model]).validate_python.
It builds no DynamoDB items, so it does less than ours.

Both run in this process, pinned to one core, alternating, best of `repeats`; figures are CPU
seconds (time.process_time), which other load on the machine disturbs less than wall time.
"""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter

from bench.data import RECIPE, RECIPE_CLEANING, TABLE, TABLE_CLEANING

BASELINE_BATCH = 2000

_EMAIL = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
_PHONE = r"(?i)^\+?[0-9 ()./-]+(?:\s*(?:#|ext\.?|x)\s*[0-9]+)?$"


class BaselineRow(BaseModel):
    """The bench table's fields as a pydantic model (blank cells are not in the file)."""

    model_config = ConfigDict(str_strip_whitespace=True)
    membership_no: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    name: str | None = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=_EMAIL)] | None = None
    phone: Annotated[str, StringConstraints(pattern=_PHONE)] | None = None
    level: Literal["A", "B"] | None = None
    amount: Decimal | None = None
    visit_date: date | None = None
    note: str | None = None


def baseline(content: bytes) -> int:
    adapter = TypeAdapter(list[BaselineRow])
    rows = 0
    batch: list[dict] = []
    for row in csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")):
        batch.append(row)
        if len(batch) == BASELINE_BATCH:
            rows += len(adapter.validate_python(batch))
            batch = []
    if batch:
        rows += len(adapter.validate_python(batch))
    return rows


def ours(
    content: bytes,
    unique: tuple[str, ...] = (),
    chunk_rows: int = 2000,
    table_spec: dict = TABLE,
    recipe_spec: dict = RECIPE,
) -> dict:
    """Prepare's scan and every chunk's work up to the write; returns rows and seconds of each stage.
    `table_spec` and `recipe_spec`: the table's rules and the recipe's cleaning (RECIPE_CLEANING)."""
    from contextlib import nullcontext

    from bulkimport.config import Chunking, section
    from bulkimport.imports.chunks import RowScan, check_rows, row_validator
    from bulkimport.imports.store import Reader
    from bulkimport.ingest.formats import Limits
    from bulkimport.ingest.parsing import plan_upload
    from bulkimport.recipes.models import Recipe
    from bulkimport.records.writer import RecordWriter, WriteContext
    from bulkimport.schema.models import Table

    spec = {**table_spec, "fields": [{**f, "unique": f["key"] in unique} for f in table_spec["fields"]]}
    table = Table.model_validate({**spec, "created_at": "2026-11-22T00:00:00Z", "updated_at": "2026-11-22T00:00:00Z"})
    recipe = Recipe.model_validate(
        {**recipe_spec, "id": "r1", "created_at": "2026-11-22T00:00:00Z", "updated_at": "2026-11-22T00:00:00Z"}
    )
    import_id = "01KAB3XYZ0123456789ABCDEF0"
    cfg = section(Chunking)

    started = time.process_time()
    scan = RowScan(recipe, table, None)
    plan = plan_upload(
        io.BytesIO(content),
        encoding_option=recipe.options.encoding,
        delimiter_option=recipe.options.delimiter,
        sheet_option=None,
        has_header=True,
        chunk_rows=chunk_rows,
        chunk_bytes=cfg.chunk_bytes,
        limits=Limits(cfg.max_uncompressed_bytes, cfg.max_compression_ratio),
        open_work=nullcontext,  # a UTF-8 CSV is read as it is: no work copy
        on_sheet=scan.on_sheet,
    )
    scan.finder.duplicates()
    prepared = time.process_time()

    sheet = plan.sheets[0]
    validator = row_validator(table, None, scan.columns[sheet.index], len(sheet.header), recipe=recipe)
    reader = Reader(key="", format=plan.format, delimiter=plan.delimiter, line_column=plan.line_column, sheets=[])
    stamp = "2026-11-22T00:00:00Z"
    context = WriteContext(
        tenant="bench",
        table=table,
        recipe=recipe,
        parent_table=None,
        dry_run=False,
        owner=import_id,
        meta={"import_id": import_id, "created_by": "bench", "created_at": stamp, "updated_at": stamp},
    )
    writer = RecordWriter(context)
    items = 0
    for chunk in plan.chunks:
        checked = check_rows(content[chunk.start : chunk.end], reader, validator, chunk, {}, import_id)
        if writer.constraints:
            raise ValueError("claiming unique keys needs the network: measure tables without them here")
        writer.apply(checked.plans, write_records=False)
        items += sum(1 for _ in writer.iter_record_items([p for p in checked.plans if p.outcome == "claimed"]))
    done = time.process_time()
    return {"rows": plan.total_rows, "items": items, "prepare_s": prepared - started, "chunks_s": done - prepared}


def measure(content: bytes, repeats: int = 3) -> dict:
    """Best-of-`repeats` CPU seconds for each path, on one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    # The garbage collector as the workers set it after their imports (functions/*/app.py); both
    # paths run with it.
    from bulkimport.ingest.gc import tune_gc

    tune_gc()
    best_base = best_ours = best_cleaning = None
    for _ in range(repeats):
        started = time.process_time()
        base_rows = baseline(content)
        base_s = time.process_time() - started
        best_base = base_s if best_base is None else min(best_base, base_s)
        run = ours(content)
        if best_ours is None or run["prepare_s"] + run["chunks_s"] < best_ours["prepare_s"] + best_ours["chunks_s"]:
            best_ours = run
        cleaning = ours(content, table_spec=TABLE_CLEANING, recipe_spec=RECIPE_CLEANING)
        if best_cleaning is None or cleaning["prepare_s"] + cleaning["chunks_s"] < (
            best_cleaning["prepare_s"] + best_cleaning["chunks_s"]
        ):
            best_cleaning = cleaning
    rows = best_ours["rows"]
    assert base_rows == rows == best_ours["items"] == best_cleaning["items"], (base_rows, best_ours, best_cleaning)
    cleaning_s = best_cleaning["prepare_s"] + best_cleaning["chunks_s"]
    ours_s = best_ours["prepare_s"] + best_ours["chunks_s"]
    return {
        "rows": rows,
        "file_bytes": len(content),
        "cores": 1,
        "repeats": repeats,
        "ours_cpu_s": round(ours_s, 3),
        "ours_prepare_scan_cpu_s": round(best_ours["prepare_s"], 3),
        "ours_chunks_cpu_s": round(best_ours["chunks_s"], 3),
        "ours_rows_per_s": round(rows / ours_s),
        "ours_chunks_only_rows_per_s": round(rows / best_ours["chunks_s"]),
        "baseline_cpu_s": round(best_base, 3),
        "baseline_rows_per_s": round(rows / best_base),
        "ratio_ours_over_baseline": round(best_base / ours_s, 3),
        "ratio_chunks_only_over_baseline": round(best_base / best_ours["chunks_s"], 3),
        # The recipe that cleans (five transform steps) into a table with two field rules.
        "cleaning_cpu_s": round(cleaning_s, 3),
        "ratio_cleaning_over_baseline": round(best_base / cleaning_s, 3),
    }


def report(result: dict) -> None:
    print(
        f"CPU path, {result['rows']:,} rows ({result['file_bytes'] / 1e6:.1f} MB), one core, best of {result['repeats']}:"
    )
    print(
        f"  ours (Prepare scan + chunks, items built)  {result['ours_cpu_s']:7.2f} s  {result['ours_rows_per_s']:9,} rows/s"
    )
    print(f"    Prepare's scan                           {result['ours_prepare_scan_cpu_s']:7.2f} s")
    print(
        f"    chunk work                               {result['ours_chunks_cpu_s']:7.2f} s  {result['ours_chunks_only_rows_per_s']:9,} rows/s"
    )
    print(
        f"  baseline (DictReader + pydantic batches)   {result['baseline_cpu_s']:7.2f} s  {result['baseline_rows_per_s']:9,} rows/s"
    )
    print(
        f"  ratio ours / baseline                      {result['ratio_ours_over_baseline']:7.3f}"
        f"   (chunk work alone: {result['ratio_chunks_only_over_baseline']:.3f})"
    )
    print(
        f"  ours with 5 transform steps and 2 rules    {result['cleaning_cpu_s']:7.2f} s"
        f"   ratio over baseline: {result['ratio_cleaning_over_baseline']:.3f}"
    )


def run_apart(rows: int, repeats: int = 5) -> dict:
    """measure() in a fresh process: pinned to one core and with its own garbage collector
    settings, without touching the caller's process (nor its cached AWS clients)."""
    import json
    import subprocess
    import sys

    from bench.env import ROOT

    out = subprocess.run(
        [sys.executable, "-m", "bench.cpu_path", str(rows), str(repeats), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if out.returncode:
        raise RuntimeError(f"CPU bench failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    import json
    import sys

    from bench.data import make_csv
    from bench.env import layer_on_path

    # No AWS call is made here; should one be, it goes nowhere (a closed local port). The writer's
    # stores still need resource names: the functions have no defaults for them.
    os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("CONTROL_TABLE", "RECORDS_TABLE", "BUCKET"):
        os.environ.setdefault(name, f"bench-cpu-{name.lower()}")
    layer_on_path()
    result = measure(
        make_csv(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), int(sys.argv[2]) if len(sys.argv) > 2 else 5
    )
    if "--json" in sys.argv:
        print(json.dumps(result))
    else:
        report(result)
