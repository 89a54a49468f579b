"""What kind of file an upload is, judged by its content (never by its name or Content-Type), and
the byte streams Prepare reads it through: hashing the original, inflating gzip within limits.

A file is XLSX (a zip holding a workbook), gzip'd text, or text in an encoding we detect; anything
else fails with UNSUPPORTED_FILE_TYPE before a row is read.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from bulkimport.errors import FileError

# Enough text for charset detection to tell Big5 from GB18030 or Shift_JIS with confidence.
SAMPLE_BYTES = 256 * 1024

# Encodings tried, in this order of preference, when a file is neither UTF-8 nor marked by a BOM.
# Each is the superset its family is usually saved as (Big5 -> CP950, Shift_JIS -> CP932).
DETECTABLE_ENCODINGS = ("cp950", "gb18030", "cp932", "cp1252")

_BOMS = (  # longest first: the UTF-32 LE mark starts like the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Magic bytes of files people upload by mistake, named in the error message.
_NOT_SUPPORTED = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\xd0\xcf\x11\xe0", "legacy Excel (.xls) or other OLE"),
    (b"PK\x05\x06", "empty ZIP"),
    (b"BZh", "bzip2"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"Rar!", "RAR"),
    (b"\xfd7zXZ", "xz"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
)


class Readable(Protocol):
    def read(self, size: int) -> bytes: ...


@dataclass
class TextEncoding:
    name: str  # a Python codec name
    bom: int  # bytes of byte-order mark to skip

    @property
    def is_utf8(self) -> bool:
        return self.name == "utf-8"


def sniff(head: bytes) -> str:
    """'xlsx', 'gzip' or 'text' from a file's first bytes; a known other kind fails."""
    if not head:
        raise FileError("EMPTY_FILE")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"  # a zip: whether it holds a workbook is checked when it is opened
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    for magic, kind in _NOT_SUPPORTED:
        if head.startswith(magic):
            raise FileError("UNSUPPORTED_FILE_TYPE", kind=kind)
    return "text"


def detect_encoding(sample: bytes, option: str) -> TextEncoding:
    """The encoding of a text file from its first bytes, or the one the recipe forces.

    A byte-order mark decides; then UTF-8 if the sample decodes as UTF-8 (plain ASCII does too);
    then charset-normalizer chooses among DETECTABLE_ENCODINGS; failing that, the first of them that
    decodes the sample. If none does, UTF-8, so that reading stops at the first undecodable line.
    """
    bom = next((TextEncoding(name, len(mark)) for mark, name in _BOMS if sample.startswith(mark)), None)
    if option and option != "auto":
        try:
            name = codecs.lookup(option).name
        except LookupError:
            raise FileError("UNSUPPORTED_ENCODING", encoding=option) from None
        family = name.removesuffix("-sig").removesuffix("-le").removesuffix("-be")
        if bom and bom.name.startswith(family):
            return bom  # the mark tells the byte order, and is not part of the text
        # Without a mark, these names leave the byte order open: Windows' little-endian.
        return TextEncoding({"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(name, name), 0)
    if bom:
        return bom
    complete = complete_lines(sample)
    try:
        # Incremental: a character cut at the sample's end (a first line longer than it) is no error.
        codecs.getincrementaldecoder("utf-8")().decode(complete)
        return TextEncoding("utf-8", 0)
    except UnicodeDecodeError:
        pass
    import charset_normalizer  # here: only a file that is not UTF-8 needs it (chunk workers never do)

    best = charset_normalizer.from_bytes(complete, cp_isolation=list(DETECTABLE_ENCODINGS)).best()
    if best is not None:
        return TextEncoding(codecs.lookup(best.encoding).name, 0)
    for name in DETECTABLE_ENCODINGS:
        try:
            complete.decode(name)
            return TextEncoding(codecs.lookup(name).name, 0)
        except UnicodeDecodeError:
            continue
    return TextEncoding("utf-8", 0)


def complete_lines(sample: bytes) -> bytes:
    """The sample up to its last newline, so that no character is cut in two at its end."""
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


def check_is_text(sample: bytes, encoding: TextEncoding) -> None:
    """Binary content that happens to decode is not text: NULs or many control characters."""
    text = complete_lines(sample)[encoding.bom :].decode(encoding.name, errors="replace")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f")
    if "\x00" in text or controls > max(8, len(text) // 100):
        raise FileError("UNSUPPORTED_FILE_TYPE", kind="binary")


def check_upload(body: bytes, encoding_option: str) -> None:
    """The checks a direct upload gets at once, before an import is created for it."""
    kind = sniff(body[:SAMPLE_BYTES])
    if kind == "xlsx":
        check_workbook_archive(zipfile_of(io.BytesIO(body)))
    elif kind == "text":
        sample = body[:SAMPLE_BYTES]
        check_is_text(sample, detect_encoding(sample, encoding_option))


# ---------------------------------------------------------------- zip archives (XLSX)


@dataclass
class Limits:
    """How far a compressed file may expand: a zip bomb stops here, a real file does not."""

    max_uncompressed_bytes: int
    max_ratio: int
    # Ratios are judged only past this size: small, highly repetitive parts are normal and harmless.
    ratio_from_bytes: int = 1024 * 1024
    max_zip_entries: int = 10_000  # a workbook has a few parts per sheet


def zipfile_of(file: BinaryIO, max_entries: int | None = None) -> zipfile.ZipFile:
    """The zip archive in a seekable file. zipfile loads the whole directory into memory, so the
    number of entries the end record declares is checked first (a zip64 count never fits a workbook)."""
    if max_entries is not None:
        entries = _declared_entries(file)
        if entries is not None and entries > max_entries:
            raise FileError("CORRUPT_FILE", reason=f"the zip has {entries} parts, a workbook has far fewer")
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise FileError("CORRUPT_FILE", reason=str(error) or type(error).__name__) from None


def _declared_entries(file: BinaryIO) -> int | None:
    """The entry count in a zip's end-of-directory record (it ends the file, after a comment of at
    most 64 KB), or None when there is none to read."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(max(0, size - 22 - 65535))
    tail = file.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def check_workbook_archive(archive: zipfile.ZipFile) -> None:
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise FileError("UNSUPPORTED_FILE_TYPE", kind="ZIP")
    if "xl/workbook.bin" in names:
        raise FileError("UNSUPPORTED_FILE_TYPE", kind="binary Excel workbook (.xlsb)")


def check_archive_sizes(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a zip bomb from its directory, before anything is inflated. zipfile never inflates a
    member past the size its directory declares (and then fails its CRC), so these checks also
    bound what is actually inflated."""
    total = 0
    for member in archive.infolist():
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > limits.max_uncompressed_bytes or (
            member.file_size > limits.ratio_from_bytes and ratio > limits.max_ratio
        ):
            raise FileError("UNCOMPRESSED_TOO_LARGE", max_bytes=limits.max_uncompressed_bytes, ratio=limits.max_ratio)


# ---------------------------------------------------------------- streams


class Hashing:
    """Counts and hashes the original bytes as they are read, whatever reads them."""

    def __init__(self, source: Readable):
        self.source = source
        self.size = 0
        self._sha256 = hashlib.sha256()

    def read(self, size: int) -> bytes:
        data = self.source.read(size)
        self.size += len(data)
        self._sha256.update(data)
        return data

    def sha256(self) -> str:
        return self._sha256.hexdigest()


class Prefixed:
    """A stream whose first bytes were already read (to sniff them), served again first."""

    def __init__(self, head: bytes, rest: Readable):
        self.head = head
        self.rest = rest

    def read(self, size: int) -> bytes:
        if self.head:
            data, self.head = self.head[:size], self.head[size:]
            return data
        return self.rest.read(size)


def read_head(stream: Readable, size: int = SAMPLE_BYTES) -> tuple[bytes, Prefixed]:
    """The first `size` bytes of a stream, and the stream again from its start."""
    parts, got = [], 0
    while got < size:
        data = stream.read(size - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    head = b"".join(parts)
    return head, Prefixed(head, stream)


class Inflating:
    """The content of a gzip stream (all its members), inflated a bounded piece at a time. Stops
    with UNCOMPRESSED_TOO_LARGE past the limit, or when it expands suspiciously well: the bytes
    actually inflated are counted, whatever the gzip trailer claims."""

    _READ = 64 * 1024

    def __init__(self, source: Readable, limits: Limits):
        self.source = source
        self.limits = limits
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = b""  # compressed bytes read but not yet inflated
        self.compressed = 0  # compressed bytes inflated so far
        self.inflated = 0
        self.finished = False

    def read(self, size: int) -> bytes:
        while not self.finished:
            if not self.pending:
                self.pending = self.source.read(self._READ)
                if not self.pending:
                    if not self.inflater.eof:
                        raise FileError("CORRUPT_FILE", reason="the gzip stream is cut short")
                    self.finished = True
                    break
            if self.inflater.eof:  # another gzip member follows
                if not self.pending.strip(b"\x00"):  # padding some tools add
                    self.pending = b""
                    continue
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                data = self.inflater.decompress(self.pending, max(size, 1))
            except zlib.error as error:
                raise FileError("CORRUPT_FILE", reason=str(error)) from None
            fed = len(self.pending)
            self.pending = self.inflater.unconsumed_tail or self.inflater.unused_data
            self._count(fed - len(self.pending), len(data))
            if data:
                return data
        return b""

    def _count(self, compressed: int, inflated: int) -> None:
        self.compressed += compressed
        self.inflated += inflated
        ratio = self.inflated / max(self.compressed, 1)
        if self.inflated > self.limits.max_uncompressed_bytes or (
            self.inflated > self.limits.ratio_from_bytes and ratio > self.limits.max_ratio
        ):
            raise FileError(
                "UNCOMPRESSED_TOO_LARGE", max_bytes=self.limits.max_uncompressed_bytes, ratio=self.limits.max_ratio
            )
