"""The schedule's small dialogs: pause a visit, give a reason, choose a patient for a slot or
the walk-in queue, decide what happens to the visit in progress.

They open window-modal with ``open()`` and report through ``accepted``: the schedule behind
stays painted, and nothing blocks the event loop (the recheck countdown keeps running).
Each validates with the services' own rules and shows the message under its field; what was
typed stays.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationError
from services.models import VisitType, WalkInPriority
from services.visits import MAX_RECHECK_MINUTES, OnCurrent, PauseInput, VisitRef
from services.walk_ins import PRIORITY_TEXT
from widgets.field_errors import error_label
from widgets.ports import Runner
from widgets.registry.model import SearchFn
from widgets.registry.picker import PatientPicker
from widgets.schedule.look import TYPE_TEXT

__all__ = ["CurrentVisitBox", "PatientPickDialog", "PauseDialog", "ReasonDialog"]

PAUSE_REASONS = (
    "Ожидание действия препарата",
    "Направлен на ЭКГ",
    "Направлен на анализы (cito)",
    "Ожидание результата исследования",
    "Консультация другого специалиста",
    "Процедурный кабинет",
)
CANCEL_REASONS = (
    "Перенос по просьбе пациента",
    "Пациент отменил запись",
    "Болезнь врача",
    "Запись создана ошибочно",
    "Ушёл, не дождавшись приёма",
)
LEAVE_REASONS = (
    "Ушёл, не дождавшись приёма",
    "Направлен к другому врачу",
    "Поставлен в очередь ошибочно",
)


def _buttons(ok: str) -> QDialogButtonBox:
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    box.button(QDialogButtonBox.StandardButton.Cancel).setText("Отмена")
    return box


class PauseDialog(QDialog):
    """«Отложить приём»: why, and when to remind the doctor to come back."""

    def __init__(
        self, patient: str, parent: QWidget | None = None, *, default_minutes: int = 15
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Отложить приём — {patient}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.result_pause: PauseInput | None = None
        self.reason = QComboBox()
        self.reason.setObjectName("pauseReason")
        self.reason.setEditable(True)
        self.reason.addItems(PAUSE_REASONS)
        self.reason.setCurrentIndex(-1)
        edit = self.reason.lineEdit()
        assert edit is not None  # editable
        edit.setMaxLength(300)
        edit.setPlaceholderText("Почему приём отложен — выберите или введите")
        self.minutes = QSpinBox()
        self.minutes.setObjectName("pauseMinutes")
        self.minutes.setRange(0, MAX_RECHECK_MINUTES)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" мин")
        self.minutes.setSpecialValueText("не напоминать")
        self.minutes.setValue(default_minutes)
        self.reason_error = error_label()
        self.minutes_error = error_label()
        form = QFormLayout()
        form.addRow("Причина*", self.reason)
        form.addRow("", self.reason_error)
        form.addRow("Напомнить через", self.minutes)
        form.addRow("", self.minutes_error)
        hint = QLabel("Пациент остаётся в списке «Отложенные»; F7 — возобновить приём.")
        hint.setWordWrap(True)
        self.buttons = _buttons("Отложить")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.setMinimumWidth(560)
        self.reason.setFocus()

    def _accept(self) -> None:
        self.reason_error.setVisible(False)
        self.minutes_error.setVisible(False)
        m = self.minutes.value()
        try:
            self.result_pause = PauseInput(self.reason.currentText(), m or None).validated()
        except ValidationError as exc:
            label = self.minutes_error if exc.key == "recheck" else self.reason_error
            label.setText(str(exc))
            label.setVisible(True)
            return
        self.accept()


class ReasonDialog(QDialog):
    """A required reason (cancelling a booking, taking someone out of the queue)."""

    def __init__(
        self, title: str, prompt: str, presets: tuple[str, ...], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.reason_text = ""
        self.prompt = QLabel(prompt)
        self.prompt.setWordWrap(True)
        self.reason = QComboBox()
        self.reason.setObjectName("reason")
        self.reason.setEditable(True)
        self.reason.addItems(presets)
        self.reason.setCurrentIndex(-1)
        edit = self.reason.lineEdit()
        assert edit is not None  # editable
        edit.setMaxLength(300)
        self.error = error_label()
        self.buttons = _buttons("Готово")
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.resize(520, self.sizeHint().height())
        self.reason.setFocus()

    def _accept(self) -> None:
        text = " ".join(self.reason.currentText().split())
        if not text:
            self.error.setText("Причина: обязательное поле")
            self.error.setVisible(True)
            return
        self.reason_text = text
        self.accept()


class CurrentVisitBox(QMessageBox):
    """Another visit is in progress: pause it (delayed intake), finish it, or stay."""

    def __init__(self, current: VisitRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Идёт приём")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setIcon(QMessageBox.Icon.Question)
        self.setText(f"Сейчас идёт приём: {current.describe()}.")
        self.setInformativeText("Что сделать с текущим приёмом?")
        self.pause_button = self.addButton("&Отложить…", QMessageBox.ButtonRole.AcceptRole)
        self.finish_button = self.addButton("&Завершить приём", QMessageBox.ButtonRole.AcceptRole)
        self.cancel_button = self.addButton("Отмена", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.pause_button)
        self.setEscapeButton(self.cancel_button)

    def choice(self) -> OnCurrent | None:
        clicked = self.clickedButton()
        if clicked is self.pause_button:
            return OnCurrent.PAUSE
        if clicked is self.finish_button:
            return OnCurrent.FINISH
        return None


class PatientPickDialog(QDialog):
    """Choose the patient for a free slot (with the visit type) or for the walk-in queue
    (with a priority and the complaint)."""

    def __init__(
        self,
        runner: Runner,
        search: SearchFn,
        *,
        title: str,
        walk_in: bool,
        prefill: str = "",
        default_type: VisitType = VisitType.FIRST,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.resize(820, 560)
        self.picker = PatientPicker(runner, search, prefill=prefill)
        self.visit_type = QComboBox()
        self.visit_type.setObjectName("visitType")
        for vt in (VisitType.FIRST, VisitType.REPEAT, VisitType.REFERRAL):
            self.visit_type.addItem(TYPE_TEXT[vt], vt)
        self.visit_type.setCurrentIndex(self.visit_type.findData(default_type))
        self.priority = QComboBox()
        self.priority.setObjectName("priority")
        for p in (WalkInPriority.NORMAL, WalkInPriority.PRIORITY, WalkInPriority.URGENT):
            self.priority.addItem(PRIORITY_TEXT[p], p)
        self.note = QLineEdit()
        self.note.setObjectName("note")
        self.note.setMaxLength(300)
        self.note.setPlaceholderText("Жалобы, повод обращения")
        self.error = error_label()
        form = QFormLayout()
        if walk_in:
            form.addRow("Приоритет", self.priority)
            form.addRow("Жалобы", self.note)
        else:
            form.addRow("Вид приёма", self.visit_type)
        self.buttons = _buttons("Поставить в очередь" if walk_in else "Записать")
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.picker.sig_picked.connect(self._picked)
        self._walk_in = walk_in
        self.picker.search.setFocus()

    def _picked(self, _row: object) -> None:
        self.error.setVisible(False)
        if self.isVisible():
            (
                self.note
                if self._walk_in
                else self.buttons.button(QDialogButtonBox.StandardButton.Ok)
            ).setFocus()

    @property
    def patient_id(self) -> int | None:
        picked = self.picker.picked
        return picked.id if picked is not None else None

    def _accept(self) -> None:
        if self.picker.picked is None:
            self.error.setText("Пациент: выберите пациента в списке (↓ и Enter)")
            self.error.setVisible(True)
            self.picker.search.setFocus()
            return
        self.accept()
