"""The EMK's «Рецепты» tab: the patient's prescriptions with their status, and what to do next.

Ctrl+M writes new ones (with the protocol's diagnosis), Ctrl+P prints the selected one on its
blank (148-1/у-88: on the print shop's blank by overlay, or a draft on plain paper), Del cancels
it with a reason.  Like the rest of the EMK, every answer from the background names its patient
and request, and one for a patient no longer on screen is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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

from services.clock import local_day, now_utc
from services.mkb10 import MkbEntry
from services.models import PrescriptionForm
from services.prescriptions import PrescriptionPrint, PrescriptionRow, PrescriptionStatus
from services.printouts import PrintJob
from widgets.ports import ErrorPresenter, Runner
from widgets.prescriptions.dialog import PrescriptionDialog
from widgets.print_flow import PrintFlow
from widgets.rows_model import Column, RowsModel, size_columns

__all__ = ["OVERLAY", "DRAFT", "PrescriptionList"]


def _today() -> dt.date:
    """The polyclinic's day (Moscow), as the services count days, whatever the PC's zone."""
    return local_day(now_utc())


St = PrescriptionStatus
OVERLAY = "На типографский бланк 148-1/у-88 (наложение)"
DRAFT = "Черновик на обычной бумаге (не заменяет бланк)"


def _number(r: PrescriptionRow) -> str:
    return f"{r.series} № {r.number}" if r.series else "—"


def _drugs(r: PrescriptionRow) -> str:
    return "; ".join(f"{i.mnn} {i.strength} № {i.quantity}" for i in r.items)


def _status_text(r: PrescriptionRow) -> str:
    if r.status == St.CANCELLED:
        return f"аннулирован: {r.cancel_reason}"
    return r.status.text


def _columns() -> list[Column[PrescriptionRow]]:
    return [
        Column("Бланк", lambda r: r.form.number, "148-1/у-04(л)"),
        Column("Серия, №", _number, "45 № 000000"),
        Column("Выписан", lambda r: f"{r.issued_on:%d.%m.%Y}", "00.00.0000"),
        Column("Препараты", _drugs, "Метформин 1000 мг № 60; Амлодипин 5 мг № 30"),
        Column("МКБ", lambda r: r.mkb_code, "M54.16"),
        Column("До", lambda r: f"{r.valid_until:%d.%m.%Y}", "00.00.0000"),
        Column("Статус", _status_text, "аннулирован: ошибка"),
        Column("Выписал", lambda r: r.doctor, "Соколова А. С.", optional=True),
    ]


def _tooltip(r: PrescriptionRow) -> str:
    lines = [f"Rp. {i.mnn} {i.strength} ({i.form_name}) № {i.quantity}\nS. {i.signa}"
             for i in r.items]  # fmt: skip
    if r.status == St.CANCELLED:
        lines.append(f"Аннулирован: {r.cancel_reason}")
    return "\n".join(lines)


def _details(r: PrescriptionRow) -> str:
    """The selected blank's Rp. and Signa under the list: what the patient was told to take."""
    head = f"<b>{escape(r.form.number)}</b>" + (f" {escape(_number(r))}" if r.series else "")
    head += f" от {r.issued_on:%d.%m.%Y}, действителен до {r.valid_until:%d.%m.%Y}"
    lines = [head]
    for i in r.items:
        lines.append(
            f"Rp. {escape(i.mnn)} {escape(i.strength)} ({escape(i.form_name)}) № {i.quantity}"
            f" — S. {escape(i.signa)}"
        )
    lines.append(f"Статус: {escape(_status_text(r))}")
    return "<br>".join(lines)


def _not_archived(_job: PrintJob) -> int:
    """A draft is not the prescription: it is shown and printed, not archived as a copy."""
    return 0


class PrescriptionList(QWidget):
    sig_changed = Signal(int)  # patient id: prescriptions issued or cancelled

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.prescription_desk.PrescriptionDesk
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        preview: Callable[[PrintJob, QWidget], Any],
        *,
        can_write: bool,
        offset_mm: tuple[float, float] = (0.0, 0.0),
        parent: QWidget | None = None,
    ) -> None:
        """``offset_mm``: the printer's offset for the 148-1/у-88 overlay (calibration sheet)."""
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self._mkb_search = mkb_search
        self._mkb_lookup = mkb_lookup
        self._preview = preview
        self._draft_preview = PrintFlow(runner, _not_archived, show_error)
        self.offset_mm = offset_mm
        self.can_write = can_write
        self.patient_id: int | None = None
        self.patient_title = ""
        self._request = 0
        self.dialog: QWidget | None = None
        self.print_choice = OVERLAY

        self.columns = _columns()
        self.model: RowsModel[PrescriptionRow] = RowsModel(
            self.columns, dimmed=lambda r: r.status != St.VALID, tooltip=_tooltip
        )
        self.table = QTableView()
        self.table.setObjectName("prescriptionTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        size_columns(self.table, self.columns, stretch=3,
                     min_stretch="Метформин 1000 мг № 60; Амлодипин 5")  # fmt: skip
        self.setFocusProxy(self.table)
        self.details = QLabel()
        self.details.setObjectName("prescriptionDetails")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet(
            "#prescriptionDetails { background: #f4f7fb; border: 1px solid #c9d4e0; padding: 6px; }"
        )
        self.new_button = QPushButton("Выписать рецепт…  Ctrl+M")
        self.print_button = QPushButton("Печать…  Ctrl+P")
        self.cancel_button = QPushButton("Аннулировать…  Del")
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        for b in (self.new_button, self.print_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        # Only once they have a parent: a parentless widget shown is a window of its own.
        self.new_button.setVisible(can_write)
        self.cancel_button.setVisible(can_write)

        self.new_button.clicked.connect(lambda: self.new_prescriptions())
        self.print_button.clicked.connect(self.print_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._enable())
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Ctrl+P"), self, self.print_selected, context=ctx)
        QShortcut(QKeySequence("Delete"), self.table, self.cancel_selected, context=ctx)
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

        def got(rows: list[PrescriptionRow]) -> None:
            if token != self._request or pid != self.patient_id:
                return
            if any(r.patient_id != pid for r in rows):
                return  # never another patient's rows under this name
            self.model.set_rows(rows)
            valid = sum(r.status == St.VALID for r in rows)
            self.summary.setText(f"Всего: {len(rows)}, действующих: {valid}")
            row = next((i for i, r in enumerate(rows) if r.id == select_id), 0)
            if rows:
                self.table.selectRow(row)
            self._enable()

        def failed(exc: BaseException) -> None:
            if token == self._request:
                self._show_error(self, exc, lambda: self.reload(select_id))

        self._runner.run(lambda _st: self._desk.of_patient(pid), on_success=got, on_failure=failed)

    def selected(self) -> PrescriptionRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _enable(self) -> None:
        r = self.selected()
        self.new_button.setEnabled(self.patient_id is not None)
        self.print_button.setEnabled(r is not None and r.status != St.CANCELLED)
        self.cancel_button.setEnabled(r is not None and r.status == St.VALID)
        self.details.setText(_details(r) if r is not None else "")
        self.details.setVisible(r is not None)

    def _failed(self, exc: BaseException) -> None:
        self._show_error(self, exc, None)

    # --- actions -------------------------------------------------------------------------------
    def new_prescriptions(self, mkb_code: str = "", encounter_id: int | None = None) -> None:
        pid = self.patient_id
        if pid is None or not self.can_write:
            return
        dlg = PrescriptionDialog(
            self._runner,
            self._desk,
            self._show_error,
            self._mkb_search,
            self._mkb_lookup,
            patient_id=pid,
            patient_title=self.patient_title,
            mkb_code=mkb_code,
            encounter_id=encounter_id,
            today=_today(),
            parent=self,
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.sig_issued.connect(lambda rows: self._after(pid, rows[0].id if rows else None))
        self.dialog = dlg
        dlg.open()

    def _after(self, pid: int, prescription_id: int | None) -> None:
        if pid == self.patient_id:
            self.reload(prescription_id)
            self._back()
        self.sig_changed.emit(pid)

    def _back(self) -> None:
        """Back from a dialog: the keyboard returns to the list."""
        self.window().activateWindow()
        self.table.setFocus()

    def cancel_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status != St.VALID:
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle(f"Аннулировать рецепт {r.form.number} {_number(r)}")
        dlg.setLabelText(f"{_drugs(r)}\nБланк остаётся использованным.\n\nПричина аннулирования:")
        dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dlg.setOkButtonText("Аннулировать")
        dlg.setCancelButtonText("Не аннулировать")
        dlg.resize(560, dlg.height())
        self.dialog = dlg

        def decided(result: int) -> None:
            if result:
                self._cancel(r, dlg.textValue())
            else:
                QTimer.singleShot(0, self._back)

        dlg.finished.connect(decided)
        dlg.open()

    def _cancel(self, r: PrescriptionRow, reason: str) -> None:
        pid = r.patient_id
        self._runner.run(
            lambda _st: self._desk.cancel(r.id, reason),
            on_success=lambda row: self._after(pid, row.id),
            on_failure=self._failed,
        )

    def print_selected(self) -> None:
        """Print the selected prescription; 148-1/у-88 asks: the real blank, or a draft."""
        r = self.selected()
        if r is None or r.status == St.CANCELLED:
            return
        if r.form != PrescriptionForm.F148_88:
            self._print(r, draft=False)
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle(f"Печать рецепта 148-1/у-88 {_number(r)}")
        dlg.setLabelText(
            "Бланк 148-1/у-88 изготавливается только типографским способом.\nКак печатать?"
        )
        dlg.setComboBoxItems([OVERLAY, DRAFT])
        dlg.setTextValue(self.print_choice)
        dlg.setOkButtonText("Печать")
        dlg.setCancelButtonText("Отмена")
        self.dialog = dlg

        def decided(result: int) -> None:
            if result:
                self.print_choice = dlg.textValue()
                self._print(r, draft=self.print_choice == DRAFT)
            else:
                QTimer.singleShot(0, self._back)

        dlg.finished.connect(decided)
        dlg.open()

    def _print(self, r: PrescriptionRow, *, draft: bool) -> None:
        pid = r.patient_id
        offset = self.offset_mm

        def rendered(job: PrintJob) -> None:
            if pid == self.patient_id:
                (self._draft_preview if draft else self._preview)(job, self)

        def render(data: PrescriptionPrint) -> None:
            # reportlab and the blanks load on the first print, not with the EMK.
            from widgets.prescriptions.print_job import prescription_job

            self._runner.run(
                lambda _st: prescription_job(data, draft=draft, offset_mm=offset),
                lane="io",
                on_success=rendered,
                on_failure=self._failed,
            )

        self._runner.run(
            lambda _st: self._desk.print_data(r.id), on_success=render, on_failure=self._failed
        )
