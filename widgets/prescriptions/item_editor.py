"""One drug of a prescription as the doctor writes it: МНН, form, strength, how to take it.

The signa is not typed: it is built from the dose, the frequency and the duration by the same
function the service stores it with (:func:`services.prescriptions.signa`), and shown as the
doctor changes any of them.  The quantity follows what that signa uses over the course (in
dosing units, or whole packages for a pen or an inhaler) until the doctor types their own —
then it is theirs, and the service judges it against the signa and the order's limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from services.drugs import Drug, DrugForm, count_word, format_number
from services.prescriptions import MAX_DOSE, MAX_EVERY_DAYS, MAX_TIMES_PER_DAY, ItemInput, signa
from widgets.field_errors import FieldErrors
from widgets.prescriptions.drug_picker import DrugPicker

__all__ = ["ITEM_KEYS", "ItemDraft", "ItemEditor"]

#: The service's rule keys that belong to one drug (the rest belong to the blank).
ITEM_KEYS = frozenset(
    {"drug", "form", "strength", "dose", "times", "duration", "route", "note", "quantity"}
)
_DAYS = ("день", "дня", "дней")


@dataclass
class ItemDraft:
    """One drug as typed so far (kept while the doctor moves to another drug or blank)."""

    drug: Drug | None = None
    query: str = ""  # what was typed in the search before anything was picked
    form: str = ""
    strength: str = ""
    dose: float = 1.0
    times: int = 1
    every: int = 1
    days: int = 10
    route: str = ""
    note: str = ""
    quantity: int = 0
    quantity_set: bool = False  # the doctor typed it: it no longer follows the signa

    def drug_form(self) -> DrugForm | None:
        return self.drug.form(self.form) if self.drug is not None else None

    def needed(self) -> int:
        """What the signa uses over the course — the service's own measure of the limit."""
        df = self.drug_form()
        intakes = self.times * math.ceil(self.days / max(self.every, 1))
        units = self.dose * intakes
        if df is not None and df.per_pack:
            return max(1, math.ceil(units / df.per_pack - 1e-9))
        return max(1, math.ceil(units - 1e-9))

    def to_input(self) -> ItemInput:
        return ItemInput(
            drug_id=self.drug.id if self.drug is not None else "",
            form=self.form,
            strength=self.strength,
            quantity=self.quantity,
            dose=self.dose,
            times_per_day=self.times,
            duration_days=self.days,
            every_days=self.every,
            route=self.route,
            note=self.note,
        )

    def signa(self) -> str:
        df = self.drug_form()
        return signa(self.to_input(), df.form) if df is not None else ""

    def title(self, n: int) -> str:
        if self.drug is None:
            return f"{n}. {self.query or '(препарат не выбран)'}"
        return f"{n}. {self.drug.mnn} {self.strength} № {self.quantity}"


class _DoseSpin(QDoubleSpinBox):
    """«1», «0,5», «1,25» — a dose as the blank writes it, not «1,00»."""

    def textFromValue(self, value: float) -> str:
        return format_number(value)


class ItemEditor(QWidget):
    """The fields of one drug; ``sig_changed`` after every edit the doctor makes."""

    sig_changed = Signal()

    def __init__(
        self,
        search: Callable[[str], list[Drug]],
        errors: FieldErrors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.item = ItemDraft()
        self._loading = False
        ru = QLocale(QLocale.Language.Russian, QLocale.Country.Russia)

        self.picker = DrugPicker(search)
        self.form = QComboBox()
        self.form.setAccessibleName("Лекарственная форма")
        self.form.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.form.setMinimumContentsLength(24)
        self.strength = QComboBox()
        self.strength.setAccessibleName("Дозировка")
        self.strength.setMinimumContentsLength(10)
        self.dose = _DoseSpin()
        self.dose.setLocale(ru)  # «0,5», as a Russian blank writes it
        self.dose.setDecimals(2)
        self.dose.setRange(0.01, MAX_DOSE)
        self.dose.setSingleStep(0.5)
        self.dose.setAccessibleName("Разовая доза")
        self.dose_unit = QLabel()
        self.times = QSpinBox()
        self.times.setRange(1, MAX_TIMES_PER_DAY)
        self.times.setAccessibleName("Приёмов")
        self.every = QSpinBox()
        self.every.setRange(1, MAX_EVERY_DAYS)
        self.every.setAccessibleName("Раз в … дней")
        self.every_unit = QLabel()
        self.days = QSpinBox()
        self.days.setRange(1, 365)
        self.days.setAccessibleName("Длительность курса, дней")
        self.days_unit = QLabel()
        self.route = QLineEdit()
        self.route.setMaxLength(60)
        self.note = QLineEdit()
        self.note.setMaxLength(200)
        self.note.setPlaceholderText("после еды, утром, под контролем АД…")
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 9999)
        self.quantity.setAccessibleName("Количество")
        self.quantity_unit = QLabel()
        self.need = QLabel()
        self.need.setStyleSheet("color: #555;")
        self.signa = QLabel()
        self.signa.setObjectName("signa")
        self.signa.setWordWrap(True)
        self.signa.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signa.setStyleSheet(
            "background: #f4f7fb; border: 1px solid #c9d4e0; padding: 4px; font-weight: 600;"
        )

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        r = 0
        grid.addWidget(QLabel("Препарат (МНН):"), r, 0)
        grid.addWidget(errors.wrap(self.picker, "drug", outline=self.picker.edit), r, 1, 1, 3)
        r += 1
        grid.addWidget(QLabel("Лек. форма:"), r, 0)
        grid.addWidget(errors.wrap(self.form, "form"), r, 1)
        grid.addWidget(QLabel("Дозировка:"), r, 2)
        grid.addWidget(errors.wrap(self.strength, "strength"), r, 3)
        r += 1
        dose = QHBoxLayout()
        dose.addWidget(self.dose)
        dose.addWidget(self.dose_unit, 1)
        grid.addWidget(QLabel("Разовая доза:"), r, 0)
        grid.addWidget(errors.wrap(dose, "dose", outline=self.dose), r, 1)
        freq = QHBoxLayout()
        freq.addWidget(self.times)
        freq.addWidget(QLabel("раз в"))
        freq.addWidget(self.every)
        freq.addWidget(self.every_unit, 1)
        grid.addWidget(QLabel("Приёмов:"), r, 2)
        grid.addWidget(errors.wrap(freq, "times", outline=self.times), r, 3)
        r += 1
        course = QHBoxLayout()
        course.addWidget(self.days)
        course.addWidget(self.days_unit, 1)
        grid.addWidget(QLabel("Курс:"), r, 0)
        grid.addWidget(errors.wrap(course, "duration", outline=self.days), r, 1)
        grid.addWidget(QLabel("Путь введения:"), r, 2)
        grid.addWidget(errors.wrap(self.route, "route"), r, 3)
        r += 1
        grid.addWidget(QLabel("Указания:"), r, 0)
        grid.addWidget(errors.wrap(self.note, "note"), r, 1, 1, 3)
        r += 1
        qty = QHBoxLayout()
        qty.addWidget(self.quantity)
        qty.addWidget(self.quantity_unit)
        qty.addSpacing(12)
        qty.addWidget(self.need, 1)
        grid.addWidget(QLabel("Количество:"), r, 0)
        grid.addWidget(errors.wrap(qty, "quantity", outline=self.quantity), r, 1, 1, 3)
        r += 1
        grid.addWidget(QLabel("Signa:"), r, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.signa, r, 1, 1, 3)

        self.picker.sig_picked.connect(self._picked)
        self.picker.sig_cleared.connect(self._cleared)
        self.picker.edit.textEdited.connect(lambda _t: self._changed())
        self.form.currentIndexChanged.connect(self._form_changed)
        self.strength.currentIndexChanged.connect(lambda _i: self._changed())
        for spin in (self.times, self.every, self.days):
            spin.valueChanged.connect(lambda _v: self._changed())
        self.dose.valueChanged.connect(lambda _v: self._changed())
        self.route.textEdited.connect(lambda _t: self._changed())
        self.note.textEdited.connect(lambda _t: self._changed())
        self.quantity.valueChanged.connect(self._quantity_changed)
        self.load(ItemDraft())

    # --- loading and storing -----------------------------------------------------------------
    def load(self, item: ItemDraft) -> None:
        """Show ``item``; edits go into it from now on."""
        self.item = item
        self._loading = True
        try:
            self.picker.set_drug(item.drug, item.query)
            self._fill_forms()
            self.dose.setValue(item.dose)
            self.times.setValue(item.times)
            self.every.setValue(item.every)
            self.days.setValue(item.days)
            self.route.setText(item.route)
            self.note.setText(item.note)
        finally:
            self._loading = False
        self._follow()

    def _fill_forms(self) -> None:
        """The picked drug's forms and strengths, the item's own chosen (else the first)."""
        item = self.item
        self.form.clear()
        if item.drug is not None:
            for f in item.drug.forms:
                self.form.addItem(f.form.name, f.form.code)
            if item.drug.form(item.form) is None:
                item.form = item.drug.forms[0].form.code
            self.form.setCurrentIndex(max(0, self.form.findData(item.form)))
        self.form.setEnabled(item.drug is not None)
        self._fill_strengths()

    def _fill_strengths(self) -> None:
        item = self.item
        df = item.drug_form()
        self.strength.clear()
        if df is not None:
            for s in df.strengths:
                self.strength.addItem(s, s)
            if item.strength not in df.strengths:
                item.strength = df.strengths[0]
            self.strength.setCurrentIndex(self.strength.findData(item.strength))
            self.route.setPlaceholderText(df.form.route)
        self.strength.setEnabled(df is not None)

    def _store(self) -> None:
        it = self.item
        if it.drug is None:
            it.query = self.picker.edit.text()
        it.form = self.form.currentData() or it.form
        it.strength = self.strength.currentData() or it.strength
        it.dose = self.dose.value()
        it.times = self.times.value()
        it.every = self.every.value()
        it.days = self.days.value()
        it.route = self.route.text()
        it.note = self.note.text()

    # --- the doctor's edits ------------------------------------------------------------------
    def _picked(self, drug: Drug) -> None:
        self.item.drug = drug
        self.item.query = ""
        self._loading = True
        try:
            self._fill_forms()
        finally:
            self._loading = False
        self._changed()
        # On to the next choice the doctor has to make.
        (self.form if len(drug.forms) > 1 else self.strength).setFocus()

    def _cleared(self) -> None:
        self.item.drug = None
        self._loading = True
        try:
            self._fill_forms()
        finally:
            self._loading = False
        self._changed()

    def _form_changed(self, _index: int) -> None:
        if self._loading:
            return
        self.item.form = self.form.currentData() or ""
        self._loading = True
        try:
            self._fill_strengths()
        finally:
            self._loading = False
        self._changed()

    def _quantity_changed(self, value: int) -> None:
        if self._loading:
            return
        self.item.quantity = value
        self.item.quantity_set = True
        self._follow()
        self.sig_changed.emit()

    def _changed(self) -> None:
        if self._loading:
            return
        self._store()
        self._follow()
        self.sig_changed.emit()

    def _follow(self) -> None:
        """The words after the numbers, the quantity the signa needs, the signa itself."""
        it = self.item
        df = it.drug_form()
        unit = df.form.unit if df is not None else ("", "", "", "")
        units = (unit[0], unit[1], unit[2])
        what = (df.form.pack if df is not None and df.form.pack else None) or units
        need = it.needed()
        if not it.quantity_set:
            it.quantity = need
        self._loading = True
        try:
            self.quantity.setValue(max(1, it.quantity))
        finally:
            self._loading = False
        self.dose_unit.setText(count_word(it.dose, units) if df is not None else "")
        self.every_unit.setText("день" if it.every == 1 else count_word(it.every, _DAYS))
        self.days_unit.setText(count_word(it.days, _DAYS))
        self.quantity_unit.setText(count_word(it.quantity, what) if df is not None else "")
        self.need.setText(
            f"по сигнатуре на курс: {need} {count_word(need, what)}" if df is not None else ""
        )
        text = it.signa()
        self.signa.setText(f"S. {text}" if text else "— выберите препарат —")
