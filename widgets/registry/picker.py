"""Find a patient inside a dialog: the registry's search, ↓ into the results, ↵ to choose.

Used wherever a dialog needs a person from the registry (booking, the walk-in queue).  ↵ in
the field or on the list belongs to the picker — it never presses the dialog's default button
before someone is chosen, because the wrong patient chosen fast is the mistake to avoid.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationError
from services.patient_search import PatientRow, parse_query
from widgets.formatting import fmt_date
from widgets.ports import Runner
from widgets.registry.model import COLUMNS, PatientSearchModel, SearchFn
from widgets.rows_model import size_columns

__all__ = ["PatientPicker"]


class PatientPicker(QWidget):
    sig_picked = Signal(object)
    """A patient was chosen (the :class:`PatientRow`)."""

    def __init__(
        self,
        runner: Runner,
        search: SearchFn,
        *,
        prefill: str = "",
        placeholder: str = "Фамилия имя, дата рождения, полис ОМС или СНИЛС; ↓ — к списку",
        pick_single: bool = True,
        show_chosen: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.picked: PatientRow | None = None
        self._pick_single = pick_single
        self.search = QLineEdit()
        self.search.setObjectName("pickerSearch")
        self.search.setMaxLength(200)
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(
            "Фамилия имя, дата рождения, полис ОМС или СНИЛС; ↓ — к списку"
        )
        self.hint = QLabel()
        self.hint.setObjectName("fieldError")
        self.hint.setWordWrap(True)
        self.chosen = QLabel("Пациент не выбран")
        self.chosen.setObjectName("chosenPatient")
        self.model = PatientSearchModel(runner, search, page_size=50)
        self.results = QTableView()
        self.results.setModel(self.model)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.verticalHeader().hide()
        size_columns(self.results, COLUMNS)
        for hidden in (5, 6, 7):
            self.results.setColumnHidden(hidden, True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.hint)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.chosen)
        self.chosen.setVisible(show_chosen)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._focus_after_load = False
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self._timer.timeout.connect(self.run_search)
        self.search.installEventFilter(self)
        self.results.installEventFilter(self)
        self.model.sig_loaded.connect(self._on_loaded)
        self.results.doubleClicked.connect(lambda idx: self.pick(idx.row()))
        if prefill:
            self.search.setText(prefill)
            self.run_search()

    def run_search(self) -> None:
        self._timer.stop()
        try:
            query = parse_query(self.search.text())
        except ValidationError as exc:
            self.hint.setText(str(exc))
            return
        self.hint.clear()
        if query != self.model.query or not self.model.rowCount():
            self.model.set_query(query)

    def _on_loaded(self, count: int, _more: bool) -> None:
        if count == 1 and self.picked is None and self._pick_single:
            self.pick(0)  # one match (a prefilled name and date, a scanned policy)
        if self._focus_after_load:
            self._focus_after_load = False
            self.focus_results()

    def focus_results(self) -> None:
        if self.model.rowCount():
            self.results.setFocus()
            if not self.results.currentIndex().isValid():
                self.results.selectRow(0)

    def pick(self, row: int) -> None:
        r = self.model.row_at(row)
        if r is None:
            return
        self.picked = r
        self.results.selectRow(row)
        self.chosen.setText(f"Пациент: {r.full_name}, {fmt_date(r.birth_date)}")
        self.hint.clear()
        self.sig_picked.emit(r)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        assert isinstance(event, QKeyEvent)
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.search:
            if enter:
                self.run_search()
                if self.model.loading:
                    self._focus_after_load = True
                else:
                    self.focus_results()
                return True
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
                self.focus_results()
                return True
        elif watched is self.results and enter:
            self.pick(self.results.currentIndex().row())
            return True
        return super().eventFilter(watched, event)
