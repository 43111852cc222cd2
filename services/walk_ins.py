"""The walk-in queue («без записи», the duty doctor's queue).

A patient who comes without an appointment is found in the registry and put into a doctor's
queue with a priority; the doctor takes them when free.  Taking one opens an extra slot
«сверх расписания» at that moment and starts the visit in it, so from then on a walk-in is a
visit like any other: it shows in the day, pauses, finishes, and counts.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services import audit, visits
from services.audit import Actor
from services.clock import day_bounds, local_day, now_utc
from services.errors import ConflictError, NotFoundError, ValidationError
from services.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    Patient,
    ScheduleSlot,
    Staff,
    VisitType,
    WalkIn,
    WalkInPriority,
    WalkInStatus,
)
from services.schedule import day_is_closed, lock_doctor, short_name
from services.visits import Move, OnCurrent, PauseInput

__all__ = ["PRIORITY_TEXT", "WalkInRow", "add_walk_in", "queue", "remove_walk_in", "take_walk_in"]

PRIORITY_TEXT: dict[WalkInPriority, str] = {
    WalkInPriority.URGENT: "Неотложно",
    WalkInPriority.PRIORITY: "Вне очереди",
    WalkInPriority.NORMAL: "В порядке очереди",
}
WALK_IN_MINUTES = 15
MAX_NOTE = 300


class WalkInRow(NamedTuple):
    id: int
    patient_id: int
    surname: str
    name: str
    patronymic: str
    birth_date: dt.date
    priority: WalkInPriority
    note: str
    added_at: dt.datetime

    @property
    def patient_short(self) -> str:
        return short_name(self.surname, self.name, self.patronymic)

    @property
    def patient_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


def queue(session: Session, staff_id: int, day: dt.date | None = None) -> list[WalkInRow]:
    """Who waits for this doctor on ``day`` (today): most urgent first, then by arrival.

    Someone left «waiting» on an earlier day went home long ago; they are not today's queue.
    """
    start, end = day_bounds(day or local_day(now_utc()))
    stmt = (
        select(
            WalkIn.id,
            WalkIn.patient_id,
            Patient.surname,
            Patient.name,
            Patient.patronymic,
            Patient.birth_date,
            WalkIn.priority,
            WalkIn.note,
            WalkIn.added_at,
        )
        .join(Patient, Patient.id == WalkIn.patient_id)
        .where(
            WalkIn.staff_id == staff_id,
            WalkIn.status == WalkInStatus.WAITING,
            WalkIn.added_at >= start,
            WalkIn.added_at < end,
        )
        .order_by(WalkIn.priority, WalkIn.added_at, WalkIn.id)
    )
    return [WalkInRow(*r[:6], WalkInPriority(r[6]), *r[7:]) for r in session.execute(stmt)]


def add_walk_in(
    session: Session,
    actor: Actor,
    staff_id: int,
    patient_id: int,
    priority: WalkInPriority,
    note: str = "",
    *,
    now: dt.datetime | None = None,
) -> int:
    """Put a patient into the doctor's queue; returns the queue entry's id.

    Raises:
        ValidationError: A note over 300 characters.
        ConflictError: The patient already waits in this queue, or the day is closed.
        NotFoundError: No such patient or doctor.
    """
    now = now or now_utc()
    note = " ".join(note.split())
    if len(note) > MAX_NOTE:
        raise ValidationError("Жалобы / примечание", f"не длиннее {MAX_NOTE} символов", key="note")
    if session.get(Staff, staff_id) is None:
        raise NotFoundError("Врач не найден")
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("Пациент не найден")
    lock_doctor(session, staff_id)
    if day_is_closed(session, staff_id, local_day(now)):
        raise ConflictError("Приём врача на сегодня закрыт: в очередь больше не ставят.")
    already = session.scalar(
        select(WalkIn.id).where(
            WalkIn.staff_id == staff_id,
            WalkIn.patient_id == patient_id,
            WalkIn.status == WalkInStatus.WAITING,
        )
    )
    if already is not None:
        raise ConflictError(
            f"{short_name(patient.surname, patient.name, patient.patronymic)} уже в очереди "
            "к этому врачу."
        )
    entry = WalkIn(
        staff_id=staff_id,
        patient_id=patient_id,
        priority=int(priority),
        note=note,
        status=WalkInStatus.WAITING,
        added_at=now,
        added_by=actor.staff_id,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor,
        "walk_in.add",
        patient_id=patient_id,
        object_type="walk_in",
        object_id=entry.id,
        details=f"staff {staff_id}, priority {int(priority)}",
    )
    session.commit()
    return entry.id


def _waiting(session: Session, walk_in_id: int) -> WalkIn:
    entry = session.scalar(select(WalkIn).where(WalkIn.id == walk_in_id).with_for_update())
    if entry is None:
        raise NotFoundError("Пациента нет в очереди")
    if entry.status != WalkInStatus.WAITING:
        raise ConflictError(
            "Этого пациента уже приняли или убрали из очереди (возможно, на другом АРМ)."
        )
    return entry


def _room_of(session: Session, staff_id: int, now: dt.datetime) -> int | None:
    """The room the doctor sees patients in today (that of today's slots)."""
    start, end = day_bounds(local_day(now))
    return session.scalar(
        select(ScheduleSlot.room_id)
        .where(
            ScheduleSlot.staff_id == staff_id,
            ScheduleSlot.starts_at >= start,
            ScheduleSlot.starts_at < end,
            ScheduleSlot.room_id.is_not(None),
        )
        .limit(1)
    )


def take_walk_in(
    session: Session,
    actor: Actor,
    walk_in_id: int,
    *,
    on_current: OnCurrent | None = None,
    current_pause: PauseInput | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, list[int]]:
    """The doctor takes a walk-in: an extra slot now, the visit started in it.

    Returns:
        (the new appointment's id, ids of every visit that changed).

    Raises:
        visits.VisitInProgress: Another visit is in progress and ``on_current`` is not given
            (nothing is created).
        ConflictError: Taken or removed meanwhile; the day is closed.
    """
    now = now or now_utc()
    try:
        staff_id = session.scalar(select(WalkIn.staff_id).where(WalkIn.id == walk_in_id))
        if staff_id is not None:
            lock_doctor(session, staff_id)  # the doctor first, then the queue entry
        entry = _waiting(session, walk_in_id)
        if actor.staff_id != entry.staff_id:
            raise ConflictError("Пациент стоит в очереди к другому врачу.")
        slot = ScheduleSlot(
            staff_id=entry.staff_id,
            room_id=_room_of(session, entry.staff_id, now),
            starts_at=now,
            ends_at=now + dt.timedelta(minutes=WALK_IN_MINUTES),
            bookable=False,  # «сверх расписания»: never offered for booking
        )
        session.add(slot)
        session.flush()
        appt = Appointment(
            slot_id=slot.id,
            patient_id=entry.patient_id,
            visit_type=VisitType.WALK_IN,
            source=BookingSource.REGISTRY,
            status=AppointmentStatus.ARRIVED,
            arrived_at=entry.added_at,
            created_by=entry.added_by,
            created_at=now,
        )
        session.add(appt)
        session.flush()
        entry.status = WalkInStatus.TAKEN
        entry.appointment_id = appt.id
        audit.record(
            session,
            actor,
            "walk_in.take",
            patient_id=entry.patient_id,
            object_type="walk_in",
            object_id=entry.id,
        )
        session.flush()
    except StaleDataError:
        session.rollback()
        raise ConflictError(
            "Очередь только что изменили на другом АРМ. Проверьте и повторите."
        ) from None
    except Exception:
        session.rollback()
        raise
    # The start commits everything above with it, or rolls it all back (VisitInProgress too).
    changed = visits.move(
        session,
        actor,
        appt.id,
        Move.START,
        on_current=on_current,
        current_pause=current_pause,
        now=now,
    )
    return appt.id, changed


def remove_walk_in(session: Session, actor: Actor, walk_in_id: int, reason: str) -> None:
    """Take a patient out of the queue (left without waiting, sent to another doctor)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Причина", "укажите, почему пациент убран из очереди", key="reason")
    if len(reason) > MAX_NOTE:
        raise ValidationError("Причина", f"не длиннее {MAX_NOTE} символов", key="reason")
    try:
        entry = _waiting(session, walk_in_id)
        entry.status = WalkInStatus.LEFT
        entry.left_reason = reason
        audit.record(
            session,
            actor,
            "walk_in.remove",
            patient_id=entry.patient_id,
            object_type="walk_in",
            object_id=entry.id,
            details=reason,
        )
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(
            "Очередь только что изменили на другом АРМ. Проверьте и повторите."
        ) from None
