"""«Доступ к ЭМК ребенка»: pick the relative, check the phone, tick the signed application,
send the code; see everyone ever given access and revoke it with a reason.

The registrar's way through it by keyboard: the relative list has the focus (↓ picks; its last
item «Добавить родственную связь…» opens the relation dialog), Tab to the phone (filled from
the person's card), Space ticks «подписал заявку», Ctrl+P prints the application, Ctrl+Enter
sends the code.  In the history, Del revokes the selected access.  A refusal names every
broken rule under its field and keeps what was typed.  While a code is on its way the
history refreshes itself, so the status icon turns to «доставлен» without a click.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.child_access import AccessForm, Candidate, CodeStatus, GrantRow
from services.child_access_desk import ChildAccessDesk
from services.clock import clinic_tz
from services.errors import ValidationError, ValidationErrors
from services.printouts import PrintJob
from services.registry import Registry
from services.validation import format_phone
from widgets.field_errors import error_label, with_error
from widgets.formatting import fmt_date
from widgets.patient_card.relation_dialog import RelationDialog
from widgets.ports import ErrorPresenter, Runner
from widgets.rows_model import Column, RowsModel, size_columns
from widgets.schedule.dialogs import ReasonDialog

__all__ = ["ChildAccessDialog", "status_icon"]

ADD_RELATION = -1  # the combo's last item: «Добавить родственную связь…»
POLL_MS = 2000  # how often the history is asked again while a code is on its way

REVOKE_PRESETS = (
    "Заявление родителя (законного представителя)",
    "Лишение родительских прав",
    "Прекращение опеки (попечительства)",
    "Смена номера телефона",
    "Ошибка при оформлении",
)

# Status → (colour, glyph): the icon in the phone column; the words are in the next column.
_LOOK: dict[CodeStatus, tuple[str, str]] = {
    CodeStatus.QUEUED: ("#9e9e9e", "…"),
    CodeStatus.SENT: ("#1e88e5", "↑"),
    CodeStatus.DELIVERED: ("#2e7d32", "✓"),
    CodeStatus.USED: ("#1b5e20", "★"),
    CodeStatus.UNDELIVERED: ("#e65100", "!"),
    CodeStatus.EXPIRED: ("#8d6e63", "⌛"),
    CodeStatus.LOCKED: ("#c62828", "×"),
    CodeStatus.REVOKED: ("#616161", "–"),
    CodeStatus.ENDED: ("#616161", "–"),
}
_AWAITING = frozenset({CodeStatus.QUEUED, CodeStatus.SENT})
# The history's column is narrow: a word each; the full sentence is the row's tooltip.
_SHORT: dict[CodeStatus, str] = {
    CodeStatus.QUEUED: "в очереди",
    CodeStatus.SENT: "отправлен",
    CodeStatus.DELIVERED: "доставлен",
    CodeStatus.UNDELIVERED: "не доставлен",
    CodeStatus.USED: "использован",
    CodeStatus.EXPIRED: "истёк",
    CodeStatus.LOCKED: "заблокирован",
    CodeStatus.REVOKED: "отозван",
    CodeStatus.ENDED: "окончен (18 лет)",
}

_icons: dict[CodeStatus, QIcon] = {}


def status_icon(status: CodeStatus) -> QIcon:
    """A small filled circle with a glyph: readable without colour too."""
    if status not in _icons:
        colour, glyph = _LOOK[status]
        pm = QPixmap(18, 18)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QBrush(QColor(colour)))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(1, 1, 16, 16)
        p.setPen(QColor("white"))
        f = p.font()
        f.setBold(True)
        f.setPixelSize(12)
        p.setFont(f)
        p.drawText(QRectF(1, 0, 16, 17), Qt.AlignmentFlag.AlignCenter, glyph)
        p.end()
        _icons[status] = QIcon(pm)
    return _icons[status]


def _local(ts: dt.datetime | None) -> str:
    return ts.astimezone(clinic_tz()).strftime("%d.%m.%Y") if ts else ""


def _history_columns() -> list[Column[GrantRow]]:
    return [
        Column("ФИО родственника", lambda r: r.relative_name, "Константинопольская Александра В."),
        Column("Род. связь", lambda r: r.relation_label, "попечитель"),
        Column("Телефон", lambda r: format_phone(r.phone), "+7 916 123-45-67__"),
        Column("Код", lambda r: _SHORT[r.status], "окончен (18 лет)"),
        Column("Начало", lambda r: _local(r.granted_at), "00.00.0000"),
        Column(
            "Окончание",
            lambda r: _local(r.ended_at) if r.ended_at else f"до {fmt_date(r.ends_on)}",
            "до 00.00.0000",
        ),
        Column("Причина отзыва", lambda r: r.revoke_reason, "Заявление родителя", optional=True),
        Column("", lambda _r: "", "Отозвать доступ"),
    ]


class _HistoryModel(RowsModel[GrantRow]):
    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # type: ignore[override]
        row = self.row_at(index.row()) if index.isValid() else None
        if row is not None and role == Qt.ItemDataRole.ToolTipRole:
            until = row.code_expires_at.astimezone(clinic_tz())
            return f"Код: {row.status_label}; действует до {until:%d.%m.%Y %H:%M}"
        if row is not None and index.column() == 2 and role == Qt.ItemDataRole.DecorationRole:
            return status_icon(row.status)
        return super().data(index, role)


class ChildAccessDialog(QDialog):
    sig_changed = Signal()
    """Access was given, re-sent or revoked (the caller may refresh what it shows)."""

    def __init__(
        self,
        runner: Runner,
        desk: ChildAccessDesk,
        registry: Registry,
        show_error: ErrorPresenter,
        child_id: int,
        departments: list[tuple[int, str]],
        *,
        preview: Callable[[PrintJob, QWidget], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._registry = registry
        self._show_error = show_error
        self._preview = preview
        self._departments = departments
        self.child_id = child_id
        self._form: AccessForm | None = None
        self._busy = False
        self.relation_dialog: RelationDialog | None = None
        self.reason_dialog: ReasonDialog | None = None
        self._select_after_load: int | None = None
        self._phone_from_card = ""

        self.setWindowTitle("Доступ к ЭМК ребенка")
        self.resize(1240, 720)
        self.child_label = QLabel("Загрузка…")
        self.child_label.setObjectName("childLabel")
        self.child_label.setWordWrap(True)
        self.note = QLabel()
        self.note.setObjectName("infoNote")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        self.refusal = error_label()

        self.relative = QComboBox()
        self.relative.setObjectName("relativeCombo")
        self.relative.setMinimumContentsLength(40)
        self.phone = QLineEdit()
        self.phone.setObjectName("phone")
        self.phone.setMaxLength(30)
        self.phone.setPlaceholderText("+7 9XX XXX-XX-XX")
        self.signed = QCheckBox("Пациент подписал заявку на предоставление доступа")
        self.signed.setObjectName("signed")
        self.print_link = QLabel(
            '<a href="print">Заявка на предоставление доступа к ЭМК ребенка…</a> (Ctrl+P)'
        )
        self.print_link.setObjectName("printApplication")
        self.print_link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.send_button = QPushButton("Отправить код  Ctrl+Enter")
        self.send_button.setObjectName("sendCode")
        self.sent_label = QLabel()
        self.sent_label.setObjectName("okNote")
        self.sent_label.setWordWrap(True)
        self.errors: dict[str, QLabel] = {}

        form = QFormLayout()
        form.addRow("ФИО родственника*", self._with_error("relative", self.relative))
        form.addRow("Телефон*", self._with_error("phone", self.phone))
        signed_row = QHBoxLayout()
        signed_row.addWidget(self.signed)
        signed_row.addSpacing(16)
        signed_row.addWidget(self.print_link)
        signed_row.addStretch(1)
        signed_box = QWidget()
        signed_box.setLayout(signed_row)
        signed_row.setContentsMargins(0, 0, 0, 0)
        form.addRow("", self._with_error("signed", signed_box))
        send_row = QHBoxLayout()
        send_row.addWidget(self.send_button)
        send_row.addWidget(self.sent_label, 1)
        form.addRow("", send_row)
        self.grant_box = QGroupBox("Предоставить доступ")
        self.grant_box.setLayout(form)

        self.history_model = _HistoryModel(
            _history_columns(),
            dimmed=lambda r: not r.live,
            tooltip=None,
        )
        self.history = QTableView()
        self.history.setObjectName("accessHistory")
        self.history.setModel(self.history_model)
        self.history.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history.verticalHeader().hide()
        self.history.verticalHeader().setDefaultSectionSize(30)
        self.history.setWordWrap(False)
        size_columns(self.history, _history_columns(), min_stretch="Кузнецова Ольга П.")
        history_box = QGroupBox("История предоставления доступа")
        hb = QVBoxLayout(history_box)
        hb.addWidget(self.history)
        hint = QLabel("Del — отозвать доступ выбранного родственника")
        hint.setObjectName("hint")
        hb.addWidget(hint)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText("Закрыть")
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.child_label)
        layout.addWidget(self.note)
        layout.addWidget(self.refusal)
        layout.addWidget(self.grant_box)
        layout.addWidget(history_box, 1)
        layout.addWidget(self.buttons)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._refresh_history)

        self.relative.activated.connect(self._picked)
        self.relative.currentIndexChanged.connect(lambda _i: self._picked_quietly())
        self.send_button.clicked.connect(self.send)
        self.print_link.linkActivated.connect(lambda _l: self.print_application())
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.send)
        QShortcut(QKeySequence("Ctrl+P"), self, self.print_application)
        QShortcut(QKeySequence("F5"), self, lambda: self.reload())
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.history, self.revoke_selected)
        self.reload()

    # --- layout helpers --------------------------------------------------------------------
    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        return with_error(widget, self.errors, key)

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.setVisible(False)

    def _show_rule(self, exc: ValidationError) -> None:
        key = exc.key if exc.key in self.errors else "relative"
        if exc.key == "child":
            self.refusal.setText(exc.rule)
            self.refusal.setVisible(True)
            return
        label = self.errors[key]
        label.setText(str(exc))
        label.setVisible(True)

    # --- loading ---------------------------------------------------------------------------
    def reload(self, select_relative: int | None = None) -> None:
        self._select_after_load = select_relative
        cid = self.child_id
        self._runner.run(
            lambda _st: self._desk.form(cid), on_success=self._loaded, on_failure=self._failed
        )

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self._set_enabled(True)
        self._show_error(self, exc, None)

    def _loaded(self, form: AccessForm) -> None:
        if form.child.id != self.child_id:
            return
        self._form = form
        c = form.child
        age = f"{c.age} лет" if c.age % 10 != 1 or c.age == 11 else f"{c.age} год"
        if 2 <= c.age % 10 <= 4 and not 12 <= c.age <= 14:
            age = f"{c.age} года"
        policy = f"полис ОМС {c.policy_number}" if c.policy_number else "нет полиса ОМС"
        self.child_label.setText(
            f"<b>{c.full_name}</b>, {fmt_date(c.birth_date)} ({age}) · {policy} · "
            f"доступ родителей — до {fmt_date(c.adult_on)}"
        )
        self.setWindowTitle(f"Доступ к ЭМК ребенка — {c.full_name}")
        self.note.setText(c.self_access_note)
        self.note.setVisible(bool(c.self_access_note))
        self.refusal.setText(c.refusal)
        self.refusal.setVisible(bool(c.refusal))
        self.grant_box.setEnabled(not c.refusal)
        previous = self.relative.currentData()
        want = self._select_after_load if self._select_after_load is not None else previous
        self.relative.blockSignals(True)
        self.relative.clear()
        self.relative.addItem("— выберите родственника —", None)
        for cand in form.candidates:
            text = f"{cand.full_name} — {cand.label}"
            if cand.refusal:
                text += "  (нельзя: см. причину)"
            self.relative.addItem(text, cand.relative_id)
            if cand.refusal:
                self.relative.setItemData(
                    self.relative.count() - 1, cand.refusal, Qt.ItemDataRole.ToolTipRole
                )
        self.relative.addItem("Добавить родственную связь…", ADD_RELATION)
        idx = self.relative.findData(want) if want is not None else -1
        self.relative.setCurrentIndex(max(idx, 0))
        self.relative.blockSignals(False)
        if self._select_after_load is not None:
            note = self.sent_label.text()  # «Код отправлен…» stays after the reload
            self._picked(self.relative.currentIndex(), open_add=False)
            self.sent_label.setText(note)
        self._select_after_load = None
        self._show_history(form.history)
        if not c.refusal and not self._busy:
            self.relative.setFocus()

    def _show_history(self, rows: list[GrantRow]) -> None:
        selected = self._selected_grant()
        self.history_model.set_rows(rows)
        for i, r in enumerate(rows):
            index = self.history_model.index(i, 7)
            if r.live:
                b = QPushButton("Отозвать доступ")
                b.setObjectName(f"revoke{r.id}")
                b.clicked.connect(lambda _c=False, gid=r.id: self.revoke(gid))
                self.history.setIndexWidget(index, b)
            if selected is not None and r.id == selected.id:
                self.history.selectRow(i)
        waiting = any(r.live and r.status in _AWAITING for r in rows)
        if waiting and not self._poll.isActive():
            self._poll.start()
        elif not waiting:
            self._poll.stop()

    def _refresh_history(self) -> None:
        cid = self.child_id
        self._runner.run(
            lambda _st: self._desk.history(cid),
            on_success=self._show_history,
            on_failure=lambda _e: None,  # a missed poll is retried at the next tick
        )

    # --- choosing the relative -------------------------------------------------------------
    def candidate(self) -> Candidate | None:
        rid = self.relative.currentData()
        if self._form is None or not isinstance(rid, int) or rid == ADD_RELATION:
            return None
        return next((c for c in self._form.candidates if c.relative_id == rid), None)

    def _picked_quietly(self) -> None:
        """Arrow keys in the closed combo move the choice too: fill the phone, but the
        relation dialog opens only on an explicit pick (Enter, a click)."""
        if self.relative.currentData() != ADD_RELATION:
            self._picked(self.relative.currentIndex(), open_add=False)

    def _picked(self, _index: int, open_add: bool = True) -> None:
        self.errors["relative"].setVisible(False)
        self.sent_label.clear()
        if self.relative.currentData() == ADD_RELATION:
            if open_add:
                self.add_relation()
            return
        cand = self.candidate()
        if cand is None:
            return
        # The card's number fills the field unless the registrar has typed another one.
        typed = self.phone.text().strip()
        if not typed or typed == self._phone_from_card:
            self._phone_from_card = format_phone(cand.phone) if cand.phone else ""
            self.phone.setText(self._phone_from_card)
        if cand.refusal:
            self.errors["relative"].setText(f"ФИО родственника: {cand.refusal}")
            self.errors["relative"].setVisible(True)

    def add_relation(self) -> None:
        dlg = RelationDialog(
            self._runner,
            self._registry,
            self._show_error,
            self.child_id,
            self._departments,
            parent=self,
        )
        dlg.setWindowTitle("Родственная связь: Добавление")

        def done(result: int) -> None:
            view = dlg.result_view
            if result and view is not None:
                self.reload(select_relative=view.other_id)
            else:
                self.relative.setCurrentIndex(0)
            QTimer.singleShot(0, self._back_to_form)

        dlg.finished.connect(done)
        if self.relation_dialog is not None:
            self.relation_dialog.deleteLater()
        self.relation_dialog = dlg
        dlg.open()

    def _back_to_form(self) -> None:
        self.activateWindow()
        (self.phone if self.candidate() is not None else self.relative).setFocus()

    # --- sending ---------------------------------------------------------------------------
    def send(self) -> None:
        if self._busy or self._form is None or not self.grant_box.isEnabled():
            return
        self._clear_errors()
        self.refusal.setVisible(bool(self._form.child.refusal))
        cand = self.candidate()
        rid = cand.relative_id if cand else None
        phone = self.phone.text()
        signed = self.signed.isChecked()
        cid = self.child_id

        def failed(exc: BaseException) -> None:
            self._busy = False
            self._set_enabled(True)
            if isinstance(exc, ValidationErrors):
                for e in exc.errors:
                    self._show_rule(e)
                first = exc.errors[0].key if exc.errors else ""
                {"phone": self.phone, "signed": self.signed}.get(first, self.relative).setFocus()
            elif isinstance(exc, ValidationError):
                self._show_rule(exc)
            else:
                self._show_error(self, exc, None)

        def done(row: GrantRow) -> None:
            self._busy = False
            self._set_enabled(True)
            until = row.code_expires_at.astimezone(clinic_tz())
            self.sent_label.setText(
                f"Код отправлен на {format_phone(row.phone)} ({row.relative_name}); "
                f"действует до {until:%d.%m %H:%M}."
            )
            self.signed.setChecked(False)  # a new grant needs its own signed paper
            self.sig_changed.emit()
            self.reload(select_relative=row.relative_id)
            self.history.setFocus()

        self._busy = True
        self._set_enabled(False)  # what is sent is what is on screen
        self._runner.run(
            lambda _st: self._desk.send_code(cid, rid, phone, signed),
            on_success=done,
            on_failure=failed,
        )

    def _set_enabled(self, enabled: bool) -> None:
        for w in (self.relative, self.phone, self.signed, self.send_button, self.print_link):
            w.setEnabled(enabled)

    # --- the paper application -------------------------------------------------------------
    def print_application(self) -> None:
        cand = self.candidate()
        if self._preview is None:
            return
        if cand is None:
            self._clear_errors()
            self.errors["relative"].setText("ФИО родственника: выберите, для кого печатать заявку")
            self.errors["relative"].setVisible(True)
            self.relative.setFocus()
            return
        cid, rid, phone = self.child_id, cand.relative_id, self.phone.text()
        preview = self._preview

        def rendered(job: PrintJob) -> None:
            if job.patient_id == self.child_id and self.isVisible():
                preview(job, self)

        def render(data: object) -> None:
            from widgets.child_access.print_job import application_job  # reportlab: lazily

            self._runner.run(
                lambda _st: application_job(data),  # type: ignore[arg-type]
                lane="io",
                on_success=rendered,
                on_failure=self._failed,
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, ValidationErrors):
                self._clear_errors()
                for e in exc.errors:
                    self._show_rule(e)
            else:
                self._failed(exc)

        self._runner.run(
            lambda _st: self._desk.application(cid, rid, phone),
            on_success=render,
            on_failure=failed,
        )

    # --- revoking --------------------------------------------------------------------------
    def _selected_grant(self) -> GrantRow | None:
        rows = self.history.selectionModel().selectedRows() if self.history.selectionModel() else []
        return self.history_model.row_at(rows[0].row()) if rows else None

    def revoke_selected(self) -> None:
        g = self._selected_grant()
        if g is not None and g.live:
            self.revoke(g.id)

    def revoke(self, grant_id: int) -> None:
        g = next((r for r in self.history_model.rows if r.id == grant_id), None)
        if g is None or not g.live:
            return
        dlg = ReasonDialog(
            "Отозвать доступ к ЭМК ребенка",
            f"{g.relative_name} ({g.relation_label}, {format_phone(g.phone)}) потеряет доступ "
            "к ЭМК ребенка сразу после отзыва.\n\nУкажите причину отзыва права доступа:",
            REVOKE_PRESETS,
            parent=self,
        )
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Отозвать доступ")
        dlg.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Не отзывать")
        self.reason_dialog = dlg

        def decided(result: int) -> None:
            QTimer.singleShot(0, self._back_to_history)
            if not result:
                return
            reason = dlg.reason_text

            def done(_row: GrantRow) -> None:
                self.sig_changed.emit()
                self.reload()

            self._runner.run(
                lambda _st: self._desk.revoke(grant_id, reason),
                on_success=done,
                on_failure=self._failed,
            )

        dlg.finished.connect(decided)
        dlg.open()

    def _back_to_history(self) -> None:
        self.activateWindow()
        self.history.setFocus()

    def done(self, result: int) -> None:
        self._poll.stop()
        super().done(result)
