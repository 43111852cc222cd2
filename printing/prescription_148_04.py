"""Рецептурный бланк формы № 148-1/у-04(л) (Order 1094н of 24.11.2021, appendix 2), computer-made.

The preferential prescription, for citizens entitled to free or discounted drugs (1094н app. 1
p. 10). App. 3 p. 5 allows the blank to be made with a computer and then adds the field «МЕСТО
ДЛЯ ШТРИХКОДА»; ARM prints the whole blank on A5 portrait (148 × 210 mm), the size of the
printed blank, so that it, the pharmacy part and the patient's stub fit one sheet.

The lines, top to bottom, follow the blank (the reviewed transcription cited in
shared/FORMS.md §1):

* the Ministry and the stamp, with «Код медицинской организации» — the ОГРН, 13 digits (or the
  ИП's ОГРНИП, 15), one digit per cell (app. 3 pp. 1, 5);
* «МЕСТО ДЛЯ ШТРИХКОДА*» with a Code128 of the series and number (a QR code if they hold
  characters Code128 cannot carry). 1094н names the field but not what the code carries; the
  series and number are what identify the blank (what a pharmacy's scanner expects is
  regional practice — unverified);
* «УТВЕРЖДЕНА приказом …», «Код формы по ОКУД 3108805», «Форма № 148-1/у-04(л)»;
* the benefit table: «Код категории граждан» (up to 3 digits, 178-ФЗ art. 6.1), «Код
  нозологической формы (по МКБ)» — one character per cell, the dot in a cell of its own (p. 5),
  «Источник финансирования» 1–3 and «% оплаты» 1–3, the chosen ones underlined (p. 5);
* «РЕЦЕПТ Серия … № … Дата оформления» — the series begins with the region's code, the first
  two ОКАТО digits (p. 1);
* the patient (surname and initials, p. 6), birth date in cells, СНИЛС (if any) and the ОМС
  policy (p. 8), the card number (p. 9), the doctor (p. 10);
* «Руб. Коп. Rp:» — one drug (p. 15), its name, form and strength over up to two dotted lines,
  then «D.t.d.» (quantity) and «Signa:» (p. 11);
* signature and seal, «М.П.» (p. 14);
* «Рецепт действителен в течение 15 дней, 30 дней, 90 дней (нужное подчеркнуть)», the chosen
  term underlined (app. 1 pp. 21–22; FORMS.md marks the 15/90 split as unverified for 1094н, so
  the term is the caller's choice among the three the blank prints);
* «(Заполняется специалистом аптечной организации)»: the pharmacy's cells, left empty;
* the line of tear and the stub (корешок) for the patient: drug, dosage, method, duration, doses
  per day and per dose. App. 3 p. 18 has the pharmacy mark the stub; ARM fills it from the
  prescription, as computer-made blanks commonly do, so the pharmacy checks rather than writes.

Only the front is printed (the back carries the medical commission's mark, p. 17, by hand).
Nothing is cut: long texts wrap, and the type steps down until the blank fits one A5 page;
past that it continues on a second page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from printing.flow import Span
from printing.fonts import SERIF, SERIF_BOLD
from printing.page import PLAIN, DocumentInfo, Margins, PrintOptions, Sheet
from printing.prescription import (
    A5,
    Organisation,
    Prescriber,
    PrescriptionItem,
    PrescriptionPatient,
    cells,
    dashed,
    measure_on,
    mm_of,
    options_spans,
    render_on,
    rp_lines,
    stamp_lines,
)

__all__ = [
    "FUNDING",
    "PAYMENT",
    "VALIDITY_DAYS",
    "Prescription148_04",
    "barcode_value",
    "render_prescription_148_04",
]

MARGINS = Margins(top=6, right=6, bottom=6, left=8)
SIZES = (9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5)
"""Type sizes tried in turn until the blank fits one A5 page."""

FUNDING = ((1, "Федеральный бюджет"), (2, "Бюджет субъекта Российской Федерации"),
           (3, "Муниципальный бюджет"))  # fmt: skip
"""«Источник финансирования» (1094н app. 3 p. 5), as the blank numbers them."""
PAYMENT = ((1, "Бесплатно"), (2, "50 %"), (3, "иной %"))
"""«% оплаты» (1094н app. 3 p. 5)."""
VALIDITY_DAYS = (15, 30, 90)
"""The terms the blank prints (1094н app. 1 pp. 21–22)."""

CODE_CELLS = 15  # the comb holds an ОГРНИП; an ОГРН fills its first 13 cells
CATEGORY_CELLS = 3
MKB_CELLS = 5  # «J45.0»: letter, two digits, the dot, one digit (the blank's five cells)
SNILS_CELLS = 14  # «123-456-789 01» as the number is written
POLICY_CELLS = 16  # the ЕНП; an older policy number makes the comb longer
CELL = 3.2  # mm, the pitch of the blank's combs
CELL_H = 4.2


@dataclass(frozen=True)
class Prescription148_04:
    """Everything form 148-1/у-04(л) prints.

    Attributes:
        organisation: the stamp; its ``ogrn`` is «Код медицинской организации».
        series: the blank's series; its first two digits are the region's ОКАТО code (p. 1).
        number: the blank's number.
        issued_on: date of issue (p. 1).
        category_code: «Код категории граждан», up to three digits (178-ФЗ art. 6.1).
        mkb: «Код нозологической формы (по МКБ)», «J45.0».
        funding: «Источник финансирования»: 1 федеральный, 2 субъекта РФ, 3 муниципальный.
        payment: «% оплаты»: 1 бесплатно, 2 50 %, 3 иной.
        patient: name, birth date, СНИЛС, policy, card number.
        prescriber: the doctor.
        item: the one drug (p. 15); its route, days, times per day and dose fill the stub.
        validity_days: 15, 30 or 90, underlined on the validity line.
    """

    organisation: Organisation
    series: str
    number: str
    issued_on: dt.date
    category_code: str
    mkb: str
    funding: int
    payment: int
    patient: PrescriptionPatient
    prescriber: Prescriber
    item: PrescriptionItem
    validity_days: int


def render_prescription_148_04(data: Prescription148_04, options: PrintOptions = PLAIN) -> bytes:
    """Form 148-1/у-04(л) filled with ``data``, as PDF bytes (A5 portrait).

    Raises:
        ValueError: a value the blank has no place for — a term other than 15/30/90 days, a
            financing source or payment outside 1–3, a code longer than its cells.
    """
    if data.validity_days not in VALIDITY_DAYS:
        raise ValueError(
            f"Рецепт 148-1/у-04(л): срок действия 15, 30 или 90 дней, задано {data.validity_days}"
        )
    if data.funding not in (1, 2, 3) or data.payment not in (1, 2, 3):
        raise ValueError("Рецепт 148-1/у-04(л): источник финансирования и % оплаты — 1, 2 или 3")
    for size in SIZES:
        draw = _drawer(data, size)
        if measure_on(draw, A5, options, MARGINS).page == 1:
            break
    info = DocumentInfo(
        title=f"Рецепт 148-1/у-04(л) серия {data.series} № {data.number}",
        subject="Рецептурный бланк формы № 148-1/у-04(л) (приказ Минздрава России № 1094н)",
        author=data.prescriber.name,
    )
    return render_on(draw, info, A5, options, MARGINS)


def barcode_value(data: Prescription148_04) -> str:
    """What «МЕСТО ДЛЯ ШТРИХКОДА» encodes: the series and the number.

    Digits alone (dashes and spaces dropped) when that is all they hold: Code128 packs a pair
    of digits in one symbol, so the code stays short enough for the field at a readable bar
    width. Otherwise the series and number as printed, separated by a space.
    """
    compact = "".join(ch for ch in data.series + data.number if ch not in "- ")
    if compact.isdigit():
        return compact
    return f"{data.series} {data.number}"


def _drawer(data: Prescription148_04, size: float) -> Callable[[Sheet], None]:
    def draw(sheet: Sheet) -> None:
        _Form(sheet, data, size).draw()

    return draw


class _Form:
    def __init__(self, sheet: Sheet, data: Prescription148_04, size: float) -> None:
        self.s = sheet
        self.d = data
        self.size = size
        self.small = size - 1.0
        self.em = mm_of(size, 1.0)

    def draw(self) -> None:
        self.header()
        self.benefit_table()
        self.recipe_line()
        self.patient()
        self.rp()
        self.signature()
        self.validity()
        self.pharmacy()
        self.stub()

    # --- helpers -------------------------------------------------------------------------------
    def label(self, x: float, y: float, text: str, *, size: float | None = None,
              font: str = SERIF) -> float:  # fmt: skip
        """Text with its top at ``y``; returns the x after it."""
        sz = size or self.size
        self.s.text(x, y + mm_of(sz, 0.8), text, font=font, size=sz)
        return x + self.s.text_width(text, font=font, size=sz)

    def comb(self, x: float, y: float, count: int, text: str, *, pitch: float = CELL) -> float:
        return cells(self.s, x, y, count, text, pitch=pitch, height=CELL_H, size=self.size)

    def para(self, spans: list[Span], *, x: float | None = None, width: float | None = None,
             size: float | None = None) -> None:  # fmt: skip
        self.s.paragraph(spans, size=size or self.size, x=x, width=width, leading=1.3)

    # --- header --------------------------------------------------------------------------------
    def header(self) -> None:
        s, d, small = self.s, self.d, self.small
        top = s.y
        left_w = CODE_CELLS * CELL + 1
        box_w = 40.0
        right_w = s.right - (s.left + left_w + box_w + 4)
        box_x = s.left + left_w + 2
        right_x = box_x + box_w + 2

        s.paragraph("Министерство здравоохранения\nРоссийской Федерации", size=small,
                    width=left_w, align="center")  # fmt: skip
        s.space(0.5)
        s.paragraph("Штамп", size=small - 0.5, width=left_w)
        org = d.organisation
        for i, line in enumerate(stamp_lines(org)):
            s.paragraph([Span(line, font=SERIF_BOLD if i == 0 else SERIF)], size=small - 0.5,
                        width=left_w, align="center", leading=1.1)  # fmt: skip
        s.space(0.8)
        for caption, code in (
            ("медицинской организации", "" if org.sole_trader else org.ogrn),
            ("индивидуального предпринимателя", org.ogrn if org.sole_trader else ""),
        ):
            s.paragraph(f"Код {caption}", size=small - 0.5, width=left_w)
            self.comb(s.left, s.y, CODE_CELLS, code)
            s.space(CELL_H + 0.8)
        left_end = s.y

        # «МЕСТО ДЛЯ ШТРИХКОДА*»: the caption, then the code inside the frame.
        box_h = 19.0
        s.rect(box_x, top, box_w, box_h, width=0.4)
        s.text(box_x + box_w / 2, top + mm_of(small - 1, 1.0), "МЕСТО ДЛЯ ШТРИХКОДА*",
               size=small - 1, align="center")  # fmt: skip
        value = barcode_value(d)
        inner = box_w - 2
        code_top = top + mm_of(small - 1, 1.4)
        if value.isascii() and s.code128_width(value, max_width=inner) <= inner:
            w = s.code128_width(value, max_width=inner)
            s.code128(value, x=box_x + (box_w - w) / 2, y=code_top, max_width=inner, height=9.0)
            s.text(box_x + box_w / 2, code_top + 9.0 + mm_of(small - 1, 1.0), value,
                   size=small - 1, align="center")  # fmt: skip
        else:
            side = box_h - (code_top - top) - 1
            s.qr(value, x=box_x + (box_w - side) / 2, y=code_top, size=side)

        s.y = top
        s.paragraph(
            "УТВЕРЖДЕНА\nприказом Министерства здравоохранения Российской Федерации "
            "от «24» ноября 2021 г. № 1094н",
            size=small,
            x=right_x,
            width=right_w,
            align="center",
        )
        s.space(1.0)
        s.paragraph("Код формы по ОКУД 3108805", size=small, x=right_x, width=right_w,
                    align="center")  # fmt: skip
        s.paragraph([Span("Форма № 148-1/у-04(л)", font=SERIF_BOLD)], size=self.size,
                    x=right_x, width=right_w, align="center")  # fmt: skip
        s.space(1.0)
        s.mark_anchor = (s.right, s.y)  # «ДУБЛИКАТ» / «ЧЕРНОВИК» under the form's name
        marks = int(s.options.duplicate) + int(s.options.draft)
        s.space(marks * 8.0)
        s.y = max(s.y, left_end, top + box_h) + 1.0

    # --- benefit table -------------------------------------------------------------------------
    def benefit_table(self) -> None:
        s, d, small = self.s, self.d, self.small
        widths = [CATEGORY_CELLS * CELL + 9, MKB_CELLS * CELL + 10]
        rest = s.content_width - sum(widths)
        widths += [rest * 0.57, rest * 0.43]
        xs = [s.left]
        for w in widths:
            xs.append(xs[-1] + w)
        top = s.y

        def heading(i: int, text: str) -> float:
            s.y = top + 0.8
            s.paragraph(text, size=small, x=xs[i] + 0.8, width=widths[i] - 1.6, align="center",
                        leading=1.1)  # fmt: skip
            return s.y

        ends = [
            heading(0, "Код категории граждан"),
            heading(1, "Код нозологической формы (по МКБ)"),
        ]
        for i, (title, items, chosen) in enumerate(
            (("Источник финансирования: (подчеркнуть)", FUNDING, d.funding),
             ("% оплаты: (подчеркнуть)", PAYMENT, d.payment)),
            start=2,
        ):  # fmt: skip
            heading(i, title)
            for number, text in items:
                s.paragraph(
                    [Span(f"{number}. "), Span(text, underline=number == chosen)],
                    size=small,
                    x=xs[i] + 1.5,
                    width=widths[i] - 2.5,
                    leading=1.25,
                )
            ends.append(s.y)
        comb_y = max(ends[:2]) + 1.0
        for i, (count, value) in enumerate(((CATEGORY_CELLS, d.category_code),
                                            (MKB_CELLS, d.mkb.upper()))):  # fmt: skip
            x = xs[i] + (widths[i] - count * CELL) / 2
            self.comb(x, comb_y, count, value)
        bottom = max(comb_y + CELL_H, *ends[2:]) + 1.0
        for x in xs:
            s.line(x, top, x, bottom, width=0.4)
        s.line(xs[0], top, xs[-1], top, width=0.4)
        s.line(xs[0], bottom, xs[-1], bottom, width=0.4)
        s.y = bottom + 1.2

    # --- РЕЦЕПТ, series, number, date ---------------------------------------------------------------
    def recipe_line(self) -> None:
        s, d = self.s, self.d
        top = s.y
        big = self.size + 3
        x = self.label(s.left, top, "РЕЦЕПТ", size=big, font=SERIF_BOLD) + 3
        y = top + mm_of(big, 0.25)
        x = self.label(x, y, "Серия ", size=self.small)
        x = self.blank(x, y, d.series, 20, font=SERIF_BOLD)
        x = self.label(x + 1.5, y, "№ ", size=self.small)
        x = self.blank(x, y, d.number, 22, font=SERIF_BOLD)
        x = self.label(x + 2, y, "Дата оформления: ")
        x = self.date_cells(x, y - 0.6, d.issued_on, year4=False)
        s.y = top + mm_of(big, 1.25)

    def blank(self, x: float, y: float, value: str, width: float, *, font: str = SERIF) -> float:
        """A value centred on a rule ``width`` mm long (longer values lengthen the rule)."""
        s = self.s
        w = max(width, s.text_width(value, font=font, size=self.size) + 2)
        base = y + mm_of(self.size, 0.8)
        s.text(x + w / 2, base, value, font=font, size=self.size, align="center")
        s.hline(x, x + w, base + 0.6, width=0.4)
        return x + w

    def date_cells(self, x: float, y: float, d: dt.date, *, year4: bool) -> float:
        x = self.comb(x, y, 2, f"{d.day:02d}") + 1.2
        x = self.comb(x, y, 2, f"{d.month:02d}") + 1.2
        if year4:
            return self.comb(x, y, 4, f"{d.year:04d}")
        x = self.label(x, y + 0.4, "20")
        x = self.blank(x, y + 0.4, f"{d.year % 100:02d}", 5)
        return self.label(x, y + 0.4, " г.")

    # --- patient and doctor --------------------------------------------------------------------
    def patient(self) -> None:
        s, d = self.s, self.d
        p = d.patient
        s.paragraph("Фамилия, инициалы имени и отчества (последнее – при наличии)",
                    size=self.size, leading=1.15)  # fmt: skip
        top = s.y
        date_w = 8 * CELL + 2.4
        label_w = s.text_width("Дата рождения ", size=self.size)
        name_w = s.content_width - date_w - label_w - 2
        s.paragraph([Span("пациента "), Span(p.name, font=SERIF_BOLD, fill=True)], size=self.size,
                    width=name_w, leading=1.3)  # fmt: skip
        x = self.label(s.right - date_w - label_w, top + 0.3, "Дата рождения ")
        self.date_cells(x, top - 0.2, p.birth_date, year4=True)
        s.y = max(s.y, top + CELL_H) + 1.0

        top = s.y
        x = self.label(s.left, top + 0.2, "СНИЛС ", font=SERIF_BOLD)
        self.comb(x + 1, top - 0.3, SNILS_CELLS, p.snils)
        s.y = top + CELL_H + 1.0

        top = s.y
        caption = "№ полиса обязательного медицинского страхования: "
        x = self.label(s.left, top + 0.2, caption)
        self.comb(x + 1, top - 0.3, max(POLICY_CELLS, len(p.policy)), p.policy,
                  pitch=min(CELL, (s.right - x - 1) / max(POLICY_CELLS, len(p.policy))))  # fmt: skip
        s.y = top + CELL_H + 1.0

        self.para([Span("Номер медицинской карты пациента, получающего медицинскую помощь в "
                        "амбулаторных условиях "), Span(p.card_number, fill=True)])  # fmt: skip
        self.para([Span("Фамилия, инициалы имени и отчества (последнее – при наличии) лечащего "
                        "врача (фельдшера, акушерки) "), Span(d.prescriber.name, fill=True)])  # fmt: skip
        s.space(0.8)

    # --- Rp ------------------------------------------------------------------------------------------
    def rp(self) -> None:
        s = self.s
        what, quantity, signa = rp_lines(self.d.item)
        text_x = s.left + 29
        width = s.right - text_x
        top = s.y
        base = top + mm_of(self.size, 0.9)
        s.text(s.left, base, "Руб.", size=self.size)
        s.text(s.left + 9, base, "Коп.", size=self.size)
        s.text(s.left + 18, base, "Rp:", font=SERIF_BOLD, size=self.size)
        lead = 1.35
        row = mm_of(self.size, lead)
        before = s.y
        s.paragraph([Span(what)], size=self.size, x=text_x, width=width, leading=lead)
        if s.y - before < 2 * row - 0.01:  # the blank gives the name two dotted lines
            s.y = before + 2 * row
        self._dots(text_x, before, s.y, row)
        for label, value in (("D.t.d.", quantity), ("Signa:", signa)):
            before = s.y
            s.text(s.left + 18, s.y + mm_of(self.size, 0.9), label, font=SERIF_BOLD,
                   size=self.size)  # fmt: skip
            s.paragraph([Span(value)], size=self.size, x=text_x, width=width, leading=lead)
            self._dots(text_x, before, s.y, row)
        s.space(0.8)
        s.hline(s.left, s.left + s.content_width * 0.8, s.y, width=0.4)
        s.space(1.0)

    def _dots(self, x: float, top: float, bottom: float, row: float) -> None:
        """The dotted rules the Rp lines stand on (one per line)."""
        y = top + row - mm_of(self.size, 0.12)
        while y <= bottom + 0.01:
            dashed(self.s, x, self.s.right, y, dash=0.3, gap=0.9, width=0.4)
            y += row

    # --- signature and validity ----------------------------------------------------------------
    def signature(self) -> None:
        s = self.s
        s.ensure(mm_of(self.size, 3.0))
        base = s.y + mm_of(self.size, 0.9)
        label = "Подпись и печать лечащего врача"
        x = s.left + s.text_width(label, size=self.size) + 2
        s.text(s.left, base, label, size=self.size)
        s.hline(x, x + 40, base + 0.6, width=0.4)
        s.text(x + 52, base + mm_of(self.size, 0.6), "М.П.", font=SERIF_BOLD, size=self.size)
        s.space(mm_of(self.size, 1.2))
        s.text(s.left, s.y + mm_of(self.small, 0.9), "(подпись фельдшера, акушерки)",
               size=self.small)  # fmt: skip
        s.space(mm_of(self.small, 1.6))

    def validity(self) -> None:
        s, d = self.s, self.d
        labels = tuple(f"{n} дней" for n in VALIDITY_DAYS)
        spans = [
            Span("Рецепт действителен в течение "),
            *options_spans(labels, VALIDITY_DAYS.index(d.validity_days)),
            Span(" (нужное подчеркнуть)"),
        ]
        s.paragraph(spans, size=self.size, align="center", leading=1.35)
        s.space(1.0)

    # --- pharmacy part -------------------------------------------------------------------------------
    def cut_caption(self, text: str) -> None:
        """A caption between two dashed rules across the page (pharmacy part, line of tear)."""
        s = self.s
        size = self.small
        s.ensure(mm_of(size, 1.4))
        w = s.text_width(text, size=size) + 4
        mid = s.left + s.content_width / 2
        y = s.y + mm_of(size, 0.55)
        dashed(s, s.left, mid - w / 2, y)
        dashed(s, mid + w / 2, s.right, y)
        s.text(mid, s.y + mm_of(size, 0.85), text, size=size, align="center")
        s.space(mm_of(size, 1.4))

    def table(self, rows: list[tuple[list[Span], list[Span]]], *, min_h: float) -> None:
        """Two framed columns; each cell holds a paragraph, the row as tall as its fuller cell."""
        s = self.s
        half = s.content_width / 2
        for left, right in rows:
            s.ensure(min_h)
            top = s.y
            ends = []
            for i, spans in enumerate((left, right)):
                s.y = top + 0.6
                s.paragraph(spans, size=self.small, x=s.left + i * half + 1.2, width=half - 2.4,
                            leading=1.3)  # fmt: skip
                ends.append(s.y)
            bottom = max(top + min_h, *ends) + 0.4
            for x in (s.left, s.left + half, s.right):
                s.line(x, top, x, bottom, width=0.4)
            s.hline(s.left, s.right, top, width=0.4)
            s.hline(s.left, s.right, bottom, width=0.4)
            s.y = bottom

    def pharmacy(self) -> None:
        self.cut_caption("(Заполняется специалистом аптечной организации)")
        blank = 18.0
        self.table(
            [
                ([Span("Отпущено по рецепту:", underline=True)],
                 [Span("Торговое наименование и дозировка:")]),
                ([Span("Дата отпуска: «"), Span("", blank=5), Span("» "), Span("", blank=blank),
                  Span(" 20"), Span("", blank=4), Span(" г.")],
                 [Span("Количество:")]),
                ([Span("Приготовил:")],
                 [Span("Проверил:"), Span("", blank=blank), Span("  Отпустил:")]),
            ],
            min_h=mm_of(self.small, 2.6),
        )  # fmt: skip
        self.s.space(1.0)

    def stub(self) -> None:
        s, item = self.s, self.d.item
        self.cut_caption("(линия отрыва)")
        route = item.route or item.signa
        days = str(item.days) if item.days is not None else ""
        times = str(item.times_per_day) if item.times_per_day is not None else ""
        drug = ", ".join(p for p in (item.drug, item.form) if p)
        self.table(
            [
                (
                    [Span("Корешок рецептурного бланка", underline=True, font=SERIF_BOLD),
                     Span("\nНаименование лекарственного препарата: "),
                     Span(drug, font=SERIF_BOLD),
                     Span("\nДозировка: "), Span(item.strength, font=SERIF_BOLD)],
                    [Span("Способ применения: "), Span(route, font=SERIF_BOLD),
                     Span("\nПродолжительность "), Span(days, blank=12), Span(" дней"),
                     Span("\nКоличество приемов в день: "), Span(times, blank=10), Span(" раз"),
                     Span("\nНа 1 прием: "), Span(item.per_dose, blank=18), Span(" ед.")],
                ),
            ],
            min_h=mm_of(self.small, 5.5),
        )  # fmt: skip
        s.space(0.8)
        s.paragraph("* В случае изготовления рецептурного бланка с использованием компьютерных "
                    "технологий.", size=self.small - 0.5)  # fmt: skip
