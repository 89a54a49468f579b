"""The benchmark's table and its synthetic CSV: about 100 bytes a row, so 1M rows are about 100 MB."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO

TABLE = {
    "key": "bench",
    "fields": [
        {"key": "membership_no", "type": "string", "required": True, "max_length": 32},
        {"key": "name", "type": "string"},
        {"key": "email", "type": "email"},
        {"key": "phone", "type": "phone"},
        {"key": "level", "type": "enum", "options": ["A", "B"]},
        {"key": "amount", "type": "number"},
        {"key": "visit_date", "type": "date"},
        {"key": "note", "type": "string"},
    ],
}
HEADER = [field["key"] for field in TABLE["fields"]]
RECIPE = {"name": "bench", "table": "bench", "columns": [{"source": h, "target": h} for h in HEADER]}
# The same table with one unique field: every row also claims its key (one conditional write).
TABLE_UNIQUE = {
    **TABLE,
    "key": "bench_unique",
    "fields": [{**TABLE["fields"][0], "unique": True}, *TABLE["fields"][1:]],
}
RECIPE_UNIQUE = {**RECIPE, "name": "bench unique", "table": "bench_unique"}
# The same file cleaned on the way in: five transform steps on four columns, and two field rules (a
# pattern, a range). The data is already clean, so the records come out the same.
CLEANING_STEPS = {
    "name": ["trim", "collapse_spaces"],
    "email": ["lower"],
    "level": [{"map": {"a": "A", "b": "B"}, "ignore_case": True}],
    "note": ["nfkc"],
}
RECIPE_CLEANING = {
    **RECIPE,
    "name": "bench cleaning",
    "columns": [{"source": h, "target": h, "transform": CLEANING_STEPS.get(h, [])} for h in HEADER],
}
CLEANING_RULES = {"membership_no": {"pattern": "M[0-9]{7}"}, "amount": {"min": 0, "max": 1000}}
TABLE_CLEANING = {"key": "bench", "fields": [{**f, **CLEANING_RULES.get(f["key"], {})} for f in TABLE["fields"]]}


WIDE_NOTE_REPEATS = 42  # a wide row: ~2.1 KB, so 2,000 of them pass the chunk byte cap (CHUNK_BYTES)


def row(n: int, wide: bool = False) -> list[str]:
    note = f"信義區松仁路{n % 500}號"
    if wide:
        note = (note + " lorem ipsum dolor sit amet") * WIDE_NOTE_REPEATS
    return [
        f"M{n:07d}",
        f"客戶{n}",
        f"c{n}@example.com",
        f"09{n % 100_000_000:08d}",
        "AB"[n % 2],
        f"{n % 1000}.25",
        f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        note,
    ]


def write_csv(out: IO[str], rows: int, wide: bool = False) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for n in range(rows):
        writer.writerow(row(n, wide))


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    write_csv(out, rows)
    return out.getvalue().encode()


def csv_file(path: Path, rows: int, wide: bool = False) -> Path:
    """The CSV of `rows` rows at `path`, made once (a 1M-row file takes a few seconds to write)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            write_csv(out, rows, wide)
        partial.rename(path)
    return path
