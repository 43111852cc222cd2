"""«Рецепты»: write one or several prescription blanks for the patient in front of the doctor.

The blank decides what the form asks: 107-1/у holds up to three drugs and is valid 60 days (up
to a year «по специальному назначению», dispensed in parts); 148-1/у-04(л) holds one drug with
the benefit fields (category, financing source, % paid) and is valid 15, 30 or 90 days;
148-1/у-88 holds one drug, is valid 15 days, and takes the series and number printed on the
print shop's blank.  The diagnosis comes from the open protocol (its main diagnosis) and is
copied into every new blank.

Nothing is checked here that the service does not check again, and nothing typed is lost on a
refusal: Ctrl+Enter sends every blank; what comes back refused keeps the dialog open with every
blank and drug as it was, each rule in red under its field (the first broken one gets the
cursor), and rules of other blanks or drugs listed below until the doctor goes there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QIntValidator, QKeySequence, QRegularExpressionValidator, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from services.clock import local_day, now_utc
from services.errors import ValidationError, ValidationErrors
from services.mkb10 import MkbEntry
from services.models import PrescriptionForm
from services.prescriptions import (
    SPECIAL_MAX_DAYS,
    VALIDITY_107,
    VALIDITY_148_04,
    VALIDITY_148_88,
    PrescriptionInput,
    PrescriptionRow,
)
from widgets.emk.mkb_picker import MkbPicker
from widgets.field_errors import ERROR_COLOUR, FieldErrors, fit_height
from widgets.ports import ErrorPresenter, Runner
from widgets.prescriptions.item_editor import ITEM_KEYS, ItemDraft, ItemEditor

__all__ = ["PrescriptionDialog"]


def _today() -> dt.date:
    """The polyclinic's day (Moscow), as the services count days, whatever the PC's zone."""
    return local_day(now_utc())


F = PrescriptionForm
SPECIAL = -1  # the validity choice «по специальному назначению» on 107-1/у
FUNDING = ("федеральный бюджет", "бюджет субъекта РФ", "муниципальный бюджет")
PAYMENT = ("бесплатно", "50 %", "иной %")
_VALIDITY_TEXT: dict[PrescriptionForm, list[tuple[int, str]]] = {
    F.F107: [
        (VALIDITY_107, f"{VALIDITY_107} дней"),
        (SPECIAL, "до 1 года — «По специальному назначению»"),
    ],
    F.F148_04L: [(d, f"{d} дней") for d in VALIDITY_148_04],
    F.F148_88: [(VALIDITY_148_88, f"{VALIDITY_148_88} дней")],
}
_BLANK_HINT = {
    F.F107: "до 3 препаратов; психотропные из п. 15 — по одному на бланк",
    F.F148_04L: "один препарат; льготный рецепт — нужен полис ОМС",
    F.F148_88: "один препарат; печать на типографский бланк или черновик",
}
_BLANK_HINT_FULL = {
    F.F107: "До 3 препаратов на бланке; антипсихотические, анксиолитические, снотворные, "
    "седативные препараты и антидепрессанты — по одному на бланк (1094н прил. 3 п. 15).",
    F.F148_04L: "Один препарат; льготный рецепт выписывают при наличии полиса ОМС.",
    F.F148_88: "Один препарат; бланк изготавливается только типографским способом: ARM "
    "заполняет бланк наложением или печатает черновик.",
}
_ITEM = re.compile(r"^Препарат(?: (\d+))?(?=:|$)")
_BLANK = re.compile(r"^Рецепт (\d+): ")


@dataclass
class _Blank:
    """One blank of the batch as typed."""

    form: PrescriptionForm = F.F107
    items: list[ItemDraft] = field(default_factory=lambda: [ItemDraft()])
    validity: int = VALIDITY_107  # a term, or SPECIAL
    special_days: int = SPECIAL_MAX_DAYS
    dispense_every: int = 30
    mkb: str = ""
    category: str = ""
    funding: int = 1
    payment: int = 1
    series: str = ""
    number: str = ""

    def title(self, n: int) -> str:
        drugs = ", ".join(i.drug.mnn for i in self.items if i.drug is not None)
        return f"{n}. {self.form.number}" + (f": {drugs}" if drugs else "")

    def to_input(self) -> PrescriptionInput:
        special = self.form == F.F107 and self.validity == SPECIAL
        benefit = self.form == F.F148_04L
        blank = self.form == F.F148_88
        return PrescriptionInput(
            form=self.form,
            items=tuple(i.to_input() for i in self.items),
            validity_days=(self.special_days if special else self.validity if benefit else None),
            special_purpose=special,
            dispense_every_days=self.dispense_every if special else None,
            mkb_code=self.mkb,
            benefit_category=self.category if benefit else "",
            funding_source=self.funding if benefit else None,
            payment_percent=self.payment if benefit else None,
            series=self.series if blank else "",
            number=self.number if blank else "",
        )


@dataclass(frozen=True)
class _Rule:
    """A refused rule, placed: which blank, which drug (None: the blank's own), the error."""

    blank: int
    item: int | None
    error: ValidationError


class PrescriptionDialog(QDialog):
    """Emits ``sig_issued`` with the signed prescriptions' rows, then closes."""

    sig_issued = Signal(list)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.prescription_desk.PrescriptionDesk
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        *,
        patient_id: int,
        patient_title: str,
        mkb_code: str = "",
        encounter_id: int | None = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Рецепты — {patient_title}")
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.patient_id = patient_id
        self.encounter_id = encounter_id
        self.today = today or _today()
        self._mkb_default = mkb_code
        self.blanks: list[_Blank] = []
        self._current = -1
        self._item = -1
        self._loading = False
        self._rules: list[_Rule] = []
        self.busy = False

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.errors = FieldErrors(self.summary)

        # --- the batch ---
        self.batch = QListWidget()
        self.batch.setAccessibleName("Рецепты в этом наборе")
        self.batch.setWordWrap(True)
        self.batch.setMinimumWidth(220)
        self.batch.setMaximumWidth(260)
        self.add_button = QPushButton("+ Ещё рецепт  Ctrl+N")
        self.remove_button = QPushButton("Убрать рецепт")
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Выписываются</b>"))
        left.addWidget(self.batch, 1)
        left.addWidget(self.add_button)
        left.addWidget(self.remove_button)

        # --- the blank ---
        self.form = QComboBox()
        self.form.setAccessibleName("Бланк")
        for f in F:
            self.form.addItem(f.number, f)
        self.validity = QComboBox()
        self.validity.setAccessibleName("Срок действия")
        self.special_days = QSpinBox()
        self.special_days.setRange(VALIDITY_107 + 1, SPECIAL_MAX_DAYS)
        self.special_days.setSuffix(" дн.")
        self.dispense_every = QSpinBox()
        self.dispense_every.setRange(1, SPECIAL_MAX_DAYS)
        self.dispense_every.setPrefix("раз в ")
        self.dispense_every.setSuffix(" дн.")
        self.blank_hint = QLabel()
        self.blank_hint.setStyleSheet("color: #555;")
        self.mkb = MkbPicker(mkb_search, mkb_lookup)
        self.category = QLineEdit()
        self.category.setMaxLength(3)
        self.category.setValidator(QIntValidator(0, 999, self.category))
        self.category.setPlaceholderText("до 3 цифр")
        self.category.setMaximumWidth(90)
        self.funding = QComboBox()
        self.funding.setAccessibleName("Источник финансирования")
        for i, text in enumerate(FUNDING, 1):
            self.funding.addItem(f"{i} — {text}", i)
        self.payment = QComboBox()
        self.payment.setAccessibleName("% оплаты")
        for i, text in enumerate(PAYMENT, 1):
            self.payment.addItem(f"{i} — {text}", i)
        self.series = QLineEdit()
        self.series.setMaxLength(3)  # the blank's three cells
        self.series.setMaximumWidth(80)
        self.number = QLineEdit()
        self.number.setMaxLength(4)  # the blank's four cells
        self.number.setMaximumWidth(100)
        self.number.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"[0-9]{0,4}"), self.number)
        )

        e = self.errors
        top = QHBoxLayout()
        top.addWidget(e.wrap(self.form, "blank"))
        top.addWidget(QLabel("Срок действия:"))
        top.addWidget(e.wrap(self.validity, "validity"), 1)
        self.special_row = QWidget()
        special = QHBoxLayout(self.special_row)
        special.setContentsMargins(0, 0, 0, 0)
        special.addWidget(QLabel("Срок:"))
        special.addWidget(self.special_days)
        special.addWidget(QLabel("Отпуск:"))
        special.addWidget(e.wrap(self.dispense_every, "dispense", "special"))
        special.addStretch(1)
        self.benefit_row = QWidget()
        benefit = QHBoxLayout(self.benefit_row)
        benefit.setContentsMargins(0, 0, 0, 0)
        benefit.addWidget(QLabel("Код категории:"))
        benefit.addWidget(e.wrap(self.category, "category"))
        benefit.addWidget(QLabel("Финансирование:"))
        benefit.addWidget(e.wrap(self.funding, "funding"), 1)
        benefit.addWidget(QLabel("% оплаты:"))
        benefit.addWidget(e.wrap(self.payment, "payment"))
        self.blank_row = QWidget()
        series = QHBoxLayout(self.blank_row)
        series.setContentsMargins(0, 0, 0, 0)
        series.addWidget(QLabel("Серия:"))
        series.addWidget(e.wrap(self.series, "series"))
        series.addWidget(QLabel("№"))
        series.addWidget(e.wrap(self.number, "number"))
        series.addWidget(QLabel("— как напечатаны на типографском бланке"), 1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Бланк:", top)
        form.addRow("", self.blank_hint)
        form.addRow("", self.special_row)
        form.addRow("Диагноз (МКБ-10):", e.wrap(self.mkb, "mkb10", outline=self.mkb.edit))
        form.addRow("Льгота:", self.benefit_row)
        form.addRow("Бланк 148-1/у-88:", self.blank_row)
        self._form_layout = form

        # --- the drugs of the blank ---
        self.items = QListWidget()
        self.items.setAccessibleName("Препараты на бланке")
        self.items.setWordWrap(True)  # «2. Метформин 1000 мг № 60» whole
        self.items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.items.setFixedWidth(
            self.fontMetrics().horizontalAdvance("2. Ацетилсалициловая кислота") + 24
        )
        self.add_item_button = QPushButton("+ Препарат  Ctrl+D")
        self.remove_item_button = QPushButton("Убрать препарат")
        items_col = QVBoxLayout()
        items_col.addWidget(e.wrap(self.items, "items"), 1)
        items_col.addWidget(self.add_item_button)
        items_col.addWidget(self.remove_item_button)
        self.editor = ItemEditor(desk.search_drugs, e)
        drugs = QHBoxLayout()
        drugs.addLayout(items_col)
        drugs.addWidget(self.editor, 1)
        drugs_title = QLabel("<b>Препараты на бланке</b>")

        self.sign_button = QPushButton("Выписать  Ctrl+Enter")
        self.sign_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Отмена  Esc")
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.cancel_button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addSpacing(6)
        right.addWidget(drugs_title)
        right.addLayout(drugs)
        right.addWidget(self.summary)
        right.addStretch(1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)

        self.batch.currentRowChanged.connect(self._select)
        self.add_button.clicked.connect(self.add_blank)
        self.remove_button.clicked.connect(self.remove_blank)
        self.items.currentRowChanged.connect(self._select_item)
        self.add_item_button.clicked.connect(self.add_item)
        self.remove_item_button.clicked.connect(self.remove_item)
        self.form.currentIndexChanged.connect(self._form_changed)
        self.validity.currentIndexChanged.connect(lambda _i: self._changed())
        for spin in (self.special_days, self.dispense_every):
            spin.valueChanged.connect(lambda _v: self._changed())
        self.mkb.sig_picked.connect(lambda _c: self._changed())
        self.mkb.edit.textEdited.connect(lambda _t: self._changed())
        for edit in (self.category, self.series, self.number):
            edit.textEdited.connect(lambda _t: self._changed())
        for combo in (self.funding, self.payment):
            combo.currentIndexChanged.connect(lambda _i: self._changed())
        self.editor.sig_changed.connect(self._item_changed)
        self.sign_button.clicked.connect(self.sign)
        self.cancel_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.sign)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.sign)
        QShortcut(QKeySequence("Ctrl+N"), self, self.add_blank)
        QShortcut(QKeySequence("Ctrl+D"), self, self.add_item)
        QShortcut(
            QKeySequence("Delete"),
            self.items,
            self.remove_item,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        self.add_blank()
        self.resize(1200, 600)

    # --- the batch ---------------------------------------------------------------------------
    @property
    def blank(self) -> _Blank:
        return self.blanks[self._current]

    def add_blank(self) -> None:
        """A new blank of the same form as the one on screen, with the protocol's diagnosis."""
        form = self.blank.form if self._current >= 0 else F.F107
        self.blanks.append(_Blank(form=form, validity=_VALIDITY_TEXT[form][0][0],
                                  mkb=self._mkb_default))  # fmt: skip
        self.batch.addItem("")
        self._retitle()
        self.batch.setCurrentRow(len(self.blanks) - 1)
        self.editor.picker.setFocus()

    def remove_blank(self) -> None:
        if len(self.blanks) <= 1 or self._current < 0:
            return
        i = self._current
        self._current = -1  # the form's values belong to the removed one: do not store them
        del self.blanks[i]
        self._rules = [r for r in self._rules if r.blank != i]
        self._rules = [_Rule(r.blank - (r.blank > i), r.item, r.error) for r in self._rules]
        self.batch.takeItem(i)
        self._retitle()
        self._select(self.batch.currentRow())

    def _retitle(self) -> None:
        for i, b in enumerate(self.blanks):
            item = self.batch.item(i)
            item.setText(b.title(i + 1))
            ruled = any(r.blank == i for r in self._rules)
            item.setForeground(Qt.GlobalColor.red if ruled else Qt.GlobalColor.black)

    def _select(self, row: int) -> None:
        if row < 0 or row >= len(self.blanks):
            return
        self._current = row
        b = self.blanks[row]
        self._loading = True
        try:
            self.form.setCurrentIndex(self.form.findData(b.form))
            self._fill_validity(b)
            self.special_days.setValue(b.special_days)
            self.dispense_every.setValue(b.dispense_every)
            self.mkb.set_code(b.mkb)
            self.category.setText(b.category)
            self.funding.setCurrentIndex(self.funding.findData(b.funding))
            self.payment.setCurrentIndex(self.payment.findData(b.payment))
            self.series.setText(b.series)
            self.number.setText(b.number)
            self.items.clear()
            for _ in b.items:
                self.items.addItem("")
            self._item = -1
        finally:
            self._loading = False
        self._show_form(b.form)
        self._retitle_items()
        self.items.setCurrentRow(self._first_item_with_rule(row))
        self._place_rules()

    def _fill_validity(self, b: _Blank) -> None:
        self.validity.clear()
        for days, text in _VALIDITY_TEXT[b.form]:
            self.validity.addItem(text, days)
        idx = self.validity.findData(b.validity)
        if idx < 0:
            b.validity = _VALIDITY_TEXT[b.form][0][0]
            idx = 0
        self.validity.setCurrentIndex(idx)

    def _show_form(self, form: PrescriptionForm) -> None:
        """Only the rows this blank has (they are in the dialog: no window of their own)."""
        layout = self._form_layout
        layout.setRowVisible(self.benefit_row, form == F.F148_04L)
        layout.setRowVisible(self.blank_row, form == F.F148_88)
        layout.setRowVisible(
            self.special_row, form == F.F107 and self.validity.currentData() == SPECIAL
        )
        self.blank_hint.setText(_BLANK_HINT[form])
        self.blank_hint.setToolTip(_BLANK_HINT_FULL[form])

    # --- the drugs of the blank ----------------------------------------------------------------
    def add_item(self) -> None:
        if self._current < 0:
            return
        self.blank.items.append(ItemDraft())
        self.items.addItem("")
        self._retitle_items()
        self.items.setCurrentRow(len(self.blank.items) - 1)
        self.editor.picker.setFocus()

    def remove_item(self) -> None:
        if self._current < 0 or len(self.blank.items) <= 1 or self._item < 0:
            return
        i = self._item
        self._item = -1
        del self.blank.items[i]
        cur = self._current
        self._rules = [r for r in self._rules if not (r.blank == cur and r.item == i)]
        self._rules = [
            _Rule(
                r.blank, r.item - 1 if r.blank == cur and r.item and r.item > i else r.item, r.error
            )  # fmt: skip
            for r in self._rules
        ]
        self.items.takeItem(i)
        self._retitle_items()
        self._select_item(self.items.currentRow())
        self._retitle()

    def _retitle_items(self) -> None:
        if self._current < 0:
            return
        for i, it in enumerate(self.blank.items):
            item = self.items.item(i)
            if item is None:
                continue
            item.setText(it.title(i + 1))
            ruled = any(r.blank == self._current and r.item == i for r in self._rules)
            item.setForeground(Qt.GlobalColor.red if ruled else Qt.GlobalColor.black)

    def _select_item(self, row: int) -> None:
        if self._current < 0 or not 0 <= row < len(self.blank.items):
            return
        self._item = row
        self.editor.load(self.blank.items[row])
        self._place_rules()

    def _item_changed(self) -> None:
        if self._item >= 0:
            self.items.item(self._item).setText(self.editor.item.title(self._item + 1))
        self._retitle()

    # --- the blank's fields --------------------------------------------------------------------
    def _form_changed(self, _index: int) -> None:
        if self._loading or self._current < 0:
            return
        b = self.blank
        b.form = PrescriptionForm(self.form.currentData())
        self._loading = True
        try:
            self._fill_validity(b)
        finally:
            self._loading = False
        self._show_form(b.form)
        self._retitle()

    def _changed(self) -> None:
        if self._loading or self._current < 0:
            return
        b = self.blank
        b.validity = self.validity.currentData() or b.validity
        b.special_days = self.special_days.value()
        b.dispense_every = self.dispense_every.value()
        b.mkb = self.mkb.code() or self.mkb.edit.text().strip()
        b.category = self.category.text().strip()
        b.funding = self.funding.currentData()
        b.payment = self.payment.currentData()
        b.series = self.series.text().strip()
        b.number = self.number.text().strip()
        self._show_form(b.form)

    # --- signing -------------------------------------------------------------------------------
    def inputs(self) -> list[PrescriptionInput]:
        self._changed()
        return [b.to_input() for b in self.blanks]

    def sign(self) -> None:
        if self.busy:
            return
        inputs = self.inputs()
        self._rules = []
        self.errors.clear()
        self.busy = True
        self.sign_button.setEnabled(False)

        def done(rows: list[PrescriptionRow]) -> None:
            self.busy = False
            self.sign_button.setEnabled(True)
            self.sig_issued.emit(rows)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.sign_button.setEnabled(True)
            if isinstance(exc, ValidationErrors):
                self._refused(exc.errors)
            elif isinstance(exc, ValidationError):
                self._refused([exc])
            else:
                self._show_error(self, exc, self.sign)

        pid, enc = self.patient_id, self.encounter_id
        self._runner.run(
            lambda _st: self._desk.issue(pid, inputs, enc), on_success=done, on_failure=failed
        )

    def _refused(self, errors: list[ValidationError]) -> None:
        """Place every rule on its blank and drug, and go to the first one broken."""
        many = len(self.blanks) > 1
        rules: list[_Rule] = []
        for e in errors:
            name, blank = e.field, 0
            m = _BLANK.match(name)
            if many and m:
                blank, name = int(m.group(1)) - 1, name[m.end() :]
            item: int | None = None
            key = e.key
            im = _ITEM.match(name)
            if im and key in ITEM_KEYS:
                item = int(im.group(1)) - 1 if im.group(1) else 0
                if key == "form" and name.endswith(": Бланк"):
                    key, item = "blank", None  # the drug needs another blank
            rules.append(_Rule(blank, item, ValidationError(e.field, e.rule, key=key)))
        self._rules = rules
        first = rules[0].blank if rules else self._current
        if first != self._current:
            self.batch.setCurrentRow(first)  # places the rules
        else:
            self.items.setCurrentRow(self._first_item_with_rule(first))
            self._place_rules()
        self._retitle_items()
        w = self.errors.first_widget()
        if w is not None:
            w.setFocus()

    def _first_item_with_rule(self, blank: int) -> int:
        rows = [r.item for r in self._rules if r.blank == blank and r.item is not None]
        return min(rows) if rows else 0

    def _place_rules(self) -> None:
        """The rules of the blank and the drug on screen under their fields; the rest listed."""
        here = [
            r
            for r in self._rules
            if r.blank == self._current and (r.item is None or r.item == self._item)
        ]
        elsewhere = [str(r.error) for r in self._rules if r not in here]
        # Under a field of the blank on screen «Рецепт 2: » says nothing: it is that blank.
        self.errors.show(
            [
                ValidationError(_BLANK.sub("", r.error.field), r.error.rule, key=r.error.key)
                for r in here
            ],
            unplaced=elsewhere,
        )
        fit_height(self)
