"""Referrals driven the way a doctor drives them, over a real database and task runner: from the
open protocol (its diagnosis carried over) write two referrals at once, get refused with every
rule named and nothing lost, book one into the cardiologist's free time, print the 057/у (a
reprint is a duplicate, both archived), cancel with a reason — and never see one patient's
referrals under another's name."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QComboBox, QInputDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.tasks import TaskRunner
from services import referrals
from services.audit import Actor
from services.clock import clinic_tz
from services.db import make_session_factory
from services.emk_desk import EmkDesk
from services.local_drafts import LocalDrafts
from services.mkb10 import catalog
from services.models import Appointment, Printout, ReferralKind, Staff, VisitType
from services.patients import PatientCard
from services.referral_desk import ReferralDesk
from services.referrals import ReferralInput, ReferralStatus
from tests.factories import base_org, colleague, open_day, person
from tests.widgets.conftest import ErrorLog
from tests.widgets.keys import type_text
from widgets.emk.view import EmkView
from widgets.print_flow import PrintFlow
from widgets.referrals.dialog import ReferralDialog

St = ReferralStatus


@dataclass
class Ref:
    view: EmkView
    sessions: sessionmaker[Session]
    doctor: Actor
    cardio: Actor
    a: PatientCard
    b: PatientCard
    slots: list[int]
    errors: ErrorLog
    flow: PrintFlow
    runner: TaskRunner


@pytest.fixture
def world(qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Ref]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    cardio = colleague(sessions, dept, "Павлова")
    with sessions() as s:
        st = s.get(Staff, cardio.staff_id)
        assert st is not None
        st.specialty, st.position = "Кардиология", "Врач-кардиолог"
        s.commit()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(10), clinic_tz())
    slots = open_day(sessions, cardio.staff_id or 0, start, 6)
    a = person(sessions, doctor, "Абрамова", "Анна", "Петровна", dept_id=dept)
    b = person(sessions, doctor, "Борисов", "Борис", "Олегович", birth=dt.date(1960, 7, 1))
    errors = ErrorLog()
    runner = TaskRunner(errors)
    cat = catalog()
    desk = ReferralDesk(sessions, doctor)
    flow = PrintFlow(runner, desk.archive, errors)
    view = EmkView(
        runner,
        EmkDesk(sessions, doctor),
        LocalDrafts(tmp_path / "drafts"),
        errors,
        cat.search,
        cat.lookup,
        can_write=True,
        referral_desk=desk,
        preview=flow,
    )
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.activateWindow()
    yield Ref(view, sessions, doctor, cardio, a, b, slots, errors, flow, runner)
    runner.shutdown(wait=True)


def _idle(qtbot: QtBot, w: Ref) -> None:
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=5000)
    QApplication.processEvents()


def _open(qtbot: QtBot, w: Ref, pid: int) -> None:
    w.view.open_patient(pid)
    qtbot.waitUntil(lambda: w.view.patient_id == pid, timeout=5000)
    _idle(qtbot, w)


def _dialog(qtbot: QtBot, w: Ref) -> ReferralDialog:
    rl = w.view.referrals
    assert rl is not None
    qtbot.waitUntil(
        lambda: isinstance(rl.dialog, ReferralDialog) and rl.dialog.isVisible(), timeout=5000
    )
    assert isinstance(rl.dialog, ReferralDialog)
    return rl.dialog


def _choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Pick a combo item with the arrow keys, as a keyboard user does."""
    combo.setFocus()
    for _ in range(combo.count()):
        if text.lower() in combo.currentText().lower():
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no «{text}» in {[combo.itemText(i) for i in range(combo.count())]}")


def _issue_one(w: Ref, pid: int, inp: ReferralInput) -> int:
    with w.sessions() as s:
        (rid,) = referrals.issue(s, w.doctor, pid, [inp])
        return rid


CARDIO = ReferralInput(ReferralKind.CONSULTATION, "I10", "АД 170/100 на терапии", "Кардиология")


def test_two_referrals_from_the_protocol_with_its_diagnosis(qtbot: QtBot, world: Ref) -> None:
    w = world
    _open(qtbot, w, w.a.id)
    v = w.view
    ed = v.editor
    assert ed is not None
    assert v.referrals is not None
    qtbot.keyClick(v, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    type_text(ed.sections["complaints"], "Головная боль")
    picker = ed.rows[0].picker
    picker.edit.setFocus()
    type_text(picker.edit, "I10")
    qtbot.waitUntil(lambda: picker.popup.isVisible(), timeout=2000)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker.code() == "I10", timeout=2000)
    # Ctrl+R from inside the protocol: the dialog comes with the protocol's diagnosis.
    qtbot.keyClick(ed.sections["complaints"], Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dlg = _dialog(qtbot, w)
    assert dlg.mkb.code() == "I10"
    assert dlg.windowTitle().startswith("Направления — Абрамова Анна Петровна")
    _choose(qtbot, dlg.target, "Кард")
    dlg.justification.setFocus()
    type_text(dlg.justification, "АД 170 на 100 на фоне терапии")
    # A second one in the same batch: an imaging study.
    qtbot.keyClick(dlg, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert dlg.batch.count() == 2
    assert dlg.mkb.code() == "I10"  # the protocol's diagnosis again
    _choose(qtbot, dlg.kind, "Луч")
    _choose(qtbot, dlg.target, "A06.09.007")
    dlg.justification.setFocus()
    type_text(dlg.justification, "Кашель две недели")
    dlg.cito.setChecked(True)
    assert dlg.care[0].currentData() == 2  # CITO: «неотложная»
    assert "Рентгенография легких" in dlg.batch.item(1).text()
    with qtbot.waitSignal(dlg.finished, timeout=5000):  # signed and closed
        qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    rl = v.referrals
    qtbot.waitUntil(lambda: rl.model.rowCount() == 2, timeout=5000)
    rows = rl.model.rows
    assert {r.purpose for r in rows} == {"консультация: кардиология", "Рентгенография легких"}
    assert all(r.status == St.ISSUED and r.mkb_code == "I10" for r in rows)
    assert next(r for r in rows if r.kind == ReferralKind.IMAGING).cito
    assert w.errors.errors == []
    # The EMK's timeline counts them among the documents.
    qtbot.waitUntil(
        lambda: any(
            "Направления (2)" in v.sections.item(i).text() for i in range(v.sections.count())
        ),
        timeout=5000,
    )


def test_refusal_names_every_rule_and_keeps_what_was_typed(qtbot: QtBot, world: Ref) -> None:
    w = world
    _open(qtbot, w, w.a.id)
    v = w.view
    qtbot.keyClick(v, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    dlg = _dialog(qtbot, w)
    dlg.justification.setFocus()
    type_text(dlg.justification, "Боль в груди при нагрузке")
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(dlg.errors.text()), timeout=5000)
    text = dlg.errors.text()
    assert "Диагноз по МКБ-10: укажите код" in text
    assert "Специальность: выберите, к какому специалисту" in text
    assert dlg.isVisible()
    assert dlg.justification.toPlainText() == "Боль в груди при нагрузке"
    assert "c62828" in dlg.mkb.edit.styleSheet()
    assert "c62828" in dlg.target.styleSheet()
    # Fix both and sign: stored.
    dlg.mkb.edit.setFocus()
    type_text(dlg.mkb.edit, "I20.8")
    qtbot.waitUntil(lambda: dlg.mkb.popup.isVisible(), timeout=2000)
    qtbot.keyClick(dlg.mkb.edit, Qt.Key.Key_Down)
    qtbot.keyClick(dlg.mkb.edit, Qt.Key.Key_Return)
    _choose(qtbot, dlg.target, "Кард")
    with qtbot.waitSignal(dlg.finished, timeout=5000):  # signed and closed
        qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert v.referrals is not None
    qtbot.waitUntil(lambda: v.referrals.model.rowCount() == 1, timeout=5000)
    assert v.referrals.model.rows[0].mkb_code == "I20.8"


def test_book_print_reprint_and_cancel(qtbot: QtBot, world: Ref, tmp_path: Path) -> None:
    w = world
    rid = _issue_one(w, w.a.id, CARDIO)
    _open(qtbot, w, w.a.id)
    v = w.view
    rl = v.referrals
    assert rl is not None
    qtbot.keyClick(v, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: rl.model.rowCount() == 1, timeout=5000)
    assert rl.table.hasFocus()
    # Book: Ctrl+B lists the cardiologist's free time, Enter books the first.
    qtbot.keyClick(rl.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: rl.dialog is not None and rl.dialog.isVisible(), timeout=5000)
    book = rl.dialog
    qtbot.waitUntil(lambda: book.model.rowCount() == 6, timeout=5000)  # type: ignore[union-attr]
    qtbot.keyClick(book.table, Qt.Key.Key_Return)  # type: ignore[union-attr]
    qtbot.waitUntil(
        lambda: rl.model.rowCount() == 1 and rl.model.rows[0].status == St.BOOKED, timeout=5000
    )
    assert "записан" in rl.model.data(rl.model.index(0, 5))
    with w.sessions() as s:
        appt = s.scalars(select(Appointment).where(Appointment.referral_id == rid)).one()
        assert appt.slot_id == w.slots[0]
        assert appt.visit_type == VisitType.REFERRAL
    # Print: the preview opens; printing archives the original, a second print is a duplicate.
    qtbot.keyClick(rl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.flow.dialog is not None and w.flow.dialog.isVisible(), timeout=10000)
    first = w.flow.dialog
    assert first is not None
    assert "ДУБЛИКАТ" not in first.windowTitle()
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    first.print_to(printer)
    qtbot.waitUntil(lambda: len(w.flow.archived) == 1, timeout=5000)
    assert out.stat().st_size > 1000
    first.close()
    qtbot.waitUntil(rl.table.hasFocus, timeout=2000)  # the keyboard is back in the list
    qtbot.keyClick(rl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.flow.dialog is not first and w.flow.dialog is not None, timeout=10000)
    second = w.flow.dialog
    assert second is not None
    assert "ДУБЛИКАТ" in second.windowTitle()
    second.print_to(printer)
    qtbot.waitUntil(lambda: len(w.flow.archived) == 2, timeout=5000)
    second.close()
    qtbot.waitUntil(rl.table.hasFocus, timeout=2000)
    with w.sessions() as s:
        prints = s.scalars(select(Printout).order_by(Printout.copy_no)).all()
        assert [p.copy_no for p in prints] == [1, 2]
        assert all(p.object_id == rid and p.form == "057/у" for p in prints)
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=prints[1].pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "ДУБЛИКАТ" in text.upper()
    assert "Абрамова Анна Петровна" in text
    # Cancel: Del asks for the reason; the booking goes with it.
    qtbot.keyClick(rl.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(
        lambda: isinstance(rl.dialog, QInputDialog) and rl.dialog.isVisible(), timeout=5000
    )
    ask = rl.dialog
    assert isinstance(ask, QInputDialog)
    assert "время освободится" in ask.labelText()
    ask.setTextValue("Пациент госпитализирован")
    ask.accept()
    qtbot.waitUntil(lambda: rl.model.rows[0].status == St.CANCELLED, timeout=5000)
    with w.sessions() as s:
        appt = s.scalars(select(Appointment).where(Appointment.referral_id == rid)).one()
        assert appt.status == "cancelled"
    assert w.errors.errors == []


def test_another_patients_referrals_never_show(qtbot: QtBot, world: Ref) -> None:
    w = world
    _issue_one(w, w.a.id, CARDIO)
    _open(qtbot, w, w.a.id)
    rl = w.view.referrals
    assert rl is not None
    qtbot.waitUntil(lambda: rl.model.rowCount() == 1, timeout=5000)
    painted: list[set[int]] = []
    rl.model.modelReset.connect(lambda: painted.append({r.patient_id for r in rl.model.rows}))
    # A's list is asked for again, and B opened before the answer arrives.
    rl.reload()
    w.view.open_patient(w.b.id)
    qtbot.waitUntil(lambda: w.view.patient_id == w.b.id, timeout=5000)
    _idle(qtbot, w)
    assert rl.model.rowCount() == 0
    assert all(ids <= {w.b.id} for ids in painted[1:]), painted
