"""Referrals (направления) and the archive of everything ARM printed.

A referral's state is mostly *derived*, never synchronised by hand: it is booked while a live
appointment points at it, used once that visit has started, expired after ``valid_until``,
cancelled when ``cancelled_at`` is set.  So there is no second copy of the state to drift from
the schedule, and the database's unique index on live appointments per referral is what stops
two workstations booking it twice.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class ReferralKind(enum.StrEnum):
    CONSULTATION = "consultation"  # консультация специалиста
    LAB = "lab"  # лабораторное исследование
    INSTRUMENTAL = "instrumental"  # инструментальное (ЭКГ, УЗИ, ФГДС)
    IMAGING = "imaging"  # лучевая диагностика (рентген, КТ, МРТ) — the radiology worklist
    PROCEDURE = "procedure"  # процедуры, манипуляции
    HOSPITALISATION = "hospitalisation"  # госпитализация


class Referral(Base):
    """One referral as issued; only its cancellation is written afterwards."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_patient_issued", "patient_id", "issued_on"),
        Index("ix_referral_kind_issued", "kind", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    kind: Mapped[ReferralKind] = mapped_column(str_enum(ReferralKind))
    # To whom: a specialty of this polyclinic (consultation, and the performer of a service),
    # a service of the nomenclature (804н code and name), an outside organisation, or both.
    target_specialty: Mapped[str] = mapped_column(String(120), default="")
    service_code: Mapped[str] = mapped_column(String(20), default="")
    service_name: Mapped[str] = mapped_column(String(300), default="")
    target_organisation: Mapped[str] = mapped_column(String(300), default="")
    modality: Mapped[str] = mapped_column(String(4), default="")  # DICOM modality, imaging only
    mkb_code: Mapped[str] = mapped_column(String(8))
    cito: Mapped[bool] = mapped_column(default=False)
    justification: Mapped[str] = mapped_column(String(800))
    # 057/у p. 9.7: форма (1 экстренная, 2 неотложная, 3 плановая), вид (1–4), условия (1–3).
    care_form: Mapped[int] = mapped_column(default=3)
    care_kind: Mapped[int] = mapped_column(default=1)
    care_conditions: Mapped[int] = mapped_column(default=1)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class Printout(Base):
    """A document as it was printed (or saved as PDF): the bytes, who, when, which copy.

    ``copy_no`` 1 is the original; every later copy was rendered with the «Дубликат» mark.
    The unique key makes two workstations printing the same original at once collide
    instead of both calling theirs the original.
    """

    __tablename__ = "printout"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "copy_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    form: Mapped[str] = mapped_column(String(40))  # «057/у»
    title: Mapped[str] = mapped_column(String(200))
    object_type: Mapped[str] = mapped_column(String(40))  # «referral»
    object_id: Mapped[int] = mapped_column()
    emk_document_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"), index=True)
    copy_no: Mapped[int] = mapped_column()
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    printed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    printed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("workstation.id"))
