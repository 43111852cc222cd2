"""The demo's staff cards: files the emulator serves, enrolled for demo staff members.

Each card is a JSON file (the emulator's EEPROM, :mod:`services.card.applet`) in the user's
data dir, created on first start, and enrolled in the demo database with its public key, so
the demo signs in exactly as production does: PIN, then challenge–response.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.audit import Actor
from services.card.applet import DoctorApplet, new_card
from services.card.oms import OmsHolder
from services.errors import ArmError, NotFoundError
from services.models import CardBinding, Role, Staff, StaffRole
from services.signin import enroll_card

__all__ = ["DEMO_CARDS", "DEMO_PIN", "demo_patient_holder", "ensure_demo_cards"]

log = logging.getLogger(__name__)

DEMO_PIN = "1234"

#: kind → (tray label, role, which one of that role by id order)
DEMO_CARDS: dict[str, tuple[str, Role, int]] = {
    "doctor": ("Врач-терапевт", Role.DOCTOR, 0),
    "registrar": ("Регистратор", Role.REGISTRAR, 0),
    "radiologist": ("Рентгенолог", Role.RADIOLOGIST, 0),
    "doctor2": ("Второй врач", Role.DOCTOR, 1),
}


def _staff(s: Session, role: Role, nth: int) -> Staff:
    staff = s.scalars(
        select(Staff)
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(StaffRole.role == role, Staff.active.is_(True))
        .order_by(Staff.id)
        .offset(nth)
        .limit(1)
    ).first()
    if staff is None:
        raise NotFoundError(f"В демо-базе нет сотрудника с ролью {role}")
    return staff


def ensure_demo_cards(sessions: sessionmaker[Session], folder: Path) -> dict[str, Path]:
    """Create the card files that are missing and (re-)enrol every card's current key."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    with sessions.begin() as s:
        for kind, (_label, role, nth) in DEMO_CARDS.items():
            staff = _staff(s, role, nth)
            path = folder / f"{kind}.json"
            serial = f"DEMO-{kind.upper()}-{staff.id}"
            if path.exists():
                applet = DoctorApplet.load(path)
                if applet.state.serial != serial:  # another demo database: a new card
                    path.unlink()
            if not path.exists():
                state = new_card(serial, str(staff.id), staff.short_name, role.value, pin=DEMO_PIN)
                DoctorApplet(state).save(path)
            applet = DoctorApplet.load(path)
            key = applet.public_point()
            bound = s.scalar(select(CardBinding).where(CardBinding.card_serial == serial))
            if bound is None or (bound.public_key != key and bound.revoked_at is None):
                enroll_card(s, Actor(None, None), staff.id, serial, key)
            out[kind] = path
    return out


def demo_patient_holder(sessions: sessionmaker[Session]) -> OmsHolder | None:
    """The OMS card of a patient the demo doctor sees today (for the tray's patient card)."""
    from services.clock import day_bounds, local_day, now_utc
    from services.demo import demo_staff_id
    from services.models import Appointment, Patient, ScheduleSlot

    with sessions() as s:
        try:
            staff = demo_staff_id(s)
        except ArmError:
            return None
        start, end = day_bounds(local_day(now_utc()))
        p = s.scalars(
            select(Patient)
            .join(Appointment, Appointment.patient_id == Patient.id)
            .join(ScheduleSlot, ScheduleSlot.id == Appointment.slot_id)
            .where(
                ScheduleSlot.staff_id == staff,
                ScheduleSlot.starts_at >= start,
                ScheduleSlot.starts_at < end,
                Patient.policy_number.is_not(None),
            )
            .order_by(ScheduleSlot.starts_at)
            .limit(1)
        ).first()
        if p is None:
            p = s.scalars(
                select(Patient).where(Patient.policy_number.is_not(None)).order_by(Patient.id)
            ).first()
        if p is None or p.policy_number is None:
            return None
        return OmsHolder(
            p.policy_number, p.surname, p.name, p.patronymic, p.sex, p.birth_date, p.snils or ""
        )
