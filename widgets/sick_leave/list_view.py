"""The EMK's «Больничные» tab: the patient's ЭЛН with their periods and status, and their life.

Ctrl+Shift+E opens a new one (with the protocol's diagnosis); on the selected one Ctrl+D
extends it, Ctrl+K closes it, Ctrl+P prints it (the patient's sheet on A4/A5, or the 347н blank
for the paper case), Del cancels it with a reason; «Ещё» marks a regime violation, issues a
continuation of one closed «продолжает болеть», or a duplicate by the commission's decision.
Every answer from the background names its patient and request, and one for a patient no
longer on screen is dropped.

The VK chairs to choose from (the doctors of the polyclinic) are read once, when a dialog that
may need them first opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.clock import local_day, now_utc
from services.mkb10 import MkbEntry
from services.models import SickLeaveKind
from services.printouts import PrintJob
from services.sick_leave import (
    CONTINUES_ILL,
    OUTCOMES,
    SickLeavePrint,
    SickLeaveRow,
    SickLeaveStatus,
)
from widgets.ports import ErrorPresenter, Runner
from widgets.print_flow import PrintFlow
from widgets.rows_model import Column, RowsModel, size_columns
from widgets.sick_leave.actions import CloseDialog, DuplicateDialog, ExtendDialog, ViolationDialog
from widgets.sick_leave.dialog import Continuing, SickLeaveDialog
from widgets.sick_leave.period import StaffRow

__all__ = ["PAPERS", "SickLeaveList"]


def _today() -> dt.date:
    """The polyclinic's day (Moscow), as the services count days, whatever the PC's zone."""
    return local_day(now_utc())


St = SickLeaveStatus
_LIVE = (St.OPEN, St.EXTENDED)
_KIND = {
    SickLeaveKind.PRIMARY: "первичный",
    SickLeaveKind.CONTINUATION: "продолжение",
    SickLeaveKind.DUPLICATE: "дубликат",
}
# What Ctrl+P offers, in the order asked; the values are widgets.sick_leave.print_job.Paper's
# (kept here as text so the list does not load reportlab before the first print).
PAPERS = (
    "Информационный лист для пациента, A4",
    "Информационный лист для пациента, A5",
    "Бланк 347н — заполнить бумажный бланк (наложение)",
    "Бланк 347н — черновик на обычной бумаге",
)
_STATUS_COLOUR = {
    St.OPEN: "#1565c0",
    St.EXTENDED: "#1565c0",
    St.CLOSED: "#2e7d32",
    St.REPLACED: "#888888",
    St.CANCELLED: "#888888",
}


def _span(r: SickLeaveRow) -> str:
    if not r.periods:
        return ""
    return f"{r.periods[0].starts_on:%d.%m}–{r.periods[-1].ends_on:%d.%m.%Y}, {r.days} дн."


def _status_text(r: SickLeaveRow) -> str:
    if r.status == St.CANCELLED:
        return f"аннулирован: {r.cancel_reason}"
    if r.status == St.REPLACED:
        return f"заменён дубликатом № {r.replaced_by}"
    text = r.status.text
    if r.status == St.CLOSED:
        if r.return_to_work_on is not None:
            text += f": к работе с {r.return_to_work_on:%d.%m.%Y}"
        elif r.outcome_code:
            text += f": {r.outcome_code} {OUTCOMES.get(r.outcome_code, '')}"
    if r.violation_code:
        text += f"; нарушение {r.violation_code}"
    return text


def _columns() -> list[Column[SickLeaveRow]]:
    return [
        Column("№ ЭЛН", lambda r: r.number, "000000000000"),
        Column("Вид", lambda r: _KIND[r.kind], "продолжение"),
        Column("Выдан", lambda r: f"{r.issued_on:%d.%m.%Y}", "00.00.0000"),
        Column("Причина", lambda r: f"{r.reason_code} {r.reason}", "01 заболевание"),
        Column("МКБ", lambda r: r.mkb_code, "M54.16"),
        Column("Освобождение", _span, "00.00–00.00.0000, 000 дн."),
        Column("Статус", _status_text, "закрыт: к работе с 00.00.0000"),
        Column("Место работы", lambda r: r.employer, "ООО «Ромашка»", optional=True),
    ]


def _details(r: SickLeaveRow) -> str:
    """The selected certificate's periods with their doctors and chairs, under the list."""
    lines = [f"<b>ЭЛН № {escape(r.number)}</b> — {escape(_KIND[r.kind])}"
             + (f" к № {escape(r.previous_number)}" if r.previous_number else "")
             + (f"; выдано продолжение № {escape(r.next_number)}" if r.next_number else "")
             + f"; {escape(r.employer or 'безработный, на учёте в службе занятости')}"]  # fmt: skip
    for i, p in enumerate(r.periods, 1):
        chair = f", председатель ВК {escape(p.chair)}" if p.chair else ""
        lines.append(
            f"{i}. с {p.starts_on:%d.%m.%Y} по {p.ends_on:%d.%m.%Y} — {p.days} дн., "
            f"врач {escape(p.doctor)}{chair}"
        )
    status = _status_text(r)
    colour = _STATUS_COLOUR[r.status]
    lines.append(f"<span style='color:{colour}'>Состояние: {escape(status)}</span>")
    return "<br>".join(lines)


def _not_archived(_job: PrintJob) -> int:
    """A 347н draft is not the certificate: it is shown and printed, not archived as a copy."""
    return 0


class SickLeaveList(QWidget):
    sig_changed = Signal(int)  # patient id: a certificate opened, changed or cancelled

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.sick_leave_desk.SickLeaveDesk
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        preview: Callable[[PrintJob, QWidget], Any],
        *,
        can_write: bool,
        chairs: Callable[[], Sequence[StaffRow]] | None = None,
        offset_mm: tuple[float, float] = (0.0, 0.0),
        parent: QWidget | None = None,
    ) -> None:
        """``chairs``: who may chair the medical commission (read in the DB lane);
        ``offset_mm``: the printer's offset for the 347н overlay (calibration sheet)."""
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self._mkb_search = mkb_search
        self._mkb_lookup = mkb_lookup
        self._preview = preview
        self._draft_preview = PrintFlow(runner, _not_archived, show_error)
        self._chairs_fn = chairs
        self._chairs: list[StaffRow] | None = None
        self.offset_mm = offset_mm
        self.can_write = can_write
        self.patient_id: int | None = None
        self.patient_title = ""
        self._request = 0
        self.dialog: QWidget | None = None
        self.paper = PAPERS[0]

        self.columns = _columns()
        self.model: RowsModel[SickLeaveRow] = RowsModel(
            self.columns, dimmed=lambda r: r.status in (St.CANCELLED, St.REPLACED, St.CLOSED)
        )
        self.table = QTableView()
        self.table.setObjectName("sickLeaveTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        size_columns(self.table, self.columns, stretch=3, min_stretch="01 заболевание")
        self.setFocusProxy(self.table)
        self.details = QLabel()
        self.details.setObjectName("sickLeaveDetails")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet(
            "#sickLeaveDetails { background: #f4f7fb; border: 1px solid #c9d4e0; padding: 6px; }"
        )
        self.new_button = QPushButton("Открыть ЭЛН…  Ctrl+Shift+E")
        self.extend_button = QPushButton("Продлить…  Ctrl+D")
        self.close_button = QPushButton("Закрыть…  Ctrl+K")
        self.print_button = QPushButton("Печать…  Ctrl+P")
        self.cancel_button = QPushButton("Аннулировать…  Del")
        self.more_button = QPushButton("Ещё")  # the menu's arrow is drawn by the button
        self.more_menu = QMenu(self)
        self.violation_action = QAction("Нарушение режима…", self)
        self.continue_action = QAction("Продолжение (новый ЭЛН)…", self)
        self.duplicate_action = QAction("Дубликат…", self)
        for a in (self.violation_action, self.continue_action, self.duplicate_action):
            self.more_menu.addAction(a)
        self.more_button.setMenu(self.more_menu)
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        for b in (self.new_button, self.extend_button, self.close_button, self.print_button,
                  self.more_button, self.cancel_button):  # fmt: skip
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        # Only once they have a parent: a parentless widget shown is a window of its own.
        for w in (self.new_button, self.extend_button, self.close_button, self.more_button,
                  self.cancel_button):  # fmt: skip
            w.setVisible(can_write)

        self.new_button.clicked.connect(lambda: self.new_sick_leave())
        self.extend_button.clicked.connect(self.extend_selected)
        self.close_button.clicked.connect(self.close_selected)
        self.print_button.clicked.connect(self.print_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.violation_action.triggered.connect(self.violation_selected)
        self.continue_action.triggered.connect(self.continue_selected)
        self.duplicate_action.triggered.connect(self.duplicate_selected)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._enable())
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (("Ctrl+D", self.extend_selected), ("Ctrl+K", self.close_selected),
                           ("Ctrl+P", self.print_selected)):  # fmt: skip
            QShortcut(QKeySequence(keys), self, slot, context=ctx)
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

        def got(rows: list[SickLeaveRow]) -> None:
            if token != self._request or pid != self.patient_id:
                return
            if any(r.patient_id != pid for r in rows):
                return  # never another patient's rows under this name
            self.model.set_rows(rows)
            live = sum(r.status in _LIVE for r in rows)
            self.summary.setText(f"Всего: {len(rows)}, открытых: {live}")
            row = next((i for i, r in enumerate(rows) if r.id == select_id), 0)
            if rows:
                self.table.selectRow(row)
            self._enable()

        def failed(exc: BaseException) -> None:
            if token == self._request:
                self._show_error(self, exc, lambda: self.reload(select_id))

        self._runner.run(lambda _st: self._desk.of_patient(pid), on_success=got, on_failure=failed)

    def selected(self) -> SickLeaveRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _enable(self) -> None:
        r = self.selected()
        live = r is not None and r.status in _LIVE
        self.new_button.setEnabled(self.patient_id is not None)
        self.extend_button.setEnabled(live)
        self.close_button.setEnabled(live)
        self.violation_action.setEnabled(live and r is not None and not r.violation_code)
        self.continue_action.setEnabled(r is not None and self._continuable(r))
        self.duplicate_action.setEnabled(
            r is not None and r.status not in (St.CANCELLED, St.REPLACED)
        )
        self.print_button.setEnabled(r is not None and r.status not in (St.CANCELLED, St.REPLACED))
        self.cancel_button.setEnabled(r is not None and r.status != St.CANCELLED)
        self.details.setText(_details(r) if r is not None else "")
        self.details.setVisible(r is not None)

    @staticmethod
    def _continuable(r: SickLeaveRow) -> bool:
        return r.status == St.CLOSED and r.outcome_code == CONTINUES_ILL and not r.next_number

    def _failed(self, exc: BaseException) -> None:
        self._show_error(self, exc, None)

    def _with_chairs(self, then: Callable[[list[StaffRow]], None]) -> None:
        """Run ``then`` with the VK chairs to choose from, read on the first need."""
        if self._chairs is not None or self._chairs_fn is None:
            then(self._chairs or [])
            return
        fn = self._chairs_fn

        def got(rows: Sequence[StaffRow]) -> None:
            self._chairs = list(rows)
            then(self._chairs)

        self._runner.run(lambda _st: fn(), on_success=got, on_failure=self._failed)

    def _show(self, dlg: QDialog) -> None:
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dlg
        dlg.finished.connect(lambda _r: QTimer.singleShot(0, self._back))
        dlg.open()

    def _back(self) -> None:
        """Back from a dialog: the keyboard returns to the list."""
        if self.patient_id is not None:
            self.window().activateWindow()
            self.table.setFocus()

    def _after(self, pid: int, sick_leave_id: int | None) -> None:
        if pid == self.patient_id:
            self.reload(sick_leave_id)
        self.sig_changed.emit(pid)

    # --- actions -------------------------------------------------------------------------------
    def new_sick_leave(
        self,
        mkb_code: str = "",
        encounter_id: int | None = None,
        continuing: Continuing | None = None,
    ) -> None:
        pid = self.patient_id
        if pid is None or not self.can_write:
            return

        def open_dialog(chairs: list[StaffRow]) -> None:
            if pid != self.patient_id:
                return
            dlg = SickLeaveDialog(
                self._runner, self._desk, self._show_error, self._mkb_search, self._mkb_lookup,
                chairs, patient_id=pid, patient_title=self.patient_title, mkb_code=mkb_code,
                encounter_id=encounter_id, continuing=continuing, today=_today(),
                parent=self,
            )  # fmt: skip
            dlg.sig_opened.connect(lambda row: self._after(pid, row.id))
            self._show(dlg)

        self._with_chairs(open_dialog)

    def extend_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status not in _LIVE:
            return

        def open_dialog(chairs: list[StaffRow]) -> None:
            if r.patient_id != self.patient_id:
                return
            dlg = ExtendDialog(self._runner, self._desk, self._show_error, r, chairs,
                               today=_today(), parent=self)  # fmt: skip
            dlg.sig_done.connect(lambda row: self._after(r.patient_id, row.id))
            self._show(dlg)

        self._with_chairs(open_dialog)

    def close_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status not in _LIVE:
            return
        dlg = CloseDialog(self._runner, self._desk, self._show_error, r, today=_today(),
                          parent=self)  # fmt: skip
        dlg.sig_done.connect(lambda row: self._after(r.patient_id, row.id))
        self._show(dlg)

    def violation_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status not in _LIVE or r.violation_code:
            return
        dlg = ViolationDialog(self._runner, self._desk, self._show_error, r,
                              today=_today(), parent=self)  # fmt: skip
        dlg.sig_done.connect(lambda row: self._after(r.patient_id, row.id))
        self._show(dlg)

    def continue_selected(self) -> None:
        r = self.selected()
        if r is not None and self.can_write and self._continuable(r):
            self.new_sick_leave(continuing=Continuing(r))

    def duplicate_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status in (St.CANCELLED, St.REPLACED):
            return

        def open_dialog(chairs: list[StaffRow]) -> None:
            if r.patient_id != self.patient_id:
                return
            dlg = DuplicateDialog(self._runner, self._desk, self._show_error, r, chairs,
                                  parent=self)  # fmt: skip
            dlg.sig_done.connect(lambda row: self._after(r.patient_id, row.id))
            self._show(dlg)

        self._with_chairs(open_dialog)

    def cancel_selected(self) -> None:
        r = self.selected()
        if r is None or not self.can_write or r.status == St.CANCELLED:
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle(f"Аннулировать ЭЛН № {r.number}")
        dlg.setLabelText(
            f"{r.reason_code} {r.reason}, {_span(r)}\n"
            "Листок будет аннулирован в Социальном фонде (disableLn).\n\nПричина аннулирования:"
        )
        dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dlg.setOkButtonText("Аннулировать")
        dlg.setCancelButtonText("Не аннулировать")
        dlg.resize(600, dlg.height())
        self.dialog = dlg

        def decided(result: int) -> None:
            if result:
                self._runner.run(
                    lambda _st: self._desk.cancel(r.id, dlg.textValue()),
                    on_success=lambda row: self._after(r.patient_id, row.id),
                    on_failure=self._failed,
                )
            QTimer.singleShot(0, self._back)

        dlg.finished.connect(decided)
        dlg.open()

    def print_selected(self) -> None:
        """Ctrl+P: which paper (the sheet A4/A5, the 347н blank or its draft), then the preview."""
        r = self.selected()
        if r is None or r.status in (St.CANCELLED, St.REPLACED):
            return
        dlg = QInputDialog(self)
        dlg.setWindowTitle(f"Печать ЭЛН № {r.number}")
        dlg.setLabelText(
            "ЭЛН — электронный документ: пациенту печатают информационный лист.\n"
            "Бланк 347н — только для листка на бумаге (255-ФЗ ст. 13 ч. 28)."
        )
        dlg.setComboBoxItems(list(PAPERS))
        dlg.setTextValue(self.paper)
        dlg.setOkButtonText("Печать")
        dlg.setCancelButtonText("Отмена")
        self.dialog = dlg

        def decided(result: int) -> None:
            if result:
                self.paper = dlg.textValue()
                self._print(r, self.paper)
            else:
                QTimer.singleShot(0, self._back)

        dlg.finished.connect(decided)
        dlg.open()

    def _print(self, r: SickLeaveRow, paper_text: str) -> None:
        pid = r.patient_id
        offset = self.offset_mm

        def render(data: SickLeavePrint) -> None:
            # reportlab and the forms load on the first print, not with the EMK.
            from widgets.sick_leave.print_job import Paper, sick_leave_job

            paper = Paper(paper_text)
            flow = self._draft_preview if paper == Paper.DRAFT_347 else self._preview

            def rendered(job: PrintJob) -> None:
                if pid == self.patient_id:
                    flow(job, self)

            self._runner.run(
                lambda _st: sick_leave_job(data, paper, offset_mm=offset),
                lane="io",
                on_success=rendered,
                on_failure=self._failed,
            )

        self._runner.run(
            lambda _st: self._desk.print_data(r.id), on_success=render, on_failure=self._failed
        )
