"""Does the patient on a CD (DICOM) look like the EMK patient the user attaches it to?

A pure function so the import dialog, a service and a test all get the same answer.  Names on
a disc come in many shapes: ``Иванов^Иван^Иванович``, ``IVANOV^IVAN``, ``Иванов Иван
Иванович`` in the family component, upper case, «ё» written as «е».  A Latin name is compared
with the EMK name transliterated both by the passport rules (ICAO 9303, used since 2014) and by
the older habits (``ya``/``yu``/``y`` for я/ю/й, ``kh``/``h`` for х), so ``IVANOVA^YULIYA``
matches «Иванова Юлия».  Only real conflicts are *differences*; a part the disc leaves out (the
patronymic, often) is not — except the birth date, without which the match cannot be checked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["EmkPatient", "compare_patient", "split_dicom_name"]


@dataclass(frozen=True)
class EmkPatient:
    """The record's side: ФИО and birth date as the EMK keeps them."""

    surname: str
    first_name: str
    patronymic: str = ""
    birth_date: dt.date | None = None


_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_OLD = {**_ICAO, "й": "y", "ю": "yu", "я": "ya", "ъ": "", "х": "h", "щ": "sch", "ц": "c"}
_OLD2 = {**_OLD, "х": "kh", "ц": "ts", "щ": "shch", "ё": "yo", "е": "e", "ь": "'"}


def _norm(s: str) -> str:
    s = s.strip().lower().replace("ё", "е")
    s = re.sub(r"[\s\-']+", " ", s)
    return s.strip()


def _cyrillic(s: str) -> bool:
    return any("а" <= c <= "я" or c == "ё" for c in s.lower())


def _translit(s: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in s)


def _same(disc: str, emk: str) -> bool:
    a, b = _norm(disc), _norm(emk)
    if a == b:
        return True
    if _cyrillic(b) and not _cyrillic(a):
        plain = a.replace("'", "").replace(" ", "")
        with_yo = re.sub(r"[\s\-']+", " ", emk.strip().lower())
        for table in (_ICAO, _OLD, _OLD2):
            for source in (b, with_yo):
                if _translit(source, table).replace("'", "").replace(" ", "") == plain:
                    return True
    return False


def split_dicom_name(pn: str) -> tuple[str, str, str]:
    """``(family, given, middle)`` from a DICOM PN; a name typed with spaces is split too.

    Of several component groups (``alphabetic=ideographic=phonetic``) the first non-empty one
    is used.
    """
    group = next((g for g in pn.split("=") if g.strip("^ ")), "")
    parts = [p.strip() for p in group.split("^")]
    parts += [""] * (3 - len(parts))
    family, given, middle = parts[0], parts[1], parts[2]
    if family and not given and " " in family:
        words = family.split()
        family, given, middle = words[0], words[1], " ".join(words[2:])
    elif given and not middle and " " in given:
        words = given.split()
        given, middle = words[0], " ".join(words[1:])
    return family, given, middle


def _da(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    s = value.strip().replace(".", "").replace("-", "")
    try:
        return dt.datetime.strptime(s[:8], "%Y%m%d").date() if len(s) >= 8 else None
    except ValueError:
        return None


def _ru(d: dt.date) -> str:
    return d.strftime("%d.%m.%Y")


def compare_patient(
    dicom_name: str, dicom_birth_date: str | dt.date | None, emk: EmkPatient
) -> list[str]:
    """The differences between the disc's patient and the EMK's, in words; empty = same person.

    ``dicom_birth_date`` is the DICOM DA (``YYYYMMDD``) or a date.
    """
    family, given, middle = split_dicom_name(dicom_name)
    out: list[str] = []
    for label, disc, record in (
        ("фамилия", family, emk.surname),
        ("имя", given, emk.first_name),
        ("отчество", middle, emk.patronymic),
    ):
        if not disc:
            if label != "отчество" and record:
                out.append(
                    f"{label} на диске не указана"
                    if label == "фамилия"
                    else f"{label} на диске не указано"
                )
            continue
        if not record:
            if label != "отчество":
                out.append(f"{label}: на диске «{disc}», в ЭМК не указано")
            continue
        if not _same(disc, record):
            out.append(f"{label}: на диске «{disc}», в ЭМК «{record}»")
    born = _da(dicom_birth_date)
    if born is None:
        out.append("дата рождения на диске не указана")
    elif emk.birth_date is not None and born != emk.birth_date:
        out.append(f"дата рождения: на диске {_ru(born)}, в ЭМК {_ru(emk.birth_date)}")
    return out
