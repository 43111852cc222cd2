"""«Родственная связь»: add or edit a relation, picking the relative from the registry.

The relative is found with the same search as the registry (type a surname, ↓, Enter), or
registered on the spot with «Новый человек…» (a parent who is not yet our patient).  Required
fields are marked with an asterisk; errors appear under their field and nothing typed is lost.
"""

from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationError, ValidationErrors
from services.models import RelationKind
from services.patient_search import PatientRow
from services.registry import Registry
from services.relations import KIND_LABELS, RelationInput, RelationView
from services.validation import parse_date_ru
from widgets.field_errors import with_error
from widgets.formatting import fmt_date
from widgets.patient_card.register_dialog import RegisterDialog
from widgets.ports import ErrorPresenter, Runner
from widgets.registry.picker import PatientPicker

__all__ = ["RelationDialog"]


class RelationDialog(QDialog):
    def __init__(
        self,
        runner: Runner,
        registry: Registry,
        show_error: ErrorPresenter,
        patient_id: int,
        departments: list[tuple[int, str]],
        *,
        existing: RelationView | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._registry = registry
        self._show_error = show_error
        self._saving = False
        self._patient_id = patient_id
        self._existing = existing
        self._departments = departments
        self._relative_id: int | None = existing.other_id if existing else None
        self.result_view: RelationView | None = None
        self.register_dialog: RegisterDialog | None = None

        self.setWindowTitle("Родственная связь: " + ("Изменение" if existing else "Добавление"))
        self.resize(760, 560)
        self.picker = PatientPicker(
            runner,
            registry.search,
            placeholder="Найти родственника: фамилия имя, дата рождения, полис или СНИЛС",
            pick_single=False,
            show_chosen=False,
        )
        self.search = self.picker.search
        self.search.setObjectName("relativeSearch")
        self.results = self.picker.results
        self.results_model = self.picker.model
        self.new_person = QPushButton("Новый человек…")
        self.chosen = QLabel(existing.other_name if existing else "не выбран")
        self.chosen.setObjectName("chosenRelative")
        self.kind = QComboBox()
        self.kind.setObjectName("relationKind")
        self.kind.addItem("— выберите —", None)
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.legal = QCheckBox("Законный представитель")
        self.legal.setObjectName("legalRepresentative")
        self.basis = QLineEdit()
        self.basis.setMaxLength(300)
        self.basis.setPlaceholderText("Свидетельство о рождении, акт органа опеки…")
        self.valid_from = QLineEdit()
        self.valid_from.setInputMask("00.00.0000;_")
        self.valid_to = QLineEdit()
        self.valid_to.setInputMask("00.00.0000;_")
        self.errors: dict[str, QLabel] = {}
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Сохранить")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Отмена")

        picker = QHBoxLayout()
        picker.addWidget(self.picker, 1)
        picker.addWidget(self.new_person, 0, Qt.AlignmentFlag.AlignTop)
        form = QFormLayout()
        form.addRow("Родственник*", self._with_error("relative", self.chosen))
        form.addRow("Кем приходится пациенту*", self._with_error("kind", self.kind))
        form.addRow("", self._with_error("legal", self.legal))
        form.addRow("Документ-основание", self._with_error("basis", self.basis))
        form.addRow("Начало", self._with_error("valid_from", self.valid_from))
        form.addRow("Окончание", self._with_error("valid_to", self.valid_to))
        layout = QVBoxLayout(self)
        layout.addLayout(picker, 1)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        if existing is not None:
            self.kind.setCurrentIndex(self.kind.findData(existing.kind))
            self.legal.setChecked(existing.is_legal_representative)
            self.basis.setText(existing.basis_document)
            self.valid_from.setText(fmt_date(existing.valid_from))
            self.valid_to.setText(fmt_date(existing.valid_to))
        else:
            self.valid_from.setText(fmt_date(dt.date.today()))

        self.picker.sig_picked.connect(self._picked)
        self.new_person.clicked.connect(self._register_new)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        self.search.setFocus()

    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        return with_error(widget, self.errors, key)

    # --- choosing the relative -------------------------------------------------------------
    def _picked(self, r: PatientRow) -> None:
        self._relative_id = r.id
        self.chosen.setText(f"{r.full_name}, {fmt_date(r.birth_date)}")
        self.errors["relative"].setVisible(False)
        if self.kind.currentData() is None:
            self.kind.setFocus()

    def _register_new(self) -> None:
        words = [w for w in self.search.text().split() if re.fullmatch(r"[А-Яа-яЁё-]+", w)]
        dlg = RegisterDialog(
            self._runner,
            self._registry,
            self._show_error,
            self._departments,
            prefill=words,
            parent=self,
        )

        def registered() -> None:
            if dlg.card is not None:
                self._relative_id = dlg.card.id
                self.chosen.setText(f"{dlg.card.full_name}, {fmt_date(dlg.card.birth_date)}")
                self.errors["relative"].setVisible(False)
                self.kind.setFocus()

        dlg.accepted.connect(registered)
        if self.register_dialog is not None:
            self.register_dialog.deleteLater()
        self.register_dialog = dlg
        dlg.open()

    # --- saving ----------------------------------------------------------------------------
    def _error(self, exc: ValidationError) -> None:
        label = self.errors.get(exc.key, self.errors["relative"])
        label.setText(str(exc))
        label.setVisible(True)

    def _date(self, edit: QLineEdit, field: str, key: str) -> dt.date | None:
        if not re.sub(r"\D", "", edit.text()):
            return None
        return parse_date_ru(edit.text(), field=field, key=key)

    def collect(self) -> RelationInput:
        errors: list[ValidationError] = []
        dates: dict[str, dt.date | None] = {}
        for key, edit, field in (
            ("valid_from", self.valid_from, "Начало"),
            ("valid_to", self.valid_to, "Окончание"),
        ):
            try:
                dates[key] = self._date(edit, field, key)
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            raise ValidationErrors(errors)
        kind: RelationKind | None = self.kind.currentData()
        return RelationInput(
            relative_id=self._relative_id,
            kind=kind,
            is_legal_representative=self.legal.isChecked(),
            basis_document=self.basis.text(),
            valid_from=dates["valid_from"],
            valid_to=dates["valid_to"],
        )

    def _save(self) -> None:
        for label in self.errors.values():
            label.setVisible(False)
        try:
            data = self.collect()
        except ValidationErrors as exc:
            for e in exc.errors:
                self._error(e)
            return
        existing = self._existing
        registry = self._registry
        pid = self._patient_id

        def work(_state: object) -> RelationView:
            if existing is None:
                return registry.add_relation(pid, data)
            return registry.update_relation(existing.id, existing.version_id, data)

        def failed(exc: BaseException) -> None:
            self._saving = False
            self._set_inputs_enabled(True)
            if isinstance(exc, ValidationErrors):
                for e in exc.errors:
                    self._error(e)
            elif isinstance(exc, ValidationError):
                self._error(exc)
            else:
                self._show_error(self, exc, None)

        def done(view: RelationView) -> None:
            self.result_view = view
            self._saving = False
            self.accept()

        self._set_inputs_enabled(False)  # what is saved is exactly what is on screen
        self._saving = True
        self._runner.run(work, on_success=done, on_failure=failed)

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for w in (
            self.search,
            self.results,
            self.new_person,
            self.kind,
            self.legal,
            self.basis,
            self.valid_from,
            self.valid_to,
            self.buttons,
        ):
            w.setEnabled(enabled)

    def reject(self) -> None:
        """Esc or «Отмена» while the save is in flight does nothing: the write would go
        ahead anyway, and a dialog closed as «cancelled» must not have saved."""
        if self._saving:
            return
        super().reject()
