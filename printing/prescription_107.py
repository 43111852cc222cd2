"""Рецептурный бланк формы № 107-1/у (Order 1094н of 24.11.2021, appendix 2), computer-made.

1094н app. 3 p. 1 lets this blank be made with a computer, so ARM prints the whole blank — the
captions and the filled-in values together — on plain paper. The page is A5 portrait (148 × 210
mm): the usual size of the printed blank, which pharmacies and doctors expect; on A4 half the
sheet would be wasted paper.

The lines, top to bottom, follow the blank (the reviewed transcription cited in
shared/FORMS.md §1): the Ministry, «Код формы по ОКУД» and «Код учреждения по ОКПО»; the stamp of
the organisation (or of a sole trader) beside «Медицинская документация / Форма № 107-1/у /
Утверждена приказом …»; «РЕЦЕПТ» with «(взрослый, детский – нужное подчеркнуть)», the chosen one
underlined, and the date of issue (p. 1); the patient, their birth date (with the full months
under one year, p. 7) and the doctor (pp. 6, 10); three «руб. | коп. | Rp.» blocks (p. 11, up to
three drugs, p. 15) — unused blocks are struck through so nothing can be added (common practice;
1094н does not say it, unverified); «Подпись и печать лечащего врача» and «М.П.» (p. 14); and
«Рецепт действителен в течение 60 дней, до 1 года (нужное подчеркнуть)» with the chosen term
underlined and the number of days (app. 1 p. 23). A prescription for up to a year carries «По
специальному назначению» and the dispensing interval (app. 1 p. 23).

Only the front is printed: the back (the medical commission's mark, p. 17, and the pharmacy's
«Приготовил / Проверил / Отпустил») is filled by hand, so the print is one-sided.

Nothing is cut: long names and signas wrap inside their block, and the type steps down from
9.5 to 7 pt until the blank fits on one A5 page; past that it continues on a second page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from printing.flow import Span
from printing.fonts import SERIF, SERIF_BOLD
from printing.page import CAPTION_SIZE, PLAIN, DocumentInfo, Margins, PrintOptions, Sheet
from printing.prescription import (
    A5,
    MINISTRY,
    ORDER_1094N,
    Organisation,
    Prescriber,
    PrescriptionItem,
    PrescriptionPatient,
    birth_text,
    dashed,
    date_words,
    measure_on,
    mm_of,
    options_spans,
    render_on,
    rp_lines,
    stamp_lines,
)

__all__ = ["MAX_ITEMS", "Prescription107", "render_prescription_107"]

MARGINS = Margins(top=7, right=8, bottom=7, left=10)
SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
"""Type sizes tried in turn until the blank fits on one A5 page."""
MAX_ITEMS = 3
"""Rp. blocks on the blank (1094n app. 3 p. 15: up to three drugs, one for some groups)."""
STANDARD_DAYS = 60
MAX_DAYS = 365
"""1094н app. 1 p. 23: 60 days; up to a year «По специальному назначению»."""

KIND = ("взрослый", "детский")
BLANK_DAYS = 26.0  # mm: the gap for the number of days, wide enough for its caption
PATIENT_CAPTION = "Фамилия, инициалы имени и отчества (последнее – при наличии) пациента"
DOCTOR_CAPTION = (
    "Фамилия, инициалы имени и отчества (последнее – при наличии) лечащего врача "
    "(фельдшера, акушерки)"
)
SOLE_TRADER_CAPTION = (
    "Наименование (штамп) индивидуального предпринимателя (указать адрес, номер и дату "
    "лицензии, наименование органа государственной власти, выдавшего лицензию)"
)


@dataclass(frozen=True)
class Prescription107:
    """Everything form 107-1/у prints.

    Attributes:
        organisation: the stamp (name, address, telephone) and the ОКПО code.
        issued_on: date of issue (app. 3 p. 1).
        patient: surname and initials, birth date.
        prescriber: surname and initials.
        items: one to three drugs, each an Rp. block.
        child: «детский» underlined instead of «взрослый».
        validity_days: 60 underlines «60 дней»; 61–365 underlines «до 1 года»; the number is
            written in «(указать количество дней)».
        special_purpose: «По специальному назначению» (app. 1 p. 23, for terms over 60 days).
        dispense_interval: how often the pharmacy dispenses under a long prescription
            («ежемесячно»), printed after «По специальному назначению».
    """

    organisation: Organisation
    issued_on: dt.date
    patient: PrescriptionPatient
    prescriber: Prescriber
    items: tuple[PrescriptionItem, ...]
    child: bool = False
    validity_days: int = STANDARD_DAYS
    special_purpose: bool = False
    dispense_interval: str = ""


def render_prescription_107(data: Prescription107, options: PrintOptions = PLAIN) -> bytes:
    """Form 107-1/у filled with ``data``, as PDF bytes (A5 portrait, one page when it fits).

    Raises:
        ValueError: no drug or more than three (the blank has three Rp. blocks), or a term
            that is neither 60 days nor up to a year — the blank has no place for it.
    """
    if not 1 <= len(data.items) <= MAX_ITEMS:
        raise ValueError(
            f"Рецепт 107-1/у: от 1 до {MAX_ITEMS} препаратов на бланке, задано {len(data.items)}"
        )
    if not STANDARD_DAYS <= data.validity_days <= MAX_DAYS:
        raise ValueError(
            f"Рецепт 107-1/у: срок действия 60 дней или до 1 года (61–365 дней), "
            f"задано {data.validity_days}"
        )
    for size in SIZES:
        draw = _drawer(data, size)
        if measure_on(draw, A5, options, MARGINS).page == 1:
            break
    info = DocumentInfo(
        title=f"Рецепт 107-1/у от {data.issued_on:%d.%m.%Y}, {data.patient.name}",
        subject="Рецептурный бланк формы № 107-1/у (приказ Минздрава России № 1094н)",
        author=data.prescriber.name,
    )
    return render_on(draw, info, A5, options, MARGINS)


def _drawer(data: Prescription107, size: float) -> Callable[[Sheet], None]:
    def draw(sheet: Sheet) -> None:
        _Form(sheet, data, size).draw()

    return draw


class _Form:
    def __init__(self, sheet: Sheet, data: Prescription107, size: float) -> None:
        self.s = sheet
        self.d = data
        self.size = size
        self.small = max(size - 1.5, 6.0)

    def gap(self, ems: float) -> None:
        self.s.space(mm_of(self.size, ems))

    def draw(self) -> None:
        self.header()
        self.title()
        self.people()
        for i in range(MAX_ITEMS):
            self.rp_block(self.d.items[i] if i < len(self.d.items) else None)
        self.special()
        self.signature()
        self.validity()

    # --- header: stamp | form caption --------------------------------------------------------
    def header(self) -> None:
        s, d, small = self.s, self.d, self.small
        top = s.y
        col = s.content_width * 0.48
        right_x = s.right - col

        s.paragraph(MINISTRY.replace(" Российской", "\nРоссийской"), size=small, width=col,
                    align="center")  # fmt: skip
        s.space(1.0)
        s.paragraph(
            "Наименование (штамп) медицинской организации", size=small, width=col, align="center"
        )
        org = d.organisation
        self.stamp(stamp_lines(org) if not org.sole_trader else [], col)
        s.space(0.8)
        s.paragraph(SOLE_TRADER_CAPTION, size=small - 0.5, width=col, align="center")
        self.stamp(stamp_lines(org) if org.sole_trader else [], col)
        left_end = s.y

        s.y = top
        s.paragraph(
            [Span("Код формы по ОКУД "), Span("", blank=22)], size=small, x=right_x, width=col
        )
        s.paragraph(
            [Span("Код учреждения по ОКПО "), Span(org.okpo, blank=18)],
            size=small,
            x=right_x,
            width=col,
        )
        s.space(1.5)
        s.paragraph("Медицинская документация", size=small, x=right_x, width=col, align="center")
        s.paragraph(
            [Span("Форма № 107-1/у", font=SERIF_BOLD)],
            size=self.size,
            x=right_x,
            width=col,
            align="center",
        )
        s.paragraph(
            "Утверждена приказом Министерства здравоохранения Российской Федерации " + ORDER_1094N,
            size=small,
            x=right_x,
            width=col,
            align="center",
        )
        s.y = max(s.y, left_end) + 1.5
        dashed(s, s.left, s.right, s.y)
        s.space(1.5)
        marks = int(s.options.duplicate) + int(s.options.draft)
        if marks:  # «ДУБЛИКАТ» / «ЧЕРНОВИК» boxed under the header, clear of every line
            s.mark_anchor = (s.right, s.y)
            s.space(marks * 8.0)

    def stamp(self, lines: list[str], width: float) -> None:
        """The stamp's text in a thin frame, or an empty frame to stamp by hand."""
        s = self.s
        top = s.y
        s.space(1.0)
        if lines:
            for i, line in enumerate(lines):
                font = SERIF_BOLD if i == 0 else SERIF
                s.paragraph([Span(line, font=font)], size=self.small, x=s.left + 1.5,
                            width=width - 3, align="center", leading=1.15)  # fmt: skip
        else:
            s.space(mm_of(self.small, 2.3))
        s.space(0.8)
        self._frame(s.left, top, width, s.y - top)

    def _frame(self, x: float, y: float, w: float, h: float) -> None:
        s = self.s
        s.line(x, y, x + w, y, width=0.3)
        s.line(x, y + h, x + w, y + h, width=0.3)
        s.line(x, y, x, y + h, width=0.3)
        s.line(x + w, y, x + w, y + h, width=0.3)

    # --- РЕЦЕПТ, kind, date --------------------------------------------------------------------
    def title(self) -> None:
        s, d = self.s, self.d
        s.paragraph([Span("РЕЦЕПТ", font=SERIF_BOLD)], size=self.size + 4, align="center")
        s.paragraph(
            [
                Span("("),
                *options_spans(KIND, 1 if d.child else 0),
                Span(" – нужное подчеркнуть)"),
            ],
            size=self.size,
            align="center",
            leading=1.35,
        )
        s.paragraph(date_words(d.issued_on), size=self.size, align="center")
        self.gap(0.5)

    # --- patient and doctor --------------------------------------------------------------------
    def people(self) -> None:
        s, d = self.s, self.d
        para = self.para
        para([Span(PATIENT_CAPTION + " "), Span(d.patient.name, font=SERIF_BOLD, fill=True)])
        para([Span("Дата рождения "), Span(birth_text(d.patient, d.issued_on), fill=True)])
        para([Span(DOCTOR_CAPTION + " "), Span(d.prescriber.name, fill=True)])
        s.space(1.0)

    def para(self, spans: list[Span]) -> None:
        self.s.paragraph(spans, size=self.size, leading=1.35)

    # --- Rp. blocks ----------------------------------------------------------------------------
    def rp_block(self, item: PrescriptionItem | None) -> None:
        """«руб. | коп. | Rp.» and the drug's three lines; an unused block is struck through."""
        s = self.s
        money = 9.0  # each of the «руб.» and «коп.» columns, mm
        text_x = s.left + 2 * money + 1.5
        width = s.right - text_x
        lines = 3
        s.ensure(mm_of(self.size, 1.3 * lines) + 3)
        top = s.y
        s.text(s.left + money / 2, top + mm_of(self.small, 0.9), "руб.", size=self.small,
               align="center")  # fmt: skip
        s.text(s.left + money * 1.5, top + mm_of(self.small, 0.9), "коп.", size=self.small,
               align="center")  # fmt: skip
        if item is None:
            s.text(text_x, top + mm_of(self.size, 0.9), "Rp.", font=SERIF_BOLD, size=self.size)
            s.space(mm_of(self.size, 1.3 * lines))
        else:
            what, quantity, signa = rp_lines(item)
            rows: list[list[Span]] = [
                [Span("Rp.: ", font=SERIF_BOLD), Span(what)],
                [Span("D.t.d. ", font=SERIF_BOLD), Span(quantity)],
                [Span("S. ", font=SERIF_BOLD), Span(signa)],
            ]
            for row in rows:
                s.paragraph(row, size=self.size, x=text_x, width=width, leading=1.3)
        bottom = s.y + 0.8
        for x in (s.left + money, s.left + 2 * money):
            s.line(x, top, x, bottom, width=0.3)
        if item is None:  # struck through: nothing may be written in later
            s.line(text_x + 8, bottom - 1.0, s.right - 2, top + 1.0, width=0.5)
        s.y = bottom + 0.6
        dashed(s, s.left, s.right, s.y, width=0.3)
        s.space(1.2)

    def special(self) -> None:
        d = self.d
        if not d.special_purpose:
            return
        spans = [Span("По специальному назначению", font=SERIF_BOLD)]
        if d.dispense_interval:
            spans += [Span(". Периодичность отпуска: "), Span(d.dispense_interval, underline=True)]
        self.s.paragraph(spans, size=self.size, leading=1.35)
        self.gap(0.3)

    # --- signature, seal, validity -------------------------------------------------------------
    def signature(self) -> None:
        s = self.s
        self.gap(1.2)
        s.ensure(mm_of(self.size, 4.5))
        label = "Подпись и печать лечащего врача"
        w = s.text_width(label, size=self.size)
        base = s.y + mm_of(self.size, 0.9)
        s.text(s.left, base, label, size=self.size)
        rule_x = s.left + w + 2
        rule_end = rule_x + 38
        s.hline(rule_x, rule_end, base + 0.6, width=0.4)
        s.text(rule_end + 10, base, "М.П.", font=SERIF_BOLD, size=self.size)
        s.space(mm_of(self.size, 1.25))
        s.text(s.left, s.y + mm_of(self.small, 0.9), "(подпись фельдшера, акушерки)",
               size=self.small)  # fmt: skip
        s.space(mm_of(self.small, 1.3))
        self.gap(1.2)

    def validity(self) -> None:
        s, d = self.s, self.d
        s.ensure(mm_of(self.size, 1.3) + mm_of(CAPTION_SIZE, 1.3))
        size = self.size
        chosen = 0 if d.validity_days == STANDARD_DAYS else 1
        spans = [
            Span("Рецепт действителен в течение "),
            *options_spans(("60 дней", "до 1 года"), chosen),
            Span(" ("),
            Span(str(d.validity_days), blank=BLANK_DAYS),
            Span(")"),
        ]
        # The captions stand under what they name: measure where each piece lands.
        lead = s.text_width("Рецепт действителен в течение ", size=size)
        opts = s.text_width("60 дней, до 1 года", size=size)
        total = lead + opts + s.text_width(" ()", size=size) + BLANK_DAYS
        x0 = s.left + max((s.content_width - total) / 2, 0)
        s.paragraph(spans, size=size, x=x0, width=s.right - x0, leading=1.3)
        cap = CAPTION_SIZE - 0.5
        base = s.y + mm_of(cap, 0.8)
        s.text(x0 + lead, base, "(нужное подчеркнуть)", size=cap)
        blank_end = x0 + lead + opts + s.text_width(" (", size=size) + BLANK_DAYS
        s.text(blank_end, base, "(указать количество дней)", size=cap, align="right")
        s.space(mm_of(cap, 1.3))
