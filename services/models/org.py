"""Where work happens: the polyclinic, its departments, rooms and workstations."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.models.base import Base, str_enum


class DepartmentKind(enum.StrEnum):
    ADULT = "adult"
    CHILDREN = "children"
    DIAGNOSTIC = "diagnostic"


class Organisation(Base):
    """A medical organisation (медицинская организация), e.g. «ГП № 12»."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(100))
    ogrn: Mapped[str] = mapped_column(String(13), unique=True)
    address: Mapped[str] = mapped_column(String(500), default="")

    departments: Mapped[list[Department]] = relationship(back_populates="organisation")


class Department(Base):
    """A department (отделение / филиал) of the organisation."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DepartmentKind] = mapped_column(str_enum(DepartmentKind))

    organisation: Mapped[Organisation] = relationship(back_populates="departments")
    rooms: Mapped[list[Room]] = relationship(back_populates="department")


class Room(Base):
    """A consulting room (кабинет)."""

    __tablename__ = "room"
    __table_args__ = (UniqueConstraint("department_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")

    department: Mapped[Department] = relationship(back_populates="rooms")


class Workstation(Base):
    """A registered PC (АРМ) standing in a room; audit events name it."""

    __tablename__ = "workstation"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")

    room: Mapped[Room | None] = relationship()
