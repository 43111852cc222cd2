"""«Открыть ЭЛН»: a sick-leave certificate with its first release period.

What 1089н asks at opening: the reason (the fund's codes 01–15, shown with their words, and the
additional code), the diagnosis (the protocol's main one), where the patient works (main or
secondary job; a second job's certificate names the main job's number; a registered unemployed
person has no employer), primary or continuation (of a certificate closed «продолжает болеть»,
with its number), the family member cared for when the reason is care (09, 12–15: relation
38–42, ФИО, age), and the first period with its doctor — the VK chair appears when the rules
need the commission (:mod:`widgets.sick_leave.period`).

The 12-digit number comes from the fund's service only after every rule has passed.  A refusal
keeps everything typed and puts each rule under its field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QRegularExpression, Signal
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from services.clock import local_day, now_utc
from services.errors import ValidationError, ValidationErrors
from services.mkb10 import MkbEntry
from services.models import Employment, SickLeaveKind
from services.sick_leave import (
    ADDITIONAL_CODES,
    CARE_REASONS,
    MAX_CARED,
    REASONS,
    RELATIONS,
    CaredPerson,
    SickLeaveInput,
    SickLeaveRow,
)
from widgets.emk.mkb_picker import MkbPicker
from widgets.field_errors import ERROR_COLOUR, FieldErrors, fit_height
from widgets.ports import ErrorPresenter, Runner
from widgets.sick_leave.period import PeriodFields, StaffRow

__all__ = ["Continuing", "SickLeaveDialog", "code_combo"]


def _today() -> dt.date:
    """The polyclinic's day (Moscow), as the services count days, whatever the PC's zone."""
    return local_day(now_utc())


K = SickLeaveKind
_NUMBER = QRegularExpression(r"[0-9]{0,12}")


class Continuing:
    """What a continuation carries over from the certificate it continues."""

    def __init__(self, row: SickLeaveRow) -> None:
        self.number = row.number
        self.reason_code = row.reason_code
        self.mkb_code = row.mkb_code
        self.employer = row.employer
        self.employment = row.employment
        self.starts_on = row.periods[-1].ends_on + dt.timedelta(days=1) if row.periods else None
        self.days_before = row.days


def code_combo(name: str, items: Sequence[tuple[str, str]], *, none: str = "") -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    if none:
        combo.addItem(none, "")
    for code, words in items:
        combo.addItem(f"{code} — {words}", code)
    # The fund's words run long: the closed box keeps a modest width, the list shows them whole.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(30)
    combo.view().setMinimumWidth(combo.fontMetrics().horizontalAdvance("м" * 70))
    return combo


class _CaredRow:
    """One family member cared for: relation, ФИО, years, months."""

    def __init__(self) -> None:
        self.relation = code_combo("Родство", list(RELATIONS.items()), none="—")
        self.relation.setMinimumContentsLength(12)
        self.name = QLineEdit()
        self.name.setMaxLength(180)
        self.name.setPlaceholderText("ФИО члена семьи")
        self.years = QSpinBox()
        self.years.setRange(0, 120)
        self.years.setSuffix(" лет")
        self.months = QSpinBox()
        self.months.setRange(0, 11)
        self.months.setSuffix(" мес.")
        self.box = QWidget()
        lay = QHBoxLayout(self.box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.relation)
        lay.addWidget(self.name, 1)
        lay.addWidget(self.years)
        lay.addWidget(self.months)

    def value(self) -> CaredPerson | None:
        rel = self.relation.currentData() or ""
        name = self.name.text().strip()
        if not rel and not name:
            return None
        return CaredPerson(rel, name, self.years.value(), self.months.value())


class SickLeaveDialog(QDialog):
    """Emits ``sig_opened`` with the new certificate's row, then closes."""

    sig_opened = Signal(object)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.sick_leave_desk.SickLeaveDesk
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        chairs: Sequence[StaffRow],
        *,
        patient_id: int,
        patient_title: str,
        mkb_code: str = "",
        encounter_id: int | None = None,
        continuing: Continuing | None = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Открыть ЭЛН — {patient_title}")
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.patient_id = patient_id
        self.encounter_id = encounter_id
        self.today = today or _today()
        self.busy = False

        self.summary = QLabel()  # rules of no field here: a missing СНИЛС is the card's
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.errors = e = FieldErrors(self.summary)

        self.kind = QComboBox()
        self.kind.setAccessibleName("Вид ЭЛН")
        self.kind.addItem("первичный", K.PRIMARY)
        self.kind.addItem("продолжение", K.CONTINUATION)
        self.previous = QLineEdit()
        self.previous.setPlaceholderText("№ ЭЛН, который продолжается (12 цифр)")
        self.previous.setValidator(QRegularExpressionValidator(_NUMBER, self.previous))
        self.reason = code_combo("Причина нетрудоспособности", list(REASONS.items()))
        self.additional = code_combo(
            "Дополнительный код", list(ADDITIONAL_CODES.items()), none="— нет —"
        )
        self.additional.setMinimumContentsLength(12)
        self.mkb = MkbPicker(mkb_search, mkb_lookup)
        self.employer = QLineEdit()
        self.employer.setMaxLength(255)
        self.employer.setPlaceholderText("Наименование организации-работодателя")
        self.unemployed = QCheckBox("состоит на учёте в службе занятости")
        self.employment = QComboBox()
        self.employment.setAccessibleName("Занятость")
        self.employment.addItem("основное место работы", Employment.MAIN)
        self.employment.addItem("по совместительству", Employment.SECONDARY)
        self.main_job = QLineEdit()
        self.main_job.setPlaceholderText("№ ЭЛН по основному месту (12 цифр)")
        self.main_job.setValidator(QRegularExpressionValidator(_NUMBER, self.main_job))
        self.cared = [_CaredRow() for _ in range(MAX_CARED)]
        start = continuing.starts_on if continuing and continuing.starts_on else self.today
        self.period = PeriodFields(
            e, chairs, today=self.today, start=start, fixed_start=False,
            days_before=continuing.days_before if continuing else 0, parent=self,
        )  # fmt: skip

        # Each row of several fields has one rule label under the whole row: the fund's rules
        # run long and wrap over the row's width.
        kind = QHBoxLayout()
        kind.addWidget(self.kind)
        kind.addWidget(self.previous, 1)
        reason = QHBoxLayout()
        reason.addWidget(self.reason, 2)
        reason.addWidget(QLabel("доп. код:"))
        reason.addWidget(self.additional, 1)
        work = QHBoxLayout()
        work.addWidget(self.employer, 1)
        work.addWidget(self.unemployed)
        job = QHBoxLayout()
        job.addWidget(self.employment)
        job.addWidget(self.main_job, 1)
        cared = QVBoxLayout()
        for c in self.cared:
            cared.addWidget(c.box)
        self.cared_box = e.wrap(cared, "cared")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Листок:", e.wrap(kind, "previous", outline=self.previous))
        form.addRow(
            "Причина:",
            e.wrap(
                reason, "reason", "additional", "change", outline=self.reason,
                outlines={"additional": self.additional, "change": self.additional},
            ),
        )  # fmt: skip
        form.addRow("Диагноз (МКБ-10):", e.wrap(self.mkb, "mkb10", outline=self.mkb.edit))
        form.addRow("Место работы:", e.wrap(work, "employer", outline=self.employer))
        form.addRow("Занятость:", e.wrap(job, "main", outline=self.main_job))
        form.addRow("Уход за:", self.cared_box)
        self.period.add_to(form)
        self._form = form
        self.sign_button = QPushButton("Открыть ЭЛН  Ctrl+Enter")
        self.sign_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Отмена  Esc")
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addLayout(buttons)

        if continuing is not None:
            self.kind.setCurrentIndex(self.kind.findData(K.CONTINUATION))
            self.previous.setText(continuing.number)
            self.reason.setCurrentIndex(max(0, self.reason.findData(continuing.reason_code)))
            self.employer.setText(continuing.employer)
            self.employment.setCurrentIndex(self.employment.findData(continuing.employment))
            mkb_code = mkb_code or continuing.mkb_code
        self.mkb.set_code(mkb_code)
        self.kind.currentIndexChanged.connect(lambda _i: self._follow())
        self.reason.currentIndexChanged.connect(lambda _i: self._follow())
        self.employment.currentIndexChanged.connect(lambda _i: self._follow())
        self.unemployed.toggled.connect(lambda _on: self._follow())
        self.sign_button.clicked.connect(self.sign)
        self.cancel_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.sign)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.sign)
        self._follow()
        (self.employer if continuing else self.reason).setFocus()
        self.resize(980, 1)  # as tall as the fields: it grows with the care rows and the rules

    def _follow(self) -> None:
        """Only the fields that apply (all are children of the dialog: no window of their own)."""
        continuation = self.kind.currentData() == K.CONTINUATION
        self.previous.setEnabled(continuation)
        reason = self.reason.currentData() or ""
        care = reason in CARE_REASONS
        self.cared_box.setVisible(care)
        self._form.labelForField(self.cared_box).setVisible(care)
        self.employer.setEnabled(not self.unemployed.isChecked())
        secondary = self.employment.currentData() == Employment.SECONDARY
        self.main_job.setEnabled(secondary)
        self.period.set_reason(reason)

    def value(self) -> SickLeaveInput:
        cared = tuple(p for p in (c.value() for c in self.cared) if p is not None)
        continuation = self.kind.currentData() == K.CONTINUATION
        return SickLeaveInput(
            reason_code=self.reason.currentData() or "",
            mkb_code=self.mkb.code() or self.mkb.edit.text().strip(),
            first_period=self.period.period(),
            employer="" if self.unemployed.isChecked() else self.employer.text(),
            employment=Employment(self.employment.currentData()),
            main_job_number=self.main_job.text() if self.main_job.isEnabled() else "",
            unemployed_registered=self.unemployed.isChecked(),
            kind=K.CONTINUATION if continuation else K.PRIMARY,
            previous_number=self.previous.text() if continuation else "",
            additional_code=self.additional.currentData() or "",
            cared=cared if self.cared_box.isVisibleTo(self) else (),
        )

    def sign(self) -> None:
        if self.busy:
            return
        inp = self.value()
        self.errors.clear()
        self.busy = True
        self.sign_button.setEnabled(False)

        def done(row: SickLeaveRow) -> None:
            self.busy = False
            self.sign_button.setEnabled(True)
            self.sig_opened.emit(row)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.sign_button.setEnabled(True)
            if isinstance(exc, ValidationErrors | ValidationError):
                errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
                self.refused(errors)
            else:
                self._show_error(self, exc, self.sign)

        pid, enc = self.patient_id, self.encounter_id
        self._runner.run(
            lambda _st: self._desk.open(pid, inp, enc), on_success=done, on_failure=failed
        )

    def refused(self, errors: list[ValidationError]) -> None:
        if any(e.key == "chair" for e in errors):
            self.period.ask_chair()
        self.errors.show(errors)
        fit_height(self)
        w = self.errors.first_widget()
        if w is not None:
            w.setFocus()
