"""What widgets need from the application shell, as protocols.

``arm/`` implements these (``arm.tasks.TaskRunner``) and passes them into constructors; a
widget never imports ``arm`` (the layer rule), so it states here what it relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from PySide6.QtWidgets import QWidget

__all__ = ["ErrorPresenter", "Handle", "Runner"]

T = TypeVar("T")


class Handle(Protocol):
    def cancel(self) -> None: ...

    def check(self) -> None: ...

    @property
    def finished(self) -> bool: ...


class Runner(Protocol):
    """``lane``: ``"db"`` (the default; database work, one at a time) or ``"io"`` (PACS,
    printing, files — in parallel, never queued behind a slow query)."""

    def run(
        self,
        fn: Callable[[Any], T],
        *,
        lane: Any = ...,
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
        progress_label: str | None = None,
        parent: QWidget | None = None,
    ) -> Handle: ...


ErrorPresenter = Callable[[QWidget | None, BaseException, Callable[[], None] | None], object]
