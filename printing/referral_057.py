"""Учетная форма № 057/у «Направление для оказания медицинской помощи» (Order 519н of
02.09.2025, appendix 1; it replaces 057/у-04 of Order 255 of 2004).

The page follows the official blank line by line (the reviewed transcription cited in
shared/FORMS.md §3): a two-column header (the organisation on the left, the form's legal
caption on the right), the title with the referral's number, then the rows of captions with
the values on their rules. Answers chosen from printed options are underlined, as p. 6 of the
order's «Порядок» prescribes for paper; unused rows (a stay address the patient does not have)
keep their empty rules, so they can be filled by hand. The referral's number is also printed as
a Code128 barcode in the header for the receiving organisation's scanner.

Nothing is ever cut: a long justification (the service allows 800 characters), destination or
organisation makes the whole form step down in type size, 10.5 pt to 8 pt, until it fits on
one page; beyond that it continues on a second page rather than lose a word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from printing.flow import NBSP, Span
from printing.fonts import SERIF, SERIF_BOLD
from printing.page import (
    PLAIN,
    DocumentInfo,
    Margins,
    PrintOptions,
    Sheet,
    choices,
    measure,
    render_document,
)
from printing.ru import month_genitive

__all__ = ["Address", "Referral057", "render_referral_057"]

MARGINS = Margins(top=10, right=10, bottom=10, left=15)
LEADING = 1.3  # room between a value's rule and the next line's capitals
SIZES = (10.5, 10.0, 9.5, 9.0, 8.5, 8.0)
"""Type sizes tried in turn until the form fits on one page."""

SEX = ((1, "муж"), (2, "жен"))
LOCALITY = ((1, "городская"), (2, "сельская"))
EMPLOYMENT = (
    (1, "работает"),
    (2, "проходит военную службу или приравненную к ней службу"),
    (3, "пенсионер"),
    (4, "обучающийся"),
    (5, "не работает"),
    (6, "прочие"),
)
CARE_FORM = ((1, "экстренная"), (2, "неотложная"), (3, "плановая"))
CARE_KIND = (
    (1, "первичная медико-санитарная помощь, в том числе специализированная"),
    (2, "специализированная, в том числе высокотехнологичная медицинская помощь"),
    (3, "паллиативная медицинская помощь"),
    (4, "скорая специализированная медицинская помощь"),
)
CARE_CONDITIONS = ((1, "амбулаторно"), (2, "в дневном стационаре"), (3, "стационарно"))

ORG_CAPTION = (
    "Наименование и адрес медицинской организации в пределах места нахождения (фамилия, "
    "имя, отчество (при наличии) индивидуального предпринимателя и адрес осуществления "
    "медицинской деятельности)"
)
OGRN_CAPTION = (
    "Основной государственный регистрационный номер (Основной государственный "
    "регистрационный номер индивидуального предпринимателя)"
)
FORM_CAPTION = (
    "Медицинская документация\n"
    "Учетная форма № 057/у\n"
    "Утверждена приказом Министерства здравоохранения Российской Федерации "
    "от «02» сентября 2025 г. № 519н"
)
TITLE = "НАПРАВЛЕНИЕ ДЛЯ ОКАЗАНИЯ МЕДИЦИНСКОЙ ПОМОЩИ №"  # the number follows, joined to «№»


@dataclass(frozen=True)
class Address:
    """An address as the blank's rows split it (filled from form 025/у, p. 9.4)."""

    subject: str = ""  # субъект РФ, e.g. «г. Москва»
    district: str = ""
    locality: str = ""  # населённый пункт
    street: str = ""
    house: str = ""
    building: str = ""  # строение/корпус
    apartment: str = ""


@dataclass(frozen=True)
class Referral057:
    """Everything form 057/у prints; codes are the numbers printed beside the answers."""

    organisation: str  # name and address of the issuing МО, one string
    ogrn: str  # 13 digits (15 for ИП)
    number: str  # the referral's unique number (digits and dashes), also the barcode
    filled_on: dt.date  # дата заполнения
    destination: str  # наименование МО, куда направлен пациент
    policy_number: str
    policy_issued_on: dt.date | None
    insurer: str  # страховая медицинская организация
    patient_name: str  # full ФИО
    birth_date: dt.date
    sex: int  # 1 муж, 2 жен
    residence: Address
    stay: Address | None  # регистрация по месту пребывания, often none
    locality_type: int | None  # 1 городская, 2 сельская
    employment: int | None  # 1..6
    diagnosis: str  # «J06.9 Острая инфекция верхних дыхательных путей неуточненная»
    purpose: str  # «консультация врача-кардиолога», «КТ органов грудной полости»
    care_form: int  # 1 экстренная, 2 неотложная, 3 плановая
    care_kind: int  # 1..4
    care_conditions: int  # 1 амбулаторно, 2 дневной стационар, 3 стационарно
    justification: str
    referrer_position: str  # должность, специальность
    referrer_name: str  # ФИО
    cito: bool = False  # «CITO» mark near the title when urgent


def render_referral_057(data: Referral057, options: PrintOptions = PLAIN) -> bytes:
    """Form 057/у filled with ``data``, as PDF bytes (A4 portrait, one page when it fits)."""
    for size in SIZES:
        draw = _drawer(data, size)
        if measure(draw, options, MARGINS).page == 1:
            break
    info = DocumentInfo(
        title=f"Направление 057/у № {data.number}",
        subject="Направление для оказания медицинской помощи (учетная форма № 057/у)",
        author=data.referrer_name,
    )
    return render_document(draw, info, options, MARGINS)


def _drawer(data: Referral057, size: float) -> Callable[[Sheet], None]:
    def draw(sheet: Sheet) -> None:
        _Form(sheet, data, size).draw()

    return draw


def _mm(size: float, ems: float) -> float:
    """``ems`` of type ``size`` in millimetres: spacing that shrinks with the type."""
    return ems * size * 0.3528


class _Form:
    def __init__(self, sheet: Sheet, data: Referral057, size: float) -> None:
        self.s = sheet
        self.d = data
        self.size = size

    def para(self, spans: list[Span]) -> None:
        self.s.paragraph(spans, size=self.size, leading=LEADING)

    def draw(self) -> None:
        self.header()
        self.title()
        self.body()
        self.signatures()

    # --- header: organisation | form caption + barcode ---------------------------------------
    def header(self) -> None:
        s, d = self.s, self.d
        small = self.size - 1.0
        top = s.y
        left_w = s.content_width * 0.48
        right_w = s.content_width * 0.36
        right_x = s.right - right_w

        s.paragraph(ORG_CAPTION, size=small, width=left_w)
        s.field(d.organisation, width=left_w, size=self.size, leading=LEADING)
        s.space(_mm(small, 0.4))
        s.paragraph(OGRN_CAPTION, size=small, width=left_w)
        s.field(d.ogrn, width=left_w, size=self.size, leading=LEADING)
        left_end = s.y

        s.y = top
        s.paragraph(FORM_CAPTION, size=small, x=right_x, width=right_w, align="center")
        s.space(1.5)
        width = s.code128_width(d.number, max_width=right_w)
        height = 9.0
        s.code128(d.number, x=right_x + (right_w - width) / 2, y=s.y, max_width=right_w,
                  height=height)  # fmt: skip
        s.space(height + 2.0)
        s.mark_anchor = (s.right, s.y)  # «ДУБЛИКАТ» / «ЧЕРНОВИК» go under the barcode
        marks = int(s.options.duplicate) + int(s.options.draft)
        s.y = max(left_end, s.y + marks * 8.0) + _mm(self.size, 0.8)

    def title(self) -> None:
        s, d = self.s, self.d
        size = self.size + 1.5
        cito_w = 0.0
        if d.cito:
            cito_w = s.text_width("CITO", font=SERIF_BOLD, size=size + 2) + 4
            h = (size + 2) * 0.3528 + 2.5
            s.rect(s.right - cito_w, s.y - 0.5, cito_w, h, width=1.5)
            s.text(s.right - cito_w / 2, s.y - 0.5 + 1.2 + (size + 2) * 0.3528 * 0.78, "CITO",
                   font=SERIF_BOLD, size=size + 2, align="center")  # fmt: skip
        margin = cito_w + 2 if cito_w else 0.0
        s.paragraph(
            [Span(f"{TITLE}{NBSP}{d.number}", font=SERIF_BOLD)],
            size=size,
            x=s.left + margin,
            width=s.content_width - 2 * margin,
            align="center",
        )
        s.space(_mm(self.size, 0.6))

    # --- the rows -----------------------------------------------------------------------------
    def date_spans(self, date: dt.date | None) -> list[Span]:
        day, month, year = (
            (f"{date.day:02d}", month_genitive(date), str(date.year)) if date else ("", "", "")
        )
        return [
            Span("число "),
            Span(day, blank=_mm(self.size, 2.2)),
            Span(" месяц "),
            Span(month, blank=_mm(self.size, 7.0)),
            Span(" год "),
            Span(year, blank=_mm(self.size, 3.6)),
        ]

    def address_rows(self, caption: str, a: Address) -> None:
        mm = self.size / 10.5
        self.para(
            [
                Span(f"{caption}: субъект Российской Федерации "),
                Span(a.subject, blank=30 * mm),
                Span(" район "),
                Span(a.district, fill=True),
            ]
        )
        self.para(
            [
                Span("населенный пункт "),
                Span(a.locality, blank=26 * mm),
                Span(" улица "),
                Span(a.street, blank=30 * mm),
                Span(" дом "),
                Span(a.house, blank=9 * mm),
                Span(" строение/корпус "),
                Span(a.building, blank=9 * mm),
                Span(" квартира "),
                Span(a.apartment, blank=9 * mm),
            ]
        )

    def body(self) -> None:
        s, d = self.s, self.d
        gap = _mm(self.size, 0.35)
        self.para([Span("Дата заполнения направления: "), *self.date_spans(d.filled_on)])
        s.space(gap)
        s.field(
            d.destination,
            caption="(наименование медицинской организации, куда направлен пациент)",
            size=self.size,
            align="center",
            leading=LEADING,
        )
        s.space(gap)
        self.para(
            [
                Span("Полис обязательного медицинского страхования: "),
                Span(d.policy_number, fill=True),
            ]
        )
        self.para(
            [
                Span("дата выдачи полиса обязательного медицинского страхования: "),
                *self.date_spans(d.policy_issued_on),
            ]
        )
        self.para(
            [
                Span(
                    "данные о страховой медицинской организации, выбранной застрахованным "
                    "лицом или определенной застрахованному лицу "
                ),
                Span(d.insurer, fill=True),
            ]
        )
        s.space(gap)
        self.para(
            [
                Span("Фамилия, имя, отчество (при наличии) пациента "),
                Span(d.patient_name, fill=True),
            ]
        )
        self.para(
            [
                Span("Дата рождения: «"),
                Span(f"{d.birth_date.day:02d}", blank=_mm(self.size, 1.4)),
                Span("» "),
                Span(month_genitive(d.birth_date), blank=_mm(self.size, 6.5)),
                Span(" "),
                Span(str(d.birth_date.year), blank=_mm(self.size, 2.6)),
                Span(" г.   Пол: "),
                *choices(SEX, d.sex),
            ]
        )
        self.address_rows("Регистрация по месту жительства", d.residence)
        self.address_rows("Регистрация по месту пребывания", d.stay or Address())
        self.para([Span("Местность: "), *choices(LOCALITY, d.locality_type)])
        self.para([Span("Занятость: "), *choices(EMPLOYMENT, d.employment)])
        s.space(gap)
        self.para(
            [
                Span(
                    "Код диагноза по Международной статистической классификации болезней и "
                    "проблем, связанных со здоровьем "
                ),
                Span(d.diagnosis, fill=True),
            ]
        )
        s.space(gap)
        self.para(
            [
                Span("Направляется для оказания медицинской помощи: "),
                Span(d.purpose, underline=True),
                Span(","),
            ]
        )
        self.para([Span("форма: "), *choices(CARE_FORM, d.care_form, end=";")])
        self.para(
            [
                Span("вид: "),
                *choices(CARE_KIND, d.care_kind, separators=(", ", ", ", "; "), end=";"),
            ]
        )
        self.para([Span("условия: "), *choices(CARE_CONDITIONS, d.care_conditions, sep="; "),
                   Span(".")])  # fmt: skip
        s.space(gap)
        self.para(
            [
                Span(
                    "Обоснование (показания) направления с указанием числа назначаемых курсов "
                    "(циклов) лечения "
                ),
                Span(d.justification, fill=True),
            ]
        )
        s.space(gap)
        self.para(
            [
                Span("Должность, специальность медицинского работника, направившего пациента "),
                Span(d.referrer_position, fill=True),
            ]
        )

    def signatures(self) -> None:
        s, d = self.s, self.d
        s.space(_mm(self.size, 1.6))
        s.ensure(_mm(self.size, 5.0))
        top = s.y
        sign_w = 45.0
        s.field("", caption="(подпись)", width=sign_w, size=self.size)
        s.y = top
        name_x = s.left + sign_w + 12
        s.field(
            d.referrer_name,
            caption="Фамилия, имя, отчество (при наличии)",
            x=name_x,
            size=self.size,
            align="center",
        )
        s.space(_mm(self.size, 1.0))
        s.paragraph([Span("М.П. (при наличии)", font=SERIF)], size=self.size)
