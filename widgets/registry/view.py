"""The registry screen: one search field, the results, Enter to open.

Typing searches after a short pause (no button to press); ↓ moves from the field into the
results; Enter opens the selected patient (or the only match); Ctrl+N registers a new one.
A malformed query (a 12-digit "policy") is explained under the field, in words.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from services.errors import ArmError, ValidationError
from services.patient_search import SearchQuery, parse_query
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
    sig_child_access_requested = Signal(int)
    """«Доступ к ЭМК ребенка» for the selected patient (the journal's additional menu)."""

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
        # The journal's additional menu: what is done *for* the selected patient, not with
        # the card open.  The same menu is the results' context menu.
        self.more_menu = QMenu(self)
        self.child_access_action = self.more_menu.addAction("Доступ к ЭМК ребенка…")
        self.child_access_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.child_access_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.child_access_action.triggered.connect(self._child_access)
        self.addAction(self.child_access_action)
        self.more_button = QToolButton()
        self.more_button.setObjectName("registryMore")
        self.more_button.setText("Ещё ▾")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_button.setMenu(self.more_menu)
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
        top.addWidget(self.more_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        # What Enter or ↓ asked for while the results were on their way; typing cancels it.
        self._after_load: Callable[[], None] | None = None
        self.search_edit.textChanged.connect(self._on_text_changed)
        self.search_edit.returnPressed.connect(self._on_return)
        self.search_edit.installEventFilter(self)
        self._timer.timeout.connect(self.search_now)
        self.table.activated.connect(self._open_index)  # Enter and double-click
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(
            lambda pos: self.more_menu.popup(self.table.viewport().mapToGlobal(pos))
        )
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
    def _on_text_changed(self, _text: str) -> None:
        self._after_load = None
        self._timer.start()

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def search_now(self) -> bool:
        """Bring the results in line with the text now; False when the text is not a query.

        Invalid text clears the results: a list left over from the previous query, under text
        that no longer matches it, is how the wrong patient gets opened.
        """
        self._timer.stop()
        try:
            query = parse_query(self.search_edit.text())
        except ValidationError as exc:
            self.hint.setText(str(exc))
            self._after_load = None
            if not self.model.query.empty:
                self.model.set_query(SearchQuery())
            return False
        self.hint.clear()
        if query != self.model.query or not self.model.rowCount():
            self.model.set_query(query)
        return True

    def _on_return(self) -> None:
        """Enter in the field opens the only match; with several, it moves into the list.

        Opening the *first* of several matches would be quick and sometimes wrong — the wrong
        patient's record is the one mistake a registry must not make fast.  Enter typed ahead
        of the results acts on the results of what was typed, never on the previous list.
        """
        if not self.search_now():
            return
        if self.model.loading:
            self._after_load = self._open_only_or_focus_list
        else:
            self._open_only_or_focus_list()

    def _on_down(self) -> None:
        if not self.search_now():
            return
        if self.model.loading:
            self._after_load = self._focus_list
        else:
            self._focus_list()

    def _open_only_or_focus_list(self) -> None:
        if self.model.rowCount() == 1:
            self._open_index(self.model.index(0, 0))
        else:
            self._focus_list()

    def _focus_list(self) -> None:
        if self.model.rowCount():
            self.table.setFocus()
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    def selected_id(self) -> int | None:
        index = self.table.currentIndex()
        row = self.model.row_at(index.row()) if index.isValid() else None
        return row.id if row is not None else None

    def _child_access(self) -> None:
        pid = self.selected_id()
        if pid is None:
            self.status.setText("Выберите пациента в списке, затем «Доступ к ЭМК ребенка»")
            return
        self.sig_child_access_requested.emit(pid)

    def _open_index(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.sig_open_requested.emit(row.id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
                self._on_down()
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.focus_search()
            return
        super().keyPressEvent(event)

    # --- model feedback --------------------------------------------------------------------

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
        action, self._after_load = self._after_load, None
        if action is not None:
            action()

    def _on_failed(self, exc: BaseException) -> None:
        self._after_load = None
        self.status.setText("Поиск не выполнен")
        if isinstance(exc, ArmError) and not exc.transient:
            self.hint.setText(str(exc))
        else:
            self._show_error(self, exc, self.model.refresh)
