"""One chunk of an import, and the row reading it shares with Prepare.

Exactly once: a record's id is derived from (import, source row), or from its key field's value with
(import, source row) as its origin (records.writer), so writing a chunk again rewrites the same items;
the counters move only in the update that adds the chunk to the pass's counted set (runs.counting),
so a chunk is counted once however often it runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import to_item
from bulkimport.adapters.s3 import BlobStore
from bulkimport.errors import FileError
from bulkimport.ids import now_iso
from bulkimport.imports import store
from bulkimport.imports.models import TERMINAL_STATUSES
from bulkimport.imports.store import ChunkMarker, ImportRecord, Reader, SheetReader
from bulkimport.ingest.parsing import ChunkPlan, read_chunk
from bulkimport.recipes.headers import column_index, header_key
from bulkimport.recipes.models import AUTO, ID_TARGET, LEGACY_ID_TARGET, PARENT_PREFIX, ROW_COLUMN, Recipe
from bulkimport.recipes.transforms import column_reading
from bulkimport.records.uniqueness import DuplicateFinder, constraints
from bulkimport.records.writer import RecordWriter, RowPlan, WriteContext
from bulkimport.runs.counting import LIVE_NOTE_SECONDS, count_once, note_live
from bulkimport.schema.models import FieldSpec, Table
from bulkimport.schema.validation import RowValidator, rules_of

# A chunk's valid rows are applied this many at a time, so that its worker can say how far it got
# (the import's progress moves inside a chunk: runs.counting). Every step of applying rows is
# idempotent and in-file duplicates are settled before any chunk runs, so parts apply as the whole.
APPLY_ROWS = 100
OUTCOMES = ("inserted", "updated", "unchanged")
SAMPLE_ROWS = 20  # of a dry run (GET /v1/imports/{id}: sample)  # what the writer says a row did (failed rows aside)


class _LiveRows:
    """A chunk's rows seen so far, noted on the import (runs.counting.note_live) at most every
    LIVE_NOTE_SECONDS."""

    def __init__(self, tenant: str, import_id: str, counted_set: str, chunk: ChunkPlan):
        self.tenant, self.import_sk, self.counted_set = tenant, keys.import_sk(import_id), counted_set
        self.index, self.first_row, self.rows = chunk.index, chunk.first_row, chunk.rows
        self.noted_at = time.monotonic()

    def seen(self, next_row: int) -> None:
        """The rows before `next_row` are applied."""
        done = next_row - self.first_row
        if done >= self.rows or time.monotonic() - self.noted_at < LIVE_NOTE_SECONDS:
            return  # the chunk's count comes next; or noted a moment ago
        note_live(self.tenant, self.import_sk, self.counted_set, self.index, done)
        self.noted_at = time.monotonic()


class _Undo:
    """What a revert of the chunk needs, kept as the chunk writes: the records each part of rows is
    about to update, as they are, in S3 before any of them is written (a conditional put: a retried
    chunk finds the first attempt's before-images there and keeps them, never its own after-images);
    then the ids of the records the chunk created and updated (chunk_written_key). Nothing is kept
    for a part that updates nothing."""

    def __init__(self, tenant: str, import_id: str, index: int, blobs: BlobStore):
        self.tenant, self.import_id, self.index, self.blobs = tenant, import_id, index, blobs
        self.first_row = 0  # the part being applied
        self.parts: list[int] = []  # first rows of the parts that kept before-images

    def keep(self, current: dict[str, dict]) -> None:
        key = keys.chunk_before_images_key(self.tenant, self.import_id, self.index, self.first_row)
        # DynamoDB's own JSON, so every value reads back as the type it was stored as.
        self.blobs.put_json_once(key, {record_id: to_item(item) for record_id, item in current.items()})
        self.parts.append(self.first_row)

    def written(self, plans: list[RowPlan]) -> dict | None:
        """Store the ids the chunk created and updated; returns what its done-marker says of them."""
        created = [p.record_id for p in plans if p.outcome == "inserted"]
        updated = [p.existing_id for p in plans if p.outcome == "updated"]
        if not created and not updated:
            return None
        written = {"created": created, "updated": updated, "before_parts": self.parts}
        self.blobs.put_json(keys.chunk_written_key(self.tenant, self.import_id, self.index), written)
        return {"created": len(created), "updated": len(updated)}


def record_ids(import_id: str, rows: Iterable[int]) -> list[str]:
    """The id a new record gets for each source row, fixed by (import, row). As f"{import_id}{row:08d}"
    without its format parsing, in one comprehension: it runs for every row (bench/cpu_path.py)."""
    return [import_id + str(row).zfill(8) for row in rows]


class RowScan:
    """What Prepare does with each sheet's header and every row while it plans the chunks: resolve
    the recipe's columns for the sheet, and feed every valid row's unique keys, whatever sheet they
    are on, to one duplicate finder, so the first valid row with a key is the one imported, whatever
    order the chunks later run in."""

    def __init__(self, recipe, table: Table, parent: Table | None):
        self.recipe, self.table, self.parent = recipe, table, parent
        self.columns: dict[int, list[list]] = {}  # sheet index -> [column index, field key]
        self.finder = DuplicateFinder(constraints(table, recipe))

    def on_sheet(self, sheet, header: list[str] | None) -> Callable[[int, list[str], int], None] | None:
        width = len(header) if header is not None else None
        columns = self.columns[sheet.index] = resolve_columns(self.recipe, self.table, header, width)
        # Only a worksheet has a name (its cells may be uncalculated formulas or date serials).
        validator = row_validator(
            self.table, self.parent, columns, width, worksheet=sheet.name is not None, recipe=self.recipe
        )
        if not self.finder.keyed:
            return None  # no unique keys: nothing to find, so no row needs validating (nor parsing) here
        finder = self.finder
        parent_target = next((t for _, t in columns if t.startswith(PARENT_PREFIX)), None)

        def on_row(row: int, cells: list[str], _line: int) -> None:
            values, failures = validator.validate(cells)
            if not failures:
                if parent_target:
                    values["parent_id"] = values.get(parent_target)  # stands in for the parent's id
                finder.add(row, values)

        return on_row


def row_validator(
    table: Table,
    parent: Table | None,
    columns: list[list],
    width: int | None,
    worksheet: bool = False,
    recipe: Any = None,
) -> RowValidator:
    """The validator of a sheet's resolved columns ([index, target], or [[indexes], target] for a
    column joining sources), with the recipe's cleaning of each column compiled once (a chunk's)."""
    # The recipe was checked against the tables: each target names a field of the table, or of
    # the parent for a parent link.
    specs = []
    readings = {}
    recipe_columns = {c.target: c for c in (recipe.mapped if recipe is not None else [])}
    for index, target in columns:
        sources = index if isinstance(index, list) else [index]
        index = sources[0]
        if target == ID_TARGET:  # the record's id, as an export wrote it: text
            # constructed: "_id" is the service's own key, which no field's Key admits
            specs.append((index, FieldSpec.model_construct(key=ID_TARGET, type="string", required=False)))
            continue
        if target.startswith(PARENT_PREFIX):
            assert parent is not None
            spec = parent.field(target[len(PARENT_PREFIX) :])
            assert spec is not None
            spec = spec.model_copy(update={"key": target})
        else:
            spec = table.field(target)
            assert spec is not None
        specs.append((index, spec))
        column = recipe_columns.get(target)
        if column is not None and column.cleans():
            readings[target] = column_reading(column, spec, sources)
    return RowValidator(specs, width, worksheet, readings, rules_of(table.rules, table.fields))


def resolve_columns(recipe, table: Table, header: list[str] | None, width: int | None) -> list[list]:
    """[column index, target] for each mapped column, or a file error naming every column missing."""
    if recipe.columns == AUTO:
        return _auto_columns(recipe, table, header)
    resolved: list[list] = []
    missing: list[str] = []
    # A failures.csv sent back: its first column, the row number, is not the file's own, so column
    # indexes count from the one after it.
    shift = 1 if header and header[0] == ROW_COLUMN else 0
    for column in recipe.columns:
        indexes = []
        for source in column.all_sources:
            if isinstance(source, int):
                source += shift
                if width is not None and source >= width:
                    raise FileError("COLUMN_INDEX_OUT_OF_RANGE", column=source, count=width)
                indexes.append(source)
                continue
            found = column_index(header, source) if header is not None else None
            if found is None:
                missing.append(source)
            else:
                indexes.append(found)
        if len(indexes) == len(column.all_sources):
            resolved.append([indexes if column.sources is not None else indexes[0], column.target])
    if missing:
        raise FileError("MISSING_COLUMN", column=", ".join(f"'{source}'" for source in missing), count=len(missing))
    return resolved


def _auto_columns(recipe, table: Table, header: list[str] | None) -> list[list]:
    """ "columns": "auto": each header that is a field's key or label (as headers match) maps to it,
    and a header "_id" to the record id ("id" too, in a table without a field keyed id); other
    headers are left out. A field an insert needs that no header names is a missing column."""
    if header is None:
        raise FileError("AUTO_COLUMNS_NEED_HEADER")
    names = {header_key(ID_TARGET): ID_TARGET}
    if table.field(LEGACY_ID_TARGET) is None:
        names[header_key(LEGACY_ID_TARGET)] = ID_TARGET
    for spec in table.fields:
        if spec.type != "subtable":
            for name in (spec.key, spec.label):
                if name:
                    names.setdefault(header_key(name), spec.key)
    resolved: list[list] = []
    taken: set[str] = set()
    for index, cell in enumerate(header):
        target = names.get(header_key(cell))
        if target is not None and target not in taken:
            taken.add(target)
            resolved.append([index, target])
    required = [s for s in table.fields if s.required and s.key not in taken]
    if required and recipe.mode != "update":
        labels = ", ".join(f"'{s.label or s.key}'" for s in required)
        raise FileError("MISSING_COLUMN", column=labels, count=len(required))
    if not resolved:
        raise FileError("MISSING_COLUMN", column="(no header names a field)", count=0)
    return resolved


def process_chunk(tenant: str, import_id: str, chunk: ChunkPlan, pass_: str = "write") -> dict[str, Any]:
    """Validate and apply one chunk. In the check pass of an atomic import nothing is written.

    The steps, each below: a chunk counted already answers what its marker says, and one of an import
    that is over is skipped (_done_before); else its rows are loaded (_load), checked (_check),
    applied a part at a time (_apply), tallied (_tally), reported (_report) and counted once (_count)."""
    item = store.load(tenant, import_id)
    done = _done_before(tenant, import_id, item, chunk, pass_)
    if done is not None:
        return done
    try:
        run = _load(tenant, import_id, item, chunk, pass_)
    except FileError as error:  # SOURCE_CHANGED: the file Prepare read is no longer there to read
        store.fail(tenant, import_id, error.code, error.params)
        return {"index": chunk.index, "skipped": "failed"}
    checked = _check(run)
    _apply(run, checked.plans)
    tally = _tally(checked)
    summary = _report(run, checked, tally)
    _count(run, tally)
    return summary


@dataclass
class _ChunkRun:
    """One run of a chunk: the import it belongs to, as loaded, and what its steps share."""

    tenant: str
    import_id: str
    chunk: ChunkPlan
    pass_: str
    item: ImportRecord
    table: Table
    parent: Table | None
    recipe: Recipe
    reader: Reader
    sheet: SheetReader
    blobs: BlobStore
    data: bytes  # the chunk's bytes, dropped once checked
    duplicates: dict  # row -> the in-file duplicate it is (Prepare found them)
    stamp: str  # when the chunk's writes happen: on its records' meta, its marker and the import
    undo: _Undo | None = None  # None in a dry run (nothing written, nothing to revert)

    @property
    def index(self) -> int:
        return self.chunk.index

    @property
    def counted_set(self) -> str:
        return store.counted_attribute(self.pass_)

    @property
    def dry_run(self) -> bool:
        return bool(self.item.dry_run) or self.pass_ == "check"


@dataclass
class _Tally:
    """What a checked and applied chunk's rows came to."""

    rows: int
    failures: dict[int, list[dict]]  # row -> failure entries: the check's and the writer's
    outcomes: dict[str, int]  # of OUTCOMES

    @property
    def succeeded(self) -> int:
        return sum(self.outcomes.values())


def _done_before(
    tenant: str, import_id: str, item: ImportRecord, chunk: ChunkPlan, pass_: str
) -> dict[str, Any] | None:
    """The answer of a chunk that runs no more: counted already (a retry: its marker's summary), or
    of an import that is over."""
    if chunk.index in item.counted(pass_):
        marker = store.chunk_marker(tenant, import_id, chunk.index, pass_)
        assert marker is not None  # written before the chunk is counted
        return marker.summary()
    if item.status in TERMINAL_STATUSES:
        return {"index": chunk.index, "skipped": item.status}
    return None


def _load(tenant: str, import_id: str, item: ImportRecord, chunk: ChunkPlan, pass_: str) -> _ChunkRun:
    """The chunk's bytes, its in-file duplicates, and what the import runs with."""
    table, parent = store.tables_of(item)
    reader = item.reader
    assert reader is not None  # Prepare planned the file before any chunk runs
    blobs = BlobStore()
    duplicates = blobs.get_json(keys.chunk_duplicates_key(tenant, import_id, chunk.index)) if chunk.duplicates else {}
    data = blobs.read_range(reader.key, chunk.start, chunk.end, reader.pin)
    run = _ChunkRun(
        tenant=tenant,
        import_id=import_id,
        chunk=chunk,
        pass_=pass_,
        item=item,
        table=table,
        parent=parent,
        recipe=store.recipe_of(item),
        reader=reader,
        sheet=next(s for s in reader.sheets if s.index == chunk.sheet),
        blobs=blobs,
        data=data,
        duplicates=duplicates,
        stamp=now_iso(),
    )
    if not run.dry_run:
        run.undo = _Undo(tenant, import_id, run.index, blobs)
    return run


def _check(run: _ChunkRun) -> CheckedRows:
    """Parse and validate the chunk's rows; the valid ones are planned, the others failed."""
    sheet, worksheet = run.sheet, run.reader.format == "xlsx"
    validator = row_validator(run.table, run.parent, sheet.columns, sheet.width, worksheet, recipe=run.recipe)
    checked = check_rows(run.data, run.reader, validator, run.chunk, run.duplicates, run.import_id)
    run.data = b""  # the bytes are parsed: free them before the writes
    if checked.rows != run.chunk.rows:
        # Prepare and the worker parse the same bytes the same way; a difference means the file changed.
        raise RuntimeError(f"chunk {run.index} has {checked.rows} rows, its plan says {run.chunk.rows}")
    return checked


def _apply(run: _ChunkRun, plans: list[RowPlan]) -> None:
    """Write the valid rows (a dry run: decide what each would do), APPLY_ROWS at a time, noting how
    far the chunk got as it goes."""
    meta = {
        "import_id": run.import_id,
        "created_by": run.item.created_by,
        "created_at": run.stamp,
        "updated_at": run.stamp,
    }
    undo = run.undo
    context = WriteContext(
        tenant=run.tenant,
        table=run.table,
        recipe=run.recipe,
        parent_table=run.parent,
        dry_run=run.dry_run,
        meta=meta,
        owner=run.import_id,
        before_update=undo.keep if undo else None,
    )
    writer = RecordWriter(context)
    live = _LiveRows(run.tenant, run.import_id, run.counted_set, run.chunk)
    for start in range(0, len(plans), APPLY_ROWS):
        part = plans[start : start + APPLY_ROWS]
        if undo:
            undo.first_row = part[0].row
        writer.apply(part)
        live.seen(part[-1].row + 1)


def _tally(checked: CheckedRows) -> _Tally:
    """What the applied rows did, with the rows the writer failed added to the check's failures."""
    failures = checked.failures
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for plan in checked.plans:
        if plan.failure:
            failures[plan.row] = [_failure_entry(plan.failure)]
        if plan.outcome:
            outcomes[plan.outcome] += 1
    return _Tally(rows=checked.rows, failures=failures, outcomes=outcomes)


def _report(run: _ChunkRun, checked: CheckedRows, tally: _Tally) -> dict[str, Any]:
    """Keep what a revert and the failures listing read (the records written, the failure entries,
    the chunk's done-marker); returns the chunk's summary."""
    written = run.undo.written(checked.plans) if run.undo else None
    if run.item.dry_run and run.index == 0:
        _keep_sample(run.tenant, run.import_id, checked.plans)
    entries = _failure_entries(tally.failures, checked, run.sheet.name)
    if entries:
        body = "\n".join(json.dumps(e, ensure_ascii=False, default=str) for e in entries).encode()
        key = keys.chunk_failures_key(run.tenant, run.import_id, run.index, run.pass_)
        run.blobs.put_bytes(key, body, "application/x-ndjson")
    marker = ChunkMarker(
        index=run.index,
        rows=tally.rows,
        success=tally.succeeded,
        fail=len(tally.failures),
        failure_entries=len(entries),
        written=written,
        done_at=run.stamp,
    )
    # The marker (what the failures listing reads) may be written twice with the same content; the
    # counters move once, in _count.
    store.put_chunk_marker(run.tenant, run.import_id, run.pass_, marker)
    return marker.summary()


def _count(run: _ChunkRun, tally: _Tally) -> None:
    """Add the chunk's figures to the import's counters, in the one conditional update that also
    records the chunk as counted (runs.counting)."""
    count_once(
        run.tenant,
        keys.import_sk(run.import_id),
        run.counted_set,
        run.index,
        {
            "processed_count": tally.rows,
            "success_count": tally.succeeded,
            "fail_count": len(tally.failures),
            "inserted_count": 0 if run.dry_run else tally.outcomes["inserted"],
            # What each row did (a dry run: would do), against the table as it is
            **{store.OUTCOME_COUNTERS[name]: tally.outcomes[name] for name in OUTCOMES},
        },
        set_values={"updated_at": run.stamp},
    )


def _keep_sample(tenant: str, import_id: str, plans: list[RowPlan]) -> None:
    """A dry run shows the first chunk's first SAMPLE_ROWS valid rows as they would be stored, so the
    cleaning can be checked before anything is written (the same on every attempt of the chunk)."""
    sample = [{"row": p.row, "values": p.data} for p in plans if p.outcome and p.failure is None][:SAMPLE_ROWS]
    store.update(tenant, import_id, set_values={"sample": sample})


def _failure_entries(failures: dict[int, list[dict]], checked: CheckedRows, sheet_name: str | None) -> list[dict]:
    """The chunk's failure entries in row order, each placed in its file (row, source line, sheet);
    a row's first entry carries the original cells, for failures.csv."""
    entries = []
    for failed_row in sorted(failures):
        line, cells = checked.source(failed_row)
        for position, entry in enumerate(failures[failed_row]):
            entry.update(row=failed_row, source_line=line, sheet=sheet_name)
            if position == 0:
                entry["cells"] = cells
            entries.append(entry)
    return entries


@dataclass
class CheckedRows:
    plans: list[RowPlan]  # valid rows, to be applied
    failures: dict[int, list[dict]]  # row -> failure entries
    cells: list[list[str]]  # each row's cells, from the first row, for failure reports
    lines: Sequence[int]  # the source line of each
    first_row: int
    rows: int

    def source(self, row: int) -> tuple[int, list[str]]:
        return self.lines[row - self.first_row], self.cells[row - self.first_row]


def check_rows(
    data: bytes, reader: Reader, validator: RowValidator, chunk: ChunkPlan, duplicates: dict, import_id: str
) -> CheckedRows:
    """Decode, parse and validate one chunk's bytes: the CPU work of a chunk worker before it writes.
    The chunk's rows are validated together, a column at a time (RowValidator.validate_rows)."""
    cells, lines = read_chunk(data, reader.delimiter, chunk.first_line, reader.line_column)
    data_of_rows, failed = validator.validate_rows(cells)
    first_row = chunk.first_row
    failures: dict[int, list[dict]] = {}
    for position, row_failures in failed.items():
        failures[first_row + position] = [_failure_entry(f) for f in row_failures]
    for row_key, duplicate in duplicates.items():
        row = int(row_key)
        if row in failures or not first_row <= row < first_row + len(cells):
            continue  # a row that failed validation is reported as such
        values = data_of_rows[row - first_row]
        value = " + ".join(str(values.get(field)) for field in duplicate["fields"])
        failures[row] = [
            {
                "field": duplicate["fields"][0],
                "code": "DUPLICATE_IN_FILE",
                "params": {"field": duplicate["label"], "value": value, "first_row": duplicate["first_row"]},
                "value": value,
                "first_row": duplicate["first_row"],
                "first_sheet": duplicate["first_sheet"],
            }
        ]
    rows: Sequence[int] = range(first_row, first_row + len(cells))
    if failures:
        data_of_rows = [values for row, values in zip(rows, data_of_rows) if row not in failures]
        rows = [row for row in rows if row not in failures]
    # Mapped: no Python step per row but RowPlan's own.
    plans = list(map(RowPlan, rows, data_of_rows, record_ids(import_id, rows)))
    return CheckedRows(plans, failures, cells, lines, first_row, len(cells))


def _failure_entry(failure) -> dict:
    return {"field": failure.field, "code": failure.code, "params": failure.params, "value": failure.value}
