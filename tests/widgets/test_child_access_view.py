"""«Доступ к ЭМК ребенка» driven the way a registrar drives it, over a real database, the real
task runner, a real Kannel with its fake SMSC and the real dispatcher: pick the relative, add a
new relation from the form, print the application, tick the flag, send, watch the status icon
turn to «доставлен» when the fake SMSC delivers, redeem the code that reached the "phone",
revoke with a reason — and be refused, with the rule named, where the rules say no."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from arm.kannel_local import LocalKannel
from arm.sms_service import SmsService
from arm.tasks import TaskRunner
from services import child_access, relations, sms
from services.audit import Actor
from services.child_access import CodeRejected, CodeStatus
from services.child_access_desk import ChildAccessDesk
from services.db import make_session_factory
from services.kannel import KannelConfig
from services.models import Printout, RelationKind, Role, Sex
from services.patients import PatientCard
from services.registry import Registry
from services.relations import RelationInput
from tests.factories import base_org, colleague, person
from tests.widgets.conftest import ErrorLog
from tests.widgets.keys import type_text
from widgets.child_access.dialog import ADD_RELATION, ChildAccessDialog
from widgets.print_flow import PrintFlow
from widgets.schedule.dialogs import ReasonDialog

FAST = sms.Backoff(first=dt.timedelta(milliseconds=200), cap=dt.timedelta(seconds=1))


def years_ago(n: int) -> dt.date:
    t = dt.date.today()
    return t.replace(year=t.year - n, day=min(t.day, 28))


@dataclass
class Desk:
    sessions: sessionmaker[Session]
    registrar: Actor
    desk: ChildAccessDesk
    registry: Registry
    runner: TaskRunner
    errors: ErrorLog
    flow: PrintFlow
    child: PatientCard
    mother: PatientCard
    father: PatientCard
    granny: PatientCard
    dept: int


@pytest.fixture
def desk(qtbot: QtBot, sqlite_engine: Engine) -> Iterator[Desk]:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    registrar = colleague(sessions, dept, "Рябова", Role.REGISTRAR)
    child = person(
        sessions, doctor, "Кузнецов", "Артём", "Игоревич", sex=Sex.MALE, birth=years_ago(9),
        dept_id=dept,
    )  # fmt: skip
    mother = person(
        sessions, doctor, "Кузнецова", "Ольга", "Петровна", birth=dt.date(1988, 7, 1),
        phone="+79161234567",
    )  # fmt: skip
    father = person(
        sessions, doctor, "Кузнецов", "Игорь", "Олегович", sex=Sex.MALE,
        birth=dt.date(1986, 1, 5), phone="+79037654321",
    )  # fmt: skip
    granny = person(sessions, doctor, "Кузнецова", "Нина", "Ивановна", birth=dt.date(1960, 2, 2))
    with sessions() as s:
        for rel, kind in ((mother.id, RelationKind.MOTHER), (granny.id, RelationKind.GRANDPARENT)):
            relations.add_relation(
                s,
                doctor,
                child.id,
                RelationInput(
                    relative_id=rel,
                    kind=kind,
                    is_legal_representative=kind == RelationKind.MOTHER,
                    valid_from=dt.date(2020, 1, 1),
                ),
            )
    errors = ErrorLog()
    runner = TaskRunner(errors)
    access = ChildAccessDesk(sessions, registrar)
    flow = PrintFlow(runner, access.archive, errors)
    yield Desk(
        sessions,
        registrar,
        access,
        Registry(sessions, registrar),
        runner,
        errors,
        flow,
        child,
        mother,
        father,
        granny,
        dept,
    )
    runner.shutdown(wait=True)


@pytest.fixture
def dispatcher(kannel: LocalKannel, desk: Desk) -> Iterator[SmsService]:
    """The real dispatcher with its delivery-report listener, as ``arm sms dispatch`` runs."""
    config = KannelConfig(
        url=kannel.sendsms_url, username=kannel.username, password=kannel.password
    )
    service = SmsService(desk.sessions, config, backoff=FAST, poll=0.1).start()
    yield service
    service.stop()


def _open(qtbot: QtBot, d: Desk, child_id: int | None = None) -> ChildAccessDialog:
    dlg = ChildAccessDialog(
        d.runner,
        d.desk,
        d.registry,
        d.errors,
        child_id or d.child.id,
        [(d.dept, "Педиатрическое отделение")],
        preview=d.flow,
    )
    qtbot.addWidget(dlg)
    dlg.resize(1366 - 80, 700)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitUntil(lambda: dlg._form is not None, timeout=5000)
    return dlg


def _idle(qtbot: QtBot, d: Desk) -> None:
    qtbot.waitUntil(lambda: not d.runner.busy, timeout=5000)
    QApplication.processEvents()


def _pick(qtbot: QtBot, dlg: ChildAccessDialog, text: str) -> None:
    """Choose a relative with the arrow keys and Enter, as a keyboard user does."""
    combo = dlg.relative
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if text in combo.currentText():
            combo.activated.emit(combo.currentIndex())  # what Enter on the open list sends
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no «{text}» in {[combo.itemText(i) for i in range(combo.count())]}")


def _history(dlg: ChildAccessDialog) -> list[child_access.GrantRow]:
    return dlg.history_model.rows


def test_a_registrar_gives_access_and_takes_it_back(
    qtbot: QtBot, desk: Desk, kannel: LocalKannel, dispatcher: SmsService, tmp_path: Path
) -> None:
    d = desk
    dlg = _open(qtbot, d)
    assert "Кузнецов Артём Игоревич" in dlg.child_label.text()
    assert not dlg.note.isVisible()  # 9 years old: nothing about own access
    items = [dlg.relative.itemText(i) for i in range(dlg.relative.count())]
    assert items[-1] == "Добавить родственную связь…"
    assert any(i.startswith("Кузнецова Ольга Петровна — мать") for i in items)

    # The father is not in the relations yet: «Добавить родственную связь…».
    dlg.relative.setFocus()
    dlg.relative.setCurrentIndex(dlg.relative.findData(ADD_RELATION))
    dlg.relative.activated.emit(dlg.relative.currentIndex())
    qtbot.waitUntil(lambda: dlg.relation_dialog is not None and dlg.relation_dialog.isVisible(),
                    timeout=3000)  # fmt: skip
    rd = dlg.relation_dialog
    assert rd is not None
    assert rd.windowTitle() == "Родственная связь: Добавление"
    type_text(rd.search, "Кузнецов Игорь")
    qtbot.waitUntil(lambda: rd.results_model.rowCount() >= 1, timeout=5000)
    qtbot.keyClick(rd.search, Qt.Key.Key_Down)
    qtbot.keyClick(rd.results, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Кузнецов Игорь Олегович" in rd.chosen.text(), timeout=3000)
    rd.kind.setCurrentIndex(rd.kind.findData(RelationKind.FATHER))
    with qtbot.waitSignal(rd.finished, timeout=5000):
        rd.buttons.accepted.emit()
    # Back in the form: the father is chosen and his number is filled in from his card.
    qtbot.waitUntil(lambda: "Кузнецов Игорь Олегович" in dlg.relative.currentText(), timeout=5000)
    assert dlg.phone.text() == "+7 903 765-43-21"

    # Without the signed application the code is not sent; nothing typed is lost.
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dlg.errors["signed"].isVisible(), timeout=5000)
    assert "заявка на предоставление доступа подписана" in dlg.errors["signed"].text()
    assert dlg.phone.text() == "+7 903 765-43-21"
    assert dlg.signed.hasFocus()

    # The application on paper: Ctrl+P → preview → print to PDF → archived.
    qtbot.keyClick(dlg, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: d.flow.dialog is not None and d.flow.dialog.isVisible(), timeout=10000)
    preview = d.flow.dialog
    assert preview is not None
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    with qtbot.waitSignal(preview.finished, timeout=10000):
        preview.print_to(printer)
        preview.accept()
    qtbot.waitUntil(lambda: len(d.flow.archived) == 1, timeout=5000)
    with d.sessions() as s:
        pdf = s.scalars(select(Printout.pdf)).one()
    (tmp_path / "archived.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "archived.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    for needle in ("ЗАЯВКА", "Кузнецов Игорь Олегович", "Кузнецов Артём Игоревич",
                   "+7 903 765-43-21", d.child.policy_number or "?"):  # fmt: skip
        assert needle in flat, needle

    # Tick the flag (Space) and send (Ctrl+Enter).
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dlg, timeout=3000)
    dlg.signed.setFocus()
    qtbot.keyClick(dlg.signed, Qt.Key.Key_Space)
    assert dlg.signed.isChecked()
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "Код отправлен на +7 903 765-43-21" in dlg.sent_label.text(),
                    timeout=5000)  # fmt: skip
    qtbot.waitUntil(lambda: len(_history(dlg)) == 1, timeout=5000)
    # The fake SMSC delivers; the form asks again by itself and the icon turns to «доставлен».
    qtbot.waitUntil(lambda: _history(dlg)[0].status == CodeStatus.DELIVERED, timeout=20000)
    row = _history(dlg)[0]
    assert row.relative_name == "Кузнецов Игорь Олегович"
    assert row.relation_label == "отец"
    icon = dlg.history_model.data(dlg.history_model.index(0, 2), Qt.ItemDataRole.DecorationRole)
    assert icon is not None
    assert not icon.isNull()
    assert dlg.history_model.data(dlg.history_model.index(0, 3)) == "доставлен"
    assert not dlg._poll.isActive()  # nothing more to wait for
    assert d.errors.errors == []

    # The code that reached the phone opens access on the portal.
    ((phone, sms_text),) = kannel.delivered()
    assert phone == "+79037654321"
    m = re.search(r"\b(\d{6})\b", sms_text)
    assert m is not None, sms_text
    code = m.group(1)
    with d.sessions() as s:
        grant = child_access.redeem(s, "8 903 765-43-21", code).grant_id
        assert child_access.check(s, grant)
    qtbot.keyClick(dlg, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: _history(dlg)[0].status == CodeStatus.USED, timeout=5000)

    # Revoke: Del on the row asks for the reason, which is required.
    dlg.history.setFocus()
    dlg.history.selectRow(0)
    qtbot.keyClick(dlg.history, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: isinstance(dlg.reason_dialog, ReasonDialog)
                    and dlg.reason_dialog.isVisible(), timeout=3000)  # fmt: skip
    reason = dlg.reason_dialog
    assert reason is not None
    assert "Укажите причину отзыва права доступа" in reason.prompt.text()
    reason.buttons.accepted.emit()
    assert reason.error.text() == "Причина: обязательное поле"
    assert reason.isVisible()
    edit = reason.reason.lineEdit()
    assert edit is not None
    type_text(edit, "Заявление отца")
    with qtbot.waitSignal(reason.finished, timeout=3000):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _history(dlg)[0].status == CodeStatus.REVOKED, timeout=5000)
    assert _history(dlg)[0].revoke_reason == "Заявление отца"
    assert dlg.history_model.data(dlg.history_model.index(0, 6)) == "Заявление отца"
    with d.sessions() as s:
        assert not child_access.check(s, grant)
        with pytest.raises(CodeRejected):
            child_access.redeem(s, "+79037654321", code)
    assert d.errors.errors == []


def test_refusals_name_the_rule_and_keep_the_input(qtbot: QtBot, desk: Desk) -> None:
    d = desk
    dlg = _open(qtbot, d)
    # The grandmother is listed but cannot be given access: said as soon as she is picked.
    _pick(qtbot, dlg, "Кузнецова Нина Ивановна")
    assert dlg.errors["relative"].isVisible()
    assert "не родитель и не законный представитель" in dlg.errors["relative"].text()
    # A landline typed over the card's number, the flag ticked: both rules named at once.
    dlg.phone.setFocus()
    dlg.phone.selectAll()
    type_text(dlg.phone, "8 495 123-45-67")
    dlg.signed.setChecked(True)
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dlg.errors["phone"].isVisible(), timeout=5000)
    assert dlg.errors["phone"].text() == "Телефон: должен быть мобильным номером России"
    assert "не родитель и не законный представитель" in dlg.errors["relative"].text()
    assert dlg.phone.text() == "8 495 123-45-67"
    assert dlg.signed.isChecked()
    assert _history(dlg) == []
    # The mother with a hostile phone: the rule, and nothing sent.
    _pick(qtbot, dlg, "Кузнецова Ольга Петровна")
    dlg.phone.setFocus()
    dlg.phone.selectAll()
    type_text(dlg.phone, "9" * 40)
    assert len(dlg.phone.text()) == 30  # the field's own limit
    qtbot.keyClick(dlg, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "номер из 11 цифр" in dlg.errors["phone"].text(), timeout=5000)
    assert not dlg.errors["relative"].isVisible()
    _idle(qtbot, d)
    assert _history(dlg) == []
    assert d.errors.errors == []


def test_an_adult_gets_no_form_and_a_teenager_a_note(qtbot: QtBot, desk: Desk) -> None:
    d = desk
    adult = person(d.sessions, Actor(None, None), "Взрослый", "Иван", sex=Sex.MALE,
                   birth=years_ago(19))  # fmt: skip
    dlg = _open(qtbot, d, adult.id)
    assert dlg.refusal.isVisible()
    assert "доступ к ЭМК ребенка дают только до 18 лет" in dlg.refusal.text()
    assert not dlg.grant_box.isEnabled()
    dlg.close()
    teen = person(d.sessions, Actor(None, None), "Подросток", "Олег", sex=Sex.MALE,
                  birth=years_ago(16))  # fmt: skip
    dlg = _open(qtbot, d, teen.id)
    assert dlg.note.isVisible()
    assert "с 15 лет он может сам получить доступ" in dlg.note.text()
    assert dlg.grant_box.isEnabled()
