"""The patient card: open it (audited), register a patient, edit demographics.

Validation happens here as well as in the form: the form is not the only client (the CLI, a
card reader and a future web front end call the same functions).  All field errors are
reported together so a registrar fixes them in one pass.  Edits carry the ``version_id`` the
form was loaded with; if someone else saved in between, :class:`ConflictError` says so and
the registrar's input stays in the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services import audit
from services.audit import Actor
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.models import Department, Patient, Sex
from services.search_keys import make_search_key
from services.validation import (
    normalize_name_part,
    normalize_phone,
    normalize_policy,
    normalize_snils,
    validate_birth_date,
)

__all__ = [
    "PatientCard",
    "PatientInput",
    "age_on",
    "card_of",
    "list_departments",
    "open_card",
    "register_patient",
    "update_patient",
    "validate_patient_input",
]

T = TypeVar("T")
MAX_ADDRESS = 500


@dataclass(frozen=True)
class PatientInput:
    """What the registration / edit form holds, as typed (strings, except the enum and date)."""

    surname: str
    name: str
    patronymic: str
    sex: Sex | None
    birth_date: dt.date | None
    snils: str = ""
    policy_number: str = ""
    phone: str = ""
    address: str = ""
    attachment_department_id: int | None = None


@dataclass(frozen=True)
class PatientCard:
    """Demographics and attachment as the card shows them."""

    id: int
    surname: str
    name: str
    patronymic: str
    sex: Sex
    birth_date: dt.date
    snils: str | None
    policy_number: str | None
    phone: str
    address: str
    attachment_department_id: int | None
    attachment_department: str
    attached_since: dt.date | None
    version_id: int

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)

    def as_input(self) -> PatientInput:
        return PatientInput(
            surname=self.surname,
            name=self.name,
            patronymic=self.patronymic,
            sex=self.sex,
            birth_date=self.birth_date,
            snils=self.snils or "",
            policy_number=self.policy_number or "",
            phone=self.phone,
            address=self.address,
            attachment_department_id=self.attachment_department_id,
        )


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _collect(errors: list[ValidationError], fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except ValidationError as exc:
        errors.append(exc)
        return None


def validate_patient_input(data: PatientInput, *, today: dt.date | None = None) -> PatientInput:
    """Normalise every field or raise :class:`ValidationErrors` naming each broken one."""
    errors: list[ValidationError] = []
    surname = _collect(
        errors, lambda: normalize_name_part(data.surname, field="Фамилия", key="surname")
    )
    name = _collect(errors, lambda: normalize_name_part(data.name, field="Имя", key="name"))
    patronymic = _collect(
        errors,
        lambda: normalize_name_part(
            data.patronymic, field="Отчество", key="patronymic", required=False
        ),
    )
    if data.sex is None:
        errors.append(ValidationError("Пол", "обязательное поле", key="sex"))
    birth: dt.date | None = None
    if data.birth_date is None:
        errors.append(ValidationError("Дата рождения", "обязательное поле", key="birth_date"))
    else:
        bd = data.birth_date
        birth = _collect(errors, lambda: validate_birth_date(bd, today=today))
    snils = _collect(errors, lambda: normalize_snils(data.snils)) if data.snils.strip() else ""
    policy = (
        _collect(errors, lambda: normalize_policy(data.policy_number))
        if data.policy_number.strip()
        else ""
    )
    phone = _collect(errors, lambda: normalize_phone(data.phone)) if data.phone.strip() else ""
    address = " ".join(data.address.split())
    if len(address) > MAX_ADDRESS:
        errors.append(ValidationError("Адрес", f"не длиннее {MAX_ADDRESS} символов", key="address"))
    if errors:
        raise ValidationErrors(errors)
    return replace(
        data,
        surname=surname or "",
        name=name or "",
        patronymic=patronymic or "",
        birth_date=birth,
        snils=snils or "",
        policy_number=policy or "",
        phone=phone or "",
        address=address,
    )


def _card(session: Session, p: Patient) -> PatientCard:
    dept = (
        session.get(Department, p.attachment_department_id) if p.attachment_department_id else None
    )
    return PatientCard(
        id=p.id,
        surname=p.surname,
        name=p.name,
        patronymic=p.patronymic,
        sex=p.sex,
        birth_date=p.birth_date,
        snils=p.snils,
        policy_number=p.policy_number,
        phone=p.phone,
        address=p.address,
        attachment_department_id=p.attachment_department_id,
        attachment_department=dept.name if dept else "",
        attached_since=p.attached_since,
        version_id=p.version_id,
    )


def _get(session: Session, patient_id: int) -> Patient:
    p = session.get(Patient, patient_id)
    if p is None:
        raise NotFoundError("Пациент не найден (возможно, карта удалена или объединена)")
    return p


def card_of(session: Session, patient_id: int) -> PatientCard:
    """The card's data without an audit event: for a caller that audits its own read
    (a patient card matched against the registry)."""
    return _card(session, _get(session, patient_id))


def open_card(session: Session, actor: Actor, patient_id: int) -> PatientCard:
    """Read a patient's card; the read itself is an audit event."""
    p = _get(session, patient_id)
    card = _card(session, p)
    audit.record(
        session, actor, "patient.open", patient_id=p.id, object_type="patient", object_id=p.id
    )
    session.commit()
    return card


_UNIQUE_FIELDS = (
    (Patient.snils, "snils", "СНИЛС", "snils"),
    (Patient.policy_number, "policy_number", "Полис ОМС", "policy"),
)
_TAKEN = "уже указан в карте другого пациента"


def _check_unique(session: Session, data: PatientInput, exclude_id: int | None) -> None:
    errors: list[ValidationError] = []
    for column, attr, label, key in _UNIQUE_FIELDS:
        value = getattr(data, attr)
        if not value:
            continue
        other = session.scalar(select(Patient.id).where(column == value))
        if other is not None and other != exclude_id:
            errors.append(ValidationError(label, _TAKEN, key=key))
    if errors:
        raise ValidationErrors(errors)


@contextmanager
def _unique_race(session: Session) -> Iterator[None]:
    """Two registrars typing the same СНИЛС at once both pass :func:`_check_unique`; the
    database's unique constraint stops the second, and it is told so under the field,
    like any other input error, instead of seeing an internal error."""
    try:
        yield
    except IntegrityError as exc:
        session.rollback()
        text = str(exc.orig)
        errors = [
            ValidationError(label, _TAKEN, key=key)
            for _column, attr, label, key in _UNIQUE_FIELDS
            if attr in text
        ]
        if not errors:
            raise
        raise ValidationErrors(errors) from None


def _apply(p: Patient, data: PatientInput) -> None:
    assert data.sex is not None  # validated
    assert data.birth_date is not None
    p.surname = data.surname
    p.name = data.name
    p.patronymic = data.patronymic
    p.sex = data.sex
    p.birth_date = data.birth_date
    p.snils = data.snils or None
    p.policy_number = data.policy_number or None
    p.phone = data.phone
    p.address = data.address
    if p.attachment_department_id != data.attachment_department_id:
        p.attachment_department_id = data.attachment_department_id
        p.attached_since = dt.date.today() if data.attachment_department_id else None
    p.search_key = make_search_key(data.surname, data.name, data.patronymic)


def register_patient(session: Session, actor: Actor, data: PatientInput) -> PatientCard:
    """Add a new person to the registry (a patient, or a parent being linked to a child)."""
    data = validate_patient_input(data)
    _check_unique(session, data, None)
    p = Patient()
    _apply(p, data)
    with _unique_race(session):
        session.add(p)
        session.flush()
        audit.record(
            session,
            actor,
            "patient.register",
            patient_id=p.id,
            object_type="patient",
            object_id=p.id,
        )
        session.commit()
    return _card(session, p)


def update_patient(
    session: Session, actor: Actor, patient_id: int, version_id: int, data: PatientInput
) -> PatientCard:
    """Save edited demographics, unless someone else saved since ``version_id`` was read."""
    data = validate_patient_input(data)
    p = _get(session, patient_id)
    if p.version_id != version_id:
        raise ConflictError(
            "Карту пациента изменил другой пользователь. Ваши изменения не сохранены, "
            "но остались в форме: откройте карту заново и внесите их ещё раз."
        )
    _check_unique(session, data, patient_id)
    before = _card(session, p).as_input()
    _apply(p, data)
    changed = [
        f for f in PatientInput.__dataclass_fields__ if getattr(before, f) != getattr(data, f)
    ]
    audit.record(
        session,
        actor,
        "patient.update",
        patient_id=p.id,
        object_type="patient",
        object_id=p.id,
        details="changed: " + ", ".join(changed),  # field names only, never values
    )
    try:
        with _unique_race(session):
            session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(
            "Карту пациента одновременно изменил другой пользователь. Ваши изменения остались "
            "в форме: откройте карту заново и сохраните ещё раз."
        ) from None
    return _card(session, p)


def list_departments(session: Session) -> list[tuple[int, str]]:
    return [(d.id, d.name) for d in session.scalars(select(Department).order_by(Department.name))]
