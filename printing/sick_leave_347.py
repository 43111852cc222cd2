"""Filling a pre-printed paper sick-leave blank (Order 347н of 26.04.2011) by overlay.

Since 2022 a sick-leave certificate is electronic; paper is left for the exceptions of 255-ФЗ
art. 13 part 28 (people whose data are a state secret or who are under state protection), on the
protected blank of 347н — blue, with yellow fields and three parts: the doctor fills the first
(and the stub), the employer the second (shared/FORMS.md §2). Nobody can print that blank on
office paper. So, as for prescription 148-1/у-88, there are two ways to print, chosen by
``PrintOptions.draft``:

* **overlay** (``draft=False``) — the values of the doctor's part only, each character centred
  in its own cell of the blank fed into the printer, in capitals and from the first cell of
  each field, as the rules for completing a paper certificate demand («печатными заглавными
  буквами … начиная с первой ячейки», 1089н's chapter on paper certificates, as 925н p. 63 did
  before it); a «V» in the boxes ticked (первичный / дубликат, пол, основное / по
  совместительству). No caption, cell or rule is printed — the blank has them. The whole page
  moves by ``PrintOptions.offset_mm``, the printer's offset from the calibration sheet;
* **draft** (``draft=True``) — the doctor's part drawn on plain paper, cells and captions with the
  values in them, marked «ЧЕРНОВИК — НЕ ЗАМЕНЯЕТ БЛАНК», to check before a blank is spent.

:data:`POSITIONS` is the one table of where every field's cells are, in millimetres from the
blank's top-left corner (A4 portrait, the blank's size). It follows the order and the cell counts
of the doctor's part of the 347н blank (first/duplicate, continuation №, organisation's name and
address, date of issue, ОГРН, the patient, birth date, sex, the reason's codes, employer, main or
secondary job, care of family members, hospital stay, regime violation, the three-row «ОСВОБОЖДЕНИЕ
ОТ РАБОТЫ» table with the medical commission's chair, «ПРИСТУПИТЬ К РАБОТЕ», «Иное», the
continuation's number). The millimetres and the cell counts are **unverified against a printed
blank** (no blank was at hand): print the draft, hold it over a real blank to the light, and
correct this table — one edit per field; a shift of the whole page is the printer's offset.
The stub (корешок) is not filled here: it is torn off and kept by the organisation, and is
written by hand.

A value longer than its cells, a fourth release period or a third family member is refused
(``ValueError`` naming the field) before anything is printed: a character outside its cell
would be misread by the fund's scanner, and a cut value is a wrong one. More periods go on a
continuation certificate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from printing.fonts import SERIF, SERIF_BOLD, register_fonts
from printing.page import PLAIN, DocumentInfo, Margins, PrintOptions, Sheet
from printing.prescription import A4, cells, dashed, render_on
from printing.sick_leave_sheet import SickLeave

__all__ = [
    "DRAFT_BANNER",
    "MAX_CARED",
    "MAX_PERIODS",
    "POSITIONS",
    "Cells",
    "render_sick_leave_347",
]

DRAFT_BANNER = "ЧЕРНОВИК — НЕ ЗАМЕНЯЕТ БЛАНК"
MAX_PERIODS = 3  # rows of «ОСВОБОЖДЕНИЕ ОТ РАБОТЫ» on the blank
MAX_CARED = 2  # rows «по уходу» on the blank
CHAR_SIZE = 10.0  # points: a capital fills about 3.5 of the cell's 5 mm
TICK = "V"  # the mark put in a box that applies
CAPTION = 7.0


@dataclass(frozen=True)
class Cells:
    """A field of character cells: top-left (x, y) mm, ``count`` cells ``pitch`` mm wide.

    ``date`` makes it the blank's date field: 2 + 2 + 4 cells (day, month, year), the groups
    ``gap`` mm apart (the dots stand in the gaps).
    """

    x: float
    y: float
    count: int = 1
    pitch: float = 4.0
    height: float = 5.0
    date: bool = False
    gap: float = 2.0


@dataclass(frozen=True)
class Text:
    """A free-text place (the periods table's position and name): baseline (x, y), width."""

    x: float
    y: float
    width: float


def _date(x: float, y: float, pitch: float = 4.0) -> Cells:
    return Cells(x, y, 8, pitch=pitch, date=True)


ROW_TOP = (186.0, 197.0, 208.0)  # the three rows of «ОСВОБОЖДЕНИЕ ОТ РАБОТЫ», 11 mm each
CARE_TOP = (138.0, 146.0)  # the two rows «по уходу»

# The doctor's part of the 347н blank, A4, mm from the top-left corner (unverified: see the
# module's docstring). Cells are 4 × 5 mm unless said; 45 cells span a full row, 15–195 mm.
POSITIONS: dict[str, Cells | Text] = {
    "primary": Cells(15.0, 52.0),  # □ первичный
    "duplicate": Cells(50.0, 52.0),  # □ дубликат
    "previous_number": Cells(147.0, 52.0, 12),  # продолжение листка нетрудоспособности №
    "organisation_name": Cells(15.0, 61.0, 45),  # (наименование медицинской организации)
    "organisation_address": Cells(15.0, 71.0, 45),  # (адрес медицинской организации)
    "issued_on": _date(39.0, 81.0),  # дата выдачи
    "ogrn": Cells(135.0, 81.0, 15),  # ОГРН (13 digits from the first cell)
    "patient_name": Cells(15.0, 91.0, 45),  # (фамилия, имя, отчество нетрудоспособного)
    "birth_date": _date(39.0, 101.0),  # дата рождения
    "sex_male": Cells(120.0, 101.0),  # пол: □ м
    "sex_female": Cells(132.0, 101.0),  # □ ж
    "reason_code": Cells(84.0, 110.0, 2),  # причина нетрудоспособности: код
    "additional_code": Cells(112.0, 110.0, 3),  # доп. код
    "change_code": Cells(150.0, 110.0, 2),  # код изм.
    "employer": Cells(15.0, 119.0, 45),  # (место работы — наименование организации)
    "main_job": Cells(15.0, 129.0),  # □ основное
    "secondary_job": Cells(50.0, 129.0),  # □ по совместительству №
    "main_job_number": Cells(100.0, 129.0, 12),
    **{
        f"care{i}_{name}": cell
        for i, top in enumerate(CARE_TOP)
        for name, cell in (
            ("years", Cells(40.0, top, 2)),  # по уходу: возраст … лет
            ("months", Cells(54.0, top, 2)),  # … мес.
            ("relation", Cells(88.0, top, 2)),  # родств. связь (38–42)
            ("name", Cells(99.0, top, 24)),  # ФИО члена семьи
        )
    },
    "hospital_from": _date(72.0, 156.0),  # Находился в стационаре с
    "hospital_to": _date(122.0, 156.0),  # по
    "violation_code": Cells(50.0, 165.0, 2),  # Нарушение режима: код
    "violation_date": _date(80.0, 165.0),  # дата
    **{
        f"period{i}_{name}": cell
        for i, top in enumerate(ROW_TOP)
        for name, cell in (
            ("start", _date(18.0, top + 0.5, pitch=3.6)),  # С какого числа
            ("end", _date(56.0, top + 0.5, pitch=3.6)),  # По какое число
            ("position", Text(92.0, top + 4.2, 40.0)),  # Должность врача
            ("doctor", Text(134.0, top + 4.2, 40.0)),  # Фамилия врача или идентиф. №
            ("chair_position", Text(92.0, top + 9.6, 40.0)),  # Председатель ВК: должность
            ("chair", Text(134.0, top + 9.6, 40.0)),  # … фамилия
        )
    },
    "return_to_work": _date(70.0, 223.0),  # ПРИСТУПИТЬ К РАБОТЕ с
    "outcome_code": Cells(128.0, 223.0, 2),  # Иное: код
    "outcome_date": _date(140.0, 223.0),  # … дата
    "next_number": Cells(101.0, 232.0, 12),  # Выдан листок нетрудоспособности (продолжение) №
}

# The draft's captions, at the same coordinates: (x, baseline y, text, bold, size, align).
CAPTIONS: tuple[tuple[float, float, str, bool, float, str], ...] = (
    (15.0, 46.0, "ЛИСТОК НЕТРУДОСПОСОБНОСТИ", True, 12.0, "left"),
    (20.5, 56.0, "первичный", False, CAPTION, "left"),
    (55.5, 56.0, "дубликат", False, CAPTION, "left"),
    (88.0, 56.0, "продолжение листка нетрудоспособности №", False, CAPTION, "left"),
    (15.0, 69.0, "(наименование медицинской организации)", False, CAPTION - 0.5, "left"),
    (15.0, 79.0, "(адрес медицинской организации)", False, CAPTION - 0.5, "left"),
    (15.0, 85.0, "дата выдачи", False, CAPTION, "left"),
    (124.0, 85.0, "ОГРН", False, CAPTION, "left"),
    (15.0, 99.0, "(фамилия, имя, отчество нетрудоспособного)", False, CAPTION - 0.5, "left"),
    (15.0, 105.0, "дата рождения", False, CAPTION, "left"),
    (110.0, 105.0, "пол", False, CAPTION, "left"),
    (125.5, 105.0, "м", False, CAPTION, "left"),
    (137.5, 105.0, "ж", False, CAPTION, "left"),
    (15.0, 114.0, "причина нетрудоспособности: код", False, CAPTION, "left"),
    (100.0, 114.0, "доп. код", False, CAPTION, "left"),
    (138.0, 114.0, "код изм.", False, CAPTION, "left"),
    (15.0, 127.0, "(место работы — наименование организации)", False, CAPTION - 0.5, "left"),
    (20.5, 133.0, "основное", False, CAPTION, "left"),
    (55.5, 133.0, "по совместительству №", False, CAPTION, "left"),
    (15.0, 142.0, "по уходу: возраст", False, CAPTION, "left"),
    (49.0, 142.0, "лет", False, CAPTION, "left"),
    (63.0, 142.0, "мес.", False, CAPTION, "left"),
    (70.5, 142.0, "родств. связь", False, CAPTION, "left"),
    (49.0, 150.0, "лет", False, CAPTION, "left"),
    (63.0, 150.0, "мес.", False, CAPTION, "left"),
    (70.5, 150.0, "родств. связь", False, CAPTION, "left"),
    (99.0, 153.5, "(фамилия, имя, отчество члена семьи)", False, CAPTION - 0.5, "left"),
    (15.0, 160.0, "Находился в стационаре с", False, CAPTION, "left"),
    (114.0, 160.0, "по", False, CAPTION, "left"),
    (15.0, 169.0, "Нарушение режима: код", False, CAPTION, "left"),
    (70.0, 169.0, "дата", False, CAPTION, "left"),
    (105.0, 180.0, "ОСВОБОЖДЕНИЕ ОТ РАБОТЫ", True, 9.0, "center"),
    (34.0, 184.3, "С какого числа", False, CAPTION, "center"),
    (72.0, 184.3, "По какое число", False, CAPTION, "center"),
    (112.0, 184.3, "Должность врача", False, CAPTION, "center"),
    (154.0, 184.3, "Фамилия врача или идентиф. №", False, CAPTION - 0.5, "center"),
    (185.0, 184.3, "Подпись врача", False, CAPTION - 1.0, "center"),
    (15.0, 227.0, "ПРИСТУПИТЬ К РАБОТЕ с", True, 8.0, "left"),
    (115.0, 227.0, "Иное:", False, CAPTION, "left"),
    (15.0, 236.0, "Выдан листок нетрудоспособности (продолжение) №", False, CAPTION, "left"),
    (15.0, 249.0, "Подпись врача", False, CAPTION, "left"),
    (157.5, 258.0, "Печать медицинской организации", False, CAPTION - 0.5, "center"),
    (105.0, 266.0, "ЗАПОЛНЯЕТСЯ РАБОТОДАТЕЛЕМ", True, 9.0, "center"),
)
TABLE = (15.0, 53.0, 91.0, 133.0, 175.0, 195.0)  # column edges of the periods table, mm
MARGINS = Margins(top=0, right=0, bottom=0, left=0)  # every place is absolute
MARK_ANCHOR = (195.0, 21.5)  # top-right corner of page.py's boxed marks: under the banner

_LABELS = {
    "previous_number": "Продолжение листка №",
    "organisation_name": "Наименование медицинской организации",
    "organisation_address": "Адрес медицинской организации",
    "ogrn": "ОГРН",
    "patient_name": "Фамилия, имя, отчество",
    "reason_code": "Причина нетрудоспособности: код",
    "additional_code": "Доп. код",
    "change_code": "Код изм.",
    "employer": "Место работы",
    "main_job_number": "По совместительству №",
    "violation_code": "Нарушение режима: код",
    "outcome_code": "Иное: код",
    "next_number": "Выдан листок (продолжение) №",
    "name": "Фамилия, имя, отчество члена семьи",
    "years": "Возраст члена семьи (лет)",
    "months": "Возраст члена семьи (мес.)",
    "relation": "Родственная связь",
}


def render_sick_leave_347(data: SickLeave, options: PrintOptions = PLAIN) -> bytes:
    """The doctor's part of the 347н blank as PDF bytes (A4): overlay, or the draft.

    Raises:
        ValueError: a value that does not fit its cells, more than three release periods or
            two family members — naming the field.
    """
    register_fonts()
    values = _values(data)  # raises before anything is drawn
    info = DocumentInfo(
        title=f"Листок нетрудоспособности № {data.number} (бланк 347н"
        + (", черновик)" if options.draft else ")"),
        subject="Заполнение бланка листка нетрудоспособности (приказ Минздравсоцразвития "
        "России № 347н)",
        author=data.signer[1],
    )

    def draw(sheet: Sheet) -> None:
        # page.py's boxed marks at the stub's right, off the cells (the kit's default, the
        # paper's very corner with these zero margins, is outside what a printer prints).
        sheet.mark_anchor = MARK_ANCHOR
        if options.draft:
            _draw_blank(sheet)
        _fill(sheet, values)

    return render_on(draw, info, A4, options, MARGINS)


def _digits(d: dt.date | None) -> str:
    return f"{d.day:02d}{d.month:02d}{d.year:04d}" if d else ""


def _values(data: SickLeave) -> dict[str, str]:
    """Every field's text by its place in :data:`POSITIONS` (capitals; checked against it)."""
    if len(data.periods) > MAX_PERIODS:
        raise ValueError(
            f"Бланк 347н: не более {MAX_PERIODS} периодов освобождения от работы, задано "
            f"{len(data.periods)}; дальнейшие — в листке-продолжении"
        )
    if len(data.cared) > MAX_CARED:
        raise ValueError(f"Бланк 347н: уход — не более {MAX_CARED} членов семьи")
    tick = {True: TICK, False: ""}
    v: dict[str, str] = {
        "primary": tick[data.primary],
        "duplicate": tick[data.duplicate],
        "previous_number": data.previous_number,
        "organisation_name": data.organisation_name,
        "organisation_address": data.organisation_address,
        "issued_on": _digits(data.issued_on),
        "ogrn": data.organisation_ogrn,
        "patient_name": data.patient_name,
        "birth_date": _digits(data.birth_date),
        "sex_male": tick[data.sex == 1],
        "sex_female": tick[data.sex == 2],
        "reason_code": data.reason_code,
        "additional_code": data.additional_code,
        "change_code": data.change_code,
        "employer": data.employer,
        "main_job": tick[data.main_job],
        "secondary_job": tick[not data.main_job],
        "main_job_number": "" if data.main_job else data.main_job_number,
        "hospital_from": _digits(data.hospital[0] if data.hospital else None),
        "hospital_to": _digits(data.hospital[1] if data.hospital else None),
        "violation_code": data.violation.code if data.violation else "",
        "violation_date": _digits(data.violation.date if data.violation else None),
        "return_to_work": _digits(data.return_to_work),
        "outcome_code": data.outcome_code,
        "outcome_date": _digits(data.outcome_date),
        "next_number": data.next_number,
    }
    for i, person in enumerate(data.cared):
        v[f"care{i}_years"] = f"{person.age_years:02d}"
        v[f"care{i}_months"] = f"{person.age_months:02d}"
        v[f"care{i}_relation"] = person.relation_code
        v[f"care{i}_name"] = person.name
    for i, p in enumerate(data.periods):
        v[f"period{i}_start"] = _digits(p.start)
        v[f"period{i}_end"] = _digits(p.end)
        v[f"period{i}_position"] = p.doctor_position
        v[f"period{i}_doctor"] = p.doctor_name
        v[f"period{i}_chair_position"] = p.chair_position
        v[f"period{i}_chair"] = p.chair_name
    out = {name: " ".join(text.split()).upper() for name, text in v.items() if text}
    for name, text in out.items():
        place = POSITIONS[name]
        if isinstance(place, Cells):
            count = place.count
            if len(text) > count:
                label = _LABELS.get(name) or _LABELS[name.split("_", 1)[1]]
                raise ValueError(
                    f"Бланк 347н: «{label}» — {len(text)} знаков, в ячейках бланка {count}"
                )
        elif _text_size(text, place.width) is None:
            raise ValueError(f"Бланк 347н: «{text}» не помещается в графу таблицы периодов")
    return out


def _text_size(text: str, width: float) -> float | None:
    for size in (9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0):
        if Sheet.text_width(text, size=size) <= width:
            return size
    return None


def _cell_xs(place: Cells) -> list[float]:
    """The left edge of each cell (a date's groups are ``gap`` apart)."""
    xs = []
    x = place.x
    for i in range(place.count):
        if place.date and i in (2, 4):
            x += place.gap
        xs.append(x)
        x += place.pitch
    return xs


def _fill(sheet: Sheet, values: dict[str, str]) -> None:
    """The values only: one character centred in each cell, free text on its line."""
    for name, text in values.items():
        place = POSITIONS[name]
        if isinstance(place, Text):
            size = _text_size(text, place.width)
            assert size is not None  # _values refused it otherwise
            sheet.text(place.x, place.y, text, size=size)
            continue
        size = min(CHAR_SIZE, place.pitch / 0.2)  # narrower cells, smaller capitals
        baseline = place.y + place.height / 2 + size * 0.3528 * 0.33
        for x, ch in zip(_cell_xs(place), text, strict=False):
            if ch != " ":
                sheet.text(x + place.pitch / 2, baseline, ch, size=size, align="center")


def _draw_blank(sheet: Sheet) -> None:
    """The doctor's part of the blank for the draft: banner, captions, cells, table, frames."""
    s = sheet
    size = 14.0
    w = s.text_width(DRAFT_BANNER, font=SERIF_BOLD, size=size) + 8
    s.rect((s.width - w) / 2, 12.0, w, 8.0, width=1.2)
    s.text(s.width / 2, 18.2, DRAFT_BANNER, font=SERIF_BOLD, size=size, align="center")
    s.text(15.0, 36.0, "Корешок листка нетрудоспособности заполняется от руки", size=CAPTION,
           font=SERIF)  # fmt: skip
    dashed(s, 15.0, 195.0, 39.0)
    for x, y, text, is_bold, sz, align in CAPTIONS:
        s.text(x, y, text, font=SERIF_BOLD if is_bold else SERIF, size=sz, align=align)
    for place in POSITIONS.values():
        if isinstance(place, Cells):
            for x in _cell_xs(place):
                cells(s, x, place.y, 1, "", pitch=place.pitch, height=place.height)
            if place.date:  # the dots between day, month and year
                xs = _cell_xs(place)
                for i in (2, 4):
                    s.text(xs[i] - place.gap / 2, place.y + place.height - 0.6, ".",
                           size=9.0, align="center")  # fmt: skip
    # The periods table: header and three rows, each with the chair's line under the doctor's.
    top, bottom = 181.0, ROW_TOP[-1] + 11.0
    for x in TABLE:
        s.line(x, top, x, bottom, width=0.4)
    s.hline(TABLE[0], TABLE[-1], top, width=0.4)
    for row_top in ROW_TOP:
        s.hline(TABLE[0], TABLE[-1], row_top, width=0.4)
        s.hline(TABLE[2], TABLE[-1], row_top + 5.6, width=0.2)
        s.text(TABLE[1] - 1.0, row_top + 9.6, "председатель ВК", size=CAPTION - 1,
               align="right")  # fmt: skip
    s.hline(TABLE[0], TABLE[-1], bottom, width=0.4)
    s.hline(37.0, 100.0, 249.6, width=0.4)  # the doctor's signature
    for x1, y1, x2, y2 in ((120.0, 238.0, 195.0, 238.0), (120.0, 260.0, 195.0, 260.0),
                           (120.0, 238.0, 120.0, 260.0), (195.0, 238.0, 195.0, 260.0)):  # fmt: skip
        s.line(x1, y1, x2, y2, width=0.3)
    dashed(s, 15.0, 195.0, 262.0)
