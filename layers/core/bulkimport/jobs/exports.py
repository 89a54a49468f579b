"""Export jobs: a table's records (all that match a search, or the ids sent) as CSV or XLSX.

One worker streams the whole file: records are read a page at a time and written straight into an
S3 multipart upload (BlobStore.writer), so memory stays at one page plus one upload part (8 MiB) whatever the table's
size. XLSX goes through openpyxl's write-only mode, which keeps each sheet's XML in a temporary file
(Lambda's /tmp) and zips it into the upload at the end; past Excel's 1,048,576 rows a sheet, the
export goes on in a new sheet.

- CSV is UTF-8 with a BOM, so Excel opens Traditional Chinese correctly.
- A text cell that a spreadsheet would run as a formula (it starts with = + - @ tab or CR) gets a
  leading single quote (ingest/formulas.py): the file can never run anything on the reader's machine.
  Numbers stay numbers.
- The header is each field's label (its key when it has none), after the record id.
- In XLSX a `date` field's values are date cells (yyyy-mm-dd), so a spreadsheet sorts, filters and
  formats them as dates (and an import reads them back as the same dates); a `datetime` stays ISO 8601
  text, since a cell cannot hold its UTC offset.

An export run again (a retried step) writes the same object again: it is idempotent.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from functools import cache
from typing import Any, BinaryIO, cast

from bulkimport.adapters import keys
from bulkimport.adapters.dynamo import RecordStore
from bulkimport.adapters.s3 import BlobStore
from bulkimport.ids import now_iso
from bulkimport.ingest.formulas import neutralise
from bulkimport.jobs import store
from bulkimport.jobs.store import JobRecord
from bulkimport.recipes.models import ID_TARGET
from bulkimport.records.queries import typed_filters
from bulkimport.schema.models import Table

XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, header included
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PROGRESS_EVERY = 1000  # records between progress updates


def export(tenant: str, job_id: str) -> dict[str, Any]:
    item = store.load(tenant, job_id)
    if item.status != "running":
        return {"skipped": True}
    assert item.table_snapshot is not None and item.started_at and item.format  # set by Prepare and the request
    table = Table.model_validate(item.table_snapshot)
    file_name = f"{table.key}-export-{item.started_at[:10]}.{item.format}"
    key = keys.export_key(tenant, job_id, file_name)

    fields = list(table.fields)
    # The record id as `_id`: a table's own field may be keyed id (recipes read `_id` back as the id).
    leading = [ID_TARGET, *(["parent_id"] if table.parent else [])]
    header = [*leading, *[f.label or f.key for f in fields]]
    dates = frozenset(len(leading) + n for n, f in enumerate(fields) if f.type == "date")
    count = 0
    with BlobStore().writer(key, CONTENT_TYPES[item.format]) as sink:  # aborted if anything fails
        writer = (_CsvRows if item.format == "csv" else _XlsxRows)(sink, header, table.key, dates)
        for record in _records(tenant, table, item):
            data, meta = record.get("data") or {}, record.get("meta") or {}
            writer.append(
                [record["sk"], *([meta.get("parent_id")] if table.parent else []), *[data.get(f.key) for f in fields]]
            )
            count += 1
            if count % PROGRESS_EVERY == 0:
                store.update(tenant, job_id, {"processed_amount": count, "updated_at": now_iso()})
        writer.finish()
    store.update(
        tenant,
        job_id,
        {
            "export_key": key,
            "file_name": file_name,
            "processed_amount": count,
            "succeeded_amount": count,
            "updated_at": now_iso(),
        },
        when_status=("running",),
    )
    return {"rows": count, "key": key}


def _records(tenant: str, table: Table, item: JobRecord) -> Iterator[dict]:
    records = RecordStore()
    if item.ids == "all":
        # Only what the file shows is read back (the local stack's moto spends its time serialising values).
        attributes = ("sk", "data", "meta.parent_id") if table.parent else ("sk", "data")
        yield from records.all_matching(
            tenant, table.key, typed_filters(table, item.search_options), attributes=attributes
        )
        return
    wanted = list(dict.fromkeys(item.ids))
    for start in range(0, len(wanted), 100):
        part = wanted[start : start + 100]
        found = records.get_many(tenant, table.key, part)
        yield from (found[i] for i in part if i in found)


class _CsvRows:
    def __init__(self, sink: io.RawIOBase, header: list[str], _title: str, _dates: frozenset[int]):
        # The cast: typeshed wants a buffered stream; the wrapper only writes to the sink and flushes it.
        self.text = io.TextIOWrapper(cast(BinaryIO, sink), encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)
        self.writer.writerow([neutralise(h) for h in header])

    def append(self, values: list[Any]) -> None:
        self.writer.writerow([self._cell(v) for v in values])

    @staticmethod
    def _cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        return neutralise(str(value))

    def finish(self) -> None:
        self.text.flush()
        self.text.detach()  # the upload is completed by its owner, not closed by the wrapper


@cache
def _illegal_xml_characters() -> re.Pattern:
    """openpyxl is imported when an XLSX export is written, not with this module: every worker
    that imports it (chunk workers too) would otherwise carry it in memory (bench/memory.py)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


class _XlsxRows:
    def __init__(self, sink: io.RawIOBase, header: list[str], title: str, dates: frozenset[int]):
        from openpyxl import Workbook  # see _illegal_xml_characters

        self.sink = sink
        self.dates = dates  # the columns of date fields
        self.header = [neutralise(h) for h in header]
        self.title = title[:25]
        self.workbook = Workbook(write_only=True)
        self.sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        self.sheet = self.workbook.create_sheet(self.title if self.sheets == 1 else f"{self.title} ({self.sheets})")
        self.sheet.append(self.header)
        self.rows = 1

    def append(self, values: list[Any]) -> None:
        if self.rows == XLSX_MAX_ROWS:
            self._new_sheet()
        self.sheet.append([_date(v) if n in self.dates else self._cell(v) for n, v in enumerate(values)])
        self.rows += 1

    @staticmethod
    def _cell(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        # Control characters cannot be stored in XLSX XML at all.
        return neutralise(_illegal_xml_characters().sub("", str(value)))

    def finish(self) -> None:
        self.workbook.save(self.sink)


def _date(value: Any) -> Any:
    """A date field's value as a date (openpyxl writes it as a date cell, yyyy-mm-dd). Stored dates are
    ISO 8601; anything else is written as the text cell it is."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return _XlsxRows._cell(value)
