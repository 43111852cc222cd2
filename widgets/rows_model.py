"""A table model over a short list of frozen dataclasses — the one generic adapter.

For lists that arrive whole (a patient's relations, a day's slots); long, paged lists have
their own lazy model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

__all__ = ["Column", "RowsModel"]

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex


class Column(Generic[R]):
    def __init__(self, title: str, text: Callable[[R], str], width: int = 120) -> None:
        self.title = title
        self.text = text
        self.width = width


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(
        self,
        columns: Sequence[Column[R]],
        *,
        dimmed: Callable[[R], bool] | None = None,
        tooltip: Callable[[R], str] | None = None,
    ) -> None:
        super().__init__()
        self._columns = list(columns)
        self._rows: list[R] = []
        self._dimmed = dimmed
        self._tooltip = tooltip

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @property
    def rows(self) -> list[R]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        row = self._rows[index.row()]
        try:
            if role == Qt.ItemDataRole.DisplayRole:
                return self._columns[index.column()].text(row)
            if role == Qt.ItemDataRole.ForegroundRole and self._dimmed and self._dimmed(row):
                return QBrush(QColor("#888888"))
            if role == Qt.ItemDataRole.ToolTipRole and self._tooltip:
                return self._tooltip(row)
        except (AttributeError, ValueError, KeyError, IndexError):
            return None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None
