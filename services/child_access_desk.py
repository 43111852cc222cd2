"""Child EMK access bound to a database and an actor — what the access form is given.

Everything here is the registrar's «Доступ к ЭМК ребенка» permission; the form shows the
family and phone numbers but nothing of the medical record.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from services import child_access, printouts
from services.access import Permission
from services.audit import Actor
from services.bound import BoundService
from services.child_access import AccessForm, ApplicationPrint, GrantRow
from services.printouts import PrintJob

__all__ = ["ChildAccessDesk"]

_P = Permission.CHILD_ACCESS


class ChildAccessDesk(BoundService):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        actor: Actor,
        code_ttl: dt.timedelta = child_access.DEFAULT_CODE_TTL,
    ) -> None:
        super().__init__(sessions, actor)
        self.code_ttl = code_ttl

    def form(self, child_id: int) -> AccessForm:
        return self._run(lambda s: child_access.form(s, child_id), _P, "", child_id)

    def history(self, child_id: int) -> list[GrantRow]:
        return self._run(lambda s: child_access.history(s, child_id), _P)

    def send_code(
        self, child_id: int, relative_id: int | None, phone: str, application_signed: bool
    ) -> GrantRow:
        return self._run(
            lambda s: child_access.send_code(
                s, self.actor, child_id, relative_id, phone, application_signed, ttl=self.code_ttl
            ),
            _P,
            "child_access.grant",
            child_id,
        )

    def revoke(self, grant_id: int, reason: str) -> GrantRow:
        return self._run(
            lambda s: child_access.revoke(s, self.actor, grant_id, reason),
            _P,
            "child_access.revoke",
        )

    def application(self, child_id: int, relative_id: int, phone: str = "") -> ApplicationPrint:
        return self._run(
            lambda s: child_access.application_data(s, child_id, relative_id, phone), _P
        )

    def archive(self, job: PrintJob) -> int:
        return self._run(
            lambda s: printouts.archive(s, self.actor, job), _P, "print", job.patient_id
        )
