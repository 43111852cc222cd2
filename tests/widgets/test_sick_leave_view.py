"""Sick leave (ЭЛН) driven by the keyboard over a real database and task runner: open one for a
carer (refused without the employer, the rule under the field and everything kept), then the
life of one opened two weeks ago — extending it past 15 days is refused until the VK chair is
chosen, it closes with the return to work, and its patient's sheet is printed (archived, read
back with pdftotext) and reprinted as a duplicate."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QInputDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.tasks import TaskRunner
from services import sick_leave
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.db import make_session_factory
from services.emk_desk import EmkDesk
from services.local_drafts import LocalDrafts
from services.mkb10 import catalog
from services.models import Printout, SickLeave, Staff
from services.patients import PatientCard
from services.schedule_desk import ScheduleDesk
from services.sick_leave import PeriodInput, SickLeaveInput, SickLeaveStatus
from services.sick_leave_desk import SickLeaveDesk
from tests.factories import base_org, colleague, person
from tests.widgets.conftest import ErrorLog
from tests.widgets.keys import type_text
from widgets.emk.view import EmkView
from widgets.print_flow import PrintFlow
from widgets.sick_leave.actions import CloseDialog, ExtendDialog
from widgets.sick_leave.dialog import SickLeaveDialog
from widgets.sick_leave.list_view import SickLeaveList

St = SickLeaveStatus
T = TypeVar("T")


@dataclass
class Eln:
    view: EmkView
    sessions: sessionmaker[Session]
    doctor: Actor
    chair: Actor
    a: PatientCard
    errors: ErrorLog
    flow: PrintFlow
    runner: TaskRunner
    today: dt.date


@pytest.fixture
def world(qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Eln]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    chair = colleague(sessions, dept, "Павлова")
    with sessions() as s:
        st = s.get(Staff, chair.staff_id)
        assert st is not None
        st.position = "Заместитель главного врача по КЭР"
        s.commit()
    a = person(sessions, doctor, "Абрамова", "Анна", "Петровна", dept_id=dept)
    errors = ErrorLog()
    runner = TaskRunner(errors)
    cat = catalog()
    desk = SickLeaveDesk(sessions, doctor)
    flow = PrintFlow(runner, desk.archive, errors)
    view = EmkView(
        runner,
        EmkDesk(sessions, doctor),
        LocalDrafts(tmp_path / "drafts"),
        errors,
        cat.search,
        cat.lookup,
        can_write=True,
        preview=flow,
        sick_leave_desk=desk,
        vk_chairs=ScheduleDesk(sessions, doctor).doctors,
    )
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.activateWindow()
    yield Eln(view, sessions, doctor, chair, a, errors, flow, runner, local_day(now_utc()))
    runner.shutdown(wait=True)


def _open(qtbot: QtBot, w: Eln) -> SickLeaveList:
    w.view.open_patient(w.a.id)
    qtbot.waitUntil(lambda: w.view.patient_id == w.a.id, timeout=5000)
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=5000)
    QApplication.processEvents()
    sl = w.view.sick_leave
    assert sl is not None
    qtbot.keyClick(w.view, Qt.Key.Key_6, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(sl.table.hasFocus, timeout=2000)
    return sl


def _choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Pick a combo item with the arrow keys, as a keyboard user does."""
    combo.setFocus()
    for _ in range(combo.count()):
        if text.lower() in combo.currentText().lower():
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no «{text}» in {[combo.itemText(i) for i in range(combo.count())]}")


def _type_number(qtbot: QtBot, spin: QAbstractSpinBox, value: str) -> None:
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(spin, value)


def _dialog(qtbot: QtBot, sl: SickLeaveList, kind: type[T]) -> T:
    """The dialog the list opened, once it is the active window (its shortcuts work then)."""
    qtbot.waitUntil(
        lambda: isinstance(sl.dialog, kind) and sl.dialog.isActiveWindow(), timeout=5000
    )
    assert isinstance(sl.dialog, kind)
    return sl.dialog


def _pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_open_for_a_carer_refused_without_employer_then_opened(qtbot: QtBot, world: Eln) -> None:
    w = world
    sl = _open(qtbot, w)
    qtbot.keyClick(sl.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    dlg = _dialog(qtbot, sl, SickLeaveDialog)
    assert dlg.windowTitle().startswith("Открыть ЭЛН — Абрамова Анна Петровна")
    assert not dlg.cared_box.isVisible()
    _choose(qtbot, dlg.reason, "09 — уход")
    assert dlg.cared_box.isVisible()  # care: who is cared for
    carer = dlg.cared[0]
    _choose(qtbot, carer.relation, "38 — мать")
    carer.name.setFocus()
    type_text(carer.name, "Абрамов Илья Петрович")
    _type_number(qtbot, carer.years, "7")
    dlg.mkb.edit.setFocus()
    type_text(dlg.mkb.edit, "J06.9")
    qtbot.waitUntil(lambda: dlg.mkb.popup.isVisible(), timeout=2000)
    qtbot.keyClick(dlg.mkb.edit, Qt.Key.Key_Down)
    qtbot.keyClick(dlg.mkb.edit, Qt.Key.Key_Return)
    _type_number(qtbot, dlg.period.days, "7")
    assert not dlg.period.chair_row.isVisible()  # 7 days from today: the doctor alone
    # No employer: refused, the rule under the field, everything kept.
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    rule = dlg.errors.label("employer")
    assert rule is not None
    qtbot.waitUntil(rule.isVisible, timeout=5000)
    assert "Место работы: укажите работодателя" in rule.text()
    assert dlg.isVisible()
    assert dlg.employer.hasFocus()
    assert (dlg.mkb.code(), carer.name.text(), dlg.period.days.value()) == (
        "J06.9",
        "Абрамов Илья Петрович",
        7,
    )
    type_text(dlg.employer, "ООО «Ромашка»")
    with qtbot.waitSignal(dlg.finished, timeout=5000):
        qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sl.model.rowCount() == 1, timeout=5000)
    r = sl.model.rows[0]
    assert (r.status, r.reason_code, r.mkb_code, r.employer) == (
        St.OPEN,
        "09",
        "J06.9",
        "ООО «Ромашка»",
    )
    assert len(r.number) == 12
    assert r.number.isdigit()
    assert (r.periods[0].starts_on, r.periods[0].ends_on) == (w.today, w.today + dt.timedelta(6))
    with w.sessions() as s:
        row = s.scalars(select(SickLeave)).one()
        assert (row.carer1_relation, row.carer1_name, row.carer1_age_years) == (
            "38",
            "Абрамов Илья Петрович",
            7,
        )
    qtbot.waitUntil(sl.table.hasFocus, timeout=2000)  # back in the list
    assert f"ЭЛН № {r.number}" in sl.details.text()
    assert w.errors.errors == []


def _opened_two_weeks_ago(w: Eln) -> int:
    """An ЭЛН opened 15 days ago for 5 days (its days are in the past now)."""
    first = w.today - dt.timedelta(days=15)
    when = dt.datetime.combine(first, dt.time(10), clinic_tz())
    inp = SickLeaveInput(
        "01", "J06.9", PeriodInput(first, first + dt.timedelta(days=4)), employer="ООО «Ромашка»"
    )
    with w.sessions() as s:
        return sick_leave.open_sick_leave(s, w.doctor, w.a.id, inp, now=when)


def test_extend_past_15_days_needs_the_chair_close_and_print(
    qtbot: QtBot, world: Eln, tmp_path: Path
) -> None:
    w = world
    sid = _opened_two_weeks_ago(w)
    sl = _open(qtbot, w)
    qtbot.waitUntil(lambda: sl.model.rowCount() == 1, timeout=5000)
    # Ctrl+D: the next period starts the day after the last one; 11 days up to today.
    qtbot.keyClick(sl.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    ext = _dialog(qtbot, sl, ExtendDialog)
    assert ext.period.first_day() == w.today - dt.timedelta(days=10)
    assert ext.period.days.hasFocus()
    type_text(ext.period.days, "11")
    assert ext.period.last_day() == w.today
    assert "всего по случаю 16 дней" in ext.period.end_label.text()
    # Past 15 days: the rules call for the commission, and the picker is there.
    assert ext.period.chair_row.isVisible()
    assert "сверх 15 дней" in ext.period.chair_hint.text()
    qtbot.keyClick(ext, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    rule = ext.errors.label("chair")
    assert rule is not None
    qtbot.waitUntil(rule.isVisible, timeout=5000)
    assert "Председатель ВК: освобождение сверх 15 дней" in rule.text()
    assert ext.isVisible()
    assert ext.period.days.value() == 11  # kept
    with w.sessions() as s:
        assert len(sick_leave.get(s, sid).periods) == 1
    _choose(qtbot, ext.period.chair, "Павлова")
    with qtbot.waitSignal(ext.finished, timeout=5000):
        qtbot.keyClick(ext, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sl.model.rows[0].status == St.EXTENDED, timeout=5000)
    r = sl.model.rows[0]
    assert r.days == 16
    assert r.periods[1].chair == "Павлова М. И."
    assert "председатель ВК Павлова М. И." in sl.details.text()
    # Ctrl+K: closed with the return to work the next day.
    qtbot.waitUntil(sl.table.hasFocus, timeout=2000)
    qtbot.keyClick(sl.table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    close = _dialog(qtbot, sl, CloseDialog)
    tomorrow = w.today + dt.timedelta(days=1)
    assert close.to_work.text() == f"Приступить к работе с {tomorrow:%d.%m.%Y}"
    with qtbot.waitSignal(close.finished, timeout=5000):
        qtbot.keyClick(close, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sl.model.rows[0].status == St.CLOSED, timeout=5000)
    assert sl.model.rows[0].return_to_work_on == tomorrow
    assert not sl.extend_button.isEnabled()
    # Ctrl+P: the patient's sheet on A5 — printed, archived; a reprint is a duplicate.
    qtbot.waitUntil(sl.table.hasFocus, timeout=2000)
    for n in (1, 2):
        qtbot.keyClick(sl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        ask = _dialog(qtbot, sl, QInputDialog)
        combo = ask.findChild(QComboBox)
        assert combo is not None
        if n == 1:
            qtbot.keyClick(combo, Qt.Key.Key_Down)  # A4 is offered first; ↓ to A5
        assert ask.textValue() == "Информационный лист для пациента, A5"
        before = w.flow.dialog
        with qtbot.waitSignal(ask.finished, timeout=5000):
            qtbot.keyClick(combo, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda b=before: w.flow.dialog is not b and w.flow.dialog is not None,
                        timeout=10000)  # fmt: skip
        preview = w.flow.dialog
        assert preview is not None
        assert ("ДУБЛИКАТ" in preview.windowTitle()) == (n == 2)
        preview.print_to(_pdf_printer(tmp_path / f"sheet{n}.pdf"))
        qtbot.waitUntil(lambda n=n: len(w.flow.archived) == n, timeout=5000)
        preview.close()
        qtbot.waitUntil(sl.table.hasFocus, timeout=2000)
    with w.sessions() as s:
        prints = s.scalars(select(Printout).order_by(Printout.copy_no)).all()
        assert [(p.copy_no, p.object_type, p.object_id) for p in prints] == [
            (1, "sick_leave", sid),
            (2, "sick_leave", sid),
        ]
    original, duplicate = _pdf_text(prints[0].pdf), _pdf_text(prints[1].pdf)
    for text in (original, duplicate):
        assert r.number in text
        assert "Абрамова Анна Петровна" in text
        assert "ООО «Ромашка»" in text
        assert "Павлова Мария Ивановна" in text  # the chair of the second period
        assert f"{tomorrow:%d.%m.%Y}" in text  # back to work
    assert "ДУБЛИКАТ" not in original.upper()
    assert "ДУБЛИКАТ" in duplicate.upper()
    assert w.errors.errors == []


def test_347_blank_overlay_archived_and_its_draft_not(
    qtbot: QtBot, world: Eln, tmp_path: Path
) -> None:
    """The paper case: a certificate with a VK period fits the blank's narrow column (the
    chair's role goes there as «председатель ВК»), is archived; the draft is only shown."""
    w = world
    sid = _opened_two_weeks_ago(w)
    with w.sessions() as s:
        first = w.today - dt.timedelta(days=10)
        sick_leave.extend(s, w.doctor, sid, PeriodInput(first, w.today, None, w.chair.staff_id))
    sl = _open(qtbot, w)
    qtbot.waitUntil(lambda: sl.model.rowCount() == 1, timeout=5000)
    for paper, flow in (
        ("Бланк 347н — черновик на обычной бумаге", sl._draft_preview),
        ("Бланк 347н — заполнить бумажный бланк (наложение)", w.flow),
    ):
        qtbot.keyClick(sl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        ask = _dialog(qtbot, sl, QInputDialog)
        combo = ask.findChild(QComboBox)
        assert combo is not None
        if "черновик" in paper:
            _choose(qtbot, combo, paper)
        else:  # the draft chosen last time is offered again; the blank is one up
            qtbot.keyClick(combo, Qt.Key.Key_Up)
        assert ask.textValue() == paper
        with qtbot.waitSignal(ask.finished, timeout=5000):
            qtbot.keyClick(combo, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda f=flow: f.dialog is not None and f.dialog.isVisible(),
                        timeout=10000)  # fmt: skip
        preview = flow.dialog
        assert preview is not None
        text = _pdf_text(preview.pdf)
        assert "ПРЕДСЕДАТЕЛЬ ВК" in text
        assert "ПАВЛОВА МАРИЯ ИВАНОВНА" in text
        preview.print_to(_pdf_printer(tmp_path / "blank.pdf"))
        preview.close()
        qtbot.waitUntil(sl.table.hasFocus, timeout=2000)
    qtbot.waitUntil(lambda: len(w.flow.archived) == 1, timeout=5000)
    with w.sessions() as s:
        prints = s.scalars(select(Printout)).all()
        assert [(p.form, p.copy_no, p.object_type) for p in prints] == [("347н", 1, "sick_leave")]
    assert w.errors.errors == []
