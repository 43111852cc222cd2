"""The patient card: open, edit with live validation, save, relations — by keys and clicks."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from services.errors import PeerUnavailable
from services.models import RelationKind
from services.registry import Registry
from services.relations import RelationInput
from tests.widgets.conftest import World
from tests.widgets.keys import type_text
from widgets.patient_card.relation_dialog import RelationDialog
from widgets.patient_card.view import PatientCardView


def _card(qtbot: QtBot, world: World, patient_id: int) -> PatientCardView:
    view = PatientCardView(
        world.runner, world.registry, world.errors, [(world.dept_id, "Взрослое отделение")]
    )
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.load(patient_id)
    qtbot.waitUntil(lambda: view.card is not None, timeout=5000)
    return view


def test_card_shows_header_and_form(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    assert view.title.text() == "Соколова Ирина Петровна"
    sub = view.subtitle.text()
    assert "жен., " in sub
    assert "(02.04.1988)" in sub
    assert "Тел.: +7 903 111-22-33" in sub
    assert view.form.surname.text() == "Соколова"
    assert not view.save_button.isEnabled()


def test_bad_phone_is_explained_under_the_field_then_fixed_and_saved(
    qtbot: QtBot, world: World
) -> None:
    view = _card(qtbot, world, world.mother.id)
    phone = view.form.phone
    phone.setFocus()
    phone.selectAll()
    type_text(phone, "123")
    qtbot.keyClick(phone, Qt.Key.Key_Tab)  # leaving the field checks it
    assert view.form.errors["phone"].isVisible()
    assert view.form.errors["phone"].text().startswith("Телефон: ")
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(100)
    assert phone.text() == "123"  # nothing typed is lost
    assert world.registry.open_card(world.mother.id)[0].phone == "+79031112233"
    phone.selectAll()
    type_text(phone, "8 916 555 44 33")
    assert view.save_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not view.dirty, timeout=5000)
    assert world.registry.open_card(world.mother.id)[0].phone == "+79165554433"
    assert "Тел.: +7 916 555-44-33" in view.subtitle.text()
    assert not view.form.errors["phone"].isVisible()


def test_concurrent_edit_shows_a_banner_and_keeps_the_input(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    other = world.registry.open_card(world.mother.id)[0]
    import dataclasses

    world.registry.update(
        other.id, other.version_id, dataclasses.replace(other.as_input(), name="Ирма")
    )
    view.form.address.selectAll()
    type_text(view.form.address, "г. Москва, ул. Новая, д. 5")
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(view.banner.isVisible, timeout=5000)
    assert "изменил другой пользователь" in view.banner.text()
    assert view.form.address.text() == "г. Москва, ул. Новая, д. 5"
    assert view.dirty


def test_add_mother_through_the_relation_dialog(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.child.id)
    assert view.relations_model.rowCount() == 0
    qtbot.mouseClick(view.add_relation, Qt.MouseButton.LeftButton)
    dlg = view.relation_dialog
    assert dlg is not None
    qtbot.waitExposed(dlg)
    assert dlg.isModal()
    type_text(dlg.search, "Соколова")
    qtbot.waitUntil(lambda: dlg.results_model.rowCount() == 1, timeout=5000)
    qtbot.keyClick(dlg.search, Qt.Key.Key_Return)  # ↵ in the search box goes to the list
    assert dlg.results.hasFocus()
    qtbot.keyClick(dlg.results, Qt.Key.Key_Return)  # ↵ on the list picks the person
    assert dlg.chosen.text().startswith("Соколова Ирина Петровна")
    assert dlg.kind.hasFocus()
    dlg.kind.setCurrentIndex(dlg.kind.findData(RelationKind.MOTHER))
    dlg.legal.setChecked(True)
    type_text(dlg.basis, "Свидетельство о рождении V-МЮ № 512345")
    qtbot.mouseClick(
        dlg.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert dlg.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: view.relations_model.rowCount() == 1, timeout=5000)
    assert view.relations_model.index(0, 1).data() == "мать"
    assert view.relations_model.index(0, 2).data() == "законный"
    row = view.relations_model.row_at(0)
    assert row is not None
    assert (row.label, row.other_name, row.is_legal_representative) == (
        "мать",
        "Соколова Ирина Петровна",
        True,
    )


def test_relation_dialog_shows_rule_errors_and_keeps_the_dialog_open(
    qtbot: QtBot, world: World
) -> None:
    dlg = RelationDialog(world.runner, world.registry, world.errors, world.child.id, [])
    qtbot.addWidget(dlg)
    dlg.show()
    type_text(dlg.search, "Иванов Пётр")
    qtbot.waitUntil(lambda: dlg.results_model.rowCount() == 1, timeout=5000)
    dlg.picker.pick(0)
    dlg.kind.setCurrentIndex(dlg.kind.findData(RelationKind.MOTHER))
    dlg.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dlg.errors["kind"].isVisible(), timeout=5000)
    assert (
        dlg.errors["kind"].text()
        == "Родственная связь: мать — женщина; проверьте пол или выберите «отец»"
    )
    assert dlg.isVisible()
    assert dlg.buttons.isEnabled()


def _answer(qtbot: QtBot, view: PatientCardView, button: str) -> None:
    box = view.leave_box
    assert box is not None
    qtbot.waitExposed(box)
    assert "несохранённые изменения" in box.text()
    assert "Соколова Ирина Петровна" in box.text()
    qtbot.mouseClick(
        next(b for b in box.buttons() if b.text() == button), Qt.MouseButton.LeftButton
    )


def test_escape_with_unsaved_changes_asks_first(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    view.form.address.setFocus()
    qtbot.keyClick(view.form.address, Qt.Key.Key_End)
    type_text(view.form.address, " кв. 7")
    back: list[bool] = []
    view.sig_back_requested.connect(lambda: back.append(True))
    qtbot.keyClick(view.form.address, Qt.Key.Key_Escape)
    _answer(qtbot, view, "Остаться")
    assert back == []
    assert view.form.address.text().endswith("кв. 7")
    assert view.dirty
    qtbot.keyClick(view.form.address, Qt.Key.Key_Escape)
    _answer(qtbot, view, "Не сохранять")
    assert back == [True]
    assert view.form.address.text() == "г. Москва, ул. Профсоюзная, д. 1"
    assert world.registry.open_card(world.mother.id)[0].address == view.form.address.text()


def test_save_from_the_leave_prompt_goes_back_only_after_saving(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    view.form.address.selectAll()
    type_text(view.form.address, "г. Москва, ул. Новая, д. 5")
    back: list[bool] = []
    view.sig_back_requested.connect(lambda: back.append(True))
    view.request_back()
    _answer(qtbot, view, "Сохранить")
    qtbot.waitUntil(lambda: back == [True], timeout=5000)
    assert world.registry.open_card(world.mother.id)[0].address == "г. Москва, ул. Новая, д. 5"


def test_double_ctrl_s_saves_once_and_the_form_is_locked_meanwhile(
    qtbot: QtBot, world: World
) -> None:
    view = _card(qtbot, world, world.mother.id)
    version = world.registry.open_card(world.mother.id)[0].version_id
    view.form.phone.selectAll()
    type_text(view.form.phone, "8 916 555 44 33")
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert view.saving
    assert not view.form.isEnabled()  # nothing typed now can be silently overwritten
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not view.saving, timeout=5000)
    qtbot.wait(200)
    assert not view.banner.isVisible()  # no false «изменил другой пользователь»
    assert not view.dirty
    assert view.form.isEnabled()
    saved = world.registry.open_card(world.mother.id)[0]
    assert (saved.phone, saved.version_id) == ("+79165554433", version + 1)


def test_opening_another_patient_clears_the_card_at_once(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    view.load(world.child.id)
    assert view.card is None  # nothing of the mother's left to type into
    assert not view.form.isEnabled()
    assert view.form.surname.text() == ""
    qtbot.waitUntil(lambda: view.card is not None, timeout=5000)
    assert view.form.surname.text() == "Соколов"
    assert view.form.isEnabled()


def test_a_missing_patient_goes_back_to_the_search(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    with qtbot.waitSignal(view.sig_back_requested, timeout=5000):
        view.load(10**9)
    assert view.card is None
    assert [type(e).__name__ for e in world.errors.errors] == ["NotFoundError"]


def test_relations_table_keeps_names_readable_on_a_narrow_screen(
    qtbot: QtBot, world: World
) -> None:
    view = _card(qtbot, world, world.child.id)
    table = view.relations
    period = [
        view.relations_model.headerData(i, Qt.Orientation.Horizontal)
        for i in range(view.relations_model.columnCount())
    ].index("Период")
    view.resize(1800, 900)
    qtbot.waitUntil(lambda: not table.isColumnHidden(period), timeout=2000)
    view.resize(1190, 700)  # the card's share of a 1366×768 screen
    qtbot.waitUntil(lambda: table.isColumnHidden(period), timeout=2000)
    name_width = table.columnWidth(0)
    assert name_width >= table.fontMetrics().horizontalAdvance("Соколова Екатерина Петровна")
    assert table.horizontalHeader().length() <= table.viewport().width()
    view.resize(1800, 900)
    qtbot.waitUntil(lambda: not table.isColumnHidden(period), timeout=2000)


def test_ending_a_relation_asks_then_keeps_it_in_the_history(qtbot: QtBot, world: World) -> None:
    start = dt.date.today() - dt.timedelta(days=400)
    world.registry.add_relation(
        world.child.id,
        RelationInput(
            relative_id=world.mother.id,
            kind=RelationKind.MOTHER,
            is_legal_representative=True,
            valid_from=start,
        ),
    )
    view = _card(qtbot, world, world.child.id)
    qtbot.waitUntil(lambda: view.relations_model.rowCount() == 1, timeout=5000)
    view.relations.setFocus()
    view.relations.selectRow(0)
    assert view.end_relation.isEnabled()
    qtbot.mouseClick(view.end_relation, Qt.MouseButton.LeftButton)
    box = view.end_box
    assert box is not None
    assert "мать: Соколова Ирина Петровна" in box.text()
    next(b for b in box.buttons() if b.text() == "Отмена").click()
    qtbot.wait(200)
    assert view.relations_model.row_at(0) is not None
    assert view.relations_model.row_at(0).valid_to is None  # type: ignore[union-attr]
    qtbot.mouseClick(view.end_relation, Qt.MouseButton.LeftButton)
    box = view.end_box
    assert box is not None
    next(b for b in box.buttons() if b.text() == "Прекратить").click()

    def ended() -> bool:
        r = view.relations_model.row_at(0)
        return r is not None and r.valid_to is not None

    qtbot.waitUntil(ended, timeout=5000)  # ended today: still in force through today
    row = view.relations_model.row_at(0)
    assert row is not None
    assert row.valid_to == dt.date.today()
    assert view.relations_model.index(0, 5).data() == (
        f"{start:%d.%m.%Y} – {dt.date.today():%d.%m.%Y}"
    )


def test_the_save_button_saves_like_ctrl_s(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    view.form.address.selectAll()
    type_text(view.form.address, "г. Москва, ул. Новая, д. 5")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.saving and not view.dirty, timeout=5000)
    qtbot.wait(100)
    assert world.errors.errors == []
    assert world.registry.open_card(world.mother.id)[0].address == "г. Москва, ул. Новая, д. 5"


class _FlakyOpen:
    """The registry, except that opening ``patient_id`` fails once with «нет связи»."""

    def __init__(self, registry: Registry, patient_id: int) -> None:
        self._registry = registry
        self._fail = {patient_id}

    def open_card(self, patient_id: int):  # type: ignore[no-untyped-def]
        if patient_id in self._fail:
            self._fail.discard(patient_id)
            raise PeerUnavailable("PostgreSQL: test", "server closed the connection")
        return self._registry.open_card(patient_id)

    def __getattr__(self, name: str) -> object:
        return getattr(self._registry, name)


def test_a_late_retry_of_a_failed_open_asks_before_replacing_other_edits(
    qtbot: QtBot, world: World
) -> None:
    retries: list[object] = []
    view = PatientCardView(
        world.runner,
        _FlakyOpen(world.registry, world.child.id),  # type: ignore[arg-type]
        lambda _p, _e, retry: retries.append(retry),
        [(world.dept_id, "Взрослое отделение")],
    )
    qtbot.addWidget(view)
    view.show()
    view.load(world.child.id)
    qtbot.waitUntil(lambda: bool(retries), timeout=5000)
    assert view.title.text() == "Карта не открыта"
    view.load(world.mother.id)
    qtbot.waitUntil(lambda: view.card is not None, timeout=5000)
    type_text(view.form.address, " кв. 7")
    retry = retries[0]
    assert callable(retry)
    with qtbot.waitSignal(view.sig_open_requested, timeout=2000) as sig:
        retry()  # «Повторить» clicked long after
    assert sig.args == [world.child.id]  # a request that goes through «unsaved edits?»
    assert view.card is not None
    assert view.card.id == world.mother.id
    assert view.dirty


def test_back_while_opening_drops_the_late_answer(qtbot: QtBot, world: World) -> None:
    view = _card(qtbot, world, world.mother.id)
    back: list[bool] = []
    titles: list[str] = []
    view.sig_back_requested.connect(lambda: back.append(True))
    view.sig_title_changed.connect(titles.append)
    view.load(world.child.id)
    view.request_back()
    qtbot.wait(500)
    assert back == [True]
    assert view.card is None
    assert titles == ["Открытие карты…"]
