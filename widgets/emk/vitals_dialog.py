"""«Сигнальная информация»: allergies, dispensary conditions, blood group — edited in place.

Each change is one call that returns the header anew, so the red allergy line updates the
moment the dialog says «сохранено».  Removing asks for the reason (it is kept); what was
typed stays in the fields when the service refuses it, with the rule shown under the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from services.emk import EmkHeader
from services.errors import ArmError, ValidationError, ValidationErrors
from services.mkb10 import MkbEntry
from services.models import AllergySeverity
from services.vitals import ABO_GROUPS
from widgets.emk.header import SEVERITY_TEXT
from widgets.emk.mkb_picker import MkbPicker
from widgets.ports import ErrorPresenter, Runner

__all__ = ["VitalsDialog"]


class VitalsDialog(QDialog):
    sig_header_changed = Signal(object)  # EmkHeader

    def __init__(
        self,
        runner: Runner,
        desk: Any,
        show_error: ErrorPresenter,
        header: EmkHeader,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.patient_id = header.patient_id
        self.setWindowTitle(f"Сигнальная информация — {header.title}")
        self.resize(760, 560)

        title = QLabel(header.title)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")

        # allergies
        self.allergies = QListWidget()
        self.substance = QLineEdit()
        self.substance.setPlaceholderText("Аллерген: препарат, продукт, вещество")
        self.substance.setMaxLength(120)
        self.reaction = QLineEdit()
        self.reaction.setPlaceholderText("Реакция: крапивница, отёк Квинке…")
        self.reaction.setMaxLength(200)
        self.severity = QComboBox()
        self.severity.addItem("— тяжесть —", None)
        for sev, text in SEVERITY_TEXT.items():
            self.severity.addItem(text, sev)
        self.add_allergy = QPushButton("Добавить")
        self.end_allergy = QPushButton("Снять…")
        a_row = QHBoxLayout()
        a_row.addWidget(self.substance, 2)
        a_row.addWidget(self.reaction, 2)
        a_row.addWidget(self.severity)
        a_row.addWidget(self.add_allergy)
        a_box = QGroupBox("Аллергии и непереносимость")
        a_lay = QVBoxLayout(a_box)
        a_lay.addWidget(self.allergies)
        a_lay.addLayout(a_row)
        a_lay.addWidget(self.end_allergy, 0, Qt.AlignmentFlag.AlignRight)

        # dispensary conditions
        self.chronic = QListWidget()
        self.chronic.setWordWrap(True)  # МКБ names run long; the whole name, not a scroll bar
        self.chronic.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.code = MkbPicker(mkb_search, mkb_lookup)
        self.since = QDateEdit(QDate.currentDate())
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("dd.MM.yyyy")
        self.add_chronic = QPushButton("Взять на учёт")
        self.end_chronic = QPushButton("Снять с учёта…")
        c_row = QHBoxLayout()
        c_row.addWidget(self.code, 3)
        c_row.addWidget(QLabel("с"))
        c_row.addWidget(self.since)
        c_row.addWidget(self.add_chronic)
        c_box = QGroupBox("Диспансерный учёт")
        c_lay = QVBoxLayout(c_box)
        c_lay.addWidget(self.chronic)
        c_lay.addLayout(c_row)
        c_lay.addWidget(self.end_chronic, 0, Qt.AlignmentFlag.AlignRight)

        # blood
        self.abo = QComboBox()
        self.abo.addItem("— не указана —", "")
        for g in ABO_GROUPS:
            self.abo.addItem(g, g)
        self.rh = QComboBox()
        self.rh.addItem("Rh+ (положительный)", "+")
        self.rh.addItem("Rh− (отрицательный)", "-")
        self.save_blood = QPushButton("Сохранить группу крови")
        b_row = QFormLayout()
        blood_line = QHBoxLayout()
        blood_line.addWidget(self.abo)
        blood_line.addWidget(self.rh)
        blood_line.addWidget(self.save_blood)
        blood_line.addStretch(1)
        b_row.addRow("Группа крови, резус:", blood_line)

        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Закрыть")
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(a_box, 1)
        layout.addWidget(c_box, 1)
        layout.addLayout(b_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        self.add_allergy.clicked.connect(self._add_allergy)
        self.substance.returnPressed.connect(self._add_allergy)
        self.end_allergy.clicked.connect(self._end_allergy)
        self.add_chronic.clicked.connect(self._add_chronic)
        self.end_chronic.clicked.connect(self._end_chronic)
        self.save_blood.clicked.connect(self._save_blood)
        self._show(header)
        self.substance.setFocus()

    def _show(self, h: EmkHeader) -> None:
        self.allergies.clear()
        for a in h.allergies:
            item = QListWidgetItem(
                f"{a.substance} — {SEVERITY_TEXT[a.severity]}"
                + (f": {a.reaction}" if a.reaction else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, a.id)
            self.allergies.addItem(item)
        self.chronic.clear()
        for c in h.chronic:
            item = QListWidgetItem(f"{c.code} {c.name} — с {c.since:%d.%m.%Y}")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.chronic.addItem(item)
        if h.blood:
            abo, _sep, rh = h.blood.partition(" Rh")
            self.abo.setCurrentIndex(max(0, self.abo.findData(abo)))
            self.rh.setCurrentIndex(max(0, self.rh.findData(rh)))

    def _call(self, fn: Callable[[], EmkHeader], done_text: str, clear: Callable[[], None]) -> None:
        self.message.setStyleSheet("")
        self.message.setText("Сохранение…")

        def ok(h: EmkHeader) -> None:
            clear()
            self._show(h)
            self.message.setText(done_text)
            self.sig_header_changed.emit(h)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationErrors | ValidationError):
                errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
                self.message.setStyleSheet("color: #b00020;")
                self.message.setText("\n".join(str(e) for e in errors))
                return
            self.message.setText("")
            if isinstance(exc, ArmError):
                self._show_error(self, exc, None)
            else:
                raise exc

        self._runner.run(lambda _st: fn(), on_success=ok, on_failure=failed)

    def _add_allergy(self) -> None:
        pid, sub, rea = self.patient_id, self.substance.text(), self.reaction.text()
        sev: AllergySeverity | None = self.severity.currentData()

        def clear() -> None:
            self.substance.clear()
            self.reaction.clear()
            self.severity.setCurrentIndex(0)

        self._call(lambda: self._desk.add_allergy(pid, sub, rea, sev), "Аллергия добавлена", clear)

    def _ask_reason(self, title: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, "Причина (обязательно):")
        return text if ok else None

    def _end_allergy(self) -> None:
        item = self.allergies.currentItem()
        if item is None:
            self.message.setText("Выберите запись об аллергии в списке")
            return
        reason = self._ask_reason("Снять запись об аллергии")
        if reason is None:
            return
        aid, pid = item.data(Qt.ItemDataRole.UserRole), self.patient_id
        self._call(lambda: self._desk.end_allergy(pid, aid, reason), "Запись снята", lambda: None)

    def _add_chronic(self) -> None:
        pid, code = self.patient_id, self.code.code() or self.code.edit.text()
        since = self.since.date().toPython()
        self._call(
            lambda: self._desk.add_dispensary(pid, code, since, ""),
            "Взят на диспансерный учёт",
            lambda: self.code.set_code(""),
        )

    def _end_chronic(self) -> None:
        item = self.chronic.currentItem()
        if item is None:
            self.message.setText("Выберите диагноз в списке диспансерного учёта")
            return
        reason = self._ask_reason("Снять с диспансерного учёта")
        if reason is None:
            return
        cid, pid = item.data(Qt.ItemDataRole.UserRole), self.patient_id
        self._call(
            lambda: self._desk.end_dispensary(pid, cid, reason), "Снят с учёта", lambda: None
        )

    def _save_blood(self) -> None:
        pid, abo, rh = self.patient_id, self.abo.currentData(), self.rh.currentData()
        self._call(
            lambda: self._desk.set_blood_type(pid, abo, rh), "Группа крови сохранена", lambda: None
        )
