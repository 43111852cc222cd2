"""Who may do what: the role → permission table, checked in the services, not the screens.

A screen hides what a role cannot use, but the decision is made here, on every call, so a
registrar's workstation cannot read a protocol whatever its buttons do.  A refusal says why,
in Russian, and leaves an audit event (in its own transaction: the refused one is rolled back).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from services import audit
from services.audit import Actor
from services.errors import AccessDenied
from services.models import Role

__all__ = ["ROLE_NAMES", "Permission", "can", "permissions_of", "require"]


class Permission(enum.StrEnum):
    REGISTRY_READ = "registry.read"  # find a patient, see the registry card
    REGISTRY_WRITE = "registry.write"  # register, edit demographics, family relations
    SCHEDULE = "schedule"  # book, move, mark arrivals
    CHILD_ACCESS = "child_access"  # «Доступ к ЭМК ребенка»
    RECORD_READ = "record.read"  # protocol text, diagnoses, results (ЭМК)
    RECORD_WRITE = "record.write"  # write and sign protocols, referrals, prescriptions
    STUDIES = "studies"  # PACS studies and the viewer
    CONCLUSION_WRITE = "conclusion.write"  # the radiologist's conclusion
    ADMIN = "admin"  # cards, workstations


_WHAT: dict[Permission, str] = {
    Permission.REGISTRY_READ: "просмотр картотеки",
    Permission.REGISTRY_WRITE: "изменение данных пациента в картотеке",
    Permission.SCHEDULE: "работа с расписанием",
    Permission.CHILD_ACCESS: "предоставление доступа к ЭМК ребенка",
    Permission.RECORD_READ: "чтение медицинской карты",
    Permission.RECORD_WRITE: "записи в медицинской карте",
    Permission.STUDIES: "работа с исследованиями",
    Permission.CONCLUSION_WRITE: "заключения по исследованиям",
    Permission.ADMIN: "администрирование",
}

ROLE_NAMES: dict[Role, str] = {
    Role.DOCTOR: "врач",
    Role.REGISTRAR: "регистратор",
    Role.RADIOLOGIST: "рентгенолог",
    Role.ADMIN: "администратор",
}

P = Permission
_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # A doctor reads and writes the record, and keeps the registry card of their patients.
    Role.DOCTOR: frozenset(
        {
            P.REGISTRY_READ,
            P.REGISTRY_WRITE,
            P.SCHEDULE,
            P.CHILD_ACCESS,
            P.RECORD_READ,
            P.RECORD_WRITE,
            P.STUDIES,
        }
    ),
    # A registrar (медрегистратор) keeps the registry, the schedules and child access; the
    # record's medical content is not theirs to read.
    Role.REGISTRAR: frozenset({P.REGISTRY_READ, P.REGISTRY_WRITE, P.SCHEDULE, P.CHILD_ACCESS}),
    # A radiologist finds the patient, reads studies and writes conclusions.
    Role.RADIOLOGIST: frozenset({P.REGISTRY_READ, P.STUDIES, P.CONCLUSION_WRITE, P.RECORD_READ}),
    Role.ADMIN: frozenset({P.REGISTRY_READ, P.ADMIN}),
}


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    out: frozenset[Permission] = frozenset()
    for r in roles:
        out |= _ROLE_PERMISSIONS.get(r, frozenset())
    return out


def can(actor: Actor, permission: Permission) -> bool:
    return permission in permissions_of(actor.roles)


def require(
    sessions: sessionmaker[Session] | None,
    actor: Actor,
    permission: Permission,
    *,
    action: str,
    patient_id: int | None = None,
) -> None:
    """Raise :class:`AccessDenied` (and audit it) unless the actor's roles allow this."""
    if can(actor, permission):
        return
    roles = ", ".join(ROLE_NAMES.get(r, str(r)) for r in sorted(actor.roles)) or "нет роли"
    if sessions is not None:
        with sessions.begin() as s:
            audit.record(
                s, actor, "access.denied", patient_id=patient_id, details=f"{action}: {permission}"
            )
    raise AccessDenied(f"Недостаточно прав (роль: {roles}) — {_WHAT[permission]}.")
