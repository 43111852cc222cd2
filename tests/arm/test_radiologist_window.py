"""A radiologist signs in with the card and lands on the worklist (F3): the study the record
knows is listed, F2 and F3 move between the registry and it.
The PACS list is empty here (no [dicom] config), so the worklist reads the record alone."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from arm.main_window import MainWindow
from services.audit import Actor
from services.card.pcscd import PrivatePcscd
from services.clock import local_day, now_utc
from services.models import Patient, Role
from services.studies import StudyFacts, dicom_patient_id, record
from tests.arm.test_login import App, _sign_in, app  # noqa: F401 — the window fixture
from tests.cards import StaffWithCard, add_staff_card


def test_radiologist_starts_on_the_worklist(
    qtbot: QtBot,
    app: App,  # noqa: F811
    pcscd: PrivatePcscd,
    tmp_path: Path,
) -> None:
    radio = add_staff_card(
        app.sessions,
        pcscd,
        tmp_path / "cards",
        surname="Достоевский",
        role=Role.RADIOLOGIST,
        position="Врач-рентгенолог",
    )
    with app.sessions() as s:
        p = s.get(Patient, app.patient.id)
        assert p is not None
        pid = dicom_patient_id(p.policy_number, p.id)
        record(
            s,
            Actor(None, None),
            [StudyFacts("1.2.826.0.1.77", pid, local_day(now_utc()), ("CT",), "КТ ОГК")],
        )
        s.commit()
    win = app.win
    try:
        _drive(qtbot, win, radio)
    finally:
        radio.card.remove()  # the slot is the doctor's too: the next test inserts there


def _drive(qtbot: QtBot, win: MainWindow, radio: StaffWithCard) -> None:
    _sign_in(qtbot, win, radio)
    qtbot.waitUntil(lambda: win.work.isVisible() and win.worklist is not None, timeout=10_000)
    worklist = win.worklist
    assert worklist is not None
    assert win.stack.currentWidget() is worklist
    assert "Рабочий список" in win.windowTitle()
    qtbot.waitUntil(lambda: worklist.model.rowCount() == 1, timeout=10_000)
    assert win.emk is not None  # a radiologist reads the record too
    qtbot.keyClick(win, Qt.Key.Key_F2)
    qtbot.keyClick(win, Qt.Key.Key_F3)
    assert win.stack.currentWidget() is worklist
