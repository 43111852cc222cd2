"""The whole window through pcscd: card in, PIN, work; card out, locked; switch user; unlock.

Driven like a user: the virtual card is inserted and pulled, the PIN typed and Enter pressed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QLabel, QLineEdit
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.errors import show_error
from arm.main_window import MainWindow
from arm.settings import load_settings
from arm.tasks import TaskRunner
from services.card.pcscd import PrivatePcscd
from services.card.session import card_gone
from services.db import make_session_factory
from services.models import AuditEvent, Role
from services.patients import PatientCard
from tests.cards import StaffWithCard, add_staff_card, wait_slots_empty
from tests.factories import base_org, person
from tests.widgets.keys import type_text


@dataclass
class App:
    win: MainWindow
    runner: TaskRunner
    sessions: sessionmaker[Session]
    doctor: StaffWithCard
    registrar: StaffWithCard
    patient: PatientCard


@pytest.fixture
def app(qtbot: QtBot, sqlite_engine: Engine, pcscd: PrivatePcscd, tmp_path: Path) -> Iterator[App]:
    sessions = make_session_factory(sqlite_engine)
    actor, dept = base_org(sessions)
    patient = person(sessions, actor, "Шереметьева", "Варвара", "Ильинична", dept_id=dept)
    doctor = add_staff_card(sessions, pcscd, tmp_path / "cards", surname="Гаврилова")
    registrar = add_staff_card(
        sessions,
        pcscd,
        tmp_path / "cards",
        surname="Рябова",
        role=Role.REGISTRAR,
        position="Медицинский регистратор",
    )
    settings = load_settings(
        database_url=str(sqlite_engine.url), workstation_code="ws-test", virtual_reader=True
    )
    runner = TaskRunner(show_error)
    win = MainWindow(settings, runner)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.sig_ready, timeout=30_000):
        win.connect_database()
    yield App(win, runner, sessions, doctor, registrar, patient)
    win.close()
    doctor.card.remove()
    registrar.card.remove()
    runner.shutdown(wait=True)
    wait_slots_empty(pcscd)


def _sign_in(qtbot: QtBot, win: MainWindow, card: StaffWithCard, pin: str = "1234") -> None:
    card.card.insert()
    try:
        qtbot.waitUntil(lambda: win.gate.asking_pin and win.gate.pin.isEnabled(), timeout=5_000)
    except TimeoutError as exc:
        gate = win.gate
        raise AssertionError(
            f"{gate.headline.text()} | {gate.error.text()} | {gate.readers.text()}"
        ) from exc
    assert card.name in win.gate.who.text()
    type_text(win.gate.pin, pin)
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)


def _visible_text() -> str:
    """Every piece of text a person could read on screen now."""
    parts: list[str] = []
    for w in QApplication.allWidgets():
        if not w.isVisible():
            continue
        if isinstance(w, QLabel):
            parts.append(w.text())
        elif isinstance(w, QLineEdit):
            parts.append(w.text())
        parts.append(w.windowTitle() if w.isWindow() else "")
        if isinstance(w, QAbstractItemView | QComboBox) and w.model() is not None:
            m = w.model()
            for r in range(m.rowCount()):
                try:
                    cols = m.columnCount()
                except TypeError:  # list models keep columnCount private
                    cols = 1
                for c in range(cols):
                    parts.append(str(m.index(r, c).data() or ""))
    return "\n".join(parts)


def test_card_login_lock_on_removal_unlock_keeps_draft(
    qtbot: QtBot, app: App, tmp_path: Path
) -> None:
    win = app.win
    assert not win.work.isVisible()
    assert "Вставьте карту" in win.gate.headline.text()
    _sign_in(qtbot, win, app.doctor)
    qtbot.waitUntil(lambda: win.patients is not None and win.work.isVisible(), timeout=5_000)
    assert app.doctor.name in win.windowTitle()
    assert "Расписание" in win.windowTitle()  # a doctor's day starts with the schedule
    qtbot.keyClick(win, Qt.Key.Key_F2)
    # Open the patient and start editing.
    assert win.patients is not None
    reg = win.patients.registry_view
    type_text(reg.search_edit, "шерем")
    qtbot.waitUntil(lambda: reg.model.rowCount() == 1 and not reg.model.loading, timeout=10_000)
    qtbot.keyClick(reg.search_edit, Qt.Key.Key_Return)
    card = win.patients.card_view
    qtbot.waitUntil(lambda: card.card is not None, timeout=10_000)
    card.form.phone.selectAll()
    type_text(card.form.phone, "+7 916 555-44-33")
    assert card.dirty
    assert "Шереметьева" in _visible_text()
    win._notify("Пора вернуться к отложенному приёму", "Пора вернуться: Шереметьева В.")
    assert "Шереметьева" in win.statusBar().currentMessage()

    app.doctor.card.remove()
    with qtbot.waitSignal(win.session.sig_locked, timeout=3_000):  # type: ignore[union-attr]
        pass
    QApplication.processEvents()
    assert win.locked
    assert not win.work.isVisible()
    assert "Шереметьева" not in win.statusBar().currentMessage()
    win._notify("Пора вернуться к отложенному приёму", "Пора вернуться: Шереметьева В.")
    assert win.statusBar().currentMessage() == "Пора вернуться к отложенному приёму"
    shown = _visible_text()
    for secret in ("Шереметьева", "Варвара", "555-44-33", app.patient.snils[-4:]):
        assert secret not in shown, secret
    assert "заблокировано" in win.windowTitle()
    win.grab().save(str(tmp_path / "locked.png"))

    _sign_in(qtbot, win, app.doctor)
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)
    assert win.patients is not None
    assert win.patients.card_view is card
    assert card.dirty
    assert "555-44-33" in card.form.phone.text()
    with app.sessions() as s:
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("session.")))
        )
    assert actions[:3] == ["session.login", "session.lock", "session.unlock"]


def test_another_card_switches_user_and_hides_the_first_ones_work(qtbot: QtBot, app: App) -> None:
    win = app.win
    _sign_in(qtbot, win, app.doctor)
    qtbot.waitUntil(lambda: win.patients is not None and win.work.isVisible(), timeout=5_000)
    assert win.patients is not None
    win.patients.open_patient(app.patient.id)
    card = win.patients.card_view
    qtbot.waitUntil(lambda: card.card is not None, timeout=10_000)
    card.form.address.selectAll()
    type_text(card.form.address, "Черновик адреса")
    app.doctor.card.remove()
    qtbot.waitUntil(lambda: win.locked, timeout=3_000)
    _sign_in(qtbot, win, app.registrar)
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)
    assert app.registrar.name in win.windowTitle()
    shown = _visible_text()
    assert "Черновик адреса" not in shown
    assert "Шереметьева" not in shown
    assert win.patients is not None
    assert win.patients.card_view.card is None
    # The doctor's state waits for the doctor, in the database.
    assert win.station is not None
    state = win.station.load_state(app.doctor.staff_id)
    assert state["patients"]["card"]["fields"]["address"] == "Черновик адреса"
    with app.sessions() as s:
        actions = list(
            s.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("session.")))
        )
    assert "session.switch" in actions
    # The doctor comes back: the draft is restored.
    app.registrar.card.remove()
    qtbot.waitUntil(lambda: win.locked, timeout=3_000)
    time.sleep(0.1)
    _sign_in(qtbot, win, app.doctor)
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)
    assert win.patients is not None
    card = win.patients.card_view
    qtbot.waitUntil(lambda: card.card is not None and card.dirty, timeout=10_000)
    assert card.form.address.text() == "Черновик адреса"
    assert win.patients.currentWidget() is card


def test_wrong_pin_three_times_blocks_on_screen(qtbot: QtBot, app: App) -> None:
    win = app.win
    _sign_in(qtbot, win, app.doctor, pin="1111")
    qtbot.waitUntil(lambda: "Осталось 2" in win.gate.error.text(), timeout=5_000)
    assert win.gate.pin.text() == ""
    assert win.gate.pin.isEnabled()
    type_text(win.gate.pin, "2222")
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Осталось 1" in win.gate.error.text(), timeout=5_000)
    type_text(win.gate.pin, "3333")
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "заблокирован" in win.gate.error.text(), timeout=5_000)
    assert not win.gate.asking_pin
    assert not win.work.isVisible()


def test_ctrl_l_and_idle_lock_ask_the_pin_of_the_card_still_inserted(
    qtbot: QtBot, app: App
) -> None:
    win = app.win
    _sign_in(qtbot, win, app.doctor)
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)
    qtbot.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert win.locked
    qtbot.waitUntil(lambda: win.gate.asking_pin, timeout=5_000)
    assert "Разблокировка" in win.gate.headline.text()
    type_text(win.gate.pin, "1234")
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)
    # Idle: the timer's own timeout does the same.
    assert win.session is not None
    assert win.session.idle.isActive()
    win.session.idle.timeout.emit()
    assert win.locked


def test_a_card_the_link_calls_pulled_while_the_reader_holds_it_is_read_again(
    qtbot: QtBot, app: App
) -> None:
    """A card re-seated faster than the reader polls reads as "pulled" for a while although
    the reader reports it; the gate reads it again instead of refusing the sign-in."""
    win = app.win
    signin = win.session.station.signin  # type: ignore[union-attr]
    real_open = signin._open_card
    calls: list[float] = []
    started = time.monotonic()

    def flaky_open(reader: str):  # type: ignore[no-untyped-def]
        calls.append(time.monotonic())
        if time.monotonic() - started < 2.4:  # longer than one read's own 2-second retry
            raise card_gone(reader)
        return real_open(reader)

    signin._open_card = flaky_open
    _sign_in(qtbot, win, app.doctor)
    assert calls
    assert calls[-1] - started >= 2.4  # the gate read again after the first read gave up
    assert "Вход невозможен" not in win.gate.headline.text()
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)


def test_a_card_that_stays_unreadable_is_refused_with_the_reason(qtbot: QtBot, app: App) -> None:
    win = app.win
    signin = win.session.station.signin  # type: ignore[union-attr]

    def dead_open(reader: str):  # type: ignore[no-untyped-def]
        raise card_gone(reader)

    signin._open_card = dead_open
    app.doctor.card.insert()
    qtbot.waitUntil(lambda: "Вход невозможен" in win.gate.headline.text(), timeout=15_000)
    assert "извлечена" in win.gate.error.text()
