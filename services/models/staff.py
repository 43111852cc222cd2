"""Staff members, their roles and the smart cards bound to them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    DOCTOR = "doctor"
    REGISTRAR = "registrar"
    RADIOLOGIST = "radiologist"
    ADMIN = "admin"


class Staff(Base):
    """A staff member (сотрудник): doctor, registrar, radiologist or administrator."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    surname: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(60))
    patronymic: Mapped[str] = mapped_column(String(60), default="")
    position: Mapped[str] = mapped_column(String(120))  # должность, e.g. «Врач-терапевт участковый»
    specialty: Mapped[str] = mapped_column(String(120), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    snils: Mapped[str | None] = mapped_column(String(11), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )
    cards: Mapped[list[CardBinding]] = relationship(back_populates="staff")

    @property
    def short_name(self) -> str:
        """«Иванова А. П.» — how a staff member is named in title bars and lists."""
        initials = "".join(f" {p[0]}." for p in (self.name, self.patronymic) if p)
        return f"{self.surname}{initials}"


class StaffRole(Base):
    __tablename__ = "staff_role"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role), primary_key=True)

    staff: Mapped[Staff] = relationship(back_populates="roles")


class CardBinding(Base):
    """A smart card enrolled for a staff member, with the public key that proves it.

    The card's serial alone never authenticates: the smart-card issue verifies a signature
    made by the card's private key against ``public_key``.
    """

    __tablename__ = "card_binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    card_serial: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    staff: Mapped[Staff] = relationship(back_populates="cards")
