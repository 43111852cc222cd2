"""The day screen driven the way a doctor drives it: keys, over a real database and runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from arm.tasks import TaskRunner
from services import schedule, visits
from services.audit import Actor
from services.clock import clinic_tz, now_utc
from services.db import make_session_factory
from services.errors import ConflictError
from services.models import AppointmentStatus, BookingSource, Role, VisitType
from services.registry import Registry
from services.schedule_desk import ScheduleDesk
from services.visits import Move
from tests.factories import base_org, colleague, open_day, person
from tests.widgets.conftest import ErrorLog, RetryLog
from tests.widgets.keys import type_text
from widgets.schedule.dialogs import CurrentVisitBox, PatientPickDialog, PauseDialog
from widgets.schedule.view import ScheduleView

S = AppointmentStatus
SURNAMES = ("Абрамова", "Борисова", "Васильева", "Григорьева", "Данилова", "Егорова")


@dataclass
class Desk:
    view: ScheduleView
    sessions: sessionmaker[Session]
    doctor: Actor
    registrar: Actor
    appts: list[int]
    slots: list[int]
    errors: ErrorLog
    clock: list[dt.datetime]


def _day_plan(now: dt.datetime, count: int = 10) -> tuple[dt.datetime, int]:
    """(start, minutes per slot) for ``count`` slots, the first three begun, the rest ahead,
    all on today: 15-minute slots from 45 minutes ago, on a quarter hour; late in the
    evening shorter slots, so the future ones still fit before midnight; never before
    local midnight (a run just after midnight keeps all its slots on today)."""
    local = now.astimezone(clinic_tz())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    left = (midnight + dt.timedelta(days=1) - local) // dt.timedelta(minutes=1)
    minutes = max(1, min(15, left // max(1, count - 2)))
    start = local - dt.timedelta(
        minutes=3 * minutes + local.minute % minutes,
        seconds=local.second,
        microseconds=local.microsecond,
    )
    return max(start, midnight).astimezone(dt.UTC), minutes


@pytest.fixture
def desk(qtbot: QtBot, sqlite_engine: Engine) -> Iterator[Desk]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    registrar = colleague(sessions, dept, "Регистраторова", Role.REGISTRAR)
    now = now_utc()
    start, minutes = _day_plan(now)
    slots = open_day(sessions, doctor.staff_id or 0, start, 10, minutes)
    people = [person(sessions, doctor, sn, "Анна", "Петровна", dept_id=dept) for sn in SURNAMES]
    appts = []
    with sessions() as s:
        for i, p in enumerate(people[:5]):
            appts.append(
                schedule.book(
                    s,
                    registrar,
                    slots[i],
                    p.id,
                    VisitType.REPEAT,
                    BookingSource.PORTAL,
                    now=now - dt.timedelta(days=1),
                )
            )
    errors = ErrorLog()
    runner = TaskRunner(errors)
    clock = [now]
    view = ScheduleView(
        runner,
        ScheduleDesk(sessions, doctor),
        Registry(sessions, doctor).search,
        errors,
        own_staff_id=doctor.staff_id or 0,
        can_treat=True,
        now=lambda: max(clock[0], now_utc()),
        poll_ms=300,
    )
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=3000)
    qtbot.waitUntil(
        lambda: view.model.snapshot is not None and not view.model.loading, timeout=10_000
    )
    yield Desk(view, sessions, doctor, registrar, appts, slots, errors, clock)
    runner.shutdown(wait=True)


def status_of(d: Desk, i: int) -> S | None:
    row = d.view.model.row_at(d.view.model.row_of_appointment(d.appts[i]))
    return row.status if row is not None else None


def select(qtbot: QtBot, d: Desk, i: int) -> None:
    d.view.table.setFocus()
    d.view.table.selectRow(d.view.model.row_of_appointment(d.appts[i]))


def key(
    qtbot: QtBot, d: Desk, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    qtbot.keyClick(d.view.table, k, mods)


def wait_status(qtbot: QtBot, d: Desk, i: int, status: S) -> None:
    qtbot.waitUntil(lambda: status_of(d, i) == status, timeout=5000)


def pause_with(qtbot: QtBot, d: Desk, reason: str) -> None:
    qtbot.waitUntil(lambda: isinstance(d.view.dialog, PauseDialog), timeout=3000)
    dlg = d.view.dialog
    assert isinstance(dlg, PauseDialog)
    line = dlg.reason.lineEdit()
    assert line is not None
    type_text(line, reason)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_a_whole_day_by_keyboard(qtbot: QtBot, desk: Desk) -> None:
    d, view = desk, desk.view
    assert view.model.rowCount() == 10
    assert "Записано 5" in view.counters.text()

    select(qtbot, d, 0)
    key(qtbot, d, Qt.Key.Key_F3)  # arrived
    wait_status(qtbot, d, 0, S.ARRIVED)
    key(qtbot, d, Qt.Key.Key_F4)  # start
    wait_status(qtbot, d, 0, S.IN_PROGRESS)
    key(qtbot, d, Qt.Key.Key_F6)  # pause: the reason is required
    qtbot.waitUntil(lambda: isinstance(view.dialog, PauseDialog), timeout=3000)
    dlg = view.dialog
    assert isinstance(dlg, PauseDialog)
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)
    assert dlg.isVisible()
    assert "Причина" in dlg.reason_error.text()
    pause_with(qtbot, d, "Ожидание действия препарата")
    wait_status(qtbot, d, 0, S.PAUSED)
    assert view.paused.model.rowCount() == 1

    key(qtbot, d, Qt.Key.Key_Down)  # the next patient, called straight in
    key(qtbot, d, Qt.Key.Key_F4)
    wait_status(qtbot, d, 1, S.IN_PROGRESS)
    key(qtbot, d, Qt.Key.Key_F6)
    pause_with(qtbot, d, "ЭКГ")
    wait_status(qtbot, d, 1, S.PAUSED)
    assert view.paused.model.rowCount() == 2
    assert "отложено 2" in view.counters.text()

    # A walk-in: Shift+Ins, find her, ↓ ↵ picks, ↵ puts her in the queue.
    key(qtbot, d, Qt.Key.Key_Insert, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(view.dialog, PatientPickDialog), timeout=3000)
    pick = view.dialog
    assert isinstance(pick, PatientPickDialog)
    type_text(pick.picker.search, "егорова")
    qtbot.keyClick(pick.picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pick.picker.picked is not None, timeout=5000)
    type_text(pick.note, "Температура 38,5")
    qtbot.keyClick(pick.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.walk_ins.model.rowCount() == 1, timeout=5000)
    # Taking her (F4 in the queue) starts her visit: nobody is in progress now.
    view.walk_ins.table.setFocus()
    view.walk_ins.table.selectRow(0)
    qtbot.keyClick(view.walk_ins.table, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: view.walk_ins.model.rowCount() == 0, timeout=5000)
    qtbot.waitUntil(
        lambda: any(r.surname == "Егорова" and r.status == S.IN_PROGRESS for r in view.model.rows),
        timeout=5000,
    )

    # F7 resumes the paused visit due first; the walk-in in progress is finished on the way.
    key(qtbot, d, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: isinstance(view.dialog, CurrentVisitBox), timeout=3000)
    box = view.dialog
    assert isinstance(box, CurrentVisitBox)
    assert "Егорова" in box.text()
    qtbot.mouseClick(box.finish_button, Qt.MouseButton.LeftButton)
    wait_status(qtbot, d, 0, S.IN_PROGRESS)  # both remind in 15 min: the earlier pause first
    assert any(r.surname == "Егорова" and r.status == S.FINISHED for r in view.model.rows)
    assert view.table.currentIndex().row() == view.model.row_of_appointment(d.appts[0])
    key(qtbot, d, Qt.Key.Key_F8)
    wait_status(qtbot, d, 0, S.FINISHED)
    row = view.model.row_at(view.model.row_of_appointment(d.appts[0]))
    assert row is not None
    assert row.pauses == 1

    select(qtbot, d, 2)  # booked 15 minutes ago, never came
    key(qtbot, d, Qt.Key.Key_F9)
    wait_status(qtbot, d, 2, S.NO_SHOW)

    # Closing the day with a paused visit left: a warning that names it; nothing closes.
    key(qtbot, d, Qt.Key.Key_F8, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(view.dialog, QMessageBox), timeout=3000)
    warning = view.dialog
    assert isinstance(warning, QMessageBox)
    text = warning.text()
    assert "нельзя закрыть" in text
    assert "Отложенные приёмы" in text
    assert "Борисова А. П. — отложен: ЭКГ" in text
    warning.accept()
    with d.sessions() as s:
        assert not schedule.day_is_closed(s, d.doctor.staff_id or 0, view.day)
    assert status_of(d, 1) == S.PAUSED
    assert d.errors.errors == []


def test_recheck_time_comes_banner_and_one_key_resumes(qtbot: QtBot, desk: Desk) -> None:
    d, view = desk, desk.view
    notified: list[str] = []
    view.sig_notify.connect(lambda _public, private: notified.append(private))
    select(qtbot, d, 0)
    key(qtbot, d, Qt.Key.Key_F4)
    wait_status(qtbot, d, 0, S.IN_PROGRESS)
    key(qtbot, d, Qt.Key.Key_F6)
    qtbot.waitUntil(lambda: isinstance(view.dialog, PauseDialog), timeout=3000)
    dlg = view.dialog
    assert isinstance(dlg, PauseDialog)
    dlg.minutes.setValue(10)
    pause_with(qtbot, d, "Ожидание действия препарата")
    wait_status(qtbot, d, 0, S.PAUSED)
    assert not view.banner.isVisible()
    d.clock[0] = now_utc() + dt.timedelta(minutes=11)  # ten minutes pass
    qtbot.waitUntil(lambda: view.banner.isVisible(), timeout=3000)
    assert "Абрамова А. П." in view.banner.text()
    assert len(notified) == 1
    qtbot.wait(1200)
    assert len(notified) == 1  # once per pause, not every second
    key(qtbot, d, Qt.Key.Key_Down)  # the selection is elsewhere: F7 still finds the due visit
    key(qtbot, d, Qt.Key.Key_F7)
    wait_status(qtbot, d, 0, S.IN_PROGRESS)
    qtbot.waitUntil(lambda: not view.banner.isVisible(), timeout=3000)


def test_another_workstation_changes_show_up_by_polling(qtbot: QtBot, desk: Desk) -> None:
    d = desk
    with d.sessions() as s:
        visits.move(s, d.registrar, d.appts[3], Move.ARRIVE)
    qtbot.waitUntil(lambda: status_of(d, 3) == S.ARRIVED, timeout=5000)


def test_booking_a_slot_just_taken_elsewhere_explains_and_refreshes(
    qtbot: QtBot, desk: Desk
) -> None:
    d, view = desk, desk.view
    free = view.model.row_of_slot(d.slots[7])
    view.table.setFocus()
    view.table.selectRow(free)
    key(qtbot, d, Qt.Key.Key_Insert)
    qtbot.waitUntil(lambda: isinstance(view.dialog, PatientPickDialog), timeout=3000)
    pick = view.dialog
    assert isinstance(pick, PatientPickDialog)
    type_text(pick.picker.search, "егорова")
    qtbot.keyClick(pick.picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pick.picker.picked is not None, timeout=5000)
    other = person(d.sessions, d.registrar, "Жукова", "Инна")
    with d.sessions() as s:  # the registry desk is quicker
        schedule.book(s, d.registrar, d.slots[7], other.id, VisitType.FIRST, BookingSource.REGISTRY)
    pick.buttons.button(pick.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: bool(d.errors.errors), timeout=5000)
    assert isinstance(d.errors.errors[0], ConflictError)
    assert "уже занято" in str(d.errors.errors[0])
    qtbot.waitUntil(lambda: view.model.rows[free].surname == "Жукова", timeout=5000)


def test_booking_a_free_slot_by_keyboard(qtbot: QtBot, desk: Desk) -> None:
    d, view = desk, desk.view
    row = view.model.row_of_slot(d.slots[8])
    view.table.setFocus()
    view.table.selectRow(row)
    key(qtbot, d, Qt.Key.Key_Return)  # Enter on a free slot books it
    qtbot.waitUntil(lambda: isinstance(view.dialog, PatientPickDialog), timeout=3000)
    pick = view.dialog
    assert isinstance(pick, PatientPickDialog)
    assert pick.visit_type.currentData() == VisitType.REPEAT  # the doctor's own: a repeat visit
    type_text(pick.picker.search, "егорова")
    qtbot.keyClick(pick.picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pick.picker.picked is not None, timeout=5000)
    qtbot.keyClick(pick.buttons.button(pick.buttons.StandardButton.Ok), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: view.model.rows[row].surname == "Егорова", timeout=5000)
    r = view.model.rows[row]
    assert (r.status, r.source, r.visit_type) == (S.BOOKED, BookingSource.DOCTOR, VisitType.REPEAT)
    QApplication.processEvents()


def test_paused_visits_stay_in_the_panel_while_looking_at_another_day(
    qtbot: QtBot, desk: Desk
) -> None:
    d, view = desk, desk.view
    select(qtbot, d, 0)
    key(qtbot, d, Qt.Key.Key_F4)
    wait_status(qtbot, d, 0, S.IN_PROGRESS)
    key(qtbot, d, Qt.Key.Key_F6)
    pause_with(qtbot, d, "ЭКГ")
    wait_status(qtbot, d, 0, S.PAUSED)
    today = view.day
    key(qtbot, d, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)  # to book a repeat visit
    qtbot.waitUntil(lambda: view.model.snapshot is not None and view.model.snapshot.day > today)
    qtbot.waitUntil(lambda: not view.model.loading)
    assert view.model.rowCount() == 0
    assert "Нет приёма" in view.counters.text()
    assert view.paused.model.rowCount() == 1
    key(qtbot, d, Qt.Key.Key_F7)  # resumes today's paused visit from tomorrow's page
    qtbot.waitUntil(lambda: view.paused.model.rowCount() == 0, timeout=5000)
    key(qtbot, d, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.model.snapshot is not None and view.model.snapshot.day == today)
    qtbot.waitUntil(lambda: status_of(d, 0) == S.IN_PROGRESS, timeout=5000)


@pytest.mark.pg
def test_pause_over_a_pulled_cable_offers_retry_and_keeps_the_reason(
    qtbot: QtBot, fresh_pg_url: str
) -> None:
    """The server goes away between the doctor typing the reason and it being stored: a
    clear «нет связи», nothing changed, and «Повторить» stores the very same pause."""
    from sqlalchemy.engine import make_url

    from services.db import create_db_engine
    from services.errors import PeerUnavailable
    from tests.cable import Cable

    direct = create_db_engine(fresh_pg_url)
    sessions = make_session_factory(direct)
    doctor, dept = base_org(sessions)
    now = now_utc()
    start, minutes = _day_plan(now, 4)
    slot = open_day(sessions, doctor.staff_id or 0, start, 4, minutes)[0]
    p = person(sessions, doctor, "Кабелева", "Анна", dept_id=dept)
    with sessions() as s:
        appt = schedule.book(
            s,
            doctor,
            slot,
            p.id,
            VisitType.REPEAT,
            BookingSource.PORTAL,
            now=now - dt.timedelta(days=1),
        )
    url = make_url(fresh_pg_url)
    cable = Cable(url.host or "127.0.0.1", url.port or 5432)
    via = create_db_engine(url.set(host="127.0.0.1", port=cable.port))
    log = RetryLog()
    runner = TaskRunner(log)
    try:
        cabled = make_session_factory(via)
        view = ScheduleView(
            runner, ScheduleDesk(cabled, doctor), Registry(cabled, doctor).search, log,
            own_staff_id=doctor.staff_id or 0, can_treat=True, poll_ms=3_600_000,
        )  # fmt: skip
        qtbot.addWidget(view)
        view.show()
        view.activateWindow()
        qtbot.waitUntil(view.isActiveWindow, timeout=3000)
        qtbot.waitUntil(lambda: view.model.snapshot is not None and not view.model.loading)
        view.table.setFocus()
        view.table.selectRow(view.model.row_of_appointment(appt))
        qtbot.keyClick(view.table, Qt.Key.Key_F4)
        qtbot.waitUntil(lambda: view.model.rows[0].status == S.IN_PROGRESS, timeout=5000)
        qtbot.keyClick(view.table, Qt.Key.Key_F6)
        qtbot.waitUntil(lambda: isinstance(view.dialog, PauseDialog), timeout=3000)
        dlg = view.dialog
        assert isinstance(dlg, PauseDialog)
        line = dlg.reason.lineEdit()
        assert line is not None
        type_text(line, "Направлен на рентген")
        cable.cut()
        qtbot.keyClick(line, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(log.calls), timeout=20_000)
        exc, retry = log.calls[0]
        assert isinstance(exc, PeerUnavailable)
        assert "нет связи" in str(exc)
        assert view.model.rows[0].status == S.IN_PROGRESS  # nothing half-done on screen
        with sessions() as s:
            row = schedule.rows_for_appointments(s, [appt])[0]
        assert row.status == S.IN_PROGRESS  # nor in the database
        cable.plug()
        assert callable(retry)
        retry()  # «Повторить»: the same pause, the same reason, not typed again
        qtbot.waitUntil(lambda: view.model.rows[0].status == S.PAUSED, timeout=10_000)
        assert view.model.rows[0].pause_reason == "Направлен на рентген"
    finally:
        runner.shutdown(wait=True)
        cable.cut()
        via.dispose()
        direct.dispose()
