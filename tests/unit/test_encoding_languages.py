# ruff: noqa: RUF001
"""Encodings detected by language (issue 29): legacy-encoded files of a few dozen names import intact
with `encoding: auto`, and no file of any language, in any encoding we detect, is ever read wrong:
detection reads it exactly as written or refuses it ENCODING_UNCERTAIN."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkimport.errors import FileError
from bulkimport.ingest.formats import DETECTABLE_ENCODINGS, detect_encoding
from bulkimport.ingest.languages import language_of
from tests.unit.test_encoding_corpus import ROWS, as_saved
from tests.unit.test_parsing import Planned
from tests.unit.test_reader_properties import BOUNDED

# Given names and family names, as a file of people lists them ("family given" in East Asia).
NAMES = {
    "ru": (
        [
            "Александр",
            "Дмитрий",
            "Максим",
            "Сергей",
            "Андрей",
            "Алексей",
            "Иван",
            "Михаил",
            "Наталья",
            "Елена",
            "Ольга",
            "Татьяна",
            "Мария",
            "Анна",
            "Юлия",
            "Екатерина",
        ],
        [
            "Иванов",
            "Смирнов",
            "Кузнецов",
            "Попов",
            "Васильев",
            "Петров",
            "Соколов",
            "Михайлов",
            "Новиков",
            "Фёдоров",
            "Морозов",
            "Волков",
            "Алексеев",
            "Лебедев",
            "Семёнов",
            "Егоров",
        ],
    ),
    "el": (
        [
            "Γιώργος",
            "Κωνσταντίνος",
            "Δημήτρης",
            "Νίκος",
            "Παναγιώτης",
            "Βασίλης",
            "Χρήστος",
            "Μαρία",
            "Ελένη",
            "Αικατερίνη",
            "Βασιλική",
            "Σοφία",
            "Αγγελική",
            "Ευαγγελία",
            "Δέσποινα",
            "Ιωάννα",
        ],
        [
            "Παπαδόπουλος",
            "Βλάχος",
            "Αγγελόπουλος",
            "Νικολάου",
            "Γεωργίου",
            "Παπαγεωργίου",
            "Οικονόμου",
            "Μακρής",
            "Δημητρίου",
            "Ιωάννου",
            "Κωνσταντίνου",
            "Αντωνίου",
            "Χριστοδούλου",
            "Παππάς",
            "Καραγιάννης",
            "Σταθόπουλος",
        ],
    ),
    "tr": (
        [
            "Mehmet",
            "Mustafa",
            "Ahmet",
            "Ali",
            "Hüseyin",
            "Hasan",
            "İbrahim",
            "İsmail",
            "Fatma",
            "Ayşe",
            "Emine",
            "Hatice",
            "Zeynep",
            "Elif",
            "Şükrü",
            "Gülşen",
        ],
        [
            "Yılmaz",
            "Kaya",
            "Demir",
            "Şahin",
            "Çelik",
            "Yıldız",
            "Yıldırım",
            "Öztürk",
            "Aydın",
            "Özdemir",
            "Arslan",
            "Doğan",
            "Kılıç",
            "Aslan",
            "Çetin",
            "Kara",
        ],
    ),
    "pl": (
        [
            "Łukasz",
            "Paweł",
            "Krzysztof",
            "Michał",
            "Tomasz",
            "Piotr",
            "Jakub",
            "Małgorzata",
            "Agnieszka",
            "Żaneta",
            "Katarzyna",
            "Joanna",
            "Elżbieta",
            "Grażyna",
            "Wojciech",
            "Bartłomiej",
        ],
        [
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jankowski",
            "Mazur",
            "Kwiatkowski",
            "Krawczyk",
        ],
    ),
    "ko": (
        [
            "민준",
            "서연",
            "지훈",
            "수아",
            "우진",
            "하은",
            "도윤",
            "지우",
            "서준",
            "하윤",
            "예준",
            "지민",
            "시우",
            "채원",
            "주원",
            "지아",
        ],
        ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황"],
    ),
    "ja": (
        [
            "太郎",
            "花子",
            "一郎",
            "美咲",
            "健太",
            "さくら",
            "翔太",
            "陽菜",
            "大輔",
            "結衣",
            "拓也",
            "愛",
            "直樹",
            "葵",
            "亮",
            "七海",
        ],
        [
            "山田",
            "佐藤",
            "鈴木",
            "高橋",
            "田中",
            "渡辺",
            "伊藤",
            "中村",
            "小林",
            "加藤",
            "吉田",
            "山本",
            "松本",
            "井上",
            "木村",
            "林",
        ],
    ),
    "zh_TW": (
        [
            "小明",
            "美玲",
            "志豪",
            "淑芬",
            "建國",
            "雅婷",
            "冠宇",
            "怡君",
            "家豪",
            "佩珊",
            "俊傑",
            "宜蓁",
            "承翰",
            "欣怡",
            "宗翰",
            "詩涵",
        ],
        ["王", "陳", "林", "張", "李", "黃", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪", "曾"],
    ),
    "zh_CN": (
        ["小明", "娜", "伟", "洋", "静", "帆", "磊", "敏", "军", "丽", "强", "艳", "勇", "霞", "杰", "涛"],
        ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林"],
    ),
}
FAMILY_FIRST = {"ko", "ja", "zh_TW", "zh_CN"}

# What v1.2 promises: these import intact without options.encoding.
PROMISED = [
    ("ru", "cp1251"),
    ("ru", "koi8_r"),
    ("el", "cp1253"),
    ("tr", "cp1254"),
    ("pl", "cp1250"),
    ("ko", "euc_kr"),
    ("ja", "shift_jis"),
    ("zh_TW", "big5"),
    ("zh_CN", "gb18030"),
]


def people(language: str, count: int, rng: random.Random) -> list[str]:
    given, family = NAMES[language]
    picked = [(rng.choice(given), rng.choice(family)) for _ in range(count)]
    return [f"{f}{g}" if language in FAMILY_FIRST else f"{g} {f}" for g, f in picked]


def names_file(names: list[str]) -> str:
    return "id,name\r\n" + "".join(f"{n},{name}\r\n" for n, name in enumerate(names, 1))


@pytest.mark.parametrize("count", [20, 30, 40, 60])
@pytest.mark.parametrize(("language", "encoding"), PROMISED, ids=[f"{lang}-{enc}" for lang, enc in PROMISED])
def test_a_few_dozen_names_import_intact(language, encoding, count):
    for seed in range(6):
        text = names_file(people(language, count, random.Random(f"{language}{count}{seed}")))
        planned = Planned(text.encode(encoding))
        assert [row[1] for row in planned.cells()] == [line.split(",")[1] for line in text.splitlines()[1:]]
        assert planned.plan.encoding  # the codec that reads it, e.g. cp950 for Big5


def test_the_tester_files_import_intact():
    """The six short files the issue's tester brought: four were refused ENCODING_UNCERTAIN."""
    files = [("tr", "cp1254"), ("ko", "euc_kr"), ("pl", "cp1250"), ("zh_CN", "gb18030"), ("ru", "koi8_r")]
    for language, encoding in files:
        text = names_file(people(language, 36, random.Random(language)))
        assert detect_encoding(text.encode(encoding), "auto").name and Planned(text.encode(encoding)).cells()


def _encodings_holding(text: str) -> list[str]:
    found = []
    for encoding in DETECTABLE_ENCODINGS:
        try:
            if as_saved(text, encoding).encode(encoding).decode(encoding) == as_saved(text, encoding):
                found.append(encoding)
        except UnicodeError:
            continue
    return found


LANGUAGES = sorted(set(NAMES) | set(ROWS))


@st.composite
def saved_files(draw) -> tuple[str, str]:
    """Text of one language (or two, mixed), names or rows of names, addresses and cities, a few
    lines to a few dozen, saved in any encoding that holds it."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    languages = draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True))
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        language = rng.choice(languages)
        if language in NAMES and (language not in ROWS or rng.random() < 0.5):
            lines.append(people(language, 1, rng)[0])
        else:
            lines.append(",".join(rng.choice(ROWS[language])))
    text = names_file(lines)
    encodings = _encodings_holding(text)
    if not encodings:
        text = names_file([line for line in lines if line in lines[:1]])
        encodings = _encodings_holding(text) or ["utf-8"]
    return text, draw(st.sampled_from(encodings))


@settings(BOUNDED, max_examples=2000)
@given(saved_files())
def test_no_file_is_ever_read_in_another_encoding(saved):
    text, encoding = saved
    text = as_saved(text, encoding)
    data = text.encode(encoding)
    try:
        found = detect_encoding(data, "auto")
    except FileError as error:
        assert error.code == "ENCODING_UNCERTAIN"
        return
    assert data[found.bom :].decode(found.name, errors="replace") == text, (encoding, found.name)


def test_the_languages_each_encoding_is_for():
    assert language_of("Şahin Yılmaz İstanbul", ["cp1254"]) == "Turkish"
    assert language_of("Žahin Yżlmaz", ["cp1257"]) is None  # Turkish read as Windows-1257
    assert language_of("Łódź", ["cp1252"]) is None  # Polish is not written in Windows-1252
    assert language_of("Łódź", ["cp1250"]) == "Polish"
    assert language_of("김민준", ["cp949"]) == "Korean"
    assert language_of("山田太郎", ["cp932"]) == "Japanese"
    assert language_of("Москва", None) == "Russian"
    assert language_of("plain ASCII", None) is None
