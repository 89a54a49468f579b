"""What an import reports of its failures: the listing (row order, paginated), failures.csv (the
failing rows with their errors, to fix and import again), and several imports' grouped results."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Sequence

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import decode_position, encode_cursor
from bulkimport.adapters.s3 import BlobStore
from bulkimport.errors import Conflict
from bulkimport.i18n.messages import render
from bulkimport.imports import store
from bulkimport.imports.models import TERMINAL_STATUSES, Failure
from bulkimport.imports.service import to_import
from bulkimport.imports.store import ImportRecord, SheetReader
from bulkimport.ingest.formulas import neutralise, neutralise_source_cell
from bulkimport.paging import ListMeta, Page
from bulkimport.recipes.models import ROW_COLUMN


def list_failures(tenant: str, import_id: str, per_page: int, cursor: str | None, language: str) -> Page:
    """Failure entries in row order: chunk by chunk, each chunk's file in row order."""
    item = store.load(tenant, import_id)
    pass_ = item.pass_
    position = decode_position(cursor, ("chunk", "skip")) or {"chunk": 0, "skip": 0}
    markers = [m for m in store.chunk_markers(tenant, import_id, pass_) if m.failure_entries]
    total = sum(m.failure_entries for m in markers)
    blobs = BlobStore()
    data: list[dict] = []
    next_position = None
    for marker in markers:
        index = marker.index
        if index < position["chunk"]:
            continue
        skip = position["skip"] if index == position["chunk"] else 0
        lines = blobs.read_lines(keys.chunk_failures_key(tenant, import_id, index, pass_))
        for number, line in enumerate(lines):
            if number < skip:
                continue
            if len(data) == per_page:
                next_position = {"chunk": index, "skip": number}
                break
            data.append(render_failure(json.loads(line), language).model_dump(mode="json"))
        if next_position:
            break
    meta = ListMeta(per_page=per_page, next_cursor=encode_cursor(next_position), total=total)
    return Page(data=data, meta=meta)


def render_failure(entry: dict, language: str) -> Failure:
    return Failure(
        row=entry.get("row"),
        source_line=entry.get("source_line"),
        sheet=entry.get("sheet"),
        field=entry.get("field"),
        code=entry["code"],
        message=render(entry["code"], entry.get("params"), language),
        value=entry.get("value"),
        first_row=entry.get("first_row"),
        first_sheet=entry.get("first_sheet"),
    )


def iter_failures(tenant: str, item: ImportRecord):
    """Every failure entry of an import, in row order."""
    pass_ = item.pass_
    blobs = BlobStore()
    for marker in store.chunk_markers(tenant, item.id, pass_):
        if marker.failure_entries:
            for line in blobs.read_lines(keys.chunk_failures_key(tenant, item.id, marker.index, pass_)):
                yield json.loads(line)


def import_results(tenant: str, ids: list[str], language: str, max_groups: int = 100) -> list[dict]:
    """Several imports' progress at once, each with its failures grouped into runs of rows."""
    results = []
    for import_id in ids:
        item = store.load(tenant, import_id)
        current = to_import(item, language)
        groups: list[dict] = []
        for entry in iter_failures(tenant, item):
            reason = render(entry["code"], entry.get("params"), language)
            last = groups[-1] if groups else None
            if (
                last
                and last["field"] == entry.get("field")
                and last["code"] == entry["code"]
                and entry["row"] in (last["row_number_end"], last["row_number_end"] + 1)
            ):
                last["row_number_end"] = entry["row"]
                continue
            if len(groups) == max_groups:
                break
            groups.append(
                {
                    "row": entry["row"],
                    "row_number_start": entry["row"],
                    "row_number_end": entry["row"],
                    "field": entry.get("field"),
                    "code": entry["code"],
                    "fail_reason": reason,
                }
            )
        results.append(
            {
                "id": current.id,
                "progress": current.progress,
                "status": current.status,
                "total_count": current.total_count,
                "success_count": current.success_count,
                "fail_count": current.fail_count,
                "fail_detail": groups,
            }
        )
    return results


def failures_csv_url(tenant: str, import_id: str, language: str) -> str:
    """A presigned URL of the failing rows as CSV (original columns + error_code, error_message),
    made once per language when first asked for: a finished import's failures never change."""
    item = store.load(tenant, import_id)
    if item.status not in TERMINAL_STATUSES:
        raise Conflict("IMPORT_NOT_FINISHED", import_id=import_id, state=item.status)
    reader = item.reader
    if not reader:
        raise Conflict("NO_ROW_FAILURES", import_id=import_id)
    blobs = BlobStore()
    key = keys.failures_csv_key(tenant, import_id, language)
    if blobs.head(key) is None:
        with tempfile.TemporaryFile("w+b") as spool:
            text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
            writer = csv.writer(text, delimiter=reader.delimiter)
            layout = _FailedRowLayout(reader.sheets)
            if layout.header is not None:
                header = [ROW_COLUMN, *map(neutralise_source_cell, layout.header), "error_code", "error_message"]
                writer.writerow(header)
            row: dict | None = None
            for entry in iter_failures(tenant, item):
                if row is not None and row["row"] != entry["row"]:
                    _write_failed_row(writer, layout, row)
                    row = None
                if row is None:
                    row = {
                        "row": entry["row"],
                        "sheet": entry.get("sheet"),
                        "cells": entry.get("cells", []),
                        "codes": [],
                        "messages": [],
                    }
                row["codes"].append(entry["code"])
                row["messages"].append(render(entry["code"], entry.get("params"), language))
            if row is not None:
                _write_failed_row(writer, layout, row)
            text.flush()
            text.detach()  # leave the spool open for the upload
            spool.seek(0)
            blobs.upload(key, spool, "text/csv; charset=utf-8")
    return blobs.presigned_get(key, f"failures-{import_id}.csv")


def _write_failed_row(writer, layout: _FailedRowLayout, row: dict) -> None:
    """One failing row: its cells as they came, except that none can run as a formula where the file is
    opened (a plain number such as "-5" stays a number; see ingest/formulas.py)."""
    cells = [neutralise_source_cell(cell or "") for cell in layout.cells(row["sheet"], row["cells"])]
    # The row number first (a file with a header: `_row`, which recipes ignore); none in a headerless
    # one, whose columns are read by position.
    number = [str(row["row"])] if layout.header is not None else []
    writer.writerow([*number, *cells, "; ".join(row["codes"]), neutralise(" ".join(row["messages"]))])


class _FailedRowLayout:
    """The columns of failures.csv: a sheet's own header, or for rows of several sheets a `sheet`
    column and then the union of their headers (matched by name), so that the file can be fixed
    and imported again with the same recipe."""

    def __init__(self, sheets: list[SheetReader]):
        # A text file's sheet has no name, a headerless one no header.
        self.sheets = {s.name: s for s in sheets}
        self.several = len(sheets) > 1
        self.header = sheets[0].header if sheets else None
        self.columns: list[tuple[str, int]] = []
        if self.several and all(s.header is not None for s in sheets):
            for sheet in sheets:
                for column in _numbered(sheet.header or []):
                    if column not in self.columns:
                        self.columns.append(column)
            self.header = ["sheet", *(name for name, _ in self.columns)]
        elif self.several:
            self.header = None

    def cells(self, sheet: str | None, cells: list[str]) -> Sequence[str | None]:
        if not self.several:
            return cells
        if not self.columns:
            return [sheet, *cells]
        placed = [""] * len(self.columns)
        for column, cell in zip(_numbered(self.sheets[sheet].header or []), cells):
            placed[self.columns.index(column)] = cell
        return [sheet, *placed]


def _numbered(header: list[str]) -> list[tuple[str, int]]:
    """(name, occurrence) for each column, so that a name used twice in a header stays two columns."""
    seen: dict[str, int] = {}
    numbered = []
    for name in header:
        numbered.append((name, seen.get(name, 0)))
        seen[name] = seen.get(name, 0) + 1
    return numbered
