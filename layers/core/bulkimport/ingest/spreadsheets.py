"""Reading XLSX workbooks as rows of text, one sheet after another, in bounded memory.

openpyxl in read-only mode streams each sheet's XML; data_only gives the values Excel cached for
formulas (a formula is never evaluated here). Cell values become the text a CSV of the same data
would hold, so one validator serves both: dates as ISO 8601, whole numbers without ".0".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO

from defusedxml import DefusedXmlException

from bulkimport.errors import FileError

# Excel's own limit; a sheet whose rows claim more is crafted, and its gaps would cost time.
MAX_SHEET_ROWS = 1_048_576

# The text of a formula cell saved without its value (written by a program, not by Excel, or saved
# with calculation off): it must fail its row FORMULA_NOT_CALCULATED, not import as empty. NUL cannot
# occur in a worksheet's text (XML 1.0 forbids it), so no real cell reads as this.
UNCALCULATED = "\x00FORMULA_NOT_CALCULATED\x00"


@dataclass
class Sheet:
    """A part of a file with its own header: a worksheet, or the whole of a text file (no name)."""

    index: int  # position among the workbook's worksheets, 0-based
    name: str | None


@dataclass
class SheetRow:
    sheet: Sheet
    number: int  # the row number Excel shows
    cells: list[str]


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # As a person reads it: never in scientific notation (1e-05, 1.2e+16), whole numbers without ".0".
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        # Excel has no date type: a date is a datetime at midnight.
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


# A number format that only pads whole numbers with zeros, perhaps around literal separators:
# "00000" (a zip code), "000-00-0000" or 000\-00\-0000 (an id). Digits are "0" placeholders;
# a literal is a separator, an escaped character or a quoted text.
_ZERO_PADDED = re.compile(r'(?:0|[-/ ()]|\\.|"[^"]*")+')
_FORMAT_TOKEN = re.compile(r'0|\\(.)|"([^"]*)"|(.)')


def zero_padded_text(value: object, number_format: str | None) -> str | None:
    """What Excel shows for a whole number in a zero-padding format ("00123" for 123 in "00000"),
    so an id kept as a number with a format keeps its leading zeros; None for any other case."""
    if not number_format or "0" not in number_format or not _ZERO_PADDED.fullmatch(number_format):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    tokens = [(m[0] == "0", m[1] or m[2] or m[3] or "") for m in _FORMAT_TOKEN.finditer(number_format)]
    placeholders = sum(1 for digit, _ in tokens if digit)
    if placeholders < 2:
        return None  # "0" is General for a whole number
    digits = str(int(value)).zfill(placeholders)
    # Excel fills placeholders from the right; digits beyond them go before the first one.
    spare, filled = len(digits) - placeholders, iter(digits[len(digits) - placeholders :])
    out, leading = [], digits[:spare]
    for digit, literal in tokens:
        if digit:
            out.append(leading + next(filled))
            leading = ""
        else:
            out.append(literal)
    return "".join(out)


def _openpyxl():
    """openpyxl, imported when a workbook is read: chunk workers never read one, and importing it
    would take part of their memory budget (bench/memory.py).

    openpyxl parses with defusedxml when it is installed, refusing entity declarations (billion
    laughs) and external entities. Without it a workbook could make us expand or fetch entities:
    refuse to read workbooks at all rather than read them unsafely."""
    import openpyxl
    from openpyxl.worksheet import _read_only, _reader

    if not openpyxl.DEFUSEDXML:
        raise RuntimeError("openpyxl must find defusedxml to read workbooks safely")
    if _read_only.WorkSheetParser is _reader.WorkSheetParser:  # type: ignore[attr-defined]
        # data_only reads a formula without a cached value as None, like an empty cell, and no public
        # API tells the two apart: read-only worksheets get a parser that marks it UNCALCULATED.
        _read_only.WorkSheetParser = _marking_uncalculated(_reader.WorkSheetParser, _reader.FORMULA_TAG)  # type: ignore[attr-defined]
    return openpyxl


def _marking_uncalculated(parser: type, formula_tag: str) -> type:
    """openpyxl's worksheet parser, reading a formula cell without a cached value as UNCALCULATED."""

    class MarkingParser(parser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and self.data_only and element.find(formula_tag) is not None:
                cell["value"] = UNCALCULATED
            return cell

    return MarkingParser


class Workbook:
    """An XLSX file already checked by formats.check_workbook_archive and check_archive_sizes."""

    def __init__(self, path: str | IO[bytes]):
        openpyxl = _openpyxl()
        with _reading():
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)

    def close(self) -> None:
        self.book.close()

    def sheets(self, option: str | int | None) -> list[Sheet]:
        """The sheets to import: the one the recipe names (by name or 0-based index), or else every
        visible worksheet in order (hidden sheets usually hold lookup lists, not data)."""
        worksheets = self.book.worksheets
        if option is None:
            return [Sheet(i, ws.title) for i, ws in enumerate(worksheets) if ws.sheet_state == "visible"]
        for i, ws in enumerate(worksheets):
            if ws.title == option or (isinstance(option, int) and i == option):
                return [Sheet(i, ws.title)]
        raise FileError("SHEET_NOT_FOUND", sheet=option, sheets=", ".join(ws.title for ws in worksheets))

    def rows(self, sheets: list[Sheet], header_row: int = 1) -> Iterator[SheetRow]:
        """The non-blank rows of the sheets, each padded with empty cells to its sheet's first row
        from header_row on (its header): a spreadsheet stores no trailing empty cells."""
        for sheet in sheets:
            worksheet = self.book.worksheets[sheet.index]
            # Dimensions recorded in the file may be wrong or huge: size rows by their own cells.
            worksheet.reset_dimensions()
            width = None
            with _reading():
                # Cells, not values: a whole number's format may hold its leading zeros (as fast:
                # read-only cells are built by the same parser either way).
                for number, row in enumerate(worksheet.iter_rows(), start=1):
                    if number > MAX_SHEET_ROWS:
                        raise FileError(
                            "CORRUPT_FILE", reason=f"sheet '{sheet.name}' has more than {MAX_SHEET_ROWS} rows"
                        )
                    cells = [_shown(cell) for cell in row]
                    while cells and not cells[-1].strip():
                        cells.pop()
                    if not cells:
                        continue
                    if width is None:
                        if number >= header_row:  # a title above the header does not set the width
                            width = len(cells)
                    elif len(cells) < width:
                        cells.extend([""] * (width - len(cells)))
                    yield SheetRow(sheet, number, cells)


def _shown(cell) -> str:
    value = cell.value
    if cell.data_type == "n" and value is not None:
        padded = zero_padded_text(value, cell.number_format)
        if padded is not None:
            return padded
    return cell_text(value)


@contextmanager
def _reading():
    """openpyxl's errors on a hostile or broken workbook, as file errors."""
    try:
        yield
    except FileError:
        raise
    except Exception as error:  # noqa: BLE001 - a malformed workbook can break openpyxl in many ways
        cause: BaseException | None = error
        while cause is not None:  # openpyxl re-raises parse errors as ValueError("Unable to read ...")
            if isinstance(cause, DefusedXmlException):
                raise FileError("UNSAFE_XLSX") from None
            cause = cause.__cause__
        raise FileError("CORRUPT_FILE", reason=f"{type(error).__name__}: {error}"[:200]) from None
