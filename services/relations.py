"""Family relations and legal representatives («родственные связи», «законные представители»).

A relation is stored once, from the patient's side («Иванова А. — мать Иванова П.»), and shown
from both sides: on the mother's card the same row reads «сын». Relations are ended, never
deleted: who represented a child, and when, is part of the record and the child-access
history depends on it.

Rules (each error names the field and the rule):
- nobody is their own relative; one active relation per pair;
- a mother is female and a father male, and each is at least 14 years older than the child
  (the floor is loose on purpose: it catches a swapped child and parent, not biology);
- a legal representative is an adult (18+), except a parent of 14+ who by the Family Code
  (ст. 62 СК РФ) represents their own child from 16 — we accept 16+ for parents;
- a parent represents only a minor; a guardian or trustee may represent an adult too
  (an adult declared incapable);
- the end date is not before the start date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services import audit
from services.audit import Actor
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.models import FamilyRelation, Patient, RelationKind, Sex
from services.patients import age_on

__all__ = [
    "KIND_LABELS",
    "RelationInput",
    "RelationView",
    "add_relation",
    "end_relation",
    "list_relations",
    "update_relation",
]

KIND_LABELS: dict[RelationKind, str] = {
    RelationKind.MOTHER: "мать",
    RelationKind.FATHER: "отец",
    RelationKind.GUARDIAN: "опекун",
    RelationKind.TRUSTEE: "попечитель",
    RelationKind.ADOPTIVE_PARENT: "усыновитель",
    RelationKind.GRANDPARENT: "бабушка / дедушка",
    RelationKind.SPOUSE: "супруг(а)",
    RelationKind.SIBLING: "брат / сестра",
    RelationKind.OTHER: "иное",
}

MAX_BASIS = 300


def reverse_label(kind: RelationKind, sex: Sex) -> str:
    """What the *patient* is to the relative, for the relative's card."""
    male = sex == Sex.MALE
    match kind:
        case RelationKind.MOTHER | RelationKind.FATHER:
            return "сын" if male else "дочь"
        case RelationKind.GUARDIAN | RelationKind.TRUSTEE:
            return "подопечный" if male else "подопечная"
        case RelationKind.ADOPTIVE_PARENT:
            return "усыновлённый" if male else "удочерённая"
        case RelationKind.GRANDPARENT:
            return "внук" if male else "внучка"
        case RelationKind.SPOUSE:
            return "муж" if male else "жена"
        case RelationKind.SIBLING:
            return "брат" if male else "сестра"
        case _:
            return "иное"


@dataclass(frozen=True)
class RelationInput:
    relative_id: int | None
    kind: RelationKind | None
    is_legal_representative: bool = False
    basis_document: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@dataclass(frozen=True)
class RelationView:
    """One row of the card's relations table, seen from the card's patient."""

    id: int
    other_id: int
    other_name: str
    other_birth_date: dt.date
    other_phone: str
    label: str  # «мать», or from the parent's card «дочь»
    kind: RelationKind
    forward: bool  # True: the other person is ``kind`` of this patient
    is_legal_representative: bool
    basis_document: str
    valid_from: dt.date
    valid_to: dt.date | None
    version_id: int

    def active_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


def _name(p: Patient) -> str:
    return " ".join(x for x in (p.surname, p.name, p.patronymic) if x)


def list_relations(session: Session, patient_id: int) -> list[RelationView]:
    """Both directions, active first, then by start date."""
    stmt = select(FamilyRelation).where(
        or_(FamilyRelation.patient_id == patient_id, FamilyRelation.relative_id == patient_id)
    )
    out: list[RelationView] = []
    for r in session.scalars(stmt):
        forward = r.patient_id == patient_id
        other = r.relative if forward else r.patient
        label = KIND_LABELS[r.kind] if forward else reverse_label(r.kind, r.patient.sex)
        out.append(
            RelationView(
                id=r.id,
                other_id=other.id,
                other_name=_name(other),
                other_birth_date=other.birth_date,
                other_phone=other.phone,
                label=label,
                kind=r.kind,
                forward=forward,
                is_legal_representative=r.is_legal_representative,
                basis_document=r.basis_document,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                version_id=r.version_id,
            )
        )
    out.sort(key=lambda v: (v.valid_to is not None, v.valid_from), reverse=False)
    return out


def _validate(
    session: Session, patient: Patient, data: RelationInput, *, exclude_id: int | None
) -> tuple[Patient, RelationKind, dt.date]:
    errors: list[ValidationError] = []
    relative = session.get(Patient, data.relative_id) if data.relative_id is not None else None
    if relative is None:
        errors.append(
            ValidationError("Родственник", "выберите человека из регистра", key="relative")
        )
    elif relative.id == patient.id:
        errors.append(
            ValidationError(
                "Родственник", "пациент не может быть родственником самому себе", key="relative"
            )
        )
    if data.kind is None:
        errors.append(ValidationError("Родственная связь", "обязательное поле", key="kind"))
    valid_from = data.valid_from or dt.date.today()
    if data.valid_to is not None and data.valid_to < valid_from:
        errors.append(ValidationError("Окончание", "не раньше даты начала", key="valid_to"))
    basis = " ".join(data.basis_document.split())
    if len(basis) > MAX_BASIS:
        errors.append(
            ValidationError("Документ-основание", f"не длиннее {MAX_BASIS} символов", key="basis")
        )
    if relative is not None and data.kind is not None and relative.id != patient.id:
        kind = data.kind
        gap = (
            age_on(relative.birth_date, patient.birth_date)
            if relative.birth_date < patient.birth_date
            else -1
        )
        rel_age = age_on(relative.birth_date, valid_from)
        if kind == RelationKind.MOTHER and relative.sex != Sex.FEMALE:
            errors.append(
                ValidationError(
                    "Родственная связь",
                    "мать — женщина; проверьте пол или выберите «отец»",
                    key="kind",
                )
            )
        if kind == RelationKind.FATHER and relative.sex != Sex.MALE:
            errors.append(
                ValidationError(
                    "Родственная связь",
                    "отец — мужчина; проверьте пол или выберите «мать»",
                    key="kind",
                )
            )
        if (
            kind in (RelationKind.MOTHER, RelationKind.FATHER, RelationKind.GRANDPARENT)
            and gap < 14
        ):
            errors.append(
                ValidationError(
                    "Родственник",
                    "родитель должен быть старше ребёнка не менее чем на 14 лет",
                    key="relative",
                )
            )
        if data.is_legal_representative:
            if kind in (RelationKind.MOTHER, RelationKind.FATHER):
                if age_on(patient.birth_date, valid_from) >= 18:
                    errors.append(
                        ValidationError(
                            "Законный представитель",
                            "родитель представляет только несовершеннолетнего; для взрослого — опекун",
                            key="legal",
                        )
                    )
                if rel_age < 16:
                    errors.append(
                        ValidationError(
                            "Законный представитель", "родитель — не моложе 16 лет", key="legal"
                        )
                    )
            elif kind == RelationKind.ADOPTIVE_PARENT:
                # ст. 127 СК РФ: adopters are adults; a court decision is the basis.
                if age_on(patient.birth_date, valid_from) >= 18:
                    errors.append(
                        ValidationError(
                            "Законный представитель",
                            "усыновитель представляет только несовершеннолетнего",
                            key="legal",
                        )
                    )
                if rel_age < 18:
                    errors.append(
                        ValidationError(
                            "Законный представитель", "усыновитель — совершеннолетний", key="legal"
                        )
                    )
                if not basis:
                    errors.append(
                        ValidationError(
                            "Документ-основание",
                            "для усыновителя обязателен (решение суда об усыновлении)",
                            key="basis",
                        )
                    )
            elif kind in (RelationKind.GUARDIAN, RelationKind.TRUSTEE):
                if rel_age < 18:
                    errors.append(
                        ValidationError(
                            "Законный представитель",
                            "опекун или попечитель — совершеннолетний",
                            key="legal",
                        )
                    )
                if not basis:
                    errors.append(
                        ValidationError(
                            "Документ-основание",
                            "для опекуна обязателен (акт органа опеки)",
                            key="basis",
                        )
                    )
            else:
                errors.append(
                    ValidationError(
                        "Законный представитель",
                        "только родитель, усыновитель, опекун или попечитель",
                        key="legal",
                    )
                )
        dup = session.scalar(
            select(FamilyRelation.id).where(
                FamilyRelation.patient_id == patient.id,
                FamilyRelation.relative_id == relative.id,
                FamilyRelation.valid_to.is_(None),
                FamilyRelation.id != (exclude_id or -1),
            )
        )
        if dup is not None:
            errors.append(
                ValidationError(
                    "Родственник", "связь с этим человеком уже есть; измените её", key="relative"
                )
            )
    if errors:
        raise ValidationErrors(errors)
    assert relative is not None
    assert data.kind is not None
    return relative, data.kind, valid_from


def _patient(session: Session, patient_id: int) -> Patient:
    p = session.get(Patient, patient_id)
    if p is None:
        raise NotFoundError("Пациент не найден")
    return p


def add_relation(
    session: Session, actor: Actor, patient_id: int, data: RelationInput
) -> RelationView:
    patient = _patient(session, patient_id)
    relative, kind, valid_from = _validate(session, patient, data, exclude_id=None)
    r = FamilyRelation(
        patient_id=patient.id,
        relative_id=relative.id,
        kind=kind,
        is_legal_representative=data.is_legal_representative,
        basis_document=" ".join(data.basis_document.split()),
        valid_from=valid_from,
        valid_to=data.valid_to,
    )
    session.add(r)
    session.flush()
    audit.record(
        session,
        actor,
        "relation.add",
        patient_id=patient.id,
        object_type="family_relation",
        object_id=r.id,
    )
    session.commit()
    return next(v for v in list_relations(session, patient.id) if v.id == r.id)


def _relation(session: Session, relation_id: int, version_id: int) -> FamilyRelation:
    r = session.get(FamilyRelation, relation_id)
    if r is None:
        raise NotFoundError("Родственная связь не найдена")
    if r.version_id != version_id:
        raise ConflictError("Связь изменил другой пользователь; откройте карту заново.")
    return r


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(
            "Связь одновременно изменил другой пользователь; откройте карту заново."
        ) from None


def update_relation(
    session: Session, actor: Actor, relation_id: int, version_id: int, data: RelationInput
) -> RelationView:
    r = _relation(session, relation_id, version_id)
    relative, kind, valid_from = _validate(session, r.patient, data, exclude_id=r.id)
    r.relative_id = relative.id
    r.kind = kind
    r.is_legal_representative = data.is_legal_representative
    r.basis_document = " ".join(data.basis_document.split())
    r.valid_from = valid_from
    r.valid_to = data.valid_to
    audit.record(
        session,
        actor,
        "relation.update",
        patient_id=r.patient_id,
        object_type="family_relation",
        object_id=r.id,
    )
    _commit(session)
    return next(v for v in list_relations(session, r.patient_id) if v.id == r.id)


def end_relation(
    session: Session, actor: Actor, relation_id: int, version_id: int, on: dt.date | None = None
) -> RelationView:
    """End a relation (e.g. guardianship lifted) on ``on`` (today by default); it stays in history."""
    r = _relation(session, relation_id, version_id)
    on = on or dt.date.today()
    if r.valid_to is not None:
        raise ConflictError("Связь уже прекращена")
    if on < r.valid_from:
        raise ValidationError("Окончание", "не раньше даты начала", key="valid_to")
    r.valid_to = on
    audit.record(
        session,
        actor,
        "relation.end",
        patient_id=r.patient_id,
        object_type="family_relation",
        object_id=r.id,
    )
    _commit(session)
    return next(v for v in list_relations(session, r.patient_id) if v.id == r.id)
