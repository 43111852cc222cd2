"""«Рабочий список рентгенолога»: the period's studies on the left, the conclusion on the right.

The list reads the database at once (every study ARM already knows), asks the PACS for the
period in the I/O lane (``sync``), and reads again when the PACS has answered — a slow or
absent PACS never holds the list back; its failure is a warning line above the list, not a
message box.  CITO studies come first, then unread, drafts, signed (the service's order).

The period and the modality are asked of the database; the status and the search (patient's
name, accession number) filter the rows already read, at once.  So the counts line always
tells the period's whole work: «Не описано: 3 · Черновиков: 1 · Подписано: 2».

Keys: Enter (or a double click) opens the study in the editor and its images in the viewer;
Ctrl+O the images only; F5 asks the PACS again; Ctrl+F the search; Esc in the editor back to
the list.  After a signature the cursor goes to the next study waiting, Enter opens it.
Every answer from the background names its request, and one overtaken by a newer is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QHideEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.clock import clinic_tz, local_day, now_utc
from services.errors import ArmError, PeerUnavailable
from services.models import ReadingStatus
from services.studies import StudyFacts, StudyRow
from services.study_desk import StudyDesk
from widgets.ports import ErrorPresenter, Handle, Runner
from widgets.rows_model import size_columns
from widgets.worklist._guard import run_for
from widgets.worklist.conclusion import ConclusionEditor
from widgets.worklist.model import StudyModel, counts_text, matches

__all__ = ["MODALITIES", "STATUSES", "WorklistView"]

log = logging.getLogger(__name__)

MODALITIES = (
    ("Все модальности", ""),
    ("CT — КТ", "CT"),
    ("MR — МРТ", "MR"),
    ("CR — рентгенография", "CR"),
    ("DX — цифровая рентгенография", "DX"),
)
STATUSES: tuple[tuple[str, ReadingStatus | None], ...] = (
    ("Все статусы", None),
    ("не описано", ReadingStatus.UNREAD),
    ("черновик", ReadingStatus.DRAFT),
    ("подписано", ReadingStatus.SIGNED),
)
PERIOD_DELAY_MS = 400  # a date typed digit by digit is asked for once


def _facts(result: object) -> list[StudyFacts]:
    """What a ``sync`` returned, if it is studies found for the view to record."""
    if isinstance(result, list | tuple) and all(isinstance(f, StudyFacts) for f in result):
        return list(result)
    return []


def _today() -> dt.date:
    """The polyclinic's day (Moscow), as the services count days, whatever the PC's zone."""
    return local_day(now_utc())


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _date(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


class WorklistView(QWidget):
    def __init__(
        self,
        runner: Runner,
        desk: StudyDesk,
        *,
        sync: Callable[[dt.date, dt.date], object] | None,
        open_images: Callable[[StudyRow], None],
        show_error: ErrorPresenter,
        parent: QWidget | None = None,
    ) -> None:
        """``sync(start, end)`` asks the PACS for the period's studies, in the I/O lane (None:
        no PACS).  It returns the :class:`StudyFacts` found, which the view records through
        ``desk.record`` in the DB lane — the database is written from one lane only — or
        records them itself and returns anything else.  ``open_images`` opens a study in the
        viewer's window."""
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._sync = sync
        self._open_images = open_images
        self._show_error = show_error
        self._all: list[StudyRow] = []
        self._request = 0
        self._sync_request = 0
        self._sync_handle: Handle | None = None
        self._shown_once = False

        today = _today()
        self.start = self._date_edit("Начало периода", today)
        self.end = self._date_edit("Конец периода", today)
        self.today_button = QPushButton("Сегодня")
        self.week_button = QPushButton("Неделя")
        self.week_button.setToolTip("Последние 7 дней, включая сегодня")
        self.modality = QComboBox()
        self.modality.setAccessibleName("Модальность")
        for text, value in MODALITIES:
            self.modality.addItem(text, value)
        self._compact(self.modality, "Все модальности")
        self.status = QComboBox()
        self.status.setAccessibleName("Статус")
        for text, status in STATUSES:
            self.status.addItem(text, status)
        self._compact(self.status, "Все статусы")
        self.search = QLineEdit()
        self.search.setAccessibleName("Поиск")
        self.search.setPlaceholderText("Пациент или № исследования  Ctrl+F")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance("м" * 16))
        self.refresh_button = QPushButton("Обновить  F5")
        self.refresh_button.setToolTip("Запросить исследования периода в PACS и перечитать список")
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.counts = QLabel()
        self.counts.setObjectName("worklistCounts")
        self.counts.setStyleSheet("font-weight: 600; color: #3c4a58;")
        self.pacs_state = QLabel()
        self.pacs_state.setStyleSheet("color: #5a6b7d;")

        self.editor = ConclusionEditor(runner, desk, show_error=show_error)
        self.model = StudyModel(lambda r: r.study_uid == self.editor.study_uid)
        self.columns = self.model.columns
        self.table = QTableView()
        self.table.setObjectName("worklistTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(False)
        size_columns(self.table, self.columns, stretch=4, min_stretch="КТ органов грудной клетки")
        self.empty = QLabel()
        self.empty.setStyleSheet("color: #5a6b7d; padding: 12px;")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()

        since, until = QLabel("Период с"), QLabel("по")
        since.setBuddy(self.start)
        until.setBuddy(self.end)
        bar = QHBoxLayout()
        bar.addWidget(since)
        bar.addWidget(self.start)
        bar.addWidget(until)
        bar.addWidget(self.end)
        bar.addWidget(self.today_button)
        bar.addWidget(self.week_button)
        bar.addSpacing(12)
        bar.addWidget(self.modality)
        bar.addWidget(self.status)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.refresh_button)
        head = QHBoxLayout()
        head.addWidget(self.counts)
        head.addStretch(1)
        head.addWidget(self.pacs_state)
        left = QWidget()
        lay_left = QVBoxLayout(left)
        lay_left.setContentsMargins(0, 0, 0, 0)
        lay_left.addLayout(head)
        lay_left.addWidget(self.table, 1)
        lay_left.addWidget(self.empty)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.editor)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setFocusProxy(self.table)

        self._period_timer = QTimer(self)
        self._period_timer.setSingleShot(True)
        self._period_timer.setInterval(PERIOD_DELAY_MS)
        self._period_timer.timeout.connect(self.refresh)
        self.start.dateChanged.connect(self._start_changed)
        self.end.dateChanged.connect(self._end_changed)
        self.today_button.clicked.connect(lambda: self.set_period(_today(), _today()))
        self.week_button.clicked.connect(
            lambda: self.set_period(_today() - dt.timedelta(days=6), _today())
        )
        self.modality.currentIndexChanged.connect(lambda _i: self.reload())
        self.status.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.search.textChanged.connect(lambda _t: self._show_rows())
        self.refresh_button.clicked.connect(self.refresh)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.editor.sig_opened.connect(lambda _r: self.model.refresh())
        self.editor.sig_draft_saved.connect(lambda r: self.reload(select_uid=r.study_uid))
        self.editor.sig_signed.connect(lambda _r: self.reload(next_waiting=True))
        self.editor.sig_back_requested.connect(self.table.setFocus)
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys in ("Return", "Enter"):
            QShortcut(QKeySequence(keys), self.table, self.open_selected, context=ctx)
        QShortcut(QKeySequence("Ctrl+O"), self, self.images_selected, context=ctx)
        QShortcut(QKeySequence("F5"), self, self.refresh, context=ctx)
        QShortcut(QKeySequence("Ctrl+F"), self, self._focus_search, context=ctx)
        self.search.installEventFilter(self)  # Esc: clear and back to the list

    @staticmethod
    def _compact(combo: QComboBox, sample: str) -> None:
        """The closed box as wide as ``sample``; the open list shows every item whole."""
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(len(sample) + 1)
        widest = max(
            combo.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count())
        )
        combo.view().setMinimumWidth(widest + 40)

    @staticmethod
    def _date_edit(name: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(_qdate(day))
        edit.setAccessibleName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd.MM.yyyy")
        return edit

    # --- the period ----------------------------------------------------------------------------
    def period(self) -> tuple[dt.date, dt.date]:
        return _date(self.start.date()), _date(self.end.date())

    def set_period(self, start: dt.date, end: dt.date) -> None:
        for edit, day in ((self.start, start), (self.end, end)):
            edit.blockSignals(True)
            edit.setDate(_qdate(day))
            edit.blockSignals(False)
        self._period_timer.stop()
        self.refresh()

    def _start_changed(self, q: QDate) -> None:
        if q > self.end.date():
            self.end.blockSignals(True)
            self.end.setDate(q)
            self.end.blockSignals(False)
        self._period_timer.start()

    def _end_changed(self, q: QDate) -> None:
        if q < self.start.date():
            self.start.blockSignals(True)
            self.start.setDate(q)
            self.start.blockSignals(False)
        self._period_timer.start()

    # --- reading -------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._shown_once:  # back to the screen: what others signed meanwhile
            self.reload()
            return
        self._shown_once = True  # the PACS is asked when the screen is first opened
        # The list gets most; the editor a comfortable line of text: ~510 px at 1366, 640 at
        # 1920 (wider only makes lines longer than one takes in at a glance).
        width = self.splitter.width() or self.width()
        editor = max(480, min(width * 38 // 100, 640))
        self.splitter.setSizes([width - editor, editor])
        self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        self.editor.save_if_changed()  # another screen: the text goes to the database
        super().hideEvent(event)

    def refresh(self) -> None:
        """F5: the list from the database now, and again once the PACS has told the period."""
        self._period_timer.stop()
        self.reload()
        if self._sync is None:
            return
        sync = self._sync
        start, end = self.period()
        if self._sync_handle is not None:
            self._sync_handle.cancel()  # its answer is for another period: dropped
        self._sync_request += 1
        token = self._sync_request
        self.pacs_state.setText("Запрос в PACS…")

        def recorded(_new: object) -> None:
            if token != self._sync_request:
                return
            self.pacs_state.setText(f"PACS: обновлено в {now_utc().astimezone(clinic_tz()):%H:%M}")
            self.reload()

        def synced(result: object) -> None:
            if token != self._sync_request:
                return
            self._sync_handle = None
            self.banner.hide()
            facts = _facts(result)
            if not facts:
                recorded(0)
                return
            run_for(
                self,
                self._runner,
                lambda: self._desk.record(facts),
                on_success=recorded,
                on_failure=record_failed,
            )

        def record_failed(exc: BaseException) -> None:
            self._show_error(self, exc, self.refresh)

        def failed(exc: BaseException) -> None:
            if token != self._sync_request:
                return
            self._sync_handle = None
            if isinstance(exc, PeerUnavailable):
                why = exc.detail or "нет связи"
            elif isinstance(exc, ArmError):
                why = str(exc)
            else:
                log.error("PACS query failed", exc_info=exc)
                why = "ошибка запроса"
            self.banner.setText(
                f"PACS недоступен: {why} — показаны исследования, уже известные ARM"
            )
            self.banner.show()
            self.pacs_state.setText("PACS: нет связи")
            self.reload()

        self._sync_handle = run_for(
            self,
            self._runner,
            lambda: sync(start, end),
            lane="io",
            on_success=synced,
            on_failure=failed,
        )

    def reload(self, *, select_uid: str | None = None, next_waiting: bool = False) -> None:
        """Read the period's studies again; the cursor stays on its study (or ``select_uid``),
        or goes to the first one still waiting (``next_waiting``, after a signature)."""
        start, end = self.period()
        modality = self.modality.currentData() or ""
        current = self.selected()
        keep = select_uid or (current.study_uid if current is not None else None)
        self._request += 1
        token = self._request

        def got(rows: list[StudyRow]) -> None:
            if token != self._request:
                return
            self._all = list(rows)
            self._show_rows(keep, next_waiting=next_waiting)

        def failed(exc: BaseException) -> None:
            if token == self._request:
                self._show_error(self, exc, lambda: self.reload(select_uid=select_uid))

        run_for(
            self,
            self._runner,
            lambda: self._desk.worklist(start, end, modality=modality),
            on_success=got,
            on_failure=failed,
        )

    def _show_rows(self, keep: str | None = None, *, next_waiting: bool = False) -> None:
        """The rows read, through the status and the search; the cursor kept on its study."""
        if keep is None:
            current = self.selected()
            keep = current.study_uid if current is not None else None
        status = self.status.currentData()
        query = self.search.text()
        rows = [
            r for r in self._all if (status is None or r.status == status) and matches(r, query)
        ]
        had_focus = self.table.hasFocus()
        self.model.set_rows(rows)
        text = counts_text(self._all)
        if len(rows) != len(self._all):
            text += f" · показано {len(rows)} из {len(self._all)}"
        self.counts.setText(text)
        self.empty.setText(
            "" if rows else "Исследований нет" + (" по этому отбору" if self._all else " за период")
        )
        self.empty.setVisible(not rows)
        if not rows:
            return
        index = next((i for i, r in enumerate(rows) if r.study_uid == keep), 0)
        if next_waiting:
            index = next((i for i, r in enumerate(rows) if r.status != ReadingStatus.SIGNED), index)
        self.table.selectRow(index)
        if had_focus or next_waiting:
            if not self.window().isActiveWindow():
                self.window().activateWindow()
            self.table.setFocus()

    def selected(self) -> StudyRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    # --- actions -------------------------------------------------------------------------------
    def open_selected(self) -> None:
        """Enter: the study into the editor, then its images into the viewer."""
        r = self.selected()
        if r is not None:
            self.editor.open(r.study_uid, then=self._open_images)

    def images_selected(self) -> None:
        """Ctrl+O: the images only — of the study being described when typing in the editor
        (the viewer was closed), else of the study under the cursor (an earlier one, say)."""
        focus = QApplication.focusWidget()
        in_editor = focus is not None and self.editor.isAncestorOf(focus)
        r = self.editor.row if in_editor and self.editor.row is not None else self.selected()
        if r is not None:
            self._open_images(r)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.search.clear()
            self.table.setFocus()
            return True
        return super().eventFilter(watched, event)
