"""The gate: what the workstation shows when nobody is signed in or the screen is locked.

It carries no patient data by construction — only the workstation, the reader status and,
on a lock, the name of the staff member who locked it.  The PIN is typed here, inline, so
there is no second window to hide or to leave behind.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

__all__ = ["GateScreen"]


class GateScreen(QWidget):
    sig_pin_entered = Signal(str)
    sig_pin_cancelled = Signal()
    sig_retry = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gate")
        self.panel = QFrame()
        self.panel.setObjectName("gatePanel")
        self.panel.setMaximumWidth(560)
        self.panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.product = QLabel("ARM · АРМ врача поликлиники")
        self.product.setObjectName("gateProduct")
        self.headline = QLabel()
        self.headline.setObjectName("gateHeadline")
        self.headline.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setObjectName("gateDetail")
        self.detail.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("gateError")
        self.error.setWordWrap(True)
        self.who = QLabel()
        self.who.setObjectName("gateWho")
        self.who.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setObjectName("gatePin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,12}"), self))
        self.pin.setPlaceholderText("PIN-код карты")
        self.login_button = QPushButton("Войти")
        self.login_button.setDefault(True)
        self.retry_button = QPushButton("Повторить")
        self.readers = QLabel()
        self.readers.setObjectName("gateReaders")
        self.readers.setWordWrap(True)

        pin_row = QHBoxLayout()
        pin_row.addWidget(self.pin, 1)
        pin_row.addWidget(self.login_button)
        self.pin_box = QWidget()
        pin_layout = QVBoxLayout(self.pin_box)
        pin_layout.setContentsMargins(0, 8, 0, 0)
        pin_layout.addWidget(self.who)
        pin_layout.addLayout(pin_row)

        inner = QVBoxLayout(self.panel)
        inner.setContentsMargins(28, 24, 28, 24)
        inner.setSpacing(10)
        inner.addWidget(self.product)
        inner.addWidget(self.headline)
        inner.addWidget(self.detail)
        inner.addWidget(self.pin_box)
        inner.addWidget(self.error)
        inner.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        inner.addSpacing(12)
        inner.addWidget(self.readers)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.panel, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.pin.returnPressed.connect(self._submit)
        self.login_button.clicked.connect(self._submit)
        self.retry_button.clicked.connect(self.sig_retry)
        self.show_message("Подключение к базе данных…")

    # --- states ----------------------------------------------------------------------------
    def show_message(
        self, headline: str, detail: str = "", *, error: str = "", retry: bool = False
    ) -> None:
        """No PIN asked: waiting for the database, for a card, or telling why not."""
        self.headline.setText(headline)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.pin_box.setVisible(False)
        self.pin.clear()
        self.set_error(error)
        self.retry_button.setVisible(retry)

    def ask_pin(self, who: str, headline: str, *, error: str = "", busy: bool = False) -> None:
        self.headline.setText(headline)
        self.detail.setVisible(False)
        self.who.setText(who)
        self.pin_box.setVisible(True)
        self.retry_button.setVisible(False)
        self.pin.clear()
        self.set_error(error)
        self.set_busy(busy)
        if not busy:
            self.pin.setFocus()

    def set_busy(self, busy: bool) -> None:
        """While the card checks the PIN the field is locked: no second submit."""
        self.pin.setEnabled(not busy)
        self.login_button.setEnabled(not busy)
        self.login_button.setText("Проверка…" if busy else "Войти")

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def set_readers(self, text: str) -> None:
        self.readers.setText(text)

    @property
    def asking_pin(self) -> bool:
        return self.pin_box.isVisibleTo(self)

    # --- input -----------------------------------------------------------------------------
    def _submit(self) -> None:
        if not self.pin.isEnabled():
            return
        pin = self.pin.text()
        if not pin:
            self.set_error("PIN-код: введите цифры PIN-кода карты.")
            return
        self.set_busy(True)
        self.sig_pin_entered.emit(pin)

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Escape and self.asking_pin:
            self.pin.clear()
            self.set_error("")
            return
        super().keyPressEvent(event)
