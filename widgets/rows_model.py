"""A table model over a short list of frozen dataclasses — the one generic adapter.

For lists that arrive whole (a patient's relations, a day's slots); long, paged lists have
their own lazy model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableView

__all__ = ["Column", "RowsModel", "size_columns"]

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex


class Column(Generic[R]):
    """A column: its title, how a row shows in it, and ``sample`` — its widest usual text.

    Widths come from the sample in the table's own font, not from pixels, so «Дата рождения»
    is never cut to «ата рождени» on a PC with larger fonts or another DPI.  An ``optional``
    column (secondary detail, also in the row's tooltip) steps aside on a narrow screen.
    """

    def __init__(
        self, title: str, text: Callable[[R], str], sample: str = "", *, optional: bool = False
    ) -> None:
        self.title = title
        self.text = text
        self.sample = sample
        self.optional = optional


def size_columns(
    table: QTableView, columns: Sequence[Column[Any]], *, stretch: int = 0, min_stretch: str = ""
) -> None:
    """Fit each column to its title and sample; column ``stretch`` (the name) takes the rest.

    Dates, policy numbers and phones are never cut — a truncated number is worse than an
    elided long name.  When the stretch column would get narrower than ``min_stretch``,
    optional columns are hidden from the right, and come back when the window grows.

    Measured again when the table is first shown and whenever its font changes: the style
    sheet's font arrives only at polish time, after the table was built.
    """
    _ColumnSizer(table, list(columns), stretch, min_stretch)


class _ColumnSizer(QObject):
    PADDING = 18

    def __init__(
        self, table: QTableView, columns: list[Column[Any]], stretch: int, min_stretch: str
    ) -> None:
        super().__init__(table)
        self._table = table
        self._columns = columns
        self._stretch = stretch
        self._min_stretch = min_stretch
        self._widths: dict[int, int] = {}
        self._shown = False
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        table.installEventFilter(self)
        table.viewport().installEventFilter(self)  # its Resize comes with the new width
        self.apply()

    def apply(self) -> None:
        body = self._table.fontMetrics()
        head = self._table.horizontalHeader().fontMetrics()
        for i, col in enumerate(self._columns):
            width = max(body.horizontalAdvance(col.sample), head.horizontalAdvance(col.title))
            self._widths[i] = width + self.PADDING
            if i != self._stretch:
                self._table.setColumnWidth(i, self._widths[i])
        self.fit()

    def fit(self) -> None:
        if not self._min_stretch:
            return
        table = self._table
        optional = [i for i, c in enumerate(self._columns) if c.optional]
        fixed = sum(
            w
            for i, w in self._widths.items()
            if i != self._stretch and i not in optional and not table.isColumnHidden(i)
        )
        room = table.viewport().width() - fixed
        room -= table.fontMetrics().horizontalAdvance(self._min_stretch) + self.PADDING
        for i in optional:  # left to right: the first optional column is the most useful
            width = self._widths[i]
            if room >= width:
                table.setColumnHidden(i, False)
                table.setColumnWidth(i, width)
                room -= width
            elif room >= width * 0.6:  # most of it fits: show it, its longest texts elided
                table.setColumnHidden(i, False)
                table.setColumnWidth(i, room)
                room = -1
            else:
                table.setColumnHidden(i, True)
                room = -1  # keep the order: never show a later column while an earlier hides

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is not self._table:
            if kind == QEvent.Type.Resize:
                self.fit()
            return False
        first_show = kind == QEvent.Type.Show and not self._shown
        if first_show or kind in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._shown = self._shown or first_show
            self.apply()
        return False


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(
        self,
        columns: Sequence[Column[R]],
        *,
        dimmed: Callable[[R], bool] | None = None,
        tooltip: Callable[[R], str] | None = None,
        background: Callable[[R], QBrush | None] | None = None,
        foreground: Callable[[R], QBrush | None] | None = None,
    ) -> None:
        super().__init__()
        self._foreground = foreground
        self._columns = list(columns)
        self._rows: list[R] = []
        self._dimmed = dimmed
        self._tooltip = tooltip
        self._background = background

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def refresh(self) -> None:
        """Texts that depend on the clock (a countdown, minutes waiting) are asked again."""
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self._columns) - 1)
            )

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
            if role == Qt.ItemDataRole.ForegroundRole and self._foreground:
                return self._foreground(row)
            if role == Qt.ItemDataRole.ToolTipRole and self._tooltip:
                return self._tooltip(row)
            if role == Qt.ItemDataRole.BackgroundRole and self._background:
                return self._background(row)
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
