"""Beside the day: the delayed-intake panel (paused visits with a countdown) and the walk-in
queue.

The paused panel counts down to each visit's recheck time and says so once when it comes
(``sig_due``): the doctor, busy with the next patient, is reminded to go back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.clock import clinic_tz
from services.models import AppointmentStatus
from services.schedule import DayRow
from services.walk_ins import PRIORITY_TEXT, WalkInRow
from widgets.rows_model import Column, RowsModel, size_columns
from widgets.schedule.look import fmt_clock, fmt_countdown

__all__ = ["PausedPanel", "WalkInPanel"]

Now = Callable[[], dt.datetime]
_TZ = clinic_tz()
_DUE = QBrush(QColor("#ffd8d2"))


def _table(model: QAbstractItemModel, name: str) -> QTableView:
    t = QTableView()
    t.setObjectName(name)
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(26)
    t.setWordWrap(False)
    return t


class PausedPanel(QWidget):
    """«Отложенные»: paused visits, reason, time left to recheck; F7 resumes."""

    sig_due = Signal(object)
    """A paused visit's recheck time has come (the :class:`DayRow`); once per pause."""
    sig_resume_requested = Signal(int)

    def __init__(self, now: Now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now = now
        self._notified: set[tuple[int, dt.datetime]] = set()
        columns: list[Column[DayRow]] = [
            Column("Пациент", lambda r: r.patient_short, "Ефремова Е. В."),
            Column("Причина", lambda r: r.pause_reason, "Ожидание"),
            Column("Вернуться", self._left, "+00:00 (00:00)"),
        ]
        self.model: RowsModel[DayRow] = RowsModel(
            columns, tooltip=self._tooltip, background=self._background
        )
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.table = _table(self.model, "pausedVisits")
        size_columns(self.table, columns, stretch=1)
        self.resume_button = QPushButton("Возобновить (F7)")
        self.resume_button.setObjectName("resumeButton")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.resume_button)
        self.resume_button.clicked.connect(self._resume_clicked)
        self.table.activated.connect(lambda idx: self._resume_row(idx.row()))
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self.set_rows([])

    def _left(self, r: DayRow) -> str:
        if r.recheck_at is None:
            return f"с {fmt_clock(r.pause_started_at, _TZ)}"
        left = (r.recheck_at - self._now()).total_seconds()
        return f"{fmt_countdown(left)} ({fmt_clock(r.recheck_at, _TZ)})"

    def _background(self, r: DayRow) -> QBrush | None:
        return _DUE if r.recheck_at is not None and r.recheck_at <= self._now() else None

    def _tooltip(self, r: DayRow) -> str:
        since = fmt_clock(r.pause_started_at, _TZ)
        text = f"{r.patient_name}\nОтложен в {since}: {r.pause_reason}"
        if r.recheck_at is not None:
            text += f"\nВернуться в {fmt_clock(r.recheck_at, _TZ)}"
        return text + "\nEnter или F7 — возобновить приём"

    def set_rows(self, day_rows: list[DayRow]) -> None:
        """Show the paused visits among ``day_rows``: soonest recheck first."""
        paused = [r for r in day_rows if r.status == AppointmentStatus.PAUSED]
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        paused.sort(key=lambda r: (r.recheck_at or far, r.pause_started_at or far))
        current = self.selected()
        self.model.set_rows(paused)
        self.title.setText(
            f"Отложенные приёмы: {len(paused)}" if paused else "Отложенных приёмов нет"
        )
        if current is not None:
            for i, r in enumerate(paused):
                if r.appointment_id == current.appointment_id:
                    self.table.selectRow(i)
        self.resume_button.setEnabled(bool(paused))
        if paused:
            self._timer.start()
        else:
            self._timer.stop()
        self.tick()

    def tick(self) -> None:
        self.model.refresh()
        now = self._now()
        for r in self.model.rows:
            if r.recheck_at is None or r.recheck_at > now or r.appointment_id is None:
                continue
            key = (r.appointment_id, r.recheck_at)
            if key not in self._notified:
                self._notified.add(key)
                self.sig_due.emit(r)

    def selected(self) -> DayRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def next_to_resume(self) -> DayRow | None:
        """The selected paused visit, or the one whose recheck comes (came) first."""
        return self.selected() or self.model.row_at(0)

    def _resume_row(self, row: int) -> None:
        r = self.model.row_at(row)
        if r is not None and r.appointment_id is not None:
            self.sig_resume_requested.emit(r.appointment_id)

    def _resume_clicked(self) -> None:
        r = self.next_to_resume()
        if r is not None and r.appointment_id is not None:
            self.sig_resume_requested.emit(r.appointment_id)


class WalkInPanel(QWidget):
    """«Без записи»: the duty doctor's queue, most urgent first."""

    sig_add_requested = Signal()
    sig_take_requested = Signal(int)
    sig_remove_requested = Signal(int)

    def __init__(self, now: Now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now = now
        columns: list[Column[WalkInRow]] = [
            Column("Пациент", lambda r: r.patient_short, "Ефремова Е. В."),
            Column("Очередь", lambda r: PRIORITY_TEXT[r.priority], "В порядке очереди"),
            Column("Ждёт", self._waiting, "000 мин"),
        ]
        self.model: RowsModel[WalkInRow] = RowsModel(
            columns, tooltip=self._tooltip, background=self._background
        )
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.table = _table(self.model, "walkInQueue")
        size_columns(self.table, columns, stretch=0)
        self.add_button = QPushButton("В очередь… (Shift+Ins)")
        self.take_button = QPushButton("Принять")
        self.remove_button = QPushButton("Убрать…")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.sig_add_requested)
        self.take_button.clicked.connect(self._take_selected)
        self.remove_button.clicked.connect(self._remove_selected)
        self.table.activated.connect(lambda _i: self._take_selected())
        self.set_rows([])

    def _waiting(self, r: WalkInRow) -> str:
        return f"{int((self._now() - r.added_at).total_seconds() // 60)} мин"

    def _background(self, r: WalkInRow) -> QBrush | None:
        return _DUE if r.priority == 0 else None

    def _tooltip(self, r: WalkInRow) -> str:
        text = f"{r.patient_name}\n{PRIORITY_TEXT[r.priority]}, с {fmt_clock(r.added_at, _TZ)}"
        return f"{text}\n{r.note}" if r.note else text

    def set_rows(self, rows: list[WalkInRow]) -> None:
        keep = self.selected()
        self.model.set_rows(rows)
        self.title.setText(
            f"Без записи в очереди: {len(rows)}" if rows else "Очередь без записи пуста"
        )
        for i, r in enumerate(rows):
            if keep is not None and r.id == keep.id:
                self.table.selectRow(i)
        self.take_button.setEnabled(bool(rows))
        self.remove_button.setEnabled(bool(rows))

    def selected(self) -> WalkInRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _take_selected(self) -> None:
        r = self.selected() or self.model.row_at(0)
        if r is not None:
            self.sig_take_requested.emit(r.id)

    def _remove_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self.sig_remove_requested.emit(r.id)
