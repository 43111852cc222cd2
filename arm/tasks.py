"""The one background-work mechanism: two lanes, queued results, delayed progress, cancel.

Why two lanes (as Anki's taskman does): the *DB lane* has a single worker so SQLAlchemy
sessions and SQLite writes are serialised by construction — no "database is locked", no two
writes racing from one window; the *I/O lane* runs PACS transfers, SMS, PDF rendering and
file import in parallel without queueing behind a slow query.

Results come back to the GUI thread only through a queued signal; work functions never see a
widget.  A task whose handle was cancelled or superseded drops its result silently ("newest
request wins"), so a view that restarts a search never paints stale rows.  Errors go to one
presenter (``arm.errors.show_error``) unless the caller handles them; ``Cancelled`` is shown to
nobody.

Progress does not flicker: a busy cursor after 300 ms, a dialog with «Отмена» (Esc works)
after 600 ms, updates throttled to 10 per second.
"""

from __future__ import annotations

import enum
import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QProgressDialog, QWidget

from services.errors import Cancelled

__all__ = ["Lane", "TaskHandle", "TaskRunner"]

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_CURSOR_AFTER_MS = 300
DIALOG_AFTER_MS = 600
PROGRESS_INTERVAL_S = 0.1

ErrorHandler = Callable[[QWidget | None, BaseException, Callable[[], None] | None], object]


class Lane(enum.Enum):
    DB = "db"
    IO = "io"


class TaskHandle(Generic[T]):
    """What the caller keeps: cancel it, ask whether it is still running.

    Also the :class:`services.tasks.TaskState` the work function receives.
    """

    def __init__(self, runner: TaskRunner, task_id: int) -> None:
        self.id = task_id
        self._runner = runner
        self._cancel = threading.Event()
        self._finished = False
        self._last_report = 0.0
        self.on_progress: Callable[[int, int, str], None] | None = None

    # --- TaskState, called from the worker thread -------------------------------------
    def report(self, done: int, total: int, text: str = "") -> None:
        now = time.monotonic()
        if now - self._last_report < PROGRESS_INTERVAL_S and done < total:
            return
        self._last_report = now
        self._runner._call_soon(lambda: self._progress(done, total, text))

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    # --- caller side, GUI thread --------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop and drop whatever it returns."""
        self._cancel.set()

    @property
    def finished(self) -> bool:
        return self._finished

    def _progress(self, done: int, total: int, text: str) -> None:
        if not self._cancel.is_set() and self.on_progress is not None:
            self.on_progress(done, total, text)


class _ProgressUi(QObject):
    """Busy cursor, then a cancellable dialog, for one labelled task."""

    def __init__(self, handle: TaskHandle[Any], parent: QWidget | None, label: str) -> None:
        super().__init__(parent)
        self._handle = handle
        self._parent = parent
        self._label = label
        self._cursor = False
        self._dialog: QProgressDialog | None = None
        self._done = False
        self._last: tuple[int, int, str] = (0, 0, "")
        QTimer.singleShot(BUSY_CURSOR_AFTER_MS, self._show_cursor)
        QTimer.singleShot(DIALOG_AFTER_MS, self._show_dialog)

    def _show_cursor(self) -> None:
        if not self._done:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._cursor = True

    def _show_dialog(self) -> None:
        if self._done:
            return
        dlg = QProgressDialog(self._label, "Отмена", 0, 0, self._parent)
        dlg.setWindowTitle("ARM")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(0)
        dlg.canceled.connect(self._handle.cancel)  # Esc triggers canceled too
        self._dialog = dlg
        self.progress(*self._last)
        dlg.show()

    def progress(self, done: int, total: int, text: str) -> None:
        self._last = (done, total, text)
        if self._dialog is not None:
            self._dialog.setMaximum(max(total, 0))
            self._dialog.setValue(min(done, total) if total else 0)
            self._dialog.setLabelText(f"{self._label}\n{text}" if text else self._label)

    def finish(self) -> None:
        self._done = True
        if self._cursor:
            QGuiApplication.restoreOverrideCursor()
            self._cursor = False
        if self._dialog is not None:
            self._dialog.canceled.disconnect(self._handle.cancel)
            self._dialog.reset()
            self._dialog.deleteLater()
            self._dialog = None
        self.deleteLater()


class MainThreadGc(QObject):
    """Run Python's cyclic garbage collector on the GUI thread only.

    With worker threads, an automatic collection can start in a worker and free a cycle that
    holds a Qt wrapper, deleting a QObject from the wrong thread — a segfault (seen here in the
    test suite).  Anki's answer, used here too: switch automatic collection off and collect
    from a timer on the GUI thread.

    Generational, as CPython's own collector is: a young-generation pass (microseconds) when
    enough objects were allocated, the middle one every tenth time, the full one (40+ ms with
    Qt, SQLAlchemy and the screens loaded) only when the middle one has run ten times.  A
    full collection every second froze the GUI for a frame in every second — the tail of the
    status-change round trip in bench/schedule.py.
    """

    INTERVAL_MS = 1000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(self.INTERVAL_MS)

    def collect(self) -> int | None:
        """Collect the generation that is due; returns it (None: nothing was due)."""
        count = gc.get_count()
        if count[0] <= self._thresholds[0]:
            return None
        generation = 0
        if count[1] > self._thresholds[1]:
            generation = 2 if count[2] > self._thresholds[2] else 1
        gc.collect(generation)
        return generation


class TaskRunner(QObject):
    """Runs work functions off the GUI thread and delivers their outcome on it."""

    sig_busy_changed = Signal(bool)
    """Emitted when the first task starts and when the last one ends."""

    _sig_call = Signal(object)

    def __init__(
        self,
        error_handler: ErrorHandler,
        *,
        synchronous: bool = False,
        io_workers: int = 4,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._error_handler = error_handler
        self._synchronous = synchronous
        self._lanes = {
            Lane.DB: ThreadPoolExecutor(max_workers=1, thread_name_prefix="arm-db"),
            Lane.IO: ThreadPoolExecutor(max_workers=io_workers, thread_name_prefix="arm-io"),
        }
        self._ids = itertools.count(1)
        self._running = 0
        self._closed = False
        self._sig_call.connect(self._on_call, Qt.ConnectionType.QueuedConnection)
        self._gc = MainThreadGc(self)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def run(
        self,
        fn: Callable[[TaskHandle[T]], T],
        *,
        lane: Lane | str = Lane.DB,
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        progress_label: str | None = None,
        parent: QWidget | None = None,
    ) -> TaskHandle[T]:
        """Start ``fn(state)`` in ``lane``; callbacks run on the GUI thread unless cancelled.

        ``progress_label`` turns on the delayed busy cursor and the cancellable dialog.
        Without ``on_failure`` an error goes to the presenter with a «Повторить» that reruns
        the same task.  ``on_cancel`` runs when the task ends cancelled (the user's «Отмена»
        in the progress dialog, or the caller's own ``cancel()``).
        """
        handle: TaskHandle[T] = TaskHandle(self, next(self._ids))
        if self._closed:  # the window is closing: a late timer's poll is dropped, not raised
            handle.cancel()
            handle._finished = True
            return handle
        ui = _ProgressUi(handle, parent, progress_label) if progress_label else None

        def progress(done: int, total: int, text: str) -> None:
            if ui is not None:
                ui.progress(done, total, text)
            if on_progress is not None:
                on_progress(done, total, text)

        handle.on_progress = progress

        def retry() -> None:
            self.run(
                fn,
                lane=lane,
                on_success=on_success,
                on_failure=on_failure,
                on_progress=on_progress,
                on_cancel=on_cancel,
                progress_label=progress_label,
                parent=parent,
            )

        def deliver(ok: bool, value: Any) -> None:
            handle._finished = True
            if ui is not None:
                ui.finish()
            self._set_running(-1)
            if handle.cancelled() or isinstance(value, Cancelled):
                if on_cancel is not None:
                    on_cancel()
                return
            if ok:
                if on_success is not None:
                    on_success(value)
            elif on_failure is not None:
                on_failure(value)
            else:
                self._error_handler(parent, value, retry)

        self._set_running(+1)
        if self._synchronous:
            try:
                result = fn(handle)
            except Exception as exc:  # noqa: BLE001 — every failure goes to the one error path
                deliver(False, exc)
            else:
                deliver(True, result)
            return handle

        def work() -> None:
            try:
                result = fn(handle)
            except Exception as exc:
                if not isinstance(exc, Cancelled):
                    log.debug("task %s failed", handle.id, exc_info=True)
                failure: BaseException = exc
                self._call_soon(lambda: deliver(False, failure))
            else:
                self._call_soon(lambda: deliver(True, result))

        future: Future[None] = self._lanes[Lane(lane)].submit(work)
        del future
        return handle

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop accepting work; queued tasks are dropped, running ones finish."""
        self._closed = True
        for ex in self._lanes.values():
            ex.shutdown(wait=wait, cancel_futures=True)
        gc.collect()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until both lanes have drained (CLI, tests, shutdown)."""
        deadline = time.monotonic() + timeout
        for ex in self._lanes.values():
            fut = ex.submit(lambda: None)
            try:
                fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return False
        return True

    # --- internals ----------------------------------------------------------------------
    def _call_soon(self, fn: Callable[[], None]) -> None:
        if self._synchronous:
            fn()
        else:
            self._sig_call.emit(fn)

    def _on_call(self, fn: Callable[[], None]) -> None:
        fn()

    def _set_running(self, delta: int) -> None:
        before = self._running
        self._running += delta
        if (before == 0) != (self._running == 0):
            self.sig_busy_changed.emit(self._running > 0)
