"""Matching a file's header to a recipe's column sources the way people type headers: " EMAIL ",
"Email" and full-width "EMAIL" (as Chinese and Japanese input methods type it) are one column."""

from __future__ import annotations

import unicodedata


def header_key(text: str) -> str:
    """What two headers must share to be one column: Unicode width folded (NFKC), surrounding spaces
    dropped, case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def column_index(header: list[str], source: str) -> int | None:
    """The index of the column `source` names: an exact match first (a header may hold both "Email"
    and "email"), else the first header equal to it up to width, spaces and case; None if none."""
    wanted = source.strip()
    if wanted in header:
        return header.index(wanted)
    key = header_key(source)
    return next((i for i, cell in enumerate(header) if header_key(cell) == key), None)
