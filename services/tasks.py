"""The Qt-free face of background work: what a long work function may ask of its runner.

Work functions in ``services/``, ``dicom/`` and ``printing/`` take a :class:`TaskState` and
call ``report()`` between steps and ``check()`` where stopping is safe; the GUI's runner
(``arm.tasks``) implements it with a cancel flag and throttled progress signals, the CLI and
tests with :class:`PlainState`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from services.errors import Cancelled

__all__ = ["PlainState", "TaskState"]


class TaskState(Protocol):
    def report(self, done: int, total: int, text: str = "") -> None:
        """Progress: ``done`` of ``total`` steps (``total`` 0 = unknown), with a short label."""

    def cancelled(self) -> bool:
        """True once the user asked to stop."""

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""


class PlainState:
    """A TaskState for the CLI and tests: an optional progress callback and a cancel flag."""

    def __init__(self, on_report: Callable[[int, int, str], None] | None = None) -> None:
        self._flag = threading.Event()
        self._on_report = on_report

    def report(self, done: int, total: int, text: str = "") -> None:
        if self._on_report is not None:
            self._on_report(done, total, text)

    def cancel(self) -> None:
        self._flag.set()

    def cancelled(self) -> bool:
        return self._flag.is_set()

    def check(self) -> None:
        if self._flag.is_set():
            raise Cancelled()
