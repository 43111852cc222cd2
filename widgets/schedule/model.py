"""The day (and the week) as item models, fetched through the task runner.

The model asks for its data only when the view asks it to (the schedule is shown, the date
changes, the poll sees a change), never in its constructor, and a newer request always wins
over an older one still in flight — a doctor flicking through days with Ctrl+→ never sees
Tuesday's rows land on Wednesday.  A move brings back just the rows it changed; they are
patched in place, so the selection and the scroll position stay where the doctor left them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel

from services.clock import clinic_tz
from services.models import AppointmentStatus
from services.schedule import DayRow
from services.schedule_desk import DaySnapshot
from widgets.formatting import age_text
from widgets.ports import Handle, Runner
from widgets.rows_model import Column
from widgets.schedule.look import (
    SOURCE_TEXT,
    TYPE_TEXT,
    fmt_clock,
    fmt_duration,
    status_background,
    status_icon,
    status_text,
)

__all__ = ["DAY_COLUMNS", "DayModel", "LoadFn", "WeekModel"]

S = AppointmentStatus
Index = QModelIndex | QPersistentModelIndex
LoadFn = Callable[[int, dt.date, int], DaySnapshot]
Now = Callable[[], dt.datetime]
_TZ = clinic_tz()
_DIM = QBrush(QColor("#7a8691"))


def _visit_text(r: DayRow, now: dt.datetime) -> str:
    if r.status == S.PAUSED and r.pause_reason:
        return f"{fmt_duration(r.active_seconds(now))} · отложен: {r.pause_reason}"
    if r.started_at is not None:
        return f"с {fmt_clock(r.started_at, _TZ)} · {fmt_duration(r.active_seconds(now))}"
    if r.status == S.ARRIVED and r.arrived_at is not None:
        return f"ждёт с {fmt_clock(r.arrived_at, _TZ)}"
    return ""


def _visit_type(r: DayRow) -> str:
    """«По направлению № 2026-0000123» links the visit to its referral (the EMK shows it)."""
    if r.visit_type is None:
        return ""
    text = TYPE_TEXT[r.visit_type]
    return f"{text} № {r.referral_number}" if r.referral_number else text


DAY_COLUMNS: list[Column[DayRow]] = [
    Column("Время", lambda r: fmt_clock(r.starts_at, _TZ), "00:00"),
    Column("Пациент", lambda r: r.patient_name, "Константинопольская Александра Владимировна"),
    Column("Возраст", lambda r: age_text(r.birth_date) if r.birth_date else "", "11 мес."),
    Column("Вид приёма", _visit_type, "По направлению № 2026-0000000"),
    Column("Статус", lambda r: status_text(r.status), "Запись отменена"),
    Column("Запись", lambda r: SOURCE_TEXT[r.source] if r.source else "", "Регистратура", optional=True),
    Column("Приём", lambda r: "", "с 00:00 · 1 ч 05 мин", optional=True),
]  # fmt: skip
STATUS_COLUMN = 4
VISIT_COLUMN = 6
_BOLD = QFont()
_BOLD.setBold(True)


class DayModel(QStandardItemModel):
    """The day as a standard item model: each cell's text, colours, font and icon are stored
    in Qt's own items when the rows arrive or change, so painting asks Python for nothing.

    (The first version answered ``data()`` in Python: a 40-row repaint was ~3,000 calls and
    ~20 ms, half of the status-change round trip budget; with C++ items it is a few ms.)
    """

    sig_loaded = Signal(object)
    """A snapshot arrived and is shown (the :class:`DaySnapshot`)."""
    sig_failed = Signal(object)
    sig_loading = Signal(bool)

    def __init__(self, runner: Runner, load: LoadFn, now: Now) -> None:
        super().__init__(0, len(DAY_COLUMNS))
        self.setHorizontalHeaderLabels([c.title for c in DAY_COLUMNS])
        self._runner = runner
        self._load = load
        self.now = now
        self._rows: list[DayRow] = []
        self.snapshot: DaySnapshot | None = None
        self._pending: Handle | None = None
        self._generation = 0

    # --- loading -----------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return self._pending is not None

    def load(self, staff_id: int, day: dt.date, days: int = 1) -> None:
        self._generation += 1
        generation = self._generation
        if self._pending is not None:
            self._pending.cancel()
        fn = self._load

        def work(state: Handle) -> DaySnapshot:
            state.check()
            return fn(staff_id, day, days)

        def done(snap: DaySnapshot) -> None:
            if generation != self._generation:
                return
            self._pending = None
            self.sig_loading.emit(False)
            self.show_snapshot(snap)

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._pending = None
            self.sig_loading.emit(False)
            self.sig_failed.emit(exc)

        self.sig_loading.emit(True)
        self._pending = self._runner.run(work, on_success=done, on_failure=failed)
        if self._pending is not None and self._pending.finished:
            self._pending = None

    def show_snapshot(self, snap: DaySnapshot) -> None:
        self.snapshot = snap
        self._rows = list(snap.rows)
        self.setRowCount(0)
        for r in self._rows:
            self.appendRow(self._items(r))
        self.sig_loaded.emit(snap)

    def patch(self, rows: list[DayRow]) -> None:
        """Replace the rows of these slots, or insert a new slot (a walk-in) in time order."""
        by_slot = {r.slot_id: i for i, r in enumerate(self._rows)}
        for row in rows:
            if self.snapshot is not None and row.staff_id != self.snapshot.staff_id:
                continue
            i = by_slot.get(row.slot_id)
            if i is not None:
                self._rows[i] = row
                for col, item in enumerate(self._items(row)):
                    self.setItem(i, col, item)
                continue
            if not self._in_range(row):
                continue
            at = len(self._rows)
            for j, r in enumerate(self._rows):
                if (r.starts_at, r.slot_id) > (row.starts_at, row.slot_id):
                    at = j
                    break
            self._rows.insert(at, row)
            self.insertRow(at, self._items(row))
            by_slot = {r.slot_id: k for k, r in enumerate(self._rows)}

    def _in_range(self, row: DayRow) -> bool:
        snap = self.snapshot
        if snap is None:
            return False
        day = row.starts_at.astimezone(_TZ).date()
        return snap.day <= day < snap.day + dt.timedelta(days=snap.days)

    def tick(self) -> None:
        """Running visits' minutes move on: their «Приём» cells are rewritten, no more."""
        now = self.now()
        for i, r in enumerate(self._rows):
            if r.started_at is None or r.finished_at is not None:
                continue
            item = self.item(i, VISIT_COLUMN)
            text = _visit_text(r, now)
            if item is not None and item.text() != text:
                item.setText(text)

    # --- queries -------------------------------------------------------------------------------
    @property
    def rows(self) -> list[DayRow]:
        return list(self._rows)

    def row_at(self, row: int) -> DayRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of_slot(self, slot_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.slot_id == slot_id), -1)

    def row_of_appointment(self, appointment_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.appointment_id == appointment_id), -1)

    def counts(self) -> dict[AppointmentStatus | None, int]:
        out: dict[AppointmentStatus | None, int] = {}
        for r in self._rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    # --- the cells -----------------------------------------------------------------------------
    def _items(self, r: DayRow) -> list[QStandardItem]:
        now = self.now()
        dim = r.free or r.status in (S.FINISHED, S.NO_SHOW, S.CANCELLED)
        bold = r.status in (S.IN_PROGRESS, S.PAUSED)
        background = status_background(r.status)
        tooltip = self._tooltip(r)
        items = []
        for col, c in enumerate(DAY_COLUMNS):
            if col == VISIT_COLUMN:
                text = _visit_text(r, now)
            elif col == 1 and r.free:
                text = "— свободно —" if r.bookable else ""
            else:
                text = c.text(r)
            item = QStandardItem(text)
            item.setEditable(False)
            item.setBackground(background)
            item.setToolTip(tooltip)
            if dim:
                item.setForeground(_DIM)
            if bold:
                item.setFont(_BOLD)
            if col == STATUS_COLUMN:
                item.setData(status_icon(r.status), Qt.ItemDataRole.DecorationRole)
            if col == 0:
                item.setData(r.appointment_id, Qt.ItemDataRole.UserRole)
            items.append(item)
        return items

    def _tooltip(self, r: DayRow) -> str:
        if r.free:
            return f"{fmt_clock(r.starts_at, _TZ)}–{fmt_clock(r.ends_at, _TZ)}: свободно (Ins — записать)"
        lines = [r.patient_name, f"{status_text(r.status)}, {_visit_type(r).lower()}"]
        if r.source:
            lines.append(f"Записан через: {SOURCE_TEXT[r.source].lower()}")
        visit = _visit_text(r, self.now())
        if visit:
            lines.append(visit)
        if r.pauses:
            lines.append(f"Откладывался: {r.pauses} раз(а)")
        return "\n".join(lines)


_WEEKDAY = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")


class WeekModel(QAbstractTableModel):
    """A week at a glance: rows are times of day, columns the days; a cell is one slot."""

    def __init__(self) -> None:
        super().__init__()
        self.first = dt.date.today()
        self._days: list[dt.date] = []
        self._times: list[dt.time] = []
        self._cells: dict[tuple[int, int], DayRow] = {}

    def set_snapshot(self, snap: DaySnapshot) -> None:
        self.beginResetModel()
        self.first = snap.day
        self._days = [snap.day + dt.timedelta(days=i) for i in range(snap.days)]
        if not any(d.weekday() >= 5 for d in self._days_with(snap.rows)):
            self._days = [d for d in self._days if d.weekday() < 5]
        times = sorted({r.starts_at.astimezone(_TZ).time() for r in snap.rows})
        self._times = times
        col = {d: i for i, d in enumerate(self._days)}
        row = {t: i for i, t in enumerate(times)}
        self._cells = {}
        for r in snap.rows:
            local = r.starts_at.astimezone(_TZ)
            c = col.get(local.date())
            if c is not None:
                self._cells.setdefault((row[local.time()], c), r)
        self.endResetModel()

    @staticmethod
    def _days_with(rows: list[DayRow]) -> set[dt.date]:
        return {r.starts_at.astimezone(_TZ).date() for r in rows}

    def day_at(self, column: int) -> dt.date | None:
        return self._days[column] if 0 <= column < len(self._days) else None

    def cell(self, row: int, column: int) -> DayRow | None:
        return self._cells.get((row, column))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._times)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._days)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._cells.get((index.row(), index.column()))
        if role == Qt.ItemDataRole.DisplayRole:
            if r is None:
                return ""
            return r.patient_short if not r.free else "свободно"
        if role == Qt.ItemDataRole.BackgroundRole:
            return status_background(r.status) if r is not None else QBrush(QColor("#f3f5f8"))
        if role == Qt.ItemDataRole.DecorationRole and r is not None:
            return status_icon(r.status)
        if role == Qt.ItemDataRole.ForegroundRole and r is not None and r.free:
            return _DIM
        if role == Qt.ItemDataRole.ToolTipRole and r is not None and not r.free:
            return f"{r.patient_name}\n{status_text(r.status)}"
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._days):
            d = self._days[section]
            return f"{_WEEKDAY[d.weekday()]} {d.strftime('%d.%m')}"
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._times):
            return self._times[section].strftime("%H:%M")
        return None
