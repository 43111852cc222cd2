"""A patient's card read in the patient reader, matched to the registry.

The card names a policy; the registry may know it (open that patient), not know it (offer to
register with the card's data), or know it under other data — a surname changed on marriage,
a birth date typed wrong years ago.  Differences are shown and the registrar decides;
nothing in the record changes without that decision.  Every read is audited, found or not;
the audit keeps which patient was identified, never the card's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from services import audit
from services.audit import Actor
from services.card.oms import OmsHolder
from services.patient_search import SearchQuery, search_patients
from services.patients import PatientCard, PatientInput, card_of
from services.validation import normalize_name_part

__all__ = ["CardMatch", "Difference", "differences", "identify", "input_from_card", "updated_input"]


@dataclass(frozen=True)
class Difference:
    key: str  # the PatientInput field
    label: str
    in_record: str
    on_card: str


@dataclass(frozen=True)
class CardMatch:
    holder: OmsHolder
    card: PatientCard | None  # None: no patient with this policy
    differences: list[Difference]


def _fmt_date(d: dt.date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else ""


def _same_name(a: str, b: str) -> bool:
    return a.strip().casefold().replace("ё", "е") == b.strip().casefold().replace("ё", "е")


def differences(card: PatientCard, h: OmsHolder) -> list[Difference]:
    """What the card says otherwise than the record (a field the card lacks is no difference)."""
    out: list[Difference] = []
    for key, label, mine, theirs in (
        ("surname", "Фамилия", card.surname, h.surname),
        ("name", "Имя", card.name, h.name),
        ("patronymic", "Отчество", card.patronymic, h.patronymic),
    ):
        if theirs and not _same_name(mine, theirs):
            out.append(Difference(key, label, mine, theirs))
    if h.sex is not None and h.sex != card.sex:
        sexes = {"M": "мужской", "F": "женский"}
        out.append(Difference("sex", "Пол", sexes[card.sex], sexes[h.sex]))
    if h.birth_date is not None and h.birth_date != card.birth_date:
        out.append(
            Difference(
                "birth_date", "Дата рождения", _fmt_date(card.birth_date), _fmt_date(h.birth_date)
            )
        )
    if h.snils and h.snils != (card.snils or ""):
        out.append(Difference("snils", "СНИЛС", card.snils or "", h.snils))
    return out


def identify(session: Session, actor: Actor, h: OmsHolder) -> CardMatch:
    """Find the card's patient by policy; the read is one audit event, naming the patient
    found (the screen that then opens them audits its own opening)."""
    rows = search_patients(session, SearchQuery(policy=h.policy), limit=1)
    if not rows:
        audit.record(session, actor, "patient_card.read", details="полис не найден в картотеке")
        session.commit()
        return CardMatch(h, None, [])
    card = card_of(session, rows[0].id)
    diffs = differences(card, h)
    audit.record(
        session,
        actor,
        "patient_card.read",
        patient_id=card.id,
        object_type="patient",
        object_id=card.id,
        details="данные карты отличаются: " + ", ".join(d.label for d in diffs) if diffs else "",
    )
    session.commit()
    return CardMatch(h, card, diffs)


def _name_part(value: str) -> str:
    try:
        return normalize_name_part(value, field="ФИО", key="name", required=False)
    except Exception:  # noqa: BLE001  (the form validates it again, and names the rule)
        return value


def input_from_card(h: OmsHolder) -> PatientInput:
    """A registration form filled from the card, for a patient new to the registry."""
    return PatientInput(
        surname=_name_part(h.surname),
        name=_name_part(h.name),
        patronymic=_name_part(h.patronymic),
        sex=h.sex,
        birth_date=h.birth_date,
        snils=h.snils,
        policy_number=h.policy,
    )


def updated_input(card: PatientCard, h: OmsHolder, keys: set[str]) -> PatientInput:
    """The record with the chosen fields taken from the card (validated again on save)."""
    data = card.as_input()
    new = input_from_card(h)
    changes = {k: getattr(new, k) for k in keys if getattr(new, k) not in (None, "")}
    return replace(data, **changes)
