"""A keyboard-wedge barcode scanner, told apart from a person typing.

A scanner "types" its payload and Enter in a burst — a few milliseconds between keys, where
even a fast typist needs ~80 ms.  Keys go to the focused widget as usual (nothing a person
types is delayed or held back); the detector only watches the timing.  When Enter ends a
burst of at least ``min_length`` characters, each within ``gap_ms`` of the one before, the
burst was a scan: the field it landed in gets back the text it had before the burst, the
Enter never reaches it, and ``sig_scanned`` carries the payload.

Only the given window is watched: a dialog's field (registering a patient) takes a scan as
typing, which is what the user expects there.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

__all__ = ["WedgeScanner"]

_PLAIN = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
Snapshot = tuple[str, int] | None


def _snapshot(w: QObject) -> Snapshot:
    if isinstance(w, QLineEdit):
        return w.text(), w.cursorPosition()
    if isinstance(w, QPlainTextEdit | QTextEdit):
        return w.toPlainText(), w.textCursor().position()
    return None


def _restore(w: QObject, snap: Snapshot) -> None:
    if snap is None:
        return
    text, pos = snap
    if isinstance(w, QLineEdit):
        w.setText(text)
        w.setCursorPosition(pos)
        w.textEdited.emit(text)  # listeners re-check: an edit undone is no edit
    elif isinstance(w, QPlainTextEdit | QTextEdit):
        if w.toPlainText() != text:
            w.setPlainText(text)
        cursor = w.textCursor()
        cursor.setPosition(min(pos, len(text)), QTextCursor.MoveMode.MoveAnchor)
        w.setTextCursor(cursor)


class WedgeScanner(QObject):
    sig_scanned = Signal(str)

    def __init__(
        self,
        window: QWidget,
        *,
        gap_ms: int = 30,
        min_length: int = 8,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.gap_ms = gap_ms
        self.min_length = min_length
        self._chars: list[str] = []
        self._target: QObject | None = None
        self._before: Snapshot = None
        self._last = 0.0
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)

    def stop(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def _reset(self) -> None:
        self._chars = []
        self._target = None
        self._before = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        if not (isinstance(obj, QWidget) and obj.window() is self.window):
            return False
        assert isinstance(event, QKeyEvent)
        now = time.monotonic()
        in_burst = bool(self._chars) and (now - self._last) * 1000 <= self.gap_ms
        if self._target is not None and obj is not self._target:
            # The same key event travelling up to a parent: seen already.
            if in_burst and obj.isAncestorOf(self._target):  # type: ignore[arg-type]
                return False
        if event.key() in _ENTER:
            if in_burst and len(self._chars) >= self.min_length:
                payload = "".join(self._chars)
                if self._target is not None:
                    _restore(self._target, self._before)
                self._reset()
                self.sig_scanned.emit(payload)
                return True
            self._reset()
            return False
        text = event.text()
        plain = not (event.modifiers() & ~_PLAIN)
        if plain and len(text) == 1 and text.isprintable() and not event.isAutoRepeat():
            if not in_burst:
                self._reset()
                self._target = obj
                self._before = _snapshot(obj)
            self._chars.append(text)
            self._last = now
            return False
        self._reset()
        return False
