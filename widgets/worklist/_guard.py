"""Background answers for a widget that is gone are dropped, not delivered.

The worklist saves the draft when it is hidden — also when its window closes and the widget
is deleted — so an answer can arrive after the widget's C++ side is gone; touching it then
raises.  Every call the worklist starts goes through :func:`run_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import shiboken6
from PySide6.QtWidgets import QWidget

from widgets.ports import Handle, Runner

__all__ = ["run_for"]

T = TypeVar("T")


def run_for(
    owner: QWidget,
    runner: Runner,
    fn: Callable[[], T],
    *,
    on_success: Callable[[T], None],
    on_failure: Callable[[BaseException], None],
    lane: str = "db",
) -> Handle:
    """``runner.run`` of ``fn()`` whose callbacks run only while ``owner`` exists."""

    def ok(value: T) -> None:
        if shiboken6.isValid(owner):
            on_success(value)

    def failed(exc: BaseException) -> None:
        if shiboken6.isValid(owner):
            on_failure(exc)

    return runner.run(lambda _st: fn(), lane=lane, on_success=ok, on_failure=failed)
