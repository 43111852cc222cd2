"""Audit: every read and write of a patient's record leaves an event (who, where, when, what).

The event is written in the same transaction as the change it describes, so there is never a
change without its audit record; a read (opening a card) writes its event before returning
the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.models import AuditEvent, Role

__all__ = ["Actor", "record", "recent_events"]


@dataclass(frozen=True)
class Actor:
    """Who is acting, from which workstation; passed into every use case that touches a record."""

    staff_id: int | None
    workstation_id: int | None
    roles: frozenset[Role] = frozenset()
    """What the signed-in person may do (:mod:`services.access`); none until signed in."""


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: int | None = None,
    details: str = "",
) -> None:
    """Add an audit event to the session's transaction (flushed with it, never alone)."""
    session.add(
        AuditEvent(
            staff_id=actor.staff_id,
            workstation_id=actor.workstation_id,
            action=action,
            patient_id=patient_id,
            object_type=object_type,
            object_id=object_id,
            details=details[:1000],
        )
    )


def recent_events(session: Session, *, patient_id: int, limit: int = 50) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.patient_id == patient_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
