"""The patient's OMS card on the second reader, through pcscd + vpcd, while the doctor's card
is in the first: the patient opens; an unknown policy offers registration with the card's
data; a mismatch is shown and settled by the user; a card never signs anyone in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.errors import show_error
from arm.main_window import MainWindow
from arm.settings import load_settings
from arm.tasks import TaskRunner
from services.card.oms import OmsHolder
from services.card.oms_applet import OmsApplet
from services.card.pcscd import PrivatePcscd
from services.card.vpcd import VirtualCard
from services.db import make_session_factory
from services.models import AuditEvent, Patient, Role, Sex
from services.patients import PatientCard
from services.validation import make_policy, make_snils
from tests.arm.test_login import _sign_in
from tests.cards import StaffWithCard, add_staff_card
from tests.factories import base_org, person
from widgets.patient_card.mismatch_dialog import MismatchDialog
from widgets.patient_card.register_dialog import RegisterDialog


@dataclass
class Desk:
    win: MainWindow
    runner: TaskRunner
    sessions: sessionmaker[Session]
    registrar: StaffWithCard
    doctor: StaffWithCard
    patient: PatientCard
    pcscd: PrivatePcscd
    cards: list[VirtualCard]

    def patient_card(self, holder: OmsHolder) -> VirtualCard:
        card = VirtualCard(OmsApplet(holder), self.pcscd.port + 1)
        self.cards.append(card)
        return card


@pytest.fixture
def desk(
    qtbot: QtBot, sqlite_engine: Engine, pcscd: PrivatePcscd, tmp_path: Path
) -> Iterator[Desk]:
    sessions = make_session_factory(sqlite_engine)
    actor, dept = base_org(sessions)
    patient = person(
        sessions, actor, "Кораблёва", "Нина", "Петровна", dept_id=dept, birth=dt.date(1985, 3, 15)
    )
    registrar = add_staff_card(
        sessions, pcscd, tmp_path / "cards", surname="Рябова", role=Role.REGISTRAR,
        position="Медицинский регистратор",
    )  # fmt: skip
    doctor = add_staff_card(sessions, pcscd, tmp_path / "cards", surname="Гаврилова")
    settings = load_settings(
        database_url=str(sqlite_engine.url), workstation_code="ws-test", virtual_reader=True,
        patient_readers=("Virtual PCD * 01",),
    )  # fmt: skip
    runner = TaskRunner(show_error)
    win = MainWindow(settings, runner)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.sig_ready, timeout=30_000):
        win.connect_database()
    d = Desk(win, runner, sessions, registrar, doctor, patient, pcscd, [])
    yield d
    win.close()
    for c in (*d.cards, registrar.card, doctor.card):
        c.remove()
    runner.shutdown(wait=True)


def _holder(p: PatientCard, **changes: object) -> OmsHolder:
    base = OmsHolder(
        policy=p.policy_number or "", surname=p.surname, name=p.name, patronymic=p.patronymic,
        sex=p.sex, birth_date=p.birth_date, snils=p.snils or "",
    )  # fmt: skip
    return OmsHolder(**{**base.__dict__, **changes})


def test_patient_card_opens_the_patient_and_never_signs_in(qtbot: QtBot, desk: Desk) -> None:
    win = desk.win
    card = desk.patient_card(_holder(desk.patient))
    card.insert()  # at the sign-in screen: nobody signs in with a patient's card
    qtbot.wait(1200)
    assert win.workspace is None
    assert not win.gate.asking_pin
    card.remove()
    qtbot.wait(500)

    _sign_in(qtbot, win, desk.registrar)  # the staff card in slot 0 stays in
    qtbot.waitUntil(
        lambda: win.patients is not None and win.work.isVisible(), timeout=10_000
    )  # sign-in builds the window
    card.insert()
    assert win.patients is not None
    view = win.patients.card_view
    qtbot.waitUntil(
        lambda: view.card is not None and view.card.id == desk.patient.id, timeout=5_000
    )
    assert not win.locked
    assert desk.registrar.card.inserted
    card.remove()  # pulling the patient's card locks nothing
    qtbot.wait(600)
    assert not win.locked
    with desk.sessions() as s:
        reads = s.scalars(
            select(AuditEvent.patient_id).where(AuditEvent.action == "patient_card.read")
        ).all()
    assert reads == [desk.patient.id]


def test_a_doctor_in_the_emk_gets_the_record(qtbot: QtBot, desk: Desk) -> None:
    win = desk.win
    _sign_in(qtbot, win, desk.doctor)
    qtbot.waitUntil(lambda: win.emk is not None and win.work.isVisible(), timeout=5_000)
    win.go_to("emk")
    desk.patient_card(_holder(desk.patient)).insert()
    emk = win.emk
    assert emk is not None
    qtbot.waitUntil(lambda: emk.patient_id == desk.patient.id, timeout=5_000)


def test_unknown_policy_offers_registration_filled_from_the_card(qtbot: QtBot, desk: Desk) -> None:
    win = desk.win
    _sign_in(qtbot, win, desk.registrar)
    qtbot.waitUntil(lambda: win.patients is not None and win.work.isVisible(), timeout=5_000)
    new = OmsHolder(
        make_policy(777_001), "СЕМЁНОВ", "ИГОРЬ", "ПАВЛОВИЧ", Sex.MALE, dt.date(1990, 6, 1),
        make_snils(2_777_001),
    )  # fmt: skip
    desk.patient_card(new).insert()
    qtbot.waitUntil(lambda: win.scan_box is not None, timeout=5_000)
    box = win.scan_box
    assert box is not None
    register = next(b for b in box.buttons() if b.text().startswith("Зарегистрировать"))
    qtbot.mouseClick(register, Qt.MouseButton.LeftButton)
    assert win.patients is not None
    qtbot.waitUntil(lambda: win.patients is not None and win.patients.register_dialog is not None,
                    timeout=5_000)  # fmt: skip
    dlg = win.patients.register_dialog
    assert isinstance(dlg, RegisterDialog)
    assert dlg.form.surname.text() == "Семёнов"
    assert dlg.form.birth_date.text() == "01.06.1990"
    assert dlg.form.policy.text().replace(" ", "") == new.policy
    with desk.sessions() as s:  # nothing is stored until the registrar saves
        assert s.scalar(select(Patient.id).where(Patient.policy_number == new.policy)) is None
    dlg.reject()


def test_mismatch_is_shown_and_the_registrar_decides(
    qtbot: QtBot, desk: Desk, tmp_path: Path
) -> None:
    win = desk.win
    _sign_in(qtbot, win, desk.registrar)
    qtbot.waitUntil(lambda: win.patients is not None and win.work.isVisible(), timeout=5_000)
    married = _holder(desk.patient, surname="Лебедева", birth_date=dt.date(1985, 3, 16))
    card = desk.patient_card(married)
    card.insert()
    qtbot.waitUntil(lambda: win.mismatch_dialog is not None, timeout=5_000)
    dlg = win.mismatch_dialog
    assert isinstance(dlg, MismatchDialog)
    rows = {
        dlg.table.item(r, 0).text(): (dlg.table.item(r, 1).text(), dlg.table.item(r, 2).text())
        for r in range(dlg.table.rowCount())
    }
    assert rows == {
        "Фамилия": ("Кораблёва", "Лебедева"),
        "Дата рождения": ("15.03.1985", "16.03.1985"),
    }
    dlg.resize(720, 360)
    dlg.grab().save(str(tmp_path / "mismatch.png"))
    # Keep: nothing changes, the patient opens as recorded.
    qtbot.mouseClick(dlg.keep_button, Qt.MouseButton.LeftButton)
    assert win.patients is not None
    view = win.patients.card_view
    qtbot.waitUntil(lambda: view.card is not None, timeout=5_000)
    assert view.card is not None
    assert view.card.surname == "Кораблёва"
    card.remove()
    qtbot.wait(600)
    # Again, and take only the surname.
    card.insert()
    qtbot.waitUntil(lambda: win.mismatch_dialog is not None, timeout=5_000)
    dlg = win.mismatch_dialog
    assert isinstance(dlg, MismatchDialog)
    dlg.table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    qtbot.mouseClick(dlg.update_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.card is not None and view.card.surname == "Лебедева", timeout=5_000
    )
    with desk.sessions() as s:
        p = s.get(Patient, desk.patient.id)
        assert p is not None
        assert (p.surname, p.birth_date) == ("Лебедева", dt.date(1985, 3, 15))
