"""The record's signal information, edited from the EMK: allergies, dispensary conditions,
blood group and Rh.

These change rarely and matter every time (an allergy missed is a prescription that harms),
so each change keeps who made it and when; nothing is deleted — an allergy that was a
mistake is ended with a reason and stays in the history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit
from services.audit import Actor
from services.clock import clinic_tz, now_utc
from services.emk import fold
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.mkb10 import catalog
from services.models import Allergy, AllergySeverity, BloodType, DispensaryCondition, Patient

__all__ = [
    "ABO_GROUPS",
    "add_allergy",
    "add_dispensary",
    "end_allergy",
    "end_dispensary",
    "set_blood_type",
]

ABO_GROUPS = ("0(I)", "A(II)", "B(III)", "AB(IV)")
MAX_SUBSTANCE = 120
MAX_REACTION = 200
MAX_REASON = 300


def _clean(value: str, *, field: str, key: str, limit: int, required: bool) -> str:
    text = " ".join(value.split())  # control characters and runs of spaces → one space
    if required and not text:
        raise ValidationError(field, "обязательное поле", key=key)
    if len(text) > limit:
        raise ValidationError(field, f"не длиннее {limit} символов (сейчас {len(text)})", key=key)
    return text


def _patient(session: Session, patient_id: int) -> Patient:
    p = session.get(Patient, patient_id)
    if p is None:
        raise NotFoundError("Пациент не найден")
    return p


def add_allergy(
    session: Session,
    actor: Actor,
    patient_id: int,
    substance: str,
    reaction: str,
    severity: AllergySeverity | None,
) -> int:
    errors: list[ValidationError] = []
    try:
        substance = _clean(
            substance, field="Аллерген", key="substance", limit=MAX_SUBSTANCE, required=True
        )
    except ValidationError as e:
        errors.append(e)
    try:
        reaction = _clean(
            reaction, field="Реакция", key="reaction", limit=MAX_REACTION, required=False
        )
    except ValidationError as e:
        errors.append(e)
    if severity is None:
        errors.append(ValidationError("Тяжесть", "выберите тяжесть реакции", key="severity"))
    if errors:
        raise ValidationErrors(errors)
    assert severity is not None
    _patient(session, patient_id)
    active = session.scalars(
        select(Allergy.substance).where(
            Allergy.patient_id == patient_id, Allergy.ended_at.is_(None)
        )
    ).all()
    if fold(substance) in {fold(a) for a in active}:
        raise ValidationError("Аллерген", f"«{substance}» уже указан у пациента", key="substance")
    row = Allergy(
        patient_id=patient_id,
        substance=substance,
        reaction=reaction,
        severity=severity,
        noted_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "emk.allergy.add",
        patient_id=patient_id,
        object_type="allergy",
        object_id=row.id,
    )
    session.commit()
    return row.id


def end_allergy(session: Session, actor: Actor, allergy_id: int, reason: str) -> None:
    reason = _clean(reason, field="Причина", key="reason", limit=MAX_REASON, required=True)
    row = session.get(Allergy, allergy_id)
    if row is None:
        raise NotFoundError("Запись об аллергии не найдена")
    if row.ended_at is not None:
        raise ConflictError("Запись об аллергии уже снята другим пользователем")
    row.ended_at = now_utc()
    row.ended_by = actor.staff_id
    row.end_reason = reason
    audit.record(
        session,
        actor,
        "emk.allergy.end",
        patient_id=row.patient_id,
        object_type="allergy",
        object_id=row.id,
        details=reason,
    )
    session.commit()


def add_dispensary(
    session: Session,
    actor: Actor,
    patient_id: int,
    code: str,
    since: dt.date | None,
    specialty: str,
) -> int:
    """Take under dispensary observation (взять на Д-учёт) for a current МКБ-10 code."""
    errors: list[ValidationError] = []
    entry = None
    try:
        entry = catalog().check_new_diagnosis(code, main=True)
    except ValidationError as e:
        errors.append(ValidationError(e.field, e.rule, key="code"))
    today = now_utc().astimezone(clinic_tz()).date()
    patient = _patient(session, patient_id)
    if since is None:
        errors.append(ValidationError("Дата взятия на учёт", "обязательное поле", key="since"))
    elif since > today:
        errors.append(
            ValidationError("Дата взятия на учёт", "не может быть в будущем", key="since")
        )
    elif since < patient.birth_date:
        errors.append(
            ValidationError("Дата взятия на учёт", "раньше даты рождения пациента", key="since")
        )
    if errors:
        raise ValidationErrors(errors)
    assert entry is not None
    assert since is not None
    taken = session.scalars(
        select(DispensaryCondition.code).where(
            DispensaryCondition.patient_id == patient_id, DispensaryCondition.ended_on.is_(None)
        )
    ).all()
    if entry.code in taken:
        raise ValidationError("Диагноз по МКБ-10", f"{entry.code} уже на учёте", key="code")
    row = DispensaryCondition(
        patient_id=patient_id,
        code=entry.code,
        since=since,
        specialty=specialty[:80],
        noted_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "emk.dispensary.add",
        patient_id=patient_id,
        object_type="dispensary_condition",
        object_id=row.id,
        details=entry.code,
    )
    session.commit()
    return row.id


def end_dispensary(session: Session, actor: Actor, condition_id: int, reason: str) -> None:
    """Снять с диспансерного учёта: выздоровление, переезд, смерть — the reason is kept."""
    reason = _clean(reason, field="Причина", key="reason", limit=MAX_REASON, required=True)
    row = session.get(DispensaryCondition, condition_id)
    if row is None:
        raise NotFoundError("Запись о диспансерном учёте не найдена")
    if row.ended_on is not None:
        raise ConflictError("Пациент уже снят с этого учёта другим пользователем")
    row.ended_on = now_utc().astimezone(clinic_tz()).date()
    row.ended_by = actor.staff_id
    row.end_reason = reason
    audit.record(
        session,
        actor,
        "emk.dispensary.end",
        patient_id=row.patient_id,
        object_type="dispensary_condition",
        object_id=row.id,
        details=reason,
    )
    session.commit()


def set_blood_type(session: Session, actor: Actor, patient_id: int, abo: str, rh: str) -> None:
    errors: list[ValidationError] = []
    if abo not in ABO_GROUPS:
        errors.append(
            ValidationError("Группа крови", "одна из: " + ", ".join(ABO_GROUPS), key="abo")
        )
    if rh not in ("+", "-"):
        errors.append(ValidationError("Резус-фактор", "«+» или «−»", key="rh"))
    if errors:
        raise ValidationErrors(errors)
    _patient(session, patient_id)
    row = session.get(BloodType, patient_id)
    before = f"{row.abo} Rh{row.rh}" if row is not None else "не указана"
    if row is None:
        row = BloodType(patient_id=patient_id, abo=abo, rh=rh, noted_by=actor.staff_id)
        session.add(row)
    else:
        row.abo, row.rh, row.noted_by, row.noted_at = abo, rh, actor.staff_id, now_utc()
    session.flush()
    audit.record(
        session,
        actor,
        "emk.blood_type.set",
        patient_id=patient_id,
        object_type="blood_type",
        object_id=patient_id,
        details=f"{before} → {abo} Rh{rh}",
    )
    session.commit()
