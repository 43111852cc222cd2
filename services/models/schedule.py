"""Schedule slots, appointments, encounters (visits) with their pauses, the walk-in queue.

The rules that move these rows (the visit state machine) live in :mod:`services.visits`; the
database itself holds the two invariants that must survive two workstations racing:
one live booking per slot, and one visit in progress per doctor (partial unique indexes).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Index, String, text
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


_LIVE = text("status != 'cancelled'")
_REFERRAL_LIVE = text("referral_id IS NOT NULL AND status NOT IN ('cancelled', 'no_show')")


class Appointment(Base):
    """A patient booked into a slot (запись на приём); at most one live booking per slot.

    A cancelled booking stays (with its reason) but frees the slot: the uniqueness of
    ``slot_id`` covers live bookings only.  It is also the visit's schedule status.
    """

    __tablename__ = "appointment"
    __table_args__ = (
        Index(
            "uq_appointment_live_slot",
            "slot_id",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
        # A referral books one live visit at a time (a no-show frees it for another booking).
        Index(
            "uq_appointment_live_referral",
            "referral_id",
            unique=True,
            sqlite_where=_REFERRAL_LIVE,
            postgresql_where=_REFERRAL_LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("schedule_slot.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_type: Mapped[VisitType] = mapped_column(str_enum(VisitType))
    source: Mapped[BookingSource] = mapped_column(str_enum(BookingSource))
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    # по направлению; use_alter: referral → encounter → appointment → referral is a cycle
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id", use_alter=True))
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    slot: Mapped[ScheduleSlot] = relationship()


_IN_PROGRESS = text("status = 'in_progress'")


class Encounter(Base):
    """A visit as it happened (случай / посещение): who saw whom, when, on which workstation.

    Its length excludes the pauses (:class:`VisitPause`).  A doctor has at most one encounter
    in progress, whichever workstation started it.
    """

    __tablename__ = "encounter"
    __table_args__ = (
        Index(
            "uq_encounter_in_progress",
            "staff_id",
            unique=True,
            sqlite_where=_IN_PROGRESS,
            postgresql_where=_IN_PROGRESS,
        ),
    )

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


class VisitPause(Base):
    """A pause of a visit — delayed intake («отложенный приём»): the patient took a drug and
    waits for it to act, or went for an ECG, while the doctor sees the next one."""

    __tablename__ = "visit_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounter.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    recheck_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class WalkInPriority(enum.IntEnum):
    """Order of the walk-in queue: lower first."""

    URGENT = 0  # неотложная помощь: острая боль, высокая температура
    PRIORITY = 1  # вне очереди по праву: ветераны, инвалиды, беременные
    NORMAL = 2


class WalkInStatus(enum.StrEnum):
    WAITING = "waiting"
    TAKEN = "taken"
    LEFT = "left"  # ушёл, не дождавшись, or sent elsewhere


class WalkIn(Base):
    """A patient without an appointment waiting for the duty doctor («дежурный врач»)."""

    __tablename__ = "walk_in"
    __table_args__ = (Index("ix_walk_in_staff_status", "staff_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    priority: Mapped[int] = mapped_column(default=WalkInPriority.NORMAL)
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[WalkInStatus] = mapped_column(
        str_enum(WalkInStatus), default=WalkInStatus.WAITING
    )
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    left_reason: Mapped[str] = mapped_column(String(300), default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class DayClosure(Base):
    """A doctor's working day, closed («приём окончен»): its visits no longer change."""

    __tablename__ = "day_closure"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
