"""What is done to an open ЭЛН later: extend it, close it, mark a regime violation, replace it
with a duplicate.  One small dialog each, over one pattern: the fields, Ctrl+Enter sends, the
service decides; a refusal keeps what was typed and puts each rule under its field, a conflict
(closed or replaced meanwhile on another workstation) is shown by the error presenter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationError, ValidationErrors
from services.sick_leave import OUTCOMES, VIOLATIONS, CloseInput, SickLeaveRow
from widgets.field_errors import ERROR_COLOUR, FieldErrors, fit_height
from widgets.ports import ErrorPresenter, Runner
from widgets.sick_leave.dialog import code_combo
from widgets.sick_leave.period import ChairBox, PeriodFields, StaffRow

__all__ = ["CloseDialog", "DuplicateDialog", "ExtendDialog", "ViolationDialog"]


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _day(q: QDateEdit) -> dt.date:
    d = q.date()
    return dt.date(d.year(), d.month(), d.day())


def _date_edit(d: dt.date, name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd.MM.yyyy")
    edit.setDate(_qdate(d))
    edit.setAccessibleName(name)
    return edit


def describe(r: SickLeaveRow) -> str:
    """«ЭЛН № 000000000012 · 01 заболевание · 05.03–09.03.2026, 5 дн.»"""
    span = ""
    if r.periods:
        span = f" · {r.periods[0].starts_on:%d.%m}–{r.periods[-1].ends_on:%d.%m.%Y}, {r.days} дн."
    return f"ЭЛН № {r.number} · {r.reason_code} {r.reason}{span}"


class _Action(QDialog):
    """A titled form with «<action>  Ctrl+Enter» and «Отмена  Esc»; ``sig_done`` with the row."""

    sig_done = Signal(object)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.sick_leave_desk.SickLeaveDesk
        show_error: ErrorPresenter,
        row: SickLeaveRow,
        title: str,
        action: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — ЭЛН № {row.number}")
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.row = row
        self.busy = False
        self.head = QLabel(describe(row))
        self.head.setStyleSheet("font-weight: 600;")
        self.head.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.errors = FieldErrors(self.summary)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.ok_button = QPushButton(f"{action}  Ctrl+Enter")
        self.ok_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Отмена  Esc")
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.head)
        layout.addLayout(self.form)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.ok_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.send)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.send)

    def work(self) -> Callable[[], SickLeaveRow]:
        """The desk call with the values on screen now (read here, on the GUI thread)."""
        raise NotImplementedError

    def send(self) -> None:
        if self.busy:
            return
        call = self.work()
        self.errors.clear()
        self.busy = True
        self.ok_button.setEnabled(False)

        def done(row: SickLeaveRow) -> None:
            self.busy = False
            self.ok_button.setEnabled(True)
            self.sig_done.emit(row)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.ok_button.setEnabled(True)
            if isinstance(exc, ValidationErrors | ValidationError):
                self.refused(exc.errors if isinstance(exc, ValidationErrors) else [exc])
            else:
                self._show_error(self, exc, None)

        self._runner.run(lambda _st: call(), on_success=done, on_failure=failed)

    def refused(self, errors: list[ValidationError]) -> None:
        self.errors.show(errors)
        fit_height(self)
        w = self.errors.first_widget()
        if w is not None:
            w.setFocus()


class ExtendDialog(_Action):
    """«Продлить»: the next period, from the day after the last one."""

    def __init__(
        self,
        runner: Runner,
        desk: Any,
        show_error: ErrorPresenter,
        row: SickLeaveRow,
        chairs: Sequence[StaffRow],
        *,
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, desk, show_error, row, "Продление", "Продлить", parent)
        start = row.periods[-1].ends_on + dt.timedelta(days=1) if row.periods else today
        self.period = PeriodFields(
            self.errors, chairs, today=today, start=start, fixed_start=True, days=3,
            days_before=row.days, parent=self,
        )  # fmt: skip
        self.period.set_reason(row.reason_code)
        self.period.add_to(self.form)
        self.period.days.setFocus()
        self.period.days.selectAll()
        self.resize(760, 1)  # as tall as the fields: it grows with a rule shown

    def work(self) -> Callable[[], SickLeaveRow]:
        rid, period = self.row.id, self.period.period()
        return lambda: self._desk.extend(rid, period)

    def refused(self, errors: list[ValidationError]) -> None:
        if any(e.key == "chair" for e in errors):
            self.period.ask_chair()
        super().refused(errors)


class CloseDialog(_Action):
    """«Закрыть»: back to work the day after the last period, or another outcome (31–37)."""

    def __init__(
        self,
        runner: Runner,
        desk: Any,
        show_error: ErrorPresenter,
        row: SickLeaveRow,
        *,
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, desk, show_error, row, "Закрытие", "Закрыть ЭЛН", parent)
        back = row.periods[-1].ends_on + dt.timedelta(days=1) if row.periods else today
        self.back_on = back
        self.to_work = QRadioButton(f"Приступить к работе с {back:%d.%m.%Y}")
        self.to_work.setChecked(True)
        self.other = QRadioButton("Иное:")
        self.outcome = code_combo("Иное", list(OUTCOMES.items()))
        self.outcome_date = _date_edit(min(today, back), "Дата")
        other = QHBoxLayout()
        other.addWidget(self.other)
        other.addWidget(self.errors.wrap(self.outcome, "outcome"), 1)
        other.addWidget(QLabel("дата:"))
        other.addWidget(self.errors.wrap(self.outcome_date, "outcome_date"))
        self.form.addRow("Исход:", self.errors.wrap(self.to_work, "return"))
        self.form.addRow("", other)
        for w in (self.outcome, self.outcome_date):
            w.setEnabled(False)
        self.other.toggled.connect(self.outcome.setEnabled)
        self.other.toggled.connect(self.outcome_date.setEnabled)
        self.to_work.setFocus()
        self.resize(760, 1)  # as tall as the fields: it grows with a rule shown

    def work(self) -> Callable[[], SickLeaveRow]:
        if self.other.isChecked():
            inp = CloseInput(outcome_code=self.outcome.currentData() or "",
                             outcome_date=_day(self.outcome_date))  # fmt: skip
        else:
            inp = CloseInput(return_to_work_on=self.back_on)
        rid = self.row.id
        return lambda: self._desk.close(rid, inp)


class ViolationDialog(_Action):
    """«Нарушение режима»: the code (23–28) and the day."""

    def __init__(
        self,
        runner: Runner,
        desk: Any,
        show_error: ErrorPresenter,
        row: SickLeaveRow,
        *,
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            runner, desk, show_error, row, "Нарушение режима", "Отметить нарушение", parent
        )
        self.code = code_combo("Нарушение режима", list(VIOLATIONS.items()))
        self.code.setCurrentIndex(self.code.findData("24"))  # late for the visit: the usual one
        self.on = _date_edit(today, "Дата нарушения")
        self.form.addRow("Код нарушения:", self.errors.wrap(self.code, "violation"))
        self.form.addRow("Дата:", self.errors.wrap(self.on, "violation_date"))
        self.code.setFocus()
        self.resize(760, 1)  # as tall as the fields: it grows with a rule shown

    def work(self) -> Callable[[], SickLeaveRow]:
        rid, code, on = self.row.id, self.code.currentData() or "", _day(self.on)
        return lambda: self._desk.record_violation(rid, code, on)


class DuplicateDialog(_Action):
    """«Дубликат»: a new number in place of this one, by the medical commission's decision."""

    def __init__(
        self,
        runner: Runner,
        desk: Any,
        show_error: ErrorPresenter,
        row: SickLeaveRow,
        chairs: Sequence[StaffRow],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, desk, show_error, row, "Дубликат", "Выдать дубликат", parent)
        note = QLabel(
            "Дубликат оформляют по решению врачебной комиссии (1089н п. 67): новый номер с теми "
            "же данными и периодами, этот листок станет «заменён дубликатом»."
        )
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.chair = ChairBox(chairs)
        self.form.addRow(note)
        self.form.addRow("Председатель ВК:", self.errors.wrap(self.chair, "chair"))
        self.chair.setFocus()
        self.resize(760, 1)  # as tall as the fields: it grows with a rule shown

    def work(self) -> Callable[[], SickLeaveRow]:
        rid, chair = self.row.id, self.chair.chair_id()
        if chair is None:  # the service's rule, said before asking it for a number
            rule = ValidationError(
                "Председатель ВК",
                "дубликат формируют по решению врачебной комиссии (1089н п. 67)",
                key="chair",
            )

            def refuse() -> SickLeaveRow:
                raise ValidationErrors([rule])

            return refuse
        return lambda: self._desk.duplicate(rid, chair)
