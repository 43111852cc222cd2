"""The МКБ-10 field of the protocol editor, typed into the way a doctor does."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from services.mkb10 import catalog
from tests.widgets.keys import type_text
from widgets.emk.mkb_picker import MkbPicker


def _show_focused(qtbot: QtBot, window: QWidget, picker: MkbPicker) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    picker.setFocus()
    assert picker.edit.hasFocus()


@pytest.fixture
def picker(qtbot: QtBot) -> MkbPicker:
    cat = catalog()
    w = MkbPicker(cat.search, cat.lookup)
    qtbot.addWidget(w)
    w.resize(600, 40)
    _show_focused(qtbot, w, w)
    return w


def _type(qtbot: QtBot, picker: MkbPicker, text: str) -> None:
    type_text(picker.edit, text)
    qtbot.waitUntil(lambda: picker.popup.isVisible(), timeout=2000)


def _rows(picker: MkbPicker) -> list[str]:
    return [picker.model.index(r).data() for r in range(picker.model.rowCount())]


def test_type_words_arrow_down_enter_picks_that_code(qtbot: QtBot, picker: MkbPicker) -> None:
    assert picker.edit.placeholderText() == "Код или название по МКБ-10"
    _type(qtbot, picker, "бронх")
    assert _rows(picker)[:2] == [
        "J18.0  Бронхопневмония неуточненная",
        "J40  Бронхит, не уточненный как острый или хронический",
    ]
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Up)
    assert picker.popup.currentIndex().row() == 0
    with qtbot.waitSignal(picker.sig_picked, timeout=1000) as sig:
        qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    assert sig.args == ["J18.0"]
    assert picker.code() == "J18.0"
    assert picker.edit.text() == "J18.0 — Бронхопневмония неуточненная"
    assert not picker.popup.isVisible()
    assert picker.edit.hasFocus()


def test_typing_goes_on_into_the_field_while_the_list_is_open(
    qtbot: QtBot, picker: MkbPicker
) -> None:
    _type(qtbot, picker, "остр")
    type_text(picker.edit, "ый бронх")
    assert picker.edit.text() == "острый бронх"  # no letter eaten by the list
    qtbot.waitUntil(lambda: _rows(picker)[0].startswith("J20.0  Острый бронхит"), timeout=2000)
    assert picker.popup.isVisible()
    assert picker.edit.hasFocus()
    assert picker.code() == ""


def test_enter_right_after_typing_acts_on_the_new_text(qtbot: QtBot, picker: MkbPicker) -> None:
    with qtbot.waitSignal(picker.sig_picked, timeout=1000) as sig:
        qtbot.keyClicks(picker.edit, "j069")  # no pause: the debounce has not fired yet
        qtbot.keyClick(picker.edit, Qt.Key.Key_Return)  # a single match is picked as is
    assert sig.args == ["J06.9"]
    assert picker.edit.text() == "J06.9 — Острая инфекция верхних дыхательных путей неуточненная"


def test_enter_without_choosing_from_several_picks_nothing(qtbot: QtBot, picker: MkbPicker) -> None:
    _type(qtbot, picker, "бронх")
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    assert picker.code() == ""
    assert picker.popup.isVisible()


def test_russian_layout_code_and_tab_picks(qtbot: QtBot) -> None:
    box = QWidget()
    qtbot.addWidget(box)
    cat = catalog()
    picker = MkbPicker(cat.search, cat.lookup)
    other = QLineEdit()
    layout = QVBoxLayout(box)
    layout.addWidget(picker)
    layout.addWidget(other)
    _show_focused(qtbot, box, picker)
    _type(qtbot, picker, "о06ю9")
    assert _rows(picker)[0].startswith("J06.9  ")
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    with qtbot.waitSignal(picker.sig_picked, timeout=1000) as sig:
        qtbot.keyClick(picker.edit, Qt.Key.Key_Tab)
    assert sig.args == ["J06.9"]
    assert other.hasFocus()  # Tab both picks and moves on


def test_esc_closes_the_list_and_keeps_the_text(qtbot: QtBot, picker: MkbPicker) -> None:
    _type(qtbot, picker, "остр")
    qtbot.keyClick(picker.edit, Qt.Key.Key_Escape)
    assert not picker.popup.isVisible()
    assert picker.edit.text() == "остр"
    assert picker.code() == ""
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)  # ↓ brings it back, on the first row
    assert picker.popup.isVisible()
    assert picker.popup.currentIndex().row() == 0


def test_retyping_after_a_pick_drops_the_code(qtbot: QtBot, picker: MkbPicker) -> None:
    qtbot.keyClicks(picker.edit, "j069")
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    assert picker.code() == "J06.9"
    with qtbot.waitSignal(picker.sig_cleared, timeout=1000):
        qtbot.keyClicks(picker.edit, "e")  # the pick is selected: typing replaces it
    assert picker.code() == ""
    assert picker.edit.text() == "e"
    qtbot.waitUntil(lambda: picker.popup.isVisible(), timeout=2000)


def test_a_click_picks(qtbot: QtBot, picker: MkbPicker) -> None:
    _type(qtbot, picker, "E11")
    index = picker.model.index(2)
    with qtbot.waitSignal(picker.sig_picked, timeout=1000) as sig:
        qtbot.mouseClick(
            picker.popup.viewport(),
            Qt.MouseButton.LeftButton,
            pos=picker.popup.visualRect(index).center(),
        )
    assert sig.args == ["E11.2"]
    assert picker.code() == "E11.2"


def test_asterisk_and_dagger_codes_are_marked(qtbot: QtBot, picker: MkbPicker) -> None:
    _type(qtbot, picker, "G01")
    rows = _rows(picker)
    assert rows[0].startswith("G01*  Менингит при бактериальных болезнях")
    assert rows[1] == "A17.0†  Туберкулезный менингит (G01*)"


def test_set_code_shows_old_records_as_they_are(qtbot: QtBot, picker: MkbPicker) -> None:
    picked: list[str] = []
    picker.sig_picked.connect(picked.append)
    picker.set_code("A90")
    assert picker.code() == "A90"
    assert picker.edit.text() == "A90 — Лихорадка денге [классическая лихорадка денге] (исключён)"
    picker.set_code("j06.9")
    assert picker.code() == "J06.9"
    assert picker.edit.text().startswith("J06.9 — Острая инфекция")
    picker.set_code("Z99.99")
    assert picker.code() == "Z99.99"
    assert picker.edit.text() == "Z99.99 (нет в справочнике)"
    picker.set_code("")
    assert (picker.code(), picker.edit.text()) == ("", "")
    qtbot.wait(80)  # past the debounce: setting a code never opens the list
    assert not picker.popup.isVisible()
    assert picked == []


def test_leaving_the_field_closes_the_list(qtbot: QtBot, picker: MkbPicker) -> None:
    _type(qtbot, picker, "остр")
    picker.edit.clearFocus()
    assert not picker.popup.isVisible()


def test_model_passes_qt_model_tester(qtbot: QtBot, qtmodeltester: Any, picker: MkbPicker) -> None:
    _type(qtbot, picker, "остр")
    qtmodeltester.check(picker.model)
