"""Workstation B for the roaming test: a separate ARM process on the same PostgreSQL.

Prints READY when its gate waits for a card, then signs in with PIN 1234 when the test
inserts the card, and prints the restored card's draft as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtWidgets import QApplication

from arm.errors import show_error
from arm.main_window import MainWindow
from arm.settings import load_settings
from arm.tasks import TaskRunner


def wait(app: QApplication, cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not cond():
        app.processEvents()
        time.sleep(0.01)
        if time.monotonic() > end:
            raise SystemExit("timeout")


def main() -> int:
    app = QApplication(sys.argv[:1])
    runner = TaskRunner(show_error)
    win = MainWindow(load_settings(), runner)
    win.show()
    win.connect_database()
    wait(app, lambda: win.session is not None)
    print("READY", flush=True)  # noqa: T201
    wait(app, lambda: win.gate.asking_pin and win.gate.pin.isEnabled())
    win.gate.pin.setText("1234")
    win.gate.pin.returnPressed.emit()
    wait(app, lambda: win.patients is not None)
    assert win.patients is not None
    card = win.patients.card_view
    wait(app, lambda: card.card is not None and card.dirty)
    print(json.dumps({"address": card.form.address.text(), "title": win.windowTitle()}), flush=True)  # noqa: T201
    win.close()
    runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
