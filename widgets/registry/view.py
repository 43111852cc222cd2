"""The registry screen: one search field, the results, Enter to open.

Typing searches after a short pause (no button to press); ↓ moves from the field into the
results; Enter opens the selected patient (or the only match); Ctrl+N registers a new one.
A malformed query (a 12-digit "policy") is explained under the field, in words.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.errors import ArmError, ValidationError
from services.patient_search import parse_query
from widgets.ports import ErrorPresenter, Runner
from widgets.registry.model import COLUMNS, PatientSearchModel, SearchFn
from widgets.rows_model import size_columns

__all__ = ["RegistryView"]

DEBOUNCE_MS = 250


class RegistryView(QWidget):
    sig_open_requested = Signal(int)
    """The user asked to open the card of the patient with this id."""
    sig_register_requested = Signal()
    """The user asked to register a new patient."""

    def __init__(
        self,
        runner: Runner,
        search: SearchFn,
        show_error: ErrorPresenter,
        *,
        page_size: int = 100,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._show_error = show_error
        self.model = PatientSearchModel(runner, search, page_size=page_size)

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("registrySearch")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMaxLength(200)
        self.hint = QLabel()
        self.hint.setObjectName("fieldError")
        self.status = QLabel()
        self.new_button = QPushButton()
        self.table = QTableView()
        self.table.setObjectName("registryResults")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        size_columns(self.table, COLUMNS, min_stretch="Иванов Виталий Константинович")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)

        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self.search_edit.textChanged.connect(lambda _t: self._timer.start())
        self.search_edit.returnPressed.connect(self._on_return)
        self.search_edit.installEventFilter(self)
        self._timer.timeout.connect(self.search_now)
        self.table.activated.connect(self._open_index)  # Enter and double-click
        self.new_button.clicked.connect(self.sig_register_requested)
        QShortcut(QKeySequence("Ctrl+N"), self, self.sig_register_requested.emit)
        QShortcut(QKeySequence("Ctrl+F"), self, self.focus_search)
        self.model.sig_loaded.connect(self._on_loaded)
        self.model.sig_failed.connect(self._on_failed)
        self.model.sig_loading.connect(self._on_loading)
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        self.search_edit.setPlaceholderText(
            "Фамилия Имя Отчество, дата рождения ДД.ММ.ГГГГ, полис ОМС или СНИЛС"
        )
        self.new_button.setText("Новый пациент (Ctrl+N)")
        self.status.setText("Начните вводить фамилию")

    # --- actions ---------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def search_now(self) -> None:
        self._timer.stop()
        try:
            query = parse_query(self.search_edit.text())
        except ValidationError as exc:
            self.hint.setText(str(exc))
            return
        self.hint.clear()
        if query != self.model.query or not self.model.rowCount():
            self.model.set_query(query)

    def _on_return(self) -> None:
        """Enter in the field opens the only match; with several, it moves into the list.

        Opening the *first* of several matches would be quick and sometimes wrong — the wrong
        patient's record is the one mistake a registry must not make fast.
        """
        if self._timer.isActive() or self.model.loading:
            self.search_now()
            self._open_after_load = True
            return
        self._open_only_or_focus_list()

    def _open_only_or_focus_list(self) -> None:
        if self.model.rowCount() == 1:
            self._open_index(self.model.index(0, 0))
        elif self.model.rowCount() > 1:
            self.table.setFocus()
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.sig_open_requested.emit(row.id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.model.rowCount():
                self.table.setFocus()
                if not self.table.currentIndex().isValid():
                    self.table.selectRow(0)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.focus_search()
            return
        super().keyPressEvent(event)

    # --- model feedback --------------------------------------------------------------------
    _open_after_load = False

    def _on_loading(self, loading: bool) -> None:
        if loading and not self.model.rowCount():
            self.status.setText("Поиск…")

    def _on_loaded(self, count: int, more: bool) -> None:
        if self.model.query.empty:
            self.status.setText("Начните вводить фамилию")
        elif count == 0:
            self.status.setText(
                "Никого не нашлось. Проверьте написание или зарегистрируйте пациента (Ctrl+N)"
            )
        else:
            self.status.setText(
                f"Найдено: {count}{'+ (прокрутите, чтобы загрузить ещё)' if more else ''}"
            )
        if self._open_after_load:
            self._open_after_load = False
            self._open_only_or_focus_list()

    def _on_failed(self, exc: BaseException) -> None:
        self.status.setText("Поиск не выполнен")
        if isinstance(exc, ArmError) and not exc.transient:
            self.hint.setText(str(exc))
        else:
            self._show_error(self, exc, self.model.refresh)
