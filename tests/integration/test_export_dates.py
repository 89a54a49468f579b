"""An XLSX export's dates are date cells (Excel sorts, filters and formats them as dates), read back
with openpyxl; a CSV keeps them as ISO 8601 text."""

import csv
import io
from datetime import datetime

import openpyxl
import requests

VISITS = {
    "key": "visits",
    "fields": [
        {"key": "name", "type": "string", "required": True},
        {"key": "visit_date", "label": "就診日", "type": "date"},
        {"key": "seen_at", "type": "datetime"},
    ],
}


def export(api, file_format: str) -> bytes:
    job = {
        "job_name": "export",
        "table": "visits",
        "ids": "all",
        "search_options": {},
        "total": 3,
        "format": file_format,
    }
    done = api.wait_job(api.start_job(job))
    assert done["code"] == 200, done
    return requests.get(done["data"]["url"], timeout=30).content


def test_an_xlsx_export_writes_dates_as_date_cells(tenant):
    tenant.admin.create_table(VISITS)
    records = [
        {"name": "王", "visit_date": "2026-11-22", "seen_at": "2026-11-22T03:56:39Z"},
        {"name": "李", "visit_date": "2026/1/5", "seen_at": None},
        {"name": "陳", "visit_date": None},
    ]
    created = tenant.editor.ok("POST", "/tables/visits/records/batch-create", json={"records": records})
    assert created["success_count"] == 3

    sheet = openpyxl.load_workbook(io.BytesIO(export(tenant.editor, "xlsx"))).active
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert header == ["_id", "name", "就診日", "seen_at"]
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    for name, day in (("王", datetime(2026, 11, 22)), ("李", datetime(2026, 1, 5))):
        cell = cells[name][2]
        assert (cell.is_date, cell.value, cell.number_format) == (True, day, "yyyy-mm-dd"), name
    assert cells["陳"][2].value is None
    # A datetime keeps its offset, which a cell cannot hold: ISO 8601 text.
    assert cells["王"][3].value == "2026-11-22T03:56:39Z"

    rows = list(csv.DictReader(io.StringIO(export(tenant.editor, "csv").decode("utf-8-sig"))))
    assert sorted(row["就診日"] for row in rows) == ["", "2026-01-05", "2026-11-22"]
