"""Patient search: what the registrar types, and the keyset-paged query it becomes.

One search field takes everything: «Иванов», «иванов ан», «Иванова 12.03.1985»,
«1234 5678 9012 3456» (the 16-digit policy), «112-233-445 95» (СНИЛС).  Text typed in the
Latin layout by mistake («Bdfyjd») is read as the Cyrillic it was meant to be.

Pages are keyset-paged on ``(search_key, id)``: page N costs the same as page 1, even deep in
a city-sized registry, and rows never shift between pages when someone registers a patient.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, select, tuple_
from sqlalchemy.orm import Session

from services.errors import ValidationError
from services.models import Department, Patient, Sex
from services.search_keys import make_search_key, prefix_upper_bound
from services.validation import normalize_policy, normalize_snils

__all__ = ["PatientRow", "SearchQuery", "parse_query", "search_patients", "search_statement"]

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


class PatientRow(NamedTuple):
    """One line of the search results.

    A named tuple rather than a frozen dataclass: a page is a hundred of them per keystroke,
    and a frozen dataclass's ``__init__`` alone cost a third of the ORM-over-raw overhead.
    """

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


_PAGE_COLUMNS = (
    Patient.id,
    Patient.surname,
    Patient.name,
    Patient.patronymic,
    Patient.sex,
    Patient.birth_date,
    Patient.snils,
    Patient.policy_number,
    Patient.phone,
    Patient.attachment_department_id,
    Patient.search_key,
)

_Stmt = Select[*tuple[Any, ...]]


@functools.cache
def _statement(kind: str, prefix: bool, birth: bool, paged: bool) -> _Stmt:
    """The SELECT for one shape of query, built once; values go in as bound parameters.

    The page is cut from ``patient`` alone in an inner query, so the (search_key, id) index
    serves the filter, the order and the LIMIT in one scan whatever the planner thinks of the
    join, and the department name is looked up for those ≤ 100 rows only.  Building the
    statement once per shape, not per keystroke, keeps the ORM path close to the raw-SQL anchor
    (bench/search.py).
    """
    inner: _Stmt = select(*_PAGE_COLUMNS)
    if kind == "policy":
        inner = inner.where(Patient.policy_number == bindparam("policy"))
    elif kind == "snils":
        inner = inner.where(Patient.snils == bindparam("snils"))
    else:
        if prefix:
            inner = inner.where(
                Patient.search_key >= bindparam("key_from"),
                Patient.search_key < bindparam("key_to"),
            )
        if birth:
            inner = inner.where(Patient.birth_date == bindparam("birth_date"))
    if paged:
        inner = inner.where(
            tuple_(Patient.search_key, Patient.id)
            > tuple_(
                bindparam("after_key", type_=Patient.search_key.type),
                bindparam("after_id", type_=Integer()),
            )
        )
    page = (
        inner.order_by(Patient.search_key, Patient.id)
        .limit(bindparam("limit", type_=Integer()))
        .subquery("page")
    )
    c = page.c
    stmt: _Stmt = select(
        c.id,
        c.surname,
        c.name,
        c.patronymic,
        c.sex,
        c.birth_date,
        c.snils,
        c.policy_number,
        c.phone,
        Department.name,
        c.search_key,
    )
    return stmt.outerjoin(Department, Department.id == c.attachment_department_id).order_by(
        c.search_key, c.id
    )


def search_statement(
    query: SearchQuery, *, after: tuple[str, int] | None = None, limit: int = 100
) -> tuple[_Stmt, dict[str, Any]]:
    """The one SELECT behind a result page and its parameters (bench/search.py runs the same).

    Surname prefixes are a range on ``search_key``, so no OFFSET and no sort of a city:
    page N costs what page 1 costs.
    """
    params: dict[str, Any] = {"limit": limit}
    if query.policy:
        kind = "policy"
        params["policy"] = query.policy
    elif query.snils:
        kind = "snils"
        params["snils"] = query.snils
    else:
        kind = "name"
        if query.name_prefix:
            params["key_from"] = query.name_prefix
            params["key_to"] = prefix_upper_bound(query.name_prefix)
        if query.birth_date:
            params["birth_date"] = query.birth_date
    if after is not None:
        params["after_key"], params["after_id"] = after
    stmt = _statement(kind, bool(query.name_prefix), bool(query.birth_date), after is not None)
    return stmt, params


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
    stmt, params = search_statement(query, after=after, limit=limit)
    # Core execution on the session's connection: plain column rows need none of the ORM's
    # entity loading, which was the other half of the overhead (bench/search.py).
    rows = session.connection().execute(stmt, params).all()
    return [
        PatientRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9] or "", (r[10], r[0]))
        for r in rows
    ]
