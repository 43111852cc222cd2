"""The demo's card tray: insert and pull the virtual staff cards with a click.

Only in the demo (and shown in its screenshots): a production workstation has real readers
and refuses the virtual one.  It shows no patient data, so it stays visible over the lock.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["CardTray"]


class CardTray(QWidget):
    """``cards``: kind → (label, slot).  ``toggle(kind)`` inserts or pulls that card and
    returns which cards are in the readers now (a card pushes out the one in its slot)."""

    def __init__(
        self,
        cards: dict[str, tuple[str, int]],
        toggle: Callable[[str], dict[str, bool]],
        pin: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Tool)
        self.setWindowTitle("Лоток карт (демо)")
        self.setProperty("armNoPatientData", True)
        self._toggle = toggle
        self._labels = {k: v[0] for k, v in cards.items()}
        self.buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        hint = QLabel(f"Виртуальные карты сотрудников.\nPIN-код всех карт: {pin}")
        layout.addWidget(hint)
        for kind, (_label, slot) in cards.items():
            b = QPushButton()
            b.setCheckable(True)
            b.setToolTip(f"Слот {slot + 1} виртуального считывателя")
            b.clicked.connect(lambda _c=False, k=kind: self._clicked(k))
            self.buttons[kind] = b
            layout.addWidget(b)
            self.set_inserted(kind, False)

    def _clicked(self, kind: str) -> None:
        for k, inserted in self._toggle(kind).items():
            self.set_inserted(k, inserted)

    def set_inserted(self, kind: str, inserted: bool) -> None:
        b = self.buttons[kind]
        b.setChecked(inserted)
        verb = "Извлечь" if inserted else "Вставить"
        b.setText(f"{verb}: {self._labels[kind]}")
