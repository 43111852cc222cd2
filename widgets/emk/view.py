"""The EMK screen: the header, the record's timeline with its filters and the reading pane,
the lab trends, the protocol editor.

One patient at a time.  Opening another patient first settles an unsigned protocol (kept as
a draft, or stay), then clears every pane *before* asking for the new data, and each answer
from the background carries its patient and request number: an answer for anyone but the
patient now named in the header is dropped, so A's documents never appear under B's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QDate, QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dicom.patient_match import EmkPatient
from services.emk import KIND_TEXT, DocumentView, EmkHeader, TimelineFilter, TimelineRow
from services.lab_types import LabPoint, LabTest
from services.local_drafts import LocalDrafts
from services.mkb10 import MkbEntry
from services.models import DocKind
from services.printouts import PrintJob
from services.studies import dicom_patient_id
from widgets.emk.document import DocumentPane
from widgets.emk.editor import ProtocolEditor
from widgets.emk.header import PatientHeader
from widgets.emk.lab_trend import LabTrendView
from widgets.ports import ErrorPresenter, Handle, Runner
from widgets.prescriptions.list_view import PrescriptionList
from widgets.referrals.list_view import ReferralList
from widgets.rows_model import Column, RowsModel, size_columns
from widgets.sick_leave.list_view import SickLeaveList
from widgets.studies.list_view import StudyList
from widgets.studies.windows import StudyWindows

__all__ = ["EmkView"]

FILTER_DELAY_MS = 250

_KIND_SHORT = {
    DocKind.PROTOCOL: "Осмотр",
    DocKind.LAB: "Анализ",
    DocKind.IMAGING: "Лучевая",
    DocKind.INSTRUMENTAL: "Функц.",
    DocKind.DISCHARGE: "Выписка",
    DocKind.VACCINATION: "Прививка",
    DocKind.PRESCRIPTION: "Рецепт",
    DocKind.SICK_LEAVE: "ЛН",
    DocKind.REFERRAL: "Направл.",
}

# The sections list is narrow: short names there, the full ones in tooltips and documents.
_SECTION_TEXT = {
    DocKind.PROTOCOL: "Осмотры",
    DocKind.LAB: "Анализы",
    DocKind.IMAGING: "Лучевая диагностика",
    DocKind.INSTRUMENTAL: "Функц. диагностика",
    DocKind.DISCHARGE: "Выписки",
    DocKind.VACCINATION: "Прививки",
    DocKind.PRESCRIPTION: "Рецепты",
    DocKind.SICK_LEAVE: "Больничные листы",
    DocKind.REFERRAL: "Направления",
}

_PERIODS: tuple[tuple[str, int | None], ...] = (
    ("За всё время", None),
    ("За последний год", 365),
    ("За 3 года", 3 * 365),
    ("За 5 лет", 5 * 365),
    ("Период…", -1),
)


def _timeline_columns() -> list[Column[TimelineRow]]:
    return [
        Column("Дата", lambda r: r.occurred_at.astimezone().strftime("%d.%m.%Y"), "00.00.0000"),
        Column("Раздел", lambda r: _KIND_SHORT[r.kind], "Прививка"),
        Column(
            "Документ",
            lambda r: r.title + (f" — {r.summary}" if r.summary else ""),
            "Протокол осмотра: врач-терапевт участковый",
        ),
        Column("МКБ", lambda r: r.main_code, "M54.16"),
        Column("Специальность", lambda r: r.specialty, "Оториноларингология", optional=True),
        Column("Автор", lambda r: r.author_name, "Соколова А. С., врач", optional=True),
    ]


class EmkView(QWidget):
    sig_title_changed = Signal(str)
    sig_patient_changed = Signal(int)  # the patient now on screen (0: none)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.emk_desk.EmkDesk
        drafts: LocalDrafts,
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        *,
        can_write: bool,
        referral_desk: Any | None = None,  # services.referral_desk.ReferralDesk
        preview: Callable[[PrintJob, QWidget], Any] | None = None,
        prescription_desk: Any | None = None,  # services.prescription_desk.PrescriptionDesk
        sick_leave_desk: Any | None = None,  # services.sick_leave_desk.SickLeaveDesk
        vk_chairs: Callable[[], Sequence[Any]] | None = None,  # colleagues: id, name, position
        print_offset_mm: tuple[float, float] = (0.0, 0.0),
        open_child_access: Callable[[int, QWidget], Any] | None = None,
        study_desk: Any | None = None,  # services.study_desk.StudyDesk
        study_windows: StudyWindows | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self.drafts = drafts
        self._show_error = show_error
        self._mkb_search = mkb_search
        self._mkb_lookup = mkb_lookup
        self.can_write = can_write
        self.patient_id: int | None = None
        self.header_data: EmkHeader | None = None
        self._request = 0
        self._timeline_handle: Handle | None = None
        self._doc_handle: Handle | None = None
        self._all_rows: list[TimelineRow] = []
        self._labs_loaded_for: int | None = None
        self.leave_box: QMessageBox | None = None

        self.header = PatientHeader()
        self.header.vitals_button.setVisible(can_write)
        self._open_child_access = open_child_access
        self.header.child_access_enabled = open_child_access is not None
        self.tabs = QTabWidget()

        # --- documents tab ---
        self.sections = QListWidget()
        self.sections.setObjectName("emkSections")
        self.sections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sections.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("Функциональная диагностика (000)") + 16
        )
        self.period = QComboBox()
        for text, days in _PERIODS:
            self.period.addItem(text, days)
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for w in (self.date_from, self.date_to):
            w.setCalendarPopup(True)
            w.setDisplayFormat("dd.MM.yyyy")
            w.setDate(QDate.currentDate())
            w.setVisible(False)
        self.specialty = QComboBox()
        self.specialty.setAccessibleName("Специальность")
        # Specialty names run long («Клиническая лабораторная диагностика»): the closed box
        # keeps a modest width and the open list shows them whole.
        self.specialty.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.specialty.setMinimumContentsLength(16)
        self.specialty.view().setMinimumWidth(
            self.fontMetrics().horizontalAdvance("Клиническая лабораторная диагностика") + 40
        )
        self.text = QLineEdit()
        self.text.setPlaceholderText("Поиск по тексту документов  Ctrl+F")
        self.text.setClearButtonEnabled(True)
        self.text.setMaxLength(200)
        self.reset = QPushButton("Сбросить")
        self.count_label = QLabel()
        # The free text first and widest: it is the filter a doctor reaches for.
        self.text.setMinimumWidth(220)
        search_row = QHBoxLayout()
        search_row.addWidget(self.text, 1)
        search_row.addWidget(self.reset)
        bar = QHBoxLayout()
        bar.addWidget(self.period)
        bar.addWidget(self.date_from)
        bar.addWidget(self.date_to)
        bar.addWidget(self.specialty)
        bar.addStretch(1)
        self.model: RowsModel[TimelineRow] = RowsModel(
            _timeline_columns(),
            tooltip=lambda r: "\n".join(
                x for x in (r.title, r.summary, r.author_name, r.specialty) if x
            ),
        )
        self.table = QTableView()
        self.table.setObjectName("emkTimeline")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        size_columns(
            self.table,
            _timeline_columns(),
            stretch=2,
            min_stretch="Протокол осмотра: врач-терапевт участковый — J06.9",
        )
        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.addLayout(search_row)
        mid.addLayout(bar)
        mid.addWidget(self.table, 1)
        mid.addWidget(self.count_label)
        self.pane = DocumentPane()
        self.pane.can_amend = can_write
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.sections)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes([240, 560, 560])
        self.tabs.addTab(self.splitter, "Документы")

        # --- labs tab ---
        self.labs = LabTrendView()
        self.tabs.addTab(self.labs, "Анализы (динамика)")

        # --- protocol tab ---
        self.editor: ProtocolEditor | None = None
        if can_write:
            self.editor = ProtocolEditor(runner, desk, drafts, show_error, mkb_search, mkb_lookup)
            self.tabs.addTab(self.editor, "Протокол осмотра")
            self.editor.sig_signed.connect(self._signed)
            self.editor.sig_draft_state.connect(self._draft_state)

        # --- referrals tab ---
        self.referrals: ReferralList | None = None
        self._referral_preview = preview
        if referral_desk is not None and preview is not None:
            self.referrals = ReferralList(
                runner, referral_desk, show_error, mkb_search, mkb_lookup, preview,
                can_write=can_write,
            )  # fmt: skip
            self.tabs.addTab(self.referrals, "Направления")
            self.referrals.sig_changed.connect(lambda pid: self._signed(pid, 0))
            if self.editor is not None:
                self.editor.referrals_button.clicked.connect(self.new_referrals)
        if self.editor is not None:
            self.editor.referrals_button.setVisible(self.referrals is not None)

        # --- prescriptions tab ---
        self.prescriptions: PrescriptionList | None = None
        if prescription_desk is not None and preview is not None:
            self.prescriptions = PrescriptionList(
                runner, prescription_desk, show_error, mkb_search, mkb_lookup, preview,
                can_write=can_write, offset_mm=print_offset_mm,
            )  # fmt: skip
            self.tabs.addTab(self.prescriptions, "Рецепты")
            self.prescriptions.sig_changed.connect(lambda pid: self._signed(pid, 0))
            if self.editor is not None:
                self.editor.prescriptions_button.clicked.connect(self.new_prescriptions)
        if self.editor is not None:
            self.editor.prescriptions_button.setVisible(
                self.prescriptions is not None and can_write
            )

        # --- sick leave tab ---
        self.sick_leave: SickLeaveList | None = None
        if sick_leave_desk is not None and preview is not None:
            self.sick_leave = SickLeaveList(
                runner, sick_leave_desk, show_error, mkb_search, mkb_lookup, preview,
                can_write=can_write, chairs=vk_chairs, offset_mm=print_offset_mm,
            )  # fmt: skip
            self.tabs.addTab(self.sick_leave, "Больничные")
            self.sick_leave.sig_changed.connect(lambda pid: self._signed(pid, 0))
            if self.editor is not None:
                self.editor.sick_leave_button.clicked.connect(self.new_sick_leave)
        if self.editor is not None:
            self.editor.sick_leave_button.setVisible(self.sick_leave is not None and can_write)

        # --- studies tab ---
        self.studies: StudyList | None = None
        self._studies_loaded_for: int | None = None
        if study_desk is not None and study_windows is not None:
            self.studies = StudyList(runner, study_desk, study_windows, show_error)
            self.tabs.addTab(self.studies, "Исследования")

        self.empty = QLabel("Откройте пациента из расписания или картотеки (F1, F2)")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.empty, 1)
        self._show_empty(True)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.text.textChanged.connect(lambda _t: self._filter_timer.start())
        self.sections.currentRowChanged.connect(lambda _r: self.apply_filter())
        self.specialty.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.period.currentIndexChanged.connect(self._period_changed)
        self.date_from.dateChanged.connect(lambda _d: self.apply_filter())
        self.date_to.dateChanged.connect(lambda _d: self.apply_filter())
        self.reset.clicked.connect(self.reset_filter)
        self.table.selectionModel().currentRowChanged.connect(
            lambda cur, _p: self._row_chosen(cur.row())
        )
        self.tabs.currentChanged.connect(self._tab_changed)
        self.labs.sig_test_selected.connect(self._load_trend)
        self.pane.sig_amend.connect(self.amend)
        self.header.sig_edit_vitals.connect(self.edit_vitals)
        self.header.sig_child_access.connect(self.child_access)
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Ctrl+F"), self, self._focus_text, context=ctx)
        QShortcut(QKeySequence("Ctrl+I"), self, self.edit_vitals, context=ctx)
        QShortcut(QKeySequence("Alt+1"), self, lambda: self.tabs.setCurrentIndex(0), context=ctx)
        QShortcut(QKeySequence("Alt+2"), self, lambda: self.tabs.setCurrentIndex(1), context=ctx)
        QShortcut(QKeySequence("Alt+3"), self, self.focus_protocol, context=ctx)
        QShortcut(QKeySequence("Alt+4"), self, self.show_referrals, context=ctx)
        QShortcut(QKeySequence("Ctrl+R"), self, self.new_referrals, context=ctx)
        QShortcut(QKeySequence("Alt+5"), self, self.show_prescriptions, context=ctx)
        QShortcut(QKeySequence("Ctrl+M"), self, self.new_prescriptions, context=ctx)
        QShortcut(QKeySequence("Alt+6"), self, self.show_sick_leave, context=ctx)
        QShortcut(QKeySequence("Ctrl+Shift+E"), self, self.new_sick_leave, context=ctx)
        QShortcut(QKeySequence("Ctrl+Shift+D"), self, self.child_access, context=ctx)
        QShortcut(QKeySequence("Alt+7"), self, self.show_studies, context=ctx)
        self.vitals_dialog: QWidget | None = None

    def _fit_sections(self) -> None:
        """The section names whole, in the list's own font (the style sheet's arrives late)."""
        width = self.sections.fontMetrics().horizontalAdvance("Лучевая диагностика (0000)") + 16
        self.sections.setMinimumWidth(width)
        self.sections.setMaximumWidth(width + 16)

    def showEvent(self, event: QShowEvent) -> None:
        self._fit_sections()
        super().showEvent(event)

    def child_access(self) -> None:
        """«Доступ к ЭМК ребенка» for the child on screen."""
        pid = self.patient_id
        if pid is not None and self._open_child_access is not None:
            if self.header.child_access_button.isVisible():
                self._open_child_access(pid, self)

    # --- opening a patient -------------------------------------------------------------------
    def _show_empty(self, empty: bool) -> None:
        self.header.setVisible(not empty)
        self.tabs.setVisible(not empty)
        self.empty.setVisible(empty)

    def open_patient(self, patient_id: int, *, tab: str = "") -> None:
        """Show this patient's record (settling the current one's unsigned protocol first)."""
        if patient_id == self.patient_id:
            self._go_tab(tab)
            return

        def go() -> None:
            self._load(patient_id, tab)

        self.leave(go)

    def _clear(self) -> None:
        """Nothing of the previous patient stays on screen while the next one loads."""
        self._request += 1
        for h in (self._timeline_handle, self._doc_handle):
            if h is not None:
                h.cancel()
        self.patient_id = None
        self.header_data = None
        self.header.clear()
        self.model.set_rows([])
        self._all_rows = []
        self.sections.blockSignals(True)
        self.sections.clear()
        self.sections.blockSignals(False)
        self.pane.clear()
        self.labs.set_patient(0, "")
        self._labs_loaded_for = None
        if self.editor is not None:
            self.editor.clear()
        if self.referrals is not None:
            self.referrals.set_patient(None)
        if self.prescriptions is not None:
            self.prescriptions.set_patient(None)
        if self.sick_leave is not None:
            self.sick_leave.set_patient(None)
        self.count_label.clear()

    def _load(self, patient_id: int, tab: str) -> None:
        self._clear()
        self._show_empty(False)
        self.header.name_label.setText("Загрузка медицинской карты…")
        self._block_filters(True)
        self.text.clear()
        self.period.setCurrentIndex(0)
        self._block_filters(False)
        token = self._request

        def opened(snap: Any) -> None:
            if token != self._request or snap.header.patient_id != patient_id:
                return
            self._opened(snap, tab)

        def failed(exc: BaseException) -> None:
            if token != self._request:
                return
            self._clear()
            self._show_empty(True)
            self._show_error(self, exc, lambda: self._load(patient_id, tab))

        self._runner.run(
            lambda _st: self._desk.open(patient_id), on_success=opened, on_failure=failed
        )

    def _opened(self, snap: Any, tab: str) -> None:
        h: EmkHeader = snap.header
        self.patient_id = h.patient_id
        self.header_data = h
        self.header.show_header(h)
        self.labs.set_patient(h.patient_id, h.title)
        self._all_rows = list(snap.rows)
        self._fill_sections()
        self._block_filters(True)
        self.specialty.clear()
        self.specialty.addItem("Все специальности", "")
        for sp in snap.specialties:
            self.specialty.addItem(sp, sp)
        self._block_filters(False)
        self._show_rows(snap.rows)
        if self.editor is not None:
            self._load_editor(snap)
        if self.referrals is not None:
            self.referrals.set_patient(h.patient_id, h.title)
        if self.prescriptions is not None:
            self.prescriptions.set_patient(h.patient_id, h.title)
        if self.sick_leave is not None:
            self.sick_leave.set_patient(h.patient_id, h.title)
        if self.studies is not None:
            self._studies_loaded_for = None
            self.studies.set_patient(None)
            if self.tabs.currentWidget() is self.studies:
                self._load_studies()
        self.sig_title_changed.emit(f"ЭМК — {h.full_name}")
        self.sig_patient_changed.emit(h.patient_id)
        self._go_tab(tab)

    def _load_editor(self, snap: Any) -> None:
        assert self.editor is not None
        h: EmkHeader = snap.header
        db = snap.draft
        local = self.drafts.load(self.editor.staff_id, h.patient_id)
        fields, revision, encounter_id, amends_id = None, 0, snap.encounter_id, None
        db_revision = -1
        if db is not None:
            fields, revision = db.fields, db.revision
            encounter_id = db.encounter_id or encounter_id
            amends_id = db.amends_id
            db_revision = db.revision
        if local is not None and local.revision > revision:
            fields, revision = local.fields, local.revision
            encounter_id = local.encounter_id or encounter_id
            amends_id = local.amends_id
        self.editor.load(
            h.patient_id,
            h.title,
            snap.specialty,
            fields=fields,
            revision=revision,
            encounter_id=encounter_id,
            amends_id=amends_id,
        )
        if revision > db_revision and fields is not None:
            self.editor.persist()  # the local copy was newer: bring the database up to date

    def _go_tab(self, tab: str) -> None:
        if tab == "protocol" and self.editor is not None:
            self.focus_protocol()
        elif tab == "labs":
            self.tabs.setCurrentWidget(self.labs)
        elif tab == "referrals":
            self.show_referrals()
        elif tab == "prescriptions":
            self.show_prescriptions()
        elif tab == "sick_leave":
            self.show_sick_leave()
        elif tab == "studies":
            self.show_studies()
        elif tab == "documents":
            self.tabs.setCurrentIndex(0)

    def show_referrals(self) -> None:
        if self.referrals is not None and self.patient_id is not None:
            self.tabs.setCurrentWidget(self.referrals)
            self.referrals.table.setFocus()

    def new_referrals(self) -> None:
        """Ctrl+R: referrals for the patient on screen, with the open protocol's diagnosis."""
        if self.referrals is None or self.patient_id is None or not self.can_write:
            return
        code, encounter = self._protocol_context()
        self.referrals.new_referrals(code, encounter)

    def _protocol_context(self) -> tuple[str, int | None]:
        """The open protocol's main diagnosis and visit, when it is this patient's."""
        if self.editor is not None and self.editor.patient_id == self.patient_id:
            return self.editor.main_code(), self.editor.encounter_id
        return "", None

    def show_prescriptions(self) -> None:
        if self.prescriptions is not None and self.patient_id is not None:
            self.tabs.setCurrentWidget(self.prescriptions)
            self.prescriptions.table.setFocus()

    def new_prescriptions(self) -> None:
        """Ctrl+M: prescriptions for the patient on screen, with the protocol's diagnosis."""
        if self.prescriptions is None or self.patient_id is None or not self.can_write:
            return
        code, encounter = self._protocol_context()
        self.prescriptions.new_prescriptions(code, encounter)

    def show_studies(self) -> None:
        if self.studies is not None and self.patient_id is not None:
            self.tabs.setCurrentWidget(self.studies)
            self.studies.table.setFocus()

    def _load_studies(self) -> None:
        """On the tab's first showing for a patient: the PACS is asked only when wanted."""
        h = self.header_data
        if self.studies is None or h is None or self._studies_loaded_for == h.patient_id:
            return
        self._studies_loaded_for = h.patient_id
        self.studies.set_patient(
            h.patient_id,
            EmkPatient(h.surname, h.name, h.patronymic, h.birth_date),
            dicom_patient_id(h.policy or None, h.patient_id),
        )

    def show_sick_leave(self) -> None:
        if self.sick_leave is not None and self.patient_id is not None:
            self.tabs.setCurrentWidget(self.sick_leave)
            self.sick_leave.table.setFocus()

    def new_sick_leave(self) -> None:
        """Ctrl+Shift+E: open an ЭЛН for the patient on screen, with the protocol's diagnosis."""
        if self.sick_leave is None or self.patient_id is None or not self.can_write:
            return
        code, encounter = self._protocol_context()
        self.sick_leave.new_sick_leave(code, encounter)

    def focus_protocol(self) -> None:
        if self.editor is None or self.patient_id is None:
            return
        self.tabs.setCurrentWidget(self.editor)
        first_empty = next(
            (e for e in self.editor.sections.values() if not e.toPlainText().strip()),
            self.editor.sections["complaints"],
        )
        first_empty.setFocus()

    def _focus_text(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.text.setFocus()
        self.text.selectAll()

    # --- leaving -----------------------------------------------------------------------------
    @property
    def has_unsigned(self) -> bool:
        return self.editor is not None and self.editor.has_content()

    def leave(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the unsigned protocol on screen is settled: kept as a draft, or
        the doctor stays.  The draft is written to disk before asking, so nothing typed is
        lost whichever is chosen."""
        if self.editor is None or not self.editor.has_content():
            then()
            return
        self.editor.persist()
        if self.leave_box is not None:
            self.leave_box.raise_()
            return
        h = self.header_data
        name = h.full_name if h is not None else ""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Неподписанный протокол")
        box.setText(
            f"Протокол пациента «{name}» не подписан.\n\n"
            "Он сохранён как черновик и вернётся, когда вы снова откроете ЭМК этого пациента."
        )
        keep = box.addButton("Перейти, оставить черновик", QMessageBox.ButtonRole.AcceptRole)
        stay = box.addButton("Остаться", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)

        def decided() -> None:
            clicked = box.clickedButton()
            self.leave_box = None
            box.deleteLater()
            if clicked is keep:
                then()
            else:
                self.focus_protocol()

        box.finished.connect(decided)
        self.leave_box = box
        box.open()

    def close_patient(self) -> None:
        self._clear()
        self._show_empty(True)
        self.sig_patient_changed.emit(0)

    # --- timeline ----------------------------------------------------------------------------
    def _fill_sections(self) -> None:
        counts: dict[DocKind, int] = {}
        for r in self._all_rows:
            counts[r.kind] = counts.get(r.kind, 0) + 1
        self.sections.blockSignals(True)
        self.sections.clear()
        item = QListWidgetItem(f"Все документы ({len(self._all_rows)})")
        item.setData(Qt.ItemDataRole.UserRole, None)
        self.sections.addItem(item)
        for kind, text in KIND_TEXT.items():
            item = QListWidgetItem(f"{_SECTION_TEXT[kind]} ({counts.get(kind, 0)})")
            item.setToolTip(text)
            item.setData(Qt.ItemDataRole.UserRole, kind)
            if not counts.get(kind):
                item.setForeground(Qt.GlobalColor.gray)
            self.sections.addItem(item)
        self.sections.setCurrentRow(0)
        self.sections.blockSignals(False)

    def _block_filters(self, block: bool) -> None:
        for w in (self.sections, self.specialty, self.period, self.date_from, self.date_to):
            w.blockSignals(block)

    def _period_changed(self) -> None:
        custom = self.period.currentData() == -1
        self.date_from.setVisible(custom)
        self.date_to.setVisible(custom)
        if custom:
            self._block_filters(True)
            self.date_from.setDate(QDate.currentDate().addYears(-1))
            self.date_to.setDate(QDate.currentDate())
            self._block_filters(False)
        self.apply_filter()

    def current_filter(self) -> TimelineFilter:
        item = self.sections.currentItem()
        kind = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        days = self.period.currentData()
        date_from = date_to = None
        if days == -1:
            date_from = self.date_from.date().toPython()
            date_to = self.date_to.date().toPython()
        elif days:
            date_from = dt.date.today() - dt.timedelta(days=days)
        return TimelineFilter(
            kinds=frozenset({kind}) if kind else frozenset(),
            date_from=date_from,  # type: ignore[arg-type]
            date_to=date_to,  # type: ignore[arg-type]
            specialty=self.specialty.currentData() or "",
            text=self.text.text(),
        )

    def apply_filter(self) -> None:
        """Ask for the filtered timeline; the newest request wins."""
        self._filter_timer.stop()
        pid = self.patient_id
        if pid is None:
            return
        flt = self.current_filter()
        if self._timeline_handle is not None:
            self._timeline_handle.cancel()
        token = self._request

        def got(rows: list[TimelineRow]) -> None:
            if token != self._request or pid != self.patient_id:
                return
            self._show_rows([r for r in rows if r.patient_id == pid])

        self._timeline_handle = self._runner.run(
            lambda _st: self._desk.timeline(pid, flt), on_success=got
        )

    def reset_filter(self) -> None:
        self._block_filters(True)
        self.sections.setCurrentRow(0)
        self.specialty.setCurrentIndex(0)
        self.period.setCurrentIndex(0)
        self.date_from.setVisible(False)
        self.date_to.setVisible(False)
        self._block_filters(False)
        self.text.blockSignals(True)
        self.text.clear()
        self.text.blockSignals(False)
        self.apply_filter()

    def _show_rows(self, rows: list[TimelineRow]) -> None:
        current = self.pane.document.id if self.pane.document is not None else None
        self.model.set_rows(rows)
        total = len(self._all_rows)
        shown = len(rows)
        self.count_label.setText(
            f"Документов: {shown}" if shown == total else f"Найдено: {shown} из {total}"
        )
        if current is not None:
            for i, r in enumerate(rows):
                if r.id == current:
                    self.table.selectionModel().setCurrentIndex(
                        self.model.index(i, 0),
                        QItemSelectionModel.SelectionFlag.ClearAndSelect
                        | QItemSelectionModel.SelectionFlag.Rows,
                    )
                    break

    def _row_chosen(self, row: int) -> None:
        r = self.model.row_at(row)
        if r is None or r.patient_id != self.patient_id:
            return
        if self.pane.document is not None and self.pane.document.id == r.id:
            return
        self.open_document(r.id)

    def open_document(self, document_id: int) -> None:
        pid = self.patient_id
        if pid is None:
            return
        if self._doc_handle is not None:
            self._doc_handle.cancel()
        token = self._request

        def got(doc: DocumentView) -> None:
            if token != self._request or doc.patient_id != self.patient_id:
                return
            assert self.header_data is not None
            self.pane.show_document(doc, self.header_data.title)

        self._doc_handle = self._runner.run(
            lambda _st: self._desk.document(document_id), on_success=got
        )

    # --- labs --------------------------------------------------------------------------------
    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.labs:
            self._load_lab_tests()
        elif self.studies is not None and self.tabs.currentWidget() is self.studies:
            self._load_studies()

    def _load_lab_tests(self) -> None:
        pid = self.patient_id
        if pid is None or self._labs_loaded_for == pid:
            return
        self._labs_loaded_for = pid
        token = self._request

        def got(tests: list[LabTest]) -> None:
            if token == self._request and pid == self.patient_id:
                self.labs.set_tests(tests, patient_id=pid)

        self._runner.run(lambda _st: self._desk.lab_tests(pid), on_success=got)

    def _load_trend(self, code: str) -> None:
        pid = self.patient_id
        if pid is None:
            return
        test = next((t for t in self.labs.tests_model.rows if t.code == code), None)
        if test is None:
            return
        token = self._request

        def got(points: list[LabPoint]) -> None:
            if token == self._request and pid == self.patient_id:
                self.labs.show_trend(test, points, patient_id=pid)

        self._runner.run(lambda _st: self._desk.lab_trend(pid, code), on_success=got)

    # --- writing -----------------------------------------------------------------------------
    def _signed(self, patient_id: int, _doc_id: int) -> None:
        if patient_id == self.patient_id:
            self.apply_filter()
            self._refresh_counts()

    def _refresh_counts(self) -> None:
        pid = self.patient_id
        if pid is None:
            return
        token = self._request

        def got(rows: list[TimelineRow]) -> None:
            if token == self._request and pid == self.patient_id:
                self._all_rows = rows
                row = self.sections.currentRow()
                self._fill_sections()
                self.sections.blockSignals(True)
                self.sections.setCurrentRow(row)
                self.sections.blockSignals(False)

        self._runner.run(lambda _st: self._desk.timeline(pid, TimelineFilter()), on_success=got)

    def _draft_state(self, has: bool) -> None:
        if self.editor is not None:
            idx = self.tabs.indexOf(self.editor)
            self.tabs.setTabText(idx, "Протокол осмотра •" if has else "Протокол осмотра")

    def amend(self, document_id: int) -> None:
        pid = self.patient_id
        editor = self.editor
        if pid is None or editor is None:
            return

        def got(result: Any) -> None:
            doc_pid, inp = result
            if pid != self.patient_id or doc_pid != pid:
                return
            editor.start_amendment(document_id, doc_pid, inp)
            self.tabs.setCurrentWidget(editor)

        def start() -> None:
            self._runner.run(lambda _st: self._desk.amendment_input(document_id), on_success=got)

        if editor.has_content() and editor.amends_id != document_id:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Исправление протокола",
                "Неподписанный протокол будет заменён исправляемым. Продолжить?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                self,
            )
            box.button(QMessageBox.StandardButton.Yes).setText("Исправлять")
            box.button(QMessageBox.StandardButton.Cancel).setText("Отмена")

            def decided(result: int) -> None:
                box.deleteLater()
                if result == QMessageBox.StandardButton.Yes:
                    start()

            box.finished.connect(decided)
            box.open()
            return
        start()

    def edit_vitals(self) -> None:
        if not self.can_write or self.header_data is None:
            return
        from widgets.emk.vitals_dialog import VitalsDialog

        dlg = VitalsDialog(
            self._runner,
            self._desk,
            self._show_error,
            self.header_data,
            self._mkb_search,
            self._mkb_lookup,
            parent=self,
        )

        def changed(h: EmkHeader) -> None:
            if h.patient_id == self.patient_id:
                self.header_data = h
                self.header.show_header(h)

        dlg.sig_header_changed.connect(changed)
        if self.vitals_dialog is not None:
            self.vitals_dialog.deleteLater()
        self.vitals_dialog = dlg
        dlg.open()

    # --- roaming state -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, object]:
        if self.editor is not None and self.editor.patient_id is not None:
            self.editor.persist()
        tab = "documents"
        if self.tabs.currentWidget() is self.labs:
            tab = "labs"
        elif self.editor is not None and self.tabs.currentWidget() is self.editor:
            tab = "protocol"
        elif self.referrals is not None and self.tabs.currentWidget() is self.referrals:
            tab = "referrals"
        elif self.prescriptions is not None and self.tabs.currentWidget() is self.prescriptions:
            tab = "prescriptions"
        elif self.sick_leave is not None and self.tabs.currentWidget() is self.sick_leave:
            tab = "sick_leave"
        elif self.studies is not None and self.tabs.currentWidget() is self.studies:
            tab = "studies"
        return {"patient_id": self.patient_id, "tab": tab}
