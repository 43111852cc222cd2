"""The worklist's rows: columns, status colours, the counts line and the local search.

The generic :class:`~widgets.rows_model.RowsModel` paints whole rows; the worklist also needs
single cells to speak — the status in its colour (unread bold blue, a draft amber, signed grey)
and the CITO mark in red — so a small subclass answers those roles for those columns only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from services.models import ReadingStatus
from services.studies import StudyRow
from widgets.formatting import fmt_date
from widgets.rows_model import Column, RowsModel

__all__ = [
    "STATUS_COLOUR",
    "StudyModel",
    "columns",
    "counts_text",
    "matches",
    "patient_text",
    "row_tooltip",
]

RS = ReadingStatus
Index = QModelIndex | QPersistentModelIndex
STATUS_COLOUR = {
    RS.UNREAD: "#1565c0",
    RS.DRAFT: "#b45309",  # amber, dark enough to read on white and on the selection blue
    RS.SIGNED: "#757575",
}
CITO_COLOUR = "#c62828"
CITO_BACKGROUND = "#fff3e0"  # as the referral list marks an urgent one
OPEN_BACKGROUND = "#e3edf9"  # the study in the editor

_HEADER_TIPS = {
    0: "Направление с отметкой CITO: описать в первую очередь",
    3: "Модальность (DICOM): CT — КТ, MR — МРТ, CR/DX — рентгенография",
    5: "Число снимков в исследовании",
}
CITO_COL = 0
STATUS_COL = 7
IMAGES_COL = 5


def patient_text(r: StudyRow) -> str:
    """«Иванова М. П., 1985» — the short name with the birth year tells namesakes apart."""
    return f"{r.patient_name}, {r.birth_date.year}"


def _images(r: StudyRow) -> str:
    return "—" if r.images is None else str(r.images)


def columns() -> list[Column[StudyRow]]:
    return [
        Column("CITO", lambda r: "CITO" if r.cito else "", "CITO"),
        Column("Дата", lambda r: fmt_date(r.study_date), "00.00.0000"),
        Column("Пациент", patient_text, "Константинова Е. В., 1985"),
        Column("Мод.", lambda r: r.modality.replace("\\", ", "), "CT, SR"),
        Column("Исследование", lambda r: r.description, "КТ органов грудной клетки"),
        Column("Снимков", _images, "0000"),
        Column(
            "Направление",
            lambda r: r.referral_text.removesuffix(", CITO"),  # CITO has its own column
            "№ 2026-0000000 от 00.00.0000",
            optional=True,
        ),  # fmt: skip
        Column("Статус", lambda r: r.status_text, "не описано"),
        Column("Врач", lambda r: r.radiologist, "Константинова Е. В.", optional=True),
    ]


def row_tooltip(r: StudyRow) -> str:
    lines = [
        f"{r.patient_full_name}, {fmt_date(r.birth_date)} г. р.",
        f"{r.description or 'Исследование'} ({r.modality.replace(chr(92), ', ')})",
    ]
    if r.accession:
        lines.append(f"№ исследования: {r.accession}")
    if r.referral_text:
        lines.append(f"Направление {r.referral_text}")
    if r.pacs:
        lines.append(f"Источник: {r.pacs}")
    if r.radiologist:
        lines.append(f"Врач: {r.radiologist} ({r.status_text})")
    return "\n".join(lines)


def counts_text(rows: Iterable[StudyRow]) -> str:
    """«Не описано: 3 · Черновиков: 1 · Подписано: 2»."""
    n = dict.fromkeys(RS, 0)
    for r in rows:
        n[r.status] += 1
    return f"Не описано: {n[RS.UNREAD]} · Черновиков: {n[RS.DRAFT]} · Подписано: {n[RS.SIGNED]}"


def matches(r: StudyRow, query: str) -> bool:
    """The search field's test: every word in the patient's name or the accession number."""
    words = query.casefold().split()
    if not words:
        return True
    hay = f"{r.patient_full_name} {r.patient_name} {r.accession}".casefold().replace("ё", "е")
    return all(w.replace("ё", "е") in hay for w in words)


class StudyModel(RowsModel[StudyRow]):
    """The worklist table: colours of a few cells on top of the generic rows."""

    def __init__(self, is_open: Callable[[StudyRow], bool]) -> None:
        self._is_open = is_open
        self.columns = columns()
        super().__init__(self.columns, tooltip=row_tooltip, background=self._row_background)
        self._bold = QFont()
        self._bold.setBold(True)

    def _row_background(self, r: StudyRow) -> QBrush | None:
        if self._is_open(r):
            return QBrush(QColor(OPEN_BACKGROUND))
        if r.cito and r.status != RS.SIGNED:
            return QBrush(QColor(CITO_BACKGROUND))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            return _HEADER_TIPS.get(section)
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.row_at(index.row())
        col = index.column()
        if r is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == STATUS_COL:
                return QBrush(QColor(STATUS_COLOUR[r.status]))
            if col == CITO_COL:
                return QBrush(QColor(CITO_COLOUR))
        if role == Qt.ItemDataRole.FontRole and (
            col == CITO_COL or (col == STATUS_COL and r.status == RS.UNREAD)
        ):
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and col == IMAGES_COL:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return super().data(index, role)
