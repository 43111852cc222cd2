"""What the three prescription blanks of Order 1094н (24.11.2021, appendix 2) share.

The data a prescription prints — the organisation's stamp, the patient, the prescriber, the Rp.
items — is the same on 107-1/у, 148-1/у-88 and 148-1/у-04(л); only the blank around it differs.
So the plain frozen dataclasses live here, with the pieces of drawing the blanks have in common:
the stamp block, the «Rp.» lines, dates as the blanks write them, a comb of character cells,
dashed cut lines. The renderers are :mod:`printing.prescription_107`,
:mod:`printing.prescription_148_04` and :mod:`printing.prescription_148_88`.

The rules of appendix 3 («Порядок оформления рецептурных бланков») that shape what is printed:

* p. 1 — the date of issue is required on every blank;
* pp. 6, 10 — the patient and the prescriber are given as surname and initials (the data hold
  what is to be printed; the services shorten the names);
* p. 7 — a child under one year gets the number of full months after the birth date
  (:func:`birth_text` adds them, counted to the date of issue);
* p. 11 — Rp. holds the drug's name (МНН, or group/trade name), form, strength and quantity;
* p. 14 — the prescriber's signature and personal seal («Подпись и печать лечащего врача»).

The blanks are printed on A5 paper (:data:`A5`) and on the one side only: the back of every blank
(the medical commission's mark, the pharmacy's «Приготовил / Проверил / Отпустил») is filled by
hand or by the pharmacy and is not printed.

``printing.page.render_document`` draws on A4 only; :func:`render_on` is the same with the paper
size as a parameter (A5 here, A4/A5 for the sick-leave sheet). It belongs in ``printing.page``
and should move there; it lives here because this change was limited to the forms' modules.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4 as _A4
from reportlab.lib.pagesizes import A5 as _A5
from reportlab.pdfgen.canvas import Canvas

from printing.flow import Span
from printing.fonts import SERIF, register_fonts
from printing.page import MM, PLAIN, DocumentInfo, Margins, PrintOptions, Sheet
from printing.ru import month_genitive

__all__ = [
    "A4",
    "A5",
    "MINISTRY",
    "ORDER_1094N",
    "Organisation",
    "PrescriptionItem",
    "PrescriptionPatient",
    "Prescriber",
    "birth_text",
    "cells",
    "dashed",
    "date_digits",
    "date_words",
    "full_months",
    "measure_on",
    "mm_of",
    "options_spans",
    "render_on",
    "rp_lines",
    "stamp_lines",
]

A4: tuple[float, float] = (float(_A4[0]), float(_A4[1]))
A5: tuple[float, float] = (float(_A5[0]), float(_A5[1]))
"""Paper sizes in points (portrait): A5 is 148 × 210 mm, A4 210 × 297 mm."""

_MARGINS = Margins()

MINISTRY = "Министерство здравоохранения Российской Федерации"
ORDER_1094N = "от 24 ноября 2021 г. № 1094н"
"""The approving order as the blanks' headers print it (appendix 2 of 1094н)."""


@dataclass(frozen=True)
class Organisation:
    """The issuing organisation, as its stamp and codes print it on a blank.

    1094н app. 3 pp. 1–2: the stamp carries the name, address and telephone of the medical
    organisation; a sole trader's (ИП) stamp carries the address, the licence's number and date
    and the body that issued it — put those in ``address`` and set ``sole_trader``.

    Attributes:
        name: full name of the medical organisation (or the ИП's ФИО).
        address: postal address (for an ИП, with the licence details).
        phone: telephone, printed in the stamp when given.
        ogrn: ОГРН, 13 digits (ОГРНИП, 15, for an ИП) — 148-1/у-04(л) prints it in cells.
        okpo: «Код учреждения по ОКПО» of the 107-1/у header, when known.
        sole_trader: the stamp goes under the ИП caption instead of the organisation's.
    """

    name: str
    address: str
    phone: str = ""
    ogrn: str = ""
    okpo: str = ""
    sole_trader: bool = False


@dataclass(frozen=True)
class PrescriptionPatient:
    """The patient as a blank prints them.

    Attributes:
        name: surname and initials (1094н app. 3 p. 6), e.g. «Щукина А. П.».
        birth_date: printed as dd.mm.yyyy; under one year the full months follow (p. 7).
        snils: СНИЛС «123-456-789 01», if any (148-1/у-04(л), p. 8).
        policy: № полиса ОМС (148-1/у-04(л), p. 8).
        card_number: № медицинской карты амбулаторного пациента (148-1/у-04(л) and 148-1/у-88,
            p. 9).
        address: address of residence (148-1/у-88: the address or the card number, or both).
    """

    name: str
    birth_date: dt.date
    snils: str = ""
    policy: str = ""
    card_number: str = ""
    address: str = ""


@dataclass(frozen=True)
class Prescriber:
    """The prescribing doctor (фельдшер, акушерка): surname and initials (p. 10)."""

    name: str


@dataclass(frozen=True)
class PrescriptionItem:
    """One drug of an Rp. block (1094н app. 3 p. 11): name, form, strength, quantity, signa.

    Attributes:
        drug: the name as Rp. writes it: the МНН (Latin or Russian), or the group or trade
            name where p. 11 allows it — «Amlodipinum (Амлодипин)».
        form: dosage form — «таблетки», «капсулы», «раствор для инъекций».
        strength: «5 мг», «0,1 г/мл».
        quantity: how much to dispense, as the D.t.d. line says it — «№ 30 (тридцать)».
        signa: how to take it («Signa»), in Russian — «Внутрь по 1 таблетке 1 раз в день утром».
        route: «Способ применения» for the 148-1/у-04(л) stub (внутрь, в/м, …).
        days: duration of the course in days (the stub's «Продолжительность … дней»).
        times_per_day: doses per day (the stub's «Количество приемов в день»).
        per_dose: one dose (the stub's «На 1 прием … ед.») — «1 таблетка».
    """

    drug: str
    form: str
    strength: str
    quantity: str
    signa: str
    route: str = ""
    days: int | None = None
    times_per_day: int | None = None
    per_dose: str = ""


# --- text as the blanks write it -------------------------------------------------------------


def date_words(d: dt.date) -> str:
    """«05» ноября 2025 г. — how the blanks' «"__" ______ 20__ г.» reads once filled in."""
    return f"«{d.day:02d}» {month_genitive(d)} {d.year} г."


def date_digits(d: dt.date) -> str:
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def full_months(birth: dt.date, on: dt.date) -> int:
    """Completed months of age on ``on`` (a month completes on the same day number)."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        months -= 1
    return max(months, 0)


def birth_text(patient: PrescriptionPatient, issued_on: dt.date) -> str:
    """The birth date; under one year with the full months (1094н app. 3 p. 7)."""
    text = date_digits(patient.birth_date)
    months = full_months(patient.birth_date, issued_on)
    if months < 12:
        text += f" ({months} мес.)"
    return text


def rp_lines(item: PrescriptionItem) -> tuple[str, str, str]:
    """The three lines of an Rp. block: what (name, form, strength), how much, how to take it.

    p. 11 puts name, form, strength and quantity under Rp.; the quantity goes on the «D.t.d.»
    line (Da tales doses) and the directions on «S.» (Signa), as a prescription is written.
    """
    what = ", ".join(p for p in (item.drug, item.form, item.strength) if p)
    return what, item.quantity, item.signa


def stamp_lines(org: Organisation) -> list[str]:
    """The stamp's text: name, address, telephone (app. 3 p. 1), each a paragraph."""
    lines = [org.name, org.address]
    if org.phone:
        lines.append(f"тел. {org.phone}")
    return [line for line in lines if line]


# --- drawing pieces ----------------------------------------------------------------------------


def dashed(
    sheet: Sheet,
    x1: float,
    x2: float,
    y: float,
    *,
    dash: float = 1.5,
    gap: float = 1.0,
    width: float = 0.4,
) -> None:
    """A horizontal dashed rule — the blanks' separators and the stub's line of tear."""
    x = x1
    while x < x2 - 1e-6:
        sheet.line(x, y, min(x + dash, x2), y, width=width)
        x += dash + gap


def cells(
    sheet: Sheet,
    x: float,
    y: float,
    count: int,
    text: str,
    *,
    pitch: float = 4.0,
    height: float = 5.0,
    size: float = 9.0,
    boxes: bool = True,
    font: str = SERIF,
) -> float:
    """A comb of ``count`` character cells with its top-left at (x, y); returns its right edge.

    Each character of ``text`` is centred in its own cell, from the first cell on, as the
    blanks with cells are filled by hand (the МКБ code's dot takes a cell of its own on
    148-1/у-04(л), 1094н app. 3 p. 5). ``boxes=False`` writes the characters only — the overlay
    on a pre-printed blank, whose cells are already there. Text longer than the comb is an
    error: a character outside its cell would be misread, and cutting it loses it.
    """
    if len(text) > count:
        raise ValueError(f"«{text}»: {len(text)} знаков в {count} ячейках не помещаются")
    if boxes:
        for i in range(count):
            sheet.rect(x + i * pitch, y, pitch, height, width=0.4)
    baseline = y + height / 2 + size * 0.3528 * 0.33  # cap height ≈ 0.66 em, centred
    for i, ch in enumerate(text):
        if ch != " ":
            sheet.text(x + (i + 0.5) * pitch, baseline, ch, font=font, size=size, align="center")
    return x + count * pitch


def options_spans(
    labels: tuple[str, ...], chosen: int | None, *, sep: str = ", ", font: str = SERIF
) -> list[Span]:
    """Printed answers in a row with the chosen one (an index into ``labels``) underlined."""
    spans: list[Span] = []
    for i, label in enumerate(labels):
        if i:
            spans.append(Span(sep, font=font))
        spans.append(Span(label.replace(" ", "\u00a0"), font=font, underline=i == chosen))
    return spans


# --- documents on any paper ----------------------------------------------------------------


def measure_on(
    draw: Callable[[Sheet], None],
    paper: tuple[float, float],
    options: PrintOptions = PLAIN,
    margins: Margins = _MARGINS,
) -> Sheet:
    """:func:`printing.page.measure` on ``paper``: where the drawing ends, nothing drawn."""
    sheet = Sheet(None, options, margins, paper)
    draw(sheet)
    return sheet


def render_on(
    draw: Callable[[Sheet], None],
    info: DocumentInfo,
    paper: tuple[float, float],
    options: PrintOptions = PLAIN,
    margins: Margins = _MARGINS,
) -> bytes:
    """:func:`printing.page.render_document` on ``paper`` (points, portrait).

    The same invariant canvas (no dates, no random id: the same data give the same bytes),
    the same embedded fonts and metadata; only the page size differs.
    """
    register_fonts()
    buf = io.BytesIO()
    canvas = Canvas(
        buf,
        pagesize=paper,
        invariant=1,
        pageCompression=1,
        lang="ru-RU",
        initialFontName=SERIF,  # else an unused, unembedded Helvetica is referenced
        initialFontSize=10.5,
    )
    canvas.setTitle(info.title)
    canvas.setSubject(info.subject)
    canvas.setAuthor(info.author)
    canvas.setCreator("ARM")
    canvas.setProducer("ARM (reportlab)")
    sheet = Sheet(canvas, options, margins, paper)
    draw(sheet)
    sheet.finish()
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def mm_of(size: float, ems: float) -> float:
    """``ems`` of type ``size`` (points) in millimetres."""
    return ems * size / MM
