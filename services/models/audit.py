"""Audit events: who did what to which patient's record, from which workstation, when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UtcDateTime, utcnow


class AuditEvent(Base):
    """Append-only; nothing in ARM updates or deletes a row here."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_patient_at", "patient_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("workstation.id"))
    action: Mapped[str] = mapped_column(String(64))  # e.g. "patient.open", "relation.add"
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[int | None] = mapped_column()
    details: Mapped[str] = mapped_column(String(1000), default="")
