"""«Новый пациент»: registration by keys, field errors, and Esc while the save is in flight."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from services.models import Sex
from services.patient_search import parse_query
from services.validation import make_policy, make_snils
from tests.widgets.conftest import World
from tests.widgets.keys import type_text
from widgets.patient_card.register_dialog import RegisterDialog


def _dialog(qtbot: QtBot, world: World, prefill: list[str]) -> RegisterDialog:
    dlg = RegisterDialog(
        world.runner,
        world.registry,
        world.errors,
        [(world.dept_id, "Взрослое отделение")],
        prefill=prefill,
    )
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _fill(qtbot: QtBot, dlg: RegisterDialog, snils: str) -> None:
    f = dlg.form
    f.sex.setCurrentIndex(f.sex.findData(Sex.MALE))
    type_text(f.birth_date, "14.05.1979")
    type_text(f.snils, snils)
    type_text(f.policy, make_policy(7_654_321))
    type_text(f.phone, "8 926 111 22 33")


def _register(qtbot: QtBot, dlg: RegisterDialog) -> None:
    qtbot.mouseClick(
        dlg.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
    )


def test_wrong_snils_checksum_is_named_and_nothing_typed_is_lost(
    qtbot: QtBot, world: World
) -> None:
    dlg = _dialog(qtbot, world, ["павлов", "игорь"])
    assert (dlg.form.surname.text(), dlg.form.name.text()) == ("Павлов", "Игорь")
    good = make_snils(7_654_321)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    _fill(qtbot, dlg, bad)
    _register(qtbot, dlg)
    assert dlg.isVisible()
    assert dlg.form.errors["snils"].isVisible()
    assert dlg.form.errors["snils"].text().startswith("СНИЛС: ")
    assert dlg.form.policy.text() != ""  # the rest of the form is still there
    assert world.registry.search(parse_query("Павлов")) == []


def test_esc_while_registering_does_not_pretend_to_cancel(qtbot: QtBot, world: World) -> None:
    dlg = _dialog(qtbot, world, ["Павлов", "Игорь"])
    _fill(qtbot, dlg, make_snils(7_654_321))
    finished: list[int] = []
    dlg.finished.connect(finished.append)
    _register(qtbot, dlg)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)  # the write is already on its way
    assert dlg.isVisible()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert finished == [QDialog.DialogCode.Accepted.value]  # closed once, as «registered»
    assert dlg.card is not None
    assert [r.id for r in world.registry.search(parse_query("Павлов"))] == [dlg.card.id]
