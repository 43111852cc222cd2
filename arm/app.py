"""Starting the GUI: the application object, the runner, the window — in that order, fast.

The window is shown before the database is touched so the doctor sees ARM within a second
even when the server is slow; the connection is made in the DB lane.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from arm.errors import install_excepthooks, show_error
from arm.main_window import MainWindow
from arm.settings import Settings
from arm.style import STYLE_SHEET
from arm.tasks import TaskRunner

__all__ = ["run_gui"]

log = logging.getLogger(__name__)


class _FirstPaintProbe(QObject):
    """For bench/startup.py: print when the window first painted (and when it became usable)."""

    def __init__(self, window: MainWindow, exit_when: str) -> None:
        super().__init__(window)
        self._window = window
        self._exit_when = exit_when
        self._painted = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._painted and event.type() == QEvent.Type.Paint:
            self._painted = True
            QTimer.singleShot(0, lambda: self._mark("FIRST_PAINT", self._exit_when == "paint"))
        return False

    def ready(self) -> None:
        self._mark("READY", True)

    def _mark(self, what: str, quit_now: bool) -> None:
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sys.stdout.write(f"{what} {time.time():.6f} {rss_mb:.1f}\n")
        sys.stdout.flush()
        if quit_now:
            QApplication.quit()


def run_gui(settings: Settings, *, quit_after_ms: int | None = None) -> int:
    """Run the window until it is closed; ``quit_after_ms`` is for start-up benchmarks."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("ARM")
    app.setOrganizationName("ARM")
    app.setStyleSheet(STYLE_SHEET)
    install_excepthooks()
    runner = TaskRunner(show_error)
    rig = None
    if settings.demo:
        from arm.cards import start_demo_rig

        rig = start_demo_rig()  # before the first PC/SC call: it points pcsc-lite at itself
    window = MainWindow(settings, runner, rig=rig)
    probe_mode = os.environ.get("ARM_BENCH_EXIT_ON")  # "paint" or "ready", bench only
    if probe_mode:
        probe = _FirstPaintProbe(window, probe_mode)
        window.sig_ready.connect(probe.ready)
    window.show()
    window.activateWindow()  # keyboard focus at once, also on a PC started without a window manager
    QTimer.singleShot(0, window.connect_database)
    if quit_after_ms is not None:
        QTimer.singleShot(quit_after_ms, app.quit)
    try:
        code = app.exec()
    finally:
        runner.shutdown(wait=True)
        if rig is not None:
            rig.close()
    return code
