"""The protocol editor: sections, diagnoses by МКБ-10, templates, autosave, signing.

Autosave: the first change after a save starts a one-second timer (not restarted by further
typing), so what is on screen reaches the local file at most a second after it was typed,
however fast the doctor types; the same state then goes to the database through the DB
lane.  Each save carries a growing revision, so a slow database save never overwrites a
newer one, and at the next start the newer of the two copies wins.

The editor belongs to one patient at a time; everything it receives from the background
(a previous protocol, a signing result) names the patient and is dropped if it is not the
one on screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationError, ValidationErrors
from services.local_drafts import LocalDraft, LocalDrafts
from services.mkb10 import MKB10_OID, MKB10_VERSION, MkbEntry
from services.models import DiagnosisCharacter, DiagnosisRole
from services.protocols import SECTIONS, DiagnosisInput, ProtocolInput, Template, templates_for
from widgets.emk.mkb_picker import MkbPicker
from widgets.ports import ErrorPresenter, Runner

__all__ = ["AUTOSAVE_MS", "ProtocolEditor"]

AUTOSAVE_MS = 1000

ROLE_TEXT = {
    DiagnosisRole.MAIN: "Основной",
    DiagnosisRole.COMPLICATION: "Осложнение",
    DiagnosisRole.CONCOMITANT: "Сопутствующий",
}
CHARACTER_TEXT = {
    None: "— характер заболевания —",
    DiagnosisCharacter.ACUTE: "Острое",
    DiagnosisCharacter.CHRONIC_NEW: "Хроническое, впервые",
    DiagnosisCharacter.CHRONIC_KNOWN: "Хроническое, известное",
}
_SECTION_HEIGHT = {"objective": 120, "complaints": 50, "anamnesis": 50}


class DiagnosisRow(QFrame):
    """One diagnosis: role, МКБ-10 code, character of the disease, a free-text note."""

    sig_changed = Signal()
    sig_remove = Signal(object)

    def __init__(
        self,
        search: Callable[[str], list[MkbEntry]],
        lookup: Callable[[str], MkbEntry | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.role = QComboBox()
        for role, text in ROLE_TEXT.items():
            self.role.addItem(text, role)
        self.role.setAccessibleName("Вид диагноза")
        self.picker = MkbPicker(search, lookup)
        self.character = QComboBox()
        for ch, text in CHARACTER_TEXT.items():
            self.character.addItem(text, ch)
        self.character.setAccessibleName("Характер заболевания")
        self.note = QLineEdit()
        self.note.setPlaceholderText("Уточнение")
        self.note.setMaxLength(300)
        self.remove = QPushButton("✕")
        self.remove.setToolTip("Удалить диагноз")
        self.remove.setFixedWidth(32)
        first = QHBoxLayout()
        first.addWidget(self.role)
        first.addWidget(self.picker, 1)
        first.addWidget(self.remove)
        second = QHBoxLayout()
        second.addWidget(self.character)
        second.addWidget(self.note, 1)
        lines = QVBoxLayout(self)
        lines.setContentsMargins(0, 0, 0, 6)
        lines.setSpacing(2)
        lines.addLayout(first)
        lines.addLayout(second)
        self.role.currentIndexChanged.connect(self.sig_changed)
        self.character.currentIndexChanged.connect(self.sig_changed)
        self.picker.sig_picked.connect(lambda _c: self.sig_changed.emit())
        self.picker.edit.textEdited.connect(lambda _t: self.sig_changed.emit())
        self.note.textEdited.connect(lambda _t: self.sig_changed.emit())
        self.remove.clicked.connect(lambda: self.sig_remove.emit(self))

    def value(self) -> DiagnosisInput:
        return DiagnosisInput(
            self.role.currentData(),
            self.picker.code(),
            self.character.currentData(),
            self.note.text(),
        )

    def set_value(self, d: DiagnosisInput) -> None:
        self.role.setCurrentIndex(max(0, self.role.findData(d.role)))
        self.character.setCurrentIndex(max(0, self.character.findData(d.character)))
        self.picker.set_code(d.code)
        self.note.setText(d.note)


class ProtocolEditor(QWidget):
    sig_signed = Signal(int, int)  # patient id, document id
    sig_draft_state = Signal(bool)  # an unsigned draft with content exists (for the tab title)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.emk_desk.EmkDesk: save_draft, sign, previous_protocol, discard
        drafts: LocalDrafts,
        show_error: ErrorPresenter,
        search: Callable[[str], list[MkbEntry]],
        lookup: Callable[[str], MkbEntry | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._desk = desk
        self._drafts = drafts
        self._show_error = show_error
        self._search = search
        self._lookup = lookup
        self.patient_id: int | None = None
        self.staff_id: int = desk.actor.staff_id or 0
        self.encounter_id: int | None = None
        self.amends_id: int | None = None
        self.revision = 0
        self._db_revision = -1
        self._db_saving = False
        self._loading = False
        self._signing = False
        self._specialty = ""
        self.sign_box: QMessageBox | None = None
        self._has_content = False

        self.patient_label = QLabel()
        self.patient_label.setObjectName("editorPatient")
        self.patient_label.setStyleSheet("font-weight: 600;")
        self.mode_label = QLabel()
        self.mode_label.setStyleSheet("color: #9a3412; font-weight: 600;")
        self.saved_label = QLabel()
        self.saved_label.setStyleSheet("color: #555;")
        self.template = QComboBox()
        self.template.setAccessibleName("Шаблон")
        self.template.setMinimumContentsLength(24)
        self.apply_template = QPushButton("Применить шаблон")
        self.copy_previous = QPushButton("Из прошлого приёма")
        self.copy_previous.setToolTip(
            "Скопировать анамнез, статус и диагнозы из последнего протокола (Ctrl+Shift+P)"
        )
        self.discard = QPushButton("Удалить черновик")
        self.referrals_button = QPushButton("Направления…  Ctrl+R")
        self.referrals_button.setToolTip(
            "Выписать направления по этому приёму; диагноз — основной из протокола"
        )
        # Prescriptions and sick leave follow from the diagnosis too; the EMK screen shows
        # them when it was given their desks.
        self.prescriptions_button = QPushButton("Рецепт…  Ctrl+M")
        self.prescriptions_button.setToolTip(
            "Выписать рецепты по этому приёму; диагноз — основной из протокола"
        )
        self.sick_leave_button = QPushButton("ЭЛН…  Ctrl+Shift+E")
        self.sick_leave_button.setToolTip(
            "Открыть электронный листок нетрудоспособности; диагноз — основной из протокола"
        )
        for b in (self.prescriptions_button, self.sick_leave_button):
            b.setVisible(False)  # until the screen says it can write them
        self.sign_button = QPushButton("Подписать  Ctrl+Enter")
        self.sign_button.setDefault(True)
        self.sign_button.setStyleSheet("font-weight: 600;")

        top = QHBoxLayout()
        top.addWidget(self.patient_label)
        top.addWidget(self.mode_label)
        top.addStretch(1)
        top.addWidget(self.saved_label)
        tools = QHBoxLayout()
        tools.addWidget(QLabel("Шаблон:"))
        tools.addWidget(self.template)
        tools.addWidget(self.apply_template)
        tools.addWidget(self.copy_previous)
        tools.addStretch(1)
        tools.addWidget(self.discard)
        tools.addWidget(self.sign_button)

        # Two columns so that everything fits a 1366×768 screen without scrolling: what the
        # doctor hears and finds on the left, what they conclude on the right.
        left = QWidget()
        right = QWidget()
        columns = {"complaints": left, "anamnesis": left, "objective": left}
        lay_left = QVBoxLayout(left)
        lay_right = QVBoxLayout(right)
        for lay in (lay_left, lay_right):
            lay.setContentsMargins(0, 0, 4, 0)
        self.sections: dict[str, QPlainTextEdit] = {}
        self.rows: list[DiagnosisRow] = []
        self.dx_box = QVBoxLayout()
        self.add_dx = QPushButton("+ Диагноз  Ctrl+D")
        for key, title in SECTIONS:
            lay = lay_left if columns.get(key) is left else lay_right
            if key == "conclusion":
                dx_title = QLabel("Диагнозы (МКБ-10)")
                dx_title.setStyleSheet("font-weight: 600;")
                dx_title.setToolTip(
                    f"Справочник НСИ Минздрава России {MKB10_OID}, версия {MKB10_VERSION}"
                )
                lay.addWidget(dx_title)
                lay.addLayout(self.dx_box)
                add_row = QHBoxLayout()
                add_row.addWidget(self.add_dx)
                add_row.addStretch(1)
                add_row.addWidget(self.referrals_button)  # referrals follow from the diagnosis
                add_row.addWidget(self.prescriptions_button)
                add_row.addWidget(self.sick_leave_button)
                lay.addLayout(add_row)
            label = QLabel(title)
            label.setStyleSheet("font-weight: 600; margin-top: 4px;")
            edit = QPlainTextEdit()
            edit.setObjectName(f"section_{key}")
            edit.setAccessibleName(title)
            edit.setTabChangesFocus(True)
            edit.setMinimumHeight(_SECTION_HEIGHT.get(key, 60))
            edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            edit.textChanged.connect(self._changed)
            label.setBuddy(edit)
            lay.addWidget(label)
            lay.addWidget(edit, 3 if key == "objective" else 1)
            self.sections[key] = edit
        self.amend_reason = QLineEdit()
        self.amend_reason.setPlaceholderText("Причина исправления (обязательно)")
        self.amend_reason.setMaxLength(300)
        self.amend_reason.textEdited.connect(lambda _t: self._changed())
        lay_right.addWidget(self.amend_reason)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.setChildrenCollapsible(False)
        body.addWidget(left)
        body.addWidget(right)
        body.setSizes([600, 600])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(tools)
        layout.addWidget(body, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.persist)
        self.apply_template.clicked.connect(self._apply_template)
        self.copy_previous.clicked.connect(self.copy_from_previous)
        self.add_dx.clicked.connect(lambda: self.add_diagnosis(focus=True))
        self.sign_button.clicked.connect(self.sign)
        self.discard.clicked.connect(self._confirm_discard)
        for seq, fn in (
            ("Ctrl+Return", self.sign),
            ("Ctrl+Enter", self.sign),
            ("Ctrl+D", lambda: self.add_diagnosis(focus=True)),
            ("Ctrl+Shift+P", self.copy_from_previous),
        ):
            QShortcut(
                QKeySequence(seq), self, fn, context=Qt.ShortcutContext.WidgetWithChildrenShortcut
            )
        self.setEnabled(False)

    # --- loading ---------------------------------------------------------------------------
    def load(
        self,
        patient_id: int,
        patient_title: str,
        specialty: str,
        *,
        fields: dict[str, Any] | None,
        revision: int,
        encounter_id: int | None,
        amends_id: int | None = None,
    ) -> None:
        """Show this patient's protocol: the stored draft, or an empty one."""
        self._timer.stop()
        self._loading = True
        try:
            self.patient_id = patient_id
            self._specialty = specialty
            self.encounter_id = encounter_id
            self.amends_id = amends_id
            self.revision = revision
            self._db_revision = revision if fields is not None else -1
            self.patient_label.setText(f"Протокол осмотра — {patient_title}")
            self.template.clear()
            for t in templates_for(specialty):
                self.template.addItem(t.name, t)
            inp = ProtocolInput.from_json(fields) if fields else ProtocolInput(specialty=specialty)
            self._show(inp)
            self._update_mode()
            self.saved_label.setText(
                "Черновик восстановлен" if fields and self.has_content() else ""
            )
            self.setEnabled(True)
        finally:
            self._loading = False
        self._has_content = self.has_content()
        self.sig_draft_state.emit(self._has_content)

    def _show(self, inp: ProtocolInput) -> None:
        for key, edit in self.sections.items():
            edit.setPlainText(inp.sections.get(key, ""))
        for row in list(self.rows):
            self._drop_row(row)
        for d in inp.diagnoses:
            self.add_diagnosis().set_value(d)
        if not self.rows:
            self.add_diagnosis()
        self.amend_reason.setText(inp.amend_reason)
        idx = self.template.findText(inp.template) if inp.template else -1
        if idx >= 0:
            self.template.setCurrentIndex(idx)

    def clear(self) -> None:
        self._timer.stop()
        self.patient_id = None
        self._loading = True
        try:
            self._show(ProtocolInput())
        finally:
            self._loading = False
        self.patient_label.clear()
        self.saved_label.clear()
        self.setEnabled(False)

    def _update_mode(self) -> None:
        amending = self.amends_id is not None
        self.mode_label.setText("Исправление подписанного протокола" if amending else "")
        self.amend_reason.setVisible(amending)

    # --- state -----------------------------------------------------------------------------
    def state(self) -> ProtocolInput:
        t = self.template.currentData()
        return ProtocolInput(
            specialty=self._specialty,
            template=t.name if isinstance(t, Template) else "",
            sections={k: e.toPlainText() for k, e in self.sections.items()},
            diagnoses=tuple(r.value() for r in self.rows),
            amend_reason=self.amend_reason.text(),
        )

    def has_content(self) -> bool:
        if self.patient_id is None:
            return False
        s = self.state()
        return (
            any(v.strip() for v in s.sections.values())
            or any(d.code or d.note.strip() for d in s.diagnoses)
            or self.amends_id is not None
        )

    def main_code(self) -> str:
        """The main diagnosis's code as picked (the first picked code if none is «основной»)."""
        picked = [(r.value().role, r.picker.code()) for r in self.rows if r.picker.code()]
        main = [c for role, c in picked if role == DiagnosisRole.MAIN]
        return (main or [c for _r, c in picked] or [""])[0]

    def add_diagnosis(self, *, focus: bool = False) -> DiagnosisRow:
        row = DiagnosisRow(self._search, self._lookup)
        if self.rows:
            row.role.setCurrentIndex(row.role.findData(DiagnosisRole.CONCOMITANT))
        row.sig_changed.connect(self._changed)
        row.sig_remove.connect(self._remove_row)
        self.rows.append(row)
        self.dx_box.addWidget(row)
        if focus:
            row.picker.edit.setFocus()
        self._changed()
        return row

    def _remove_row(self, row: DiagnosisRow) -> None:
        self._drop_row(row)
        if not self.rows:
            self.add_diagnosis()
        self._changed()

    def _drop_row(self, row: DiagnosisRow) -> None:
        self.rows.remove(row)
        self.dx_box.removeWidget(row)
        row.hide()
        row.deleteLater()

    # --- autosave --------------------------------------------------------------------------
    def _changed(self) -> None:
        if self._loading or self.patient_id is None:
            return
        self.revision += 1
        if not self._timer.isActive():
            self._timer.start()
        has = self.has_content()
        if has != self._has_content:
            self._has_content = has
            self.sig_draft_state.emit(has)

    @property
    def pending(self) -> bool:
        """Typed but not yet in the local file."""
        return self._timer.isActive()

    def persist(self) -> None:
        """Write the local copy now, and send the state to the database."""
        self._timer.stop()
        if self.patient_id is None:
            return
        fields = self.state().to_json()
        try:
            self._drafts.save(
                LocalDraft(
                    self.staff_id,
                    self.patient_id,
                    self.revision,
                    self.encounter_id,
                    self.amends_id,
                    fields,
                )
            )
        except OSError as exc:
            self.saved_label.setText(f"Не удалось сохранить копию на диске: {exc.strerror}")
        self._save_to_db()

    def _save_to_db(self) -> None:
        if self._db_saving or self.patient_id is None or self.revision <= self._db_revision:
            return
        pid, revision = self.patient_id, self.revision
        fields = self.state().to_json()
        encounter_id, amends_id = self.encounter_id, self.amends_id
        self._db_saving = True

        def done(stored: int) -> None:
            self._db_saving = False
            if pid != self.patient_id:
                return
            self._db_revision = max(self._db_revision, stored)
            self.saved_label.setText(f"Черновик сохранён в {dt.datetime.now():%H:%M:%S}")
            if self.revision > self._db_revision and not self._timer.isActive():
                self._timer.start()

        def failed(exc: BaseException) -> None:
            self._db_saving = False
            if pid == self.patient_id:
                # The local copy has it; the next change (or the next start) tries again.
                self.saved_label.setText("Черновик сохранён на этом компьютере (нет связи с базой)")

        self._runner.run(
            lambda _st: self._desk.save_draft(
                pid, fields, revision, encounter_id=encounter_id, amends_id=amends_id
            ),
            on_success=done,
            on_failure=failed,
        )

    # --- actions ---------------------------------------------------------------------------
    def _apply_template(self) -> None:
        t = self.template.currentData()
        if not isinstance(t, Template):
            return
        filled = []
        for key, edit in self.sections.items():
            text = t.sections.get(key, "")
            if text and not edit.toPlainText().strip():
                edit.setPlainText(text)
                filled.append(key)
        self.saved_label.setText(
            "Шаблон применён к пустым разделам"
            if filled
            else "Шаблон не применён: заполненные разделы не перезаписываются"
        )
        self._changed()

    def copy_from_previous(self) -> None:
        pid = self.patient_id
        if pid is None:
            return

        def got(result: Any) -> None:
            if pid != self.patient_id:
                return  # another patient is on screen now
            if result is None:
                self.saved_label.setText("У пациента нет прежних протоколов")
                return
            when, author, inp = result
            for key in ("anamnesis", "objective", "conclusion", "recommendations"):
                edit = self.sections[key]
                if not edit.toPlainText().strip() and inp.sections.get(key):
                    edit.setPlainText(inp.sections[key])
            if inp.diagnoses and not any(r.picker.code() for r in self.rows):
                for row in list(self.rows):
                    self._drop_row(row)
                for d in inp.diagnoses:
                    self.add_diagnosis().set_value(d)
            local = when.astimezone()
            self.saved_label.setText(f"Скопировано из протокола от {local:%d.%m.%Y} ({author})")
            self._changed()

        self._runner.run(
            lambda _st: self._desk.previous_protocol(pid, self._specialty), on_success=got
        )

    def sign(self) -> None:
        pid = self.patient_id
        if pid is None or self._signing or not self.isEnabled():
            return
        self.persist()
        inp = self.state()
        encounter_id, amends_id = self.encounter_id, self.amends_id
        self._signing = True
        self.sign_button.setEnabled(False)
        self._mark_invalid(set())

        def done(doc_id: int) -> None:
            self._signing = False
            self.sign_button.setEnabled(True)
            self._drafts.remove(self.staff_id, pid)
            if pid != self.patient_id:
                return
            self.amends_id = None
            self.revision += 1
            self._loading = True
            try:
                self._show(ProtocolInput(specialty=self._specialty))
            finally:
                self._loading = False
            self._update_mode()
            self._db_revision = self.revision
            self.saved_label.setText(f"Протокол подписан в {dt.datetime.now():%H:%M}")
            self._has_content = False
            self.sig_draft_state.emit(False)
            self.sig_signed.emit(pid, doc_id)

        def failed(exc: BaseException) -> None:
            self._signing = False
            self.sign_button.setEnabled(True)
            if isinstance(exc, ValidationErrors | ValidationError):
                errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
                self._mark_invalid({e.key for e in errors})
            self._show_error(self, exc, None)

        self._runner.run(
            lambda _st: self._desk.sign(pid, inp, encounter_id=encounter_id, amends_id=amends_id),
            on_success=done,
            on_failure=failed,
        )

    def _mark_invalid(self, keys: set[str]) -> None:
        for key, edit in self.sections.items():
            edit.setStyleSheet("border: 2px solid #c0392b;" if key in keys else "")
        for i, row in enumerate(self.rows, 1):
            bad = f"diagnosis.{i}" in keys or "diagnoses" in keys
            row.picker.edit.setStyleSheet("border: 2px solid #c0392b;" if bad else "")
        self.amend_reason.setStyleSheet(
            "border: 2px solid #c0392b;" if "amend_reason" in keys else ""
        )

    def _confirm_discard(self) -> None:
        if self.patient_id is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Удалить черновик",
            "Удалить неподписанный протокол? Текст будет потерян.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Удалить")
        box.button(QMessageBox.StandardButton.Cancel).setText("Отмена")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        pid = self.patient_id

        def decided(result: int) -> None:
            box.deleteLater()
            if result != QMessageBox.StandardButton.Yes or pid != self.patient_id:
                return
            self._timer.stop()
            self._drafts.remove(self.staff_id, pid)
            self.amends_id = None
            self.revision += 1
            self._db_revision = self.revision
            self._loading = True
            try:
                self._show(ProtocolInput(specialty=self._specialty))
            finally:
                self._loading = False
            self._update_mode()
            self.saved_label.setText("Черновик удалён")
            self._has_content = False
            self.sig_draft_state.emit(False)
            self._runner.run(lambda _st: self._desk.discard_draft(pid))

        box.finished.connect(decided)
        box.open()

    def start_amendment(self, document_id: int, patient_id: int, inp: ProtocolInput) -> None:
        """Begin correcting a signed protocol (the draft replaces any other of this patient)."""
        if patient_id != self.patient_id:
            return
        self.amends_id = document_id
        self._loading = True
        try:
            self._show(inp)
        finally:
            self._loading = False
        self._update_mode()
        self._changed()
        self.amend_reason.setFocus()
