"""A study's own window: the viewer, fed from the cache or progressively from the PACS.

A window of its own (not a tab) because a radiologist puts images on the second monitor
and keeps the worklist and the conclusion on the first; a treating doctor closes it with Esc
twice (the first Esc resets the viewer's tools).  Retrieval runs in the IO lane; each
instance that lands in the cache crosses to the GUI thread through a queued signal, so the
first image is on screen while the rest arrives.  Closing the window cancels the retrieval
(what arrived stays in the cache; the next «Открыть» fetches only the rest) and unpins the
study so the cache may evict it later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from dicom.cache import NewInstance, OpenedStudy
from dicom.library import StudyLibrary
from dicom.retrieve import RetrieveResult
from widgets.ports import ErrorPresenter, Handle, Runner
from widgets.viewer.state import ViewerSubject
from widgets.viewer.viewer import StudyViewer

__all__ = ["StudyWindow"]


class StudyWindow(QWidget):
    sig_instance = Signal(str, str, str)  # path, study uid, series uid (from the IO lane)
    sig_closed = Signal(str)  # study uid

    def __init__(
        self,
        runner: Runner,
        library: StudyLibrary,
        subject: ViewerSubject,
        *,
        source: str,
        retrievable: bool,
        show_error: ErrorPresenter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._runner = runner
        self.library = library
        self.subject = subject
        self.source = source
        self.retrievable = retrievable
        self._show_error = show_error
        self._handle: Handle | None = None
        self._pinned = False
        self._closed = False
        title = " · ".join(
            p
            for p in (subject.patient_name, subject.study_description, _date(subject.study_date))
            if p
        )
        self.setWindowTitle(f"Снимки — {title}")
        self.viewer = StudyViewer(subject, runner, parent=self)
        self.status = QLabel()
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Остановить загрузку")
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button = QPushButton("Догрузить (F5)")
        self.retry_button.clicked.connect(self.retrieve)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.viewer, 1)
        layout.addLayout(bar)
        self.sig_instance.connect(self._instance, Qt.ConnectionType.QueuedConnection)
        QShortcut(QKeySequence("F5"), self, self.retrieve)
        QShortcut(QKeySequence("Ctrl+W"), self, self.close)
        self._busy(False)

    # --- start ------------------------------------------------------------------------------
    def start(self) -> None:
        """Show what the cache has at once; fetch from the PACS whatever it lacks."""
        if self.library.cache.study(self.subject.study_uid) is not None:
            self._open_cached()
        else:
            self.retrieve()

    def _open_cached(self) -> None:
        self.status.setText("Открытие из локального кэша…")

        def opened(study: OpenedStudy) -> None:
            if self._closed:
                self.library.close_study(study.study_uid)
                return
            self._pinned = True
            self.viewer.open_cached(study)
            n = sum(len(p) for p in study.series.values())
            if not study.complete and self.retrievable:
                self.retrieve()  # the rest from the PACS; what is here shows meanwhile
                return
            self.status.setText(
                f"Из локального кэша: {n} изобр." + ("" if study.complete else " (не полностью)")
            )

        def failed(exc: BaseException) -> None:
            if self._closed:
                return
            if self.retrievable:
                self.retrieve()
            else:
                self.status.setText(str(exc))
                self._show_error(self, exc, None)

        self._runner.run(
            lambda _st: self.library.open_cached(self.subject.study_uid),
            lane="io",
            on_success=opened,
            on_failure=failed,
        )

    def retrieve(self) -> None:
        if self._closed or self._handle is not None or not self.retrievable:
            return
        uid = self.subject.study_uid
        self.status.setText(f"Запрос в {self.source}…")
        self._busy(True)

        def on_instance(inst: NewInstance) -> None:  # IO lane
            self.sig_instance.emit(str(inst.path), inst.study_uid, inst.series_uid)

        def work(state: Any) -> RetrieveResult:
            return self.library.retrieve(self.source, uid, state, on_instance=on_instance)

        def progress(done: int, total: int, _text: str) -> None:
            if self._closed:
                return
            self.viewer.set_received(done, total)
            self.status.setText(f"Загрузка из {self.source}: {done} из {total}")

        def done(result: RetrieveResult) -> None:
            self._handle = None
            if self._closed:
                return
            self._busy(False)
            self._pin()
            if result.complete:
                self.status.setText(f"Загружено: {result.expected} изобр. из {self.source}")
            else:
                self.status.setText(
                    f"Загружено не всё: нет {result.missing} из {result.expected} — "
                    "F5 догрузит недостающее"
                )
            self.retry_button.setVisible(not result.complete)

        def failed(exc: BaseException) -> None:
            self._handle = None
            if self._closed:
                return
            self._busy(False)
            self.retry_button.setVisible(True)
            self.status.setText(f"{exc} — F5 догрузит недостающее")
            self._show_error(self, exc, self.retrieve)

        def cancelled() -> None:
            self._handle = None
            if not self._closed:
                self._busy(False)
                self.retry_button.setVisible(True)
                self.status.setText("Загрузка остановлена — F5 продолжит")

        self._handle = self._runner.run(
            work,
            lane="io",
            on_success=done,
            on_failure=failed,
            on_progress=progress,
            on_cancel=cancelled,
        )

    def _pin(self) -> None:
        """Keep the study from eviction while it is on screen."""
        if self._pinned:
            return

        def pinned(_study: OpenedStudy) -> None:
            if self._closed:
                self.library.close_study(self.subject.study_uid)
            else:
                self._pinned = True

        self._runner.run(
            lambda _st: self.library.open_cached(self.subject.study_uid),
            lane="io",
            on_success=pinned,
            on_failure=lambda _e: None,  # an incomplete study: the retrieval pinned nothing
        )

    def _instance(self, path: str, study_uid: str, series_uid: str) -> None:
        if not self._closed:
            self.viewer.add_instance(Path(path), study_uid=study_uid, series_uid=series_uid)

    def _busy(self, busy: bool) -> None:
        self.cancel_button.setVisible(busy)
        if busy:
            self.retry_button.setVisible(False)

    # --- end --------------------------------------------------------------------------------
    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    @property
    def loading(self) -> bool:
        return self._handle is not None

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self.cancel()
        self.viewer.shutdown()
        if self._pinned:
            self._pinned = False
            self.library.close_study(self.subject.study_uid)
        self.sig_closed.emit(self.subject.study_uid)
        super().closeEvent(event)


def _date(yyyymmdd: str) -> str:
    s = yyyymmdd.strip()
    return f"{s[6:8]}.{s[4:6]}.{s[:4]}" if len(s) == 8 and s.isdigit() else s
