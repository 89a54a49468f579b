"""Spreadsheet safety: a cell that a spreadsheet would run as a formula is written as text.

Whatever the service writes for people to open in Excel, LibreOffice or Google Sheets (exports,
failures.csv) goes through here. A text cell that starts with = + - @ tab or CR gets a leading single
quote, so the file can never run anything (=HYPERLINK, =cmd|..., DDE) on the reader's machine.
"""

from __future__ import annotations

import re

from bulkimport.ingest.spreadsheets import UNCALCULATED

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A number as a person types it: "-5", "+3.25", "-1e5", "-.5". A spreadsheet reads it as that number,
# never as a formula, so it stays as it came.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """A text cell as data only: one that a spreadsheet would run as a formula gets a leading quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_source_cell(text: str) -> str:
    """A cell of a customer's own file written back (failures.csv): as neutralise, except that a plain
    number such as "-5" stays as it came, so that the fixed file imports the same value again. A formula
    saved without its value comes back empty (its value is what the user must fill in)."""
    if text == UNCALCULATED:
        return ""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
