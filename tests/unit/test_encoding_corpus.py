# ruff: noqa: RUF001
"""Encoding detection on a corpus: the same kind of rows (names, addresses, cities) in many languages,
each saved in the legacy encodings people bring, read through the whole Prepare path (plan_upload, then
read_chunk). Each file must arrive exactly as written, or be refused ENCODING_UNCERTAIN naming the
encoding it was saved in among the candidates: never imported wrong."""

from __future__ import annotations

import codecs
import random
import unicodedata

import pytest

from bulkimport.errors import FileError
from bulkimport.i18n.messages import render
from bulkimport.ingest.formats import detect_encoding
from tests.unit.test_parsing import Planned

ROWS = {
    "zh_TW": [
        ("王小明", "台北市信義區松仁路100號", "臺北市"),
        ("陳美玲", "高雄市前鎮區中華五路789號", "高雄市"),
        ("林志豪", "台中市西屯區台灣大道三段99號", "臺中市"),
        ("張淑芬", "新北市板橋區文化路一段188號", "新北市"),
        ("李建國", "桃園市中壢區中正路二段45號", "桃園市"),
        ("黃雅婷", "台南市東區大學路1號", "臺南市"),
    ],
    "zh_CN": [
        ("王小明", "北京市朝阳区建国路88号", "北京市"),
        ("李娜", "上海市浦东新区世纪大道100号", "上海市"),
        ("张伟", "广州市天河区体育西路191号", "广州市"),
        ("刘洋", "深圳市南山区科技园南区", "深圳市"),
        ("陈静", "成都市武侯区人民南路四段", "成都市"),
        ("杨帆", "杭州市西湖区文三路478号", "杭州市"),
    ],
    "ja": [
        ("山田太郎", "東京都千代田区丸の内一丁目9番1号", "東京"),
        ("佐藤花子", "大阪府大阪市北区梅田三丁目1番3号", "大阪"),
        ("鈴木一郎", "愛知県名古屋市中村区名駅一丁目", "名古屋"),
        ("高橋美咲", "北海道札幌市中央区北五条西", "札幌"),
        ("田中健太", "福岡県福岡市博多区博多駅中央街", "福岡"),
        ("渡辺さくら", "京都府京都市下京区烏丸通塩小路下ル", "京都"),
    ],
    "ko": [
        ("김민준", "서울특별시 강남구 테헤란로 152", "서울특별시"),
        ("이서연", "부산광역시 해운대구 해운대해변로 264", "부산광역시"),
        ("박지훈", "대구광역시 중구 동성로 12", "대구광역시"),
        ("최수아", "인천광역시 연수구 송도과학로 32", "인천광역시"),
        ("정우진", "광주광역시 서구 상무중앙로 110", "광주광역시"),
        ("강하은", "대전광역시 유성구 대학로 99", "대전광역시"),
    ],
    "ru": [
        ("Иванов Иван Петрович", "ул. Тверская, д. 7, кв. 12", "Москва"),
        ("Смирнова Анна Сергеевна", "Невский проспект, д. 28", "Санкт-Петербург"),
        ("Кузнецов Дмитрий", "ул. Ленина, д. 15", "Новосибирск"),
        ("Попова Елена Викторовна", "ул. Малышева, д. 36", "Екатеринбург"),
        ("Соколов Алексей", "пр. Победы, д. 101", "Казань"),
        ("Морозова Ольга", "ул. Большая Покровская, д. 3", "Нижний Новгород"),
    ],
    "uk": [
        ("Шевченко Тарас Григорович", "вул. Хрещатик, буд. 22", "Київ"),
        ("Коваленко Оксана", "вул. Дерибасівська, буд. 5", "Одеса"),
        ("Бондаренко Юрій", "просп. Свободи, буд. 14", "Львів"),
        ("Ткаченко Ірина", "вул. Сумська, буд. 37", "Харків"),
        ("Кравченко Євген", "просп. Яворницького, буд. 60", "Дніпро"),
        ("Олійник Марія", "вул. Соборна, буд. 9", "Запоріжжя"),
    ],
    "pl": [
        ("Łukasz Wiśniewski", "ul. Marszałkowska 104/122", "Warszawa"),
        ("Małgorzata Wójcik", "ul. Floriańska 15", "Kraków"),
        ("Krzysztof Kamiński", "ul. Piotrkowska 217", "Łódź"),
        ("Agnieszka Lewandowska", "ul. Świdnicka 40", "Wrocław"),
        ("Paweł Zieliński", "ul. Długa 81", "Gdańsk"),
        ("Żaneta Szymańska", "ul. Półwiejska 2", "Poznań"),
    ],
    "cs": [
        ("Jiří Dvořák", "Václavské náměstí 832/19", "Praha"),
        ("Petra Novotná", "Masarykova 427/31", "Brno"),
        ("Tomáš Černý", "Nádražní 1104/2", "Ostrava"),
        ("Kateřina Procházková", "Americká třída 2355", "Plzeň"),
        ("Lukáš Kučera", "Třída Svobody 956/31", "Olomouc"),
        ("Zuzana Veselá", "Žižkova 1818", "Liberec"),
    ],
    "el": [
        ("Γιώργος Παπαδόπουλος", "Οδός Ερμού 25", "Αθήνα"),
        ("Μαρία Κωνσταντίνου", "Λεωφόρος Νίκης 12", "Θεσσαλονίκη"),
        ("Νίκος Γεωργίου", "Οδός Μαιζώνος 48", "Πάτρα"),
        ("Ελένη Δημητρίου", "Οδός Κορωνιού 7", "Ηράκλειο"),
        ("Δημήτρης Νικολάου", "Οδός Ιουλιανού 30", "Λάρισα"),
        ("Σοφία Αθανασίου", "Οδός Δημητριάδος 101", "Βόλος"),
    ],
    "tr": [
        ("Mehmet Yılmaz", "Atatürk Caddesi No: 45", "İstanbul"),
        ("Ayşe Kaya", "Kızılay Mahallesi Gazi Mustafa Kemal Bulvarı 12", "Ankara"),
        ("Mustafa Demir", "Alsancak Kıbrıs Şehitleri Caddesi 8", "İzmir"),
        ("Fatma Şahin", "Çarşı Mahallesi Uzunçarşı Sokak 3", "Trabzon"),
        ("Ali Çelik", "Lara Güzeloba Mahallesi 27", "Antalya"),
        ("Zeynep Öztürk", "Nilüfer Görükle Mahallesi 16", "Bursa"),
    ],
    "he": [
        ("דוד כהן", "רחוב הרצל 12", "תל אביב"),
        ("שרה לוי", "שדרות רוטשילד 45", "ירושלים"),
        ("משה מזרחי", "רחוב הנביאים 8", "חיפה"),
        ("רחל פרץ", "רחוב ויצמן 33", "באר שבע"),
        ("יוסף ביטון", "רחוב בן יהודה 101", "נתניה"),
        ("מרים אברהם", "רחוב הגפן 5", "אשדוד"),
    ],
    "ar": [
        ("محمد أحمد", "شارع التحرير 15", "القاهرة"),
        ("فاطمة علي", "شارع الملك فهد 200", "الرياض"),
        ("أحمد حسن", "شارع الحمراء 34", "بيروت"),
        ("مريم خالد", "شارع الشيخ زايد 7", "دبي"),
        ("علي محمود", "شارع الرشيد 88", "بغداد"),
        ("نور يوسف", "شارع الجمهورية 12", "عمان"),
    ],
    "th": [
        ("สมชาย ใจดี", "123 ถนนสุขุมวิท แขวงคลองเตย", "กรุงเทพมหานคร"),
        ("สมหญิง รักไทย", "45 ถนนนิมมานเหมินท์", "เชียงใหม่"),
        ("ประยุทธ์ มั่นคง", "78 ถนนมิตรภาพ", "ขอนแก่น"),
        ("วิไลวรรณ สุขสันต์", "9 ถนนเพชรเกษม", "ภูเก็ต"),
        ("อนันต์ ทองดี", "200 ถนนกาญจนวนิช", "หาดใหญ่"),
        ("กนกวรรณ ศรีสุข", "56 ถนนราชดำเนิน", "นครราชสีมา"),
    ],
    "vi": [
        ("Nguyễn Văn An", "12 Đường Lê Lợi, Quận 1", "Thành phố Hồ Chí Minh"),
        ("Trần Thị Bình", "45 Phố Hàng Bạc, Hoàn Kiếm", "Hà Nội"),
        ("Lê Hoàng Cường", "78 Đường Bạch Đằng", "Đà Nẵng"),
        ("Phạm Thu Hà", "9 Đường Trần Phú", "Nha Trang"),
        ("Hoàng Minh Đức", "200 Đường 30 Tháng 4", "Cần Thơ"),
        ("Võ Thị Lan", "56 Đường Lê Duẩn", "Huế"),
    ],
    "fr": [
        ("François Lefèvre", "12 rue de la Paix", "Paris"),
        ("Hélène Dubois", "45 avenue Jean-Médecin", "Nice"),
        ("Jérôme Garçon", "8 place Bellecour", "Lyon"),
        ("Geneviève Martin", "3 quai des Chartrons", "Bordeaux"),
        ("Noël Bérénice", "101 boulevard de la Liberté", "Lille"),
        ("Zoë Lemaître", "5 rue Sainte-Catherine", "Strasbourg"),
    ],
    "de": [
        ("Jürgen Müller", "Königstraße 12", "Stuttgart"),
        ("Bärbel Schäfer", "Maximilianstraße 45", "München"),
        ("Günther Weiß", "Große Bleichen 8", "Hamburg"),
        ("Jörg Fuß", "Schloßstraße 33", "Dresden"),
        ("Uwe Köhler", "Kurfürstendamm 101", "Berlin"),
        ("Sören Groß", "Domplatz 5", "Köln"),
    ],
    "es": [
        ("José Muñoz", "Calle de Alcalá 45", "Madrid"),
        ("María Peña", "Passeig de Gràcia 12", "Barcelona"),
        ("Íñigo Martínez", "Gran Vía 8", "Bilbao"),
        ("Begoña Núñez", "Avenida de la Constitución 33", "Sevilla"),
        ("Ramón Ibáñez", "Calle Colón 101", "Valencia"),
        ("Lucía Cañete", "Calle Larios 5", "Málaga"),
    ],
}

# (language, encoding it is saved in, what detection must do: the codec it reads, or "uncertain").
# Readings that are alike with similar scores are told apart by the letters of the languages each
# encoding is for (ingest.languages): Czech in Windows-1250 also reads as Windows-1252 letters, Turkish
# in Windows-1254 as Windows-1252/1257, Polish or Czech in ISO-8859-2 as ISO-8859-10, but only one
# reading has the letters of one language. Vietnamese in Windows-1258 (written with combining marks)
# is still refused. (Greek in Windows-1253 also reads as Windows-1251 Cyrillic of similar scores, but
# with capitals inside words: that one is dropped.)
CORPUS = [
    ("zh_TW", "cp950", "cp950"),
    ("zh_TW", "big5", "cp950"),
    ("zh_TW", "big5hkscs", "cp950"),
    ("zh_CN", "gb18030", "gb18030"),
    ("zh_CN", "gb2312", "gb18030"),
    ("ja", "cp932", "cp932"),
    ("ja", "shift_jis", "cp932"),
    ("ja", "euc_jp", "euc_jp"),
    ("ko", "euc_kr", "cp949"),
    ("ko", "cp949", "cp949"),
    ("ru", "cp1251", "cp1251"),
    ("ru", "koi8_r", "koi8-r"),
    ("ru", "iso8859_5", "iso8859-5"),
    ("ru", "cp866", "cp866"),
    ("uk", "cp1251", "cp1251"),
    ("uk", "koi8_u", "koi8-u"),
    ("pl", "cp1250", "cp1250"),
    ("pl", "iso8859_2", "iso8859-2"),
    ("cs", "cp1250", "cp1250"),
    ("cs", "iso8859_2", "iso8859-2"),
    ("el", "cp1253", "cp1253"),
    ("el", "iso8859_7", "cp1253"),
    ("tr", "cp1254", "cp1254"),
    ("tr", "iso8859_9", "cp1254"),
    ("he", "cp1255", "cp1255"),
    ("he", "iso8859_8", "cp1255"),
    ("ar", "cp1256", "cp1256"),
    ("ar", "iso8859_6", "iso8859-6"),
    ("th", "tis_620", "cp874"),
    ("th", "cp874", "cp874"),
    ("vi", "cp1258", "uncertain"),
    ("fr", "cp1252", "cp1252"),
    ("fr", "iso8859_1", "cp1252"),
    ("fr", "iso8859_15", "cp1252"),
    ("de", "cp1252", "cp1252"),
    ("de", "iso8859_1", "cp1252"),
    ("es", "cp1252", "cp1252"),
    ("es", "iso8859_15", "cp1252"),
]


def csv_text(language: str, repeat: int) -> str:
    lines = ["id,name,address,city,note"]
    for n, (name, address, city) in enumerate(ROWS[language] * repeat, 1):
        lines.append(f'C{n:04d},{name},"{address}",{city},{n * 7}')
    return "\r\n".join(lines) + "\r\n"


def as_saved(text: str, encoding: str) -> str:
    """The text as the encoding can hold it: Windows-1258 writes most Vietnamese tones as a letter
    and a combining mark (ễ is ê and a combining tilde), as Windows itself saves it."""
    if encoding != "cp1258":
        return text
    out = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            for mark in marks:  # a letter Windows-1258 has (ê, ơ), then the tone as a mark
                letter = unicodedata.normalize("NFC", base + mark)
                if len(letter) == 1 and letter.encode(encoding, "ignore"):
                    marks.remove(mark)
                    base = letter
                    break
            out.append(base + "".join(marks))
    return "".join(out)


def expected_cells(language: str, repeat: int, encoding: str) -> list[list[str]]:
    return [
        [f"C{n:04d}", *(as_saved(cell, encoding) for cell in row), str(n * 7)]
        for n, row in enumerate(ROWS[language] * repeat, 1)
    ]


@pytest.mark.parametrize("repeat", [1, 2, 6], ids=["~350B", "~700B", "~2KB"])
@pytest.mark.parametrize(("language", "encoding", "expected"), CORPUS, ids=[f"{c[0]}-{c[1]}" for c in CORPUS])
def test_every_file_arrives_intact_or_is_refused_never_guessed_wrong(language, encoding, expected, repeat):
    data = as_saved(csv_text(language, repeat), encoding).encode(encoding)
    try:
        planned = Planned(data, chunk_rows=5)
    except FileError as error:
        assert error.code == "ENCODING_UNCERTAIN", error.params
        candidates = error.params["candidates"].split(", ")
        assert 2 <= len(candidates) <= 3
        text = data.decode(encoding)  # the encoding it was saved in, or one that reads it alike, is named
        assert any(data.decode(name, "replace") == text for name in candidates), candidates
        assert error.params["example"] == candidates[0]
        assert "options.encoding" in render(error.code, error.params)
        assert expected == "uncertain", f"{encoding} {language} refused, candidates {candidates}"
        return
    assert expected != "uncertain", f"{encoding} {language} read as {planned.plan.encoding}"
    assert planned.cells() == expected_cells(language, repeat, encoding)
    assert planned.plan.encoding == expected


def test_the_recipe_encoding_is_used_where_detection_is_unsure():
    data = as_saved(csv_text("vi", 2), "cp1258").encode("cp1258")
    with pytest.raises(FileError) as caught:
        detect_encoding(data, "auto")
    assert caught.value.code == "ENCODING_UNCERTAIN"
    assert "cp1258" in caught.value.params["candidates"]
    planned = Planned(data, encoding="cp1258")
    assert planned.cells()[0] == ["C0001", *(as_saved(cell, "cp1258") for cell in ROWS["vi"][0]), "7"]


def test_the_testers_files_no_longer_import_as_mojibake():
    korean = "이름,도시\r\n김민준,서울특별시\r\n이서연,부산광역시\r\n".encode("euc_kr")
    russian = "Имя,Город\r\nИванов,Москва\r\nСмирнова,Санкт-Петербург\r\n".encode("cp1251")
    for data, city in ((korean, "서울특별시"), (russian, "Москва")):
        try:
            planned = Planned(data)
        except FileError as error:
            assert error.code == "ENCODING_UNCERTAIN"
            continue
        assert planned.cells()[0][1] == city


def test_detection_reads_the_sample_once_and_is_quick():
    import time

    data = (csv_text("ru", 1) * 400).encode("cp1251")[: 256 * 1024]
    started = time.monotonic()
    assert detect_encoding(data, "auto").name == "cp1251"
    assert time.monotonic() - started < 5


def test_names_in_candidates_are_codecs_a_recipe_accepts():
    with pytest.raises(FileError) as caught:
        detect_encoding(as_saved(csv_text("vi", 2), "cp1258").encode("cp1258"), "auto")
    for name in caught.value.params["candidates"].split(", "):
        codecs.lookup(name)
        assert detect_encoding(b"a\n", name).name == codecs.lookup(name).name


@pytest.mark.parametrize("rows", [(1, 3), (4, 8)], ids=["1-3 rows", "4-8 rows"])
def test_short_files_of_random_rows_are_never_read_wrong(rows):
    """Short samples are where the scores are weakest: a few rows drawn at random, in every pairing."""
    rng = random.Random(20261126)
    for language, encoding, _ in CORPUS:
        for _ in range(12):
            picked = rng.sample(ROWS[language] * 2, rng.randint(*rows))
            text = as_saved(
                "id,name,address,city\r\n" + "".join(f"{n},{a},{b},{c}\r\n" for n, (a, b, c) in enumerate(picked)),
                encoding,
            )
            data = text.encode(encoding)
            try:
                found = detect_encoding(data, "auto")
            except FileError as error:
                assert error.code == "ENCODING_UNCERTAIN"
                continue
            assert data.decode(found.name) == text, (language, encoding, found.name)
