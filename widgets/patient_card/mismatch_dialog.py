"""«Данные полиса отличаются»: what the patient's card says otherwise than the registry.

The registrar sees each difference side by side and ticks what to take from the card (all
ticked by default: a new surname after marriage is the usual case); «Оставить как есть»
changes nothing.  The patient is named at the top, so the decision is never made about the
wrong person.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from services.patient_cards import CardMatch
from widgets.formatting import fmt_date, fmt_policy

__all__ = ["MismatchDialog"]


class MismatchDialog(QDialog):
    def __init__(self, match: CardMatch, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert match.card is not None
        card = match.card
        self.match = match
        self.setWindowTitle("Данные полиса отличаются от картотеки")
        self.resize(720, 360)
        who = QLabel(f"{card.full_name}, {fmt_date(card.birth_date)}")
        who.setStyleSheet("font-size: 13pt; font-weight: 700;")
        note = QLabel(
            f"Полис ОМС {fmt_policy(match.holder.policy)} принадлежит этому пациенту, но данные "
            "на карте полиса отличаются от картотеки. Отметьте, что обновить по полису."
        )
        note.setWordWrap(True)
        self.table = QTableWidget(len(match.differences), 3)
        self.table.setHorizontalHeaderLabels(["Поле", "В картотеке", "На полисе"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, d in enumerate(match.differences):
            field = QTableWidgetItem(d.label)
            field.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            field.setCheckState(Qt.CheckState.Checked)
            field.setData(Qt.ItemDataRole.UserRole, d.key)
            self.table.setItem(row, 0, field)
            self.table.setItem(row, 1, QTableWidgetItem(d.in_record or "—"))
            theirs = QTableWidgetItem(d.on_card)
            theirs.setForeground(Qt.GlobalColor.darkRed)
            self.table.setItem(row, 2, theirs)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.buttons = QDialogButtonBox()
        self.update_button = self.buttons.addButton(
            "Обновить отмеченное по полису", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.keep_button = self.buttons.addButton(
            "Оставить как есть", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.update_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(who)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)

    def chosen(self) -> set[str]:
        out: set[str] = set()
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked:
                out.add(str(item.data(Qt.ItemDataRole.UserRole)))
        return out
