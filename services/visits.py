"""The visit state machine (приём), enforced here whatever a screen does.

::

    booked ─→ arrived ─→ in progress ⇄ paused ─→ finished
      │  └──────────────↗      └──────────────────↗
      ├─→ no-show (─→ arrived, when the patient comes late)
      └─→ cancelled (with a reason; arrived ─→ cancelled too: left without being seen)

A paused visit is delayed intake («отложенный приём»): the patient took a drug and waits for
it to act, or went for an ECG, while the doctor takes the next one.  Rules:

* one visit in progress per doctor (also a unique index: two workstations cannot race it);
  starting or resuming another while one is in progress is refused with
  :class:`VisitInProgress` unless the caller says what to do with the current one (pause or
  finish), which then happens in the same transaction;
* a pause carries a reason and an optional recheck time;
* a visit's duration excludes its pauses;
* visits are started, paused, resumed and finished by the doctor whose schedule they are on,
  on the day they are booked for; nothing moves on a closed day;
* a day closes only when nobody is in progress, paused, arrived-and-waiting or in the walk-in
  queue; its remaining bookings become no-shows.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services import audit
from services.audit import Actor
from services.clock import clinic_tz, day_bounds, local_day, now_utc
from services.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from services.models import (
    Appointment,
    AppointmentStatus,
    DayClosure,
    Encounter,
    Patient,
    ScheduleSlot,
    Staff,
    VisitPause,
    WalkIn,
    WalkInStatus,
)
from services.schedule import day_is_closed, lock_doctor, short_name

__all__ = [
    "MAX_RECHECK_MINUTES",
    "STATUS_TEXT",
    "DayCheck",
    "DayNotClosable",
    "Move",
    "OnCurrent",
    "PauseInput",
    "VisitInProgress",
    "VisitRef",
    "check_day",
    "close_day",
    "move",
]

S = AppointmentStatus

STATUS_TEXT: dict[AppointmentStatus, str] = {
    S.BOOKED: "Записан",
    S.ARRIVED: "Пришёл",
    S.IN_PROGRESS: "Идёт приём",
    S.PAUSED: "Отложен",
    S.FINISHED: "Принят",
    S.NO_SHOW: "Неявка",
    S.CANCELLED: "Запись отменена",
}

MAX_REASON = 300
MAX_RECHECK_MINUTES = 240


class Move(enum.StrEnum):
    ARRIVE = "arrive"  # отметить приход
    START = "start"  # начать приём (вызвать пациента)
    PAUSE = "pause"  # отложить приём
    RESUME = "resume"  # возобновить приём
    FINISH = "finish"  # завершить приём
    NO_SHOW = "no_show"  # отметить неявку
    CANCEL = "cancel"  # отменить запись


class _Rule(NamedTuple):
    sources: frozenset[AppointmentStatus]
    target: AppointmentStatus
    verb: str  # «Нельзя {verb}: …»
    doctors_only: bool  # only the doctor whose schedule it is, on a signed-in doctor's card


RULES: dict[Move, _Rule] = {
    Move.ARRIVE: _Rule(frozenset({S.BOOKED, S.NO_SHOW}), S.ARRIVED, "отметить приход", False),
    Move.START: _Rule(frozenset({S.BOOKED, S.ARRIVED}), S.IN_PROGRESS, "начать приём", True),
    Move.PAUSE: _Rule(frozenset({S.IN_PROGRESS}), S.PAUSED, "отложить приём", True),
    Move.RESUME: _Rule(frozenset({S.PAUSED}), S.IN_PROGRESS, "возобновить приём", True),
    Move.FINISH: _Rule(frozenset({S.IN_PROGRESS, S.PAUSED}), S.FINISHED, "завершить приём", True),
    Move.NO_SHOW: _Rule(frozenset({S.BOOKED}), S.NO_SHOW, "отметить неявку", False),
    Move.CANCEL: _Rule(frozenset({S.BOOKED, S.ARRIVED}), S.CANCELLED, "отменить запись", False),
}

# What to say when a move does not fit the visit's state, beyond "the status is X".
_HINTS: dict[tuple[Move, AppointmentStatus], str] = {
    (Move.FINISH, S.BOOKED): "приём ещё не начат",
    (Move.FINISH, S.ARRIVED): "приём ещё не начат",
    (Move.PAUSE, S.BOOKED): "приём ещё не начат",
    (Move.PAUSE, S.ARRIVED): "приём ещё не начат",
    (Move.PAUSE, S.PAUSED): "приём уже отложен",
    (Move.RESUME, S.IN_PROGRESS): "приём уже идёт",
    (Move.START, S.IN_PROGRESS): "приём уже идёт",
    (Move.START, S.PAUSED): "приём отложен — его возобновляют, а не начинают заново",
    (Move.NO_SHOW, S.ARRIVED): "пациент пришёл",
    (Move.NO_SHOW, S.IN_PROGRESS): "приём уже идёт",
    (Move.CANCEL, S.IN_PROGRESS): "приём уже идёт — его можно только завершить",
    (Move.CANCEL, S.PAUSED): "приём уже идёт — его можно только завершить",
}


class OnCurrent(enum.StrEnum):
    """What to do with the visit in progress when the doctor starts or resumes another."""

    PAUSE = "pause"
    FINISH = "finish"


@dataclass(frozen=True)
class PauseInput:
    """Why a visit is put aside and when to come back to it."""

    reason: str
    recheck_minutes: int | None = None

    def validated(self) -> PauseInput:
        reason = " ".join(self.reason.split())
        if not reason:
            raise ValidationError(
                "Причина", "укажите, почему приём отложен (например, «ЭКГ»)", key="reason"
            )
        if len(reason) > MAX_REASON:
            raise ValidationError("Причина", f"не длиннее {MAX_REASON} символов", key="reason")
        m = self.recheck_minutes
        if m is not None and not 1 <= m <= MAX_RECHECK_MINUTES:
            raise ValidationError(
                "Напомнить через", f"от 1 до {MAX_RECHECK_MINUTES} минут", key="recheck"
            )
        return PauseInput(reason, m)


class VisitRef(NamedTuple):
    """A visit as a message or a warning names it."""

    appointment_id: int
    starts_at: dt.datetime
    patient: str  # «Иванов И. И.»
    status: AppointmentStatus
    pause_reason: str = ""

    def describe(self) -> str:
        at = self.starts_at.astimezone(clinic_tz()).strftime("%H:%M")
        text = f"{at} {self.patient} — {STATUS_TEXT[self.status].lower()}"
        return f"{text}: {self.pause_reason}" if self.pause_reason else text


class VisitInProgress(ConflictError):
    """Another visit is in progress; the caller must choose to pause or finish it first."""

    def __init__(self, current: VisitRef) -> None:
        self.current = current
        at = current.starts_at.astimezone(clinic_tz()).strftime("%H:%M")
        super().__init__(
            f"Идёт приём пациента {current.patient} ({at}). "
            "Отложите или завершите его, прежде чем начать другой."
        )


# --- the moves ---------------------------------------------------------------------------------
def _load(session: Session, appointment_id: int) -> tuple[Appointment, ScheduleSlot]:
    # The doctor's row first, in share mode, before the visit's own lock (see lock_doctor);
    # found and locked in one statement.
    session.execute(
        select(Staff.id)
        .join(ScheduleSlot, ScheduleSlot.staff_id == Staff.id)
        .join(Appointment, Appointment.slot_id == ScheduleSlot.id)
        .where(Appointment.id == appointment_id)
        .with_for_update(read=True, of=Staff)
    ).all()
    appt = session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    )
    if appt is None:
        raise NotFoundError("Запись не найдена — возможно, её удалили на другом АРМ")
    slot = session.get(ScheduleSlot, appt.slot_id)
    assert slot is not None  # a foreign key
    return appt, slot


def _ref(session: Session, appt: Appointment, slot: ScheduleSlot) -> VisitRef:
    p = session.get(Patient, appt.patient_id)
    name = short_name(p.surname, p.name, p.patronymic) if p else "?"
    reason = ""
    if appt.status == S.PAUSED:
        reason = _open_pause(session, appt).reason if _encounter(session, appt) else ""
    return VisitRef(appt.id, slot.starts_at, name, appt.status, reason)


def _encounter(session: Session, appt: Appointment) -> Encounter | None:
    return session.scalar(select(Encounter).where(Encounter.appointment_id == appt.id))


def _open_pause(session: Session, appt: Appointment) -> VisitPause:
    enc = _encounter(session, appt)
    assert enc is not None
    pause = session.scalar(
        select(VisitPause).where(VisitPause.encounter_id == enc.id, VisitPause.ended_at.is_(None))
    )
    assert pause is not None, "a paused visit has an open pause"
    return pause


def _check(
    session: Session,
    actor: Actor,
    appt: Appointment,
    slot: ScheduleSlot,
    mv: Move,
    now: dt.datetime,
) -> None:
    rule = RULES[mv]
    if appt.status not in rule.sources:
        hint = _HINTS.get((mv, appt.status)) or f"статус приёма «{STATUS_TEXT[appt.status]}»"
        raise ConflictError(f"Нельзя {rule.verb}: {hint}.")
    day = local_day(slot.starts_at)
    if day_is_closed(session, slot.staff_id, day):
        raise ConflictError(f"Нельзя {rule.verb}: приём {day.strftime('%d.%m.%Y')} закрыт.")
    if rule.doctors_only and actor.staff_id != slot.staff_id:
        raise AccessDenied(f"Нельзя {rule.verb}: приём ведёт врач, к которому записан пациент.")
    today = local_day(now)
    if mv in (Move.ARRIVE, Move.START, Move.PAUSE, Move.RESUME) and day != today:
        when = "ещё не наступил" if day > today else "уже прошёл"
        raise ConflictError(f"Нельзя {rule.verb}: день приёма {day.strftime('%d.%m.%Y')} {when}.")
    if mv == Move.NO_SHOW and slot.starts_at > now:
        at = slot.starts_at.astimezone(clinic_tz()).strftime("%H:%M")
        raise ConflictError(f"Нельзя {rule.verb} раньше времени приёма ({at}).")


def _in_progress(session: Session, staff_id: int, other_than: int) -> Appointment | None:
    return session.scalar(
        select(Appointment)
        .join(Encounter, Encounter.appointment_id == Appointment.id)
        .where(
            Encounter.staff_id == staff_id,
            Encounter.status == S.IN_PROGRESS,
            Appointment.id != other_than,
        )
        .with_for_update()
    )


def _set(appt: Appointment, enc: Encounter | None, status: AppointmentStatus) -> None:
    appt.status = status
    if enc is not None and status in (S.IN_PROGRESS, S.PAUSED, S.FINISHED):
        enc.status = status


def _pause(session: Session, appt: Appointment, pause: PauseInput, now: dt.datetime) -> None:
    enc = _encounter(session, appt)
    assert enc is not None
    recheck = now + dt.timedelta(minutes=pause.recheck_minutes) if pause.recheck_minutes else None
    session.add(
        VisitPause(encounter_id=enc.id, reason=pause.reason, started_at=now, recheck_at=recheck)
    )
    _set(appt, enc, S.PAUSED)


def _finish(session: Session, appt: Appointment, now: dt.datetime) -> None:
    enc = _encounter(session, appt)
    assert enc is not None
    if appt.status == S.PAUSED:
        _open_pause(session, appt).ended_at = now
    enc.finished_at = now
    _set(appt, enc, S.FINISHED)


def move(
    session: Session,
    actor: Actor,
    appointment_id: int,
    mv: Move,
    *,
    pause: PauseInput | None = None,
    cancel_reason: str = "",
    on_current: OnCurrent | None = None,
    current_pause: PauseInput | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """Apply ``mv`` to a visit, in one transaction with its audit events.

    Args:
        pause: Reason and recheck time, for :attr:`Move.PAUSE`.
        cancel_reason: Required for :attr:`Move.CANCEL`.
        on_current: For START/RESUME while another visit is in progress: pause it (with
            ``current_pause``) or finish it first.
        now: The moment of the move (tests set it).

    Returns:
        The ids of the visits that changed (this one, and the one paused or finished on the
        way), for the screen to repaint just those.

    Raises:
        ConflictError: The move does not fit the visit's state, the day, or a visit changed
            on another workstation meanwhile; :class:`VisitInProgress` when another visit is
            in progress and ``on_current`` is not given.
        ValidationError: A missing reason or a bad recheck time.
        AccessDenied: Not the visit's doctor (for the doctor's moves).
    """
    now = now or now_utc()
    reason = " ".join(cancel_reason.split())
    changed = [appointment_id]
    try:
        appt, slot = _load(session, appointment_id)
        _check(session, actor, appt, slot, mv, now)  # «not now» first, then «not like this»
        pause = pause.validated() if pause is not None else None
        if mv == Move.PAUSE and pause is None:
            raise ValidationError("Причина", "укажите, почему приём отложен", key="reason")
        if mv == Move.CANCEL:
            if not reason:
                raise ValidationError("Причина отмены", "обязательное поле", key="reason")
            if len(reason) > MAX_REASON:
                raise ValidationError(
                    "Причина отмены", f"не длиннее {MAX_REASON} символов", key="reason"
                )
        if mv in (Move.START, Move.RESUME):
            current = _in_progress(session, slot.staff_id, appt.id)
            if current is not None:
                if on_current is None:
                    cur_slot = session.get(ScheduleSlot, current.slot_id)
                    assert cur_slot is not None
                    raise VisitInProgress(_ref(session, current, cur_slot))
                if on_current == OnCurrent.PAUSE:
                    if current_pause is None:
                        raise ValidationError(
                            "Причина", "укажите, почему текущий приём отложен", key="reason"
                        )
                    _pause(session, current, current_pause.validated(), now)
                    _audit(session, actor, current, "visit.pause", current_pause.reason)
                else:
                    _finish(session, current, now)
                    _audit(session, actor, current, "visit.finish")
                changed.append(current.id)
                session.flush()  # the index allows one in progress: free it first
        enc = _encounter(session, appt)
        if mv == Move.ARRIVE:
            appt.arrived_at = now
            _set(appt, enc, S.ARRIVED)
        elif mv == Move.START:
            if appt.arrived_at is None:
                appt.arrived_at = now  # called straight in: arrived this moment
            enc = Encounter(
                appointment_id=appt.id,
                patient_id=appt.patient_id,
                staff_id=slot.staff_id,
                workstation_id=actor.workstation_id,
                status=S.IN_PROGRESS,
                started_at=now,
            )
            session.add(enc)
            _set(appt, enc, S.IN_PROGRESS)
        elif mv == Move.PAUSE:
            assert pause is not None
            _pause(session, appt, pause, now)
        elif mv == Move.RESUME:
            _open_pause(session, appt).ended_at = now
            _set(appt, enc, S.IN_PROGRESS)
        elif mv == Move.FINISH:
            _finish(session, appt, now)
        elif mv == Move.NO_SHOW:
            _set(appt, enc, S.NO_SHOW)
        elif mv == Move.CANCEL:
            appt.cancel_reason = reason
            _set(appt, enc, S.CANCELLED)
        details = pause.reason if pause is not None else reason
        _audit(session, actor, appt, f"visit.{mv.value}", details)
        session.flush()
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise ConflictError(
            "Приём только что изменили на другом рабочем месте. Расписание обновлено — "
            "проверьте статус и повторите действие."
        ) from None
    except Exception:
        session.rollback()
        raise
    return changed


def _audit(
    session: Session, actor: Actor, appt: Appointment, action: str, details: str = ""
) -> None:
    audit.record(
        session,
        actor,
        action,
        patient_id=appt.patient_id,
        object_type="appointment",
        object_id=appt.id,
        details=details,
    )


# --- closing the day ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DayCheck:
    """What stands between a doctor and closing their day, and what closing will do."""

    day: dt.date
    closed: bool
    unfinished: list[VisitRef]  # in progress, paused or arrived: must be dealt with
    waiting: list[str]  # walk-ins still in the queue
    no_shows: list[VisitRef]  # booked, never came: become no-shows on closing

    @property
    def closable(self) -> bool:
        return not self.closed and not self.unfinished and not self.waiting


class DayNotClosable(ConflictError):
    """The day has visits in progress, paused or waiting; lists them."""

    def __init__(self, check: DayCheck) -> None:
        self.check = check
        lines = [f"Приём {check.day.strftime('%d.%m.%Y')} нельзя закрыть."]
        paused = [v for v in check.unfinished if v.status == S.PAUSED]
        other = [v for v in check.unfinished if v.status != S.PAUSED]
        if paused:
            lines.append("Отложенные приёмы — возобновите и завершите их:")
            lines += [f" • {v.describe()}" for v in paused]
        if other:
            lines.append("Не завершены:")
            lines += [f" • {v.describe()}" for v in other]
        if check.waiting:
            lines.append("В очереди без записи ждут:")
            lines += [f" • {w}" for w in check.waiting]
        super().__init__("\n".join(lines))


def check_day(session: Session, staff_id: int, day: dt.date) -> DayCheck:
    start, end = day_bounds(day)
    rows = session.execute(
        select(Appointment, ScheduleSlot)
        .join(ScheduleSlot, ScheduleSlot.id == Appointment.slot_id)
        .where(
            ScheduleSlot.staff_id == staff_id,
            ScheduleSlot.starts_at >= start,
            ScheduleSlot.starts_at < end,
            Appointment.status.in_((S.BOOKED, S.ARRIVED, S.IN_PROGRESS, S.PAUSED)),
        )
        .order_by(ScheduleSlot.starts_at)
    ).all()
    unfinished = [_ref(session, a, sl) for a, sl in rows if a.status != S.BOOKED]
    no_shows = [_ref(session, a, sl) for a, sl in rows if a.status == S.BOOKED]
    waiting = [
        short_name(sn, n, p)
        for sn, n, p in session.execute(
            select(Patient.surname, Patient.name, Patient.patronymic)
            .join(WalkIn, WalkIn.patient_id == Patient.id)
            .where(
                WalkIn.staff_id == staff_id,
                WalkIn.status == WalkInStatus.WAITING,
                WalkIn.added_at >= start,
                WalkIn.added_at < end,
            )
            .order_by(WalkIn.priority, WalkIn.added_at)
        )
    ]
    return DayCheck(day, day_is_closed(session, staff_id, day), unfinished, waiting, no_shows)


def close_day(
    session: Session, actor: Actor, staff_id: int, day: dt.date, *, now: dt.datetime | None = None
) -> DayCheck:
    """Close the doctor's day: bookings nobody came to become no-shows; nothing moves after.

    Raises:
        DayNotClosable: Listing the paused, unfinished and waiting visits.
        ConflictError: Already closed.
        AccessDenied: Closing another doctor's day.
    """
    now = now or now_utc()
    if actor.staff_id != staff_id:
        raise AccessDenied("Закрыть приём может только врач, чьё это расписание.")
    lock_doctor(session, staff_id, exclusive=True)
    check = check_day(session, staff_id, day)
    if check.closed:
        raise ConflictError(f"Приём {day.strftime('%d.%m.%Y')} уже закрыт.")
    if not check.closable:
        raise DayNotClosable(check)
    for ref in check.no_shows:
        appt = session.get(Appointment, ref.appointment_id)
        assert appt is not None
        appt.status = S.NO_SHOW
        _audit(session, actor, appt, "visit.no_show", "day closed")
    session.add(DayClosure(staff_id=staff_id, day=day, closed_at=now, closed_by=actor.staff_id))
    audit.record(
        session, actor, "day.close", object_type="staff", object_id=staff_id, details=str(day)
    )
    try:
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise ConflictError(
            "Расписание только что изменили на другом рабочем месте. Проверьте и повторите."
        ) from None
    return check
