"""The roaming workspace: what a staff member had open, kept in the shared database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, UtcDateTime, utcnow


class WorkspaceState(Base):
    """One row per staff member: the state saved at lock, switch or sign-out, restored at the
    next sign-in on any workstation.  ``state`` is JSON owned by the GUI (open patient, tab,
    unsaved draft text, scroll positions); the services store it and never interpret it."""

    __tablename__ = "workspace_state"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(Text, default="{}")
    workstation_id: Mapped[int | None] = mapped_column(ForeignKey("workstation.id"))
    saved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
