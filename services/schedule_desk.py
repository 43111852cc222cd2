"""The schedule's use cases bound to a database and an actor — what the day screen is given.

Reads return whole snapshots (the day's rows, the walk-in queue, whether the day is closed,
and the fingerprint the screen polls) from one session, so what is painted is consistent.
A move returns fresh rows for just the visits it changed: the round trip «key → stored →
repainted» stays within one short transaction and one small read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services import schedule, visits, walk_ins
from services.access import Permission
from services.bound import BoundService
from services.clock import local_day, now_utc
from services.models import AppointmentStatus, BookingSource, VisitType, WalkInPriority
from services.schedule import DayRow, DoctorRow
from services.visits import DayCheck, Move, OnCurrent, PauseInput
from services.walk_ins import WalkInRow

__all__ = ["DaySnapshot", "ScheduleDesk"]

_DOCTORS_MOVES = {Move.START, Move.PAUSE, Move.RESUME, Move.FINISH}


@dataclass(frozen=True)
class DaySnapshot:
    staff_id: int
    day: dt.date
    days: int
    rows: list[DayRow]
    paused: list[DayRow]  # today's paused visits, whichever day is looked at
    queue: list[WalkInRow]
    closed: bool
    fingerprint: tuple[object, ...]


class ScheduleDesk(BoundService):
    def doctors(self) -> list[DoctorRow]:
        return self._run(schedule.doctors, Permission.SCHEDULE)

    def snapshot(self, staff_id: int, day: dt.date, days: int = 1) -> DaySnapshot:
        def work(s: Session) -> DaySnapshot:
            rows = schedule.day_rows(s, staff_id, day, days=days)
            today = local_day(now_utc())
            # The delayed-intake panel keeps counting down while the doctor looks at next
            # week to book a repeat visit: today's paused visits come with any day.
            todays = rows if (day, days) == (today, 1) else schedule.day_rows(s, staff_id, today)
            return DaySnapshot(
                staff_id,
                day,
                days,
                rows,
                [r for r in todays if r.status == AppointmentStatus.PAUSED],
                walk_ins.queue(s, staff_id),
                schedule.day_is_closed(s, staff_id, day),
                schedule.day_fingerprint(s, staff_id, day),
            )

        return self._run(work, Permission.SCHEDULE)

    def fingerprint(self, staff_id: int, day: dt.date) -> tuple[object, ...]:
        return self._run(lambda s: schedule.day_fingerprint(s, staff_id, day), Permission.SCHEDULE)

    def move(
        self,
        appointment_id: int,
        mv: Move,
        *,
        pause: PauseInput | None = None,
        cancel_reason: str = "",
        on_current: OnCurrent | None = None,
        current_pause: PauseInput | None = None,
        now: dt.datetime | None = None,
    ) -> list[DayRow]:
        def work(s: Session) -> list[DayRow]:
            changed = visits.move(
                s,
                self.actor,
                appointment_id,
                mv,
                pause=pause,
                cancel_reason=cancel_reason,
                on_current=on_current,
                current_pause=current_pause,
                now=now,
            )
            return schedule.rows_for_appointments(s, changed)

        permission = Permission.RECORD_WRITE if mv in _DOCTORS_MOVES else Permission.SCHEDULE
        return self._run(work, permission, f"visit.{mv.value}")

    def free_slots(self, staff_id: int, start: dt.datetime, end: dt.datetime) -> list[DayRow]:
        return self._run(
            lambda s: schedule.free_slots(s, staff_id, start, end), Permission.SCHEDULE
        )

    def book(
        self, slot_id: int, patient_id: int, visit_type: VisitType, source: BookingSource
    ) -> list[DayRow]:
        def work(s: Session) -> list[DayRow]:
            appt = schedule.book(s, self.actor, slot_id, patient_id, visit_type, source)
            return schedule.rows_for_appointments(s, [appt])

        return self._run(work, Permission.SCHEDULE, "appointment.book", patient_id)

    def add_walk_in(
        self, staff_id: int, patient_id: int, priority: WalkInPriority, note: str = ""
    ) -> list[WalkInRow]:
        def work(s: Session) -> list[WalkInRow]:
            walk_ins.add_walk_in(s, self.actor, staff_id, patient_id, priority, note)
            return walk_ins.queue(s, staff_id)

        return self._run(work, Permission.SCHEDULE, "walk_in.add", patient_id)

    def take_walk_in(
        self,
        walk_in_id: int,
        *,
        on_current: OnCurrent | None = None,
        current_pause: PauseInput | None = None,
    ) -> list[DayRow]:
        def work(s: Session) -> list[DayRow]:
            _appt, changed = walk_ins.take_walk_in(
                s, self.actor, walk_in_id, on_current=on_current, current_pause=current_pause
            )
            return schedule.rows_for_appointments(s, changed)

        return self._run(work, Permission.RECORD_WRITE, "walk_in.take")

    def remove_walk_in(self, walk_in_id: int, reason: str) -> None:
        self._run(
            lambda s: walk_ins.remove_walk_in(s, self.actor, walk_in_id, reason),
            Permission.SCHEDULE,
            "walk_in.remove",
        )

    def check_day(self, staff_id: int, day: dt.date) -> DayCheck:
        return self._run(lambda s: visits.check_day(s, staff_id, day), Permission.SCHEDULE)

    def close_day(self, staff_id: int, day: dt.date) -> DayCheck:
        return self._run(
            lambda s: visits.close_day(s, self.actor, staff_id, day),
            Permission.RECORD_WRITE,
            "day.close",
        )
