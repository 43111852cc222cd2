"""The drug field of a prescription: type the start of the МНН (or its Latin), ↓, ↵.

The same keyboard contract as the diagnosis field (:mod:`widgets.emk.mkb_picker`): the line
edit keeps the keyboard; the suggestions are a frameless ``Qt.ToolTip`` list that never takes
focus, steered from the edit's event filter (↓/↑ move, ↵/Tab pick, Esc closes, a click picks).
The catalog is in memory (~140 drugs, a scan of precomputed words), so the search runs here on
the GUI thread after a pause that folds a burst of keys into one search.

Each line says what matters before picking: the forms and strengths, and the blank rules that
follow the drug («только 148-1/у-88», «отдельный бланк», «льготный перечень»).
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

from services.drugs import Drug

__all__ = ["DrugPicker", "drug_line"]

DEBOUNCE_MS = 30
VISIBLE_ROWS = 10
_Index = QModelIndex | QPersistentModelIndex
_WINDOW_CHANGES = (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.WindowDeactivate)
_STEPS = {
    Qt.Key.Key_Down: 1,
    Qt.Key.Key_Up: -1,
    Qt.Key.Key_PageDown: VISIBLE_ROWS - 1,
    Qt.Key.Key_PageUp: 1 - VISIBLE_ROWS,
}


def drug_line(d: Drug) -> str:
    """«Амлодипин (Amlodipini) — таблетки 5 мг, 10 мг · льготный перечень»."""
    forms = "; ".join(f"{f.form.name} {', '.join(f.strengths)}" for f in d.forms[:2])
    if len(d.forms) > 2:
        forms += "; …"
    flags = [
        text
        for on, text in (
            (d.only_148_88, "только бланк 148-1/у-88"),
            (d.one_per_blank, "на отдельном бланке"),
            (d.preferential, "льготный перечень"),
        )
        if on
    ]
    return f"{d.mnn} ({d.latin}) — {forms}" + "".join(f" · {f}" for f in flags)


class _DrugModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.drugs: list[Drug] = []

    def set_drugs(self, drugs: list[Drug]) -> None:
        self.beginResetModel()
        self.drugs = list(drugs)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.drugs)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.drugs):
            return None
        d = self.drugs[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return drug_line(d)
        if role == Qt.ItemDataRole.UserRole:
            return d.id
        return None


class DrugPicker(QWidget):
    """A line edit with the catalog's suggestions below it; the value is the picked drug."""

    sig_picked = Signal(object)
    """The doctor picked this :class:`~services.drugs.Drug`."""
    sig_cleared = Signal()
    """The pick was dropped: the doctor edited the text after picking."""

    def __init__(self, search: Callable[[str], list[Drug]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._drug: Drug | None = None
        self._setting_text = False
        self.edit = QLineEdit(self)  # before the popup, as in MkbPicker (the Tab chain)
        self.edit.setObjectName("drugSearch")
        self.edit.setMaxLength(100)
        self.edit.setClearButtonEnabled(True)
        self.edit.setPlaceholderText("МНН: начните вводить название (↓, Enter — выбрать)")
        self.setFocusProxy(self.edit)
        self.model = _DrugModel(self)
        self.popup = QListView(self)
        self.popup.setObjectName("drugSuggestions")
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

    # --- the value --------------------------------------------------------------------------
    def drug(self) -> Drug | None:
        return self._drug

    def set_drug(self, drug: Drug | None, text: str = "") -> None:
        """Show a drug picked before (or, with none, the query typed before)."""
        self._drug = drug
        self._set_text(f"{drug.mnn} ({drug.latin})" if drug is not None else text)

    # --- typing and the list ----------------------------------------------------------------
    def refresh(self) -> None:
        self._timer.stop()
        text = self.edit.text()
        found = self._search(text) if text.strip() and self._drug is None else []
        self.model.set_drugs(found)
        if found:
            self._show_popup()
        else:
            self.popup.hide()

    def _on_text_changed(self, _text: str) -> None:
        if self._setting_text:
            return
        if self._drug is not None:
            self._drug = None
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
        self.edit.setSelection(len(text), -len(text))  # typing replaces the pick

    def _show_popup(self) -> None:
        rows = min(VISIBLE_ROWS, self.model.rowCount())
        height = rows * max(self.popup.sizeHintForRow(0), 1) + 2 * self.popup.frameWidth()
        pos = self.edit.mapToGlobal(QPoint(0, self.edit.height()))
        self.popup.setGeometry(pos.x(), pos.y(), max(self.edit.width(), 620), height)
        self.popup.show()

    def _pick(self, row: int) -> None:
        if not 0 <= row < len(self.model.drugs):
            return
        d = self.model.drugs[row]
        self.set_drug(d)
        self.sig_picked.emit(d)

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
            self.popup.hide()
        return super().eventFilter(watched, event)

    def _on_key(self, event: QKeyEvent) -> bool:
        """True when the key steered the list (and must not reach the edit)."""
        key = Qt.Key(event.key())
        steering = key in _STEPS or key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if self._timer.isActive() and (steering or key == Qt.Key.Key_Tab):
            self.refresh()
        if not self.popup.isVisible():
            if key == Qt.Key.Key_Down and self.edit.text().strip() and self._drug is None:
                self.refresh()  # ↓ reopens the list that Esc closed
                if self.popup.isVisible():
                    self._move(1)
                return True
            return False
        current = self.popup.currentIndex().row()
        if key in _STEPS:
            self._move(_STEPS[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            # ↵ on a list nobody stepped into picks only an unambiguous single match.
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
        self.window().installEventFilter(self)
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.popup.hide()
        super().hideEvent(event)
