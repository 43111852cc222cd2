"""The diagnosis field of the protocol editor: type a МКБ-10 code or words of its name, pick one.

The line edit keeps the keyboard the whole time.  The suggestion list is a frameless
``Qt.ToolTip`` window that never takes focus, steered from the edit's event filter (↓/↑ move,
↵/Tab pick, Esc closes; a click picks).  A ``Qt.Popup`` would grab the keyboard and every letter
would have to be forwarded back to the edit — which is how completers end up eating keystrokes.

Searching the in-memory catalog costs a few milliseconds, so it runs here on the GUI thread,
after a short pause that folds a burst of keys into one search; a navigation key flushes the
pause first, so ↓ or ↵ typed fast never act on a stale list.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QHideEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QListView, QVBoxLayout, QWidget

from services.mkb10 import MkbEntry

__all__ = ["MkbListModel", "MkbPicker"]

DEBOUNCE_MS = 30
VISIBLE_ROWS = 12
_Index = QModelIndex | QPersistentModelIndex
_WINDOW_CHANGES = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.WindowDeactivate)
_STEPS = {
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_PageDown: VISIBLE_ROWS - 1,
    Qt.Key.Key_PageUp: 1 - VISIBLE_ROWS,
}


def entry_line(e: MkbEntry) -> str:
    """«J06.9  Острая инфекция …»; an asterisk code «G01*  …», a dagger code «A17.0†  …»."""
    mark = "*" if e.asterisk else "†" if e.dagger else ""
    return f"{e.code}{mark}  {e.name}"


class MkbListModel(QAbstractListModel):
    """The suggestions for the current text, one line per code."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[MkbEntry] = []

    def set_entries(self, entries: list[MkbEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry_line(e)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.code} — {e.name}"  # the full name where the line is elided
        if role == Qt.ItemDataRole.UserRole:
            return e.code
        return None


class MkbPicker(QWidget):
    """A line edit with a suggestion list below it; the value is the picked code."""

    sig_picked = Signal(str)
    """The doctor picked this code from the list."""
    sig_cleared = Signal()
    """The picked code was dropped because the doctor edited the text after picking."""

    def __init__(
        self,
        search: Callable[[str], list[MkbEntry]],
        lookup: Callable[[str], MkbEntry | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._search = search
        self._lookup = lookup
        self._code = ""
        self._setting_text = False
        self.edit = QLineEdit(self)  # before the popup: see below
        self.edit.setObjectName("mkbCode")
        self.edit.setMaxLength(200)
        self.edit.setClearButtonEnabled(True)
        self.setFocusProxy(self.edit)
        self.model = MkbListModel(self)
        # A window child created before the focus proxy's edit cuts the widgets after this
        # picker out of the parent's Tab chain (seen with PySide6 6.11).
        self.popup = QListView(self)
        self.popup.setObjectName("mkbSuggestions")
        self.popup.setWindowFlags(Qt.WindowType.ToolTip)
        self.popup.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.popup.setModel(self.model)
        self.popup.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.popup.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.popup.setUniformItemSizes(True)
        self.popup.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.popup.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self.edit.textChanged.connect(self._on_text_changed)
        self._timer.timeout.connect(self.refresh)
        self.popup.clicked.connect(lambda index: self._pick(index.row()))
        self.edit.installEventFilter(self)
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        self.edit.setPlaceholderText("Код или название по МКБ-10")

    # --- the value --------------------------------------------------------------------------
    def code(self) -> str:
        """The picked code, or "" while nothing is picked."""
        return self._code

    def set_code(self, code: str) -> None:
        """Show the code of an existing record, withdrawn or unknown ones included, as is."""
        code = code.strip()
        entry = self._lookup(code) if code else None
        if entry is not None:
            self._code = entry.code
            gone = "" if entry.actual else " (исключён)"
            self._set_text(f"{entry.code} — {entry.name}{gone}")
        else:
            self._code = code  # an old record keeps its code even if the catalog lost it
            self._set_text(f"{code} (нет в справочнике)" if code else "")

    # --- typing and the list ----------------------------------------------------------------
    def refresh(self) -> None:
        """Bring the list in line with the text now."""
        self._timer.stop()
        text = self.edit.text()
        entries = self._search(text) if text.strip() and not self._code else []
        self.model.set_entries(entries)
        if entries:
            self._show_popup()
        else:
            self.popup.hide()

    def _on_text_changed(self, _text: str) -> None:
        if self._setting_text:
            return
        if self._code:
            self._code = ""
            self.sig_cleared.emit()
        self._timer.start()

    def _set_text(self, text: str) -> None:
        self._timer.stop()
        self.popup.hide()
        self._setting_text = True
        try:
            self.edit.setText(text)
        finally:
            self._setting_text = False
        # Selected from the end back to the start: the code stays in view, and typing
        # replaces the whole pick with a new query.
        self.edit.setSelection(len(text), -len(text))

    def _show_popup(self) -> None:
        rows = min(VISIBLE_ROWS, self.model.rowCount())
        height = rows * max(self.popup.sizeHintForRow(0), 1) + 2 * self.popup.frameWidth()
        pos = self.edit.mapToGlobal(QPoint(0, self.edit.height()))
        self.popup.setGeometry(pos.x(), pos.y(), max(self.edit.width(), 560), height)
        self.popup.show()

    def _pick(self, row: int) -> None:
        if not 0 <= row < len(self.model.entries):
            return
        entry = self.model.entries[row]
        self._code = entry.code
        self._set_text(f"{entry.code} — {entry.name}")
        self.sig_picked.emit(entry.code)

    def _move(self, step: int) -> None:
        count = self.model.rowCount()
        current = self.popup.currentIndex().row()
        row = count - 1 if current < 0 and step < 0 else max(0, min(count - 1, current + step))
        self.popup.setCurrentIndex(self.model.index(row))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit:
            if event.type() == QEvent.Type.FocusOut:
                self.popup.hide()
            elif event.type() == QEvent.Type.KeyPress:
                assert isinstance(event, QKeyEvent)
                return self._on_key(event)
        elif watched is self.window() and event.type() in _WINDOW_CHANGES:
            self.popup.hide()  # a list left floating where the field used to be
        return super().eventFilter(watched, event)

    def _on_key(self, event: QKeyEvent) -> bool:
        """True when the key steered the list (and must not reach the edit)."""
        key = Qt.Key(event.key())
        steering = key in _STEPS or key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if self._timer.isActive() and (steering or key == Qt.Key.Key_Tab):
            self.refresh()
        if not self.popup.isVisible():
            if key == Qt.Key.Key_Down and self.edit.text().strip() and not self._code:
                self.refresh()  # ↓ reopens the list that Esc closed
                if self.popup.isVisible():
                    self._move(1)
                return True
            return False
        current = self.popup.currentIndex().row()
        if key in _STEPS:
            self._move(_STEPS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            # ↵ on a list nobody has stepped into picks only an unambiguous single match.
            self._pick(0 if current < 0 and self.model.rowCount() == 1 else current)
        elif key == Qt.Key.Key_Escape:
            self.popup.hide()
        elif key == Qt.Key.Key_Tab:
            self._pick(current)
            self.popup.hide()
            return False  # Tab still moves on to the next field
        else:
            return False
        return True

    def showEvent(self, event: QShowEvent) -> None:
        self.window().installEventFilter(self)  # installing twice keeps one filter
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.popup.hide()
        super().hideEvent(event)
