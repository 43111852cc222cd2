"""The patient's informational sheet of an electronic sick-leave certificate (ЭЛН).

Since 01.01.2022 a sick-leave certificate is an electronic document (Order 1089н of 23.11.2021
as amended by 790н; 255-ФЗ art. 13): it is signed with the organisation's and the doctors'
qualified electronic signatures and sent to the Social Fund, and there is no paper certificate to
hand over (shared/FORMS.md §2). What the patient takes home is this sheet: which organisation
formed the certificate, its 12-digit number (large, and as a Code128 barcode for an employer's
or a registry's scanner), whether it is primary, a continuation of another (with that number) or
a duplicate, the patient and their employer, the reason with its words, every release period
with its doctor and, where the medical commission decided, its chair, a regime violation if
any, and how it closed. It is not a certificate and says so; giving the patient such a printout
is practice rather than a rule of 1089н (FORMS.md §4 marks it unverified).

The codes' words are the Social Fund's code book as its exchange service returns them (the
ЭЛН data model cited in FORMS.md §2 [L5]): reasons 01–15, regime violations 23–28, other
outcomes 31–37, a carer's relation 38–42. A code the book does not have is printed as it is.

The data are the same as for the overlay of the paper blank (:mod:`printing.sick_leave_347`):
:class:`SickLeave` holds everything both print.

Printed on A4 or A5 (``paper``). Nothing is cut: the periods table grows, long names wrap, the
type steps down until the sheet fits one page; what fits on none goes on to a second page at
the largest type, the table's header repeated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from printing.flow import Span, layout_spans
from printing.fonts import SERIF, SERIF_BOLD, SERIF_ITALIC
from printing.page import (
    CAPTION_SIZE,
    DRAFT_MARK,
    DUPLICATE_MARK,
    MM,
    PLAIN,
    DocumentInfo,
    Margins,
    PrintOptions,
    Sheet,
)
from printing.prescription import A4, A5, date_digits, measure_on, mm_of, render_on

__all__ = [
    "OUTCOMES",
    "REASONS",
    "RELATIONS",
    "VIOLATIONS",
    "CaredPerson",
    "Paper",
    "RegimeViolation",
    "ReleasePeriod",
    "SickLeave",
    "code_words",
    "render_sick_leave_sheet",
]

Paper = Literal["A4", "A5"]

REASONS: dict[str, str] = {
    "01": "заболевание",
    "02": "травма",
    "03": "карантин",
    "04": "несчастный случай на производстве или его последствия",
    "05": "отпуск по беременности и родам",
    "06": "протезирование в стационаре",
    "07": "профессиональное заболевание или его обострение",
    "08": "долечивание в санатории",
    "09": "уход за больным членом семьи",
    "10": "иное состояние (отравление, проведение манипуляций и др.)",
    "11": "заболевание туберкулезом",
    "12": "заболевание ребенка из перечня Минздрава России",
    "13": "ребенок-инвалид",
    "14": "поствакцинальное осложнение или злокачественное новообразование у ребенка",
    "15": "ВИЧ-инфицированный ребенок",
}
"""Причина нетрудоспособности (REASON1), the code book's words."""

VIOLATIONS: dict[str, str] = {
    "23": "несоблюдение предписанного режима, самовольный уход из стационара, выезд на "
    "лечение в другой административный район без разрешения лечащего врача",
    "24": "несвоевременная явка на прием к врачу",
    "25": "выход на работу без выписки",
    "26": "отказ от направления в учреждение медико-социальной экспертизы",
    "27": "несвоевременная явка в учреждение медико-социальной экспертизы",
    "28": "другие нарушения",
}
"""Нарушение режима (HOSPITAL_BREACH_CODE)."""

OUTCOMES: dict[str, str] = {
    "31": "продолжает болеть",
    "32": "установлена инвалидность",
    "33": "изменена группа инвалидности",
    "34": "умер",
    "35": "отказ от проведения медико-социальной экспертизы",
    "36": "явился трудоспособным",
    "37": "долечивание",
}
"""Иное (MSE_RESULT): how a certificate closed other than by a return to work."""

RELATIONS: dict[str, str] = {
    "38": "мать",
    "39": "отец",
    "40": "опекун",
    "41": "попечитель",
    "42": "иной родственник, фактически осуществляющий уход",
}
"""Родственная связь of a carer (SERV1/2_RELATION_CODE)."""


def code_words(code: str, book: dict[str, str]) -> str:
    """«01 — заболевание»; a code the book lacks is printed alone."""
    words = book.get(code)
    return f"{code} — {words}" if words else code


@dataclass(frozen=True)
class ReleasePeriod:
    """One period of release from work (TREAT_PERIOD) with who decided it.

    Attributes:
        start: first day (TREAT_DT1).
        end: last day (TREAT_DT2).
        doctor_position: the doctor's position (TREAT_DOCTOR_ROLE) — «врач-терапевт участковый».
        doctor_name: the doctor's ФИО (TREAT_DOCTOR).
        chair_position: the medical commission chair's position, when the VK decided
            (TREAT_CHAIRMAN_ROLE; over 15 days, 1089н).
        chair_name: the chair's ФИО (TREAT_CHAIRMAN).
    """

    start: dt.date
    end: dt.date
    doctor_position: str
    doctor_name: str
    chair_position: str = ""
    chair_name: str = ""


@dataclass(frozen=True)
class RegimeViolation:
    """A violation of the prescribed regime: code 23–28 and its date (HOSPITAL_BREACH)."""

    code: str
    date: dt.date


@dataclass(frozen=True)
class CaredPerson:
    """A family member cared for (SERV1/SERV2): ФИО, relation code 38–42, age."""

    name: str
    relation_code: str
    age_years: int
    age_months: int = 0


@dataclass(frozen=True)
class SickLeave:
    """One sick-leave certificate, as the informational sheet and the 347н overlay print it.

    Attributes:
        number: the 12-digit number (LN_CODE); on paper, the blank's pre-printed number.
        issued_on: date of issue (LN_DATE).
        organisation_name: the medical organisation (LPU_NAME); the 347н blank's cells need
            the short name.
        organisation_address: its address (LPU_ADDRESS).
        organisation_ogrn: its ОГРН, 13 digits (LPU_OGRN).
        patient_name: surname, name and patronymic in full.
        birth_date: BIRTHDAY.
        sex: 1 male, 2 female (GENDER; the 347н blank's «м»/«ж»).
        snils: СНИЛС «123-456-789 01».
        employer: the employer's name (LPU_EMPLOYER).
        main_job: True «основное», False «по совместительству» (LPU_EMPL_FLAG).
        reason_code: 01–15 (REASON1).
        periods: the release periods, in order (TREAT_FULL_PERIOD).
        previous_number: the certificate this one continues (PREV_LN_CODE); empty for a primary
            one (PRIMARY_FLAG).
        duplicate: a duplicate issued by the medical commission (DUPLICATE_FLAG; 1089н p. 67).
        main_job_number: for a secondary job, the number of the certificate for the main job
            (the 347н blank's «по совместительству №»).
        additional_code: additional reason code (REASON2), printed as given.
        change_code: reason change code (REASON3), printed as given.
        cared: family members cared for (reason 09 and the child codes), at most two.
        hospital: (from, to) of a hospital stay (HOSPITAL_DT1/DT2), if any.
        violation: a regime violation, if any.
        return_to_work: «Приступить к работе с» (RETURN_DATE_LPU), when it closed so.
        outcome_code: «Иное» 31–37 (MSE_RESULT), when it closed otherwise.
        outcome_date: the date of that outcome (OTHER_STATE_DT).
        next_number: the continuation certificate's number (NEXT_LN_CODE), if one was issued.
        doctor_position: who signs the sheet; empty takes the last period's doctor.
        doctor_name: likewise.
    """

    number: str
    issued_on: dt.date
    organisation_name: str
    organisation_address: str
    organisation_ogrn: str
    patient_name: str
    birth_date: dt.date
    sex: int
    snils: str
    employer: str
    main_job: bool
    reason_code: str
    periods: tuple[ReleasePeriod, ...]
    previous_number: str = ""
    duplicate: bool = False
    main_job_number: str = ""
    additional_code: str = ""
    change_code: str = ""
    cared: tuple[CaredPerson, ...] = field(default=())
    hospital: tuple[dt.date, dt.date] | None = None
    violation: RegimeViolation | None = None
    return_to_work: dt.date | None = None
    outcome_code: str = ""
    outcome_date: dt.date | None = None
    next_number: str = ""
    doctor_position: str = ""
    doctor_name: str = ""

    @property
    def primary(self) -> bool:
        return not self.previous_number

    @property
    def signer(self) -> tuple[str, str]:
        """(position, ФИО) of the doctor signing: given, or the last period's."""
        if self.doctor_name:
            return self.doctor_position, self.doctor_name
        if self.periods:
            last = self.periods[-1]
            return last.doctor_position, last.doctor_name
        return "", ""


PAPERS: dict[str, tuple[tuple[float, float], Margins, tuple[float, ...]]] = {
    "A4": (A4, Margins(top=12, right=12, bottom=12, left=18), (11.0, 10.5, 10.0, 9.5, 9.0, 8.5)),
    "A5": (A5, Margins(top=8, right=8, bottom=8, left=10), (9.0, 8.5, 8.0, 7.5, 7.0)),
}
"""Paper, margins and the type sizes tried in turn until the sheet fits one page."""

TITLE = "ЛИСТОК НЕТРУДОСПОСОБНОСТИ"
ELECTRONIC = "Листок нетрудоспособности сформирован в форме электронного документа"
NOTICE = (
    "Информационный лист для пациента. Он не является листком нетрудоспособности: листок "
    "сформирован в форме электронного документа, подписан усиленными квалифицированными "
    "электронными подписями и направлен в Социальный фонд России (приказ Минздрава России от "
    "23.11.2021 № 1089н)."
)


def render_sick_leave_sheet(
    data: SickLeave, options: PrintOptions = PLAIN, paper: Paper = "A4"
) -> bytes:
    """The informational sheet of ``data`` as PDF bytes, on A4 or A5 portrait."""
    if paper not in PAPERS:
        raise ValueError(f"Лист ЭЛН: формат бумаги A4 или A5, задан {paper}")
    size_pt, margins, sizes = PAPERS[paper]
    for size in sizes:
        draw = _drawer(data, size)
        if measure_on(draw, size_pt, options, margins).page == 1:
            break
    else:  # it runs to a second page at any size: then at the largest, the easiest to read
        draw = _drawer(data, sizes[0])
    info = DocumentInfo(
        title=f"Электронный листок нетрудоспособности № {data.number}",
        subject="Информационный лист электронного листка нетрудоспособности (1089н)",
        author=data.signer[1],
    )
    return render_on(draw, info, size_pt, options, margins)


def _drawer(data: SickLeave, size: float) -> Callable[[Sheet], None]:
    def draw(sheet: Sheet) -> None:
        _Sheet(sheet, data, size).draw()

    return draw


class _Sheet:
    def __init__(self, sheet: Sheet, data: SickLeave, size: float) -> None:
        self.s = sheet
        self.d = data
        self.size = size
        self.small = max(size - 1.5, 6.5)
        self.header_row: tuple[list[str], list[float], float] | None = None

    def para(self, spans: list[Span], *, size: float | None = None, align: str = "left",
             leading: float = 1.3) -> None:  # fmt: skip
        self.s.paragraph(spans, size=size or self.size, align=align, leading=leading)

    def gap(self, ems: float) -> None:
        self.s.space(mm_of(self.size, ems))

    def draw(self) -> None:
        self.header()
        self.number()
        self.facts()
        self.periods()
        self.closing()
        self.signature()

    def header(self) -> None:
        s, d = self.s, self.d
        self.para([Span(d.organisation_name, font=SERIF_BOLD)], align="center", leading=1.2)
        self.para([Span(d.organisation_address)], size=self.small, align="center", leading=1.2)
        self.para([Span(f"ОГРН {d.organisation_ogrn}")], size=self.small, align="center")
        s.space(1.0)
        s.hline(s.left, s.right, s.y, width=0.6)
        self.gap(0.8)

    def number(self) -> None:
        s, d = self.s, self.d
        self.para([Span(TITLE, font=SERIF_BOLD)], size=self.size + 3, align="center")
        self.para([Span(ELECTRONIC, font=SERIF_ITALIC)], align="center")
        self.gap(0.4)
        big = self.size * 2
        # «ДУБЛИКАТ» / «ЧЕРНОВИК» boxed beside the number where they fit, else above it.
        marks = [m for m, on in ((DUPLICATE_MARK, s.options.duplicate),
                                 (DRAFT_MARK, s.options.draft)) if on]  # fmt: skip
        box = max((s.text_width(m, font=SERIF_BOLD, size=11.0) + 4 for m in marks), default=0)
        number_w = s.text_width(f"№ {d.number}", font=SERIF_BOLD, size=big)
        s.mark_anchor = (s.right, s.y)
        if marks and box > (s.content_width - number_w) / 2 - 2:
            s.space(len(marks) * 8.0)
        self.para([Span(f"№ {d.number}", font=SERIF_BOLD)], size=big, align="center")
        height = 11.0 if self.s.width > 150 else 9.0
        max_w = min(s.content_width, 70.0)
        w = s.code128_width(d.number, max_width=max_w)
        s.ensure(height + 1)
        s.code128(d.number, x=s.left + (s.content_width - w) / 2, y=s.y, max_width=max_w,
                  height=height)  # fmt: skip
        s.space(height + 1.5)
        s.y = max(s.y, s.mark_anchor[1] + len(marks) * 8.0)
        self.gap(0.5)

    def row(self, label: str, value: list[Span] | str) -> None:
        spans = [Span(value)] if isinstance(value, str) else value
        self.para([Span(f"{label}: "), *spans])

    def facts(self) -> None:
        d = self.d
        kind = [Span("первичный" if d.primary else "продолжение листка нетрудоспособности № ",
                     font=SERIF_BOLD)]  # fmt: skip
        if not d.primary:
            kind.append(Span(d.previous_number, font=SERIF_BOLD))
        if d.duplicate:
            kind.append(Span(", дубликат", font=SERIF_BOLD))
        self.row("Листок", kind)
        self.row("Дата выдачи", date_digits(d.issued_on))
        self.gap(0.3)
        self.row("Пациент", [Span(d.patient_name, font=SERIF_BOLD)])
        self.row("Дата рождения", date_digits(d.birth_date))
        self.row("СНИЛС", d.snils or "—")
        self.row("Место работы", [Span(d.employer),
                                  Span(" (основное)" if d.main_job else " (по совместительству"
                                       + (f", основной листок № {d.main_job_number}"
                                          if d.main_job_number else "") + ")")])  # fmt: skip
        reason = code_words(d.reason_code, REASONS)
        extra = "".join(
            f"; {label} {code}"
            for label, code in (("доп. код", d.additional_code), ("код изм.", d.change_code))
            if code
        )
        self.row("Причина нетрудоспособности", reason + extra)
        for person in d.cared:
            age = f"{person.age_years} лет" + (f" {person.age_months} мес." if person.age_months
                                                else "")  # fmt: skip
            self.row("Уход за", f"{person.name}, {age}; родственная связь: "
                     + code_words(person.relation_code, RELATIONS))  # fmt: skip
        if d.hospital:
            self.row("Находился в стационаре",
                     f"с {date_digits(d.hospital[0])} по {date_digits(d.hospital[1])}")  # fmt: skip
        self.gap(0.5)

    # --- the release periods -------------------------------------------------------------------
    def periods(self) -> None:
        s, d = self.s, self.d
        self.para([Span("ОСВОБОЖДЕНИЕ ОТ РАБОТЫ", font=SERIF_BOLD)], align="center")
        fractions = (0.13, 0.13, 0.37, 0.37)
        widths = [s.content_width * f for f in fractions]
        header = [
            "С какого числа",
            "По какое число",
            "Должность врача",
            "Фамилия, имя, отчество врача",
        ]
        size = self.small + 0.5
        self.table_row(header, widths, size, bold=True)
        self.header_row = (header, widths, size)  # repeated atop a page the table runs onto
        for p in d.periods:
            self.table_row([date_digits(p.start), date_digits(p.end), p.doctor_position,
                            p.doctor_name], widths, size)  # fmt: skip
            if p.chair_name:
                self.table_row(["", "", f"Председатель врачебной комиссии: {p.chair_position}"
                                if p.chair_position else "Председатель врачебной комиссии",
                                p.chair_name], widths, size)  # fmt: skip
        self.header_row = None
        self.gap(0.6)

    def table_row(self, texts: list[str], widths: list[float], size: float, *,
                  bold: bool = False) -> None:  # fmt: skip
        """One row of a ruled table; as tall as its fullest cell, never split across pages."""
        s = self.s
        font = SERIF_BOLD if bold else SERIF
        pad = 1.2
        leading = 1.2
        lines = max(len(layout_spans([Span(t, font=font)], (w - 2 * pad) * MM, size)) or 1
                    for t, w in zip(texts, widths, strict=True))  # fmt: skip
        height = lines * mm_of(size, leading) + 2 * pad
        page = s.page
        s.ensure(height)
        if s.page != page and self.header_row is not None:
            self.table_row(*self.header_row, bold=True)
        top = s.y
        x = s.left
        for text, w in zip(texts, widths, strict=True):
            s.y = top + pad
            s.paragraph([Span(text, font=font)], size=size, x=x + pad, width=w - 2 * pad,
                        leading=leading, align="center" if bold else "left")  # fmt: skip
            x += w
        bottom = top + height
        x = s.left
        for w in (0.0, *widths):
            x += w
            s.line(x, top, x, bottom, width=0.4)
        s.hline(s.left, s.right, top, width=0.4)
        s.hline(s.left, s.right, bottom, width=0.4)
        s.y = bottom

    # --- violation, how it closed, signature -------------------------------------------------------
    def closing(self) -> None:
        d = self.d
        if d.violation:
            v = d.violation
            self.row("Нарушение режима",
                     f"{code_words(v.code, VIOLATIONS)}; дата {date_digits(v.date)}")  # fmt: skip
        if d.return_to_work:
            self.para([Span("Приступить к работе с ", font=SERIF_BOLD),
                       Span(date_digits(d.return_to_work), font=SERIF_BOLD)])  # fmt: skip
        elif d.outcome_code:
            when = f"; дата {date_digits(d.outcome_date)}" if d.outcome_date else ""
            self.row("Иное", [Span(code_words(d.outcome_code, OUTCOMES) + when, font=SERIF_BOLD)])
        else:
            self.para([Span("Листок нетрудоспособности открыт: лечение продолжается.")])
        if d.next_number:
            self.row("Выдан листок нетрудоспособности (продолжение)", f"№ {d.next_number}")
        self.gap(1.0)

    def signature(self) -> None:
        """Position, signature and name on their rules, side by side, kept on one page."""
        s = self.s
        position, name = self.d.signer
        widths = (s.content_width * 0.4, s.content_width * 0.18, s.content_width * 0.34)
        lines = max(
            len(layout_spans([Span(text)], w * MM, self.size)) or 1
            for text, w in zip((position, "", name), widths, strict=True)
        )
        s.ensure(lines * mm_of(self.size, 1.2) + mm_of(CAPTION_SIZE, 1.2) + 1)
        top = s.y
        ends = []
        for text, caption, x, w in (
            (position, "(должность врача)", s.left, widths[0]),
            ("", "(подпись)", s.left + s.content_width * 0.44, widths[1]),
            (name, "(фамилия, имя, отчество)", s.left + s.content_width * 0.66, widths[2]),
        ):
            s.y = top
            s.field(text, caption=caption, x=x, width=w, size=self.size)
            ends.append(s.y)
        s.y = max(ends)
        self.gap(1.0)
        self.para([Span(NOTICE, font=SERIF_ITALIC)], size=self.small, leading=1.2)
