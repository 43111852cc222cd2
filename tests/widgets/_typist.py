"""A doctor typing a protocol in a real EMK screen, in its own process, until it is killed.

Run by tests/widgets/test_draft_crash.py: ``python -m tests.widgets._typist DB DRAFTS STAFF
PATIENT TEXT``.  After each character it prints ``typed <count> <monotonic time>``.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

CHAR_EVERY_MS = 40


def main() -> None:
    db, drafts_dir, staff_id, patient_id, text = sys.argv[1:6]
    app = QApplication([])
    from pathlib import Path

    from arm.tasks import TaskRunner
    from services.audit import Actor
    from services.db import create_db_engine, make_session_factory
    from services.emk_desk import EmkDesk
    from services.local_drafts import LocalDrafts
    from services.mkb10 import catalog
    from services.models import Role
    from widgets.emk.view import EmkView

    sessions = make_session_factory(create_db_engine(db))
    actor = Actor(int(staff_id), None, frozenset({Role.DOCTOR}))

    def fail(_parent: object, exc: BaseException, _retry: object) -> None:
        print(f"error {exc!r}", flush=True)  # noqa: T201  (the test reads stdout)

    runner = TaskRunner(fail)
    cat = catalog()
    view = EmkView(
        runner,
        EmkDesk(sessions, actor),
        LocalDrafts(Path(drafts_dir)),
        fail,
        cat.search,
        cat.lookup,
        can_write=True,
    )
    view.resize(1366, 768)
    view.show()
    view.open_patient(int(patient_id), tab="protocol")
    typed = 0

    def type_one() -> None:
        nonlocal typed
        editor = view.editor
        if editor is None or editor.patient_id != int(patient_id):
            return  # still loading
        if typed >= len(text):
            return
        edit = editor.sections["complaints"]
        ch = text[typed]
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                edit, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch)
            )
        typed += 1
        print(f"typed {typed} {time.monotonic():.4f}", flush=True)  # noqa: T201

    timer = QTimer()
    timer.timeout.connect(type_one)
    timer.start(CHAR_EVERY_MS)
    app.exec()


if __name__ == "__main__":
    main()
