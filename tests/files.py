"""Files the tests upload, made on the spot: workbooks, compressed files and hostile ones."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib

from openpyxl import Workbook

# What a legitimate sheet part looks like around its rows (what openpyxl writes).
_SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_SHEET_END = b"</sheetData></worksheet>"


def xlsx_bytes(
    sheets: dict[str, list[list]],
    hidden: tuple[str, ...] = (),
    cached: dict[str, str] | None = None,
    number_formats: dict[str, str] | None = None,
) -> bytes:
    """A workbook with a sheet per entry, in order. `cached` gives formula cells ("C4" on the first
    sheet) the value Excel would have cached for them: openpyxl writes formulas without one.
    `number_formats` gives cells of the first sheet a number format ("B2": "00000")."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    for cell, number_format in (number_formats or {}).items():
        book.worksheets[0][cell].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    for cell, value in (cached or {}).items():
        data = replace_part(
            data, "xl/worksheets/sheet1.xml", lambda xml, cell=cell, value=value: _with_cached_value(xml, cell, value)
        )
    return data


def _with_cached_value(xml: bytes, cell: str, value: str) -> bytes:
    start = xml.index(f'<c r="{cell}"'.encode())
    end = xml.index(b"</c>", start)
    return xml[:start] + xml[start:end].replace(b"<v />", f"<v>{value}</v>".encode()) + xml[end:]


def replace_part(xlsx: bytes, name: str, change) -> bytes:
    """The workbook with one part's bytes changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data) if info.filename == name else data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def xlsx_bomb(uncompressed_mb: int = 64) -> bytes:
    """A real workbook whose first sheet part inflates to `uncompressed_mb` MB of blanks (about
    1000 times its compressed size), streamed so the test never holds it in memory."""
    xlsx = xlsx_bytes({"Sheet": [["a"], ["1"]]})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info), zipfile.ZIP_DEFLATED)
                continue
            part_info = zipfile.ZipInfo(info.filename)
            part_info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(part_info, "w", force_zip64=True) as part:
                part.write(_SHEET_START)
                blanks = b" " * (1024 * 1024)
                for _ in range(uncompressed_mb):
                    part.write(blanks)
                part.write(_SHEET_END)
    return out.getvalue()


_ENTITY_TRICKS = {
    # Nested entities: a few hundred bytes that expand to a billion "lol"s.
    "billion laughs": '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>",
    # An external entity: the parser would read a local file into the cell.
    "external entity": '<!DOCTYPE x [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>',
}


def xlsx_with_entities(trick: str) -> bytes:
    """A workbook whose shared strings declare entities, and whose cell A2 uses one (&lol9;)."""
    xlsx = xlsx_bytes({"Sheet": [["code", "text"], ["A1", "x"]]})
    strings = (
        '<?xml version="1.0"?>'
        + _ENTITY_TRICKS[trick]
        + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        + "<si><t>&lol9;</t></si></sst>"
    ).encode()
    with_strings = replace_part(
        xlsx,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<c r="A2" t="inlineStr"><is><t>A1</t></is></c>', b'<c r="A2" t="s"><v>0</v></c>'),
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(with_strings)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info, data, zipfile.ZIP_DEFLATED)
        target.writestr("xl/sharedStrings.xml", strings, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def gzip_bomb(uncompressed_mb: int = 64) -> bytes:
    """gzip'd CSV: a header, then `uncompressed_mb` MB of blank lines of 512 KB of spaces each
    (about 1000 times smaller compressed)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b"code,text\n")]
    blank_lines = (b" " * (512 * 1024 - 1) + b"\n") * 2
    for _ in range(uncompressed_mb):
        parts.append(compressor.compress(blank_lines))
    parts.append(compressor.flush())
    return b"".join(parts)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)
