"""The electronic medical record (ЭМК): documents, their diagnoses, lab values, signal data.

Every row of :class:`EmkDocument` is a signed document and never changes: the database
refuses UPDATE and DELETE on it, its diagnoses and its lab values (triggers, migration 0004),
so no code path — ours, a script, a later bug — can rewrite what a doctor signed.  An
amendment is a new document whose ``supersedes_id`` names the version it replaces; the
timeline shows the newest version, the old ones stay readable.

What is still being written lives in :class:`ProtocolDraft` (one per doctor and patient),
which the editor saves as the doctor types.

The signal information of the header (allergies, dispensary conditions, blood group) is
edited in place with who and when, and removed only by marking it ended with a reason.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class DocKind(enum.StrEnum):
    """Sections of the record, as the timeline filters them."""

    PROTOCOL = "protocol"  # протокол осмотра
    LAB = "lab"  # лабораторное исследование
    IMAGING = "imaging"  # лучевая диагностика (КТ, МРТ, рентген)
    INSTRUMENTAL = "instrumental"  # функциональная диагностика (ЭКГ, УЗИ, ФВД)
    DISCHARGE = "discharge"  # выписной эпикриз из стационара
    VACCINATION = "vaccination"  # прививка
    PRESCRIPTION = "prescription"  # рецепт
    SICK_LEAVE = "sick_leave"  # листок нетрудоспособности
    REFERRAL = "referral"  # направление


class DiagnosisRole(enum.StrEnum):
    MAIN = "main"  # основной
    COMPLICATION = "complication"  # осложнение основного
    CONCOMITANT = "concomitant"  # сопутствующий


class DiagnosisCharacter(enum.StrEnum):
    """Характер заболевания, as the statistical coupon (талон) asks for it."""

    ACUTE = "acute"  # острое
    CHRONIC_NEW = "chronic_new"  # хроническое, впервые установленное
    CHRONIC_KNOWN = "chronic_known"  # хроническое, известное ранее


class AllergySeverity(enum.StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"  # анафилаксия, отёк Квинке


class EmkDocument(Base):
    """A signed document of the record; immutable (see the module docstring)."""

    __tablename__ = "emk_document"
    __table_args__ = (Index("ix_emk_document_patient_time", "patient_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[DocKind] = mapped_column(str_enum(DocKind))
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    specialty: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")  # the timeline's second line
    # Sections in reading order: [[«Жалобы», text], …]; kind-specific fields besides.
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Folded (lower case, ё→е) text of everything above, for the record's free-text filter.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The author as printed on the document («Петрова А. В., врач-терапевт»), kept even when
    # the document came from another organisation (a hospital's discharge summary, a lab).
    author_name: Mapped[str] = mapped_column(String(160), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"), index=True)
    signed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    version: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"), unique=True)
    amend_reason: Mapped[str] = mapped_column(String(300), default="")
    study_uid: Mapped[str | None] = mapped_column(String(64), index=True)  # DICOM Study UID


class DocumentDiagnosis(Base):
    """A diagnosis stated in a document, by МКБ-10 code."""

    __tablename__ = "document_diagnosis"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("emk_document.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[DiagnosisRole] = mapped_column(str_enum(DiagnosisRole))
    code: Mapped[str] = mapped_column(String(8))
    character: Mapped[DiagnosisCharacter | None] = mapped_column(str_enum(DiagnosisCharacter))
    note: Mapped[str] = mapped_column(String(300), default="")  # уточнение диагноза


class LabResult(Base):
    """One value of one test in a lab document, indexed for the trend of that test."""

    __tablename__ = "lab_result"
    __table_args__ = (Index("ix_lab_result_trend", "patient_id", "test_code", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("emk_document.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    test_code: Mapped[str] = mapped_column(String(20))
    test_name: Mapped[str] = mapped_column(String(120))
    value: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str] = mapped_column(String(60), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    ref_low: Mapped[float | None] = mapped_column(Float)
    ref_high: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str] = mapped_column(String(1), default="")  # services.lab_types.LabFlag
    taken_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Allergy(Base):
    """An allergy or intolerance (аллергологический анамнез) shown red in the header."""

    __tablename__ = "allergy"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    substance: Mapped[str] = mapped_column(String(120))
    reaction: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[AllergySeverity] = mapped_column(str_enum(AllergySeverity))
    noted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    noted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    end_reason: Mapped[str] = mapped_column(String(300), default="")


class DispensaryCondition(Base):
    """A chronic condition under dispensary observation (диспансерный учёт)."""

    __tablename__ = "dispensary_condition"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    code: Mapped[str] = mapped_column(String(8))  # МКБ-10
    since: Mapped[dt.date] = mapped_column(Date)
    specialty: Mapped[str] = mapped_column(String(80), default="")
    noted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ended_on: Mapped[dt.date | None] = mapped_column(Date)  # снят с учёта
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    end_reason: Mapped[str] = mapped_column(String(300), default="")


class BloodType(Base):
    """Group and Rh (группа крови, резус-фактор), once known; a change keeps who made it."""

    __tablename__ = "blood_type"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    abo: Mapped[str] = mapped_column(String(8))  # «0(I)», «A(II)», «B(III)», «AB(IV)»
    rh: Mapped[str] = mapped_column(String(1))  # «+» / «-»
    noted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    noted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class ProtocolDraft(Base):
    """A protocol being written: one per doctor and patient, saved as the doctor types.

    ``fields`` holds the editor's whole state (sections, diagnoses, template); ``revision``
    grows with every save, so a stale save from a slower path never overwrites a newer one.
    """

    __tablename__ = "protocol_draft"
    __table_args__ = (UniqueConstraint("staff_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(default=0)
    saved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
