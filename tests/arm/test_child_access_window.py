"""«Доступ к ЭМК ребенка» in the whole window: a registrar signs in with her card, finds the
child, opens the form from the journal's «Ещё» menu (Ctrl+Shift+D on the selected row) and from
the child's card; a doctor gets it from the child's EMK header, never on an adult's."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from services import relations
from services.audit import Actor
from services.models import RelationKind, Sex
from services.relations import RelationInput
from tests.arm.test_login import App, _sign_in, app  # noqa: F401  (the fixture)
from tests.factories import person
from tests.widgets.keys import type_text
from widgets.child_access.dialog import ChildAccessDialog

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _child(a: App) -> int:
    admin = Actor(None, None)
    today = dt.date.today()
    child = person(a.sessions, admin, "Ёлкин", "Артём", "Игоревич", sex=Sex.MALE,
                   birth=today.replace(year=today.year - 6, day=min(today.day, 28)))  # fmt: skip
    mother = person(a.sessions, admin, "Ёлкина", "Ольга", "Петровна", birth=dt.date(1990, 3, 3),
                    phone="+79161112233")  # fmt: skip
    with a.sessions() as s:
        relations.add_relation(
            s,
            admin,
            child.id,
            RelationInput(relative_id=mother.id, kind=RelationKind.MOTHER,
                          is_legal_representative=True, valid_from=dt.date(2020, 1, 1)),
        )  # fmt: skip
    return child.id


def _form(qtbot: QtBot, a: App) -> ChildAccessDialog:
    section = a.win.patients
    assert section is not None
    qtbot.waitUntil(
        lambda: section.child_access_dialog is not None and section.child_access_dialog.isVisible(),
        timeout=5_000,
    )
    dlg = section.child_access_dialog
    assert dlg is not None
    qtbot.waitUntil(lambda: dlg._form is not None, timeout=5_000)
    return dlg


def test_registrar_opens_the_form_from_the_journal_and_the_card(
    qtbot: QtBot,
    app: App,  # noqa: F811
) -> None:
    a = app
    child = _child(a)
    win = a.win
    _sign_in(qtbot, win, a.registrar)
    qtbot.waitUntil(lambda: win.patients is not None and win.work.isVisible(), timeout=10_000)
    section = win.patients
    assert section is not None
    reg = section.registry_view
    assert reg.more_button.isVisible()
    reg.focus_search()
    type_text(reg.search_edit, "Ёлкин Артём")
    qtbot.keyClick(reg.search_edit, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: reg.table.hasFocus() and reg.selected_id() == child, timeout=5_000)
    qtbot.keyClick(reg.table, Qt.Key.Key_D, CTRL_SHIFT)
    dlg = _form(qtbot, a)
    assert dlg.child_id == child
    assert "Ёлкина Ольга Петровна — мать" in [
        dlg.relative.itemText(i) for i in range(dlg.relative.count())
    ]
    with qtbot.waitSignal(dlg.finished, timeout=3_000):
        qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    # From the child's card: the button beside «К поиску», and the same keys.
    qtbot.waitUntil(lambda: reg.table.hasFocus() or QApplication.focusWidget() is not None,
                    timeout=3_000)  # fmt: skip
    section.open_patient(child)
    card = section.card_view
    qtbot.waitUntil(lambda: card.card is not None and card.card.id == child, timeout=10_000)
    assert card.child_access.isVisible()
    card.form.surname.setFocus()
    qtbot.keyClick(card.form.surname, Qt.Key.Key_D, CTRL_SHIFT)
    dlg = _form(qtbot, a)
    assert dlg.child_id == child
    dlg.reject()


def test_doctor_sees_it_on_a_childs_emk_not_an_adults(qtbot: QtBot, app: App) -> None:  # noqa: F811
    a = app
    child = _child(a)
    win = a.win
    _sign_in(qtbot, win, a.doctor)
    qtbot.waitUntil(lambda: win.emk is not None and win.work.isVisible(), timeout=10_000)
    emk = win.emk
    assert emk is not None
    win.open_emk(a.patient.id)
    qtbot.waitUntil(lambda: emk.patient_id == a.patient.id and emk.header_data is not None,
                    timeout=10_000)  # fmt: skip
    assert not emk.header.child_access_button.isVisible()  # an adult
    win.open_emk(child)
    qtbot.waitUntil(lambda: emk.patient_id == child and emk.header.child_access_button.isVisible(),
                    timeout=10_000)  # fmt: skip
    emk.header.child_access_button.click()
    dlg = _form(qtbot, a)
    assert dlg.child_id == child
    dlg.reject()
