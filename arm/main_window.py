"""The main window shell: navigation on the left, the current section on the right.

Sections appear as their issues land (Schedule, EMK, Studies join Patients); there are no
placeholder screens.  The window paints at once; the database is opened in the background
and the sections are built when it is ready.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from arm import __version__
from arm.errors import user_message
from arm.settings import Settings
from arm.tasks import TaskRunner

if TYPE_CHECKING:
    from arm.patients_section import PatientsSection
    from arm.workspace import Workspace

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    sig_ready = Signal()
    """The database is open and the sections are built."""

    def __init__(self, settings: Settings, runner: TaskRunner) -> None:
        super().__init__()
        self._settings = settings
        self._runner = runner
        self.workspace: Workspace | None = None
        self.patients: PatientsSection | None = None
        self._section_title = ""

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(160)
        self.stack = QStackedWidget()
        self.startup = QWidget()
        self.startup_label = QLabel("Подключение к базе данных…")
        self.startup_label.setObjectName("startupMessage")
        self.startup_label.setWordWrap(True)
        self.retry_button = QPushButton("Повторить")
        self.retry_button.setVisible(False)
        s_layout = QVBoxLayout(self.startup)
        s_layout.addStretch(1)
        s_layout.addWidget(self.startup_label, 0, Qt.AlignmentFlag.AlignCenter)
        s_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignCenter)
        s_layout.addStretch(2)
        self.stack.addWidget(self.startup)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status_db = QLabel()
        self.status_busy = QLabel()
        self.statusBar().addPermanentWidget(self.status_busy)
        self.statusBar().addPermanentWidget(self.status_db)
        self.resize(1366, 768)
        self._update_title()

        self.retry_button.clicked.connect(self.connect_database)
        self._runner.sig_busy_changed.connect(
            lambda b: self.status_busy.setText("⏳ работа…" if b else "")
        )
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)

    # --- start-up --------------------------------------------------------------------------
    def connect_database(self) -> None:
        self.retry_button.setVisible(False)
        self.startup_label.setText("Подключение к базе данных…")

        def work(state: object) -> Workspace:
            # Imported here, in the DB lane: SQLAlchemy and the services load while the
            # window is already painted (start-up budget, bench/startup.py).
            from arm.workspace import open_workspace

            return open_workspace(self._settings, state)  # type: ignore[arg-type]

        self._runner.run(
            work,
            on_success=self.attach_workspace,
            on_failure=self._startup_failed,
            on_progress=lambda _d, _t, text: self.startup_label.setText(text) if text else None,
        )

    def _startup_failed(self, exc: BaseException) -> None:
        self.startup_label.setText("Не удалось открыть базу данных.\n\n" + user_message(exc))
        self.retry_button.setVisible(True)

    def attach_workspace(self, ws: Workspace) -> None:
        from arm.patients_section import PatientsSection

        self.workspace = ws
        self.patients = PatientsSection(self._runner, ws, page_size=self._settings.search_page_size)
        self.patients.sig_title_changed.connect(self._set_section_title)
        self.stack.removeWidget(self.startup)
        self.startup.deleteLater()
        self.stack.addWidget(self.patients)
        self.nav.addItem("Пациенты  F2")
        QShortcut(QKeySequence("F2"), self, lambda: self.go_to(0))
        self.nav.setCurrentRow(0)
        self.status_db.setText(f"АРМ {ws.workstation_code}   ·   {ws.database}")
        self._set_section_title("Пациенты")
        self.patients.registry_view.focus_search()
        self.sig_ready.emit()

    def go_to(self, row: int) -> None:
        self.nav.setCurrentRow(row)
        if row == 0 and self.patients is not None:
            self.patients.show_search()

    # --- title -----------------------------------------------------------------------------
    def _set_section_title(self, text: str) -> None:
        self._section_title = text
        self._update_title()

    def _update_title(self) -> None:
        parts = ["ARM " + __version__]
        if self._section_title:
            parts.append(self._section_title)
        ws = self.workspace
        if ws is not None:
            who = f"{ws.staff_name}, {ws.staff_position.lower()}"
            if ws.demo_sign_in:
                who += " (демо-вход)"
            parts.append(who)
        self.setWindowTitle(" — ".join(parts))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing with unsaved edits asks first; after «Сохранить» the window closes once
        the save has succeeded, after «Остаться» it stays."""
        patients = self.patients
        if patients is not None and (patients.card_view.dirty or patients.card_view.saving):
            event.ignore()
            patients.setCurrentWidget(patients.card_view)

            def close_now() -> None:
                self.close()

            patients.card_view.leave(close_now)
            return
        event.accept()
