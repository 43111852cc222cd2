"""The doctor's day: the schedule, the delayed-intake panel and the walk-in queue, by keyboard.

Keys (shown on the buttons too): ↑/↓ move, Enter opens the patient, F3 arrived, F4 start
(resume a paused one; take the walk-in selected in the queue), F6 pause, F7 resume, F8
finish, F9 no-show, Del cancel the booking, Ins book the free slot, Shift+Ins put a patient
into the walk-in queue, Ctrl+←/→ previous/next day (week), Ctrl+Home today, Ctrl+W day/week,
F5 refresh, Ctrl+F8 close the day.

The service decides every move (:mod:`services.visits`); buttons are only enabled where its
rules allow, so a refusal is rare and always explained.  Another workstation's changes
arrive by polling a fingerprint of the day every few seconds (one cheap query) — chosen over
PostgreSQL LISTEN/NOTIFY because it works the same on the embedded SQLite, needs no extra
connection per workstation held open through pgbouncer, and recovers from a dropped link by
itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from services.clock import clinic_tz, now_utc
from services.errors import ArmError, ConflictError, NotFoundError
from services.models import AppointmentStatus, BookingSource, VisitType
from services.schedule import DayRow, DoctorRow
from services.schedule_desk import DaySnapshot, ScheduleDesk
from services.visits import (
    RULES,
    DayCheck,
    DayNotClosable,
    Move,
    OnCurrent,
    PauseInput,
    VisitInProgress,
)
from services.walk_ins import WalkInRow
from widgets.ports import ErrorPresenter, Runner
from widgets.registry.model import SearchFn
from widgets.rows_model import size_columns
from widgets.schedule.dialogs import (
    CANCEL_REASONS,
    LEAVE_REASONS,
    CurrentVisitBox,
    PatientPickDialog,
    PauseDialog,
    ReasonDialog,
)
from widgets.schedule.look import fmt_clock
from widgets.schedule.model import DAY_COLUMNS, DayModel, WeekModel
from widgets.schedule.panels import PausedPanel, WalkInPanel

__all__ = ["ScheduleView"]

S = AppointmentStatus
_TZ = clinic_tz()
POLL_MS = 5000
_MONTHS = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
Work = Callable[[object], list[DayRow]]
MakeWork = Callable[[OnCurrent | None, PauseInput | None], Work]
_WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


def day_title(day: dt.date) -> str:
    """«Понедельник, 23 ноября 2026»."""
    return f"{_WEEKDAYS[day.weekday()].capitalize()}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


class DayTable(QTableView):
    """The day's table, with the "now" line drawn across it between the past and the future."""

    def __init__(self, model: DayModel) -> None:
        super().__init__()
        self._model = model
        self.setModel(model)
        self.show_now = False

    def now_y(self) -> int | None:
        if not self.show_now or not self._model.rowCount():
            return None
        now = self._model.now()
        rows = self._model.rows
        after = next((i for i, r in enumerate(rows) if r.starts_at > now), None)
        if after is None:
            last = len(rows) - 1
            return self.rowViewportPosition(last) + self.rowHeight(last)
        return self.rowViewportPosition(after)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        y = self.now_y()
        if y is None:
            return
        p = QPainter(self.viewport())
        p.setPen(QPen(QColor("#d32f2f"), 2))
        p.drawLine(0, y, self.viewport().width(), y)
        p.setBrush(QColor("#d32f2f"))
        p.drawEllipse(1, y - 4, 8, 8)
        p.end()


class ScheduleView(QWidget):
    sig_open_patient = Signal(int)
    sig_visit_started = Signal(int)  # patient id: a visit just started or resumed here
    """Enter on a visit: open this patient."""
    sig_notify = Signal(str, str)
    """(text for anyone, text with the patient's name): a paused visit's recheck time came."""
    sig_title_changed = Signal(str)

    def __init__(
        self,
        runner: Runner,
        desk: ScheduleDesk,
        search: SearchFn,
        show_error: ErrorPresenter,
        *,
        own_staff_id: int,
        can_treat: bool,
        now: Callable[[], dt.datetime] = now_utc,
        poll_ms: int = POLL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._search = search
        self._show_error = show_error
        self._own = own_staff_id
        self._can_treat = can_treat
        self._now = now
        self.staff_id = own_staff_id
        self.day = now().astimezone(_TZ).date()
        self.week_mode = False
        self.doctors: list[DoctorRow] = []
        self.last_patient: DayRow | None = None  # for «Записать» a repeat visit
        self.dialog: Any = None  # the dialog open now (tests drive it)
        self._busy = False
        self._keep_slot: int | None = None

        # --- top bar ---
        self.prev_button = QToolButton()
        self.next_button = QToolButton()
        self.today_button = QToolButton()
        self.week_button = QToolButton()
        self.week_button.setCheckable(True)
        self.date_label = QLabel()
        self.date_label.setObjectName("scheduleDate")
        self.doctor_combo = QComboBox()
        self.doctor_combo.setObjectName("doctorCombo")
        self.doctor_combo.setMinimumContentsLength(16)
        self.doctor_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.counters = QLabel()
        self.counters.setObjectName("scheduleCounters")
        # The counters give way on a narrow screen (their full text is in the tooltip).
        self.counters.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        # --- the day, the week ---
        self.model = DayModel(runner, desk.snapshot, now)
        self.table = DayTable(self.model)
        self.table.setObjectName("dayTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setWordWrap(False)
        size_columns(
            self.table, DAY_COLUMNS, stretch=1, min_stretch="Константинопольская Александра"
        )
        self.week_model = WeekModel()
        self.week_table = QTableView()
        self.week_table.setObjectName("weekTable")
        self.week_table.setModel(self.week_model)
        self.week_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.week_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.week_table.horizontalHeader().setSectionResizeMode(
            self.week_table.horizontalHeader().ResizeMode.Stretch
        )
        self.week_table.verticalHeader().setDefaultSectionSize(24)
        self.views = QStackedWidget()
        self.views.addWidget(self.table)
        self.views.addWidget(self.week_table)

        self.paused = PausedPanel(now)
        self.walk_ins = WalkInPanel(now)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.paused)
        side.addWidget(self.walk_ins)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.views)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setSizes([900, 360])
        side.setMinimumWidth(300)
        split.setChildrenCollapsible(False)

        # --- actions ---
        self.actions_by_move: dict[Move, QAction] = {}
        bar = QHBoxLayout()
        bar.setSpacing(4)
        for mv, text, key, tip in (
            (Move.ARRIVE, "Пришёл", "F3", "Отметить приход пациента"),
            (Move.START, "Начать", "F4", "Начать приём (на отложенном — возобновить)"),
            (
                Move.PAUSE,
                "Отложить",
                "F6",
                "Отложенный приём: пациент ждёт, вы принимаете следующего",
            ),
            (Move.RESUME, "Возобновить", "F7", "Вернуться к отложенному приёму"),
            (Move.FINISH, "Завершить", "F8", "Завершить приём"),
            (Move.NO_SHOW, "Неявка", "F9", "Пациент не пришёл"),
            (Move.CANCEL, "Отменить", "Del", "Отменить запись (с причиной); время освободится"),
        ):
            act = self._action(f"{text} {key}", key, lambda _c=False, m=mv: self.request(m))
            act.setToolTip(tip)
            self.actions_by_move[mv] = act
            bar.addWidget(self._button(act, f"move_{mv.value}"))
        self.book_action = self._action("Записать Ins", "Ins", self.book_selected)
        self.book_action.setToolTip("Записать пациента на выбранное свободное время")
        bar.addWidget(self._button(self.book_action, "book"))
        bar.addStretch(1)
        self.close_action = self._action("Закрыть приём Ctrl+F8", "Ctrl+F8", self.close_day)
        bar.addWidget(self._button(self.close_action, "closeDay"))
        self.walk_in_action = self._action("В очередь", "Shift+Ins", self.add_walk_in)
        self._action("Обновить", "F5", self.reload)
        self._action("Предыдущий", "Ctrl+Left", lambda: self.shift(-1))
        self._action("Следующий", "Ctrl+Right", lambda: self.shift(+1))
        self._action("Сегодня", "Ctrl+Home", self.go_today)
        self.week_action = self._action("Неделя", "Ctrl+W", self.toggle_week)
        for button, text, tip in (
            (self.prev_button, "◀", "Предыдущий день (Ctrl+←)"),
            (self.next_button, "▶", "Следующий день (Ctrl+→)"),
            (self.today_button, "Сегодня", "Ctrl+Home"),
            (self.week_button, "Неделя", "Ctrl+W"),
        ):
            button.setText(text)
            button.setToolTip(tip)
        self.prev_button.clicked.connect(lambda: self.shift(-1))
        self.next_button.clicked.connect(lambda: self.shift(+1))
        self.today_button.clicked.connect(self.go_today)
        self.week_button.clicked.connect(lambda _c: self.toggle_week())

        top = QHBoxLayout()
        top.addWidget(self.prev_button)
        top.addWidget(self.date_label)
        top.addWidget(self.next_button)
        top.addWidget(self.today_button)
        top.addWidget(self.week_button)
        top.addSpacing(12)
        top.addWidget(self.doctor_combo)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.counters)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        layout.addLayout(bar)

        # --- wiring ---
        self.model.sig_loaded.connect(self._on_loaded)
        self.model.sig_failed.connect(self._on_load_failed)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_actions())
        self.table.activated.connect(self._open_index)
        self.week_table.activated.connect(self._open_week_cell)
        self.paused.sig_resume_requested.connect(lambda a: self.request(Move.RESUME, a))
        self.paused.sig_due.connect(self._on_due)
        self.walk_ins.sig_add_requested.connect(self.add_walk_in)
        self.walk_ins.sig_take_requested.connect(self.take_walk_in)
        self.walk_ins.sig_remove_requested.connect(self.remove_walk_in)
        self.doctor_combo.currentIndexChanged.connect(self._on_doctor_chosen)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self.poll)
        self._clock = QTimer(self)
        self._clock.setInterval(30_000)
        self._clock.timeout.connect(self._tick)
        self._loaded_once = False
        self._update_date_label()
        self._update_actions()

    # --- building blocks ---------------------------------------------------------------------
    def _action(self, text: str, key: str, slot: Callable[..., None]) -> QAction:
        act = QAction(text, self)
        act.setShortcut(QKeySequence(key))
        act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _button(self, act: QAction, name: str) -> QToolButton:
        b = QToolButton()
        b.setObjectName(name)
        b.setDefaultAction(act)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return b

    # --- showing ---------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self._load_doctors()
            self.reload()
        self._poll.start()
        self._clock.start()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._poll.stop()

    def _load_doctors(self) -> None:
        desk = self._desk

        def done(rows: list[DoctorRow]) -> None:
            self.doctors = rows
            self.doctor_combo.blockSignals(True)
            self.doctor_combo.clear()
            for d in rows:
                self.doctor_combo.addItem(d.name, d.id)
                self.doctor_combo.setItemData(
                    self.doctor_combo.count() - 1, d.position, Qt.ItemDataRole.ToolTipRole
                )
            i = self.doctor_combo.findData(self.staff_id)
            if i < 0 and rows:
                i = 0
                self.staff_id = rows[0].id
                self.reload()
            self.doctor_combo.setCurrentIndex(i)
            self.doctor_combo.blockSignals(False)

        self._runner.run(lambda _s: desk.doctors(), on_success=done)

    def _on_doctor_chosen(self, index: int) -> None:
        staff = self.doctor_combo.itemData(index)
        if isinstance(staff, int) and staff != self.staff_id:
            self.staff_id = staff
            self.reload()

    def reload(self) -> None:
        r = self.current_row()
        self._keep_slot = r.slot_id if r is not None else self._keep_slot
        if self.week_mode:
            monday = self.day - dt.timedelta(days=self.day.weekday())
            self.model.load(self.staff_id, monday, 7)
        else:
            self.model.load(self.staff_id, self.day, 1)

    def _on_loaded(self, snap: DaySnapshot) -> None:
        if self.week_mode:
            self.week_model.set_snapshot(snap)
        today = self._now().astimezone(_TZ).date()
        self.table.show_now = not self.week_mode and snap.day == today
        self.paused.set_rows(snap.paused)
        self.walk_ins.set_rows(snap.queue)
        self._select_after_load(today)
        self._update_counters()
        self._update_actions()
        self.table.viewport().update()

    def _select_after_load(self, today: dt.date) -> None:
        keep, self._keep_slot = self._keep_slot, None
        row = self.model.row_of_slot(keep) if keep is not None else -1
        if row < 0 and self.model.rowCount():
            rows = self.model.rows
            live = [i for i, r in enumerate(rows) if r.status in (S.IN_PROGRESS,)]
            if live:
                row = live[0]
            elif self.day == today:
                now = self._now()
                row = next((i for i, r in enumerate(rows) if r.ends_at > now), len(rows) - 1)
            else:
                row = 0
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(
                self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
            )

    def _on_load_failed(self, exc: BaseException) -> None:
        self.counters.setText("Расписание не загружено")
        self._show_error(self, exc, self.reload)

    def poll(self) -> None:
        """Ask whether anything changed on this day (another workstation, the registry)."""
        snap = self.model.snapshot
        if snap is None or self.model.loading or self._busy or not self.isVisible():
            return
        desk, staff, day = self._desk, self.staff_id, snap.day
        known = snap.fingerprint

        def done(fp: tuple[object, ...]) -> None:
            cur = self.model.snapshot
            if cur is not None and cur.day == day and fp != known and not self.model.loading:
                self.reload()

        # A poll that fails says nothing: the next one, or the doctor's next action, will.
        self._runner.run(
            lambda _s: desk.fingerprint(staff, day), on_success=done, on_failure=lambda _e: None
        )

    def _tick(self) -> None:
        self.model.tick()
        self.table.viewport().update()

    def _update_date_label(self) -> None:
        if self.week_mode:
            monday = self.day - dt.timedelta(days=self.day.weekday())
            sunday = monday + dt.timedelta(days=6)
            self.date_label.setText(
                f"Неделя {monday.strftime('%d.%m')} – {sunday.strftime('%d.%m.%Y')}"
            )
        else:
            self.date_label.setText(day_title(self.day))
        self.week_button.setChecked(self.week_mode)

    def _update_counters(self) -> None:
        snap = self.model.snapshot
        if snap is None:
            return
        if not self.model.rowCount():
            self.counters.setText("Нет приёма в этот день")
            return
        c = self.model.counts()
        booked = sum(v for k, v in c.items() if k is not None)
        parts = [f"Записано {booked}"]
        for status, word in (
            (S.ARRIVED, "ждут"),
            (S.IN_PROGRESS, "на приёме"),
            (S.PAUSED, "отложено"),
            (S.FINISHED, "принято"),
            (S.NO_SHOW, "неявка"),
        ):
            if c.get(status):
                parts.append(f"{word} {c[status]}")
        parts.append(f"свободно {c.get(None, 0)}")
        text = " · ".join(parts) + (" · приём закрыт" if snap.closed else "")
        self.counters.setText(text)
        self.counters.setToolTip(text)

    # --- navigation --------------------------------------------------------------------------
    def shift(self, step: int) -> None:
        self.day += dt.timedelta(days=7 * step if self.week_mode else step)
        self._keep_slot = None
        self._update_date_label()
        self.reload()

    def go_today(self) -> None:
        self.day = self._now().astimezone(_TZ).date()
        self._keep_slot = None
        self._update_date_label()
        self.reload()

    def toggle_week(self) -> None:
        self.week_mode = not self.week_mode
        self.views.setCurrentWidget(self.week_table if self.week_mode else self.table)
        self._update_date_label()
        self.reload()
        (self.week_table if self.week_mode else self.table).setFocus()

    def show_day(self, day: dt.date) -> None:
        self.day = day
        if self.week_mode:
            self.toggle_week()
        else:
            self._update_date_label()
            self.reload()

    def _open_week_cell(self, index: QModelIndex) -> None:
        day = self.week_model.day_at(index.column())
        cell = self.week_model.cell(index.row(), index.column())
        if day is not None:
            self._keep_slot = cell.slot_id if cell is not None else None
            self.show_day(day)
            self._back_to_table()

    def _open_index(self, index: QModelIndex) -> None:
        r = self.model.row_at(index.row())
        if r is None:
            return
        if r.free:
            self.book_selected()
        elif r.patient_id is not None:
            self.last_patient = r
            self.sig_open_patient.emit(r.patient_id)

    # --- the selected visit and what may be done with it ---------------------------------------
    def current_row(self) -> DayRow | None:
        idx = self.table.currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _treating(self) -> bool:
        return self._can_treat and self.staff_id == self._own

    def _update_actions(self) -> None:
        r = self.current_row()
        snap = self.model.snapshot
        closed = snap is not None and snap.closed
        today = self._now().astimezone(_TZ).date()
        day_mode = not self.week_mode
        for mv, act in self.actions_by_move.items():
            rule = RULES[mv]
            ok = (
                day_mode
                and r is not None
                and r.status in rule.sources
                and not closed
                and (self._treating() or not rule.doctors_only)
            )
            if ok and r is not None and mv in (Move.ARRIVE, Move.START, Move.PAUSE, Move.RESUME):
                ok = r.starts_at.astimezone(_TZ).date() == today
            if mv == Move.RESUME:
                ok = ok or (self._treating() and self.paused.model.rowCount() > 0 and not closed)
            if mv == Move.START:  # F4 also resumes a paused visit and takes a walk-in
                paused = r is not None and r.status == S.PAUSED
                queue = self.walk_ins.model.rowCount() > 0
                ok = ok or (self._treating() and day_mode and not closed and (paused or queue))
            act.setEnabled(bool(ok))
        self.book_action.setEnabled(
            day_mode
            and r is not None
            and r.free
            and r.bookable
            and r.ends_at > self._now()
            and not closed
        )
        self.close_action.setEnabled(
            day_mode and self._treating() and snap is not None and not closed
        )

    # --- moves ---------------------------------------------------------------------------------
    def request(self, mv: Move, appointment_id: int | None = None) -> None:
        """A key or a button asked for ``mv`` on the selected visit (or the one given)."""
        if mv == Move.START and self.walk_ins.table.hasFocus() and self.walk_ins.selected():
            row = self.walk_ins.selected()
            assert row is not None
            self.take_walk_in(row.id)
            return
        target: DayRow | None
        if appointment_id is not None:
            target = self._row_of(appointment_id)
        elif mv == Move.RESUME and (
            self.paused.table.hasFocus() or not self._selected_is(S.PAUSED)
        ):
            target = self.paused.next_to_resume()
        else:
            target = self.current_row()
        if mv == Move.START and target is not None and target.status == S.PAUSED:
            mv = Move.RESUME  # F4 on a paused visit resumes it
        if target is None or target.appointment_id is None:
            return
        if mv == Move.START and target.status not in RULES[Move.START].sources:
            return  # F4 meant for the queue, pressed on a finished row: nothing to start
        appt = target.appointment_id
        if target.status not in RULES[mv].sources:
            self._move(appt, mv)  # no questions for a move that cannot be: the service says why
        elif mv == Move.PAUSE:
            self._ask_pause(target.patient_short, lambda p: self._move(appt, mv, pause=p))
        elif mv == Move.CANCEL:
            self._ask_reason(
                f"Отменить запись — {target.patient_short}",
                f"Запись на {fmt_clock(target.starts_at, _TZ)} будет отменена, время освободится. "
                "Укажите причину отмены.",
                CANCEL_REASONS,
                lambda text: self._move(appt, mv, cancel_reason=text),
            )
        else:
            self._move(appt, mv)

    def _selected_is(self, status: AppointmentStatus) -> bool:
        r = self.current_row()
        return r is not None and r.status == status

    def _row_of(self, appointment_id: int) -> DayRow | None:
        i = self.model.row_of_appointment(appointment_id)
        if i >= 0:
            return self.model.row_at(i)
        return next((r for r in self.paused.model.rows if r.appointment_id == appointment_id), None)

    def _move(
        self,
        appointment_id: int,
        mv: Move,
        *,
        pause: PauseInput | None = None,
        cancel_reason: str = "",
    ) -> None:
        desk = self._desk

        def make(on_current: OnCurrent | None, cur_pause: PauseInput | None) -> Work:
            return lambda _s: desk.move(
                appointment_id,
                mv,
                pause=pause,
                cancel_reason=cancel_reason,
                on_current=on_current,
                current_pause=cur_pause,
            )

        self._run_change(make)

    def _run_change(self, make: MakeWork, *, reload_after: bool = False) -> None:
        """Run a change; patch the rows it returns; explain a refusal and show fresh data.

        ``make(on_current, current_pause)`` builds the work: when another visit is in
        progress the doctor is asked what to do with it, and the same change runs again
        with the answer — in one transaction with it.
        """

        def attempt(on_current: OnCurrent | None, cur_pause: PauseInput | None) -> None:
            self._busy = True

            def done(rows: list[DayRow]) -> None:
                self._busy = False
                self._patched(rows)
                if reload_after:
                    self.reload()

            def failed(exc: BaseException) -> None:
                self._busy = False
                if isinstance(exc, VisitInProgress):
                    self._ask_current(exc, attempt)
                    return
                if isinstance(exc, (ConflictError, NotFoundError)):
                    self.reload()  # whatever changed elsewhere is shown now
                transient = getattr(exc, "transient", False)
                self._show_error(
                    self, exc, (lambda: attempt(on_current, cur_pause)) if transient else None
                )

            self._runner.run(make(on_current, cur_pause), on_success=done, on_failure=failed)

        attempt(None, None)

    def _patched(self, rows: list[DayRow]) -> None:
        self.model.patch(rows)
        for r in rows:
            if r.status in (S.IN_PROGRESS, S.FINISHED) and r.patient_id is not None:
                self.last_patient = r
            if r.status == S.IN_PROGRESS:  # the visit just started is the one selected
                i = self.model.row_of_slot(r.slot_id)
                if i >= 0:
                    self.table.selectRow(i)
        started = [r for r in rows if r.status == S.IN_PROGRESS and r.patient_id is not None]
        shown = {r.appointment_id for r in self.paused.model.rows}
        if any(r.status == S.PAUSED or r.appointment_id in shown for r in rows):
            merged = {r.appointment_id: r for r in self.paused.model.rows}
            for r in rows:
                merged[r.appointment_id] = r
            self.paused.set_rows(list(merged.values()))
        self._update_counters()
        self._update_actions()
        self.table.viewport().update()
        if self.banner.isVisible() and not self.paused.model.rowCount():
            self.banner.setVisible(False)
        for r in started:
            assert r.patient_id is not None
            self.sig_visit_started.emit(r.patient_id)

    def _ask_current(
        self, exc: VisitInProgress, retry_with: Callable[[OnCurrent, PauseInput | None], None]
    ) -> None:
        """«Идёт приём»: pause the current visit (asking why) or finish it, then go on."""
        box = CurrentVisitBox(exc.current, self)
        self.dialog = box

        def chosen() -> None:
            choice = box.choice()
            box.deleteLater()
            self.dialog = None
            self._back_to_table()
            if choice == OnCurrent.FINISH:
                retry_with(OnCurrent.FINISH, None)
            elif choice == OnCurrent.PAUSE:
                self._ask_pause(exc.current.patient, lambda p: retry_with(OnCurrent.PAUSE, p))

        box.finished.connect(chosen)
        box.open()

    def _ask_pause(self, patient: str, then: Callable[[PauseInput], None]) -> None:
        dlg = PauseDialog(patient, self)
        self.dialog = dlg

        def done() -> None:
            self.dialog = None
            if dlg.result() == PauseDialog.DialogCode.Accepted and dlg.result_pause is not None:
                then(dlg.result_pause)
            dlg.deleteLater()
            self._back_to_table()

        dlg.finished.connect(done)
        dlg.open()

    def _ask_reason(
        self, title: str, prompt: str, presets: tuple[str, ...], then: Callable[[str], None]
    ) -> None:
        dlg = ReasonDialog(title, prompt, presets, self)
        self.dialog = dlg

        def done() -> None:
            self.dialog = None
            if dlg.result() == ReasonDialog.DialogCode.Accepted:
                then(dlg.reason_text)
            dlg.deleteLater()
            self._back_to_table()

        dlg.finished.connect(done)
        dlg.open()

    # --- booking and the walk-in queue ---------------------------------------------------------
    def _prefill(self) -> str:
        p = self.last_patient
        if p is None or p.birth_date is None:
            return ""
        return f"{p.patient_name} {p.birth_date.strftime('%d.%m.%Y')}"

    def book_selected(self) -> None:
        r = self.current_row()
        if r is None or not r.free or not self.book_action.isEnabled():
            return
        own = self._treating()
        dlg = PatientPickDialog(
            self._runner,
            self._search,
            title=f"Запись на {fmt_clock(r.starts_at, _TZ)}, {day_title(self.day).lower()}",
            walk_in=False,
            prefill=self._prefill() if own else "",
            default_type=VisitType.REPEAT if own else VisitType.FIRST,
            parent=self,
        )
        self.dialog = dlg
        slot = r.slot_id
        source = BookingSource.DOCTOR if self._can_treat else BookingSource.REGISTRY
        desk = self._desk

        def done() -> None:
            self.dialog = None
            pid = dlg.patient_id
            vt = dlg.visit_type.currentData()
            dlg.deleteLater()
            self._back_to_table()
            if dlg.result() != PatientPickDialog.DialogCode.Accepted or pid is None:
                return
            self._run_change(lambda _c, _p: lambda _s: desk.book(slot, pid, vt, source))

        dlg.finished.connect(done)
        dlg.open()

    def add_walk_in(self) -> None:
        snap = self.model.snapshot
        if snap is not None and snap.closed:
            return
        dlg = PatientPickDialog(
            self._runner,
            self._search,
            title="Пациент без записи — в очередь",
            walk_in=True,
            parent=self,
        )
        self.dialog = dlg
        desk, staff = self._desk, self.staff_id

        def done() -> None:
            self.dialog = None
            pid = dlg.patient_id
            priority = dlg.priority.currentData()
            note = dlg.note.text()
            dlg.deleteLater()
            self._back_to_table()
            if dlg.result() != PatientPickDialog.DialogCode.Accepted or pid is None:
                return

            def failed(exc: BaseException) -> None:
                self._show_error(self, exc, None)

            self._runner.run(
                lambda _s: desk.add_walk_in(staff, pid, priority, note),
                on_success=self._queue_changed,
                on_failure=failed,
            )

        dlg.finished.connect(done)
        dlg.open()

    def _queue_changed(self, rows: list[WalkInRow]) -> None:
        self.walk_ins.set_rows(rows)
        self._update_actions()

    def take_walk_in(self, walk_in_id: int) -> None:
        if not self._treating():
            return
        desk = self._desk

        def make(on_current: OnCurrent | None, cur_pause: PauseInput | None) -> Work:
            return lambda _s: desk.take_walk_in(
                walk_in_id, on_current=on_current, current_pause=cur_pause
            )

        self._run_change(make, reload_after=True)  # the queue changed too

    def remove_walk_in(self, walk_in_id: int) -> None:
        row = next((r for r in self.walk_ins.model.rows if r.id == walk_in_id), None)
        if row is None:
            return
        desk = self._desk

        def then(reason: str) -> None:
            def failed(exc: BaseException) -> None:
                self.reload()
                self._show_error(self, exc, None)

            self._runner.run(
                lambda _s: desk.remove_walk_in(walk_in_id, reason),
                on_success=lambda _r: self.reload(),
                on_failure=failed,
            )

        self._ask_reason(
            f"Убрать из очереди — {row.patient_short}",
            "Почему пациент убран из очереди без записи?",
            LEAVE_REASONS,
            then,
        )

    # --- closing the day -------------------------------------------------------------------------
    def close_day(self) -> None:
        if not self.close_action.isEnabled():
            return
        desk, staff, day = self._desk, self.staff_id, self.day

        def checked(check: DayCheck) -> None:
            if not check.closable:
                self._warn(str(DayNotClosable(check)))
                return
            box = QMessageBox(self)
            box.setWindowTitle("Закрыть приём")
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(
                f"Закрыть приём {day.strftime('%d.%m.%Y')}? После закрытия статусы не меняются."
            )
            if check.no_shows:
                names = "\n".join(f" • {v.describe()}" for v in check.no_shows[:15])
                more = f"\n … и ещё {len(check.no_shows) - 15}" if len(check.no_shows) > 15 else ""
                box.setInformativeText(f"Не пришли — будут отмечены неявкой:\n{names}{more}")
            yes = box.addButton("Закрыть приём", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Отмена", QMessageBox.ButtonRole.RejectRole)
            self.dialog = box

            def answered() -> None:
                self.dialog = None
                self._back_to_table()
                if box.clickedButton() is yes:
                    self._runner.run(
                        lambda _s: desk.close_day(staff, day),
                        on_success=lambda _c: self.reload(),
                        on_failure=self._close_failed,
                    )
                box.deleteLater()

            box.finished.connect(answered)
            box.open()

        self._runner.run(lambda _s: desk.check_day(staff, day), on_success=checked)

    def _close_failed(self, exc: BaseException) -> None:
        self.reload()
        if isinstance(exc, ArmError) and not exc.transient:
            self._warn(str(exc))
        else:
            self._show_error(self, exc, None)

    def _warn(self, text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Приём не закрыт", text, QMessageBox.StandardButton.Ok, self
        )
        box.setObjectName("closeDayWarning")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog = box

        def gone() -> None:
            self.dialog = None
            box.deleteLater()
            self._back_to_table()

        box.finished.connect(gone)
        box.open()

    # --- recheck notifications -------------------------------------------------------------------
    def _on_due(self, r: DayRow) -> None:
        who = r.patient_short
        text = (
            f"Пора вернуться к пациенту {who} (отложен: {r.pause_reason}). F7 — возобновить приём."
        )
        self.banner.setText(text)
        self.banner.setVisible(True)
        QApplication.beep()
        self.sig_notify.emit("Пора вернуться к отложенному приёму", text)

    # --- roaming ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, object]:
        return {"staff_id": self.staff_id, "day": self.day.isoformat(), "week": self.week_mode}

    def restore(self, state: dict[str, object]) -> None:
        staff = state.get("staff_id")
        if isinstance(staff, int):
            self.staff_id = staff
        day = state.get("day")
        if isinstance(day, str):
            try:
                self.day = dt.date.fromisoformat(day)
            except ValueError:
                pass
        if state.get("week") is True and not self.week_mode:
            self.week_mode = True
            self.views.setCurrentWidget(self.week_table)
        self._update_date_label()
        if self._loaded_once:
            self.reload()

    def _back_to_table(self) -> None:
        """After a dialog: the keys go to the day again (a PC without a window manager, or
        with one that does not give activation back, would leave them nowhere)."""
        self.window().activateWindow()
        self.focus_day()

    def focus_day(self) -> None:
        (self.week_table if self.week_mode else self.table).setFocus()
