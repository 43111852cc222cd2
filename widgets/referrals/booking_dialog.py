"""«Запись по направлению»: the target specialty's free slots until the referral expires.

↑/↓ through the slots, Enter books; the slot list is read when the dialog opens, so a slot
taken meanwhile on another workstation is refused with the schedule's own message and the
list is read again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.clock import clinic_tz
from services.errors import ConflictError
from services.referrals import BookingSlot, ReferralRow
from widgets.ports import ErrorPresenter, Runner
from widgets.rows_model import Column, RowsModel, size_columns

__all__ = ["BookingDialog"]

_TZ = clinic_tz()
_WEEKDAY = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def _when(b: BookingSlot) -> str:
    t = b.starts_at.astimezone(_TZ)
    return f"{_WEEKDAY[t.weekday()]} {t:%d.%m.%Y}"


class BookingDialog(QDialog):
    """Emits ``sig_booked`` with the referral's fresh row after a booking."""

    sig_booked = Signal(object)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.referral_desk.ReferralDesk
        show_error: ErrorPresenter,
        referral: ReferralRow,
        patient_title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.referral = referral
        self.busy = False
        self.setWindowTitle(f"Запись по направлению № {referral.number}")
        head = QLabel(
            f"<b>{patient_title}</b><br>{referral.purpose}"
            f" — действительно до {referral.valid_until:%d.%m.%Y}"
        )
        head.setTextFormat(Qt.TextFormat.RichText)
        columns: list[Column[BookingSlot]] = [
            Column("Дата", _when, "пн 00.00.0000"),
            Column("Время", lambda b: f"{b.starts_at.astimezone(_TZ):%H:%M}", "00:00"),
            Column("Врач", lambda b: b.doctor, "Константинопольская А. А."),
            Column("Должность", lambda b: b.position, "Врач-оториноларинголог"),
        ]
        self.model: RowsModel[BookingSlot] = RowsModel(columns)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.activated.connect(lambda _i: self.book())
        size_columns(self.table, columns, stretch=2)
        self.status = QLabel("Загрузка свободного времени…")
        self.book_button = QPushButton("Записать  Enter")
        self.close_button = QPushButton("Закрыть  Esc")
        self.book_button.clicked.connect(self.book)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.book_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence("Return"), self.table, self.book)
        self.resize(760, 520)
        self.reload()

    def reload(self) -> None:
        rid = self.referral.id

        def got(slots: list[BookingSlot]) -> None:
            self.model.set_rows(slots)
            self.status.setText(
                f"Свободно: {len(slots)}" if slots else "Свободного времени до конца срока нет"
            )
            if slots:
                self.table.selectRow(0)
            self.table.setFocus()

        def failed(exc: BaseException) -> None:
            self.status.setText(str(exc))
            self._show_error(self, exc, self.reload)

        self._runner.run(
            lambda _st: self._desk.booking_slots(rid), on_success=got, on_failure=failed
        )

    def selected(self) -> BookingSlot | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def book(self) -> None:
        slot = self.selected()
        if slot is None or self.busy:
            return
        self.busy = True
        rid = self.referral.id

        def done(row: ReferralRow) -> None:
            self.busy = False
            self.sig_booked.emit(row)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self._show_error(self, exc, None)
            if isinstance(exc, ConflictError):
                self.reload()

        self._runner.run(
            lambda _st: self._desk.book(rid, slot.slot_id), on_success=done, on_failure=failed
        )
