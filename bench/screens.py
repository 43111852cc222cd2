"""Render every screen of the running app to PNG for review (not a benchmark: no figures).

Starts the real main window on a throw-away demo SQLite database, drives it the way a
registrar would (type a surname, ↓, ↵, Ctrl+Shift+R) and grabs each screen at the two
resolutions the polyclinics have: 1920×1080 all-in-ones and 1366×768 laptops.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/screens.py [out_dir]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SIZES = ((1920, 1080), (1366, 768))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/screens")
    out.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="arm-screens-")
    os.environ.setdefault("ARM_DATA_DIR", tmp)
    os.environ.setdefault("ARM_USER_CONFIG", str(Path(tmp) / "none.toml"))
    os.environ.setdefault("ARM_SITE_CONFIG", str(Path(tmp) / "none.toml"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget
    from sqlalchemy import select

    from arm.errors import show_error
    from arm.main_window import MainWindow
    from arm.settings import load_settings
    from arm.style import STYLE_SHEET
    from arm.tasks import TaskRunner
    from services.models import FamilyRelation

    app = QApplication(sys.argv)
    app.setStyleSheet(STYLE_SHEET)
    runner = TaskRunner(show_error)
    win = MainWindow(load_settings(demo=True), runner)

    def wait_for(cond: Callable[[], bool], ms: int = 60_000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if cond() else None)
        timer.start(20)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()
        if not cond():
            raise SystemExit(f"screen did not reach its state in {ms} ms")

    def pause(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def key(
        widget: QWidget, k: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
    ) -> None:
        QTest.keyClick(widget, k, mods)  # through the shortcut map, as a real key press

    def shoot(widget: QWidget, name: str) -> None:
        pause(150)
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    win.show()
    win.activateWindow()  # no window manager on Xvfb to do it; shortcuts need an active window
    wait_for(win.isActiveWindow, 5000)
    win.connect_database()
    wait_for(lambda: win.patients is not None)
    section = win.patients
    assert section is not None
    reg = section.registry_view
    for w, h in SIZES:
        win.resize(w, h)
        section.show_search()
        reg.search_edit.setText("ивано")
        reg.search_now()
        wait_for(lambda: reg.model.rowCount() > 0 and not reg.model.loading)
        shoot(win, f"registry-{w}x{h}")

    key(reg.search_edit, Qt.Key.Key_Down)
    key(reg.table, Qt.Key.Key_Down)
    key(reg.table, Qt.Key.Key_Return)
    card = section.card_view
    wait_for(lambda: card.card is not None)
    # Then a child with parents, so the relations table has something in it.
    ws = win.workspace
    with ws.engine.connect() as conn:
        child = conn.execute(
            select(FamilyRelation.patient_id)
            .where(FamilyRelation.is_legal_representative)
            .order_by(FamilyRelation.patient_id)
            .limit(1)
        ).scalar_one()
    section.open_patient(child)
    wait_for(lambda: card.card is not None and card.card.id == child)
    wait_for(lambda: card.relations_model.rowCount() > 0)
    for w, h in SIZES:
        win.resize(w, h)
        shoot(win, f"card-{w}x{h}")
    card.form.phone.setText("123")
    card.form.check_field("phone")
    shoot(win, "card-error-1366x768")
    card.revert()

    key(card, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dlg = card.relation_dialog
    assert dlg is not None
    dlg.search.setText("Соколов")
    wait_for(lambda: dlg.results_model.rowCount() > 0 and not dlg.results_model.loading)
    shoot(dlg, "relation-dialog")
    dlg.reject()
    runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
