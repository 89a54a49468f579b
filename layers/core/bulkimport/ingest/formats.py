"""What kind of file an upload is, judged by its content (never by its name or Content-Type), and
the byte streams Prepare reads it through: hashing the original, inflating gzip within limits.

A file is XLSX (a zip holding a workbook), gzip'd text, or text in an encoding we detect; anything
else fails with UNSUPPORTED_FILE_TYPE before a row is read.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

from bulkimport.errors import FileError
from bulkimport.ingest.languages import is_ideographic, language_of, script_of

if TYPE_CHECKING:
    from charset_normalizer import CharsetMatch

# Enough text for charset detection to tell Big5 from GB18030 or Shift_JIS with confidence.
SAMPLE_BYTES = 256 * 1024

# Legacy encodings a file that is not UTF-8 (nor marked by a BOM) may be in, as charset-normalizer
# names them. Where several decode the sample to the same text, the first in this order is used: the
# superset its family is usually saved as (Big5 -> CP950, Shift_JIS -> CP932, EUC-KR -> CP949,
# Latin-1 -> Windows-1252), so that the rest of the file decodes too.
DETECTABLE_ENCODINGS = (
    "cp950", "big5hkscs", "big5", "gb18030", "gbk", "gb2312", "cp932", "shift_jis", "euc_jp",
    "euc_jis_2004", "cp949", "euc_kr", "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258", "koi8_r", "koi8_u", "cp866", "cp874", "tis_620", "iso8859_1",
    "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8",
    "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16",
)  # fmt: skip
# The encodings the service was first built for. Between readings of a sample that are about equally
# likely, one of these is taken, as it always was (a short Big5 or Shift_JIS file still imports);
# between any others, detection is unsure.
HOUSE_ENCODINGS = ("cp950", "gb18030", "cp932", "cp1252")
# Readings whose chaos (charset-normalizer's measure of mess, 0..1) is within this of the best one's
# are about equally likely, unless language coherence sets them apart by COHERENCE_MARGIN.
CHAOS_MARGIN = 0.1
COHERENCE_MARGIN = 0.2
# Fewer non-ASCII characters than this are too few for the scores to tell readings apart: only a
# house encoding is taken from so short a sample.
MIN_EVIDENCE = 64
# Two readings that are both text of a language are told apart by chaos only past this many letters
# beyond ASCII (a name or two reads as Chinese in Big5 and as Japanese in EUC-JP alike).
MIN_SPOKEN_EVIDENCE = 24
# A house reading is taken from a tie only if the others have this much more chaos (see _beats).
HOUSE_TIE = 0.02
# A reading with more of its non-ASCII characters odd than this is mojibake, whatever its scores.
MAX_ODD_SHARE = 0.02

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
    then the legacy encoding the text reads best in (see _detect_legacy), or ENCODING_UNCERTAIN.
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
    return _detect_legacy(complete)


def _detect_legacy(sample: bytes) -> TextEncoding:
    """The legacy encoding of a sample that is not UTF-8, or ENCODING_UNCERTAIN naming the likely ones.

    charset-normalizer reads the sample in every DETECTABLE_ENCODINGS and scores each reading for chaos
    (odd characters, mixed scripts) and language coherence (letter frequencies). Readings that give
    the same text are one. Readings that show mojibake (_plausible) are dropped. A reading is used
    when it is the only one left, or when every other is clearly worse (more chaos by CHAOS_MARGIN, or
    less coherence by COHERENCE_MARGIN) and the sample has MIN_EVIDENCE non-ASCII characters. Else
    the one reading that is text of a language its encoding is made for (_spoken), which is what
    tells a short file's readings apart; else a house encoding that leads the tie is taken, as before
    (_house, _beats); else detection is unsure.
    """
    import charset_normalizer  # here: only a file that is not UTF-8 needs it (chunk workers never do)

    # Readings of up to 0.5 chaos are kept (the default drops those past 0.2): its list of common CJK
    # characters lacks many simplified ones, so a short file of Chinese names can score past 0.2.
    matches = list(charset_normalizer.from_bytes(sample, cp_isolation=list(DETECTABLE_ENCODINGS), threshold=0.5))
    readings = [m for m in matches if _plausible(str(m))]
    if not readings:
        # No reading that looks like text: binary, or text no encoding we know reads. UTF-8, so
        # that check_is_text or the first undecodable line says so.
        return TextEncoding("utf-8", 0)
    best = min(readings, key=lambda m: (m.chaos, -m.coherence))
    close = [
        m for m in readings if m.chaos < best.chaos + CHAOS_MARGIN and m.coherence > best.coherence - COHERENCE_MARGIN
    ]
    evidence = sum(1 for ch in str(best) if not ch.isascii())
    if len(readings) == 1 or (len(close) == 1 and evidence >= MIN_EVIDENCE):
        return TextEncoding(_name(best), 0)
    spoken = _spoken(readings)
    if spoken is not None:
        return TextEncoding(_name(spoken), 0)
    close.sort(key=lambda m: (m.chaos, -m.coherence))
    # Led by the best reading that is text of some language (a nonsense one less messy counts not).
    lead = min((m.chaos for m in close if language_of(str(m))), default=best.chaos)
    house = next((m for m in close if m.chaos <= lead + HOUSE_TIE and _house(m)), None)
    if house is not None and all(_beats(house, m) for m in close if m is not house):
        return TextEncoding(_name(house), 0)
    # Named most likely first; encodings few files are in after the common ones at about the same chaos.
    close.sort(key=lambda m: (round(m.chaos / 0.05), _name(m) in _RARE, -m.coherence))
    others = sorted((m for m in readings if m not in close), key=lambda m: (m.chaos, -m.coherence))
    names = [_name(m) for m in (close + others)[:3]]
    raise FileError("ENCODING_UNCERTAIN", candidates=", ".join(names), example=names[0])


def _spoken(readings: list[CharsetMatch]) -> CharsetMatch | None:
    """The reading that is text of a language its encoding is made for (ingest.languages), when
    no other is, or when it has clearly less chaos than any other that is: the evidence a short
    sample has, where the scores are weak (charset-normalizer's chaos ranks correct Turkish behind
    the same names read as Windows-1257). None when a reading that is no text of a language its
    encoding is for is still text of a language (Russian saved in GB18030: its GB18030 reading is
    Russian, its Big5 reading looks Chinese), or no reading speaks at all."""
    speaking = sorted(
        (m for m in readings if language_of(str(m), m.could_be_from_charset)), key=lambda m: (m.chaos, -m.coherence)
    )
    if not speaking:
        return None
    if len(speaking) > 1:
        first, second = speaking[0], speaking[1]
        if (
            second.chaos < first.chaos + HOUSE_TIE
            or _ideographs_only(str(first)) == _ideographs_only(str(second))
            or _letter_count(first) < MIN_SPOKEN_EVIDENCE
        ):
            return None  # (Chinese and kanji-only Japanese: the house readings settle those, or none)
    for other in readings:
        if other in speaking:
            continue
        language = language_of(str(other))
        if (language and not is_ideographic(language)) or _letters_beside_ideographs(other):
            return None  # Russian or French saved in GB18030, which reads as Big5 or Windows-1252
        if language and other.chaos < speaking[0].chaos + HOUSE_TIE:
            return None  # Chinese saved in EUC-JP is not Japanese, and no worse a reading
    return speaking[0]


def _letters_beside_ideographs(match: CharsetMatch) -> bool:
    """Whether a reading in an encoding of Chinese, Japanese or Korean has words of a language in
    another alphabet (the Russian rows of a file that also lists Chinese names); a glyph of one amid
    ideographs ("隸Ч", GB18030 read as Big5) is no word."""
    if not set(match.could_be_from_charset) & _IDEOGRAPHIC_ENCODINGS:
        return False
    for word in str(match).split():
        scripts = {script_of(ch) for ch in word if not ch.isascii() and ch.isalpha()}
        if scripts and not scripts & {"CJK", "KANA", "HANGUL"} and language_of(word):
            return True
    return False


_IDEOGRAPHIC_ENCODINGS = set(DETECTABLE_ENCODINGS[: DETECTABLE_ENCODINGS.index("euc_kr") + 1])


def _letter_count(match: CharsetMatch) -> int:
    return sum(1 for ch in str(match) if not ch.isascii() and ch.isalpha())


def _ideographs_only(text: str) -> bool:
    return {script_of(ch) for ch in text if not ch.isascii() and ch.isalpha()} == {"CJK"}


# Encodings few files are saved in: named last among the candidates of an unsure detection.
_RARE = {"iso8859-3", "iso8859-4", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-16", "cp1257"}


def _house(match: CharsetMatch) -> bool:
    """Whether a reading is in a house encoding and reads as text of a language it is for
    (ingest.languages): Chinese has no kana or hangul, Japanese no hangul, Windows-1252 the letters
    of one Western language."""
    house = next((name for name in HOUSE_ENCODINGS if name in match.could_be_from_charset), None)
    return house is not None and language_of(str(match), [house]) is not None


def _beats(house: CharsetMatch, other: CharsetMatch) -> bool:
    """Whether a house reading wins a tie with another reading: one that is text of no language
    ("Yýlmaz", "ｾｮﾉﾏｽYﾒﾂ"), or of none its encoding is for, in the same script; else only with
    less chaos (Chinese and kanji-only Japanese read alike in GB18030 and EUC-JP). Never one that is
    text of a language in another script (Russian saved in GB18030, read as Big5)."""
    language = language_of(str(other))
    if _letters_beside_ideographs(other) or (language and _main_script(str(other)) != _main_script(str(house))):
        return False
    if language is None:
        return True
    spoken = language_of(str(other), other.could_be_from_charset)
    if (
        spoken
        and spoken != language_of(str(house), house.could_be_from_charset)
        and _letter_count(house) < MIN_SPOKEN_EVIDENCE
    ):
        return False  # a name or two read as Chinese in GB18030 and as Japanese in EUC-JP alike
    if other.chaos >= house.chaos + HOUSE_TIE:
        return True
    # Windows-1252, with the letters of one Western language, beats other Latin readings as good as
    # it that are no text of a language their encoding is for; not those that are (French "naïve"
    # also reads as Czech "naďve" in Windows-1250, Polish "Żaneta" saved in Windows-1257 as "Ýaneta").
    return "cp1252" in house.could_be_from_charset and not language_of(str(other), other.could_be_from_charset)


def _main_script(text: str) -> str:
    """The script most of a text's non-ASCII letters are in (kana counted with kanji)."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isascii() and ch.isalpha():
            script = script_of(ch)
            script = "CJK" if script == "KANA" else script
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda script: counts[script], default="")


def _name(match: CharsetMatch) -> str:
    """The Python codec name of a reading: the first of DETECTABLE_ENCODINGS that gives it."""
    names = match.could_be_from_charset
    chosen = next((name for name in DETECTABLE_ENCODINGS if name in names), match.encoding)
    return codecs.lookup(chosen).name


# Scripts written together in one word (Japanese mixes kanji and kana; plain Latin goes with either).
_WRITTEN_TOGETHER = {frozenset({"CJK", "KANA"}), frozenset({"LATIN", "CJK"}), frozenset({"LATIN", "KANA"})}


def _plausible(text: str) -> bool:
    """False for text that shows it was read in the wrong encoding: control or unassigned characters,
    symbols glued to letters (Polish "Łódź" read as Windows-1252 gives "£ódŸ"), words whose letters
    come from two scripts (French "Hélène" read as Big5 gives "H幨鋝e", Chinese read as Korean mixes
    hangul and hanja), and hangul syllables outside the 2,350 of KS X 1001 (Shift_JIS read as CP949
    gives those: Korean text hardly ever uses them)."""
    odd = seen = 0
    for word in text.split():
        scripts = set()
        accented = False
        for at, ch in enumerate(word):
            if ch.isascii():
                if ch.isalpha():
                    scripts.add("ASCII")
                continue
            seen += 1
            category = unicodedata.category(ch)
            if category[0] in "LM":
                if ch.isalpha():
                    script = script_of(ch)
                    scripts.add(script)
                    accented |= script == "LATIN"
                    if script == "HANGUL" and "\uac00" <= ch <= "\ud7a3" and not _in_ks_x_1001(ch):
                        odd += 1
                    elif script != "LATIN" and ch.isupper() and at and word[at - 1].islower():
                        odd += 1  # a capital inside a word: Greek "Ελένη" read as Windows-1251 gives "ЕлЭнз"
                continue
            if category[0] == "C" or any(
                neighbour.isalpha() for neighbour in (word[at - 1 : at] + word[at + 1 : at + 2])
            ):
                odd += 1
        if re.search(
            r"[A-Za-z][^\x00-\x7f]*[^\x00-\x7f\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff][^\x00-\x7f]*[A-Za-z]", word
        ):
            odd += 1  # a foreign letter amid plain Latin ones ("Gar蔞n")
        if "ASCII" in scripts:  # plain letters go with any script (iPhone用), accented Latin with none
            scripts = (scripts - {"ASCII"}) | ({"LATIN"} if accented or len(scripts) > 2 else set())
        if len(scripts) > 1 and frozenset(scripts) not in _WRITTEN_TOGETHER:
            odd += 1
    return odd <= seen * MAX_ODD_SHARE


def _in_ks_x_1001(ch: str) -> bool:
    # Python's euc_kr writes the others as 8-byte jamo sequences.
    return len(ch.encode("euc_kr")) == 2


def complete_lines(sample: bytes) -> bytes:
    """The sample up to its last newline, so that no character is cut in two at its end."""
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


# Control characters that text does not hold: below a space, except tab, newline, carriage return
# and form feed. A regular expression counts them in the 256 KiB sample without a Python loop.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")


def check_is_text(sample: bytes, encoding: TextEncoding) -> None:
    """Binary content that happens to decode is not text: NULs or many control characters."""
    text = complete_lines(sample)[encoding.bom :].decode(encoding.name, errors="replace")
    controls = len(_CONTROLS.findall(text))
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
