"""The EMK screen driven the way a doctor drives it, over a real database and task runner:
open a rich record, filter it, read a document and a lab trend, write and sign a protocol
with two diagnoses picked from МКБ-10, amend it — and never see one patient's data under
another's name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from arm.tasks import TaskRunner
from services import emk
from services.audit import Actor
from services.db import make_session_factory
from services.emk import NewDiagnosis, NewLab
from services.emk_desk import EmkDesk
from services.local_drafts import LocalDrafts
from services.mkb10 import catalog
from services.models import (
    AuditEvent,
    DiagnosisCharacter,
    DiagnosisRole,
    DocKind,
    EmkDocument,
    Role,
)
from services.patients import PatientCard, age_on
from tests.factories import base_org, colleague, person
from tests.widgets.conftest import ErrorLog
from tests.widgets.keys import type_text
from widgets.emk.view import EmkView

BASE = dt.datetime(2021, 1, 15, 9, 0, tzinfo=dt.UTC)
MAIN = DiagnosisRole.MAIN


@dataclass
class Emk:
    view: EmkView
    sessions: sessionmaker[Session]
    doctor: Actor
    a: PatientCard
    b: PatientCard
    errors: ErrorLog
    drafts: Path
    runner: TaskRunner


def _rich_history(sessions: sessionmaker[Session], patient_id: int, n: int = 120) -> None:
    with sessions() as s:
        for i in range(n):
            at = BASE + dt.timedelta(days=12 * i)
            if i % 3 == 0:
                emk.add_document(
                    s,
                    patient_id=patient_id,
                    kind=DocKind.LAB,
                    occurred_at=at,
                    title="Биохимический анализ крови",
                    organisation="КДЛ",
                    labs=[
                        NewLab("GLU", "Глюкоза", 4.5 + (i % 9) * 0.4, "ммоль/л", 3.9, 5.6),
                        NewLab("CHOL", "Холестерин", 4.0 + i % 4 * 0.5, "ммоль/л", None, 5.2),
                    ],
                )
            elif i % 3 == 1:
                emk.add_document(
                    s,
                    patient_id=patient_id,
                    kind=DocKind.PROTOCOL,
                    occurred_at=at,
                    title="Протокол осмотра: врач-терапевт участковый",
                    specialty="Терапия",
                    summary="I10 Эссенциальная гипертензия",
                    sections=[
                        ("Жалобы", f"Головная боль, визит {i}"),
                        ("Объективный статус", "АД 150/90 мм рт. ст."),
                    ],
                    diagnoses=[NewDiagnosis(MAIN, "I10", DiagnosisCharacter.CHRONIC_KNOWN)],
                    author_name="Петрова А. С., врач-терапевт участковый",
                )
            else:
                emk.add_document(
                    s,
                    patient_id=patient_id,
                    kind=DocKind.IMAGING,
                    occurred_at=at,
                    title="Флюорография органов грудной клетки",
                    specialty="Рентгенология",
                    sections=[
                        ("Заключение", "Без патологии" if i != 8 else "Очаговая тень справа")
                    ],
                )
        s.commit()


@pytest.fixture
def world(qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path) -> Iterator[Emk]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    a = person(sessions, doctor, "Абрамова", "Анна", "Петровна", dept_id=dept)
    b = person(sessions, doctor, "Борисов", "Борис", "Олегович", birth=dt.date(1960, 7, 1))
    _rich_history(sessions, a.id)
    with sessions() as s:
        emk.add_document(
            s,
            patient_id=b.id,
            kind=DocKind.IMAGING,
            occurred_at=BASE,
            title="МРТ головного мозга (Борисов)",
            specialty="Рентгенология",
        )
        s.commit()
    errors = ErrorLog()
    runner = TaskRunner(errors)
    cat = catalog()
    view = EmkView(
        runner,
        EmkDesk(sessions, doctor),
        LocalDrafts(tmp_path / "drafts"),
        errors,
        cat.search,
        cat.lookup,
        can_write=True,
    )
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.activateWindow()
    yield Emk(view, sessions, doctor, a, b, errors, tmp_path / "drafts", runner)
    runner.shutdown(wait=True)


def _open(qtbot: QtBot, w: Emk, pid: int) -> None:
    w.view.open_patient(pid)
    qtbot.waitUntil(lambda: w.view.patient_id == pid and w.view.model.rowCount() > 0, timeout=5000)


def _idle(qtbot: QtBot, w: Emk) -> None:
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=5000)
    QApplication.processEvents()


def test_open_rich_record_filter_and_read(qtbot: QtBot, world: Emk) -> None:
    w = world
    _open(qtbot, w, w.a.id)
    v = w.view
    age = emk.years_text(age_on(w.a.birth_date, dt.date.today()))
    assert v.header.name_label.text() == f"Абрамова Анна Петровна, 12.03.1985 ({age})"
    assert v.model.rowCount() == 120
    assert v.sections.item(0).text() == "Все документы (120)"
    # The sections list, by keyboard: Down to «Протоколы осмотров».
    v.sections.setFocus()
    qtbot.keyClick(v.sections, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: v.model.rowCount() == 40, timeout=3000)
    assert {r.kind for r in v.model.rows} == {DocKind.PROTOCOL}
    # Free text: Ctrl+F, type, the filter narrows after a short pause.
    qtbot.keyClick(v, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert v.text.hasFocus()
    type_text(v.text, "визит 4")  # every word, anywhere: визит 4, 34, 40, 43 …
    expected = len([i for i in range(120) if i % 3 == 1 and "4" in str(i)])
    qtbot.waitUntil(lambda: v.model.rowCount() == expected, timeout=3000)
    assert all(r.kind == DocKind.PROTOCOL for r in v.model.rows)
    assert v.count_label.text().startswith("Найдено:")
    # Reset, then imaging by text, then read the one document.
    qtbot.mouseClick(v.reset, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: v.model.rowCount() == 120, timeout=3000)
    v.text.setText("очаговая")
    qtbot.waitUntil(lambda: v.model.rowCount() == 1, timeout=3000)
    v.table.setFocus()
    v.table.selectRow(0)
    qtbot.waitUntil(lambda: v.pane.document is not None, timeout=3000)
    html = v.pane.browser.toPlainText()
    assert "Пациент: Абрамова Анна Петровна, 12.03.1985" in html
    assert "Очаговая тень справа" in html
    with w.sessions() as s:
        views = s.scalar(
            select(func.count()).where(
                AuditEvent.action == "emk.document.view", AuditEvent.patient_id == w.a.id
            )
        )
        opens = s.scalar(
            select(func.count()).where(
                AuditEvent.action == "emk.open", AuditEvent.patient_id == w.a.id
            )
        )
    assert views == 1
    assert opens == 1
    assert w.errors.errors == []


def test_lab_trend_by_keyboard(qtbot: QtBot, world: Emk) -> None:
    w = world
    _open(qtbot, w, w.a.id)
    v = w.view
    qtbot.keyClick(v, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert v.tabs.currentWidget() is v.labs
    qtbot.waitUntil(lambda: v.labs.tests_model.rowCount() == 2, timeout=3000)
    codes = [t.code for t in v.labs.tests_model.rows]
    assert set(codes) == {"GLU", "CHOL"}
    row = codes.index("GLU")
    v.labs.tests_table.setFocus()
    v.labs.tests_table.selectRow(row)
    qtbot.keyClick(v.labs.tests_table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: v.labs.test is not None and v.labs.test.code == "GLU", timeout=3000)
    assert len(v.labs.points) == 40
    assert any(p.flag == "H" for p in v.labs.points)
    assert "Абрамова Анна Петровна" in v.labs.patient_label.text()


def _pick(qtbot: QtBot, row: object, query: str) -> None:
    picker = row.picker  # type: ignore[attr-defined]
    picker.edit.setFocus()
    type_text(picker.edit, query)
    qtbot.waitUntil(lambda: picker.popup.isVisible(), timeout=2000)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(picker.code()), timeout=2000)


def test_write_sign_and_amend_a_protocol_with_two_diagnoses(qtbot: QtBot, world: Emk) -> None:
    w = world
    _open(qtbot, w, w.a.id)
    v = w.view
    ed = v.editor
    assert ed is not None
    qtbot.keyClick(v, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert ed.sections["complaints"].hasFocus()
    type_text(ed.sections["complaints"], "Кашель три дня")
    type_text(ed.sections["objective"], "Дыхание жесткое, хрипов нет")
    _pick(qtbot, ed.rows[0], "J20.9")
    ed.rows[0].character.setCurrentIndex(ed.rows[0].character.findData(DiagnosisCharacter.ACUTE))
    qtbot.keyClick(ed, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(ed.rows) == 2
    assert ed.rows[1].role.currentData() == DiagnosisRole.CONCOMITANT
    _pick(qtbot, ed.rows[1], "гипертензия эссенциальная")
    assert ed.rows[1].picker.code() == "I10"
    assert "•" in v.tabs.tabText(v.tabs.indexOf(ed))  # an unsigned draft is marked
    qtbot.keyClick(ed.sections["objective"], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "подписан" in ed.saved_label.text(), timeout=5000)
    assert w.errors.errors == []
    with w.sessions() as s:
        doc = s.scalars(
            select(EmkDocument)
            .where(EmkDocument.kind == DocKind.PROTOCOL)
            .order_by(EmkDocument.id.desc())
        ).first()
    assert doc is not None
    assert doc.patient_id == w.a.id
    first_id = doc.id
    assert not (w.drafts / f"staff-{w.doctor.staff_id}-patient-{w.a.id}.json").exists()
    qtbot.waitUntil(lambda: v.model.rowCount() == 121, timeout=3000)
    # Read it, then «Исправить…».
    v.tabs.setCurrentIndex(0)
    v.table.selectRow(0)
    qtbot.waitUntil(
        lambda: v.pane.document is not None and v.pane.document.id == first_id, timeout=3000
    )
    text = v.pane.browser.toPlainText()
    assert "J20.9" in text
    assert "I10" in text
    assert v.pane.amend.isVisible()
    qtbot.mouseClick(v.pane.amend, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ed.amends_id == first_id and v.tabs.currentWidget() is ed, timeout=3000)
    assert ed.sections["complaints"].toPlainText() == "Кашель три дня"
    assert ed.amend_reason.isVisible()
    ed.sections["conclusion"].setPlainText("Острый бронхит, уточнено")
    ed.sign()  # without a reason: refused, the field is marked, nothing lost
    qtbot.waitUntil(lambda: len(w.errors.errors) == 1, timeout=3000)
    assert "Причина исправления" in str(w.errors.errors[0])
    assert "c0392b" in ed.amend_reason.styleSheet()
    assert ed.sections["conclusion"].toPlainText() == "Острый бронхит, уточнено"
    type_text(ed.amend_reason, "уточнено заключение")
    qtbot.mouseClick(ed.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "подписан" in ed.saved_label.text() and ed.amends_id is None, timeout=5000
    )
    rows = w.view._desk.timeline(w.a.id, emk.TimelineFilter(kinds=frozenset({DocKind.PROTOCOL})))
    newest = rows[0]
    assert newest.version == 2
    assert w.view._desk.document(newest.id).versions[0].id == first_id


def test_nothing_of_one_patient_is_shown_under_anothers_name(qtbot: QtBot, world: Emk) -> None:
    """Open A and, before A's record arrives, B: whatever A's answers do, the screen holds
    only B's data under B's name, at every repaint."""
    w = world
    v = w.view
    seen: list[tuple[str, set[int]]] = []

    def check() -> None:
        seen.append((v.header.name_label.text(), {r.patient_id for r in v.model.rows}))

    v.model.modelReset.connect(check)
    v.open_patient(w.a.id)
    v.open_patient(w.b.id)  # A's open is still queued in the DB lane
    qtbot.waitUntil(lambda: v.patient_id == w.b.id and v.model.rowCount() == 1, timeout=5000)
    _idle(qtbot, w)
    for name, pids in seen:
        if pids:
            assert pids == {w.b.id}
            assert name.startswith("Борисов Борис Олегович")
    assert v.model.rows[0].title == "МРТ головного мозга (Борисов)"
    assert "Абрамова" not in v.header.name_label.text()
    # A document asked for A, answered after B is open, is dropped.
    _open(qtbot, w, w.a.id)
    a_doc = v.model.rows[0].id
    v.open_document(a_doc)
    v.open_patient(w.b.id)
    qtbot.waitUntil(lambda: v.patient_id == w.b.id, timeout=5000)
    _idle(qtbot, w)
    assert v.pane.document is None or v.pane.document.patient_id == w.b.id


def test_leaving_an_unsigned_protocol_asks_and_keeps_it(qtbot: QtBot, world: Emk) -> None:
    w = world
    v = w.view
    ed = v.editor
    assert ed is not None
    _open(qtbot, w, w.a.id)
    v.focus_protocol()
    type_text(ed.sections["complaints"], "Слабость")
    v.open_patient(w.b.id)
    box = v.leave_box
    assert box is not None
    assert "Абрамова Анна Петровна" in box.text()
    stay = next(b for b in box.buttons() if b.text() == "Остаться")
    qtbot.mouseClick(stay, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: v.leave_box is None, timeout=2000)
    assert v.patient_id == w.a.id
    assert ed.sections["complaints"].toPlainText() == "Слабость"
    v.open_patient(w.b.id)
    box = v.leave_box
    assert box is not None
    keep = next(b for b in box.buttons() if b.text().startswith("Перейти"))
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: v.patient_id == w.b.id, timeout=5000)
    assert ed.sections["complaints"].toPlainText() == ""  # B's editor is B's
    _open(qtbot, w, w.a.id)
    qtbot.waitUntil(lambda: ed.patient_id == w.a.id, timeout=3000)
    assert ed.sections["complaints"].toPlainText() == "Слабость"
    assert "восстановлен" in ed.saved_label.text()


def test_signal_data_is_edited_from_the_emk(qtbot: QtBot, world: Emk) -> None:
    w = world
    v = w.view
    _open(qtbot, w, w.a.id)
    qtbot.keyClick(v, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dlg = v.vitals_dialog
    assert dlg is not None
    assert "Абрамова Анна Петровна" in dlg.windowTitle()
    dlg.substance.setFocus()
    type_text(dlg.substance, "Пенициллин")
    qtbot.mouseClick(dlg.add_allergy, Qt.MouseButton.LeftButton)  # no severity: refused
    qtbot.waitUntil(lambda: "Тяжесть" in dlg.message.text(), timeout=3000)
    assert dlg.substance.text() == "Пенициллин"  # what was typed stays
    dlg.severity.setCurrentIndex(3)
    qtbot.mouseClick(dlg.add_allergy, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Пенициллин" in v.header.signal.text(), timeout=3000)
    assert "тяжёлая" in v.header.signal.text()
    dlg.abo.setCurrentIndex(dlg.abo.findData("B(III)"))
    qtbot.mouseClick(dlg.save_blood, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "B(III) Rh+" in v.header.signal.text(), timeout=3000)


def _reader_view(qtbot: QtBot, w: Emk, actor: Actor, tmp_path: Path) -> EmkView:
    cat = catalog()
    view = EmkView(
        w.runner, EmkDesk(w.sessions, actor), LocalDrafts(tmp_path / "r"), w.errors,
        cat.search, cat.lookup, can_write=False,
    )  # fmt: skip
    qtbot.addWidget(view)
    return view


def test_a_radiologist_reads_but_has_no_editor(qtbot: QtBot, world: Emk, tmp_path: Path) -> None:
    w = world
    rad = colleague(w.sessions, 1, "Рентгенова", Role.RADIOLOGIST)
    view = _reader_view(qtbot, w, rad, tmp_path)
    view.open_patient(w.b.id)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    assert view.editor is None
    assert not view.header.vitals_button.isVisible()


def test_registrar_is_refused_with_a_message(qtbot: QtBot, world: Emk, tmp_path: Path) -> None:
    w = world
    reg = colleague(w.sessions, 1, "Регистраторова", Role.REGISTRAR)
    view = _reader_view(qtbot, w, reg, tmp_path)
    view.open_patient(w.a.id)
    qtbot.waitUntil(lambda: len(w.errors.errors) == 1, timeout=5000)
    assert "Недостаточно прав" in str(w.errors.errors[0])
    assert view.patient_id is None
    assert view.model.rowCount() == 0
