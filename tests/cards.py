"""Card fixtures' helpers: staff with enrolled virtual cards on the private pcscd."""

from __future__ import annotations

import time
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


def wait_slots_empty(pcscd: PrivatePcscd, timeout: float = 3.0) -> None:
    """Until pcscd has seen every virtual slot empty.

    vpcd polls a slot every 400 ms; a card pulled and the next test's card pushed into the
    same slot within one poll look to pcscd like one card that never left, and the new card
    is never powered up — its first reads fail as "pulled" for seconds.  A real reader sees
    every removal by interrupt, so this only concerns the emulator between tests.
    """
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCARD_STATE_PRESENT,
        SCARD_STATE_UNAWARE,
        SCardEstablishContext,
        SCardGetStatusChange,
        SCardReleaseContext,
    )

    hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if hr != SCARD_S_SUCCESS:
        return
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hr, states = SCardGetStatusChange(
                ctx, 0, [(r, SCARD_STATE_UNAWARE) for r in pcscd.readers]
            )
            if hr == SCARD_S_SUCCESS and not any(st & SCARD_STATE_PRESENT for _r, st, _a in states):
                return
            time.sleep(0.05)
        raise AssertionError(f"pcscd still reports a card in {pcscd.readers} after {timeout} s")
    finally:
        SCardReleaseContext(ctx)
