"""Prescriptions driven the way a doctor drives them, over a real database and task runner: from
the open protocol (its diagnosis carried over) write a 107-1/у with two drugs and a
148-1/у-04(л) in one go, picking each drug by the keyboard; get refused on a second drug on a
one-drug blank and on a quantity past what the signa uses, with each rule under its field and
nothing typed lost; print to a PDF printer (archived, read back with pdftotext), reprint as a
duplicate; print a 148-1/у-88 draft that is not archived; cancel with a reason."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QInputDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.tasks import TaskRunner
from services import prescriptions
from services.audit import Actor
from services.db import make_session_factory
from services.emk_desk import EmkDesk
from services.local_drafts import LocalDrafts
from services.mkb10 import catalog
from services.models import PrescriptionForm as F
from services.models import Printout
from services.patients import PatientCard
from services.prescription_desk import PrescriptionDesk
from services.prescriptions import ItemInput, PrescriptionInput, PrescriptionStatus
from tests.factories import base_org, person
from tests.widgets.conftest import ErrorLog
from tests.widgets.keys import type_text
from widgets.emk.view import EmkView
from widgets.prescriptions.dialog import PrescriptionDialog
from widgets.prescriptions.list_view import DRAFT, PrescriptionList
from widgets.print_flow import PrintFlow


@dataclass
class Rx:
    view: EmkView
    sessions: sessionmaker[Session]
    doctor: Actor
    a: PatientCard
    errors: ErrorLog
    flow: PrintFlow
    runner: TaskRunner


@pytest.fixture
def world(qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Rx]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    a = person(sessions, doctor, "Абрамова", "Анна", "Петровна", dept_id=dept,
               birth=dt.date(1950, 3, 12))  # fmt: skip
    errors = ErrorLog()
    runner = TaskRunner(errors)
    cat = catalog()
    desk = PrescriptionDesk(sessions, doctor)
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
        prescription_desk=desk,
    )
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.activateWindow()
    yield Rx(view, sessions, doctor, a, errors, flow, runner)
    runner.shutdown(wait=True)


def _idle(qtbot: QtBot, w: Rx) -> None:
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=5000)
    QApplication.processEvents()


def _open(qtbot: QtBot, w: Rx) -> PrescriptionList:
    w.view.open_patient(w.a.id)
    qtbot.waitUntil(lambda: w.view.patient_id == w.a.id, timeout=5000)
    _idle(qtbot, w)
    assert w.view.prescriptions is not None
    return w.view.prescriptions


def _dialog(qtbot: QtBot, rl: PrescriptionList) -> PrescriptionDialog:
    qtbot.waitUntil(  # active: its shortcuts work then
        lambda: isinstance(rl.dialog, PrescriptionDialog) and rl.dialog.isActiveWindow(),
        timeout=5000,
    )
    assert isinstance(rl.dialog, PrescriptionDialog)
    return rl.dialog


def _choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Pick a combo item with the arrow keys, as a keyboard user does."""
    combo.setFocus()
    for _ in range(combo.count()):
        if text.lower() in combo.currentText().lower():
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no «{text}» in {[combo.itemText(i) for i in range(combo.count())]}")


def _drug(qtbot: QtBot, dlg: PrescriptionDialog, query: str, mnn: str) -> None:
    """Type the start of the МНН, ↓ into the list, ↵ picks."""
    picker = dlg.editor.picker
    picker.edit.setFocus()
    type_text(picker.edit, query)
    qtbot.waitUntil(lambda: picker.popup.isVisible(), timeout=2000)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker.drug() is not None, timeout=2000)
    drug = picker.drug()
    assert drug is not None
    assert drug.mnn == mnn


def _type_number(qtbot: QtBot, spin: QAbstractSpinBox, value: str) -> None:
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(spin, value)


def _pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_a_107_with_two_drugs_and_a_preferential_one_at_once(qtbot: QtBot, world: Rx) -> None:
    w = world
    _open(qtbot, w)
    v = w.view
    ed = v.editor
    assert ed is not None
    qtbot.keyClick(v, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    type_text(ed.sections["complaints"], "Головная боль")
    picker = ed.rows[0].picker
    picker.edit.setFocus()
    type_text(picker.edit, "I10")
    qtbot.waitUntil(lambda: picker.popup.isVisible(), timeout=2000)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker.code() == "I10", timeout=2000)
    # Ctrl+M from inside the protocol: the dialog comes with the protocol's diagnosis.
    qtbot.keyClick(ed.sections["complaints"], Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    rl = v.prescriptions
    assert rl is not None
    dlg = _dialog(qtbot, rl)
    assert dlg.windowTitle().startswith("Рецепты — Абрамова Анна Петровна")
    assert dlg.mkb.code() == "I10"
    assert dlg.form.currentData() == F.F107
    qtbot.waitUntil(dlg.editor.picker.edit.hasFocus, timeout=2000)  # ready for the first drug
    # Drug 1: amlodipine for 30 days — the signa and the quantity follow the numbers.
    _drug(qtbot, dlg, "амло", "Амлодипин")
    _type_number(qtbot, dlg.editor.days, "30")
    assert dlg.editor.signa.text() == "S. Внутрь по 1 таблетке 1 раз в день, в течение 30 дней."
    assert dlg.editor.quantity.value() == 30
    # Drug 2 on the same blank: metformin 1000 mg twice a day.
    qtbot.keyClick(dlg, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert dlg.items.count() == 2
    _drug(qtbot, dlg, "метф", "Метформин")
    _choose(qtbot, dlg.editor.strength, "1000")
    _type_number(qtbot, dlg.editor.times, "2")
    _type_number(qtbot, dlg.editor.days, "30")
    dlg.editor.note.setFocus()
    type_text(dlg.editor.note, "во время еды")
    assert dlg.editor.signa.text() == (
        "S. Внутрь по 1 таблетке 2 раза в день, во время еды, в течение 30 дней."
    )
    assert dlg.editor.quantity.value() == 60
    assert "Амлодипин" in dlg.batch.item(0).text()
    assert "Метформин" in dlg.batch.item(0).text()
    # A second blank in the same batch: the preferential 148-1/у-04(л).
    qtbot.keyClick(dlg, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert dlg.batch.count() == 2
    assert dlg.mkb.code() == "I10"  # the protocol's diagnosis again
    _choose(qtbot, dlg.form, "148-1/у-04")
    assert dlg.benefit_row.isVisible()
    assert not dlg.blank_row.isVisible()
    _choose(qtbot, dlg.validity, "90")
    dlg.category.setFocus()
    type_text(dlg.category, "81")
    _drug(qtbot, dlg, "амло", "Амлодипин")
    _choose(qtbot, dlg.editor.strength, "10")
    _type_number(qtbot, dlg.editor.days, "90")
    with qtbot.waitSignal(dlg.finished, timeout=5000):  # signed and closed
        qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: rl.model.rowCount() == 2, timeout=5000)
    rows = {r.form: r for r in rl.model.rows}
    f107, f148 = rows[F.F107], rows[F.F148_04L]
    assert [(i.mnn, i.strength, i.quantity) for i in f107.items] == [
        ("Амлодипин", "5 мг", 30),
        ("Метформин", "1000 мг", 60),
    ]
    assert f107.mkb_code == "I10"
    assert f107.status == PrescriptionStatus.VALID
    assert f107.valid_until == f107.issued_on + dt.timedelta(days=60)
    assert [(i.mnn, i.quantity) for i in f148.items] == [("Амлодипин", 90)]
    assert (f148.series, f148.number) == ("45", "000001")
    assert f148.valid_until == f148.issued_on + dt.timedelta(days=90)
    assert w.errors.errors == []
    qtbot.waitUntil(
        lambda: any("Рецепты (2)" in v.sections.item(i).text() for i in range(v.sections.count())),
        timeout=5000,
    )


def test_refusal_puts_each_rule_under_its_field_and_keeps_the_input(
    qtbot: QtBot, world: Rx
) -> None:
    w = world
    rl = _open(qtbot, w)
    qtbot.keyClick(w.view, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert rl.table.hasFocus()
    qtbot.keyClick(rl.table, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dlg = _dialog(qtbot, rl)
    _choose(qtbot, dlg.form, "148-1/у-04")
    dlg.mkb.edit.setFocus()
    type_text(dlg.mkb.edit, "E11.9")
    qtbot.waitUntil(lambda: dlg.mkb.popup.isVisible(), timeout=2000)
    qtbot.keyClick(dlg.mkb.edit, Qt.Key.Key_Down)
    qtbot.keyClick(dlg.mkb.edit, Qt.Key.Key_Return)
    dlg.category.setFocus()
    type_text(dlg.category, "81")
    _drug(qtbot, dlg, "метф", "Метформин")
    _type_number(qtbot, dlg.editor.days, "30")  # 30 tablets by the signa…
    _type_number(qtbot, dlg.editor.quantity, "500")  # …and 500 asked for
    qtbot.keyClick(dlg, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # a second drug
    _drug(qtbot, dlg, "амло", "Амлодипин")
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    items_rule = dlg.errors.label("items")
    quantity_rule = dlg.errors.label("quantity")
    assert items_rule is not None
    assert quantity_rule is not None
    qtbot.waitUntil(lambda: items_rule.isVisible(), timeout=5000)
    assert "на бланке 148-1/у-04(л) — один препарат" in items_rule.text()
    # The dialog went to the drug with the broken rule: its quantity, as typed, and the rule.
    assert dlg.isVisible()
    assert dlg.items.currentRow() == 0
    assert dlg.editor.quantity.value() == 500
    assert quantity_rule.isVisible()
    assert "Количество: больше, чем нужно на курс по сигнатуре: 30 таблеток" in quantity_rule.text()
    assert "c62828" in dlg.editor.quantity.styleSheet()
    assert dlg.items.hasFocus()  # the first broken rule in the form's order: Del is at hand
    assert dlg.items.count() == 2
    assert dlg.category.text() == "81"
    assert dlg.mkb.code() == "E11.9"
    with w.sessions() as s:
        assert prescriptions.patient_prescriptions(s, w.a.id) == []
    # Fix both: the second drug goes (Del in the list), the quantity follows the signa again.
    qtbot.keyClick(dlg.items, Qt.Key.Key_Down)
    assert dlg.editor.picker.drug() is not None
    assert dlg.editor.picker.edit.text().startswith("Амлодипин")
    qtbot.keyClick(dlg.items, Qt.Key.Key_Delete)
    assert dlg.items.count() == 1
    _type_number(qtbot, dlg.editor.quantity, "30")
    with qtbot.waitSignal(dlg.finished, timeout=5000):
        qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: rl.model.rowCount() == 1, timeout=5000)
    r = rl.model.rows[0]
    assert (r.form, r.mkb_code, r.items[0].quantity) == (F.F148_04L, "E11.9", 30)
    assert w.errors.errors == []


def _issue(w: Rx, inp: PrescriptionInput) -> int:
    with w.sessions() as s:
        (rid,) = prescriptions.issue(s, w.doctor, w.a.id, [inp])
        return rid


def _pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_print_archive_reprint_draft_and_cancel(qtbot: QtBot, world: Rx, tmp_path: Path) -> None:
    w = world
    rid = _issue(w, PrescriptionInput(
        F.F107, [ItemInput("amlodipine", "tab", "5 мг", 30, 1, 1, 30)], mkb_code="I10"
    ))  # fmt: skip
    rl = _open(qtbot, w)
    qtbot.keyClick(w.view, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: rl.model.rowCount() == 1, timeout=5000)
    # Ctrl+P: the preview; printing archives the original.
    qtbot.keyClick(rl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.flow.dialog is not None and w.flow.dialog.isVisible(), timeout=10000)
    first = w.flow.dialog
    assert first is not None
    assert "ДУБЛИКАТ" not in first.windowTitle()
    assert "Рецепт 107-1/у от " in first.windowTitle()
    out = tmp_path / "printed.pdf"
    first.print_to(_pdf_printer(out))
    qtbot.waitUntil(lambda: len(w.flow.archived) == 1, timeout=5000)
    assert out.stat().st_size > 1000
    first.close()
    qtbot.waitUntil(rl.table.hasFocus, timeout=2000)  # the keyboard is back in the list
    # A reprint is a duplicate, on screen and on paper.
    qtbot.keyClick(rl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.flow.dialog is not first and w.flow.dialog is not None, timeout=10000)
    second = w.flow.dialog
    assert second is not None
    assert "ДУБЛИКАТ" in second.windowTitle()
    second.print_to(_pdf_printer(tmp_path / "again.pdf"))
    qtbot.waitUntil(lambda: len(w.flow.archived) == 2, timeout=5000)
    second.close()
    qtbot.waitUntil(rl.table.hasFocus, timeout=2000)
    with w.sessions() as s:
        prints = s.scalars(select(Printout).order_by(Printout.copy_no)).all()
        assert [(p.copy_no, p.form, p.object_id) for p in prints] == [
            (1, "107-1/у", rid),
            (2, "107-1/у", rid),
        ]
    original, duplicate = _pdf_text(prints[0].pdf), _pdf_text(prints[1].pdf)
    for text in (original, duplicate):
        assert "Абрамова А. П." in text
        assert "Amlodipini (Амлодипин)" in text
        assert "Внутрь по 1 таблетке 1 раз в день, в течение 30 дней." in text
    assert "ДУБЛИКАТ" not in original.upper()
    assert "ДУБЛИКАТ" in duplicate.upper()
    # Cancel: Del asks for the reason.
    qtbot.keyClick(rl.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(
        lambda: isinstance(rl.dialog, QInputDialog) and rl.dialog.isVisible(), timeout=5000
    )
    ask = rl.dialog
    assert isinstance(ask, QInputDialog)
    ask.setTextValue("Ошибка в дозировке")
    ask.accept()
    qtbot.waitUntil(lambda: rl.model.rows[0].status == PrescriptionStatus.CANCELLED, timeout=5000)
    assert not rl.print_button.isEnabled()
    assert w.errors.errors == []


def test_148_88_draft_is_shown_not_archived(qtbot: QtBot, world: Rx) -> None:
    w = world
    _issue(w, PrescriptionInput(
        F.F148_88, [ItemInput("tramadol", "caps", "50 мг", 10, 1, 2, 5)],
        series="АБ", number="1234",
    ))  # fmt: skip
    rl = _open(qtbot, w)
    qtbot.keyClick(w.view, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: rl.model.rowCount() == 1, timeout=5000)
    qtbot.keyClick(rl.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: isinstance(rl.dialog, QInputDialog) and rl.dialog.isVisible(), timeout=5000
    )
    ask = rl.dialog
    assert isinstance(ask, QInputDialog)
    combo = ask.findChild(QComboBox)
    assert combo is not None
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the overlay is offered first; ↓ to the draft
    assert ask.textValue() == DRAFT
    with qtbot.waitSignal(ask.finished, timeout=5000):
        qtbot.keyClick(combo, Qt.Key.Key_Return)
    draft_flow = rl._draft_preview
    qtbot.waitUntil(lambda: draft_flow.dialog is not None and draft_flow.dialog.isVisible(),
                    timeout=10000)  # fmt: skip
    dlg = draft_flow.dialog
    assert dlg is not None
    assert "черновик" in dlg.windowTitle()
    assert "ЧЕРНОВИК" in _pdf_text(dlg.pdf)
    assert w.flow.dialog is None  # the archiving flow never saw it
    dlg.close()
    with w.sessions() as s:
        assert s.scalars(select(Printout)).all() == []
