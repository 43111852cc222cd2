"""How dates, ages and identifiers look on screen, in one place."""

from __future__ import annotations

import datetime as dt

from services.patients import age_on
from services.validation import format_phone, format_snils

__all__ = ["age_text", "fmt_date", "fmt_phone", "fmt_policy", "fmt_snils"]


def fmt_date(d: dt.date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else ""


def age_text(birth: dt.date, today: dt.date | None = None) -> str:
    """«42 года», «1 год», «5 лет»; «7 мес.» for babies — how Russian records state age."""
    today = today or dt.date.today()
    years = age_on(birth, today)
    if years < 1:
        months = (
            (today.year - birth.year) * 12 + today.month - birth.month - (today.day < birth.day)
        )
        return f"{max(months, 0)} мес."
    if years % 10 == 1 and years % 100 != 11:
        word = "год"
    elif 2 <= years % 10 <= 4 and not 12 <= years % 100 <= 14:
        word = "года"
    else:
        word = "лет"
    return f"{years} {word}"


def fmt_snils(s: str | None) -> str:
    return format_snils(s) if s else ""


def fmt_policy(p: str | None) -> str:
    return " ".join(p[i : i + 4] for i in range(0, 16, 4)) if p else ""


def fmt_phone(p: str) -> str:
    return format_phone(p) if p else ""
