"""Form 057/у read back from the PDF: every value, every printed caption, fonts, size, marks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from printing.page import PrintOptions
from printing.referral_057 import Address, render_referral_057
from tests.printing.conftest import (
    gray_page,
    page_count,
    pdf_info,
    pdf_text,
    pdf_words,
    poppler,
    sample_referral,
)

CAPTIONS = [
    "Наименование и адрес медицинской организации в пределах места нахождения (фамилия, имя, "
    "отчество (при наличии) индивидуального предпринимателя и адрес осуществления медицинской "
    "деятельности)",
    "Основной государственный регистрационный номер (Основной государственный регистрационный "
    "номер индивидуального предпринимателя)",
    "Медицинская документация",
    "Учетная форма № 057/у",
    "Утверждена приказом Министерства здравоохранения Российской Федерации от «02» сентября "
    "2025 г. № 519н",
    "НАПРАВЛЕНИЕ ДЛЯ ОКАЗАНИЯ МЕДИЦИНСКОЙ ПОМОЩИ № 2025-000123",
    "Дата заполнения направления: число 05 месяц ноября год 2025",
    "(наименование медицинской организации, куда направлен пациент)",
    "Полис обязательного медицинского страхования:",
    "дата выдачи полиса обязательного медицинского страхования: число 14 месяц марта год",
    "данные о страховой медицинской организации, выбранной застрахованным лицом или "
    "определенной застрахованному лицу",
    "Фамилия, имя, отчество (при наличии) пациента",
    "Дата рождения: « 07 » января 1980 г. Пол: муж – 1, жен – 2",
    "Регистрация по месту жительства: субъект Российской Федерации",
    "Регистрация по месту пребывания: субъект Российской Федерации",
    "район",
    "населенный пункт",
    "улица",
    "дом",
    "строение/корпус",
    "квартира",
    "Местность: городская – 1, сельская – 2",
    "Занятость: работает – 1, проходит военную службу или приравненную к ней службу – 2, "
    "пенсионер – 3, обучающийся – 4, не работает – 5, прочие – 6",
    "Код диагноза по Международной статистической классификации болезней и проблем, связанных "
    "со здоровьем",
    "Направляется для оказания медицинской помощи:",
    "форма: экстренная – 1, неотложная – 2, плановая – 3;",
    "вид: первичная медико-санитарная помощь, в том числе специализированная – 1, "
    "специализированная, в том числе высокотехнологичная медицинская помощь – 2, паллиативная "
    "медицинская помощь – 3; скорая специализированная медицинская помощь – 4;",
    "условия: амбулаторно – 1; в дневном стационаре – 2; стационарно – 3.",
    "Обоснование (показания) направления с указанием числа назначаемых курсов (циклов) лечения",
    "Должность, специальность медицинского работника, направившего пациента",
    "(подпись)",
    "Фамилия, имя, отчество (при наличии)",
    "М.П. (при наличии)",
]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_referral_057(sample_referral())


def test_every_value_comes_out_in_the_text(pdf: bytes) -> None:
    d = sample_referral()
    text = pdf_text(pdf)
    addresses = [d.residence, d.stay]
    values = [
        d.organisation, d.ogrn, d.number, d.destination, d.policy_number, d.insurer,
        d.patient_name, d.diagnosis, d.purpose, d.justification, d.referrer_position,
        d.referrer_name, "05", "ноября", "2025", "14", "марта", "2019", "07", "января", "1980",
        *(getattr(a, f) for a in addresses for f in ("subject", "district", "locality",
                                                     "street", "house", "building", "apartment")),
    ]  # fmt: skip
    missing = [v for v in values if v not in text]
    assert missing == [], text


def test_every_printed_caption_comes_out_in_the_text(pdf: bytes) -> None:
    text = pdf_text(pdf)
    missing = [c for c in CAPTIONS if c not in text]
    assert missing == [], text


def test_fonts_are_embedded_and_cyrillic_survives(pdf: bytes) -> None:
    rows = poppler("pdffonts", "-", data=pdf).decode().splitlines()[2:]
    assert rows, "no fonts at all"
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", f"{name} is not embedded: {row}"
        assert "LiberationSerif" in name, row
    assert "Щукина Анна Петровна" in pdf_text(pdf)
    assert "Ёлкин Сергей Иванович" in pdf_text(pdf)  # «Ё» too


def test_page_is_a4_portrait(pdf: bytes, tmp_path: Path) -> None:
    assert page_count(pdf) == 1
    width, height, _ = gray_page(pdf, tmp_path, dpi=50)
    assert width == pytest.approx(210 / 25.4 * 50, abs=1)  # 413.4 px
    assert height == pytest.approx(297 / 25.4 * 50, abs=1)  # 584.6 px


def test_metadata_names_the_document_and_arm(pdf: bytes) -> None:
    info = pdf_info(pdf)
    assert info["Title"] == "Направление 057/у № 2025-000123"
    assert info["Creator"] == "ARM"
    assert info["Author"] == "Ёлкин Сергей Иванович"
    assert "057/у" in info["Subject"]


def test_same_data_gives_the_same_bytes(pdf: bytes) -> None:
    assert render_referral_057(sample_referral()) == pdf
    assert render_referral_057(sample_referral(number="2025-000124")) != pdf


@pytest.mark.parametrize(
    ("options", "marks", "absent"),
    [
        (PrintOptions(duplicate=True), ["ДУБЛИКАТ"], ["ЧЕРНОВИК"]),
        (PrintOptions(draft=True), ["ЧЕРНОВИК — не заменяет бланк"], ["ДУБЛИКАТ"]),
        (
            PrintOptions(duplicate=True, draft=True),
            ["ДУБЛИКАТ", "ЧЕРНОВИК — не заменяет бланк"],
            [],
        ),
        (PrintOptions(), [], ["ДУБЛИКАТ", "ЧЕРНОВИК"]),
    ],
)
def test_duplicate_and_draft_marks(
    options: PrintOptions, marks: list[str], absent: list[str]
) -> None:
    pdf = render_referral_057(sample_referral(), options)
    text = pdf_text(pdf)
    for mark in marks:
        assert text.count(mark) == 1, text  # the boxed mark; the diagonal one is shapes only
    for mark in absent:
        assert mark not in text
    assert sample_referral().justification in text  # the marks scatter nothing into the text


def test_duplicate_mark_is_on_every_page() -> None:
    long = sample_referral(justification=" ".join(["обоснование"] * 1500))
    pdf = render_referral_057(long, PrintOptions(duplicate=True))
    pages = page_count(pdf)
    assert pages >= 2  # far beyond the 800 characters the service allows: it continues
    per_page = [w.page for w in pdf_words(pdf) if w.text == "ДУБЛИКАТ"]
    assert sorted(per_page) == list(range(1, pages + 1))


def test_offset_moves_everything_right_and_down() -> None:
    def where(pdf: bytes, word: str) -> tuple[float, float]:
        return next((w.x0, w.y0) for w in pdf_words(pdf) if w.text == word)

    plain = render_referral_057(sample_referral())
    moved = render_referral_057(sample_referral(), PrintOptions(offset_mm=(5, 3)))
    for word in ("Медицинская", "Щукина", "(подпись)"):
        (x0, y0), (x1, y1) = where(plain, word), where(moved, word)
        assert x1 - x0 == pytest.approx(5 * 72 / 25.4, abs=0.05)  # 14.17 pt
        assert y1 - y0 == pytest.approx(3 * 72 / 25.4, abs=0.05)  # 8.50 pt, down the page


def test_hostile_lengths_stay_on_one_page_with_every_word() -> None:
    word = "Аденокарциномаподжелудочнойжелезы" * 3  # 99 letters, wider than no line
    justification = " ".join([word] * 9)[:800]
    destination = ("ФГБУ «Национальный медицинский исследовательский центр» Минздрава России " * 5)[
        :300
    ]
    d = sample_referral(
        justification=justification,
        destination=destination,
        organisation="О" * 400,
        purpose="компьютерная томография органов грудной полости с контрастированием " * 4,
        insurer="АО «СОГАЗ-Мед» " * 20,
        stay=Address(*(["Проектируемыйпроезд№4062"] * 7)),
        cito=True,
    )
    pdf = render_referral_057(d, PrintOptions(duplicate=True, draft=True))
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    squeezed = text.replace(" ", "")
    for value in (justification, destination, d.organisation, d.insurer, d.purpose):
        assert value.replace(" ", "") in squeezed  # cut between letters at most, never dropped
    assert "…" not in text
    assert "CITO" in text
    # Nothing beyond the margins: every word inside the page less 10 mm (15 on the left).
    mm = 72 / 25.4
    outside = [
        w
        for w in pdf_words(pdf)
        if not (15 * mm - 0.5 <= w.x0 <= w.x1 <= 200 * mm + 0.5)
        or not (10 * mm - 0.5 <= w.y0 <= w.y1 <= 287 * mm + 0.5)
    ]
    assert outside == []


def _dark_under(pixels: tuple[int, int, bytes], word_box: tuple[float, float, float, float],
                dpi: int) -> float:  # fmt: skip
    """The darkest row's share of dark pixels in the band just under a word (its underline)."""
    width, _height, data = pixels
    x0, _y0, x1, y1 = (v * dpi / 72 for v in word_box)
    best = 0.0
    for row in range(int(y1) - 3, int(y1) + 3):
        cols = range(int(x0) + 2, int(x1) - 2)
        dark = sum(1 for c in cols if data[row * width + c] < 128)
        best = max(best, dark / len(cols))
    return best


def test_chosen_answers_are_underlined_and_the_others_are_not(tmp_path: Path) -> None:
    d = sample_referral(sex=1, locality_type=2, employment=4, care_form=1, care_kind=3,
                        care_conditions=2)  # fmt: skip
    pdf = render_referral_057(d)
    dpi = 150
    pixels = gray_page(pdf, tmp_path, dpi=dpi)
    words = pdf_words(pdf)

    def underline(text: str) -> float:
        w = next(w for w in words if w.text == text)
        return _dark_under(pixels, (w.x0, w.y0, w.x1, w.y1), dpi)

    chosen = ["муж", "сельская", "обучающийся", "экстренная", "паллиативная", "дневном"]
    others = ["жен", "городская", "пенсионер", "плановая", "амбулаторно", "стационарно"]
    assert [underline(t) > 0.9 for t in chosen] == [True] * len(chosen)
    assert [underline(t) < 0.2 for t in others] == [True] * len(others)


def test_an_unchosen_answer_and_missing_dates_leave_blanks_to_fill() -> None:
    d = sample_referral(locality_type=None, employment=None, stay=None, policy_issued_on=None)
    text = pdf_text(render_referral_057(d))
    assert "дата выдачи полиса обязательного медицинского страхования: число месяц год" in text
    assert "Регистрация по месту пребывания: субъект Российской Федерации район" in text


@pytest.mark.parametrize("bad", [(31.0, 0.0), (0.0, float("nan"))])
def test_absurd_offsets_are_refused(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="Смещение печати"):
        PrintOptions(offset_mm=bad)


def test_cito_mark_only_when_urgent() -> None:
    assert "CITO" not in pdf_text(render_referral_057(sample_referral()))
    assert "CITO" in pdf_text(render_referral_057(replace(sample_referral(), cito=True)))
