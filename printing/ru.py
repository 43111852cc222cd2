"""Dates as Russian blanks print them: «число 5 месяц ноября год 2025», «05» ноября 2025 г."""

from __future__ import annotations

import datetime as dt

__all__ = ["MONTHS_GENITIVE", "month_genitive"]

MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
"""Month names in the genitive case, the form a date takes after the day («5 ноября»)."""


def month_genitive(date: dt.date) -> str:
    return MONTHS_GENITIVE[date.month - 1]
