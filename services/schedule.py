"""A doctor's schedule: the day's rows, free slots, booking, and slots from a weekly pattern.

The day is read in two statements (slots with their live booking, patient and visit; then
the pauses of those visits), whatever its length: the day-view budget is 20 ms on a city
database, and a row per slot is what the screen shows anyway.  Times are UTC; days are the
polyclinic's local days (:mod:`services.clock`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import audit
from services.audit import Actor
from services.clock import clinic_tz, day_bounds, local_day, now_utc
from services.errors import ConflictError, NotFoundError, ValidationError
from services.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    DayClosure,
    Encounter,
    Patient,
    Referral,
    Role,
    ScheduleSlot,
    Staff,
    StaffRole,
    VisitPause,
    VisitType,
    WalkIn,
)

__all__ = [
    "LIVE_STATUSES",
    "DayRow",
    "DoctorRow",
    "WeekPattern",
    "book",
    "day_fingerprint",
    "day_is_closed",
    "day_rows",
    "doctors",
    "free_slots",
    "generate_slots",
    "lock_doctor",
    "parse_week_pattern",
    "rows_for_appointments",
    "short_name",
]

S = AppointmentStatus
#: Bookings that hold their slot and their patient's time.
LIVE_STATUSES: frozenset[AppointmentStatus] = frozenset(
    {S.BOOKED, S.ARRIVED, S.IN_PROGRESS, S.PAUSED, S.FINISHED, S.NO_SHOW}
)
_HOLDING_PATIENT = (S.BOOKED, S.ARRIVED, S.IN_PROGRESS, S.PAUSED)


def short_name(surname: str, name: str, patronymic: str = "") -> str:
    """«Иванов И. И.» — how lists name a person."""
    initials = "".join(f" {p[0]}." for p in (name, patronymic) if p)
    return f"{surname}{initials}"


class DayRow(NamedTuple):
    """One line of a doctor's day: a slot, and the visit booked into it if any.

    A named tuple, as the search rows are: a week is a few hundred of them per refresh.
    """

    slot_id: int
    staff_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    bookable: bool
    appointment_id: int | None = None
    patient_id: int | None = None
    surname: str = ""
    name: str = ""
    patronymic: str = ""
    birth_date: dt.date | None = None
    visit_type: VisitType | None = None
    source: BookingSource | None = None
    status: AppointmentStatus | None = None  # None: the slot is free
    arrived_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    paused_seconds: float = 0.0  # closed pauses only
    pause_started_at: dt.datetime | None = None  # the open pause, while paused
    pause_reason: str = ""
    recheck_at: dt.datetime | None = None
    pauses: int = 0
    referral_number: str | None = None  # booked «по направлению» № …

    @property
    def free(self) -> bool:
        return self.appointment_id is None

    @property
    def patient_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)

    @property
    def patient_short(self) -> str:
        return short_name(self.surname, self.name, self.patronymic) if self.surname else ""

    def active_seconds(self, now: dt.datetime) -> float | None:
        """How long the doctor has spent with the patient, pauses excluded (None: not begun)."""
        if self.started_at is None:
            return None
        end = self.finished_at or self.pause_started_at or now
        return max(0.0, (end - self.started_at).total_seconds() - self.paused_seconds)


_DAY_COLUMNS = (
    ScheduleSlot.id,
    ScheduleSlot.staff_id,
    ScheduleSlot.starts_at,
    ScheduleSlot.ends_at,
    ScheduleSlot.bookable,
    Appointment.id,
    Appointment.patient_id,
    Patient.surname,
    Patient.name,
    Patient.patronymic,
    Patient.birth_date,
    Appointment.visit_type,
    Appointment.source,
    Appointment.status,
    Appointment.arrived_at,
    Encounter.started_at,
    Encounter.finished_at,
    Referral.number,
    Encounter.id,  # last: the pauses are read by it
)


def _day_select() -> object:
    live = and_(Appointment.slot_id == ScheduleSlot.id, Appointment.status != S.CANCELLED)
    return (
        select(*_DAY_COLUMNS)
        .select_from(ScheduleSlot)
        .outerjoin(Appointment, live)
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .outerjoin(Encounter, Encounter.appointment_id == Appointment.id)
        .outerjoin(Referral, Referral.id == Appointment.referral_id)
    )


def _rows(session: Session, stmt: object) -> list[DayRow]:
    raw = session.execute(stmt).all()  # type: ignore[call-overload]
    encounter_ids = [r[-1] for r in raw if r[-1] is not None]
    pauses: dict[int, list[tuple[dt.datetime, dt.datetime | None, str, dt.datetime | None]]] = {}
    if encounter_ids:
        pstmt = (
            select(
                VisitPause.encounter_id,
                VisitPause.started_at,
                VisitPause.ended_at,
                VisitPause.reason,
                VisitPause.recheck_at,
            )
            .where(VisitPause.encounter_id.in_(encounter_ids))
            .order_by(VisitPause.started_at)
        )
        for enc_id, started, ended, reason, recheck in session.execute(pstmt):
            pauses.setdefault(enc_id, []).append((started, ended, reason, recheck))
    out: list[DayRow] = []
    for r in raw:
        closed = 0.0
        open_start: dt.datetime | None = None
        reason = ""
        recheck_at: dt.datetime | None = None
        plist = pauses.get(r[-1], []) if r[-1] is not None else []
        for started, ended, why, when in plist:
            if ended is None:
                open_start, reason, recheck_at = started, why, when
            else:
                closed += (ended - started).total_seconds()
        if open_start is None and plist:
            reason = plist[-1][2]  # the last pause's reason stays visible after resuming
        row = (*r[:-2], closed, open_start, reason, recheck_at, len(plist), r[-2])
        out.append(DayRow._make(row))
    return out


def day_rows(
    session: Session, staff_id: int, day: dt.date, *, days: int = 1, tz: dt.tzinfo | None = None
) -> list[DayRow]:
    """The doctor's slots of ``day`` (or ``days`` days from it) in time order.

    Free slots closed for booking (a break) are left out; extra slots opened for a walk-in
    are shown with their visit.
    """
    start, end = day_bounds(day, tz, days)
    stmt = (
        _day_select()  # type: ignore[attr-defined]
        .where(
            ScheduleSlot.staff_id == staff_id,
            ScheduleSlot.starts_at >= start,
            ScheduleSlot.starts_at < end,
        )
        .order_by(ScheduleSlot.starts_at, ScheduleSlot.id)
    )
    return [r for r in _rows(session, stmt) if r.bookable or not r.free]


def rows_for_appointments(session: Session, appointment_ids: Iterable[int]) -> list[DayRow]:
    """Fresh rows for the visits a transition touched: the view repaints those, not the day."""
    ids = list(appointment_ids)
    if not ids:
        return []
    stmt = _day_select().where(Appointment.id.in_(ids))  # type: ignore[attr-defined]
    return _rows(session, stmt)


def day_fingerprint(session: Session, staff_id: int, day: dt.date) -> tuple[object, ...]:
    """A few numbers that change whenever anything on this doctor's day changes.

    Polled by the open schedule every few seconds: every status change bumps the booking's
    version, a booking or cancellation changes the counts, a walk-in adds a slot or a queue
    row, closing the day adds a closure.  Three index range scans; ~1 ms on a city database.
    """
    start, end = day_bounds(day)
    slots = session.execute(
        select(
            func.count(ScheduleSlot.id),
            func.max(ScheduleSlot.id),
            func.count(Appointment.id),
            func.coalesce(func.sum(Appointment.version_id), 0),
            func.max(Appointment.id),
        )
        .select_from(ScheduleSlot)
        .outerjoin(Appointment, Appointment.slot_id == ScheduleSlot.id)
        .where(
            ScheduleSlot.staff_id == staff_id,
            ScheduleSlot.starts_at >= start,
            ScheduleSlot.starts_at < end,
        )
    ).one()
    queue = session.execute(
        select(
            func.count(WalkIn.id),
            func.coalesce(func.sum(WalkIn.version_id), 0),
            func.max(WalkIn.id),
        ).where(WalkIn.staff_id == staff_id, WalkIn.added_at >= start, WalkIn.added_at < end)
    ).one()
    closed = day_is_closed(session, staff_id, day)
    return (*slots, *queue, closed)


def day_is_closed(session: Session, staff_id: int, day: dt.date) -> bool:
    return session.get(DayClosure, (staff_id, day)) is not None


def lock_doctor(session: Session, staff_id: int, *, exclusive: bool = False) -> None:
    """Serialise against closing this doctor's day (PostgreSQL; SQLite has one writer).

    Whatever changes the day (a move, a booking, the walk-in queue) takes the doctor's row
    in share mode before checking «is the day closed?»; closing the day takes it exclusively.
    So a late arrival racing the close either lands before it (and blocks it) or is refused
    after it — never an arrived patient on a closed day.  Always taken before any visit's
    row lock, so two orders of locking cannot deadlock.
    """
    session.execute(
        select(Staff.id).where(Staff.id == staff_id).with_for_update(read=not exclusive)
    ).all()


# --- doctors ---------------------------------------------------------------------------------
class DoctorRow(NamedTuple):
    id: int
    name: str  # «Соколова А. С.»
    position: str
    specialty: str


def doctors(session: Session) -> list[DoctorRow]:
    """Active doctors, for the registrar's «whose schedule» picker."""
    stmt = (
        select(
            Staff.id, Staff.surname, Staff.name, Staff.patronymic, Staff.position, Staff.specialty
        )
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(StaffRole.role == Role.DOCTOR, Staff.active.is_(True))
        .order_by(Staff.surname, Staff.name, Staff.id)
    )
    return [
        DoctorRow(i, short_name(sn, n, p), pos, spec)
        for i, sn, n, p, pos, spec in session.execute(stmt)
    ]


# --- booking ---------------------------------------------------------------------------------
def free_slots(
    session: Session, staff_id: int, start: dt.datetime, end: dt.datetime, *, limit: int = 200
) -> list[DayRow]:
    """Bookable slots without a live booking that have not ended yet by ``start``."""
    live = and_(Appointment.slot_id == ScheduleSlot.id, Appointment.status != S.CANCELLED)
    stmt = (
        select(
            ScheduleSlot.id,
            ScheduleSlot.staff_id,
            ScheduleSlot.starts_at,
            ScheduleSlot.ends_at,
            ScheduleSlot.bookable,
        )
        .outerjoin(Appointment, live)
        .where(
            ScheduleSlot.staff_id == staff_id,
            ScheduleSlot.bookable.is_(True),
            ScheduleSlot.ends_at > start,
            ScheduleSlot.starts_at < end,
            Appointment.id.is_(None),
        )
        .order_by(ScheduleSlot.starts_at)
        .limit(limit)
    )
    return [DayRow(*r) for r in session.execute(stmt)]


_TAKEN = (
    "Это время уже занято: на {time} только что записан другой пациент. "
    "Расписание обновлено — выберите другое время."
)


_REFERRAL_TAKEN = (
    "По этому направлению пациента только что записали на другом рабочем месте. "
    "Запись по одному направлению — одна; откройте направление, чтобы увидеть запись."
)


def _live_by_referral(referral_id: int) -> Select[int]:
    return select(Appointment.id).where(
        Appointment.referral_id == referral_id,
        Appointment.status.not_in((S.CANCELLED, S.NO_SHOW)),
    )


def _fmt_time(ts: dt.datetime) -> str:
    return ts.astimezone(clinic_tz()).strftime("%H:%M")


def _fmt_day(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def book(
    session: Session,
    actor: Actor,
    slot_id: int,
    patient_id: int,
    visit_type: VisitType,
    source: BookingSource,
    *,
    now: dt.datetime | None = None,
    referral_id: int | None = None,
) -> int:
    """Book ``patient_id`` into a free slot; returns the appointment id.

    ``referral_id`` marks the booking «по направлению» (:func:`services.referrals.book` checks
    the referral first; the database's index refuses a second live booking of it).

    Exactly one of two workstations booking the same slot wins: the database's unique index
    on live bookings decides, and the loser gets a :class:`ConflictError` saying so.  A
    patient's bookings with the patient row locked (PostgreSQL), so two bookings of one
    patient at the same hour cannot both pass the overlap check.

    Raises:
        NotFoundError: No such slot or patient.
        ValidationError: The slot is closed for booking or already over.
        ConflictError: The slot is taken, the day is closed, or the patient is booked at an
            overlapping time.
    """
    now = now or now_utc()
    if visit_type == VisitType.WALK_IN:
        raise ValidationError("Вид приёма", "пациентов без записи ставят в очередь, не в слот")
    slot = session.get(ScheduleSlot, slot_id)
    if slot is None:
        raise NotFoundError("Этого времени в расписании больше нет. Обновите расписание.")
    if not slot.bookable:
        raise ValidationError("Время", "это время закрыто для записи")
    if slot.ends_at <= now:
        raise ValidationError("Время", "нельзя записать на прошедшее время")
    day = local_day(slot.starts_at)
    lock_doctor(session, slot.staff_id)
    if day_is_closed(session, slot.staff_id, day):
        raise ConflictError(f"Приём {_fmt_day(day)} закрыт: запись на этот день невозможна.")
    patient = session.scalar(select(Patient).where(Patient.id == patient_id).with_for_update())
    if patient is None:
        raise NotFoundError("Пациент не найден")
    taken = session.scalar(
        select(Appointment.id).where(
            Appointment.slot_id == slot_id, Appointment.status != S.CANCELLED
        )
    )
    if taken is not None:
        raise ConflictError(_TAKEN.format(time=_fmt_time(slot.starts_at)))
    clash = session.execute(
        select(ScheduleSlot.starts_at, Staff.surname, Staff.name, Staff.patronymic)
        .join(Appointment, Appointment.slot_id == ScheduleSlot.id)
        .join(Staff, Staff.id == ScheduleSlot.staff_id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status.in_(_HOLDING_PATIENT),
            ScheduleSlot.starts_at < slot.ends_at,
            ScheduleSlot.ends_at > slot.starts_at,
        )
        .limit(1)
    ).first()
    if clash is not None:
        at, sn, n, p = clash
        raise ConflictError(
            f"У пациента уже есть запись на это время: {_fmt_day(local_day(at))} "
            f"{_fmt_time(at)}, врач {short_name(sn, n, p)}."
        )
    appt = Appointment(
        slot_id=slot_id,
        patient_id=patient_id,
        visit_type=visit_type,
        source=source,
        status=S.BOOKED,
        created_by=actor.staff_id,
        created_at=now,
        referral_id=referral_id,
    )
    session.add(appt)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        if referral_id is not None and session.scalar(_live_by_referral(referral_id)):
            raise ConflictError(_REFERRAL_TAKEN) from None
        raise ConflictError(_TAKEN.format(time=_fmt_time(slot.starts_at))) from None
    audit.record(
        session,
        actor,
        "appointment.book",
        patient_id=patient_id,
        object_type="appointment",
        object_id=appt.id,
        details=f"slot {slot_id}, {visit_type}, {source}"
        + (f", referral {referral_id}" if referral_id else ""),
    )
    session.commit()
    return appt.id


# --- slots from a weekly pattern ---------------------------------------------------------------
_WEEKDAYS = {
    "пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
_PART = re.compile(
    r"^\s*(?P<days>[^\s]+)\s+(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$"
)


@dataclass(frozen=True)
class WeekPattern:
    """Working hours per weekday (0 = Monday), local time: ``{0: [(08:00, 14:00)], …}``."""

    hours: dict[int, list[tuple[dt.time, dt.time]]]


def _days(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.lower().split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            if a not in _WEEKDAYS or b not in _WEEKDAYS:
                raise ValidationError("Шаблон недели", f"неизвестный день недели: «{part}»")
            i, j = _WEEKDAYS[a], _WEEKDAYS[b]
            out.extend(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in _WEEKDAYS:
            out.append(_WEEKDAYS[part])
        else:
            raise ValidationError("Шаблон недели", f"неизвестный день недели: «{part}»")
    return out


def parse_week_pattern(text: str) -> WeekPattern:
    """«пн-пт 08:00-14:00; сб 09:00-13:00» (or mon-fri): days, then hours, ``;`` between.

    Raises:
        ValidationError: Naming the part that is not understood.
    """
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    parts = [p for p in text.split(";") if p.strip()]
    if not parts:
        raise ValidationError("Шаблон недели", "пустой шаблон; пример: «пн-пт 08:00-14:00»")
    for part in parts:
        m = _PART.match(part)
        if m is None:
            raise ValidationError(
                "Шаблон недели", f"не понят фрагмент «{part.strip()}»; пример: «пн-пт 08:00-14:00»"
            )
        try:
            t1 = dt.time(int(m["h1"]), int(m["m1"]))
            t2 = dt.time(int(m["h2"]), int(m["m2"]))
        except ValueError:
            raise ValidationError(
                "Шаблон недели", f"нет такого времени в «{part.strip()}»"
            ) from None
        if t2 <= t1:
            raise ValidationError("Шаблон недели", f"конец раньше начала в «{part.strip()}»")
        for d in _days(m["days"]):
            for a, b in hours.get(d, []):
                if t1 < b and a < t2:
                    raise ValidationError(
                        "Шаблон недели",
                        f"часы пересекаются в один день: {a:%H:%M}-{b:%H:%M} и «{part.strip()}»",
                    )
            hours.setdefault(d, []).append((t1, t2))
    return WeekPattern(hours)


def generate_slots(
    session: Session,
    actor: Actor,
    staff_id: int,
    pattern: WeekPattern,
    first: dt.date,
    last: dt.date,
    *,
    slot_minutes: int = 15,
    room_id: int | None = None,
    tz: dt.tzinfo | None = None,
) -> tuple[int, list[dt.date]]:
    """Open slots for ``first``..``last`` by ``pattern``; days that already have slots for
    this doctor are skipped (and returned), so running it twice creates nothing twice.

    Returns:
        (slots created, days skipped).
    """
    if not 5 <= slot_minutes <= 120:
        raise ValidationError("Длительность приёма", "от 5 до 120 минут")
    if last < first:
        raise ValidationError("Период", "конец раньше начала")
    if (last - first).days > 366:
        raise ValidationError("Период", "не больше года за раз")
    if session.get(Staff, staff_id) is None:
        raise NotFoundError(f"Сотрудник {staff_id} не найден")
    z = tz or clinic_tz()
    step = dt.timedelta(minutes=slot_minutes)
    rows: list[ScheduleSlot] = []
    skipped: list[dt.date] = []
    day = first
    while day <= last:
        spans = pattern.hours.get(day.weekday(), [])
        if spans:
            start, end = day_bounds(day, z)
            exists = session.scalar(
                select(ScheduleSlot.id)
                .where(
                    ScheduleSlot.staff_id == staff_id,
                    ScheduleSlot.starts_at >= start,
                    ScheduleSlot.starts_at < end,
                )
                .limit(1)
            )
            if exists is not None:
                skipped.append(day)
            else:
                for t1, t2 in spans:
                    at = dt.datetime.combine(day, t1, z)
                    stop = dt.datetime.combine(day, t2, z)
                    while at + step <= stop:
                        rows.append(
                            ScheduleSlot(
                                staff_id=staff_id,
                                room_id=room_id,
                                starts_at=at.astimezone(dt.UTC),
                                ends_at=(at + step).astimezone(dt.UTC),
                                bookable=True,
                            )
                        )
                        at += step
        day += dt.timedelta(days=1)
    session.add_all(rows)
    audit.record(
        session,
        actor,
        "schedule.generate",
        object_type="staff",
        object_id=staff_id,
        details=f"{first}..{last}: {len(rows)} slots, {len(skipped)} days skipped",
    )
    session.commit()
    return len(rows), skipped
