"""Prescriptions (рецепты) on the three blanks of Order 1094н, and named number sequences.

A prescription is written once: its items, its series and number and its benefit fields never
change; only a cancellation (with a reason) is written afterwards.  Its status is *derived*
(valid until ``issued_on + validity_days``, or cancelled), so nothing has to expire it.

Series and number: 107-1/у has none; 148-1/у-88 carries the print shop's series and number,
typed in from the blank; 148-1/у-04(л) gets the region code as its series and the next number
of the organisation's own sequence.  The unique key over (organisation, form, series, number)
is what stops one blank — printed or typographic — from being used twice, whatever two
workstations do at the same moment.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from services.models.base import Base, UtcDateTime, str_enum, utcnow


class PrescriptionForm(enum.StrEnum):
    """The three prescription blanks ARM writes (1094н, appendix 2)."""

    F107 = "107-1u"  # ordinary, computer-made allowed (app. 3 p. 1)
    F148_04L = "148-1u-04l"  # preferential, computer-made with the barcode field (app. 3 p. 5)
    F148_88 = "148-1u-88"  # print-shop blanks only (app. 3 p. 1): ARM overlays or drafts

    @property
    def number(self) -> str:
        """The form's number as the blank prints it: «148-1/у-04(л)»."""
        return _FORM_NUMBER[self]


_FORM_NUMBER = {
    PrescriptionForm.F107: "107-1/у",
    PrescriptionForm.F148_04L: "148-1/у-04(л)",
    PrescriptionForm.F148_88: "148-1/у-88",
}


class Prescription(Base):
    """One prescription blank as issued (one to three items on 107-1/у, one on the others)."""

    __tablename__ = "prescription"
    __table_args__ = (
        UniqueConstraint("organisation_id", "form", "series", "number"),
        Index("ix_prescription_patient_issued", "patient_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    form: Mapped[PrescriptionForm] = mapped_column(str_enum(PrescriptionForm))
    # NULL on 107-1/у: NULLs never collide in the unique key, on either database.
    series: Mapped[str | None] = mapped_column(String(10))
    number: Mapped[str | None] = mapped_column(String(12))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    validity_days: Mapped[int] = mapped_column()
    # 107-1/у «По специальному назначению» (1094н app. 1 p. 23): up to a year, dispensed in parts.
    special_purpose: Mapped[bool] = mapped_column(default=False)
    dispense_every_days: Mapped[int | None] = mapped_column()
    mkb_code: Mapped[str] = mapped_column(String(8), default="")
    # 148-1/у-04(л) only: category code (178-ФЗ art. 6.1), financing source and % paid (1–3).
    benefit_category: Mapped[str] = mapped_column(String(3), default="")
    funding_source: Mapped[int | None] = mapped_column()
    payment_percent: Mapped[int | None] = mapped_column()
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("emk_document.id"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    items: Mapped[list[PrescriptionItem]] = relationship(
        back_populates="prescription",
        order_by="PrescriptionItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class PrescriptionItem(Base):
    """One drug of a prescription (the «Rp.» block): what, how much, and the signa."""

    __tablename__ = "prescription_item"
    __table_args__ = (UniqueConstraint("prescription_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescription.id"))
    position: Mapped[int] = mapped_column()
    drug_id: Mapped[str] = mapped_column(String(60))  # the catalog key (resources/drugs)
    # Copied from the catalog as it read when signed: a later catalog edit changes no blank.
    mnn: Mapped[str] = mapped_column(String(200))
    latin: Mapped[str] = mapped_column(String(200))
    dosage_form: Mapped[str] = mapped_column(String(20))  # the catalog's form code («tab»)
    strength: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column()
    dose: Mapped[float] = mapped_column(Float)  # units per intake: 0.5, 1, 2 …
    times_per_day: Mapped[int] = mapped_column()
    every_days: Mapped[int] = mapped_column(default=1)
    duration_days: Mapped[int] = mapped_column()
    route: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(String(200), default="")  # «после еды»
    signa: Mapped[str] = mapped_column(String(400))

    prescription: Mapped[Prescription] = relationship(back_populates="items")


class NumberSequence(Base):
    """A named counter that only grows: the 148-1/у-04(л) numbers of an organisation, the
    local ЭЛН number range.

    The next value is taken by an UPDATE of the row (``last_value = last_value + n``), which
    holds the row's lock until commit on PostgreSQL and the write lock on SQLite, so two
    workstations never get the same value; the unique keys of the tables that use the values
    are the second line of defence.
    """

    __tablename__ = "number_sequence"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)

    @classmethod
    def take(cls, session: Session, name: str, count: int = 1) -> int:
        """Take ``count`` values of the sequence ``name`` (created at 0 on first use) in the
        session's transaction; returns the last one taken.

        The row stays locked until the caller commits, so a rollback gives the values back and
        a concurrent caller waits and then takes the values after them.
        """
        bump = (
            update(cls)
            .where(cls.name == name)
            .values(last_value=cls.last_value + count)
            .execution_options(synchronize_session=False)
        )
        if getattr(session.execute(bump), "rowcount", 0) == 0:
            try:
                with session.begin_nested():
                    session.add(cls(name=name, last_value=0))
            except IntegrityError:
                pass  # another workstation created it a moment ago: its row is there now
            session.execute(bump)
        value = session.scalar(select(cls.last_value).where(cls.name == name))
        assert value is not None
        return int(value)
