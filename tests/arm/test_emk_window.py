"""The EMK in the whole window: a doctor starts a visit from the schedule and lands in its
protocol; the draft survives the card pulled, and a restart of the program."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from arm.errors import show_error
from arm.main_window import MainWindow
from arm.tasks import TaskRunner
from services import schedule
from services.clock import clinic_tz, now_utc
from services.models import BookingSource, VisitType
from tests.arm.test_login import App, _sign_in, _visible_text, app  # noqa: F401  (the fixture)
from tests.factories import open_day
from tests.widgets.keys import type_text


def _book_now(a: App) -> None:
    now = now_utc()
    local = now.astimezone(clinic_tz())
    start = max(
        local - dt.timedelta(minutes=10),
        local.replace(hour=0, minute=0, second=0, microsecond=0),
    ).astimezone(dt.UTC)
    slots = open_day(a.sessions, a.doctor.staff_id, start, 3)
    from services.audit import Actor
    from services.models import Role

    registrar = Actor(a.registrar.staff_id, None, frozenset({Role.REGISTRAR}))
    with a.sessions() as s:
        schedule.book(
            s,
            registrar,
            slots[0],
            a.patient.id,
            VisitType.REPEAT,
            BookingSource.PORTAL,
            now=now - dt.timedelta(days=1),
        )


def test_start_a_visit_write_lock_unlock_restart(qtbot: QtBot, app: App) -> None:  # noqa: F811
    a = app
    _book_now(a)
    win = a.win
    _sign_in(qtbot, win, a.doctor)
    qtbot.waitUntil(lambda: win.schedule is not None and win.schedule.model.rowCount() > 0,
                    timeout=10_000)  # fmt: skip
    sched = win.schedule
    assert sched is not None
    row = next(i for i, r in enumerate(sched.model.rows) if r.patient_id == a.patient.id)
    sched.table.setFocus()
    sched.table.selectRow(row)
    qtbot.keyClick(sched.table, Qt.Key.Key_F3)  # arrived
    qtbot.waitUntil(lambda: sched.model.rows[row].status == "arrived", timeout=5_000)
    qtbot.keyClick(sched.table, Qt.Key.Key_F4)  # start: the protocol opens
    emk = win.emk
    assert emk is not None
    qtbot.waitUntil(lambda: emk.patient_id == a.patient.id and emk.isVisible(), timeout=10_000)
    editor = emk.editor
    assert editor is not None
    qtbot.waitUntil(lambda: emk.tabs.currentWidget() is editor, timeout=5_000)
    assert editor.encounter_id is not None  # the protocol belongs to the visit
    assert "ЭМК — Шереметьева Варвара Ильинична" in win.windowTitle()
    assert editor.sections["complaints"].hasFocus()
    type_text(editor.sections["complaints"], "Головокружение по утрам")
    qtbot.waitUntil(lambda: not editor.pending, timeout=3_000)

    a.doctor.card.remove()
    qtbot.waitUntil(lambda: win.locked, timeout=3_000)
    QApplication.processEvents()
    assert "Головокружение" not in _visible_text()
    assert "Шереметьева" not in win.windowTitle()
    _sign_in(qtbot, win, a.doctor)
    qtbot.waitUntil(lambda: win.work.isVisible(), timeout=5_000)
    assert editor.sections["complaints"].toPlainText() == "Головокружение по утрам"

    # Ctrl+E from the registry card opens that patient's record.
    qtbot.keyClick(win, Qt.Key.Key_F2)
    assert win.patients is not None
    win.open_card(a.patient.id)
    qtbot.waitUntil(lambda: win.patients.card_view.card is not None, timeout=5_000)  # type: ignore[union-attr]
    qtbot.keyClick(win, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is emk

    # Quit and start again: the unsigned protocol comes back.
    settings = win._settings
    win.close()
    a.runner.shutdown(wait=True)
    a.doctor.card.remove()
    runner = TaskRunner(show_error)
    win2 = MainWindow(settings, runner)
    qtbot.addWidget(win2)
    win2.show()
    with qtbot.waitSignal(win2.sig_ready, timeout=30_000):
        win2.connect_database()
    try:
        _sign_in(qtbot, win2, a.doctor)
        qtbot.waitUntil(
            lambda: (
                win2.emk is not None
                and win2.emk.editor is not None
                and win2.emk.editor.patient_id == a.patient.id
            ),
            timeout=10_000,
        )
        assert win2.emk is not None
        assert win2.emk.editor is not None
        text = win2.emk.editor.sections["complaints"].toPlainText()
        assert text == "Головокружение по утрам"
    finally:
        win2.close()
        a.doctor.card.remove()
        runner.shutdown(wait=True)
    assert Path(settings.data_dir / "drafts").is_dir()
