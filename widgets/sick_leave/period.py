"""A release period (освобождение от работы) as the ЭЛН forms ask for it: from, for how many
days, and — when the rules call for the medical commission — its chair.

A doctor thinks «на 5 дней», so the days are typed and the last day follows.  The VK chair's
picker is not there until a rule of 1089н needs it (the service checks them all again):

* more than 15 days in one period;
* the whole case past 15 days with this period;
* days in the past (a period starting before today).

Maternity leave (reason 05) is one period of up to 194 days without any of these.  A refusal
naming the chair also brings the picker (the case's earlier certificates, which the screen
does not count, may be what pushed it past 15 days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from services.drugs import count_word
from services.sick_leave import (
    MATERNITY,
    MATERNITY_MAX_DAYS,
    SOLO_DAYS,
    VK_FROM_DAYS,
    PeriodInput,
)
from widgets.field_errors import FieldErrors

__all__ = ["ChairBox", "PeriodFields", "StaffRow", "vk_rule"]

_DAYS = ("день", "дня", "дней")


class StaffRow(Protocol):
    """A colleague who may chair the medical commission (``schedule.DoctorRow`` fits)."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def position(self) -> str: ...


def _count(n: int) -> str:
    return f"{n} {count_word(n, _DAYS)}"


def vk_rule(
    start: dt.date, days: int, *, days_before: int, today: dt.date, reason: str = ""
) -> str:
    """The rule of 1089н that makes this period the commission's decision, in words; "" if
    the doctor gives it alone."""
    if reason == MATERNITY:
        return ""
    if days > SOLO_DAYS:
        return f"больше {SOLO_DAYS} дней за раз — по решению врачебной комиссии"
    if days_before + days > VK_FROM_DAYS:
        return (
            f"с этим периодом {_count(days_before + days)} — сверх {VK_FROM_DAYS} дней "
            "продлевает врачебная комиссия"
        )
    if start < today:
        return "освобождение за прошедшие дни — по решению врачебной комиссии"
    return ""


class ChairBox(QComboBox):
    """The VK chair: a colleague, or none chosen yet."""

    def __init__(self, chairs: Sequence[StaffRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Председатель врачебной комиссии")
        self.addItem("— выберите председателя ВК —", None)
        for c in chairs:
            self.addItem(f"{c.name} — {c.position}" if c.position else c.name, c.id)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(28)

    def chair_id(self) -> int | None:
        value = self.currentData()
        return int(value) if value is not None else None


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


class PeriodFields(QObject):
    """The rows of one period, added to a form; ``sig_changed`` when a day or the chair moves.

    Not a widget itself: its fields are rows of the dialog's form (:meth:`add_to`), so they line
    up with the dialog's other fields.
    """

    sig_changed = Signal()

    def __init__(
        self,
        errors: FieldErrors,
        chairs: Sequence[StaffRow],
        *,
        today: dt.date,
        start: dt.date,
        fixed_start: bool,
        days: int = 5,
        days_before: int = 0,
        parent: QObject | None = None,
    ) -> None:
        """``fixed_start``: an extension starts the day after the last period, always."""
        super().__init__(parent)
        self.today = today
        self.days_before = days_before
        self.reason = ""
        self.chair_asked = False  # a refusal named the chair: the picker stays
        self.chair_shown = False
        self._form: QFormLayout | None = None
        self.start = QDateEdit()
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("dd.MM.yyyy")
        self.start.setDate(_qdate(start))
        self.start.setAccessibleName("Освобождение с")
        if fixed_start:  # read as plain text, not as a greyed-out field
            self.start.setReadOnly(True)
            self.start.setCalendarPopup(False)
            self.start.setButtonSymbols(QDateEdit.ButtonSymbols.NoButtons)
            self.start.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.days = QSpinBox()
        self.days.setRange(1, MATERNITY_MAX_DAYS)
        self.days.setValue(days)
        self.days.setAccessibleName("Дней освобождения")
        self.end_label = QLabel()
        self.chair = ChairBox(chairs)
        self.chair_hint = QLabel()
        self.chair_hint.setWordWrap(True)
        self.chair_hint.setStyleSheet("color: #9a3412;")
        self.doctor_label = QLabel("лечащий врач — вы")
        self.doctor_label.setStyleSheet("color: #555;")

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("с"))
        row.addWidget(self.start)
        row.addWidget(QLabel("на"))
        row.addWidget(self.days)
        row.addWidget(self.end_label, 1)
        self.period_box = errors.wrap(row, "period", "doctor", outline=self.days)
        chair = QHBoxLayout()
        chair.setContentsMargins(0, 0, 0, 0)
        chair.addWidget(self.chair, 1)
        self.chair_row = QWidget()
        col = QHBoxLayout(self.chair_row)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(errors.wrap(chair, "chair", outline=self.chair), 1)
        self.start.dateChanged.connect(lambda _d: self._changed())
        self.days.valueChanged.connect(lambda _v: self._changed())
        self.chair.currentIndexChanged.connect(lambda _i: self._changed())
        self._changed()

    def add_to(self, form: QFormLayout) -> None:
        """The rows: «Освобождение», «Врач», «Председатель ВК» (shown when needed)."""
        self._form = form
        form.addRow("Освобождение от работы:", self.period_box)
        form.addRow("Врач:", self.doctor_label)
        form.addRow("Председатель ВК:", self.chair_row)
        form.addRow("", self.chair_hint)
        self._show_chair()

    # --- values ---------------------------------------------------------------------------------
    def first_day(self) -> dt.date:
        d = self.start.date()
        return dt.date(d.year(), d.month(), d.day())

    def last_day(self) -> dt.date:
        return self.first_day() + dt.timedelta(days=self.days.value() - 1)

    def period(self) -> PeriodInput:
        chair = self.chair.chair_id() if self.chair_shown else None
        return PeriodInput(self.first_day(), self.last_day(), None, chair)

    def set_reason(self, reason: str) -> None:
        self.reason = reason
        self._changed()

    def ask_chair(self) -> None:
        """A refusal named the commission: bring the picker and keep it (the rule is said
        under it, so the hint steps aside until the days change)."""
        self.chair_asked = True
        self._show_chair()
        self.chair_hint.setVisible(False)

    # --- following the days --------------------------------------------------------------------
    def rule(self) -> str:
        return vk_rule(
            self.first_day(),
            self.days.value(),
            days_before=self.days_before,
            today=self.today,
            reason=self.reason,
        )

    def _changed(self) -> None:
        total = self.days_before + self.days.value()
        whole = f", всего по случаю {_count(total)}" if self.days_before else ""
        self.end_label.setText(f"дн. — по {self.last_day():%d.%m.%Y} включительно{whole}")
        self._show_chair()
        self.sig_changed.emit()

    def _show_chair(self) -> None:
        form = self._form
        if form is None:
            return
        rule = self.rule()
        need = bool(rule) or self.chair_asked
        self.chair_shown = need
        for w in (self.chair_row, self.chair_hint):
            w.setVisible(need)
            label = form.labelForField(w)
            if label is not None:
                label.setVisible(need)
        self.chair_hint.setText(f"Нужна врачебная комиссия: {rule}." if rule else "")
        self.chair_hint.setVisible(need and bool(rule))
