# ruff: noqa: RUF002, RUF003
"""Which language a reading of a legacy-encoded file is written in, among the languages its encoding
is made for: the evidence that tells two readings of a short file apart.

A file saved in Windows-1254 is Turkish: read as Windows-1254 its names have the letters of Turkish
("Şahin", "Yılmaz"); read as Windows-1257 or ISO-8859-16 they mix letters of no one language
("Žahin", "Țahin" beside "Gülşen" as "Gülžen"). A reading whose letters are all letters of one
language that its encoding is used for is text; one that is not is likely mojibake.

charset-normalizer (which scores the readings, ingest.formats) has a language model of its own, but
it does not carry this: it knows a language by its 26 most frequent letters (Turkish without ö or
İ, Polish without ś, ć, ń or ź), names every Latin code page "Latin Based" rather than the languages
it serves, and has no model of Chinese, Japanese or Korean text (their coherence is always 0). So
the alphabets, and the code pages each language is saved in, are listed here.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterable
from functools import cache

_WESTERN = ("cp1252", "iso8859_1", "iso8859_15")
_CENTRAL = ("cp1250", "iso8859_2")
_BALTIC = ("cp1257", "iso8859_13", "iso8859_4")

# Languages written in Latin letters: (the letters beyond ASCII their words use, lower case; the legacy
# encodings they are saved in). A name's letters come from its language: "Dvořák" is Czech.
_LATIN: dict[str, tuple[str, tuple[str, ...]]] = {
    "French": ("àâæçéèêëîïôœùûüÿ", _WESTERN),
    "German": ("äöüß", (*_WESTERN, *_CENTRAL)),
    "Spanish, Catalan": ("àáçèéíïñòóúü", _WESTERN),  # as Spain's addresses mix them
    "Portuguese": ("áâãàçéêíóôõú", _WESTERN),
    "Italian": ("àèéìíîòóùú", _WESTERN),
    "Dutch": ("áéèëïóöü", _WESTERN),
    "Danish, Norwegian": ("æøåéó", _WESTERN),
    "Swedish": ("åäöé", _WESTERN),
    "Finnish": ("åäöšž", _WESTERN),
    "Icelandic": ("áðéíóúýþæö", _WESTERN),
    "Irish": ("áéíóú", _WESTERN),
    "Albanian": ("çë", (*_WESTERN, *_CENTRAL)),
    "Polish": ("ąćęłńóśźż", (*_CENTRAL, *_BALTIC, "iso8859_16")),
    "Czech": ("áčďéěíňóřšťúůýž", _CENTRAL),
    "Slovak": ("áäčďéíĺľňóôŕšťúýž", _CENTRAL),
    "Hungarian": ("áéíóöőúüű", (*_CENTRAL, "iso8859_16")),
    "Romanian": ("ăâîșțşţ", (*_CENTRAL, "iso8859_16")),
    "Croatian, Bosnian, Serbian": ("čćđšž", (*_CENTRAL, "iso8859_16")),
    "Slovene": ("čšž", (*_CENTRAL, "iso8859_16")),
    "Turkish": ("âçğıîöşûüİ", ("cp1254", "iso8859_9", "iso8859_3")),
    "Estonian": ("äõöüšž", (*_BALTIC, "cp1252", "iso8859_15")),
    "Latvian": ("āčēģīķļņšūž", _BALTIC),
    "Lithuanian": ("ąčęėįšųūž", _BALTIC),
    "Maltese": ("àċèġħìòùż", ("iso8859_3",)),
    "Esperanto": ("ĉĝĥĵŝŭ", ("iso8859_3",)),
}

_THAI = "".join(chr(c) for c in range(0x0E01, 0x0E4F) if chr(c).isalpha() and chr(c) not in "ฃฅ")
# Languages in other alphabets: every letter of their words is one of these.
_CYRILLIC = ("cp1251", "iso8859_5")
_ALPHABETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Russian": ("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", (*_CYRILLIC, "koi8_r", "koi8_u", "cp866")),
    "Ukrainian": ("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя", (*_CYRILLIC, "koi8_u")),
    "Belarusian": ("абвгдеёжзійклмнопрстуўфхцчшыьэюя", _CYRILLIC),
    "Bulgarian": ("абвгдежзийклмнопрстуфхцчшщъьюя", (*_CYRILLIC, "koi8_r")),
    "Serbian": ("абвгдђежзијклљмнњопрстћуфхцчџш", _CYRILLIC),
    "Macedonian": ("абвгдѓежзѕијклљмнњопрстќуфхцчџш", _CYRILLIC),
    # Without ΐ and ΰ, which hardly any word has (Russian read as Windows-1253 has ΰ for every а).
    "Greek": ("αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋ", ("cp1253", "iso8859_7")),
    # Without ฃ and ฅ, letters Thai no longer uses (Big5 read as TIS-620 has them).
    "Thai": (_THAI, ("cp874", "tis_620")),
}

# Languages told by script (Unicode's name of a letter starts with it): the scripts a text of the
# language holds, and of them those it must hold.
_CHINESE = ("cp950", "big5", "big5hkscs", "gb18030", "gbk", "gb2312")
_JAPANESE = ("cp932", "shift_jis", "euc_jp", "euc_jis_2004")
_SCRIPTS: dict[str, tuple[frozenset[str], frozenset[str], tuple[str, ...]]] = {
    "Hebrew": (frozenset({"HEBREW"}), frozenset(), ("cp1255", "iso8859_8")),
    "Arabic": (frozenset({"ARABIC"}), frozenset(), ("cp1256", "iso8859_6")),
    "Korean": (frozenset({"HANGUL", "CJK"}), frozenset({"HANGUL"}), ("cp949", "euc_kr")),
    # Japanese names are often written in kanji alone.
    "Japanese": (frozenset({"CJK", "KANA"}), frozenset(), _JAPANESE),
    "Chinese": (frozenset({"CJK"}), frozenset(), _CHINESE),
}
# Letters of scripts that are written together in one word (Japanese mixes kanji and kana).
_SCRIPT_FAMILIES = {"HIRAGANA": "KANA", "KATAKANA": "KANA", "HALFWIDTH": "KANA", "FULLWIDTH": "LATIN"}


@cache
def _codec(name: str) -> str:
    return codecs.lookup(name).name


@cache
def _languages_of(encoding: str) -> tuple[str, ...]:
    """The languages a legacy encoding is used for (its Python codec name)."""
    tables: list[dict] = [_LATIN, _ALPHABETS, _SCRIPTS]
    return tuple(
        language
        for table in tables
        for language, entry in table.items()
        if encoding in {_codec(name) for name in entry[-1]}
    )


def language_of(text: str, encodings: Iterable[str] | None = None) -> str | None:
    """The language `text` is written in, among those its encodings (codec names that give this
    reading; None: any language) are used for: the first whose letters hold every non-ASCII letter
    of the text. None when no such language has them all, or the text has no letter beyond ASCII."""
    letters = {_lower(ch) for ch in text if not ch.isascii() and ch.isalpha()}
    if not letters:
        return None
    scripts = {script_of(ch) for ch in letters}
    languages = _ALL if encodings is None else (lang for name in encodings for lang in _languages_of(_codec(name)))
    for language in languages:
        if language in _SCRIPTS:
            allowed, needed, _ = _SCRIPTS[language]
            if not (scripts <= allowed and needed <= scripts and _common_enough(letters, language)):
                continue
        elif not letters <= _letters(language) or (language in _GRAVE_U_LAST and _grave_u_inside(text)):
            continue
        if language in _LATIN or not _mixes_ascii(text, language in _IDEOGRAPHIC):
            return language
    return None


# Languages whose ù ends a word ("où", "più"): inside one it is another letter misread (Polish
# "Wrocław" saved in Windows-1257 reads as "Wrocùaw" in Windows-1252).
_GRAVE_U_LAST = {"French", "Italian"}


def _grave_u_inside(text: str) -> bool:
    return any(ch in "ùÙ" and text[at + 1 : at + 2].isalpha() for at, ch in enumerate(text))


_IDEOGRAPHIC = {"Chinese", "Japanese", "Korean"}  # a word may hold plain letters too ("iPhone用")


def is_ideographic(language: str) -> bool:
    return language in _IDEOGRAPHIC


def _mixes_ascii(text: str, ideographic: bool) -> bool:
    """Whether a word has plain Latin letters beside letters of another alphabet ("ดฟฉyใธ"): words
    in Cyrillic, Greek, Hebrew, Arabic or Thai do not. Beside ideographs they may ("iPhone用"); but
    a word in halfwidth katakana has nothing else (GB18030 read as Shift_JIS: "ｾｮﾉﾏｽYﾒﾂ", "ﾄｾｴ裲夢ﾋ")."""
    for word in text.split():
        letters = [ch for ch in word if ch.isalpha()]
        halfwidth = [ch for ch in letters if "\uff61" <= ch <= "\uff9f"]
        if halfwidth and len(halfwidth) < len(letters):
            return True
        if not ideographic and any(ch.isascii() for ch in letters) and not all(ch.isascii() for ch in letters):
            return True
    return False


# Ideographs a text of the language is written in: (a codec, the range of lead bytes of its common
# ones). GB2312's first level is the 3,755 most used simplified hanzi, Big5's first part the 5,401
# most used traditional ones, JIS X 0208's first level the 2,965 most used kanji. Chinese or
# Japanese read from another encoding's bytes is ideographs too, but many of them rare ones.
_COMMON_IDEOGRAPHS = {
    "Chinese": (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6)),
    "Japanese": (("euc_jp", 0xB0, 0xCF),),
}  # (Korean has hanja of any level beside its hangul, and Japanese names in a Korean list)
# The share of a text's distinct ideographs that must be common ones, when it has this many.
MIN_COMMON_SHARE = 0.8
MIN_IDEOGRAPHS = 8


# The character sets texts of these languages are written in: a letter outside them (JIS X 0213's
# Ainu katakana, which EUC-JIS-2004 reads Big5 bytes as) is one no text of the language has.
_REPERTOIRES = {"Chinese": ("gbk", "cp950"), "Japanese": ("cp932", "euc_jp"), "Korean": ("cp949",)}


def _in_repertoire(letters: set[str], language: str) -> bool:
    return all(any(_encodes(ch, codec) for codec in _REPERTOIRES[language]) for ch in letters)


@cache
def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _common_enough(letters: set[str], language: str) -> bool:
    """Whether the letters are of the character set the language is written in, and (given enough
    ideographs) mostly its common ideographs."""
    if language in _REPERTOIRES and not _in_repertoire(letters, language):
        return False
    ideographs = [ch for ch in letters if script_of(ch) == "CJK"]
    if len(ideographs) < MIN_IDEOGRAPHS or language not in _COMMON_IDEOGRAPHS:
        return True  # a name or two: a rare character in it tells nothing
    common = sum(1 for ch in ideographs if _is_common(ch, language))
    if language == "Japanese" and not any(script_of(ch) == "KANA" for ch in letters):
        # Kanji alone: Chinese read from GB2312 bytes as EUC-JP is that too, with some of JIS X
        # 0208's second level among them (GB2312's common hanzi run into it).
        return common == len(ideographs)
    return common >= MIN_COMMON_SHARE * len(ideographs)


@cache
def _is_common(ch: str, language: str) -> bool:
    for codec, first, last in _COMMON_IDEOGRAPHS[language]:
        try:
            lead = ch.encode(codec)[0]
        except UnicodeEncodeError:
            continue
        if first <= lead <= last:
            return True
    return False


@cache
def _letters(language: str) -> frozenset[str]:
    return frozenset((_LATIN.get(language) or _ALPHABETS[language])[0])


_ALL = (*_LATIN, *_ALPHABETS, *_SCRIPTS)


def _lower(ch: str) -> str:
    lower = ch.lower()
    return lower if len(lower) == 1 else ch  # "İ" lowers to two characters: kept as it is


def script_of(ch: str) -> str:
    """The script of a letter, as the first word of its Unicode name ("CJK", "HANGUL", "LATIN"),
    kana as "KANA" and fullwidth Latin as "LATIN"."""
    word = unicodedata.name(ch, "").split(" ", 1)[0]
    return _SCRIPT_FAMILIES.get(word, word)
