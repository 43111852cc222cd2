"""The demographics form, validated as the registrar types.

Each field checks itself when the registrar leaves it and shows the broken rule right under
it («СНИЛС: неверная контрольная сумма»); saving re-checks everything through the same
service function, so the form and the service can never disagree about a rule.  Nothing
typed is ever cleared by an error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationError, ValidationErrors
from services.models import Sex
from services.patients import PatientInput, validate_patient_input
from services.validation import (
    normalize_name_part,
    normalize_phone,
    normalize_policy,
    normalize_snils,
    parse_date_ru,
    validate_birth_date,
)
from widgets.field_errors import with_error
from widgets.formatting import fmt_date

__all__ = ["PatientForm"]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class PatientForm(QWidget):
    sig_edited = Signal()
    """The registrar changed a field."""

    def __init__(self, departments: list[tuple[int, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surname = QLineEdit()
        self.name = QLineEdit()
        self.patronymic = QLineEdit()
        self.sex = QComboBox()
        self.sex.addItem("—", None)
        self.sex.addItem("мужской", Sex.MALE)
        self.sex.addItem("женский", Sex.FEMALE)
        self.birth_date = QLineEdit()
        self.birth_date.setInputMask("00.00.0000;_")
        self.snils = QLineEdit()
        self.snils.setInputMask("000-000-000 00;_")
        self.policy = QLineEdit()
        self.policy.setInputMask("0000 0000 0000 0000;_")
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("+7 9XX XXX-XX-XX")
        self.address = QLineEdit()
        self.department = QComboBox()
        self.department.addItem("не прикреплён", None)
        for dep_id, dep_name in departments:
            self.department.addItem(dep_name, dep_id)
        for edit, n in (
            (self.surname, 60),
            (self.name, 60),
            (self.patronymic, 60),
            (self.phone, 30),
            (self.address, 500),
        ):
            edit.setMaxLength(n)

        self.errors: dict[str, QLabel] = {}
        layout = QFormLayout()
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        rows: list[tuple[str, str, QWidget, Callable[[], object] | None]] = [
            (
                "surname",
                "Фамилия*",
                self.surname,
                lambda: normalize_name_part(self.surname.text(), field="Фамилия", key="surname"),
            ),
            (
                "name",
                "Имя*",
                self.name,
                lambda: normalize_name_part(self.name.text(), field="Имя", key="name"),
            ),
            (
                "patronymic",
                "Отчество",
                self.patronymic,
                lambda: normalize_name_part(
                    self.patronymic.text(), field="Отчество", key="patronymic", required=False
                ),
            ),
            ("sex", "Пол*", self.sex, None),
            ("birth_date", "Дата рождения*", self.birth_date, self._check_birth),
            (
                "snils",
                "СНИЛС",
                self.snils,
                lambda: (
                    normalize_snils(_digits(self.snils.text()))
                    if _digits(self.snils.text())
                    else ""
                ),
            ),
            (
                "policy",
                "Полис ОМС (ЕНП)",
                self.policy,
                lambda: (
                    normalize_policy(_digits(self.policy.text()))
                    if _digits(self.policy.text())
                    else ""
                ),
            ),
            (
                "phone",
                "Телефон",
                self.phone,
                lambda: normalize_phone(self.phone.text()) if self.phone.text().strip() else "",
            ),
            ("address", "Адрес", self.address, None),
            ("department", "Прикрепление", self.department, None),
        ]
        self._checks: dict[str, Callable[[], object]] = {}
        for key, label, widget, check in rows:
            layout.addRow(label, with_error(widget, self.errors, key))
            widget.setObjectName(f"field_{key}")
            if check is not None:
                self._checks[key] = check
                if isinstance(widget, QLineEdit):
                    widget.editingFinished.connect(lambda k=key: self.check_field(k))
            if isinstance(widget, QLineEdit):
                widget.textEdited.connect(lambda _t, k=key: self._edited(k))
            elif isinstance(widget, QComboBox):
                widget.activated.connect(lambda _i, k=key: self._edited(k))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(layout)

    # --- validation ------------------------------------------------------------------------
    def _check_birth(self) -> dt.date | None:
        if not _digits(self.birth_date.text()):
            raise ValidationError("Дата рождения", "обязательное поле", key="birth_date")
        d = parse_date_ru(self.birth_date.text(), field="Дата рождения", key="birth_date")
        return validate_birth_date(d)

    def _edited(self, key: str) -> None:
        self.errors[key].setVisible(False)
        self.sig_edited.emit()

    def check_field(self, key: str) -> bool:
        try:
            self._checks[key]()
        except ValidationError as exc:
            self.show_error(exc)
            return False
        self.errors[key].setVisible(False)
        return True

    def show_error(self, exc: ValidationError) -> None:
        # An error for a field this form does not have still shows — on the first row.
        label = self.errors.get(exc.key, self.errors["surname"])
        label.setText(str(exc))
        label.setVisible(True)

    def show_errors(self, errors: ValidationErrors) -> None:
        for e in errors.errors:
            self.show_error(e)
        first = errors.errors[0].key if errors.errors else ""
        widget = self.findChild(QWidget, f"field_{first}")
        if widget is not None:
            widget.setFocus()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.setVisible(False)

    # --- data ------------------------------------------------------------------------------
    def clear(self) -> None:
        self.set_data(PatientInput(surname="", name="", patronymic="", sex=None, birth_date=None))

    def set_data(self, data: PatientInput) -> None:
        self.surname.setText(data.surname)
        self.name.setText(data.name)
        self.patronymic.setText(data.patronymic)
        self.sex.setCurrentIndex(max(0, self.sex.findData(data.sex)))
        self.birth_date.setText(fmt_date(data.birth_date))
        self.snils.setText(data.snils)
        self.policy.setText(data.policy_number)
        self.phone.setText(data.phone)
        self.address.setText(data.address)
        for edit in (self.surname, self.name, self.patronymic, self.address):
            edit.setCursorPosition(0)  # show a long address from its start: город, улица
        self.department.setCurrentIndex(
            max(0, self.department.findData(data.attachment_department_id))
        )
        self.clear_errors()

    _TEXT_FIELDS = (
        "surname",
        "name",
        "patronymic",
        "birth_date",
        "snils",
        "policy",
        "phone",
        "address",
    )

    def raw(self) -> dict[str, str]:
        """The form exactly as typed, valid or not — the unsaved draft a lock keeps."""
        out = {k: getattr(self, k).text() for k in self._TEXT_FIELDS}
        out["sex"] = str(self.sex.currentData() or "")
        dept = self.department.currentData()
        out["department"] = "" if dept is None else str(dept)
        return out

    def apply_raw(self, raw: dict[str, str]) -> None:
        """Put a saved draft back, as if typed; unknown keys and values are ignored."""
        for k in self._TEXT_FIELDS:
            value = raw.get(k)
            if isinstance(value, str):
                getattr(self, k).setText(value[:1000])
        sex = self.sex.findData(raw.get("sex") or None)
        self.sex.setCurrentIndex(max(0, sex))
        dept_text = raw.get("department") or ""
        dept = int(dept_text) if dept_text.isdigit() else None
        self.department.setCurrentIndex(max(0, self.department.findData(dept)))
        self.sig_edited.emit()

    def collect(self) -> PatientInput:
        """The form's content, validated and normalised, or :class:`ValidationErrors` shown."""
        errors: list[ValidationError] = []
        birth: dt.date | None = None
        try:
            birth = self._check_birth()
        except ValidationError as exc:
            errors.append(exc)
        raw = PatientInput(
            surname=self.surname.text(),
            name=self.name.text(),
            patronymic=self.patronymic.text(),
            sex=self.sex.currentData(),
            birth_date=birth or dt.date(2000, 1, 1),
            snils=_digits(self.snils.text()),
            policy_number=_digits(self.policy.text()),
            phone=self.phone.text(),
            address=self.address.text(),
            attachment_department_id=self.department.currentData(),
        )
        try:
            clean = validate_patient_input(raw)
        except ValidationErrors as exc:
            errors.extend(e for e in exc.errors if e.key != "birth_date")
            clean = raw
        if errors:
            self.clear_errors()
            ve = ValidationErrors(errors)
            self.show_errors(ve)
            raise ve
        self.clear_errors()
        return clean
