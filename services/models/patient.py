"""The patient registry: people, and the family relations between them.

A relative or legal representative is a person in the same registry (a parent is usually a
patient of the same polyclinic), so a relation links two patient rows; the child-access
issue picks the parent and their phone from here.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, UtcDateTime, search_key_type, str_enum, utcnow


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


class RelationKind(enum.StrEnum):
    """What the *relative* is to the patient («мать» of the child)."""

    MOTHER = "mother"
    FATHER = "father"
    GUARDIAN = "guardian"  # опекун
    TRUSTEE = "trustee"  # попечитель
    ADOPTIVE_PARENT = "adoptive"  # усыновитель (ст. 137 СК РФ: a parent in law)
    GRANDPARENT = "grandparent"
    SPOUSE = "spouse"
    SIBLING = "sibling"
    OTHER = "other"


class Patient(Base):
    """A person in the registry (пациент).

    ``search_key`` is «ФАМИЛИЯ ИМЯ ОТЧЕСТВО» upper-cased with Ё folded to Е; one b-tree
    index over ``(search_key, id)`` serves surname-prefix and surname+name search and keyset
    paging on both backends.  It is derived by ``services.patients``; never set it by hand.
    """

    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_search", "search_key", "id"),
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    surname: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(60))
    patronymic: Mapped[str] = mapped_column(String(60), default="")
    sex: Mapped[Sex] = mapped_column(str_enum(Sex))
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True)
    snils: Mapped[str | None] = mapped_column(String(11), unique=True)  # СНИЛС, 11 digits
    policy_number: Mapped[str | None] = mapped_column(String(16), unique=True)  # ЕНП ОМС
    phone: Mapped[str] = mapped_column(String(16), default="")  # E.164, +7…
    address: Mapped[str] = mapped_column(String(500), default="")
    # Прикрепление: the department the patient is attached to, and since when.
    attachment_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id"), index=True
    )
    attached_since: Mapped[dt.date | None] = mapped_column(Date)
    search_key: Mapped[str] = mapped_column(search_key_type(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    relations: Mapped[list[FamilyRelation]] = relationship(
        back_populates="patient", foreign_keys="FamilyRelation.patient_id"
    )


class FamilyRelation(Base):
    """«Родственная связь»: ``relative`` is ``kind`` of ``patient``, maybe their legal representative.

    A relation is ended (``valid_to``), not deleted: who represented a child and when is part
    of the record (the child-access history refers to it).
    """

    __tablename__ = "family_relation"
    __table_args__ = (CheckConstraint("patient_id <> relative_id", name="not_self"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[RelationKind] = mapped_column(str_enum(RelationKind))
    # Законный представитель, and the document that makes them one.
    is_legal_representative: Mapped[bool] = mapped_column(default=False)
    basis_document: Mapped[str] = mapped_column(String(300), default="")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    patient: Mapped[Patient] = relationship(back_populates="relations", foreign_keys=[patient_id])
    relative: Mapped[Patient] = relationship(foreign_keys=[relative_id])
