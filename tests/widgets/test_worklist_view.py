"""The radiologist's worklist driven by the keyboard over a real database and task runner: today's
studies with CITO first, filters by arrow keys, Enter opens the conclusion beside the list and
the images in the viewer, a template's blanks filled with F3, a draft with Ctrl+S, a signature
with Ctrl+Enter and Enter (an EMK document with the Study UID), refusals under their fields
with nothing lost, a colleague's save in between shown as a conflict with the text kept, a
correction that needs its reason, and a PACS that does not answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.tasks import TaskRunner
from services import referrals
from services.clock import local_day, now_utc
from services.conclusion_templates import BLANK, templates_for
from services.db import make_session_factory
from services.errors import ConflictError, PeerUnavailable
from services.models import DocKind, EmkDocument, Patient, ReadingStatus, ReferralKind, Role
from services.referrals import ReferralInput
from services.studies import StudyFacts, StudyRow, dicom_patient_id
from services.study_desk import StudyDesk
from tests.factories import base_org, colleague, person
from tests.widgets.conftest import ErrorLog
from tests.widgets.keys import type_text
from widgets.worklist import AUTOSAVE_MS, WorklistView
from widgets.worklist.model import STATUS_COL

RS = ReadingStatus
DAY = local_day(now_utc())
CTRL = Qt.KeyboardModifier.ControlModifier


@dataclass
class Wl:
    view: WorklistView
    sessions: sessionmaker[Session]
    desk: StudyDesk
    other: StudyDesk  # a second radiologist at another PC
    errors: ErrorLog
    runner: TaskRunner
    uids: dict[str, str]  # surname → Study UID
    pids: dict[str, str]  # surname → DICOM Patient ID
    opened: list[StudyRow] = field(default_factory=list)
    synced: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    pacs: list[StudyFacts] = field(default_factory=list)  # what the PACS will report
    pacs_down: BaseException | None = None

    def sync(self, start: dt.date, end: dt.date) -> object:
        """What ARM wires: ask the PACS for the period (in the I/O lane); the view records
        the studies found in the DB lane."""
        self.synced.append((start, end))
        if self.pacs_down is not None:
            raise self.pacs_down
        return [f for f in self.pacs if start <= (f.study_date or DAY) <= end]


# surname, name, modality, description, days ago, CITO referral
STUDIES = [
    ("Жуков", "Фёдор", "MR", "МРТ головного мозга", 0, False),
    ("Соколова", "Ирина", "DX", "Рентгенография органов грудной клетки", 0, False),
    ("Иванова", "Мария", "CT", "КТ органов грудной клетки", 0, True),
    ("Петров", "Олег", "CT", "КТ головного мозга", 1, False),
]


@pytest.fixture
def world(qtbot: QtBot, sqlite_engine: Engine) -> Iterator[Wl]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    radio = colleague(sessions, dept, "Достоевский", Role.RADIOLOGIST)
    radio2 = colleague(sessions, dept, "Рентгенова", Role.RADIOLOGIST)
    desk = StudyDesk(sessions, radio)
    facts, uids, pids = [], {}, {}
    for i, (surname, name, mod, desc, ago, cito) in enumerate(STUDIES):
        card = person(sessions, doctor, surname, name, "Ильинична", dept_id=dept)
        with sessions() as s:
            p = s.get(Patient, card.id)
            assert p is not None
            pids[surname] = dicom_patient_id(p.policy_number, p.id)
            if cito:
                inp = ReferralInput(
                    ReferralKind.IMAGING, "J18.9", "Лихорадка", service_code="A06.09.005", cito=True
                )
                referrals.issue(s, doctor, card.id, [inp])
        uids[surname] = f"1.2.826.0.1.3680043.8.498.{10 + i}"
        day = DAY - dt.timedelta(days=ago)
        facts.append(
            StudyFacts(uids[surname], pids[surname], day, (mod,), desc, f"A-{i}", "PACS", 40)
        )
    desk.record(facts)
    errors = ErrorLog()
    runner = TaskRunner(errors)
    w = Wl(None, sessions, desk, StudyDesk(sessions, radio2), errors, runner, uids, pids)  # type: ignore[arg-type]
    w.view = WorklistView(runner, desk, sync=w.sync, open_images=w.opened.append, show_error=errors)
    qtbot.addWidget(w.view)
    w.view.resize(1366, 768)
    w.view.show()
    w.view.activateWindow()
    _idle(qtbot, w)
    yield w
    w.view.editor._autosave.stop()
    runner.shutdown(wait=True)


def _idle(qtbot: QtBot, w: Wl) -> None:
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=5000)
    QApplication.processEvents()
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=5000)


def _names(w: Wl) -> list[str]:
    return [r.patient_name.split()[0] for r in w.view.model.rows]


def _choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Pick a combo item with the arrow keys, as a keyboard user does."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if text.lower() in combo.currentText().lower():
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no «{text}» in {[combo.itemText(i) for i in range(combo.count())]}")


def _go_to(qtbot: QtBot, w: Wl, surname: str) -> None:
    """Walk the list with the arrow keys to the surname's study."""
    table = w.view.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Home, CTRL)
    for _ in range(w.view.model.rowCount()):
        r = w.view.selected()
        if r is not None and r.patient_name.startswith(surname):
            return
        qtbot.keyClick(table, Qt.Key.Key_Down)
    raise AssertionError(f"no {surname} in {_names(w)}")


def _open(qtbot: QtBot, w: Wl, surname: str) -> None:
    _go_to(qtbot, w, surname)
    qtbot.keyClick(w.view.table, Qt.Key.Key_Return)
    ed = w.view.editor
    qtbot.waitUntil(lambda: ed.study_uid == w.uids[surname] and not ed.busy, timeout=5000)
    _idle(qtbot, w)


def _status(w: Wl, surname: str) -> str:
    m = w.view.model
    row = next(i for i, r in enumerate(m.rows) if r.patient_name.startswith(surname))
    return str(m.data(m.index(row, STATUS_COL)))


def test_todays_studies_cito_first_and_the_week(qtbot: QtBot, world: Wl, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    w = world
    v = w.view
    assert _names(w) == ["Иванова", "Жуков", "Соколова"]  # yesterday's Петров is not today's
    m = v.model
    assert m.data(m.index(0, 0)) == "CITO"
    assert m.data(m.index(1, 0)) == ""
    assert m.data(m.index(0, 2)).startswith("Иванова М. И., ")
    assert "CITO" not in m.data(m.index(0, 6))  # the referral's number; CITO has its column
    assert _status(w, "Иванова") == "не описано"
    assert v.counts.text() == "Не описано: 3 · Черновиков: 0 · Подписано: 0"
    assert w.synced == [(DAY, DAY)]  # the PACS was asked for the period when the screen opened
    qtmodeltester.check(m)
    # «Неделя»: yesterday's study too; the PACS is asked for the week.
    qtbot.mouseClick(v.week_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, w)
    assert _names(w) == ["Иванова", "Петров", "Жуков", "Соколова"]  # the longest waiting first
    assert w.synced[-1] == (DAY - dt.timedelta(days=6), DAY)
    qtbot.mouseClick(v.today_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, w)
    assert _names(w) == ["Иванова", "Жуков", "Соколова"]


def test_filters_by_keyboard(qtbot: QtBot, world: Wl) -> None:
    w = world
    v = w.view
    row = w.desk.get(w.uids["Соколова"])
    w.desk.save_draft(row.study_uid, "Лёгочные поля прозрачны.", "", row.version_id)
    qtbot.keyClick(v.table, Qt.Key.Key_F5)
    _idle(qtbot, w)
    assert v.counts.text() == "Не описано: 2 · Черновиков: 1 · Подписано: 0"
    _choose(qtbot, v.modality, "MR")
    qtbot.waitUntil(lambda: _names(w) == ["Жуков"], timeout=5000)
    _choose(qtbot, v.modality, "Все")
    qtbot.waitUntil(lambda: len(_names(w)) == 3, timeout=5000)
    _choose(qtbot, v.status, "черновик")
    assert _names(w) == ["Соколова"]
    assert _status(w, "Соколова") == "черновик"
    assert v.counts.text().endswith("· показано 1 из 3")  # the period's counts stay whole
    _choose(qtbot, v.status, "подписано")
    assert _names(w) == []
    assert v.empty.isVisible()
    assert "нет" in v.empty.text()
    _choose(qtbot, v.status, "Все")
    # Ctrl+F: the search, by name or accession number; Esc clears it and goes back to the list.
    qtbot.keyClick(v.table, Qt.Key.Key_F, CTRL)
    assert v.search.hasFocus()
    type_text(v.search, "жук")
    assert _names(w) == ["Жуков"]
    v.search.clear()
    type_text(v.search, "A-1")
    assert _names(w) == ["Соколова"]
    qtbot.keyClick(v.search, Qt.Key.Key_Escape)
    assert v.search.text() == ""
    assert v.table.hasFocus()
    assert len(_names(w)) == 3


def test_enter_opens_the_editor_and_the_images(qtbot: QtBot, world: Wl) -> None:
    w = world
    v = w.view
    _open(qtbot, w, "Жуков")
    ed = v.editor
    assert [r.study_uid for r in w.opened] == [w.uids["Жуков"]]
    assert w.opened[0].patient_full_name.startswith("Жуков Фёдор")
    assert "Жуков Фёдор Ильинична" in ed.header.text()
    assert "МРТ головного мозга" in ed.header.text()
    assert ed.findings.hasFocus()  # type at once
    # Esc: back to the list; Ctrl+O opens another study's images without leaving the text.
    qtbot.keyClick(ed.findings, Qt.Key.Key_Escape)
    assert v.table.hasFocus()
    _go_to(qtbot, w, "Соколова")
    qtbot.keyClick(v.table, Qt.Key.Key_O, CTRL)
    assert [r.study_uid for r in w.opened] == [w.uids["Жуков"], w.uids["Соколова"]]
    assert ed.study_uid == w.uids["Жуков"]
    # A double click opens both, like Enter.
    _go_to(qtbot, w, "Иванова")
    rect = v.table.visualRect(v.table.currentIndex())
    qtbot.mouseClick(v.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(v.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: ed.study_uid == w.uids["Иванова"], timeout=5000)
    _idle(qtbot, w)
    assert w.opened[-1].study_uid == w.uids["Иванова"]


def test_template_blanks_and_a_draft(qtbot: QtBot, world: Wl) -> None:
    w = world
    _open(qtbot, w, "Иванова")
    ed = w.view.editor
    pneumonia = next(t for t in templates_for("CT") if "пневмония" in t.title)
    # Something typed in the conclusion first: the template asks before replacing it.
    ed.conclusion.setFocus()
    type_text(ed.conclusion, "Пневмония")
    # Ctrl+T: the menu, the study's modality first; ↓ to the pneumonia, Enter.
    qtbot.keyClick(ed.findings, Qt.Key.Key_T, CTRL)
    menu = ed.template_menu
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    titles = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert titles[0].startswith("КТ")
    for _ in range(len(menu.actions())):
        active = menu.activeAction()
        if active is not None and active.text() == pneumonia.title:
            break
        qtbot.keyClick(menu, Qt.Key.Key_Down)
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ed.confirm_box is not None and ed.confirm_box.isVisible(), timeout=2000)
    box = ed.confirm_box
    assert box is not None
    assert pneumonia.title in box.text()
    qtbot.keyClick(box, Qt.Key.Key_Return)  # «Заменить» is the default
    qtbot.waitUntil(lambda: ed.findings.toPlainText() == pneumonia.findings, timeout=2000)
    qtbot.waitUntil(ed.findings.hasFocus, timeout=2000)  # back in the description
    assert ed.conclusion.toPlainText() == pneumonia.conclusion
    # Ctrl+Z in the conclusion brings back what was typed, Ctrl+Shift+Z the template again.
    ed.conclusion.setFocus()
    qtbot.keyClick(ed.conclusion, Qt.Key.Key_Z, CTRL)
    assert ed.conclusion.toPlainText() == "Пневмония"
    qtbot.keyClick(ed.conclusion, Qt.Key.Key_Y, CTRL)
    assert ed.conclusion.toPlainText() == pneumonia.conclusion
    # F3 in the description: the first blank selected, typing replaces it; F3 again, the next.
    ed.findings.setFocus()
    ed.findings.moveCursor(ed.findings.textCursor().MoveOperation.Start)
    qtbot.keyClick(ed.findings, Qt.Key.Key_F3)
    assert ed.findings.textCursor().selectedText() == BLANK
    type_text(ed.findings, "нижней")
    qtbot.keyClick(ed.findings, Qt.Key.Key_F3)
    type_text(ed.findings, "правого")
    assert ed.findings.toPlainText().startswith("В нижней доле правого лёгкого")
    # Ctrl+S: a draft; the list says so.
    qtbot.keyClick(ed.findings, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: _status(w, "Иванова") == "черновик", timeout=5000)
    stored = w.desk.get(w.uids["Иванова"])
    assert stored.status == RS.DRAFT
    assert stored.findings.startswith("В нижней доле правого лёгкого")
    assert stored.radiologist == "Достоевский М. И."
    assert not ed.changed()
    assert "черновик" in ed.status_label.text()
    # Unfilled blanks are not signed: the rule under the field, the next blank selected.
    qtbot.keyClick(ed.findings, Qt.Key.Key_Return, CTRL)
    assert ed.confirm_box is None
    label = ed.errors.label("findings")
    assert label is not None
    assert label.isVisible()
    assert f"«{BLANK}»" in label.text()
    assert ed.findings.textCursor().selectedText() == BLANK
    assert w.errors.errors == []


def test_autosave_keeps_the_draft_after_the_last_keystroke(qtbot: QtBot, world: Wl) -> None:
    w = world
    _open(qtbot, w, "Жуков")
    ed = w.view.editor
    assert ed._autosave.interval() == AUTOSAVE_MS == 30_000
    assert not ed._autosave.isActive()
    type_text(ed.findings, "Очагов нет")
    assert ed._autosave.isActive()  # restarted by each key
    ed._autosave.timeout.emit()  # the 30 s are up
    qtbot.waitUntil(lambda: _status(w, "Жуков") == "черновик", timeout=5000)
    assert w.desk.get(w.uids["Жуков"]).findings == "Очагов нет"


def test_switching_to_another_study_saves_the_draft_first(qtbot: QtBot, world: Wl) -> None:
    w = world
    _open(qtbot, w, "Жуков")
    ed = w.view.editor
    type_text(ed.findings, "Срединные структуры не смещены")
    _open(qtbot, w, "Соколова")
    assert w.desk.get(w.uids["Жуков"]).findings == "Срединные структуры не смещены"
    assert ed.findings.toPlainText() == ""
    assert [r.study_uid for r in w.opened] == [w.uids["Жуков"], w.uids["Соколова"]]
    _open(qtbot, w, "Жуков")  # the draft comes back with the study
    assert ed.findings.toPlainText() == "Срединные структуры не смещены"


def test_ctrl_enter_and_enter_sign_into_the_emk(qtbot: QtBot, world: Wl) -> None:
    w = world
    v = w.view
    _open(qtbot, w, "Жуков")
    ed = v.editor
    type_text(ed.findings, "Очаговых изменений не выявлено")
    ed.conclusion.setFocus()
    type_text(ed.conclusion, "Норма")
    qtbot.keyClick(ed.conclusion, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: ed.confirm_box is not None and ed.confirm_box.isVisible(), timeout=2000)
    box = ed.confirm_box
    assert box is not None
    assert box.text() == "Подписать заключение для Жуков Ф. И.?"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _status(w, "Жуков") == "подписано", timeout=5000)
    _idle(qtbot, w)
    with w.sessions() as s:
        doc = s.scalars(select(EmkDocument).where(EmkDocument.study_uid == w.uids["Жуков"])).one()
        assert doc.kind == DocKind.IMAGING
        assert doc.body["sections"] == [
            ["Описание", "Очаговых изменений не выявлено"],
            ["Заключение", "Норма"],
        ]
    assert ed.sign_button.text().startswith("Исправить")
    assert v.counts.text() == "Не описано: 2 · Черновиков: 0 · Подписано: 1"
    # The cursor is on the next study waiting: Enter opens it.
    assert v.table.hasFocus()
    nxt = v.selected()
    assert nxt is not None
    assert nxt.status != RS.SIGNED
    assert w.errors.errors == []


def test_signing_without_a_conclusion_names_it_and_keeps_the_text(qtbot: QtBot, world: Wl) -> None:
    w = world
    _open(qtbot, w, "Соколова")
    ed = w.view.editor
    type_text(ed.findings, "Лёгочные поля без очаговых теней")
    qtbot.keyClick(ed.findings, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: ed.confirm_box is not None, timeout=2000)
    assert ed.confirm_box is not None
    qtbot.keyClick(ed.confirm_box, Qt.Key.Key_Return)
    label = ed.errors.label("conclusion")
    assert label is not None
    qtbot.waitUntil(label.isVisible, timeout=5000)
    assert label.text() == "Заключение: обязательно для подписи"
    assert ed.conclusion.hasFocus()
    assert ed.findings.toPlainText() == "Лёгочные поля без очаговых теней"
    assert w.desk.get(w.uids["Соколова"]).status == RS.UNREAD
    assert w.errors.errors == []


def test_a_colleagues_save_in_between_is_a_conflict_and_the_text_stays(
    qtbot: QtBot, world: Wl
) -> None:
    w = world
    _open(qtbot, w, "Соколова")
    ed = w.view.editor
    type_text(ed.findings, "Моё описание")
    row = w.other.get(w.uids["Соколова"])
    w.other.save_draft(row.study_uid, "Её описание", "", row.version_id)  # at another PC
    qtbot.keyClick(ed.findings, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: bool(w.errors.errors), timeout=5000)
    assert isinstance(w.errors.errors[0], ConflictError)
    assert "Рентгенова" in str(w.errors.errors[0])
    assert ed.findings.toPlainText() == "Моё описание"
    assert ed.take_button.isVisible()
    assert w.desk.get(w.uids["Соколова"]).findings == "Её описание"
    # Another study cannot push the unsaved text away.
    _go_to(qtbot, w, "Жуков")
    qtbot.keyClick(w.view.table, Qt.Key.Key_Return)
    _idle(qtbot, w)
    assert ed.study_uid == w.uids["Соколова"]
    assert ed.findings.toPlainText() == "Моё описание"
    assert w.opened[-1].study_uid == w.uids["Соколова"]  # no images of another patient
    # Their version into the fields; Ctrl+Z brings mine back, and it saves over theirs now.
    qtbot.mouseClick(ed.take_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ed.findings.toPlainText() == "Её описание", timeout=5000)
    assert not ed.take_button.isVisible()
    ed.findings.setFocus()
    qtbot.keyClick(ed.findings, Qt.Key.Key_Z, CTRL)
    assert ed.findings.toPlainText() == "Моё описание"
    qtbot.keyClick(ed.findings, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: w.desk.get(w.uids["Соколова"]).findings == "Моё описание", timeout=5000)
    assert len(w.errors.errors) == 1


def test_a_signed_study_is_corrected_only_with_a_reason(qtbot: QtBot, world: Wl) -> None:
    w = world
    row = w.desk.get(w.uids["Иванова"])
    first = w.desk.sign(row.study_uid, "Описание", "Пневмония справа", row.version_id)
    qtbot.keyClick(w.view.table, Qt.Key.Key_F5)
    _idle(qtbot, w)
    _open(qtbot, w, "Иванова")
    ed = w.view.editor
    assert ed.sign_button.text() == "Исправить  Ctrl+Enter"
    assert ed.conclusion.toPlainText() == "Пневмония справа"
    # Nothing changed: nothing to correct.
    qtbot.keyClick(ed.findings, Qt.Key.Key_Return, CTRL)
    assert ed.reason_dialog is None
    assert "исправлять нечего" in ed.note.text()
    ed.conclusion.setFocus()
    ed.conclusion.selectAll()
    type_text(ed.conclusion, "Пневмония слева")
    qtbot.keyClick(ed.conclusion, Qt.Key.Key_Return, CTRL)
    dlg = ed.reason_dialog
    assert dlg is not None
    qtbot.waitUntil(dlg.isVisible, timeout=2000)
    buttons = dlg.findChild(QDialogButtonBox)
    assert buttons is not None
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.text() == "Исправить"
    assert not ok.isEnabled()  # no reason, no correction
    edit = dlg.findChild(QLineEdit)
    assert edit is not None
    type_text(edit, "   ")
    assert not ok.isEnabled()
    type_text(edit, "перепутана сторона")
    assert ok.isEnabled()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: w.desk.get(w.uids["Иванова"]).conclusion == "Пневмония слева", timeout=5000
    )
    with w.sessions() as s:
        new = s.get(EmkDocument, w.desk.get(w.uids["Иванова"]).document_id)
        assert new is not None
        assert new.supersedes_id == first.document_id
        assert new.amend_reason == "перепутана сторона"
    assert w.errors.errors == []


def test_a_correction_in_progress_comes_back_with_its_study(qtbot: QtBot, world: Wl) -> None:
    w = world
    v = w.view
    row = w.desk.get(w.uids["Иванова"])
    w.desk.sign(row.study_uid, "Описание", "Пневмония справа", row.version_id)
    qtbot.keyClick(v.table, Qt.Key.Key_F5)
    _idle(qtbot, w)
    _open(qtbot, w, "Иванова")
    ed = v.editor
    ed.conclusion.setFocus()
    ed.conclusion.selectAll()
    type_text(ed.conclusion, "Пневмония слева")
    _open(qtbot, w, "Жуков")  # the correction is saved as a draft first
    _open(qtbot, w, "Иванова")
    assert ed.conclusion.toPlainText() == "Пневмония слева"
    assert not ed.changed()
    assert _status(w, "Иванова") == "подписано"  # the record keeps the signed one till then
    # Ctrl+O while typing: the images of the study being described, not of the list's cursor.
    qtbot.keyClick(ed.conclusion, Qt.Key.Key_Escape)
    qtbot.keyClick(v.table, Qt.Key.Key_Home, CTRL)  # the signed one is last: to the first
    assert v.selected() is not None
    assert v.selected().study_uid != w.uids["Иванова"]  # type: ignore[union-attr]
    ed.conclusion.setFocus()
    qtbot.keyClick(ed.conclusion, Qt.Key.Key_O, CTRL)
    assert w.opened[-1].study_uid == w.uids["Иванова"]
    assert w.errors.errors == []


def test_pacs_down_is_a_warning_line_and_the_list_is_still_there(qtbot: QtBot, world: Wl) -> None:
    w = world
    v = w.view
    w.pacs_down = PeerUnavailable("PACS", "нет ответа от 10.0.0.5:4242")
    qtbot.keyClick(v.table, Qt.Key.Key_F5)
    qtbot.waitUntil(v.banner.isVisible, timeout=5000)
    assert v.banner.text() == (
        "PACS недоступен: нет ответа от 10.0.0.5:4242 — показаны исследования, уже известные ARM"
    )
    _idle(qtbot, w)
    assert _names(w) == ["Иванова", "Жуков", "Соколова"]
    assert w.errors.errors == []  # a line, not a message box
    # The PACS is back and reports a new study of a known patient: F5 lists it.
    w.pacs_down = None
    w.pacs.append(
        StudyFacts("1.2.3.99", w.pids["Петров"], DAY, ("CR",), "Рентгенография кисти", "A-9")
    )
    qtbot.keyClick(v.table, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: "Петров" in _names(w), timeout=5000)
    assert not v.banner.isVisible()
