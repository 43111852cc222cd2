"""Рецептурный бланк формы № 148-1/у-88 (Order 1094н of 24.11.2021, appendix 2): overlay and draft.

This blank is made **by a print shop only** (1094н app. 3 p. 1): ARM may not print it on plain
paper. So there are two ways to print it, chosen by ``PrintOptions.draft``:

* **overlay** (``draft=False``) — only the filled-in values, each at a fixed place of the
  pre-printed blank fed into the printer: the stamp's text, the date, the line under «взрослый» or
  «детский», the patient, their birth date, address or card number, the doctor and the Rp. lines.
  No caption, rule or cell is printed — the blank has them. The series and number are printed
  by the print shop and are not overprinted. The whole page moves by ``PrintOptions.offset_mm``
  (the printer's offset, measured once with the calibration sheet, :mod:`printing.calibration`);
* **draft** (``draft=True``) — the whole blank drawn on plain paper, captions, rules and cells
  with the values in place, marked «ЧЕРНОВИК — НЕ ЗАМЕНЯЕТ БЛАНК» in a box at the top, and with
  ``printing.page``'s own draft marks (the boxed «ЧЕРНОВИК — не заменяет бланк» and the same
  words in light grey across the page). It is for checking the values — and, held to the light
  over a real blank, the positions.

:data:`POSITIONS` is the one table of where each value goes, in millimetres from the blank's
top-left corner (x to the right, y down to the first line's baseline). It follows the blank's
layout line by line (the reviewed transcription cited in shared/FORMS.md §1: «Серия» 3 cells and
«№» 4 cells, «РЕЦЕПТ «__» ____ 20__ г.», «(взрослый, детский – нужное подчеркнуть)», patient,
birth date, «Адрес места жительства или № медицинской карты …», doctor, «Руб. Коп. Rp:» with
five lines, signature and «М.П.», «Рецепт действителен в течение 15 дней») on an A5 blank (148 ×
210 mm). The millimetres are this module's own drawing of that layout — the draft draws the
captions from :data:`CAPTIONS` at the same coordinates — and are **unverified against a
particular print shop's blank** (their blanks differ by a few millimetres). A shift of the whole
blank is the printer's offset; a single line that lands wrong is one edit of :data:`POSITIONS`.

One drug per blank (app. 3 p. 15); «Рецепт действителен в течение 15 дней» (app. 1 p. 20) is
pre-printed. The organisation's seal «Для рецептов» and the doctor's signature and seal
(p. 14) are put by hand; the back (the medical commission's mark, p. 17) is not printed.

An overlay value cannot move to another line or page: one that does not fit its place even at
7 pt is refused (``ValueError``, naming the field) rather than cut or printed over a caption.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from printing.flow import Span, layout_spans
from printing.fonts import SERIF, SERIF_BOLD, register_fonts
from printing.page import MM, PLAIN, DocumentInfo, Margins, PrintOptions, Sheet
from printing.prescription import (
    A5,
    Organisation,
    Prescriber,
    PrescriptionItem,
    PrescriptionPatient,
    birth_text,
    cells,
    dashed,
    render_on,
    rp_lines,
    stamp_lines,
)
from printing.ru import month_genitive

__all__ = [
    "CAPTIONS",
    "DRAFT_BANNER",
    "POSITIONS",
    "Prescription148_88",
    "Slot",
    "render_prescription_148_88",
]

DRAFT_BANNER = "ЧЕРНОВИК — НЕ ЗАМЕНЯЕТ БЛАНК"
VALUE_SIZES = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
"""Type sizes a value steps down through until it fits its place."""
CAPTION = 7.5  # points, the blank's captions in the draft
KIND = ("взрослый", "детский")
KIND_LINE = "(взрослый, детский – нужное подчеркнуть)"


@dataclass(frozen=True)
class Slot:
    """Where a value goes on the blank: the first baseline at (x, y) mm, ``width`` mm wide,
    ``lines`` lines ``pitch`` mm apart."""

    x: float
    y: float
    width: float
    lines: int = 1
    pitch: float = 5.0


# The blank's layout, A5 portrait, mm from the top-left corner (see the module's docstring:
# it follows the blank's lines; the millimetres are unverified against a print shop's blank).
POSITIONS: dict[str, Slot] = {
    "stamp": Slot(12.0, 31.0, 56.0, lines=5, pitch=3.3),  # «Наименование (штамп) МО»
    "sole_trader_stamp": Slot(12.0, 66.0, 56.0, lines=3, pitch=3.3),  # ИП's stamp
    "series": Slot(52.0, 77.0, 18.0),  # 3 cells of 6 mm (pre-printed; drawn in the draft only)
    "number": Slot(82.0, 77.0, 24.0),  # 4 cells of 6 mm (pre-printed; drawn in the draft only)
    "day": Slot(48.5, 91.0, 6.0),  # «__»
    "month": Slot(57.0, 91.0, 27.0),  # ______
    "year": Slot(90.5, 91.0, 6.0),  # 20__
    "kind": Slot(28.0, 101.0, 80.0),  # the line of «(взрослый, детский – …)» to underline in
    "patient": Slot(26.0, 114.0, 112.0),  # after «пациента»
    "birth_date": Slot(35.0, 121.0, 103.0),  # after «Дата рождения»
    "address": Slot(88.0, 133.0, 50.0, lines=2, pitch=5.0),  # address or card №: 2 lines
    "address_more": Slot(10.0, 138.0, 128.0),  # the second line runs the full width
    "doctor": Slot(66.0, 150.0, 72.0),  # after «лечащего врача (фельдшера, акушерки)»
    "rp": Slot(42.0, 158.0, 96.0, lines=5, pitch=5.0),  # «Руб. Коп. Rp:» and its five lines
}

# The draft's captions, at the same coordinates (x, baseline y, text, bold, size, align).
CAPTIONS: tuple[tuple[float, float, str, bool, float, str], ...] = (
    (10.0, 15.0, "Министерство здравоохранения", False, CAPTION, "left"),
    (10.0, 18.5, "Российской Федерации", False, CAPTION, "left"),
    (10.0, 23.0, "Наименование (штамп)", False, CAPTION, "left"),
    (10.0, 26.3, "медицинской организации", False, CAPTION, "left"),
    (10.0, 50.0, "Наименование (штамп)", False, CAPTION, "left"),
    (10.0, 53.0, "индивидуального предпринимателя", False, CAPTION - 0.5, "left"),
    (10.0, 56.0, "(указать адрес, номер и дату лицензии,", False, CAPTION - 0.5, "left"),
    (10.0, 59.0, "наименование органа государственной власти,", False, CAPTION - 0.5, "left"),
    (10.0, 62.0, "выдавшего лицензию)", False, CAPTION - 0.5, "left"),
    (108.0, 15.0, "Код формы по ОКУД 3108805", False, CAPTION, "center"),
    (108.0, 21.0, "Медицинская документация", False, CAPTION, "center"),
    (108.0, 25.5, "Форма № 148-1/у-88", True, 9.0, "center"),
    (108.0, 30.0, "Утверждена приказом", False, CAPTION, "center"),
    (108.0, 33.3, "Министерства здравоохранения", False, CAPTION, "center"),
    (108.0, 36.6, "Российской Федерации", False, CAPTION, "center"),
    (108.0, 39.9, "от 24 ноября 2021 г. № 1094н", False, CAPTION, "center"),
    (42.0, 77.0, "Серия", False, CAPTION, "left"),
    (77.0, 77.0, "№", False, CAPTION, "left"),
    (10.0, 91.0, "РЕЦЕПТ", True, 14.0, "left"),
    (46.0, 91.0, "«", False, 10.0, "left"),
    (54.5, 91.0, "»", False, 10.0, "left"),
    (85.5, 91.0, "20", False, 10.0, "left"),
    (97.5, 91.0, "г.", False, 10.0, "left"),
    (72.0, 95.0, "(дата оформления-рецепта)", False, CAPTION - 0.5, "center"),
    (28.0, 101.0, KIND_LINE, False, 10.0, "left"),
    (10.0, 109.0, "Фамилия, инициалы имени и отчества (последнее – при наличии)", False, 10.0,
     "left"),
    (10.0, 114.0, "пациента", False, 10.0, "left"),
    (10.0, 121.0, "Дата рождения", False, 10.0, "left"),
    (10.0, 128.0, "Адрес места жительства или № медицинской карты амбулаторного пациента,",
     False, 9.0, "left"),
    (10.0, 133.0, "получающего медицинскую помощь в амбулаторных условиях", False, 8.0, "left"),
    (10.0, 145.0, "Фамилия, инициалы имени и отчества (последнее – при наличии)", False, 10.0,
     "left"),
    (10.0, 150.0, "лечащего врача (фельдшера, акушерки)", False, 9.0, "left"),
    (10.0, 158.0, "Руб.", False, 9.0, "left"),
    (21.0, 158.0, "Коп.", False, 9.0, "left"),
    (33.0, 158.0, "Rp:", True, 10.0, "left"),
    (10.0, 190.0, "Подпись и печать лечащего врача", False, 10.0, "left"),
    (112.0, 190.0, "М.П.", True, 10.0, "left"),
    (10.0, 194.0, "(подпись фельдшера, акушерки)", False, CAPTION, "left"),
    (74.0, 203.0, "Рецепт действителен в течение 15 дней", False, 10.0, "center"),
)  # fmt: skip

MARK_ANCHOR = (138.0, 5.0)  # top-right corner of page.py's boxed marks on the overlay
CELL_W = 6.0
CELL_H = 7.0
MARGINS = Margins(top=0, right=0, bottom=0, left=0)  # every place is absolute


@dataclass(frozen=True)
class Prescription148_88:
    """Everything form 148-1/у-88 carries.

    Attributes:
        organisation: the stamp (name, address, telephone).
        series: the blank's series (print shop), up to 3 characters — the draft shows it.
        number: the blank's number (print shop), up to 4 characters — the draft shows it.
        issued_on: date of issue (app. 3 p. 1).
        patient: surname and initials, birth date, and the address and/or the card number
            (p. 9: either, or both).
        prescriber: the doctor.
        item: the one drug (p. 15).
        child: «детский» underlined instead of «взрослый».
    """

    organisation: Organisation
    series: str
    number: str
    issued_on: dt.date
    patient: PrescriptionPatient
    prescriber: Prescriber
    item: PrescriptionItem
    child: bool = False


def render_prescription_148_88(data: Prescription148_88, options: PrintOptions = PLAIN) -> bytes:
    """Form 148-1/у-88 as PDF bytes (A5): the overlay, or with ``options.draft`` the draft.

    Raises:
        ValueError: a value that does not fit its place on the blank, naming the field.
    """
    register_fonts()  # _check measures text before any sheet exists
    _check(data)
    info = DocumentInfo(
        title=f"Рецепт 148-1/у-88 серия {data.series} № {data.number}"
        + (" (черновик)" if options.draft else ""),
        subject="Рецептурный бланк формы № 148-1/у-88 (приказ Минздрава России № 1094н)",
        author=data.prescriber.name,
    )

    def draw(sheet: Sheet) -> None:
        # «ДУБЛИКАТ» boxed in the top margin, above every line of the blank (the kit's default,
        # the paper's very corner with these zero margins, is outside what a printer prints).
        sheet.mark_anchor = MARK_ANCHOR
        if options.draft:
            _draw_blank(sheet, data)
        _fill(sheet, data)

    return render_on(draw, info, A5, options, MARGINS)


def _check(data: Prescription148_88) -> None:
    """Every value must fit its place before anything is drawn (refuse, never cut)."""
    if len(data.series) > 3 or len(data.number) > 4:
        raise ValueError("Рецепт 148-1/у-88: серия — до 3 знаков, номер — до 4 (ячейки бланка)")
    for name, spans in _values(data).items():
        if _fit(name, spans) is None:
            raise ValueError(f"Рецепт 148-1/у-88: «{_LABELS[name]}» не помещается на бланке")


_LABELS = {
    "stamp": "Наименование (штамп)",
    "sole_trader_stamp": "Наименование (штамп) ИП",
    "patient": "Фамилия, инициалы пациента",
    "birth_date": "Дата рождения",
    "address": "Адрес места жительства или № медицинской карты",
    "doctor": "Фамилия, инициалы лечащего врача",
    "rp": "Rp",
}


def _values(data: Prescription148_88) -> dict[str, list[Span]]:
    """The flowing values, as spans for their places (the date and the kind are placed apart)."""
    org = data.organisation
    stamp = [Span(line + "\n", font=SERIF_BOLD if i == 0 else SERIF)
             for i, line in enumerate(stamp_lines(org))]  # fmt: skip
    p = data.patient
    where = "; ".join(
        part for part in (p.address, f"№ карты {p.card_number}" if p.card_number else "") if part
    )
    what, quantity, signa = rp_lines(data.item)
    return {
        "stamp": [] if org.sole_trader else stamp,
        "sole_trader_stamp": stamp if org.sole_trader else [],
        "patient": [Span(p.name)],
        "birth_date": [Span(birth_text(p, data.issued_on))],
        "address": [Span(where)],
        "doctor": [Span(data.prescriber.name)],
        "rp": [Span(what + "\n"), Span("D.t.d. ", font=SERIF_BOLD), Span(quantity + "\n"),
               Span("S. ", font=SERIF_BOLD), Span(signa)],
    }  # fmt: skip


def _fit(name: str, spans: list[Span]) -> float | None:
    """The largest value size at which ``spans`` fit their place, or None.

    The address has two places — its line after the caption and a full-width line under it —
    so it fits when its first line fits the first and the rest fits the second.
    """
    slot = POSITIONS[name]
    sizes = VALUE_SIZES if name not in ("stamp", "sole_trader_stamp") else (8.0, 7.5, 7.0, 6.5)
    for size in sizes:
        if name == "address":
            if _address_lines(spans, size) is not None:
                return size
            continue
        if len(layout_spans(spans, slot.width * MM, size)) <= slot.lines:
            return size
    return None


def _address_lines(spans: list[Span], size: float) -> tuple[str, str] | None:
    text = "".join(s.text for s in spans)
    first = layout_spans([Span(text)], POSITIONS["address"].width * MM, size)
    head = "".join(b.text for b in first[0].boxes) if first else ""
    rest = text[len(head) :].strip()
    if rest and len(layout_spans([Span(rest)], POSITIONS["address_more"].width * MM, size)) > 1:
        return None
    return head, rest


def _fill(sheet: Sheet, data: Prescription148_88) -> None:
    """The values only, at their places — what the overlay prints on the pre-printed blank."""
    for name, spans in _values(data).items():
        if not spans:
            continue
        size = _fit(name, spans)
        assert size is not None  # _check refused it otherwise
        if name == "address":
            lines = _address_lines(spans, size)
            assert lines is not None
            for slot_name, text in zip(("address", "address_more"), lines, strict=True):
                slot = POSITIONS[slot_name]
                sheet.text(slot.x, slot.y, text, size=size)
            continue
        slot = POSITIONS[name]
        em = size / MM
        sheet.y = slot.y - em * 0.9  # paragraph() puts the first baseline 0.9 em down
        sheet.paragraph(spans, size=size, x=slot.x, width=slot.width, leading=slot.pitch / em)
    d = data.issued_on
    for name, text in (("day", f"{d.day:02d}"), ("month", month_genitive(d)),
                       ("year", f"{d.year % 100:02d}")):  # fmt: skip
        slot = POSITIONS[name]
        sheet.text(slot.x + slot.width / 2, slot.y, text, size=10.0, align="center")
    # «нужное подчеркнуть»: a rule under the chosen word of the pre-printed line.
    slot = POSITIONS["kind"]
    chosen = KIND[1] if data.child else KIND[0]
    start = KIND_LINE.index(chosen)
    x0 = slot.x + sheet.text_width(KIND_LINE[:start], size=10.0)
    x1 = x0 + sheet.text_width(chosen, size=10.0)
    sheet.hline(x0, x1, slot.y + 0.8, width=0.7)


def _draw_blank(sheet: Sheet, data: Prescription148_88) -> None:
    """The pre-printed blank itself, for the draft: banner, captions, rules, cells, frames."""
    s = sheet
    # The banner: big, boxed, at the top, where no line of the blank is.
    size = 13.0
    w = s.text_width(DRAFT_BANNER, font=SERIF_BOLD, size=size) + 6
    s.rect((s.width - w) / 2, 3.5, w, 7.0, width=1.2)
    s.text(s.width / 2, 9.0, DRAFT_BANNER, font=SERIF_BOLD, size=size, align="center")
    s.mark_anchor = (138.0, 42.5)  # page.py's boxed marks: under the form's caption, clear
    for x, y, text, is_bold, sz, align in CAPTIONS:
        s.text(x, y, text, font=SERIF_BOLD if is_bold else SERIF, size=sz, align=align)
    # Stamp areas, the separator, the cells of the series and the number.
    for top, bottom in ((27.5, 48.0), (63.5, 72.0)):
        _frame(s, 10.0, top, 60.0, bottom - top)
    dashed(s, 10.0, 138.0, 73.5)
    for name, count, value in (("series", 3, data.series), ("number", 4, data.number)):
        slot = POSITIONS[name]
        cells(s, slot.x, slot.y - 5.0, count, value, pitch=CELL_W, height=CELL_H, size=11.0)
    # The rules values stand on.
    for name in ("day", "month", "year", "patient", "birth_date", "address", "address_more",
                 "doctor"):  # fmt: skip
        slot = POSITIONS[name]
        for i in range(slot.lines):
            y = slot.y + i * slot.pitch + 1.0
            s.hline(slot.x, slot.x + slot.width, y, width=0.4)
    rp = POSITIONS["rp"]
    for i in range(rp.lines):
        s.hline(rp.x, rp.x + rp.width, rp.y + i * rp.pitch + 1.0, width=0.3)
    s.line(19.0, rp.y - 4.0, 19.0, rp.y + rp.lines * rp.pitch, width=0.3)
    s.line(30.0, rp.y - 4.0, 30.0, rp.y + rp.lines * rp.pitch, width=0.3)
    dashed(s, 10.0, 138.0, rp.y + rp.lines * rp.pitch + 2.0)
    s.hline(62.0, 105.0, 190.8, width=0.4)  # the signature's rule


def _frame(s: Sheet, x: float, y: float, w: float, h: float) -> None:
    for x1, y1, x2, y2 in ((x, y, x + w, y), (x, y + h, x + w, y + h), (x, y, x, y + h),
                           (x + w, y, x + w, y + h)):  # fmt: skip
        s.line(x1, y1, x2, y2, width=0.3)
