"""The ЭЛН informational sheet (A4/A5) and the 347н blank's overlay, read back from their PDFs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from printing.page import PrintOptions
from printing.sick_leave_347 import POSITIONS, Cells, render_sick_leave_347
from printing.sick_leave_sheet import (
    CaredPerson,
    RegimeViolation,
    ReleasePeriod,
    SickLeave,
    render_sick_leave_sheet,
)
from tests.printing.conftest import Word, gray_page, page_count, pdf_info, pdf_text, pdf_words

MM = 72 / 25.4

FIRST = ReleasePeriod(
    dt.date(2025, 11, 5), dt.date(2025, 11, 19), "врач-терапевт участковый", "Ёлкин Сергей Иванович"
)
SECOND = ReleasePeriod(
    dt.date(2025, 11, 20),
    dt.date(2025, 11, 28),
    "врач-терапевт участковый",
    "Ёлкин Сергей Иванович",
    chair_position="заместитель главного врача по КЭР",
    chair_name="Петрова Ольга Николаевна",
)


def leave(**changes: object) -> SickLeave:
    base = SickLeave(
        number="910123456789",
        issued_on=dt.date(2025, 11, 5),
        organisation_name="ГБУЗ «Городская поликлиника № 12 ДЗМ»",
        organisation_address="117042, г. Москва, ул. Южнобутовская, д. 87",
        organisation_ogrn="1027739812345",
        patient_name="Щукина Анна Петровна",
        birth_date=dt.date(1980, 1, 7),
        sex=2,
        snils="123-456-789 64",
        employer="ООО «Ромашка»",
        main_job=True,
        reason_code="01",
        periods=(FIRST, SECOND),
        previous_number="910123456700",
        violation=RegimeViolation("24", dt.date(2025, 11, 12)),
        return_to_work=dt.date(2025, 11, 29),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def paper_leave(**changes: object) -> SickLeave:
    """The same certificate with values short enough for the 347н blank's cells."""
    short: dict[str, object] = {
        "organisation_name": "ГБУЗ ГП № 12 ДЗМ",
        "organisation_address": "г. Москва, ул. Южнобутовская, д. 87",
        "periods": (
            replace(FIRST, doctor_position="терапевт", doctor_name="Ёлкин С. И."),
            replace(
                SECOND,
                doctor_position="терапевт",
                doctor_name="Ёлкин С. И.",
                chair_position="зам. гл. врача",
                chair_name="Петрова О. Н.",
            ),
        ),  # fmt: skip
        "hospital": (dt.date(2025, 11, 1), dt.date(2025, 11, 4)),
    }
    return leave(**{**short, **changes})


def px(mm: float, dpi: int) -> float:
    return mm / 25.4 * dpi


def rows(pdf: bytes) -> list[str]:
    """Each printed row's words joined left to right without spaces (cells read as a value)."""
    by_row: dict[tuple[int, int], list[Word]] = defaultdict(list)
    for w in pdf_words(pdf):
        by_row[(w.page, round(w.y1))].append(w)
    return ["".join(w.text for w in sorted(ws, key=lambda w: w.x0)) for ws in by_row.values()]


def in_cells(pdf: bytes, value: str) -> bool:
    target = value.replace(" ", "").upper()
    return any(target in row for row in rows(pdf))


# --- the informational sheet -----------------------------------------------------------------


@pytest.mark.parametrize("paper", ["A4", "A5"])
def test_sheet_prints_every_value(paper: str) -> None:
    pdf = render_sick_leave_sheet(leave(), paper=paper)  # type: ignore[arg-type]
    text = pdf_text(pdf)
    values = [
        "ГБУЗ «Городская поликлиника № 12 ДЗМ»", "117042, г. Москва, ул. Южнобутовская, д. 87",
        "ОГРН 1027739812345", "ЛИСТОК НЕТРУДОСПОСОБНОСТИ",
        "Листок нетрудоспособности сформирован в форме электронного документа",
        "№ 910123456789", "продолжение листка нетрудоспособности № 910123456700",
        "Дата выдачи: 05.11.2025", "Щукина Анна Петровна", "Дата рождения: 07.01.1980",
        "СНИЛС: 123-456-789 64", "Место работы: ООО «Ромашка» (основное)",
        "Причина нетрудоспособности: 01 — заболевание", "ОСВОБОЖДЕНИЕ ОТ РАБОТЫ",
        "05.11.2025", "19.11.2025", "20.11.2025", "28.11.2025", "врач-терапевт участковый",
        "Ёлкин Сергей Иванович", "Председатель врачебной комиссии:",
        "заместитель главного врача по КЭР", "Петрова Ольга Николаевна",
        "Нарушение режима: 24 — несвоевременная явка на прием к врачу; дата 12.11.2025",
        "Приступить к работе с 29.11.2025", "(подпись)",
    ]  # fmt: skip
    assert [v for v in values if v not in text] == [], text
    assert "дубликат" not in text


@pytest.mark.parametrize(("paper", "mm"), [("A4", (210, 297)), ("A5", (148, 210))])
def test_sheet_page_is_its_paper(paper: str, mm: tuple[int, int], tmp_path: Path) -> None:
    pdf = render_sick_leave_sheet(leave(), paper=paper)  # type: ignore[arg-type]
    assert page_count(pdf) == 1
    width, height, _ = gray_page(pdf, tmp_path, dpi=50)
    assert width == pytest.approx(px(mm[0], 50), abs=1)
    assert height == pytest.approx(px(mm[1], 50), abs=1)
    assert pdf_info(pdf)["Title"] == "Электронный листок нетрудоспособности № 910123456789"


def test_sheet_number_is_a_barcode(tmp_path: Path) -> None:
    """Under the big number: a band of bars (dark and light alternating many times)."""
    pdf = render_sick_leave_sheet(leave())
    number = next(w for w in pdf_words(pdf) if w.text == "910123456789")
    dpi = 150
    width, _h, data = gray_page(pdf, tmp_path, dpi=dpi)
    row = int((number.y1 + 4 * MM) * dpi / 72)
    line = [data[row * width + x] < 128 for x in range(width)]
    edges = sum(1 for a, b in zip(line, line[1:], strict=False) if a != b)
    assert edges > 40


def test_sheet_same_bytes_and_marks() -> None:
    pdf = render_sick_leave_sheet(leave())
    assert render_sick_leave_sheet(leave()) == pdf
    assert render_sick_leave_sheet(leave(number="910123456788")) != pdf
    for paper in ("A4", "A5"):
        dup = pdf_text(render_sick_leave_sheet(leave(), PrintOptions(duplicate=True), paper))
        assert dup.count("ДУБЛИКАТ") == 1
        draft = pdf_text(render_sick_leave_sheet(leave(), PrintOptions(draft=True), paper))
        assert draft.count("ЧЕРНОВИК — не заменяет бланк") == 1


def test_sheet_primary_duplicate_carer_and_other_outcome() -> None:
    d = leave(
        previous_number="",
        duplicate=True,
        main_job=False,
        main_job_number="910000000001",
        reason_code="09",
        cared=(CaredPerson("Щукин Дмитрий Андреевич", "38", 5, 3),),
        violation=None,
        return_to_work=None,
        outcome_code="31",
        outcome_date=dt.date(2025, 11, 28),
        next_number="910123456790",
    )
    text = pdf_text(render_sick_leave_sheet(d))
    for value in (
        "Листок: первичный, дубликат",
        "(по совместительству, основной листок № 910000000001)",
        "09 — уход за больным членом семьи",
        "Уход за: Щукин Дмитрий Андреевич, 5 лет 3 мес.; родственная связь: 38 — мать",
        "Иное: 31 — продолжает болеть; дата 28.11.2025",
        "Выдан листок нетрудоспособности (продолжение): № 910123456790",
    ):
        assert value in text, value
    assert "Нарушение режима" not in text
    assert "Приступить к работе" not in text
    still_open = pdf_text(render_sick_leave_sheet(leave(return_to_work=None)))
    assert "Листок нетрудоспособности открыт" in still_open


@pytest.mark.parametrize("paper", ["A4", "A5"])
def test_sheet_long_texts_wrap_and_nothing_is_lost(paper: str) -> None:
    employer = (
        "Федеральное государственное бюджетное учреждение науки «Институт проблем "
        "химико-фармацевтической технологии имени академика Ивана Ивановича "
        "Петрова-Водкина» Российской академии наук, обособленное подразделение в г. Зеленограде"
    )
    periods = tuple(
        replace(SECOND, doctor_position="врач-оториноларинголог консультативно-диагностического "
                "отделения", start=dt.date(2025, 11, i), end=dt.date(2025, 11, i + 1))
        for i in range(1, 15)
    )  # fmt: skip
    pdf = render_sick_leave_sheet(leave(employer=employer, periods=periods), paper=paper)  # type: ignore[arg-type]
    flat = pdf_text(pdf).replace(" ", "")
    assert employer.replace(" ", "") in flat
    assert flat.count("врач-оториноларинголог") == 14 + 1  # each period, and the signature
    assert "…" not in flat
    words = pdf_words(pdf)
    with_rows = {w.page for w in words if w.text == "Петрова"}  # the chair: table rows only
    with_header = {w.page for w in words if w.text == "Должность"}
    assert len(with_rows) > 1
    assert with_rows <= with_header  # the table's header atop every page it runs onto
    mm = 72 / 25.4
    width = 210 if paper == "A4" else 148
    assert all(w.x1 <= (width - 5) * mm for w in words)  # nothing past the margin


# --- the 347н blank --------------------------------------------------------------------------

CAPTIONS_347 = ["ЛИСТОК", "первичный", "дубликат", "продолжение", "наименование", "адрес",
                "дата", "ОГРН", "фамилия", "пол", "причина", "код", "место", "основное",
                "уходу", "стационаре", "Нарушение", "ОСВОБОЖДЕНИЕ", "числа", "Должность",
                "ПРИСТУПИТЬ", "Иное:", "Подпись", "Печать", "РАБОТОДАТЕЛЕМ"]  # fmt: skip


def test_347_overlay_prints_the_values_in_cells_and_no_caption(tmp_path: Path) -> None:
    d = paper_leave(main_job=False, main_job_number="910000000001", reason_code="09",
                    cared=(CaredPerson("Щукин Дмитрий Андреевич", "38", 5, 3),))  # fmt: skip
    pdf = render_sick_leave_347(d)
    for value in ("910123456700", "ГБУЗ ГП № 12 ДЗМ", "г. Москва, ул. Южнобутовская, д. 87",
                  "05112025", "1027739812345", "Щукина Анна Петровна", "07011980", "09",
                  "ООО «Ромашка»", "910000000001", "Щукин Дмитрий Андреевич", "0503", "38",
                  "01112025", "04112025", "24", "12112025", "19112025", "28112025",
                  "29112025"):  # fmt: skip
        assert in_cells(pdf, value), value
    text = pdf_text(pdf)
    for value in ("ТЕРАПЕВТ", "ЁЛКИН С. И.", "ЗАМ. ГЛ. ВРАЧА", "ПЕТРОВА О. Н."):
        assert value in text, value
    words = {w.text for w in pdf_words(pdf)}
    assert sorted(words & set(CAPTIONS_347)) == []
    assert not any("910123456789" in row for row in rows(pdf))  # the blank's own, pre-printed
    width, height, _ = gray_page(pdf, tmp_path, dpi=50)
    assert width == pytest.approx(px(210, 50), abs=1)
    assert height == pytest.approx(px(297, 50), abs=1)


def test_347_ticks_the_right_boxes() -> None:
    """A «V» centred in the box of each answer that applies, none in the others."""

    def ticked(d: SickLeave) -> set[str]:
        found = set()
        for w in pdf_words(render_sick_leave_347(d)):
            if w.text != "V":
                continue
            cx, cy = (w.x0 + w.x1) / 2 / MM, (w.y0 + w.y1) / 2 / MM
            for name, place in POSITIONS.items():
                box = isinstance(place, Cells) and place.count == 1
                if box and place.x <= cx <= place.x + 4 and place.y <= cy <= place.y + 5:
                    found.add(name)
        return found

    assert ticked(paper_leave()) == {"sex_female", "main_job"}
    assert ticked(paper_leave(previous_number="", duplicate=True, sex=1, main_job=False)) == {
        "primary", "duplicate", "sex_male", "secondary_job"}  # fmt: skip


def test_347_characters_are_centred_in_their_cells() -> None:
    pdf = render_sick_leave_347(paper_leave())
    ogrn = POSITIONS["ogrn"]
    assert isinstance(ogrn, Cells)
    chars = sorted((w for w in pdf_words(pdf) if abs((w.y0 + w.y1) / 2 / MM - ogrn.y - 2.5) < 1.5
                    and w.x0 / MM >= ogrn.x - 0.5), key=lambda w: w.x0)  # fmt: skip
    assert "".join(w.text for w in chars).startswith("1027739812345")
    for i, w in enumerate(chars[:13]):
        centre = (w.x0 + w.x1) / 2 / MM
        assert centre == pytest.approx(ogrn.x + (i + 0.5) * 4.0, abs=0.3)


@pytest.mark.parametrize("draft", [False, True])
def test_347_offset_moves_the_text(draft: bool) -> None:
    plain = render_sick_leave_347(paper_leave(), PrintOptions(draft=draft))
    moved = render_sick_leave_347(paper_leave(), PrintOptions(draft=draft, offset_mm=(3, -2)))
    a, b = pdf_words(plain), pdf_words(moved)
    assert len(a) == len(b)
    for before, after in zip(a, b, strict=True):
        assert after.text == before.text
        assert after.x0 - before.x0 == pytest.approx(3 * MM, abs=0.05)
        assert after.y0 - before.y0 == pytest.approx(-2 * MM, abs=0.05)


def test_347_draft_draws_the_blank_with_its_mark() -> None:
    pdf = render_sick_leave_347(paper_leave(), PrintOptions(draft=True))
    text = pdf_text(pdf)
    assert "ЧЕРНОВИК — НЕ ЗАМЕНЯЕТ БЛАНК" in text
    assert "ЧЕРНОВИК — не заменяет бланк" in text
    for caption in ("ЛИСТОК НЕТРУДОСПОСОБНОСТИ", "(наименование медицинской организации)",
                    "ОСВОБОЖДЕНИЕ ОТ РАБОТЫ", "ПРИСТУПИТЬ К РАБОТЕ с", "ЗАПОЛНЯЕТСЯ РАБОТОДАТЕЛЕМ",
                    "(фамилия, имя, отчество нетрудоспособного)"):  # fmt: skip
        assert caption in text, caption
    assert in_cells(pdf, "Щукина Анна Петровна")
    assert page_count(pdf) == 1


def test_347_same_bytes_and_duplicate() -> None:
    pdf = render_sick_leave_347(paper_leave())
    assert render_sick_leave_347(paper_leave()) == pdf
    dup = render_sick_leave_347(paper_leave(), PrintOptions(duplicate=True))
    assert pdf_text(dup).count("ДУБЛИКАТ") == 1
    mark = next(w for w in pdf_words(dup) if w.text == "ДУБЛИКАТ")  # clear of the paper's edges
    assert 5 * MM < mark.y0
    assert mark.x1 < (210 - 5) * MM


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"employer": "Общество с ограниченной ответственностью «Ромашка и партнёры»"},
         r"«Место работы» — 61 знаков, в ячейках бланка 45"),
        ({"periods": (FIRST,) * 4}, "не более 3 периодов"),
        ({"cared": (CaredPerson("А", "38", 1),) * 3}, "не более 2"),
        ({"cared": (CaredPerson("Константинопольская Александра Владимировна", "38", 1),)},
         "«Фамилия, имя, отчество члена семьи»"),
    ],
)  # fmt: skip
def test_347_refuses_what_does_not_fit(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_sick_leave_347(paper_leave(**changes))


def test_347_refuses_the_sheets_long_doctor_text() -> None:
    """The sheet's full position fits the A4 sheet but not the blank's column: refused."""
    long = replace(FIRST, doctor_position="врач-оториноларинголог консультативно-"
                   "диагностического отделения № 2")  # fmt: skip
    with pytest.raises(ValueError, match="не помещается в графу"):
        render_sick_leave_347(paper_leave(periods=(long,)))
