"""The patient header: who this is, and what a doctor must see before anything else.

ФИО and birth date are the largest text on the screen; allergies are red with their
severity in words (never colour alone); dispensary conditions and the blood group follow.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from services.emk import EmkHeader
from services.models import AllergySeverity
from widgets.formatting import fmt_policy

__all__ = ["PatientHeader"]

SEVERITY_TEXT = {
    AllergySeverity.MILD: "лёгкая",
    AllergySeverity.MODERATE: "средняя",
    AllergySeverity.SEVERE: "тяжёлая",
}


class PatientHeader(QFrame):
    sig_edit_vitals = Signal()
    sig_child_access = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientHeader")
        self.setStyleSheet(
            "#patientHeader { background: #eef3f8; border-bottom: 1px solid #c9d4e0; }"
        )
        self.patient_id: int | None = None
        self.name_label = QLabel()
        self.name_label.setObjectName("patientName")
        self.name_label.setStyleSheet("font-size: 16pt; font-weight: 700;")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel()
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signal = QLabel()
        self.signal.setObjectName("patientSignal")
        self.signal.setWordWrap(True)
        self.signal.setTextFormat(Qt.TextFormat.RichText)
        self.vitals_button = QPushButton("Сигнальная информация…  Ctrl+I")
        self.vitals_button.clicked.connect(self.sig_edit_vitals)
        # The control panel's «Доступ к ЭМК ребенка», shown for a minor when the screen was
        # given the access form (the doctor's workstation).
        self.child_access_button = QPushButton("Доступ к ЭМК ребенка…")
        self.child_access_button.setToolTip(
            "Доступ родителей к ЭМК ребенка на портале (Ctrl+Shift+D)"
        )
        self.child_access_button.setObjectName("emkChildAccess")
        self.child_access_button.clicked.connect(self.sig_child_access)
        self.child_access_button.setVisible(False)
        self.child_access_enabled = False
        self.facts.setWordWrap(True)
        # The name never gives way: it stays whole on the left, the facts wrap beside it.
        self.name_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.addWidget(self.name_label)
        top.addSpacing(16)
        top.addWidget(self.facts, 1)
        # Stacked, so a child's header is no wider than an adult's (1366 px screens).
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(self.vitals_button)
        buttons.addWidget(self.child_access_button)
        top.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.signal)

    def show_header(self, h: EmkHeader) -> None:
        self.patient_id = h.patient_id
        self.child_access_button.setVisible(self.child_access_enabled and h.age < 18)
        self.name_label.setText(h.title)
        facts = []
        if h.policy:
            facts.append(f"Полис ОМС {fmt_policy(h.policy)}")
        facts.append(f"Прикрепление: {h.attachment}" if h.attachment else "Не прикреплён")
        self.facts.setText("   ·   ".join(facts))
        parts: list[str] = []
        if h.allergies:
            items = ", ".join(
                f"{escape(a.substance)} ({SEVERITY_TEXT[a.severity]}"
                + (f": {escape(a.reaction)}" if a.reaction else "")
                + ")"
                for a in h.allergies
            )
            parts.append(f"<span style='color:#b00020; font-weight:700'>⚠ Аллергия: {items}</span>")
        else:
            parts.append("<span style='color:#555'>Аллергии: не выявлены</span>")
        if h.chronic:
            items = "; ".join(f"{escape(c.code)} {escape(c.name)}" for c in h.chronic)
            parts.append(f"<b>Д-учёт:</b> {items}")
        parts.append(f"<b>Группа крови:</b> {escape(h.blood) if h.blood else 'не указана'}")
        self.signal.setText("<br>".join(parts))

    def clear(self) -> None:
        self.patient_id = None
        self.name_label.clear()
        self.facts.clear()
        self.signal.clear()
