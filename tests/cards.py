"""Card fixtures' helpers: staff with enrolled virtual cards on the private pcscd."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from services.audit import Actor
from services.card.applet import DoctorApplet, new_card
from services.card.pcscd import PrivatePcscd
from services.card.vpcd import VirtualCard
from services.models import Role, Staff, StaffRole
from services.signin import enroll_card


@dataclass
class StaffWithCard:
    staff_id: int
    name: str
    card: VirtualCard
    serial: str


def add_staff_card(
    sessions: sessionmaker[Session],
    pcscd: PrivatePcscd,
    folder: Path,
    *,
    surname: str,
    role: Role = Role.DOCTOR,
    position: str = "Врач-терапевт участковый",
    slot: int = 0,
    enroll: bool = True,
    active: bool = True,
) -> StaffWithCard:
    with sessions() as s:
        st = Staff(
            surname=surname, name="Анна", patronymic="Ивановна", position=position, active=active
        )
        st.roles.append(StaffRole(role=role))
        s.add(st)
        s.commit()
        staff_id, name = st.id, st.short_name
    serial = f"TEST-{staff_id:06d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{serial}.json"
    applet = DoctorApplet(new_card(serial, str(staff_id), name, role.value))
    applet.save(path)
    if enroll:
        with sessions.begin() as s:
            enroll_card(s, Actor(None, None), staff_id, serial, applet.public_point())
    return StaffWithCard(staff_id, name, VirtualCard(applet, pcscd.port + slot), serial)
