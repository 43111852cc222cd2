"""Sick-leave certificates (электронный листок нетрудоспособности, ЭЛН) and their periods.

The record follows the Social Fund's exchange model (FileOperationsLnPort.xsd, ``ROW`` and
``TREAT_FULL_PERIOD``; see FORMS.md §2): one row per certificate with its reason codes,
employer, carer data, regime violation and result, and one row per release period with the
doctor who gave it and, when the medical commission decided, its chair.

The status is *derived* (open, extended, closed, replaced by a duplicate, cancelled) from facts
written once each, as the fund's LN_STATE is derived from what was sent.  ``number`` is the
fund's 12-digit number, unique here; :class:`ElnNumber` keeps every number ARM ever obtained,
so a local number source can prove it never handed one out twice.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class SickLeaveKind(enum.StrEnum):
    """PRIMARY_FLAG / DUPLICATE_FLAG / PREV_LN_CODE of the fund's model."""

    PRIMARY = "primary"  # первичный
    CONTINUATION = "continuation"  # продолжение: ``previous_number`` is the one continued
    DUPLICATE = "duplicate"  # дубликат: ``previous_number`` is the one it replaces


class Employment(enum.StrEnum):
    """LPU_EMPL_FLAG: the job the certificate is for."""

    MAIN = "main"  # основное место работы
    SECONDARY = "secondary"  # по совместительству


class SickLeave(Base):
    """One ЭЛН; after opening only its periods, result, violation and cancellation are added."""

    __tablename__ = "sick_leave"
    __table_args__ = (Index("ix_sick_leave_patient_issued", "patient_id", "issued_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)  # LN_CODE
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[SickLeaveKind] = mapped_column(str_enum(SickLeaveKind))
    previous_number: Mapped[str] = mapped_column(String(12), default="", index=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)  # LN_DATE
    # Employer (LPU_EMPLOYER), main or secondary job; BOZ_FLAG: registered as unemployed.
    employer: Mapped[str] = mapped_column(String(255), default="")
    employment: Mapped[Employment] = mapped_column(str_enum(Employment))
    # A second job's certificate names the main job's (the 347н blank's «по совместительству №»).
    main_job_number: Mapped[str] = mapped_column(String(12), default="")
    unemployed_registered: Mapped[bool] = mapped_column(default=False)
    reason_code: Mapped[str] = mapped_column(String(2))  # REASON1, 01–15
    additional_code: Mapped[str] = mapped_column(String(2), default="")  # REASON2, 17–21
    change_code: Mapped[str] = mapped_column(String(2), default="")  # REASON3
    mkb_code: Mapped[str] = mapped_column(String(8))  # DIAGNOS
    # SERV1 / SERV2: the family members cared for (reasons 09, 12–15).
    carer1_relation: Mapped[str] = mapped_column(String(2), default="")  # 38–42
    carer1_age_years: Mapped[int | None] = mapped_column()
    carer1_age_months: Mapped[int | None] = mapped_column()
    carer1_name: Mapped[str] = mapped_column(String(180), default="")
    carer2_relation: Mapped[str] = mapped_column(String(2), default="")
    carer2_age_years: Mapped[int | None] = mapped_column()
    carer2_age_months: Mapped[int | None] = mapped_column()
    carer2_name: Mapped[str] = mapped_column(String(180), default="")
    # The medical commission's chair when the certificate itself was its decision (a duplicate,
    # a certificate for past days).
    vk_chair_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Отметка о нарушении режима (codes 23–28) — one per certificate, as on the blank.
    violation_code: Mapped[str] = mapped_column(String(2), default="")
    violation_date: Mapped[dt.date | None] = mapped_column(Date)
    # LN_RESULT: back to work on (RETURN_DATE_LPU), or another outcome 31–37 (MSE_RESULT)
    # with its date (OTHER_STATE_DT).
    return_to_work_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome_code: Mapped[str] = mapped_column(String(2), default="")
    outcome_date: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"), index=True)
    # The newest version of the certificate's EMK document (each action adds a version).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    periods: Mapped[list[SickLeavePeriod]] = relationship(
        back_populates="sick_leave",
        order_by="SickLeavePeriod.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class SickLeavePeriod(Base):
    """A release from work (TREAT_PERIOD) with its doctor and, if the VK decided, its chair."""

    __tablename__ = "sick_leave_period"
    __table_args__ = (UniqueConstraint("sick_leave_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sick_leave_id: Mapped[int] = mapped_column(ForeignKey("sick_leave.id"), index=True)
    position: Mapped[int] = mapped_column()
    starts_on: Mapped[dt.date] = mapped_column(Date)  # TREAT_DT1
    ends_on: Mapped[dt.date] = mapped_column(Date)  # TREAT_DT2
    doctor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))  # TREAT_DOCTOR
    doctor_role: Mapped[str] = mapped_column(String(120), default="")  # TREAT_DOCTOR_ROLE
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # TREAT_CHAIRMAN
    chair_role: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    sick_leave: Mapped[SickLeave] = relationship(back_populates="periods")


class ElnNumber(Base):
    """A 12-digit ЭЛН number ARM obtained (from the fund, or the local range of the demo).

    The primary key is the proof that no number was handed out twice; ``sick_leave_id`` shows
    which certificate used it (none yet for a number reserved ahead, as getNewLNNumRange does).
    """

    __tablename__ = "eln_number"

    number: Mapped[str] = mapped_column(String(12), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # «local», «fss»
    obtained_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sick_leave_id: Mapped[int | None] = mapped_column(ForeignKey("sick_leave.id"))
