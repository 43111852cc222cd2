"""Patient search: what the registrar types, and the keyset-paged query it becomes.

One search field takes everything: «Иванов», «иванов ан», «Иванова 12.03.1985»,
«1234 5678 9012 3456» (the 16-digit policy), «112-233-445 95» (СНИЛС).  Text typed in the
Latin layout by mistake («Bdfyjd») is read as the Cyrillic it was meant to be.

Pages are keyset-paged on ``(search_key, id)``: page N costs the same as page 1, even deep in
a city-sized registry, and rows never shift between pages when someone registers a patient.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from services.errors import ValidationError
from services.models import Department, Patient, Sex
from services.search_keys import make_search_key, prefix_upper_bound
from services.validation import normalize_policy, normalize_snils

__all__ = ["PatientRow", "SearchQuery", "parse_query", "search_patients"]

_LAT = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_CYR = "йцукенгшщзхъфывапролджэячсмитьбюё"
_LAYOUT = str.maketrans(_LAT + _LAT.upper(), _CYR + _CYR.upper())
_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$")
_DIGITS_ONLY = re.compile(r"^[\d\s-]+$")
_NAME_CHARS = re.compile(r"^[А-Яа-яЁё\- ]+$")
MAX_QUERY = 200


@dataclass(frozen=True)
class SearchQuery:
    name_prefix: str = ""  # normalised (upper, Ё→Е), may span surname and name
    birth_date: dt.date | None = None
    policy: str | None = None
    snils: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.name_prefix or self.birth_date or self.policy or self.snils)


@dataclass(frozen=True)
class PatientRow:
    """One line of the search results."""

    id: int
    surname: str
    name: str
    patronymic: str
    sex: Sex
    birth_date: dt.date
    snils: str | None
    policy_number: str | None
    phone: str
    department: str
    cursor: tuple[str, int]

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


def parse_query(text: str) -> SearchQuery:
    """Turn the search field's text into a query; a malformed number names its rule."""
    text = text.strip()
    if len(text) > MAX_QUERY:
        raise ValidationError("Поиск", f"не длиннее {MAX_QUERY} символов", key="query")
    if not text:
        return SearchQuery()
    if _DIGITS_ONLY.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) == 16:
            return SearchQuery(policy=normalize_policy(digits))
        if len(digits) == 11:
            return SearchQuery(snils=normalize_snils(digits))
        raise ValidationError("Поиск", "номер полиса ОМС — 16 цифр, СНИЛС — 11 цифр", key="query")
    words: list[str] = []
    birth: dt.date | None = None
    for token in text.split():
        if _DATE.match(token):
            try:
                d, m, y = (int(x) for x in token.split("."))
                birth = dt.date(y, m, d)
            except ValueError:
                raise ValidationError(
                    "Дата рождения", f"нет такой даты: {token}", key="query"
                ) from None
            continue
        if re.fullmatch(r"[A-Za-z\[\];',.`]+", token):
            token = token.translate(_LAYOUT)
        if not _NAME_CHARS.match(token):
            raise ValidationError(
                "Поиск",
                "введите фамилию (и имя) русскими буквами, дату ДД.ММ.ГГГГ, полис ОМС или СНИЛС",
                key="query",
            )
        words.append(token)
    return SearchQuery(name_prefix=make_search_key(*words), birth_date=birth)


_COLUMNS = (
    Patient.id,
    Patient.surname,
    Patient.name,
    Patient.patronymic,
    Patient.sex,
    Patient.birth_date,
    Patient.snils,
    Patient.policy_number,
    Patient.phone,
    Department.name,
    Patient.search_key,
)


def _base() -> Select[*tuple[Any, ...]]:
    # Plain columns, not entities: a result page needs no identity map or change tracking,
    # which keeps the ORM path within a whisker of the raw-SQL anchor (bench/search.py).
    stmt: Select[*tuple[Any, ...]] = select(*_COLUMNS)
    return stmt.outerjoin(Department, Department.id == Patient.attachment_department_id)


def search_patients(
    session: Session,
    query: SearchQuery,
    *,
    after: tuple[str, int] | None = None,
    limit: int = 100,
) -> list[PatientRow]:
    """One page of matches in alphabetical order; pass the last row's ``cursor`` for the next."""
    if query.empty:
        return []
    stmt = _base()
    if query.policy:
        stmt = stmt.where(Patient.policy_number == query.policy)
    elif query.snils:
        stmt = stmt.where(Patient.snils == query.snils)
    else:
        if query.name_prefix:
            stmt = stmt.where(
                Patient.search_key >= query.name_prefix,
                Patient.search_key < prefix_upper_bound(query.name_prefix),
            )
        if query.birth_date:
            stmt = stmt.where(Patient.birth_date == query.birth_date)
    if after is not None:
        stmt = stmt.where(tuple_(Patient.search_key, Patient.id) > tuple_(*after))
    stmt = stmt.order_by(Patient.search_key, Patient.id).limit(limit)
    return [
        PatientRow(
            id=r[0],
            surname=r[1],
            name=r[2],
            patronymic=r[3],
            sex=r[4],
            birth_date=r[5],
            snils=r[6],
            policy_number=r[7],
            phone=r[8],
            department=r[9] or "",
            cursor=(r[10], r[0]),
        )
        for r in session.execute(stmt)
    ]
