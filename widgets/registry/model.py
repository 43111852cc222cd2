"""Search results as a lazily fetched table model.

Rows arrive a page at a time through the task runner: the first page when the query changes,
the next when the view scrolls near the end (``canFetchMore``/``fetchMore``). A new query
cancels the request in flight and bumps a generation counter, so a slow old page can never
land in a new result ("newest request wins").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from services.models import Sex
from services.patient_search import PatientRow, SearchQuery
from widgets.formatting import age_text, fmt_date, fmt_phone, fmt_policy, fmt_snils
from widgets.ports import Handle, Runner
from widgets.rows_model import Column

__all__ = ["COLUMNS", "PatientSearchModel"]

SearchFn = Callable[[SearchQuery, tuple[str, int] | None, int], list[PatientRow]]
Index = QModelIndex | QPersistentModelIndex

COLUMNS: list[Column[PatientRow]] = [
    Column("ФИО", lambda r: r.full_name, "Александрова Екатерина Владимировна"),
    Column("Дата рождения", lambda r: fmt_date(r.birth_date), "00.00.0000"),
    Column("Возраст", lambda r: age_text(r.birth_date), "11 мес."),
    Column("Пол", lambda r: "м" if r.sex == Sex.MALE else "ж", "ж"),
    Column("Полис ОМС", lambda r: fmt_policy(r.policy_number), "0000 0000 0000 0000"),
    Column("СНИЛС", lambda r: fmt_snils(r.snils), "000-000-000 00"),
    Column("Телефон", lambda r: fmt_phone(r.phone), "+7 999 999-99-99"),
    Column("Прикрепление", lambda r: r.department, "Детское отделение (филиал № 1)", optional=True),
]


class PatientSearchModel(QAbstractTableModel):
    sig_loaded = Signal(int, bool)
    """A page arrived: total rows now, and whether more can be fetched."""
    sig_failed = Signal(object)
    """A page failed to load (the exception); the rows already shown stay."""
    sig_loading = Signal(bool)

    def __init__(self, runner: Runner, search: SearchFn, *, page_size: int = 100) -> None:
        super().__init__()
        self._runner = runner
        self._search = search
        self._page_size = page_size
        self._rows: list[PatientRow] = []
        self._query = SearchQuery()
        self._more = False
        self._pending: Handle | None = None
        self._generation = 0

    # --- queries ---------------------------------------------------------------------------
    @property
    def query(self) -> SearchQuery:
        return self._query

    @property
    def loading(self) -> bool:
        return self._pending is not None

    def set_query(self, query: SearchQuery) -> None:
        self._cancel_pending()
        self.beginResetModel()
        self._rows = []
        self._query = query
        self._more = not query.empty
        self.endResetModel()
        if self._more:
            self._fetch()
        else:
            self.sig_loaded.emit(0, False)

    def refresh(self) -> None:
        self.set_query(self._query)

    def row_at(self, row: int) -> PatientRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # --- lazy fetching -----------------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and self._pending is None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    def _cancel_pending(self) -> None:
        self._generation += 1
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
            self.sig_loading.emit(False)

    def _fetch(self) -> None:
        generation = self._generation
        query = self._query
        after = self._rows[-1].cursor if self._rows else None
        limit = self._page_size

        def work(state: Handle) -> list[PatientRow]:
            state.check()
            return self._search(query, after, limit)

        def done(rows: list[PatientRow]) -> None:
            if generation != self._generation:
                return
            self._pending = None
            self.sig_loading.emit(False)
            self._more = len(rows) == limit
            if rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
            self.sig_loaded.emit(len(self._rows), self._more)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._pending = None
            self._more = False
            self.sig_loading.emit(False)
            self.sig_failed.emit(exc)

        self.sig_loading.emit(True)
        self._pending = self._runner.run(work, on_success=done, on_failure=failed)
        if self._pending is not None and self._pending.finished:
            self._pending = None  # a synchronous runner already delivered

    # --- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            try:  # the tooltip shows a long name or department in full when the column is cut
                return COLUMNS[index.column()].text(row)
            except (IndexError, ValueError):
                return ""
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section].title
        return None
