"""A keyboard-wedge scanner in the whole window: a scan opens the patient from anywhere,
a person typing the same digits is never taken for one, a locked screen opens nobody, and
an unknown policy offers registration with the number filled in."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from services.validation import make_policy
from tests.arm.test_login import App, _sign_in, app  # noqa: F401  (the fixture)
from widgets.patient_card.register_dialog import RegisterDialog


def _keys(widget: QWidget, text: str, gap_s: float, *, enter: bool = True) -> None:
    """Key presses as a device sends them, ``gap_s`` apart, then Enter.

    A burst is sent without running the event loop between keys — as a scanner's keys queue
    up — so a busy CI machine cannot stretch the gaps; typing at a person's pace runs it."""
    keys = [(Qt.Key.Key_unknown, ch) for ch in text]
    if enter:
        keys.append((Qt.Key.Key_Return, "\r"))
    for key, ch in keys:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            target = QApplication.focusWidget() or widget
            QApplication.sendEvent(target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, ch))
        time.sleep(gap_s)
        if gap_s >= 0.05:
            QApplication.processEvents()
    QApplication.processEvents()


def test_scan_opens_the_card_typing_is_typing(qtbot: QtBot, app: App) -> None:  # noqa: F811
    a = app
    win = a.win
    _sign_in(qtbot, win, a.registrar)
    qtbot.waitUntil(lambda: win.patients is not None and win.work.isVisible(), timeout=5_000)
    assert win.patients is not None
    reg = win.patients.registry_view
    reg.search_edit.setFocus()
    policy = a.patient.policy_number
    assert policy is not None
    scans: list[str] = []
    win.scanner.sig_scanned.connect(scans.append)

    # A person types the number (80 ms a key) and presses Enter: it is a search.
    _keys(reg.search_edit, policy[:10], 0.08, enter=False)
    assert scans == []
    assert reg.search_edit.text() == policy[:10]
    reg.search_edit.clear()

    # The scanner, 3 ms a key, while the cursor is in the search field: the card opens and
    # the field keeps what it had.
    reg.search_edit.setText("шере")
    _keys(reg.search_edit, policy, 0.003)
    assert scans == [policy]
    card = win.patients.card_view
    qtbot.waitUntil(lambda: card.card is not None and card.card.id == a.patient.id, timeout=5_000)
    assert win.patients.currentWidget() is card
    assert reg.search_edit.text() == "шере"

    # Scanned into a field of the open card: the field is left as it was.
    card.form.address.setFocus()
    before = card.form.address.text()
    _keys(card.form.address, f"ENP={policy};", 0.002)
    assert scans[-1] == f"ENP={policy};"
    qtbot.waitUntil(lambda: card.card is not None and card.form.isEnabled(), timeout=5_000)
    assert card.form.address.text() == before  # reopened as stored; no «save changes?»
    assert not card.dirty

    # An unknown policy: registration is offered, the number already in its field.
    unknown = make_policy(987_654)
    _keys(card.form.address, unknown, 0.002)
    qtbot.waitUntil(lambda: win.scan_box is not None, timeout=5_000)
    box = win.scan_box
    assert box is not None
    assert "нет в картотеке" in box.text()
    register = next(b for b in box.buttons() if b.text().startswith("Зарегистрировать"))
    qtbot.mouseClick(register, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.patients is not None and win.patients.register_dialog is not None,
                    timeout=5_000)  # fmt: skip
    dlg = win.patients.register_dialog
    assert isinstance(dlg, RegisterDialog)
    assert dlg.form.policy.text().replace(" ", "") == unknown
    dlg.reject()

    # A locked screen opens nobody.
    a.registrar.card.remove()
    qtbot.waitUntil(lambda: win.locked, timeout=3_000)
    opened = card.card
    win.scanned(policy)
    QApplication.processEvents()
    assert win.locked
    assert card.card is opened


def test_a_scan_in_the_emk_opens_that_patients_record(qtbot: QtBot, app: App) -> None:  # noqa: F811
    a = app
    win = a.win
    _sign_in(qtbot, win, a.doctor)
    qtbot.waitUntil(lambda: win.emk is not None and win.work.isVisible(), timeout=5_000)
    win.go_to("emk")
    assert win.emk is not None
    win.emk.setFocus()
    assert a.patient.policy_number is not None
    t0 = time.monotonic()
    _keys(win.emk, a.patient.policy_number, 0.002)
    emk = win.emk
    qtbot.waitUntil(lambda: emk.patient_id == a.patient.id, timeout=5_000)
    assert time.monotonic() - t0 < 5
    assert "Шереметьева" in emk.header.name_label.text()
