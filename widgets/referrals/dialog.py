"""«Направления»: write several referrals for the patient in front of the doctor, sign them at once.

The diagnosis comes from the open protocol (its main diagnosis) and is copied into every new
referral of the batch; each referral keeps its own form.  Nothing typed is lost on a refusal:
the dialog stays open with every referral as it was, the broken fields outlined and every rule
listed under the form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from services.errors import ValidationErrors
from services.mkb10 import MkbEntry
from services.models import ReferralKind
from services.referrals import (
    KIND_TEXT,
    MAX_JUSTIFICATION,
    VALIDITY_DAYS,
    ReferralInput,
    ReferralRow,
    purpose_of,
    service_catalog,
)
from widgets.emk.mkb_picker import MkbPicker
from widgets.ports import ErrorPresenter, Runner

__all__ = ["ReferralDialog"]

K = ReferralKind
_ERROR_STYLE = "border: 2px solid #c62828;"
_CARE_FORM = ("экстренная", "неотложная", "плановая")
_CARE_KIND = (
    "первичная медико-санитарная, в т. ч. специализированная",
    "специализированная, в т. ч. высокотехнологичная",
    "паллиативная",
    "скорая специализированная",
)
_CARE_CONDITIONS = ("амбулаторно", "в дневном стационаре", "стационарно")


@dataclass
class _Draft:
    """One referral of the batch as typed (kept when the doctor moves to another)."""

    kind: ReferralKind = K.CONSULTATION
    target: str = ""  # a specialty, or a service code
    organisation: str = ""
    mkb: str = ""
    cito: bool = False
    justification: str = ""
    valid_until: dt.date | None = None
    care: list[int] = field(default_factory=lambda: [3, 1, 1])

    def title(self, n: int) -> str:
        svc = next((s for s in service_catalog() if s.code == self.target), None)
        what = purpose_of(self.kind, self.target, svc.name if svc else "", self.organisation)
        return f"{n}. {KIND_TEXT[self.kind]}" + (f": {what}" if what else "")

    def to_input(self) -> ReferralInput:
        consult = self.kind == K.CONSULTATION
        return ReferralInput(
            kind=self.kind,
            mkb_code=self.mkb,
            justification=self.justification,
            target_specialty=self.target if consult else "",
            service_code="" if consult or self.kind == K.HOSPITALISATION else self.target,
            target_organisation=self.organisation,
            cito=self.cito,
            valid_until=self.valid_until,
            care_form=self.care[0],
            care_kind=self.care[1],
            care_conditions=self.care[2],
        )


class ReferralDialog(QDialog):
    """Emits ``sig_issued`` with the signed referrals' rows, then closes."""

    sig_issued = Signal(list)

    def __init__(
        self,
        runner: Runner,
        desk: Any,  # services.referral_desk.ReferralDesk
        show_error: ErrorPresenter,
        mkb_search: Callable[[str], list[MkbEntry]],
        mkb_lookup: Callable[[str], MkbEntry | None],
        *,
        patient_id: int,
        patient_title: str,
        specialties: list[str],
        mkb_code: str = "",
        encounter_id: int | None = None,
        today: dt.date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Направления — {patient_title}")
        self._runner = runner
        self._desk = desk
        self._show_error = show_error
        self.patient_id = patient_id
        self.encounter_id = encounter_id
        self.today = today or dt.date.today()
        self._specialties = specialties
        self._mkb_default = mkb_code
        self.drafts: list[_Draft] = []
        self._current = -1
        self._loading = False
        self.busy = False

        # --- the batch ---
        self.batch = QListWidget()
        self.batch.setAccessibleName("Направления в этом наборе")
        self.batch.setMinimumWidth(300)
        self.batch.setWordWrap(True)  # «2. Лучевая диагностика: Компьютерная томография …» whole
        self.add_button = QPushButton("+ Ещё направление  Ctrl+N")
        self.remove_button = QPushButton("Убрать из набора")
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Выписываются</b>"))
        left.addWidget(self.batch, 1)
        left.addWidget(self.add_button)
        left.addWidget(self.remove_button)

        # --- one referral ---
        self.kind = QComboBox()
        for k, text in KIND_TEXT.items():
            self.kind.addItem(text, k)
        self.target = QComboBox()
        self.target.setMinimumWidth(520)
        self.target_label = QLabel("Специалист:")
        self.organisation = QLineEdit()
        self.organisation.setMaxLength(300)
        self.organisation.setPlaceholderText("Если не в нашей поликлинике: наименование МО")
        self.mkb = MkbPicker(mkb_search, mkb_lookup)
        self.cito = QCheckBox("CITO — срочно")
        self.justification = QPlainTextEdit()
        self.justification.setPlaceholderText(
            "Обоснование (показания): жалобы, данные осмотра, цель направления"
        )
        self.justification.setTabChangesFocus(True)
        self.justification.setMinimumHeight(110)
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.valid_until = QDateEdit()
        self.valid_until.setCalendarPopup(True)
        self.valid_until.setDisplayFormat("dd.MM.yyyy")
        self.valid_hint = QLabel()
        self.valid_hint.setStyleSheet("color: #555;")
        self.care = [QComboBox(), QComboBox(), QComboBox()]
        for combo, names in zip(self.care, (_CARE_FORM, _CARE_KIND, _CARE_CONDITIONS), strict=True):
            for i, name in enumerate(names, 1):
                combo.addItem(f"{i} — {name}", i)
        form = QFormLayout()
        form.addRow("Вид направления:", self.kind)
        form.addRow(self.target_label, self.target)
        form.addRow("Куда (организация):", self.organisation)
        form.addRow("Диагноз (МКБ-10):", self.mkb)
        form.addRow("", self.cito)
        form.addRow("Обоснование:", self.justification)
        form.addRow("", self.counter)
        until = QHBoxLayout()
        until.addWidget(self.valid_until)
        until.addWidget(self.valid_hint, 1)
        form.addRow("Действительно до:", until)
        form.addRow("Форма помощи:", self.care[0])
        form.addRow("Вид помощи:", self.care[1])
        form.addRow("Условия:", self.care[2])
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #c62828;")
        self.errors.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sign_button = QPushButton("Выписать  Ctrl+Enter")
        self.sign_button.setDefault(False)
        self.sign_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Отмена  Esc")
        self.cancel_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.cancel_button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.errors)
        right.addStretch(1)
        right.addLayout(buttons)
        top = QHBoxLayout(self)
        top.addLayout(left)
        top.addLayout(right, 1)

        self.batch.currentRowChanged.connect(self._select)
        self.add_button.clicked.connect(self.add_referral)
        self.remove_button.clicked.connect(self.remove_current)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.target.currentIndexChanged.connect(lambda _i: self._changed())
        self.organisation.textEdited.connect(lambda _t: self._changed())
        self.mkb.sig_picked.connect(lambda _c: self._changed())
        self.mkb.edit.textEdited.connect(lambda _t: self._changed())
        self.cito.toggled.connect(self._cito_toggled)
        self.justification.textChanged.connect(self._changed)
        self.valid_until.dateChanged.connect(lambda _d: self._changed())
        for combo in self.care:
            combo.currentIndexChanged.connect(lambda _i: self._changed())
        self.sign_button.clicked.connect(self.sign)
        self.cancel_button.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.sign)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.sign)
        QShortcut(QKeySequence("Ctrl+N"), self, self.add_referral)
        self.add_referral()
        self.resize(1180, 640)

    # --- the batch ---------------------------------------------------------------------------
    def add_referral(self) -> None:
        kind = self.drafts[self._current].kind if self._current >= 0 else K.CONSULTATION
        self.drafts.append(_Draft(kind=kind, mkb=self._mkb_default))
        self.batch.addItem("")
        self._retitle()
        self.batch.setCurrentRow(len(self.drafts) - 1)
        self.kind.setFocus()

    def remove_current(self) -> None:
        if len(self.drafts) <= 1 or self._current < 0:
            return
        i = self._current
        self._current = -1  # the form's values belong to the removed one: do not store them
        del self.drafts[i]
        self.batch.takeItem(i)
        self._retitle()
        self._select(self.batch.currentRow())

    def _retitle(self) -> None:
        for i, d in enumerate(self.drafts):
            self.batch.item(i).setText(d.title(i + 1))

    def _select(self, row: int) -> None:
        if row < 0 or row >= len(self.drafts):
            return
        self._current = row
        d = self.drafts[row]
        self._loading = True
        self.kind.setCurrentIndex(self.kind.findData(d.kind))
        self._fill_targets(d.kind)
        self.target.setCurrentIndex(max(0, self.target.findData(d.target)))
        self.organisation.setText(d.organisation)
        self.mkb.set_code(d.mkb)
        self.cito.setChecked(d.cito)
        self.justification.setPlainText(d.justification)
        self._limit_dates(d.kind)
        default = self.today + dt.timedelta(days=VALIDITY_DAYS[d.kind][0])
        until = d.valid_until or default
        self.valid_until.setDate(QDate(until.year, until.month, until.day))
        for combo, value in zip(self.care, d.care, strict=True):
            combo.setCurrentIndex(combo.findData(value))
        self._loading = False
        self._store()
        self._count()

    # --- one referral ------------------------------------------------------------------------
    def _fill_targets(self, kind: ReferralKind) -> None:
        self.target.blockSignals(True)
        self.target.clear()
        if kind == K.CONSULTATION:
            self.target_label.setText("Специалист:")
            self.target.addItem("— выберите специальность —", "")
            for sp in self._specialties:
                self.target.addItem(sp, sp)
        elif kind == K.HOSPITALISATION:
            self.target_label.setText("Услуга:")
            self.target.addItem("— госпитализация: укажите стационар ниже —", "")
        else:
            self.target_label.setText("Услуга:")
            self.target.addItem("— выберите услугу —", "")
            for s in service_catalog():
                if s.kind == kind:
                    where = "" if s.performer else "  (вне поликлиники)"
                    self.target.addItem(f"{s.code}  {s.name}{where}", s.code)
        self.target.setEnabled(kind != K.HOSPITALISATION)
        self.target.blockSignals(False)

    def _limit_dates(self, kind: ReferralKind) -> None:
        longest = VALIDITY_DAYS[kind][1]
        last = self.today + dt.timedelta(days=longest)
        self.valid_until.setMinimumDate(QDate(self.today.year, self.today.month, self.today.day))
        self.valid_until.setMaximumDate(QDate(last.year, last.month, last.day))
        self.valid_hint.setText(
            f"по умолчанию {VALIDITY_DAYS[kind][0]} дн., не дольше {longest} дн."
        )

    def _kind_changed(self, _index: int) -> None:
        if self._loading or self._current < 0:
            return
        kind: ReferralKind = self.kind.currentData()
        d = self.drafts[self._current]
        if kind == d.kind:
            return
        d.kind = kind
        d.target = ""
        d.valid_until = None
        d.care = [2 if d.cito else 3, 2 if kind == K.HOSPITALISATION else 1]
        d.care.append(3 if kind == K.HOSPITALISATION else 1)
        self._select(self._current)

    def _cito_toggled(self, on: bool) -> None:
        if self._loading:
            return
        form = self.care[0]
        if on and form.currentData() == 3:
            form.setCurrentIndex(form.findData(2))  # urgent: «неотложная» unless said otherwise
        elif not on and form.currentData() == 2:
            form.setCurrentIndex(form.findData(3))
        self._changed()

    def _changed(self) -> None:
        if self._loading:
            return
        self._store()
        self._count()

    def _store(self) -> None:
        if self._current < 0:
            return
        d = self.drafts[self._current]
        d.target = self.target.currentData() or ""
        d.organisation = self.organisation.text()
        d.mkb = self.mkb.code() or self.mkb.edit.text().strip()
        d.cito = self.cito.isChecked()
        d.justification = self.justification.toPlainText()
        q = self.valid_until.date()
        d.valid_until = dt.date(q.year(), q.month(), q.day())
        d.care = [c.currentData() for c in self.care]
        self.batch.item(self._current).setText(d.title(self._current + 1))

    def _count(self) -> None:
        n = len(" ".join(self.justification.toPlainText().split()))
        self.counter.setText(f"{n} / {MAX_JUSTIFICATION}")
        self.counter.setStyleSheet("color: #c62828;" if n > MAX_JUSTIFICATION else "color: #555;")

    # --- signing -----------------------------------------------------------------------------
    def inputs(self) -> list[ReferralInput]:
        self._store()
        return [d.to_input() for d in self.drafts]

    def sign(self) -> None:
        if self.busy:
            return
        inputs = self.inputs()
        self._outline(set())
        self.errors.clear()
        self.busy = True
        self.sign_button.setEnabled(False)

        def done(rows: list[ReferralRow]) -> None:
            self.busy = False
            self.sign_button.setEnabled(True)
            self.sig_issued.emit(rows)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.sign_button.setEnabled(True)
            if isinstance(exc, ValidationErrors):
                self._show_rules(exc)
            else:
                self._show_error(self, exc, self.sign)

        pid, enc = self.patient_id, self.encounter_id
        self._runner.run(
            lambda _st: self._desk.issue(pid, inputs, enc), on_success=done, on_failure=failed
        )

    def _show_rules(self, exc: ValidationErrors) -> None:
        self.errors.setText("\n".join(f"• {e}" for e in exc.errors))
        # «Направление 2: Обоснование» — go to the first referral with a broken rule.
        first = 0
        for e in exc.errors:
            m = re.match(r"Направление (\d+): ", e.field)
            if m:
                first = int(m.group(1)) - 1
                break
        if len(self.drafts) > 1 and first != self._current:
            self.batch.setCurrentRow(first)
        mine = {
            e.key
            for e in exc.errors
            if len(self.drafts) == 1 or e.field.startswith(f"Направление {first + 1}: ")
        }
        self._outline(mine)

    def _outline(self, keys: set[str]) -> None:
        widgets: dict[str, QWidget] = {
            "mkb10": self.mkb.edit,
            "reason": self.justification,
            "target": self.target,
            "organisation": self.organisation,
            "valid_until": self.valid_until,
        }
        for key, w in widgets.items():
            w.setStyleSheet(_ERROR_STYLE if key in keys else "")
        for key in ("mkb10", "target", "reason", "organisation", "valid_until"):
            if key in keys:
                widgets[key].setFocus()
                break
