"""Schedule slots, appointments and encounters (visits).

The day issue adds pauses (delayed intake, «отложенный приём») and the visit state machine by
its own migration; this module holds what the registry and demo data need now.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class VisitType(enum.StrEnum):
    FIRST = "first"  # первичный
    REPEAT = "repeat"  # повторный
    REFERRAL = "referral"  # по направлению
    WALK_IN = "walk_in"  # без записи / дежурный врач
    HOME = "home"  # вызов на дом


class BookingSource(enum.StrEnum):
    REGISTRY = "registry"
    PORTAL = "portal"
    INFOMAT = "infomat"
    CALL_CENTRE = "call_centre"
    DOCTOR = "doctor"


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class ScheduleSlot(Base):
    """A bookable interval of a doctor's day in a room."""

    __tablename__ = "schedule_slot"
    __table_args__ = (Index("ix_schedule_slot_staff_start", "staff_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    bookable: Mapped[bool] = mapped_column(default=True)


class Appointment(Base):
    """A patient booked into a slot (запись на приём); at most one live booking per slot."""

    __tablename__ = "appointment"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("schedule_slot.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_type: Mapped[VisitType] = mapped_column(str_enum(VisitType))
    source: Mapped[BookingSource] = mapped_column(str_enum(BookingSource))
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    slot: Mapped[ScheduleSlot] = relationship()


class Encounter(Base):
    """A visit as it happened (случай / посещение): who saw whom, when, on which workstation."""

    __tablename__ = "encounter"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("workstation.id"))
    status: Mapped[AppointmentStatus] = mapped_column(str_enum(AppointmentStatus))
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}
