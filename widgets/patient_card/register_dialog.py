"""Register a new person: a patient at the registry desk, or a parent being linked to a child."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from services.errors import ValidationError, ValidationErrors
from services.patients import PatientCard, PatientInput
from services.registry import Registry
from widgets.patient_card.form import PatientForm
from widgets.ports import ErrorPresenter, Runner

__all__ = ["RegisterDialog"]


class RegisterDialog(QDialog):
    def __init__(
        self,
        runner: Runner,
        registry: Registry,
        show_error: ErrorPresenter,
        departments: list[tuple[int, str]],
        *,
        prefill: list[str] | None = None,
        policy: str = "",
        data: PatientInput | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._registry = registry
        self._show_error = show_error
        self._saving = False
        self.card: PatientCard | None = None
        self.setWindowTitle("Новый пациент: регистрация")
        self.resize(620, 560)
        self.form = PatientForm(departments)
        words = prefill or []
        for edit, word in zip(
            (self.form.surname, self.form.name, self.form.patronymic), words, strict=False
        ):
            edit.setText(word.capitalize())
        if data is not None:  # read from the patient's OMS card
            self.form.set_data(data)
        if policy:  # a scanned policy of someone not yet in the registry
            self.form.policy.setText(policy)
        note = QLabel("Поля со звёздочкой обязательны.")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Зарегистрировать")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Отмена")
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        (self.form.name if words else self.form.surname).setFocus()

    def _save(self) -> None:
        try:
            data = self.form.collect()
        except ValidationErrors:
            return

        def failed(exc: BaseException) -> None:
            self._saving = False
            self.buttons.setEnabled(True)
            self.form.setEnabled(True)
            if isinstance(exc, ValidationErrors):
                self.form.show_errors(exc)
            elif isinstance(exc, ValidationError):
                self.form.show_error(exc)
            else:
                self._show_error(self, exc, None)

        def done(card: PatientCard) -> None:
            self.card = card
            self._saving = False
            self.accept()

        self.buttons.setEnabled(False)
        self.form.setEnabled(False)  # what is saved is exactly what is on screen
        self._saving = True
        self._runner.run(
            lambda _s: self._registry.register(data), on_success=done, on_failure=failed
        )

    def reject(self) -> None:
        """Esc or «Отмена» while the save is in flight does nothing: the write would go
        ahead anyway, and a dialog closed as «cancelled» must not have saved."""
        if self._saving:
            return
        super().reject()
