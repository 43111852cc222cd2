"""The progress/cancel protocol long DICOM work takes: the same as ``services.tasks.TaskState``.

Why a copy and not an import: ``dicom/`` and ``services/`` are sibling layers and may not
import each other (import-linter's layer contract), yet the one task runner in ``arm/tasks.py``
hands every work function the same handle.  This :class:`TaskState` has exactly the methods of
``services.tasks.TaskState`` (``report``, ``cancelled``, ``check``), so that handle — and
``services.tasks.PlainState`` in a CLI — satisfies both protocols structurally; nothing in
``arm/`` needs an adapter.

``check()`` raises whatever the *caller's* state raises (the runner's ``Cancelled``), so the
runner recognises a cancelled DICOM task as its own; :func:`raise_if_cancelled` falls back
to :class:`dicom.errors.RetrieveCancelled` for a state whose ``check`` does not raise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from dicom.errors import RetrieveCancelled

__all__ = ["NullState", "SimpleState", "TaskState", "raise_if_cancelled"]


class TaskState(Protocol):
    def report(self, done: int, total: int, text: str = "") -> None:
        """Progress: ``done`` of ``total`` steps (``total`` 0 = unknown), with a short label."""

    def cancelled(self) -> bool:
        """True once the user asked to stop."""

    def check(self) -> None:
        """Raise the caller's "cancelled" error if the user asked to stop."""


class SimpleState:
    """A TaskState for tests, benches and scripts: a progress callback and a cancel flag."""

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
            raise RetrieveCancelled()


class NullState(SimpleState):
    """No progress wanted, never cancelled."""


def raise_if_cancelled(state: TaskState) -> None:
    """Raise the state's own error if it was cancelled, else :class:`RetrieveCancelled`."""
    if state.cancelled():
        state.check()
        raise RetrieveCancelled()
