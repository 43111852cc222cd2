"""Signing in through the real stack: pcscd + vpcd + the emulator, pyscard on the host side."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.workspace import pcsc_opener
from services.audit import Actor
from services.card.pcsc import CardEvent, EventKind, ReaderWatcher, reader_allowed
from services.card.pcscd import PrivatePcscd
from services.card.session import PinBlocked, WrongPin
from services.db import make_session_factory
from services.errors import ConflictError, PeerUnavailable
from services.models import AuditEvent
from services.signin import CardRefused, SignIn, enroll_card, revoke_card
from tests.cards import StaffWithCard, add_staff_card
from tests.factories import base_org


class Events:
    def __init__(self) -> None:
        self.items: list[CardEvent] = []
        self.cond = threading.Condition()

    def __call__(self, e: CardEvent) -> None:
        with self.cond:
            self.items.append(e)
            self.cond.notify_all()

    def wait(self, kind: EventKind, reader: str = "", timeout: float = 3.0) -> CardEvent:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i, e in enumerate(self.items):
                    if e.kind is kind and (not reader or e.reader == reader):
                        del self.items[i]
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind} on {reader!r} in {timeout}s: {self.items}")
                self.cond.wait(left)


@pytest.fixture
def world(sqlite_engine: Engine, pcscd: PrivatePcscd, tmp_path: Path):  # type: ignore[no-untyped-def]
    sessions = make_session_factory(sqlite_engine)
    actor, _dept = base_org(sessions)
    signin = SignIn(sessions, actor.workstation_id, pcsc_opener)
    cards: list[StaffWithCard] = []

    def add(**kw: object) -> StaffWithCard:
        c = add_staff_card(sessions, pcscd, tmp_path / "cards", **kw)  # type: ignore[arg-type]
        cards.append(c)
        return c

    yield sessions, signin, add
    for c in cards:
        c.card.remove()


def _events(
    sessions: sessionmaker[Session], prefix: str = "session."
) -> list[tuple[str, int | None]]:
    with sessions() as s:
        rows = s.execute(
            select(AuditEvent.action, AuditEvent.staff_id, AuditEvent.workstation_id)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        ).all()
    if prefix == "session.":  # session events always name the workstation
        assert all(r.workstation_id is not None for r in rows)
    return [(r.action, r.staff_id) for r in rows]


def _wait_present(reader: str, signin: SignIn) -> None:
    """Each insert is seen at pcscd's next 400 ms poll of the virtual reader."""
    deadline = time.monotonic() + 3
    while True:
        try:
            signin.identify(reader, settle_s=0)
            return
        except PeerUnavailable:  # not there yet; any other answer is the card's verdict
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_login_with_pin_and_challenge_response(world, pcscd: PrivatePcscd) -> None:  # type: ignore[no-untyped-def]
    sessions, signin, add = world
    doc = add(surname="Орлова")
    doc.card.insert()
    reader = pcscd.readers[0]
    _wait_present(reader, signin)
    info, staff = signin.identify(reader)
    assert info.serial == doc.serial
    assert info.tries_left == 3
    assert staff.staff_id == doc.staff_id
    who = signin.login(reader, staff, "1234", purpose="login")
    assert who.staff_id == doc.staff_id
    assert who.reader == reader
    assert ("session.login", doc.staff_id) in _events(sessions)


def test_wrong_pin_three_times_blocks_the_card(world, pcscd: PrivatePcscd) -> None:  # type: ignore[no-untyped-def]
    sessions, signin, add = world
    doc = add(surname="Лисина")
    doc.card.insert()
    reader = pcscd.readers[0]
    _wait_present(reader, signin)
    _info, staff = signin.identify(reader)
    with pytest.raises(WrongPin, match="Осталось 2"):
        signin.login(reader, staff, "0000", purpose="login")
    with pytest.raises(WrongPin, match="Осталось 1"):
        signin.login(reader, staff, "0000", purpose="login")
    with pytest.raises(PinBlocked):
        signin.login(reader, staff, "0000", purpose="login")
    # Pulled and inserted again: still blocked, and no PIN is asked.
    doc.card.remove()
    doc.card.insert()
    time.sleep(0.5)
    with pytest.raises(PinBlocked):
        _wait_present(reader, signin)
    events = _events(sessions)
    assert events.count(("session.pin_failed", doc.staff_id)) == 2
    assert ("session.pin_blocked", doc.staff_id) in events
    assert ("session.login", doc.staff_id) not in events


def test_unknown_revoked_and_inactive_cards_are_refused(world, pcscd: PrivatePcscd) -> None:  # type: ignore[no-untyped-def]
    sessions, signin, add = world
    reader = pcscd.readers[0]
    stranger = add(surname="Чужая", enroll=False)
    stranger.card.insert()
    with pytest.raises(CardRefused, match="не зарегистрирована"):
        _wait_present(reader, signin)
    stranger.card.remove()

    revoked = add(surname="Отозванная")
    with sessions.begin() as s:
        revoke_card(s, Actor(None, None), serial=revoked.serial)
    revoked.card.insert()
    time.sleep(0.5)
    with pytest.raises(CardRefused, match="отозвана"):
        _wait_present(reader, signin)
    revoked.card.remove()

    gone = add(surname="Уволенная", active=False)
    gone.card.insert()
    time.sleep(0.5)
    with pytest.raises(CardRefused, match="не работает"):
        _wait_present(reader, signin)
    gone.card.remove()
    actions = [a for a, _ in _events(sessions)]
    assert actions == ["session.card_unknown", "session.card_revoked", "session.staff_inactive"]
    # A revoked card cannot be re-enrolled.
    with sessions.begin() as s, pytest.raises(ConflictError, match="отозвана"):
        enroll_card(
            s,
            Actor(None, None),
            revoked.staff_id,
            revoked.serial,
            revoked.card.applet.public_point(),
        )


def test_card_revoked_while_pin_is_typed_does_not_get_in(world, pcscd: PrivatePcscd) -> None:  # type: ignore[no-untyped-def]
    sessions, signin, add = world
    doc = add(surname="Быстрова")
    doc.card.insert()
    reader = pcscd.readers[0]
    _wait_present(reader, signin)
    _info, staff = signin.identify(reader)
    with sessions.begin() as s:
        revoke_card(s, Actor(None, None), serial=doc.serial)
    with pytest.raises(CardRefused, match="отозвана"):
        signin.login(reader, staff, "1234", purpose="login")


def test_replayed_answer_and_cloned_serial_are_rejected(world, pcscd: PrivatePcscd) -> None:  # type: ignore[no-untyped-def]
    sessions, signin, add = world
    doc = add(surname="Честная")
    doc.card.insert()
    reader = pcscd.readers[0]
    _wait_present(reader, signin)
    _info, staff = signin.identify(reader)
    # An eavesdropper recorded one real exchange…
    recorded_challenge = os.urandom(32)
    recorded = doc.card.applet
    recorded.power_on()
    from services.card import apdu

    recorded.process(apdu.select_applet())
    recorded.process(apdu.verify_pin("1234"))
    old_sig = recorded.process(apdu.internal_authenticate(recorded_challenge))[:-2]
    assert signin.check_proof(staff, recorded_challenge, old_sig, reader=reader, purpose="login")
    # …and replays the signature against a fresh challenge: refused.
    with pytest.raises(CardRefused, match="подлинности"):
        signin.check_proof(staff, os.urandom(32), old_sig, reader=reader, purpose="login")
    doc.card.remove()
    # A clone: same serial and holder record, but its own key (the private key can't be read).
    clone = add(surname="Клон", enroll=False)
    clone.card.applet.state.serial = doc.serial
    clone.card.insert()
    time.sleep(0.5)
    _wait_present(reader, signin)
    _info, staff2 = signin.identify(reader)
    assert staff2.staff_id == doc.staff_id  # the serial alone looks right…
    with pytest.raises(CardRefused, match="подлинности"):
        signin.login(reader, staff2, "1234", purpose="login")  # …the signature does not
    assert ("session.auth_failed", doc.staff_id) in _events(sessions)


def test_watcher_sees_both_slots_and_refuses_virtual_reader_in_production(
    pcscd: PrivatePcscd, tmp_path: Path, sqlite_engine: Engine
) -> None:
    sessions = make_session_factory(sqlite_engine)
    base_org(sessions)
    a = add_staff_card(sessions, pcscd, tmp_path, surname="Слот", slot=0)
    b = add_staff_card(sessions, pcscd, tmp_path, surname="Второй", slot=1)
    events = Events()
    watcher = ReaderWatcher(events, allow_virtual=True)
    watcher.start()
    try:
        first = events.wait(EventKind.READERS)
        assert first.readers == pcscd.readers
        a.card.insert()
        b.card.insert()
        events.wait(EventKind.INSERTED, pcscd.readers[0])
        events.wait(EventKind.INSERTED, pcscd.readers[1])
        b.card.remove()
        events.wait(EventKind.REMOVED, pcscd.readers[1])
        a.card.remove()
        events.wait(EventKind.REMOVED, pcscd.readers[0])
    finally:
        watcher.stop()
        a.card.remove()
        b.card.remove()
    prod = Events()
    watcher = ReaderWatcher(prod, allow_virtual=False)
    watcher.start()
    try:
        seen = prod.wait(EventKind.READERS)
        assert seen.readers == ()
        assert seen.refused == pcscd.readers
    finally:
        watcher.stop()
    assert not reader_allowed("Virtual PCD 00 00", ["*", "Virtual*"], allow_virtual=False)
    assert reader_allowed("ACS ACR38U 00 00", ["ACS *"], allow_virtual=False)
    assert not reader_allowed("Gemalto PC Twin 00 00", ["ACS *"], allow_virtual=False)


def test_cli_enrolls_the_inserted_card_and_revokes_it(
    world, pcscd: PrivatePcscd, sqlite_engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    sessions, signin, add = world
    nurse = add(surname="Новенькая", enroll=False)
    nurse.card.insert()
    reader = pcscd.readers[0]
    time.sleep(0.5)
    with pytest.raises(CardRefused, match="не зарегистрирована"):
        _wait_present(reader, signin)
    env = {**os.environ, "ARM_VIRTUAL_READER": "1", "ARM_DATABASE_URL": str(sqlite_engine.url)}
    cmd = [sys.executable, "-m", "arm", "admin", "card"]
    out = subprocess.run(
        [*cmd, "enroll", "--staff", str(nurse.staff_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert nurse.serial in out.stdout
    _info, staff = signin.identify(reader)
    assert signin.login(reader, staff, "1234", purpose="login").staff_id == nurse.staff_id
    # Without the virtual-reader switch the emulator's reader is refused, even for admins.
    prod = {k: v for k, v in env.items() if k != "ARM_VIRTUAL_READER"}
    out = subprocess.run(
        [*cmd, "enroll", "--staff", str(nurse.staff_id)],
        env=prod,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "нет разрешённого считывателя" in out.stderr
    out = subprocess.run(
        [*cmd, "revoke", "--serial", nurse.serial],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    with pytest.raises(CardRefused, match="отозвана"):
        signin.identify(reader)
    assert [a for a, _ in _events(sessions, "card.")] == ["card.enroll", "card.revoke"]


def test_a_reset_by_another_connection_is_not_taken_for_a_pulled_card(
    world, pcscd: PrivatePcscd
) -> None:  # type: ignore[no-untyped-def]
    """One connection closing with a reset (the previous session ending) while another is open
    on the same card: PC/SC answers the second one's next command «card was reset»; the card is
    still in, so it reconnects and goes on — and has forgotten the PIN, as a reset must."""
    from services.card import apdu
    from services.card.pcsc import PcscCard

    sessions, signin, add = world
    doc = add(surname="Сбросова")
    doc.card.insert()
    reader = pcscd.readers[0]
    _wait_present(reader, signin)
    first, second = PcscCard(reader), PcscCard(reader)
    try:
        _data, sw = second.transmit(apdu.select_applet())
        assert sw == 0x9000
        _data, sw = second.transmit(apdu.verify_pin("1234"))
        assert sw == 0x9000
        first.close()  # disconnects with SCARD_RESET_CARD
        _data, sw = second.transmit(apdu.select_applet())  # W_RESET_CARD → reconnect → retry
        assert sw == 0x9000
        _data, sw = second.transmit(apdu.verify_pin(None))
        assert sw & 0xFFF0 == 0x63C0  # PIN no longer verified: tries left are reported
    finally:
        second.close()
