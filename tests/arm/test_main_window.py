"""The whole application, as the demo starts it: window first, then the database, then search."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from arm.errors import show_error
from arm.main_window import MainWindow
from arm.settings import load_settings
from arm.tasks import TaskRunner
from services.card.pcscd import PrivatePcscd
from services.card.rig import CardRig
from services.db import create_db_engine, sqlite_url
from services.models import AuditEvent
from tests.widgets.keys import type_text


def test_demo_start_card_tray_sign_in_search_open_card_and_audit(
    qtbot: QtBot, tmp_path: Path, monkeypatch, pcscd: PrivatePcscd
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARM_RAISE_ERRORS", "1")
    settings = load_settings(demo=True)
    assert settings.data_dir == tmp_path / "data"
    runner = TaskRunner(show_error)
    rig = CardRig(pcscd, {})  # the session's pcscd stands in for the demo's own
    win = MainWindow(settings, runner, rig=rig)
    qtbot.addWidget(win)
    win.show()
    assert win.windowTitle().startswith("ARM ")
    with qtbot.waitSignal(win.sig_ready, timeout=120_000):
        win.connect_database()
    assert win.patients is None
    assert win.tray is not None
    assert "вход по карте" in win.windowTitle()
    qtbot.mouseClick(win.tray.buttons["doctor"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.gate.asking_pin and win.gate.pin.isEnabled(), timeout=5_000)
    type_text(win.gate.pin, "1234")
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.patients is not None, timeout=5_000)
    assert win.patients is not None
    assert win.schedule is not None
    assert win.stack.currentWidget() is win.schedule  # the doctor's start screen
    qtbot.waitUntil(lambda: win.schedule is not None and win.schedule.model.snapshot is not None)
    assert win.schedule.model.rowCount() > 0 or "Нет приёма" in win.schedule.counters.text()
    # The demo patient's OMS card into the second reader: the doctor gets the record.
    assert "patient" in win.tray.buttons
    qtbot.mouseClick(win.tray.buttons["patient"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.emk is not None and win.emk.patient_id is not None, timeout=10_000)
    assert win.emk is not None
    assert win.stack.currentWidget() is win.emk
    qtbot.mouseClick(win.tray.buttons["patient"], Qt.MouseButton.LeftButton)  # and out
    assert not win.locked
    qtbot.keyClick(win, Qt.Key.Key_F2)
    title = win.windowTitle()
    assert "Пациенты" in title
    assert "врач-терапевт" in title
    assert "SQLite" in win.status_db.text()
    reg = win.patients.registry_view
    type_text(reg.search_edit, "ив")
    qtbot.waitUntil(lambda: reg.model.rowCount() > 0 and not reg.model.loading, timeout=10_000)
    first = reg.model.row_at(0)
    assert first is not None
    assert first.surname.upper().startswith("ИВ")
    qtbot.keyClick(reg.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(reg.table, Qt.Key.Key_Return)
    card = win.patients.card_view
    qtbot.waitUntil(lambda: card.card is not None and card.card.id == first.id, timeout=10_000)
    assert win.patients.currentWidget() is card
    assert first.surname in win.windowTitle()
    qtbot.keyClick(card, Qt.Key.Key_Escape)
    assert win.patients.currentWidget() is reg
    win.close()
    for c in rig.cards.values():
        c.remove()
    runner.shutdown(wait=True)
    engine = create_db_engine(sqlite_url(settings.data_dir / "arm.sqlite3"))
    with engine.connect() as c:
        events = c.execute(
            select(
                AuditEvent.action,
                AuditEvent.patient_id,
                AuditEvent.staff_id,
                AuditEvent.workstation_id,
            )
        ).all()
    engine.dispose()
    opened = [e for e in events if e.action == "patient.open"]
    assert len(opened) == 1
    assert opened[0].patient_id == first.id
    assert opened[0].staff_id is not None
    assert opened[0].workstation_id is not None


def test_unreachable_database_shows_message_and_retry(qtbot: QtBot, tmp_path: Path) -> None:
    settings = load_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    runner = TaskRunner(show_error)
    win = MainWindow(settings, runner)
    qtbot.addWidget(win)
    win.show()
    win.connect_database()
    qtbot.waitUntil(win.gate.retry_button.isVisible, timeout=15_000)
    assert "Не удалось открыть базу данных" in win.gate.headline.text()
    assert "PostgreSQL: 127.0.0.1/none — нет связи" in win.gate.error.text()
    assert win.patients is None
    runner.shutdown(wait=True)


def demo_signed_in(qtbot: QtBot, pcscd: PrivatePcscd) -> tuple[MainWindow, TaskRunner, CardRig]:
    """The demo window with the demo doctor signed in through the card tray."""
    runner = TaskRunner(show_error)
    rig = CardRig(pcscd, {})
    win = MainWindow(load_settings(demo=True), runner, rig=rig)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.sig_ready, timeout=120_000):
        win.connect_database()
    assert win.tray is not None
    qtbot.mouseClick(win.tray.buttons["doctor"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.gate.asking_pin and win.gate.pin.isEnabled(), timeout=5_000)
    type_text(win.gate.pin, "1234")
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.patients is not None, timeout=5_000)
    qtbot.keyClick(win, Qt.Key.Key_F2)
    return win, runner, rig


def test_edits_hidden_behind_f2_are_not_lost_to_the_next_patient_or_to_closing(
    qtbot: QtBot, tmp_path: Path, monkeypatch, pcscd: PrivatePcscd
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARM_RAISE_ERRORS", "1")
    win, runner, rig = demo_signed_in(qtbot, pcscd)
    section = win.patients
    assert section is not None
    reg, card = section.registry_view, section.card_view
    type_text(reg.search_edit, "ив")
    qtbot.waitUntil(lambda: reg.model.rowCount() > 1 and not reg.model.loading, timeout=10_000)
    first, second = reg.model.row_at(0), reg.model.row_at(1)
    assert first is not None
    assert second is not None
    section.open_patient(first.id)
    qtbot.waitUntil(lambda: card.card is not None and card.card.id == first.id, timeout=10_000)
    card.form.address.selectAll()
    type_text(card.form.address, "г. Москва, ул. Новая, д. 5")
    qtbot.keyClick(win, Qt.Key.Key_F2)
    assert section.currentWidget() is reg
    section.open_patient(second.id)  # Enter on another row of the search
    assert section.currentWidget() is card  # the edits are shown while the question is asked
    box = card.leave_box
    assert box is not None
    next(b for b in box.buttons() if b.text() == "Остаться").click()
    assert card.card is not None
    assert card.card.id == first.id
    assert card.form.address.text() == "г. Москва, ул. Новая, д. 5"

    win.close()
    assert win.isVisible()  # asked first
    box = card.leave_box
    assert box is not None
    next(b for b in box.buttons() if b.text() == "Сохранить").click()
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=10_000)  # closed after the save
    saved = win.workspace.registry.open_card(first.id)[0] if win.workspace else None
    assert saved is not None
    assert saved.address == "г. Москва, ул. Новая, д. 5"
    for c in rig.cards.values():
        c.remove()
    runner.shutdown(wait=True)
