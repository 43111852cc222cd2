"""The series strip on the viewer's left: a thumbnail, title and count per series.

A list model over small rows the viewer replaces as slices arrive (a study has a handful of
series, so a whole-row refresh is cheap); thumbnails are made once per series from a slice
already in memory, 96 px, a few tens of KB each — never a picture per slice.  The strip takes
no keyboard focus: keys stay on the canvas, where ↑/↓ already move between series.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from dicom.reader import Geometry
from dicom.windowing import Window, WindowLevel

__all__ = ["THUMB", "SeriesModel", "SeriesRow", "SeriesStrip", "make_thumbnail"]

THUMB = 96
Index = QModelIndex | QPersistentModelIndex


def make_thumbnail(
    wl: WindowLevel, pixels: np.ndarray, geometry: Geometry, window: Window | None
) -> QImage | None:
    """A slice in its series' window, at most :data:`THUMB` px, as a QImage of its own."""
    rows, cols = pixels.shape[:2]
    try:
        if pixels.ndim == 3:
            image = QImage(pixels.data, cols, rows, pixels.strides[0], QImage.Format.Format_RGB888)
        else:
            with np.errstate(all="ignore"):  # NaN/inf from absurd rescale values
                grey = wl.render(
                    pixels,
                    window or Window(0.0, 256.0),
                    slope=geometry.rescale_slope,
                    intercept=geometry.rescale_intercept,
                    invert=geometry.photometric == "MONOCHROME1",
                )
            image = QImage(grey.data, cols, rows, grey.strides[0], QImage.Format.Format_Grayscale8)
        # scaled() returns a copy: the buffer under ``image`` is reused by the next render
        return image.scaled(
            THUMB,
            THUMB,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    except (ValueError, TypeError, MemoryError, OverflowError):
        return None


@dataclass(frozen=True)
class SeriesRow:
    uid: str
    title: str
    count: int
    modality: str = ""
    errors: int = 0
    thumb_key: str = ""
    """The slice the thumbnail was made from; the viewer remakes it when the middle moves."""


class SeriesModel(QAbstractListModel):
    """Series in strip order; ``data()`` only reads what the viewer put here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[SeriesRow] = []
        self._icons: dict[str, QIcon] = {}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 — Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            count = (
                f"{row.modality} · {row.count} изобр." if row.modality else f"{row.count} изобр."
            )
            errors = f"\n⚠ с ошибкой: {row.errors}" if row.errors else ""
            return f"{row.title}\n{count}{errors}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons.get(row.uid)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.title
        if role == Qt.ItemDataRole.UserRole:
            return row.uid
        if role == Qt.ItemDataRole.ForegroundRole and row.errors and row.errors == row.count:
            return QColor("#c62828")
        return None

    def set_rows(self, rows: list[SeriesRow]) -> None:
        """Replace the rows: a reset when the series themselves changed, else row updates."""
        if [r.uid for r in rows] != [r.uid for r in self.rows]:
            self.beginResetModel()
            self.rows = list(rows)
            self.endResetModel()
            return
        for i, (old, new) in enumerate(zip(self.rows, rows, strict=True)):
            if old != new:
                self.rows[i] = new
                self.dataChanged.emit(self.index(i), self.index(i))

    def set_thumbnail(self, uid: str, image: QImage, key: str) -> None:
        pixmap = QPixmap.fromImage(image)
        icon = QIcon(pixmap)
        icon.addPixmap(pixmap, QIcon.Mode.Selected)  # no selection tint over the picture
        self._icons[uid] = icon
        for i, row in enumerate(self.rows):
            if row.uid == uid:
                self.rows[i] = replace(row, thumb_key=key)
                self.dataChanged.emit(self.index(i), self.index(i))

    def row_of(self, uid: str) -> int:
        for i, row in enumerate(self.rows):
            if row.uid == uid:
                return i
        return -1


class _FullWidth(QStyledItemDelegate):
    """Every item as wide as the strip: thumbnails line up, long titles are elided, not wrapped."""

    def __init__(self, width: int, parent: QWidget) -> None:
        super().__init__(parent)
        self._width = width

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self._width, super().sizeHint(option, index).height())


class SeriesStrip(QListView):
    """Thumbnails top to bottom; a click chooses the series."""

    sig_series_chosen = Signal(str)
    """The user clicked this series (its Series Instance UID)."""

    def __init__(self, model: SeriesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.TopToBottom)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setSpacing(4)
        self.setWordWrap(False)  # one line each: title (elided; whole in the tooltip), count
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setItemDelegate(_FullWidth(THUMB + 72, self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(THUMB + 84)
        self.setGridSize(QSize(THUMB + 76, THUMB + 58))
        self.setStyleSheet(
            "QListView { background: #1e1e1e; color: #e0e0e0; border: none; }"
            "QListView::item:selected { background: #1565c0; color: white; }"
        )
        self.clicked.connect(self._chosen)

    def _chosen(self, index: QModelIndex) -> None:
        uid = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(uid, str):
            self.sig_series_chosen.emit(uid)

    def show_current(self, uid: str | None) -> None:
        model = self.model()
        assert isinstance(model, SeriesModel)
        row = model.row_of(uid) if uid is not None else -1
        if row < 0:
            self.clearSelection()
            return
        index = model.index(row)
        if self.currentIndex() != index or not self.selectionModel().isSelected(index):
            self.setCurrentIndex(index)
        self.scrollTo(index)
