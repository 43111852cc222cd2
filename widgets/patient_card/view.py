"""The patient card screen: who this is, their details, and their family.

The header carries what a doctor or registrar must see at a glance (ФИО, sex, age, policy,
attachment).  Demographics are edited in place and saved with Ctrl+S; the relations table
lists relatives and legal representatives from this patient's side, and Enter on a row
opens that person's card.  Esc goes back to the search; unsaved edits are never dropped
silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from services.errors import ConflictError, ValidationError, ValidationErrors
from services.models import Sex
from services.patients import PatientCard, age_on
from services.registry import Registry
from services.relations import RelationView
from widgets.formatting import age_text, fmt_date, fmt_phone, fmt_policy, fmt_snils
from widgets.patient_card.form import PatientForm
from widgets.patient_card.relation_dialog import RelationDialog
from widgets.ports import ErrorPresenter, Handle, Runner
from widgets.rows_model import Column, RowsModel, size_columns

__all__ = ["PatientCardView"]


def _period(start: dt.date | None, end: dt.date | None) -> str:
    if end is None:
        return f"с {fmt_date(start)}" if start else ""
    return f"{fmt_date(start)} – {fmt_date(end)}" if start else f"по {fmt_date(end)}"


def _relation_columns() -> list[Column[RelationView]]:
    return [
        Column("ФИО", lambda r: r.other_name),
        Column("Кем приходится", lambda r: r.label, "бабушка / дедушка"),
        Column(
            "Представитель",
            lambda r: "законный" if r.is_legal_representative else "",
            "законный",
        ),
        Column("Телефон", lambda r: fmt_phone(r.other_phone), "+7 999 999-99-99"),
        Column(
            "Дата рождения", lambda r: fmt_date(r.other_birth_date), "00.00.0000", optional=True
        ),
        Column(
            "Период", lambda r: _period(r.valid_from, r.valid_to), "с 00.00.0000", optional=True
        ),
        Column(
            "Документ-основание",
            lambda r: r.basis_document,
            "Свидетельство о рождении IV-МЮ № 123456",
            optional=True,
        ),
    ]


class PatientCardView(QWidget):
    sig_back_requested = Signal()
    """The user wants to go back to the search."""
    sig_open_requested = Signal(int)
    """The user wants to open a relative's card."""
    sig_title_changed = Signal(str)
    sig_child_access_requested = Signal(int)
    """«Доступ к ЭМК ребенка» for the child whose card is open."""

    def __init__(
        self,
        runner: Runner,
        registry: Registry,
        show_error: ErrorPresenter,
        departments: list[tuple[int, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._registry = registry
        self._show_error = show_error
        self._departments = departments
        self.card: PatientCard | None = None
        self.relation_dialog: RelationDialog | None = None
        self.leave_box: QMessageBox | None = None
        self.end_box: QMessageBox | None = None
        self._load: Handle | None = None
        self._load_token = 0
        self._saving = False
        self._after_save: Callable[[], None] | None = None
        self._relations: list[RelationView] = []
        self._dirty = False
        self._clean: dict[str, str] = {}

        self.title = QLabel()
        self.title.setObjectName("cardTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("cardSubtitle")
        self.subtitle.setWordWrap(True)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.form = PatientForm(departments)
        self.save_button = QPushButton("Сохранить (Ctrl+S)")
        self.save_button.setObjectName("saveCard")
        self.revert_button = QPushButton("Отменить изменения")
        self.back_button = QPushButton("← К поиску (Esc)")
        self.relations_model: RowsModel[RelationView] = RowsModel(
            _relation_columns(),
            dimmed=lambda r: r.valid_to is not None and r.valid_to < dt.date.today(),
            tooltip=lambda r: "\n".join(
                t
                for t in (
                    f"{r.other_name}, {fmt_date(r.other_birth_date)}",
                    _period(r.valid_from, r.valid_to),
                    r.basis_document,
                    "Enter — открыть карту этого человека",
                )
                if t
            ),
        )
        self.relations = QTableView()
        self.relations.setObjectName("relationsTable")
        self.relations.setModel(self.relations_model)
        self.relations.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.relations.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.relations.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.relations.verticalHeader().hide()
        size_columns(
            self.relations,
            _relation_columns(),
            min_stretch="Соколова Екатерина Петровна",
        )
        self.show_ended = QCheckBox("Показывать прекращённые")
        self.add_relation = QPushButton("Добавить…")
        self.add_relation.setObjectName("addRelation")
        self.edit_relation = QPushButton("Изменить…")
        self.end_relation = QPushButton("Прекратить")
        self.child_access = QPushButton("Доступ к ЭМК ребенка…  Ctrl+Shift+D")
        self.child_access.setObjectName("childAccess")
        self.child_access.setVisible(False)

        header = QVBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.subtitle)
        top = QHBoxLayout()
        top.addLayout(header, 1)
        top.addWidget(self.child_access, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)

        demo_box = QGroupBox("Персональные данные и прикрепление")
        demo_layout = QVBoxLayout(demo_box)
        demo_layout.addWidget(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        demo_layout.addLayout(buttons)
        demo_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(demo_box)
        scroll.setMinimumWidth(460)
        scroll.setMaximumWidth(430)

        rel_box = QGroupBox("Родственные связи и законные представители")
        rel_layout = QVBoxLayout(rel_box)
        rel_layout.addWidget(self.relations, 1)
        rel_buttons = QHBoxLayout()
        for b in (self.add_relation, self.edit_relation, self.end_relation):
            rel_buttons.addWidget(b)
        rel_buttons.addStretch(1)
        rel_buttons.addWidget(self.show_ended)
        rel_layout.addLayout(rel_buttons)

        body = QHBoxLayout()
        body.addWidget(scroll)
        body.addWidget(rel_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)

        self.form.sig_edited.connect(self._on_edited)
        self.save_button.clicked.connect(lambda: self.save())  # not clicked(bool) → then
        self.revert_button.clicked.connect(self.revert)
        self.back_button.clicked.connect(self.request_back)
        self.add_relation.clicked.connect(lambda: self._relation_dialog(None))
        self.edit_relation.clicked.connect(self._edit_selected)
        self.end_relation.clicked.connect(self._end_selected)
        self.child_access.clicked.connect(self._child_access)
        QShortcut(
            QKeySequence("Ctrl+Shift+D"),
            self,
            self._child_access,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self.show_ended.toggled.connect(lambda _b: self._show_relations())
        self.relations.activated.connect(self._open_relative)
        self.relations.selectionModel().currentChanged.connect(lambda *_a: self._update_buttons())
        QShortcut(QKeySequence.StandardKey.Save, self, lambda: self.save())
        QShortcut(QKeySequence("Esc"), self, self.request_back)
        QShortcut(QKeySequence("Ctrl+Shift+R"), self, lambda: self._relation_dialog(None))
        self._update_buttons()

    # --- loading ---------------------------------------------------------------------------
    def draft(self) -> dict[str, object] | None:
        """The open card and its unsaved edits, for the roaming workspace."""
        if self.card is None:
            return None
        return {"patient_id": self.card.id, "fields": self.form.raw() if self._dirty else None}

    def load(self, patient_id: int, *, draft: dict[str, str] | None = None) -> None:
        """Open ``patient_id`` (the read is audited by the service).

        The previous patient leaves the screen at once: while the new card is on its way
        nothing can be typed or saved into the wrong person's record.  The newest request
        wins; a failed or cancelled open goes back to the search.
        """
        self._abandon_load()
        token = self._load_token
        self.card = None
        self._dirty = False
        self.banner.setVisible(False)
        self.form.clear()
        self.form.setEnabled(False)
        self.title.setText("Открытие карты…")
        self.subtitle.clear()
        self.sig_title_changed.emit("Открытие карты…")
        self._relations = []
        self._show_relations()

        def done(res: tuple[PatientCard, list[RelationView]]) -> None:
            if token == self._load_token:
                self._load = None
                self.show_card(*res)
                if draft:
                    self.form.apply_raw(draft)  # edits typed elsewhere, still unsaved

        def failed(exc: BaseException) -> None:
            if token != self._load_token:
                return
            self._load = None
            self.title.setText("Карта не открыта")
            transient = bool(getattr(exc, "transient", False))
            # «Повторить» asks to open again the normal way, so a late click still asks
            # about unsaved edits in whatever card is open by then.
            retry = (lambda: self.sig_open_requested.emit(patient_id)) if transient else None
            self._show_error(self, exc, retry)
            if not transient:
                self.sig_back_requested.emit()

        def cancelled() -> None:
            if token == self._load_token:
                self._load = None
                self.sig_back_requested.emit()

        self._load = self._runner.run(
            lambda _s: self._registry.open_card(patient_id),
            on_success=done,
            on_failure=failed,
            on_cancel=cancelled,
            progress_label="Открытие карты пациента…",
            parent=self,
        )

    def show_card(self, card: PatientCard, relations: list[RelationView]) -> None:
        self.card = card
        self._relations = relations
        self.form.set_data(card.as_input())
        self.form.setEnabled(True)
        self._clean = self.form.raw()
        self._dirty = False
        self._show_header()
        self._show_relations()
        self._update_buttons()
        self.form.surname.setFocus()

    def _show_header(self) -> None:
        c = self.card
        if c is None:
            return
        self.title.setText(c.full_name)
        sex = "муж." if c.sex == Sex.MALE else "жен."
        parts = [f"{sex}, {age_text(c.birth_date)} ({fmt_date(c.birth_date)})"]
        parts.append(f"Полис ОМС: {fmt_policy(c.policy_number) or 'нет'}")
        parts.append(f"СНИЛС: {fmt_snils(c.snils) or 'нет'}")
        if c.phone:
            parts.append(f"Тел.: {fmt_phone(c.phone)}")
        attach = c.attachment_department or "не прикреплён"
        if c.attached_since:
            attach += f" с {fmt_date(c.attached_since)}"
        parts.append(f"Прикрепление: {attach}")
        self.subtitle.setText("   ·   ".join(parts))
        if self.isVisible():  # a save finishing after F2 must not retitle the search screen
            self.sig_title_changed.emit(c.full_name)

    def _show_relations(self) -> None:
        today = dt.date.today()
        rows = [
            r
            for r in self._relations
            if self.show_ended.isChecked() or r.active_on(today) or r.valid_from > today
        ]
        self.relations_model.set_rows(rows)
        self._update_buttons()

    def _reload_relations(self) -> None:
        if self.card is None:
            return
        pid = self.card.id

        def done(rels: list[RelationView]) -> None:
            if self.card is None or self.card.id != pid:
                return  # the answer (or a late «Повторить») for a card no longer shown
            self._relations = rels
            self._show_relations()

        self._runner.run(lambda _s: self._registry.relations(pid), on_success=done)

    # --- editing demographics --------------------------------------------------------------
    def _on_edited(self) -> None:
        # Edited back to what the card holds (a scan undone, a word typed and erased) is
        # not an unsaved change: nothing to ask about when leaving.
        self._dirty = self.card is None or self.form.raw() != self._clean
        self._update_buttons()

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _update_buttons(self) -> None:
        editable = self._dirty and not self._saving
        self.save_button.setEnabled(editable)
        self.revert_button.setEnabled(editable)
        selected = self._selected_relation()
        own = selected is not None and selected.forward
        self.add_relation.setEnabled(self.card is not None)
        self.edit_relation.setEnabled(own)
        self.end_relation.setEnabled(own and selected is not None and selected.valid_to is None)
        self.child_access.setVisible(
            self.card is not None and age_on(self.card.birth_date, dt.date.today()) < 18
        )

    def _child_access(self) -> None:
        if self.card is not None and self.child_access.isVisible():
            self.sig_child_access_requested.emit(self.card.id)

    @property
    def saving(self) -> bool:
        return self._saving

    def save(self, *, then: Callable[[], None] | None = None) -> None:
        """Save the form; ``then`` runs once the save has succeeded (leave, close, open next).

        The form is locked while the save is in flight: what the server stores is exactly
        what is on screen, and a second Ctrl+S cannot send a stale version behind the first.
        """
        if self._saving:
            if then is not None and self._after_save is None:
                self._after_save = then
            return
        if self.card is None or not self._dirty:
            if then is not None:
                then()
            return
        try:
            data = self.form.collect()
        except ValidationErrors:
            return
        card = self.card
        self._saving = True
        self._after_save = then
        focused = self.focusWidget()
        self.form.setEnabled(False)
        self._update_buttons()

        def settle() -> None:
            self._saving = False
            self.form.setEnabled(True)
            self._update_buttons()
            if focused is not None and self.isVisible():
                focused.setFocus()

        def failed(exc: BaseException) -> None:
            self._after_save = None
            settle()
            if isinstance(exc, ValidationErrors):
                self.form.show_errors(exc)
            elif isinstance(exc, ValidationError):
                self.form.show_error(exc)
            elif isinstance(exc, ConflictError):
                self.banner.setText(str(exc))
                self.banner.setVisible(True)
            else:
                # A late «Повторить» saves this card only if it is still the one on screen.
                self._show_error(self, exc, lambda: self.save() if self.card is card else None)

        def done(new: PatientCard) -> None:
            self.card = new
            self._dirty = False
            self.banner.setVisible(False)
            self._show_header()
            self.form.set_data(new.as_input())
            self._clean = self.form.raw()
            settle()
            then_, self._after_save = self._after_save, None
            if then_ is not None:
                then_()

        self._runner.run(
            lambda _s: self._registry.update(card.id, card.version_id, data),
            on_success=done,
            on_failure=failed,
        )

    def revert(self) -> None:
        if self.card is not None:
            self.form.set_data(self.card.as_input())
            self._clean = self.form.raw()
        self._dirty = False
        self._update_buttons()

    def request_back(self) -> None:
        def back() -> None:
            self._abandon_load()
            self.sig_back_requested.emit()

        self.leave(back)

    def _abandon_load(self) -> None:
        """Whatever the open still on its way returns, it is no longer wanted."""
        if self._load is not None:
            self._load.cancel()
            self._load = None
        self._load_token += 1

    def leave(self, then: Callable[[], None]) -> None:
        """Run ``then`` (back, open another patient, close) once unsaved edits are dealt with.

        Asks «Сохранить / Не сохранять / Остаться» without a nested event loop; «Сохранить»
        carries on with ``then`` only after the save has succeeded.
        """
        if self._saving:
            if self._after_save is None:  # the first request wins; a close is never replaced
                self._after_save = then
            return
        if not self._dirty:
            then()
            return
        if self.leave_box is not None:
            self.leave_box.raise_()
            return
        name = self.card.full_name if self.card is not None else ""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Несохранённые изменения")
        box.setText(f"В карте «{name}» есть несохранённые изменения. Сохранить их?")
        save = box.addButton("Сохранить", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Не сохранять", QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton("Остаться", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(save)
        box.setEscapeButton(stay)

        def decided() -> None:
            clicked = box.clickedButton()
            self.leave_box = None
            box.deleteLater()
            if clicked is save:
                self.save(then=then)
            elif clicked is discard:
                self.revert()
                then()

        box.finished.connect(decided)
        self.leave_box = box
        box.open()

    # --- relations -------------------------------------------------------------------------
    def _selected_relation(self) -> RelationView | None:
        return self.relations_model.row_at(self.relations.currentIndex().row())

    def _open_relative(self) -> None:
        r = self._selected_relation()
        if r is not None:
            self.sig_open_requested.emit(r.other_id)

    def _relation_dialog(self, existing: RelationView | None) -> None:
        if self.card is None:
            return
        dlg = RelationDialog(
            self._runner,
            self._registry,
            self._show_error,
            self.card.id,
            self._departments,
            existing=existing,
            parent=self,
        )
        # open(), not exec(): no nested event loop, so a background reply or a second
        # window can never run inside the dialog's loop and re-enter this view.
        dlg.accepted.connect(self._reload_relations)
        if self.relation_dialog is not None:
            self.relation_dialog.deleteLater()  # the previous one, closed long ago
        self.relation_dialog = dlg
        dlg.open()

    def _edit_selected(self) -> None:
        r = self._selected_relation()
        if r is not None and r.forward:
            self._relation_dialog(r)

    def _end_selected(self) -> None:
        r = self._selected_relation()
        if r is None or not r.forward or r.valid_to is not None:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Прекратить связь")
        box.setText(
            f"Прекратить связь «{r.label}: {r.other_name}» сегодняшним днём?\n"
            "Связь останется в истории."
        )
        end = box.addButton("Прекратить", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Отмена", QMessageBox.ButtonRole.RejectRole)

        def decided() -> None:
            box.deleteLater()
            self.end_box = None
            if box.clickedButton() is end:
                self._runner.run(
                    lambda _s: self._registry.end_relation(r.id, r.version_id),
                    on_success=lambda _v: self._reload_relations(),
                    parent=self,
                )

        box.finished.connect(decided)
        self.end_box = box
        box.open()
