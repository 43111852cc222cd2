"""The EMK's «Направления» tab: the patient's referrals with their status, and what to do next.

Ctrl+R writes new ones (with the protocol's diagnosis), Ctrl+B books the selected one into
the target specialist's free time, Ctrl+P prints it on form 057/у, Del cancels it with a
reason.  Like the rest of the EMK, every answer from the background names its patient and
request, and one for a patient no longer on screen is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.clock import clinic_tz
from services.mkb10 import MkbEntry
from services.printouts import PrintJob
from services.referrals import ReferralPrint, ReferralRow, ReferralStatus
from widgets.ports import ErrorPresenter, Runner
from widgets.referrals.booking_dialog import BookingDialog
from widgets.referrals.dialog import ReferralDialog
from widgets.rows_model import Column, RowsModel, size_columns

__all__ = ["ReferralList"]

St = ReferralStatus
_TZ = clinic_tz()
_STATUS_COLOUR = {
    St.ISSUED: "#1565c0",
    St.BOOKED: "#2e7d32",
    St.USED: "#555555",
    St.EXPIRED: "#9a3412",
    St.CANCELLED: "#888888",
}


def _status_text(r: ReferralRow) -> str:
    if r.status == St.BOOKED and r.booked_at is not None:
        return f"записан {r.booked_at.astimezone(_TZ):%d.%m %H:%M}, {r.booked_with}"
    if r.status == St.CANCELLED:
        return f"аннулировано: {r.cancel_reason}"
    return r.status.text


def _columns() -> list[Column[ReferralRow]]:
    return [
        Column("№", lambda r: r.number, "2026-0000000"),
        Column("Выдано", lambda r: f"{r.issued_on:%d.%m.%Y}", "00.00.0000"),
        Column(
            "Куда / что",
            lambda r: ("CITO · " if r.cito else "") + r.purpose,
            "Компьютерная томография органов грудной полости",
        ),
        Column("МКБ", lambda r: r.mkb_code, "M54.16"),
        Column("До", lambda r: f"{r.valid_until:%d.%m.%Y}", "00.00.0000"),
        Column("Статус", _status_text, "записан 00.00 00:00, Константинова А. А."),
        Column("Выписал", lambda r: r.issued_by, "Соколова А. С.", optional=True),
    ]


class ReferralList(QWidget):
    sig_changed = Signal(int)  # patient id: referrals issued, booked or cancelled

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.referral_desk.ReferralDesk
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        preview: Callable[[PrintJob, QWidget], Any],
        *,
        can_write: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self._mkb_search = mkb_search
        self._mkb_lookup = mkb_lookup
        self._preview = preview
        self.can_write = can_write
        self.patient_id: int | None = None
        self.patient_title = ""
        self._request = 0
        self._specialties: list[str] | None = None
        self.dialog: QWidget | None = None

        self.columns = _columns()
        self.model: RowsModel[ReferralRow] = RowsModel(
            self.columns,
            dimmed=lambda r: r.status in (St.CANCELLED, St.EXPIRED, St.USED),
            tooltip=lambda r: f"{r.purpose}\nОбоснование: {r.justification}",
            background=lambda r: QBrush(QColor("#fff3e0")) if r.cito and r.bookable else None,
        )
        self.table = QTableView()
        self.table.setObjectName("referralTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        size_columns(self.table, self.columns, stretch=2)
        self.setFocusProxy(self.table)
        self.new_button = QPushButton("Новые направления…  Ctrl+R")
        self.book_button = QPushButton("Записать…  Ctrl+B")
        self.print_button = QPushButton("Печать 057/у…  Ctrl+P")
        self.cancel_button = QPushButton("Аннулировать…  Del")
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        for b in (self.new_button, self.book_button, self.print_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        # Only once they have a parent: a parentless widget shown is a window of its own.
        self.new_button.setVisible(can_write)
        self.cancel_button.setVisible(can_write)

        self.new_button.clicked.connect(lambda: self.new_referrals())
        self.book_button.clicked.connect(self.book_selected)
        self.print_button.clicked.connect(self.print_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._enable())
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Ctrl+B"), self, self.book_selected, context=ctx)
        QShortcut(QKeySequence("Ctrl+P"), self, self.print_selected, context=ctx)
        QShortcut(QKeySequence("Delete"), self.table, self.cancel_selected, context=ctx)
        QShortcut(QKeySequence("Return"), self.table, self.book_selected, context=ctx)
        self._enable()

    # --- the patient ---------------------------------------------------------------------------
    def set_patient(self, patient_id: int | None, title: str = "") -> None:
        self._request += 1
        self.patient_id = patient_id
        self.patient_title = title
        self.model.set_rows([])
        self.summary.clear()
        self._enable()
        if patient_id is not None:
            self.reload()

    def reload(self, select_id: int | None = None) -> None:
        pid = self.patient_id
        if pid is None:
            return
        self._request += 1
        token = self._request

        def got(rows: list[ReferralRow]) -> None:
            if token != self._request or pid != self.patient_id:
                return
            if any(r.patient_id != pid for r in rows):
                return  # never another patient's rows under this name
            self.model.set_rows(rows)
            active = sum(r.status in (St.ISSUED, St.BOOKED) for r in rows)
            self.summary.setText(f"Всего: {len(rows)}, действующих: {active}")
            row = next((i for i, r in enumerate(rows) if r.id == select_id), 0)
            if rows:
                self.table.selectRow(row)
            self._enable()

        def failed(exc: BaseException) -> None:
            if token == self._request:
                self._show_error(self, exc, lambda: self.reload(select_id))

        self._runner.run(lambda _st: self._desk.of_patient(pid), on_success=got, on_failure=failed)

    def selected(self) -> ReferralRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _enable(self) -> None:
        r = self.selected()
        self.new_button.setEnabled(self.patient_id is not None)
        self.book_button.setEnabled(r is not None and r.bookable)
        self.print_button.setEnabled(r is not None and r.status != St.CANCELLED)
        self.cancel_button.setEnabled(r is not None and r.status in (St.ISSUED, St.BOOKED))

    # --- actions -------------------------------------------------------------------------------
    def new_referrals(self, mkb_code: str = "", encounter_id: int | None = None) -> None:
        pid = self.patient_id
        if pid is None or not self.can_write:
            return

        def open_dialog(specialties: list[str]) -> None:
            if pid != self.patient_id:
                return
            self._specialties = specialties
            dlg = ReferralDialog(
                self._runner,
                self._desk,
                self._show_error,
                self._mkb_search,
                self._mkb_lookup,
                patient_id=pid,
                patient_title=self.patient_title,
                specialties=specialties,
                mkb_code=mkb_code,
                encounter_id=encounter_id,
                today=dt.date.today(),
                parent=self,
            )
            dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dlg.sig_issued.connect(lambda rows: self._issued(pid, rows))
            self.dialog = dlg
            dlg.open()

        if self._specialties is not None:
            open_dialog(self._specialties)
            return
        self._runner.run(
            lambda _st: self._desk.specialties(),
            on_success=open_dialog,
            on_failure=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        self._show_error(self, exc, None)

    def _issued(self, pid: int, rows: list[ReferralRow]) -> None:
        if pid == self.patient_id:
            self.reload(rows[0].id if rows else None)
        self.sig_changed.emit(pid)

    def book_selected(self) -> None:
        r = self.selected()
        if r is None or not r.bookable:
            return
        dlg = BookingDialog(
            self._runner, self._desk, self._show_error, r, self.patient_title, parent=self
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        pid = r.patient_id
        dlg.sig_booked.connect(lambda row: self._after(pid, row.id))
        self.dialog = dlg
        dlg.open()

    def _after(self, pid: int, referral_id: int) -> None:
        if pid == self.patient_id:
            self.reload(referral_id)
            self.window().activateWindow()  # back from the dialog, to the list
            self.table.setFocus()
        self.sig_changed.emit(pid)

    def cancel_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status not in (St.ISSUED, St.BOOKED):
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle(f"Аннулировать направление № {r.number}")
        booked = (
            "\nЗапись по нему будет отменена, время освободится." if r.status == St.BOOKED else ""
        )
        dlg.setLabelText(f"{r.purpose}{booked}\n\nПричина аннулирования:")
        dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dlg.setOkButtonText("Аннулировать")
        dlg.setCancelButtonText("Не аннулировать")
        dlg.resize(560, dlg.height())
        self.dialog = dlg

        def decided(result: int) -> None:
            if result:
                self._cancel(r, dlg.textValue())

        dlg.finished.connect(decided)
        dlg.open()

    def _cancel(self, r: ReferralRow, reason: str) -> None:
        pid = r.patient_id

        def failed(exc: BaseException) -> None:
            self._show_error(self, exc, None)

        self._runner.run(
            lambda _st: self._desk.cancel(r.id, reason),
            on_success=lambda row: self._after(pid, row.id),
            on_failure=failed,
        )

    def print_selected(self) -> None:
        r = self.selected()
        if r is None or r.status == St.CANCELLED:
            return
        pid = r.patient_id

        def rendered(job: PrintJob) -> None:
            if pid == self.patient_id:
                self._preview(job, self)

        def render(data: ReferralPrint) -> None:
            from widgets.referrals.print_job import referral_job  # reportlab: on first print

            self._runner.run(
                lambda _st: referral_job(data),
                lane="io",
                on_success=rendered,
                on_failure=self._failed,
            )

        self._runner.run(
            lambda _st: self._desk.print_data(r.id),
            on_success=render,
            on_failure=self._failed,
        )
