"""The three prescription blanks of 1094н read back from their PDFs: values, paper, marks, overlay."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from printing.page import PrintOptions
from printing.prescription import (
    Organisation,
    Prescriber,
    PrescriptionItem,
    PrescriptionPatient,
    full_months,
)
from printing.prescription_107 import Prescription107, render_prescription_107
from printing.prescription_148_04 import Prescription148_04, render_prescription_148_04
from printing.prescription_148_88 import Prescription148_88, render_prescription_148_88
from tests.printing.conftest import Word, gray_page, page_count, pdf_info, pdf_text, pdf_words

MM = 72 / 25.4  # points per millimetre

ORG = Organisation(
    name="ГБУЗ «Городская поликлиника № 12 ДЗМ»",
    address="117042, г. Москва, ул. Южнобутовская, д. 87",
    phone="+7 (495) 711-22-33",
    ogrn="1027739812345",
    okpo="01928374",
)
PATIENT = PrescriptionPatient(
    name="Щукина А. П.",
    birth_date=dt.date(1950, 1, 7),
    snils="123-456-789 64",
    policy="7755110000123456",
    card_number="12-3456/2019",
    address="г. Москва, ул. Грина, д. 7, корп. 2, кв. 115",
)
DOCTOR = Prescriber("Ёлкин С. И.")
AMLODIPINE = PrescriptionItem(
    drug="Amlodipinum (Амлодипин)",
    form="таблетки",
    strength="5 мг",
    quantity="№ 30 (тридцать)",
    signa="Внутрь по 1 таблетке 1 раз в день утром",
    route="внутрь",
    days=30,
    times_per_day=1,
    per_dose="1 таблетка",
)
METFORMIN = PrescriptionItem(
    drug="Metforminum (Метформин)",
    form="таблетки, покрытые пленочной оболочкой",
    strength="1000 мг",
    quantity="№ 60 (шестьдесят)",
    signa="Внутрь по 1 таблетке 2 раза в день во время еды",
)
FENTANYL = PrescriptionItem(
    drug="Fentanylum (Фентанил)",
    form="трансдермальная терапевтическая система",
    strength="25 мкг/ч",
    quantity="№ 5 (пять)",
    signa="Наклеивать по 1 пластырю на 72 часа",
)
LONG = PrescriptionItem(
    drug="Ацетилсалициловая кислота + Магния гидроксид (Acidum acetylsalicylicum + Magnesii "
    "hydroxydum) Кардиомагнилпролонгированногодействияфорте",
    form="таблетки, покрытые пленочной оболочкой",
    strength="75 мг + 15,2 мг",
    quantity="№ 100 (сто)",
    signa="Внутрь по 1 таблетке 1 раз в день вечером после еды, запивая водой, длительно, "
    "под контролем общего анализа крови и коагулограммы каждые три месяца, при появлении "
    "кровоточивости дёсен или чёрного стула немедленно обратиться к врачу",
    route="внутрь",
    days=90,
    times_per_day=1,
    per_dose="1 таблетка",
)


def rx107(**changes: object) -> Prescription107:
    base = Prescription107(
        organisation=ORG,
        issued_on=dt.date(2025, 11, 5),
        patient=PATIENT,
        prescriber=DOCTOR,
        items=(AMLODIPINE, METFORMIN),
        validity_days=180,
        special_purpose=True,
        dispense_interval="ежемесячно",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def rx04(**changes: object) -> Prescription148_04:
    base = Prescription148_04(
        organisation=ORG,
        series="45-25",
        number="0012345",
        issued_on=dt.date(2025, 11, 5),
        category_code="081",
        mkb="I11.9",
        funding=2,
        payment=1,
        patient=PATIENT,
        prescriber=DOCTOR,
        item=AMLODIPINE,
        validity_days=30,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def rx88(**changes: object) -> Prescription148_88:
    base = Prescription148_88(
        organisation=ORG,
        series="АБ",
        number="1234",
        issued_on=dt.date(2025, 11, 5),
        patient=PATIENT,
        prescriber=DOCTOR,
        item=FENTANYL,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def squeezed(pdf: bytes) -> str:
    return pdf_text(pdf).replace(" ", "")


def rows(pdf: bytes) -> list[str]:
    """Each printed row's words joined left to right without spaces (cells read as a value)."""
    by_row: dict[tuple[int, int], list[Word]] = defaultdict(list)
    for w in pdf_words(pdf):
        by_row[(w.page, round(w.y1))].append(w)
    return ["".join(w.text for w in sorted(ws, key=lambda w: w.x0)) for ws in by_row.values()]


def in_cells(pdf: bytes, value: str) -> bool:
    """``value`` (spaces dropped) stands in one row of the page, character after character."""
    target = value.replace(" ", "")
    return any(target in row for row in rows(pdf))


def dark_under(pdf: bytes, tmp_path: Path, word: Word, *, dpi: int = 150) -> float:
    """The darkest pixel row's share of dark pixels just under ``word`` (its underline)."""
    width, _h, data = gray_page(pdf, tmp_path, dpi=dpi)
    x0, x1, y1 = (v * dpi / 72 for v in (word.x0, word.x1, word.y1))
    cols = range(int(x0) + 2, int(x1) - 2)
    best = 0.0
    for row in range(int(y1) - 3, int(y1) + 4):
        best = max(best, sum(1 for c in cols if data[row * width + c] < 128) / len(cols))
    return best


def find(pdf: bytes, text: str, nth: int = 0) -> Word:
    """The ``nth`` word reading ``text`` once brackets and commas are set aside."""
    return [w for w in pdf_words(pdf) if w.text.strip("(),") == text][nth]


A5_PX = (148 / 25.4 * 50, 210 / 25.4 * 50)  # 291.3 × 413.4 px at 50 dpi


def assert_a5(pdf: bytes, tmp_path: Path) -> None:
    width, height, _ = gray_page(pdf, tmp_path, dpi=50)
    assert width == pytest.approx(A5_PX[0], abs=1)
    assert height == pytest.approx(A5_PX[1], abs=1)


# --- 107-1/у -------------------------------------------------------------------------------------


def test_107_prints_every_value_and_caption() -> None:
    pdf = render_prescription_107(rx107())
    text = pdf_text(pdf)
    values = [
        ORG.name, ORG.address, ORG.phone, ORG.okpo, "Щукина А. П.", "07.01.1950", "Ёлкин С. И.",
        "«05» ноября 2025 г.", "Amlodipinum (Амлодипин), таблетки, 5 мг", "№ 30 (тридцать)",
        AMLODIPINE.signa, "Metforminum (Метформин), таблетки, покрытые пленочной оболочкой, 1000 мг",
        "№ 60 (шестьдесят)", METFORMIN.signa, "По специальному назначению", "ежемесячно", "180",
    ]  # fmt: skip
    captions = [
        "Министерство здравоохранения Российской Федерации",
        "Код формы по ОКУД", "Код учреждения по ОКПО",
        "Наименование (штамп) медицинской организации",
        "Наименование (штамп) индивидуального предпринимателя",
        "Медицинская документация", "Форма № 107-1/у",
        "Утверждена приказом Министерства здравоохранения Российской Федерации от 24 ноября "
        "2021 г. № 1094н",
        "РЕЦЕПТ", "(взрослый, детский – нужное подчеркнуть)",
        "Фамилия, инициалы имени и отчества (последнее – при наличии) пациента",
        "Дата рождения",
        "Фамилия, инициалы имени и отчества (последнее – при наличии) лечащего врача "
        "(фельдшера, акушерки)",
        "руб. коп. Rp.", "D.t.d.", "S.", "Подпись и печать лечащего врача", "М.П.",
        "(подпись фельдшера, акушерки)", "Рецепт действителен в течение 60 дней, до 1 года",
        "(нужное подчеркнуть)", "(указать количество дней)",
    ]  # fmt: skip
    assert [v for v in values + captions if v not in text] == [], text
    assert text.count("Rp.") == 3  # three blocks, the third struck through


def test_107_is_one_a5_page_with_metadata(tmp_path: Path) -> None:
    pdf = render_prescription_107(rx107())
    assert page_count(pdf) == 1
    assert_a5(pdf, tmp_path)
    info = pdf_info(pdf)
    assert info["Creator"] == "ARM"
    assert "107-1/у" in info["Subject"]
    assert info["Author"] == "Ёлкин С. И."


def test_107_same_data_same_bytes() -> None:
    pdf = render_prescription_107(rx107())
    assert render_prescription_107(rx107()) == pdf
    assert render_prescription_107(rx107(validity_days=60)) != pdf


def test_107_underlines_the_chosen_kind_and_term(tmp_path: Path) -> None:
    adult = render_prescription_107(rx107(validity_days=180))
    child = render_prescription_107(rx107(child=True, validity_days=60))
    for pdf, on, off in ((adult, ["взрослый", "года"], ["детский", "дней"]),
                         (child, ["детский", "дней"], ["взрослый", "года"])):  # fmt: skip
        for word in on:  # a bracket or comma beside the word is not underlined: 0.75
            assert dark_under(pdf, tmp_path, find(pdf, word)) > 0.75, word
        for word in off:
            assert dark_under(pdf, tmp_path, find(pdf, word)) < 0.2, word


def test_107_child_under_one_gets_full_months() -> None:
    baby = replace(PATIENT, name="Щукин Д. А.", birth_date=dt.date(2025, 3, 20))
    text = pdf_text(render_prescription_107(rx107(patient=baby)))
    assert "20.03.2025 (7 мес.)" in text
    assert full_months(dt.date(2025, 3, 20), dt.date(2025, 11, 19)) == 7
    assert full_months(dt.date(2025, 3, 20), dt.date(2025, 11, 20)) == 8


def test_107_long_items_wrap_and_nothing_is_lost() -> None:
    pdf = render_prescription_107(rx107(items=(LONG, LONG, LONG)), PrintOptions(duplicate=True))
    text = squeezed(pdf)
    for value in (LONG.drug, LONG.signa, LONG.form, LONG.quantity):
        assert text.count(value.replace(" ", "")) == 3, value
    assert "…" not in text
    assert page_count(pdf) == 1  # the type steps down; three long drugs still fit the blank


def test_107_marks() -> None:
    dup = pdf_text(render_prescription_107(rx107(), PrintOptions(duplicate=True)))
    draft = pdf_text(render_prescription_107(rx107(), PrintOptions(draft=True)))
    plain = pdf_text(render_prescription_107(rx107()))
    assert dup.count("ДУБЛИКАТ") == 1
    assert "ЧЕРНОВИК" not in dup
    assert draft.count("ЧЕРНОВИК — не заменяет бланк") == 1
    assert "ДУБЛИКАТ" not in plain
    assert "ЧЕРНОВИК" not in plain


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"items": ()}, "от 1 до 3 препаратов"),
        ({"items": (AMLODIPINE,) * 4}, "от 1 до 3 препаратов"),
        ({"validity_days": 30}, "60 дней или до 1 года"),
        ({"validity_days": 366}, "60 дней или до 1 года"),
    ],
)
def test_107_refuses_what_the_blank_has_no_place_for(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render_prescription_107(rx107(**changes))


# --- 148-1/у-04(л) -------------------------------------------------------------------------------


def test_148_04_prints_every_value_and_caption() -> None:
    pdf = render_prescription_148_04(rx04())
    text = pdf_text(pdf)
    values = [
        ORG.name, "45-25", "0012345", "Щукина А. П.", "12-3456/2019", "Ёлкин С. И.",
        "Amlodipinum (Амлодипин), таблетки, 5 мг", "№ 30 (тридцать)", AMLODIPINE.signa,
        "45250012345",  # the barcode's human-readable line
    ]  # fmt: skip
    captions = [
        "МЕСТО ДЛЯ ШТРИХКОДА*", "Код медицинской организации",
        "Код индивидуального предпринимателя", "Код формы по ОКУД 3108805",
        "Форма № 148-1/у-04(л)", "Код категории граждан", "Код нозологической формы (по МКБ)",
        "Источник финансирования: (подчеркнуть)", "1. Федеральный бюджет",
        "2. Бюджет субъекта Российской Федерации", "3. Муниципальный бюджет",
        "% оплаты: (подчеркнуть)", "1. Бесплатно", "2. 50 %", "3. иной %", "РЕЦЕПТ", "Серия",
        "Дата оформления:", "СНИЛС", "№ полиса обязательного медицинского страхования:",
        "Номер медицинской карты пациента, получающего медицинскую помощь в амбулаторных "
        "условиях", "Руб.", "Коп.", "Rp:", "D.t.d.", "Signa:", "Подпись и печать лечащего врача",
        "М.П.", "Рецепт действителен в течение 15 дней, 30 дней, 90 дней (нужное подчеркнуть)",
        "(Заполняется специалистом аптечной организации)", "Отпущено по рецепту:",
        "Торговое наименование и дозировка:", "Дата отпуска:", "Количество:", "Приготовил:",
        "Проверил:", "Отпустил:", "(линия отрыва)", "Корешок рецептурного бланка",
        "Наименование лекарственного препарата:", "Дозировка: 5 мг", "Способ применения: внутрь",
        "Продолжительность 30 дней", "Количество приемов в день: 1 раз",
        "На 1 прием: 1 таблетка ед.",
    ]  # fmt: skip
    assert [v for v in values + captions if v not in text] == [], text
    for cells in ("1027739812345", "081", "I11.9", "123-456-78964", "7755110000123456",
                  "0511", "07011950"):  # fmt: skip
        assert in_cells(pdf, cells), cells


def test_148_04_mkb_code_one_character_per_cell_with_the_dot_in_its_own() -> None:
    pdf = render_prescription_148_04(rx04(mkb="J45.0"))
    words = pdf_words(pdf)
    j = next(w for w in words if w.text == "J")
    chars = sorted((w for w in words if abs(w.y0 - j.y0) < 0.5 and w.x0 >= j.x0 and
                    w.text in "J45.0" and len(w.text) == 1), key=lambda w: w.x0)  # fmt: skip
    assert "".join(w.text for w in chars) == "J45.0"
    centres = [(w.x0 + w.x1) / 2 for w in chars]
    steps = [b - a for a, b in zip(centres, centres[1:], strict=False)]
    assert steps == [pytest.approx(3.2 * MM, abs=0.3)] * 4  # each in the next 3.2 mm cell


def test_148_04_underlines_funding_payment_and_term(tmp_path: Path) -> None:
    pdf = render_prescription_148_04(rx04(funding=2, payment=3, validity_days=90))
    assert dark_under(pdf, tmp_path, find(pdf, "субъекта")) > 0.9
    assert dark_under(pdf, tmp_path, find(pdf, "Федеральный")) < 0.2
    assert dark_under(pdf, tmp_path, find(pdf, "иной")) > 0.9
    assert dark_under(pdf, tmp_path, find(pdf, "Бесплатно")) < 0.2
    ninety = [w for w in pdf_words(pdf) if w.text == "90"][-1]  # the validity line's
    assert dark_under(pdf, tmp_path, ninety) > 0.9


def test_148_04_is_one_a5_page_and_stable(tmp_path: Path) -> None:
    pdf = render_prescription_148_04(rx04())
    assert page_count(pdf) == 1
    assert_a5(pdf, tmp_path)
    assert render_prescription_148_04(rx04()) == pdf
    assert render_prescription_148_04(rx04(number="0012346")) != pdf


def test_148_04_marks_and_long_texts_wrap() -> None:
    pdf = render_prescription_148_04(rx04(item=LONG), PrintOptions(duplicate=True, draft=True))
    text = pdf_text(pdf)
    assert text.count("ДУБЛИКАТ") == 1
    assert text.count("ЧЕРНОВИК — не заменяет бланк") == 1
    flat = squeezed(pdf)
    for value in (LONG.drug, LONG.signa):
        assert value.replace(" ", "") in flat, value
    assert page_count(pdf) == 1


def test_148_04_barcode_falls_back_to_qr_for_letters(tmp_path: Path) -> None:
    pdf = render_prescription_148_04(rx04(series="МО-45", number="Л0012345"))
    assert "МО-45" in pdf_text(pdf)
    width, _h, data = gray_page(pdf, tmp_path, dpi=100)
    # The code sits inside «МЕСТО ДЛЯ ШТРИХКОДА»: dark modules in the frame's middle.
    box = find(pdf, "МЕСТО")
    top = int(box.y1 * 100 / 72) + 4
    left, right = int(box.x0 * 100 / 72), int((box.x0 + 30 * MM) * 100 / 72)
    dark = sum(1 for y in range(top, top + 40) for x in range(left, right)
               if data[y * width + x] < 128)  # fmt: skip
    assert dark > 300


def test_148_04_refuses_bad_choices() -> None:
    with pytest.raises(ValueError, match="15, 30 или 90"):
        render_prescription_148_04(rx04(validity_days=60))
    with pytest.raises(ValueError, match="1, 2 или 3"):
        render_prescription_148_04(rx04(funding=4))
    with pytest.raises(ValueError, match="ячейках"):
        render_prescription_148_04(rx04(category_code="1234"))


# --- 148-1/у-88: overlay and draft ---------------------------------------------------------------

CAPTIONS_88 = ["Министерство", "РЕЦЕПТ", "Серия", "Фамилия", "пациента", "Дата", "рождения",
               "Адрес", "врача", "Rp:", "Руб.", "Коп.", "Подпись", "М.П.", "действителен",
               "ОКУД", "Форма", "подчеркнуть", "взрослый", "детский", "Наименование"]  # fmt: skip


def test_148_88_overlay_prints_the_values_and_no_caption() -> None:
    pdf = render_prescription_148_88(rx88())
    text = pdf_text(pdf)
    values = [ORG.name, ORG.address, ORG.phone, "05", "ноября", "25", "Щукина А. П.",
              "07.01.1950", "Ёлкин С. И.", FENTANYL.quantity, FENTANYL.signa]  # fmt: skip
    assert [v for v in values if v not in text] == [], text
    flat = squeezed(pdf)
    for value in (
        PATIENT.address,
        "№ карты 12-3456/2019",
        "Fentanylum (Фентанил), трансдермальная терапевтическая система, 25 мкг/ч",
    ):
        assert value.replace(" ", "") in flat, value
    words = {w.text for w in pdf_words(pdf)}
    assert sorted(words & set(CAPTIONS_88)) == []
    assert "АБ" not in words
    assert "1234" not in words
    assert "ЧЕРНОВИК" not in text


def test_148_88_draft_draws_the_blank_with_its_mark(tmp_path: Path) -> None:
    pdf = render_prescription_148_88(rx88(), PrintOptions(draft=True))
    text = pdf_text(pdf)
    assert "ЧЕРНОВИК — НЕ ЗАМЕНЯЕТ БЛАНК" in text
    assert "ЧЕРНОВИК — не заменяет бланк" in text  # printing.page's own draft mark too
    for caption in ("Форма № 148-1/у-88", "Код формы по ОКУД 3108805", "РЕЦЕПТ",
                    "(взрослый, детский – нужное подчеркнуть)", "Рецепт действителен в течение "
                    "15 дней", "Подпись и печать лечащего врача", "Серия", "Rp:"):  # fmt: skip
        assert caption in text, caption
    assert in_cells(pdf, "АБ")
    assert in_cells(pdf, "1234")
    assert ORG.name in text
    assert "Щукина А. П." in text
    assert page_count(pdf) == 1
    assert_a5(pdf, tmp_path)


def test_148_88_overlay_and_draft_put_values_in_the_same_places() -> None:
    overlay = {w.text: (w.x0, w.y0) for w in pdf_words(render_prescription_148_88(rx88()))}
    draft = pdf_words(render_prescription_148_88(rx88(), PrintOptions(draft=True)))
    for word in ("Щукина", "Ёлкин", "ноября", "Fentanylum"):  # «ноября» is a caption's too
        x, y = overlay[word]
        assert any(abs(w.x0 - x) < 0.01 and abs(w.y0 - y) < 0.01 for w in draft if w.text == word)


def test_148_88_overlay_underlines_the_chosen_kind(tmp_path: Path) -> None:
    """The rule lands under the pre-printed word: found in the draft, measured in the overlay."""
    for child, on, off in ((False, "взрослый,", "детский"), (True, "детский", "взрослый,")):
        draft = render_prescription_148_88(rx88(child=child), PrintOptions(draft=True))
        overlay = render_prescription_148_88(rx88(child=child))
        chosen = next(w for w in pdf_words(draft) if w.text.strip("(") == on)
        other = next(w for w in pdf_words(draft) if w.text.strip("(") == off)
        if on.endswith(","):  # the comma is not underlined: measure the word alone
            chosen = replace(chosen, x1=chosen.x1 - 3)
        assert dark_under(overlay, tmp_path, chosen) > 0.9
        assert dark_under(overlay, tmp_path, other) < 0.1


@pytest.mark.parametrize("draft", [False, True])
def test_148_88_offset_moves_every_value(draft: bool) -> None:
    plain = render_prescription_148_88(rx88(), PrintOptions(draft=draft))
    moved = render_prescription_148_88(rx88(), PrintOptions(draft=draft, offset_mm=(3, -2)))
    a = {w.text: w for w in pdf_words(plain)}
    b = {w.text: w for w in pdf_words(moved)}
    for word in ("Щукина", "Ёлкин", "ноября", "Fentanylum", "ГБУЗ"):
        assert b[word].x0 - a[word].x0 == pytest.approx(3 * MM, abs=0.05)
        assert b[word].y0 - a[word].y0 == pytest.approx(-2 * MM, abs=0.05)


def test_148_88_same_bytes_duplicate_and_long_values() -> None:
    pdf = render_prescription_148_88(rx88())
    assert render_prescription_148_88(rx88()) == pdf
    dup = render_prescription_148_88(rx88(), PrintOptions(duplicate=True))
    assert pdf_text(dup).count("ДУБЛИКАТ") == 1
    mark = find(dup, "ДУБЛИКАТ")  # on the paper, clear of its edges (the blank has no margin)
    assert 5 * MM < mark.y0
    assert mark.x1 < (148 - 5) * MM
    long = replace(
        FENTANYL,
        drug="Fentanylum (Фентанил) трансдермальная терапевтическая система длительного действия",
        signa="Наклеивать по 1 пластырю на 72 часа на чистую неповреждённую кожу верхней части "
        "туловища, менять место аппликации",
    )
    text = squeezed(render_prescription_148_88(rx88(item=long)))
    assert long.drug.replace(" ", "") in text
    assert long.signa.replace(" ", "") in text


def test_148_88_refuses_what_does_not_fit_the_blank() -> None:
    huge = replace(FENTANYL, signa="очень длинная сигнатура " * 40)
    with pytest.raises(ValueError, match="«Rp» не помещается"):
        render_prescription_148_88(rx88(item=huge))
    with pytest.raises(ValueError, match="номер — до 4"):
        render_prescription_148_88(rx88(number="12345"))
