"""Use cases bound to a database and an actor: the base of what the screens are given.

Each call is one unit of work with its own session and transaction, safe to run in the task
runner's DB lane; the permission is checked (and a refusal audited) before any data is read,
and "server gone / file locked" becomes the one transient error the UI offers to retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from services import access
from services.access import Permission
from services.audit import Actor
from services.db import database_errors, describe_database

__all__ = ["BoundService"]

T = TypeVar("T")


class BoundService:
    def __init__(self, sessions: sessionmaker[Session], actor: Actor) -> None:
        self._sessions = sessions
        self.actor = actor
        bind = sessions.kw.get("bind")
        self._peer = describe_database(bind.engine.url) if bind is not None else "База данных"

    def _run(
        self,
        fn: Callable[[Session], T],
        permission: Permission = Permission.REGISTRY_READ,
        action: str = "",
        patient_id: int | None = None,
    ) -> T:
        with database_errors(self._peer):
            access.require(
                self._sessions, self.actor, permission, action=action, patient_id=patient_id
            )
            with self._sessions() as session:
                return fn(session)

    def can(self, permission: Permission) -> bool:
        return access.can(self.actor, permission)
