"""«Заявка на предоставление доступа к электронной медицинской карте ребенка».

No federal order fixes this application: it is the polyclinic's own paper that the parent
signs before the code is sent (FORMS.md §4: the signed application is the seed, the code goes
by SMS).  Its content follows what such an application has to establish: who asks (the
relative, with the document to be shown), on what ground (parent or legal representative,
ст. 64 СК РФ, ст. 20 323-ФЗ), for whose record (the child, with the ОМС policy the portal
finds the record by), where the code goes (the mobile number), until when (the 18th
birthday), and the consent to process personal data (152-ФЗ ст. 9).  The document's series
and number are left as rules to fill by hand: ARM does not keep passports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from printing.flow import NBSP, Span
from printing.fonts import SERIF_BOLD
from printing.page import PLAIN, DocumentInfo, Margins, PrintOptions, Sheet, render_document
from printing.ru import month_genitive

__all__ = ["ChildAccessApplication", "render_child_access_application"]

MARGINS = Margins(top=15, right=15, bottom=15, left=20)
SIZE = 11.0
LEADING = 1.45


@dataclass(frozen=True)
class ChildAccessApplication:
    organisation: str
    organisation_address: str
    child_name: str
    child_birth_date: dt.date
    child_policy: str
    relative_name: str
    relative_birth_date: dt.date
    relation_label: str  # «мать», «опекун»
    phone: str  # «+7 916 123-45-67», or "" for a rule to write on
    address: str
    date: dt.date
    ends_on: dt.date  # the child's 18th birthday


RELATIONS = ("мать", "отец", "усыновитель", "опекун", "попечитель")
"""Who may ask (ст. 64 СК РФ): the chosen one is underlined, as on every Russian blank."""


def _d(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


def _long_date(day: dt.date) -> str:
    return f"«{day.day:02d}»{NBSP}{month_genitive(day)}{NBSP}{day.year}{NBSP}г."


def render_child_access_application(
    data: ChildAccessApplication, options: PrintOptions = PLAIN
) -> bytes:
    """The application as PDF bytes, A4 portrait (one page)."""
    info = DocumentInfo(
        title="Заявка на предоставление доступа к ЭМК ребенка",
        subject=f"{data.relative_name} — {data.child_name}",
        author=data.organisation,
    )
    return render_document(lambda s: _draw(s, data), info, options, MARGINS)


def _draw(s: Sheet, d: ChildAccessApplication) -> None:
    half = s.content_width * 0.55
    x = s.right - half
    s.paragraph("Главному врачу", size=SIZE, x=x, width=half)
    s.field(d.organisation, x=x, width=half, size=SIZE, caption="(медицинская организация)")
    if d.organisation_address:
        s.paragraph(d.organisation_address, size=SIZE - 1.5, x=x, width=half)
    s.space(2)
    s.paragraph("от", size=SIZE, x=x, width=half)
    s.field(d.relative_name, x=x, width=half, size=SIZE, caption="(фамилия, имя, отчество)")
    s.field(_d(d.relative_birth_date), x=x, width=half, size=SIZE, caption="(дата рождения)")
    s.field(d.address, x=x, width=half, size=SIZE, caption="(адрес места жительства)")
    s.space(8)
    s.paragraph([Span("ЗАЯВКА", font=SERIF_BOLD)], size=SIZE + 3, align="center", leading=1.3)
    s.paragraph(
        [Span("на предоставление доступа к электронной медицинской карте ребенка",
              font=SERIF_BOLD)],
        size=SIZE + 1,
        align="center",
    )  # fmt: skip
    s.space(6)
    para = [
        Span("Я, "),
        Span(d.relative_name, fill=True),
    ]
    s.paragraph(para, size=SIZE, leading=LEADING, indent=10)
    s.paragraph(
        [
            Span("документ, удостоверяющий личность: "),
            Span("", blank=40),
            Span(" серия "),
            Span("", blank=18),
            Span(" №" + NBSP),
            Span("", fill=True),
        ],
        size=SIZE,
        leading=LEADING,
    )
    who: list[Span] = [Span("являюсь ")]
    for i, label in enumerate(RELATIONS):
        if i:
            who.append(Span(", "))
        who.append(Span(label, underline=label == d.relation_label))
    who.append(Span(" (нужное подчеркнуть) несовершеннолетнего пациента"))
    s.paragraph(who, size=SIZE, leading=LEADING)
    s.field(d.child_name, size=SIZE, caption="(фамилия, имя, отчество ребенка)")
    s.space(1)
    s.paragraph(
        [
            Span("дата рождения "),
            Span(_d(d.child_birth_date), blank=26),
            Span(", полис ОМС №" + NBSP),
            Span(d.child_policy, blank=42),
            Span(","),
        ],
        size=SIZE,
        leading=LEADING,
    )
    s.paragraph(
        "прошу предоставить мне доступ к электронной медицинской карте ребенка на портале "
        "и в мобильном приложении городских медицинских услуг. Код доступа прошу направить "
        "SMS-сообщением на номер мобильного телефона:",
        size=SIZE,
        leading=LEADING,
    )
    s.paragraph([Span(d.phone or "", blank=70, font=SERIF_BOLD)], size=SIZE + 1, leading=LEADING)
    s.space(2)
    for text in (
        "Мне разъяснено, что:",
        "— код одноразовый, действует ограниченное время и не должен сообщаться другим лицам;",
        f"— доступ действует до достижения ребенком 18 лет ({_d(d.ends_on)}) или до его "
        "отзыва; отозвать доступ можно заявлением в регистратуре;",
        "— с 15 лет пациент вправе сам получить доступ к своей электронной медицинской карте;",
        "— при изменении номера телефона или утрате права представлять ребенка я обязан(а) "
        "сообщить об этом в медицинскую организацию.",
        "В соответствии со ст. 9 Федерального закона от 27.07.2006 № 152-ФЗ «О персональных "
        "данных» даю согласие на обработку моих персональных данных и персональных данных "
        "ребенка в целях предоставления доступа к его электронной медицинской карте.",
    ):
        s.paragraph(text, size=SIZE, leading=LEADING)
    s.space(10)
    s.ensure(20)
    top = s.y
    w = s.content_width
    s.field(_long_date(d.date), x=s.left, width=w * 0.3, size=SIZE, caption="(дата)")
    s.y = top
    s.field("", x=s.left + w * 0.38, width=w * 0.22, size=SIZE, caption="(подпись)")
    s.y = top
    s.field(
        _short(d.relative_name), x=s.left + w * 0.66, width=w * 0.34, size=SIZE,
        caption="(расшифровка подписи)",
    )  # fmt: skip
    s.space(10)
    s.paragraph("Заявку принял(а):", size=SIZE)
    top = s.y
    s.field("", x=s.left, width=w * 0.6, size=SIZE, caption="(должность, фамилия, инициалы)")
    s.y = top
    s.field("", x=s.left + w * 0.66, width=w * 0.34, size=SIZE, caption="(подпись)")


def _short(full: str) -> str:
    """«Иванова Анна Петровна» → «Иванова А. П.»."""
    parts = full.split()
    if not parts:
        return ""
    return " ".join([parts[0], *(f"{p[0]}." for p in parts[1:] if p)])
