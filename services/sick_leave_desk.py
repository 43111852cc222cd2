"""Sick-leave certificates bound to a database and an actor — what the ЭЛН screens are given.

Opening, extending, closing, violations, duplicates and cancelling are record writes (a
doctor's); the list and the prints carry the diagnosis, so they are record reads.  Where the
numbers come from is given once, as a factory over the unit of work's session: the fund's
service in production, :class:`~services.sick_leave.LocalLnNumberSource` by default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from services import printouts, sick_leave
from services.access import Permission
from services.audit import Actor
from services.bound import BoundService
from services.printouts import PrintJob
from services.sick_leave import (
    CloseInput,
    LnNumberSource,
    LocalLnNumberSource,
    PeriodInput,
    SickLeaveInput,
    SickLeavePrint,
    SickLeaveRow,
)

__all__ = ["SickLeaveDesk"]

_READ = Permission.RECORD_READ
_WRITE = Permission.RECORD_WRITE


class SickLeaveDesk(BoundService):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        actor: Actor,
        *,
        numbers: Callable[[Session], LnNumberSource] = LocalLnNumberSource,
    ) -> None:
        super().__init__(sessions, actor)
        self._numbers = numbers

    def of_patient(self, patient_id: int) -> list[SickLeaveRow]:
        return self._run(
            lambda s: sick_leave.patient_sick_leaves(s, patient_id), _READ, "", patient_id
        )

    def get(self, sick_leave_id: int) -> SickLeaveRow:
        return self._run(lambda s: sick_leave.get(s, sick_leave_id), _READ)

    def open(
        self, patient_id: int, inp: SickLeaveInput, encounter_id: int | None = None
    ) -> SickLeaveRow:
        def work(s: Session) -> SickLeaveRow:
            sid = sick_leave.open_sick_leave(
                s, self.actor, patient_id, inp, numbers=self._numbers(s), encounter_id=encounter_id
            )
            return sick_leave.get(s, sid)

        return self._run(work, _WRITE, "sick_leave.open", patient_id)

    def extend(self, sick_leave_id: int, period: PeriodInput) -> SickLeaveRow:
        def work(s: Session) -> SickLeaveRow:
            sick_leave.extend(s, self.actor, sick_leave_id, period)
            return sick_leave.get(s, sick_leave_id)

        return self._run(work, _WRITE, "sick_leave.extend")

    def close(self, sick_leave_id: int, inp: CloseInput) -> SickLeaveRow:
        def work(s: Session) -> SickLeaveRow:
            sick_leave.close(s, self.actor, sick_leave_id, inp)
            return sick_leave.get(s, sick_leave_id)

        return self._run(work, _WRITE, "sick_leave.close")

    def record_violation(self, sick_leave_id: int, code: str, on: dt.date) -> SickLeaveRow:
        def work(s: Session) -> SickLeaveRow:
            sick_leave.record_violation(s, self.actor, sick_leave_id, code, on)
            return sick_leave.get(s, sick_leave_id)

        return self._run(work, _WRITE, "sick_leave.violation")

    def duplicate(self, sick_leave_id: int, chair_id: int) -> SickLeaveRow:
        def work(s: Session) -> SickLeaveRow:
            sid = sick_leave.duplicate(
                s, self.actor, sick_leave_id, chair_id, numbers=self._numbers(s)
            )
            return sick_leave.get(s, sid)

        return self._run(work, _WRITE, "sick_leave.duplicate")

    def cancel(self, sick_leave_id: int, reason: str) -> SickLeaveRow:
        def work(s: Session) -> SickLeaveRow:
            sick_leave.cancel(s, self.actor, sick_leave_id, reason)
            return sick_leave.get(s, sick_leave_id)

        return self._run(work, _WRITE, "sick_leave.cancel")

    def reserve_numbers(self, count: int) -> list[str]:
        return self._run(
            lambda s: sick_leave.reserve_numbers(s, self.actor, self._numbers(s), count),
            _WRITE,
            "sick_leave.numbers",
        )

    def print_data(self, sick_leave_id: int) -> SickLeavePrint:
        return self._run(lambda s: sick_leave.print_data(s, sick_leave_id), _READ)

    def archive(self, job: PrintJob) -> int:
        return self._run(
            lambda s: printouts.archive(s, self.actor, job), _READ, "print", job.patient_id
        )
