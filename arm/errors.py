"""One presenter for every error, and one safety net that feeds it.

An :class:`~services.errors.ArmError` is shown as its own (Russian, user-ready) message; a
transient one (a peer down) gets «Повторить». Anything else is a bug: the user sees a calm
message, the details (traceback) are one click away and copyable for the IT ticket, and the
log has it. The dialog is non-modal so a doctor can still read the screen behind it.
``ARM_RAISE_ERRORS=1`` (tests, development) re-raises instead of showing anything.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from dicom.errors import DicomError, RetrieveCancelled
from services.errors import ArmError, Cancelled, PeerUnavailable

# The expected failures of each domain layer (``services`` and ``dicom`` are siblings, so each
# has its own base); anything else is a bug.
EXPECTED: tuple[type[BaseException], ...] = (ArmError, DicomError)

__all__ = ["install_excepthooks", "show_error", "user_message"]

log = logging.getLogger(__name__)

BUG_MESSAGE = (
    "Произошла внутренняя ошибка программы. Последнее действие не выполнено; "
    "введённое осталось на экране.\n"
    "Сообщите в службу поддержки, приложив подробности (кнопка «Показать подробности»)."
)


def user_message(exc: BaseException) -> str:
    if isinstance(exc, EXPECTED):
        return str(exc)
    return BUG_MESSAGE


def _details(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def show_error(
    parent: QWidget | None,
    exc: BaseException,
    retry: Callable[[], None] | None = None,
) -> QMessageBox | None:
    """Show ``exc`` to the user; returns the (non-modal) box, or None when nothing is shown."""
    if isinstance(exc, Cancelled | RetrieveCancelled):
        return None
    if os.environ.get("ARM_RAISE_ERRORS") == "1":
        raise exc
    expected = isinstance(exc, EXPECTED)
    if expected:
        log.info("shown to user: %s: %s", type(exc).__name__, exc)
    else:
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    box = QMessageBox(parent)
    box.setWindowTitle("ARM — ошибка" if not expected else "ARM")
    box.setIcon(QMessageBox.Icon.Warning if expected else QMessageBox.Icon.Critical)
    box.setText(user_message(exc))
    if isinstance(exc, PeerUnavailable) and exc.detail:
        box.setInformativeText("Проверьте подключение и повторите попытку.")
    if not expected:
        box.setDetailedText(_details(exc))
    retry_button = None
    if retry is not None and getattr(exc, "transient", False):
        retry_button = box.addButton("Повторить", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Закрыть", QMessageBox.ButtonRole.RejectRole)

    def done() -> None:
        if retry is not None and retry_button is not None and box.clickedButton() is retry_button:
            retry()

    box.finished.connect(done)
    box.setModal(False)
    box.show()
    return box


class _Bridge(QObject):
    sig_error = Signal(object)


_bridge: _Bridge | None = None


def install_excepthooks() -> None:
    """Route uncaught exceptions from any thread to :func:`show_error` on the GUI thread."""
    global _bridge
    if os.environ.get("ARM_RAISE_ERRORS") == "1":
        return
    _bridge = _Bridge()
    _bridge.sig_error.connect(lambda exc: show_error(QApplication.activeWindow(), exc))

    def hook(typ: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(typ, KeyboardInterrupt):
            sys.__excepthook__(typ, exc, tb)
            return
        if _bridge is not None:
            _bridge.sig_error.emit(exc)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
