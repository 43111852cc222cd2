"""Prescriptions (рецепты) on the three blanks of Order 1094н of 24.11.2021: the rules, issuing,
the patient's list, cancelling, and what the printing side needs.

Which blank: 107-1/у for ordinary drugs (computer-made allowed, app. 3 p. 1); 148-1/у-04(л)
for citizens entitled to free or discounted drugs (app. 1 p. 10; computer-made with the barcode
field, app. 3 p. 5); 148-1/у-88 for the drugs of app. 1 p. 9 (Schedule II transdermal systems,
Schedule III psychotropics, potent substances under quantitative control), which exists only
as a print-shop blank — ARM fills it by overlay or prints a draft, and the doctor types in the
series and number printed on it.

Every rule is checked before anything is written or printed, and all broken rules are
reported at once, each naming its field (:class:`~services.errors.ValidationError`).  Where
1094н is silent or FORMS.md marks a point unverified, the comment at the rule says what was
followed.

The quantity limit (1094н leaves it to the doctor except for the narcotic and psychotropic
drugs of its per-prescription table): ARM refuses a quantity larger than the doctor's own signa
consumes over the stated course — dose × intakes × days, in dosing units, or in whole packages
for an inhaler, a bottle or a pen — because more than that is either a typo or a supply the
blank's validity cannot justify; where the order's table sets a smaller limit (buprenorphine
patches) that one wins.  The course itself is capped by the blank: 60 days on 107-1/у (its
validity), up to its year «по специальному назначению»; 30 days on 148-1/у-04(л), 90 when the
90-day validity is chosen (1022н allowed courses up to 180 days for that case; FORMS.md marks
the split unverified for 1094н, so the safer 90 is used); 60 days on 148-1/у-88.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import audit, drugs
from services.audit import Actor
from services.clock import local_day, now_utc
from services.drugs import (
    DosageForm,
    count_word,
    format_number,
    latin_strength,
    number_words,
)
from services.emk import NewDiagnosis, add_document
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.mkb10 import catalog
from services.models import (
    DiagnosisRole,
    DocKind,
    NumberSequence,
    Organisation,
    Patient,
    Prescription,
    PrescriptionForm,
    PrescriptionItem,
    Staff,
)
from services.patients import age_on
from services.schedule import short_name
from services.validation import format_snils

__all__ = [
    "MAX_ITEMS_107",
    "REGION_CODE",
    "ItemInput",
    "PrescriptionInput",
    "PrescriptionPrint",
    "PrescriptionRow",
    "PrescriptionStatus",
    "PrintItem",
    "cancel",
    "full_months",
    "get",
    "issue",
    "patient_prescriptions",
    "print_data",
    "signa",
    "validate",
]

F = PrescriptionForm

#: The region code a 148-1/у-04(л) series starts with: the first two digits of the ОКАТО code
#: of the subject of the Russian Federation (1094н app. 3 p. 1).  45 is Moscow, where ARM's
#: polyclinics are.  The organisation table has no ОКАТО column yet, so a polyclinic elsewhere
#: passes its own code to :func:`issue` (the prescription desk takes it from the site config).
REGION_CODE = "45"
MKB_CELLS_148_04 = 5  # «J45.0» on the 148-1/у-04(л) blank (printing.prescription_148_04)
MAX_ITEMS_107 = 3  # 1094н app. 3 p. 15
MAX_REASON = 300
MAX_NOTE = 200
MAX_ROUTE = 60
MAX_TIMES_PER_DAY = 12
MAX_EVERY_DAYS = 30
MAX_DOSE = 1000.0  # units per intake: 1000 ЕД of insulin is already absurd
ADULT_AGE = 18  # «РЕЦЕПТ (взрослый, детский)»: a child is under 18 (323-ФЗ art. 54)

# Validity (1094н app. 1 pp. 20–23): the choices per blank, the default first.
VALIDITY_107 = 60  # p. 23; up to a year «по специальному назначению»
SPECIAL_MAX_DAYS = 365
VALIDITY_148_04 = (30, 15, 90)  # pp. 21–22: 15/30/90, the doctor underlines one
VALIDITY_148_88 = 15  # p. 20
# The longest course one blank may hold (see the module docstring for why).
COURSE_107 = 60
COURSE_148_04 = {15: 30, 30: 30, 90: 90}
COURSE_148_88 = 60

_DIGITS = re.compile(r"[0-9]+")
_SERIES = re.compile(r"[0-9A-Za-zА-ЯЁа-яё]{1,10}")


class PrescriptionStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def text(self) -> str:
        return _STATUS_TEXT[self]


_STATUS_TEXT = {
    PrescriptionStatus.VALID: "действителен",
    PrescriptionStatus.EXPIRED: "истёк срок",
    PrescriptionStatus.CANCELLED: "аннулирован",
}


# --- input ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemInput:
    """One drug of a prescription as the doctor picks it."""

    drug_id: str  # the catalog's id («amlodipine»)
    form: str  # the catalog's dosage form code («tab»)
    strength: str  # one of the form's strengths («5 мг»)
    quantity: int  # dosing units («N 30» tablets), or packages for inhalers, bottles, pens
    dose: float  # dosing units per intake: 1, 0.5, 2; ЕД for insulin, мл for a syrup
    times_per_day: int
    duration_days: int
    every_days: int = 1  # 3: «1 раз в 3 дня» (a 72-hour patch)
    route: str = ""  # "" — the form's route («внутрь»)
    note: str = ""  # «после еды», «растворить в 2 мл воды для инъекций»


@dataclass(frozen=True)
class PrescriptionInput:
    """One blank: the form, its drugs and the fields the form asks for."""

    form: PrescriptionForm
    items: Sequence[ItemInput]
    validity_days: int | None = None  # None: 60 / 30 / 15 by the form
    # 107-1/у: «По специальному назначению», valid up to a year, dispensed in parts.
    special_purpose: bool = False
    dispense_every_days: int | None = None
    mkb_code: str = ""  # required on 148-1/у-04(л); optional elsewhere (the EMK's diagnosis)
    # 148-1/у-04(л)
    benefit_category: str = ""
    funding_source: int | None = None  # 1 федеральный, 2 субъекта РФ, 3 муниципальный бюджет
    payment_percent: int | None = None  # 1 бесплатно, 2 50 %, 3 иной
    # 148-1/у-88: the print shop's series and number, typed in from the blank
    series: str = ""
    number: str = ""


def _err(errors: list[ValidationError], field: str, rule: str, key: str) -> None:
    errors.append(ValidationError(field, rule, key=key))


def _course_cap(inp: PrescriptionInput, validity: int) -> int:
    if inp.form == F.F107:
        return validity if inp.special_purpose else COURSE_107
    if inp.form == F.F148_04L:
        return COURSE_148_04.get(validity, 30)
    return COURSE_148_88


def _needed(item: ItemInput, per_pack: int | None) -> int:
    """What the signa consumes over the course: dosing units, or whole packages."""
    intakes = item.times_per_day * math.ceil(item.duration_days / max(item.every_days, 1))
    units = item.dose * intakes
    if per_pack:
        return max(1, math.ceil(units / per_pack - 1e-9))
    return max(1, math.ceil(units - 1e-9))


def _check_item(
    errors: list[ValidationError], inp: PrescriptionInput, i: int, item: ItemInput, cap: int
) -> ItemInput | None:
    label = f"Препарат {i}" if len(inp.items) > 1 else "Препарат"
    d = drugs.drug(item.drug_id)
    if d is None:
        _err(errors, label, "выберите препарат из справочника", "drug")
        return None
    if d.only_148_88 and inp.form != F.F148_88:
        _err(
            errors,
            f"{label}: Бланк",
            f"«{d.mnn}» выписывают только на бланке 148-1/у-88 (1094н прил. 1 п. 9)",
            "form",
        )
    if inp.form == F.F148_88 and not d.only_148_88:
        _err(
            errors,
            f"{label}: Бланк",
            f"на бланке 148-1/у-88 выписывают только препараты п. 9 прил. 1 1094н; "
            f"«{d.mnn}» — на бланке 107-1/у",
            "form",
        )
    if inp.form == F.F148_04L and inp.funding_source == 1 and not d.preferential:
        _err(
            errors,
            label,
            f"«{d.mnn}» нет в перечне для льготного обеспечения за счёт федерального бюджета",
            "drug",
        )
    df = d.form(item.form)
    if df is None:
        names = ", ".join(f.form.name for f in d.forms)
        _err(errors, f"{label}: Лекарственная форма", f"у «{d.mnn}» в справочнике: {names}", "form")
        return None
    if item.strength not in df.strengths:
        _err(
            errors,
            f"{label}: Дозировка",
            f"выберите из справочника: {', '.join(df.strengths)}",
            "strength",
        )
    unit = df.form.unit
    if not 0 < item.dose <= MAX_DOSE:
        _err(errors, f"{label}: Разовая доза", f"больше нуля, до {MAX_DOSE:g}", "dose")
    if not 1 <= item.times_per_day <= MAX_TIMES_PER_DAY:
        _err(errors, f"{label}: Приёмов в день", f"от 1 до {MAX_TIMES_PER_DAY}", "times")
    if not 1 <= item.every_days <= MAX_EVERY_DAYS:
        _err(errors, f"{label}: Периодичность", f"раз в 1–{MAX_EVERY_DAYS} дней", "times")
    if item.duration_days < 1:
        _err(errors, f"{label}: Длительность курса", "не меньше 1 дня", "duration")
    elif item.duration_days > cap:
        _err(
            errors,
            f"{label}: Длительность курса",
            f"не больше {cap} дней на бланке {inp.form.number} с таким сроком действия",
            "duration",
        )
    route = " ".join(item.route.split()) or df.form.route
    note = " ".join(item.note.split())
    if len(route) > MAX_ROUTE:
        _err(errors, f"{label}: Путь введения", f"не длиннее {MAX_ROUTE} символов", "route")
    if len(note) > MAX_NOTE:
        _err(errors, f"{label}: Указания", f"не длиннее {MAX_NOTE} символов", "note")
    if item.quantity < 1:
        _err(errors, f"{label}: Количество", "не меньше 1", "quantity")
    elif _no_errors_yet(errors, label):
        what = df.form.pack or (unit[0], unit[1], unit[2])
        limit = d.limits.get(item.strength)
        if limit is not None and item.quantity > limit:
            _err(
                errors,
                f"{label}: Количество",
                f"не больше {limit} {count_word(limit, what)} на один рецепт "
                "(1094н, предельно допустимое количество)",
                "quantity",
            )
        else:
            need = _needed(item, df.per_pack)
            if item.quantity > need:
                _err(
                    errors,
                    f"{label}: Количество",
                    f"больше, чем нужно на курс по сигнатуре: {need} "
                    f"{count_word(need, what)} на {item.duration_days} "
                    f"{count_word(item.duration_days, ('день', 'дня', 'дней'))}",
                    "quantity",
                )
    return replace(item, route=route, note=note)


def _no_errors_yet(errors: list[ValidationError], label: str) -> bool:
    """No rule of this item is broken yet (the quantity is judged against a sound signa)."""
    return not any(e.field == label or e.field.startswith(label + ":") for e in errors)


def validate(inp: PrescriptionInput) -> PrescriptionInput:
    """``inp`` with defaults filled and text tidied, or every broken rule at once.

    Raises:
        ValidationErrors: one :class:`ValidationError` per broken rule, naming its field.
    """
    errors: list[ValidationError] = []
    form = inp.form
    items = list(inp.items)
    # Validity first: the course cap of every item depends on it.
    validity = inp.validity_days
    if form == F.F107:
        if inp.special_purpose:
            validity = validity or SPECIAL_MAX_DAYS
            if not VALIDITY_107 < validity <= SPECIAL_MAX_DAYS:
                _err(
                    errors,
                    "Срок действия",
                    "«По специальному назначению» — больше 60 дней, до 1 года (1094н прил. 1 п. 23)",
                    "validity",
                )
            every = inp.dispense_every_days
            if every is None:
                _err(
                    errors,
                    "Периодичность отпуска",
                    "обязательна для рецепта «По специальному назначению» (1094н прил. 1 п. 23)",
                    "dispense",
                )
            elif not 1 <= every <= validity:
                _err(errors, "Периодичность отпуска", "от 1 дня до срока действия", "dispense")
        else:
            validity = validity or VALIDITY_107
            if validity != VALIDITY_107:
                _err(
                    errors,
                    "Срок действия",
                    "60 дней; до 1 года — только «По специальному назначению» "
                    "(1094н прил. 1 п. 23)",
                    "validity",
                )
            if inp.dispense_every_days is not None:
                _err(
                    errors,
                    "Периодичность отпуска",
                    "только для рецепта «По специальному назначению»",
                    "dispense",
                )
    else:
        if inp.special_purpose or inp.dispense_every_days is not None:
            _err(
                errors,
                "По специальному назначению",
                "только на бланке 107-1/у (1094н прил. 1 п. 23)",
                "special",
            )
        if form == F.F148_04L:
            validity = validity or VALIDITY_148_04[0]
            if validity not in VALIDITY_148_04:
                _err(
                    errors,
                    "Срок действия",
                    "15, 30 или 90 дней (1094н прил. 1 пп. 21–22)",
                    "validity",
                )
        else:
            validity = validity or VALIDITY_148_88
            if validity != VALIDITY_148_88:
                _err(
                    errors,
                    "Срок действия",
                    "рецепт 148-1/у-88 действителен 15 дней (1094н прил. 1 п. 20)",
                    "validity",
                )
    # How many drugs the blank holds (1094н app. 3 p. 15).
    if not items:
        _err(errors, "Препараты", "добавьте препарат", "items")
    elif form == F.F107 and len(items) > MAX_ITEMS_107:
        _err(
            errors,
            "Препараты",
            f"на бланке 107-1/у — не больше {MAX_ITEMS_107} препаратов (1094н прил. 3 п. 15)",
            "items",
        )
    elif form != F.F107 and len(items) > 1:
        _err(
            errors,
            "Препараты",
            f"на бланке {form.number} — один препарат (1094н прил. 3 п. 15)",
            "items",
        )
    if form == F.F107 and len(items) > 1:
        for x in items:
            d = drugs.drug(x.drug_id)
            if d is not None and d.one_per_blank:
                _err(
                    errors,
                    "Препараты",
                    f"«{d.mnn}» выписывают на отдельном бланке: антипсихотические, "
                    "анксиолитические, снотворные, седативные препараты и антидепрессанты — "
                    "по одному на бланк 107-1/у (1094н прил. 3 п. 15)",
                    "items",
                )
    ids = [x.drug_id for x in items]
    if len(set(ids)) != len(ids):
        _err(errors, "Препараты", "один и тот же препарат дважды на одном бланке", "items")
    cap = _course_cap(inp, validity)
    checked = [_check_item(errors, inp, i, x, cap) for i, x in enumerate(items, 1)]
    # Fields of one blank only.
    code = inp.mkb_code.strip()
    if form == F.F148_04L:
        if not re.fullmatch(r"[0-9]{1,3}", inp.benefit_category.strip()):
            _err(
                errors,
                "Код категории граждан",
                "от 1 до 3 цифр (178-ФЗ ст. 6.1)",
                "category",
            )
        if inp.funding_source not in (1, 2, 3):
            _err(
                errors,
                "Источник финансирования",
                "1 — федеральный бюджет, 2 — бюджет субъекта РФ, 3 — муниципальный бюджет",
                "funding",
            )
        if inp.payment_percent not in (1, 2, 3):
            _err(errors, "% оплаты", "1 — бесплатно, 2 — 50 %, 3 — иной", "payment")
    elif inp.benefit_category or inp.funding_source or inp.payment_percent:
        _err(
            errors,
            "Льгота",
            "код категории, источник финансирования и % оплаты — только на бланке 148-1/у-04(л)",
            "category",
        )
    if code or form == F.F148_04L:
        try:
            code = catalog().check_new_diagnosis(code, main=True).code
        except ValidationError as e:
            errors.append(e)
        else:
            if form == F.F148_04L and len(code) > MKB_CELLS_148_04:
                # The blank's «Код нозологической формы» has five cells (letter, two digits,
                # the dot, one digit); a national 5th-character code does not fit on paper.
                _err(
                    errors,
                    "Диагноз по МКБ-10",
                    f"на бланке 148-1/у-04(л) {MKB_CELLS_148_04} клеток: выберите рубрику "
                    f"{code[:MKB_CELLS_148_04]}",
                    "mkb10",
                )
    series = inp.series.strip().upper()
    number = inp.number.strip()
    if form == F.F148_88:
        if not series:
            _err(errors, "Серия бланка", "обязательное поле — как напечатана на бланке", "series")
        elif not _SERIES.fullmatch(series):
            _err(errors, "Серия бланка", "буквы и цифры, до 10 знаков", "series")
        if not number:
            _err(errors, "Номер бланка", "обязательное поле — как напечатан на бланке", "number")
        elif not (_DIGITS.fullmatch(number) and len(number) <= 10):
            _err(errors, "Номер бланка", "цифры, до 10 знаков", "number")
    elif series or number:
        _err(
            errors,
            "Серия бланка",
            "вводится только для бланка 148-1/у-88; у 107-1/у её нет, "
            "серию и номер 148-1/у-04(л) присваивает ARM",
            "series",
        )
    if errors:
        raise ValidationErrors(errors)
    return replace(
        inp,
        items=tuple(x for x in checked if x is not None),
        validity_days=validity,
        mkb_code=code,
        benefit_category=inp.benefit_category.strip(),
        series=series,
        number=number,
    )


# --- the words on the blank -----------------------------------------------------------------
def _times(n: int) -> str:
    return f"{n} {count_word(n, ('раз', 'раза', 'раз'))}"


def signa(item: ItemInput, form: DosageForm) -> str:
    """«Внутрь по 1 таблетке 2 раза в день, после еды, в течение 10 дней.» — built from the
    dose, the frequency and the duration, so the Russian is right on every blank."""
    unit = form.unit
    if item.dose == int(item.dose):
        n = int(item.dose) % 100
        word = unit[3] if n % 10 == 1 and n != 11 else count_word(n, (unit[0], unit[1], unit[2]))
    else:
        word = unit[1]
    route = item.route or form.route
    if item.every_days == 1:
        freq = f"{_times(item.times_per_day)} в день"
    else:
        k = item.every_days
        freq = f"{_times(item.times_per_day)} в {k} {count_word(k, ('день', 'дня', 'дней'))}"
    d = item.duration_days
    days = "дня" if d % 10 == 1 and d % 100 != 11 else "дней"
    note = f", {item.note}" if item.note else ""
    text = f"{route} по {format_number(item.dose)} {word} {freq}{note}, в течение {d} {days}."
    return text[:1].upper() + text[1:]


# --- issuing --------------------------------------------------------------------------------
def _organisation(session: Session) -> Organisation:
    org = session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()
    if org is None:
        raise ValidationError("Медицинская организация", "не заведена в справочнике")
    return org


def issue(
    session: Session,
    actor: Actor,
    patient_id: int,
    inputs: Sequence[PrescriptionInput],
    *,
    encounter_id: int | None = None,
    now: dt.datetime | None = None,
    region_code: str = REGION_CODE,
) -> list[int]:
    """Issue one or several prescriptions in one transaction, each with its EMK document.

    Nothing is stored unless every blank passes.  A 148-1/у-04(л) gets the series
    ``region_code`` and the organisation's next number; a 148-1/у-88 keeps the series and
    number typed from its blank, and a blank already used is refused.

    Raises:
        ValidationErrors: the rules broken (several blanks: «Рецепт 2: …»).
        ConflictError: a 148-1/у-88 blank with this series and number was already used.
        NotFoundError: no such patient.
    """
    now = now or now_utc()
    today = local_day(now)
    if not inputs:
        raise ValidationErrors([ValidationError("Рецепты", "добавьте хотя бы один", key="items")])
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("Пациент не найден")
    errors: list[ValidationError] = []
    checked: list[PrescriptionInput] = []
    for i, inp in enumerate(inputs, 1):
        prefix = f"Рецепт {i}: " if len(inputs) > 1 else ""
        try:
            checked.append(validate(inp))
        except ValidationErrors as e:
            errors += [ValidationError(prefix + x.field, x.rule, key=x.key) for x in e.errors]
        if inp.form == F.F148_04L and not patient.policy_number:
            errors.append(
                ValidationError(
                    prefix + "Полис ОМС",
                    "у пациента нет полиса ОМС — льготный рецепт 148-1/у-04(л) без него не "
                    "выписывают (1094н прил. 3 п. 8); внесите полис в карту пациента",
                    key="policy",
                )
            )
    if not re.fullmatch(r"[0-9]{2}", region_code):
        errors.append(ValidationError("Код региона", "две цифры ОКАТО", key="region"))
    if errors:
        raise ValidationErrors(errors)
    org = _organisation(session)
    staff = session.get(Staff, actor.staff_id) if actor.staff_id else None
    ids: list[int] = []
    for inp in checked:
        series: str | None = None
        number: str | None = None
        if inp.form == F.F148_04L:
            series = region_code
            value = NumberSequence.take(session, f"rx:{inp.form}:{org.id}:{series}")
            number = f"{value:06d}"
        elif inp.form == F.F148_88:
            series, number = inp.series, inp.number
            used = session.scalar(
                select(Prescription.id).where(
                    Prescription.organisation_id == org.id,
                    Prescription.form == inp.form,
                    Prescription.series == series,
                    Prescription.number == number,
                )
            )
            if used is not None:
                session.rollback()
                raise ConflictError(_used_blank(series, number))
        rx = Prescription(
            patient_id=patient_id,
            organisation_id=org.id,
            form=inp.form,
            series=series,
            number=number,
            issued_on=today,
            validity_days=inp.validity_days or VALIDITY_107,
            special_purpose=inp.special_purpose,
            dispense_every_days=inp.dispense_every_days,
            mkb_code=inp.mkb_code,
            benefit_category=inp.benefit_category,
            funding_source=inp.funding_source,
            payment_percent=inp.payment_percent,
            issued_at=now,
            issued_by=actor.staff_id,
            encounter_id=encounter_id,
        )
        for pos, item in enumerate(inp.items):
            d = drugs.drug(item.drug_id)
            assert d is not None
            df = d.form(item.form)
            assert df is not None
            rx.items.append(
                PrescriptionItem(
                    position=pos,
                    drug_id=d.id,
                    mnn=d.mnn,
                    latin=d.latin,
                    dosage_form=df.form.code,
                    strength=item.strength,
                    quantity=item.quantity,
                    dose=item.dose,
                    times_per_day=item.times_per_day,
                    every_days=item.every_days,
                    duration_days=item.duration_days,
                    route=item.route,
                    note=item.note,
                    signa=signa(item, df.form),
                )
            )
        session.add(rx)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise ConflictError(_used_blank(series or "", number or "")) from None
        doc = add_document(
            session,
            patient_id=patient_id,
            kind=DocKind.PRESCRIPTION,
            occurred_at=now,
            title=f"Рецепт {_title(rx)}"[:200],
            summary="; ".join(f"{x.mnn} {x.strength}" for x in rx.items),
            sections=[(f"Rp. {i}", _rp_text(x)) for i, x in enumerate(rx.items, 1)]
            + [("Действителен", _validity_text(rx))],
            specialty=staff.specialty if staff else "",
            author_name=f"{staff.surname} {staff.name} {staff.patronymic}".strip() if staff else "",
            organisation=org.short_name,
            signed_by=actor.staff_id,
            signed_at=now,
            encounter_id=encounter_id,
            diagnoses=[NewDiagnosis(DiagnosisRole.MAIN, rx.mkb_code)] if rx.mkb_code else [],
            details={
                "prescription_form": str(rx.form),
                "series": rx.series or "",
                "number": rx.number or "",
            },
        )
        rx.document_id = doc.id
        audit.record(
            session,
            actor,
            "prescription.issue",
            patient_id=patient_id,
            object_type="prescription",
            object_id=rx.id,
            details=f"{rx.form.number} {_number_text(rx)} "
            + ", ".join(f"{x.drug_id} {x.strength} N{x.quantity}" for x in rx.items),
        )
        ids.append(rx.id)
    session.commit()
    return ids


def _used_blank(series: str, number: str) -> str:
    return (
        f"Бланк 148-1/у-88 серии {series} № {number} уже использован. Проверьте серию и номер "
        "или возьмите другой бланк."
    )


def _number_text(rx: Prescription) -> str:
    return f"серия {rx.series} № {rx.number}" if rx.series else "(без номера)"


def _title(rx: Prescription) -> str:
    what = ", ".join(f"{x.mnn} {x.strength}" for x in rx.items)
    num = f" серия {rx.series} № {rx.number}" if rx.series else ""
    return f"{rx.form.number}{num}: {what}"


def _form_of(x: PrescriptionItem) -> DosageForm | None:
    d = drugs.drug(x.drug_id)
    df = d.form(x.dosage_form) if d else None
    return df.form if df else None


def _rp_text(x: PrescriptionItem) -> str:
    form = _form_of(x)
    latin = form.latin if form else ""
    return f"{latin} {x.latin} {latin_strength(x.strength)} N {x.quantity}\nS. {x.signa}".strip()


def valid_until(rx: Prescription) -> dt.date:
    """The last day the pharmacy may dispense by it: «действителен в течение N дней» counts
    from the day after the day of issue (a term in days starts the next day, ГК РФ ст. 191)."""
    return rx.issued_on + dt.timedelta(days=rx.validity_days)


def _validity_text(rx: Prescription) -> str:
    text = f"{rx.validity_days} дней, до {valid_until(rx):%d.%m.%Y}"
    if rx.special_purpose:
        text += f"; по специальному назначению, отпуск раз в {rx.dispense_every_days} дн."
    return text


# --- reading --------------------------------------------------------------------------------
class ItemRow(NamedTuple):
    mnn: str
    strength: str
    form_name: str
    quantity: int
    signa: str


class PrescriptionRow(NamedTuple):
    """A prescription as the EMK's list shows it."""

    id: int
    patient_id: int
    form: PrescriptionForm
    series: str
    number: str
    issued_on: dt.date
    valid_until: dt.date
    items: tuple[ItemRow, ...]
    mkb_code: str
    doctor: str  # «Петрова А. С.»
    status: PrescriptionStatus
    cancel_reason: str
    document_id: int | None


def _status(rx: Prescription, today: dt.date) -> PrescriptionStatus:
    if rx.cancelled_at is not None:
        return PrescriptionStatus.CANCELLED
    if today > valid_until(rx):
        return PrescriptionStatus.EXPIRED
    return PrescriptionStatus.VALID


def _row(rx: Prescription, doctor: Staff | None, today: dt.date) -> PrescriptionRow:
    items = []
    for x in rx.items:
        form = _form_of(x)
        items.append(
            ItemRow(x.mnn, x.strength, form.name if form else x.dosage_form, x.quantity, x.signa)
        )
    return PrescriptionRow(
        id=rx.id,
        patient_id=rx.patient_id,
        form=rx.form,
        series=rx.series or "",
        number=rx.number or "",
        issued_on=rx.issued_on,
        valid_until=valid_until(rx),
        items=tuple(items),
        mkb_code=rx.mkb_code,
        doctor=doctor.short_name if doctor else "",
        status=_status(rx, today),
        cancel_reason=rx.cancel_reason,
        document_id=rx.document_id,
    )


def patient_prescriptions(
    session: Session, patient_id: int, *, today: dt.date | None = None
) -> list[PrescriptionRow]:
    """The patient's prescriptions, newest first (the items come in one more query)."""
    today = today or local_day(now_utc())
    stmt = (
        select(Prescription, Staff)
        .outerjoin(Staff, Staff.id == Prescription.issued_by)
        .where(Prescription.patient_id == patient_id)
        .order_by(Prescription.issued_at.desc(), Prescription.id.desc())
    )
    return [_row(rx, st, today) for rx, st in session.execute(stmt)]


def get(session: Session, prescription_id: int, *, today: dt.date | None = None) -> PrescriptionRow:
    today = today or local_day(now_utc())
    rx = session.get(Prescription, prescription_id)
    if rx is None:
        raise NotFoundError("Рецепт не найден")
    doctor = session.get(Staff, rx.issued_by) if rx.issued_by else None
    return _row(rx, doctor, today)


# --- cancelling -----------------------------------------------------------------------------
def cancel(
    session: Session,
    actor: Actor,
    prescription_id: int,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Cancel (аннулировать) a prescription with a reason; its blank stays used.

    Raises:
        ValidationError: no reason, or too long.
        ConflictError: already cancelled.
    """
    now = now or now_utc()
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Причина аннулирования", "обязательное поле", key="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(
            "Причина аннулирования", f"не длиннее {MAX_REASON} символов", key="reason"
        )
    rx = session.scalar(
        select(Prescription).where(Prescription.id == prescription_id).with_for_update()
    )
    if rx is None:
        raise NotFoundError("Рецепт не найден")
    if rx.cancelled_at is not None:
        raise ConflictError(f"Рецепт {_title(rx)} уже аннулирован.")
    rx.cancelled_at = now
    rx.cancelled_by = actor.staff_id
    rx.cancel_reason = reason
    audit.record(
        session,
        actor,
        "prescription.cancel",
        patient_id=rx.patient_id,
        object_type="prescription",
        object_id=rx.id,
        details=reason,
    )
    session.commit()


# --- printing -------------------------------------------------------------------------------
def full_months(birth: dt.date, day: dt.date) -> int:
    """Whole months of life on ``day`` (1094н app. 3 p. 7: added for a child under one)."""
    months = (day.year - birth.year) * 12 + day.month - birth.month
    return months - (day.day < birth.day)


@dataclass(frozen=True)
class PrintItem:
    """One Rp. block, in the words and cells the blanks need (1094н app. 3 p. 11)."""

    drug: str  # «Amlodipini (Амлодипин)»: the МНН as Rp. writes it
    mnn: str  # «Амлодипин»
    latin: str  # «Amlodipini»
    form: str  # «таблетки»
    form_latin: str  # «Tab.»
    strength: str  # «5 мг»
    strength_latin: str  # «5 mg»
    quantity: int
    quantity_text: str  # «№ 30 (тридцать)» — the D.t.d. line, the figure also in words
    quantity_units: str  # «30 таблеток», «2 ингалятора»
    rp: str  # «Tab. Amlodipini 5 mg»
    dtd: str  # «D.t.d. N 30»
    signa: str  # «Внутрь по 1 таблетке 2 раза в день, в течение 15 дней.»
    # The 148-1/у-04(л) stub («корешок»): method, duration, intakes a day, one intake.
    route: str
    days: int
    times_per_day: int
    every_days: int
    per_dose: str  # «1 таблетка», «0,5 таблетки», «10 ЕД»
    note: str


@dataclass(frozen=True)
class PrescriptionPrint:
    """Everything a prescription blank needs, read in one transaction."""

    prescription_id: int
    patient_id: int
    document_id: int | None
    form: PrescriptionForm
    form_number: str  # «148-1/у-04(л)»
    # The organisation's stamp (app. 3 p. 1) and codes.  ``organisation_phone`` and ``okpo``
    # are "" until the organisation table stores them (the stamp is completed by hand).
    organisation_name: str
    organisation_address: str
    organisation_phone: str
    ogrn: str
    okpo: str
    series: str  # "" on 107-1/у
    number: str
    issued_on: dt.date
    child: bool  # «детский» (under 18 on the day of issue), else «взрослый»
    patient_name: str  # surname and initials (app. 3 p. 6): «Иванова М. П.»
    birth_date: dt.date
    age_months: int | None  # full months for a child under one (app. 3 p. 7), else None
    address: str
    card_number: str  # № медицинской карты: ARM's patient number
    snils: str  # «112-233-445 95», or "" (148-1/у-04(л): «при наличии», app. 3 p. 8)
    policy_number: str
    doctor_name: str  # surname and initials (app. 3 p. 10)
    doctor_position: str
    items: tuple[PrintItem, ...]
    validity_days: int
    valid_until: dt.date
    special_purpose: bool  # 107-1/у «По специальному назначению»
    dispense_interval: str  # «1 раз в 30 дней», "" unless special_purpose
    mkb_code: str
    benefit_category: str  # 148-1/у-04(л): «Код категории граждан»
    funding_source: int | None  # 1 федеральный, 2 субъекта РФ, 3 муниципальный бюджет
    payment_percent: int | None  # 1 бесплатно, 2 50 %, 3 иной
    cancelled: bool
    copy_no: int  # 1 the original; later ones are printed «Дубликат»


def _print_item(x: PrescriptionItem) -> PrintItem:
    form = _form_of(x)
    unit = form.unit if form else ("", "", "", "")
    units = (unit[0], unit[1], unit[2])
    what = (form.pack if form and form.pack else None) or units
    latin = form.latin if form else ""
    return PrintItem(
        drug=f"{x.latin} ({x.mnn})",
        mnn=x.mnn,
        latin=x.latin,
        form=form.name if form else x.dosage_form,
        form_latin=latin,
        strength=x.strength,
        strength_latin=latin_strength(x.strength),
        quantity=x.quantity,
        quantity_text=f"№ {x.quantity} ({number_words(x.quantity)})",
        quantity_units=f"{x.quantity} {count_word(x.quantity, what)}",
        rp=f"{latin} {x.latin} {latin_strength(x.strength)}".strip(),
        dtd=f"D.t.d. N {x.quantity}",
        signa=x.signa,
        route=x.route or (form.route if form else ""),
        days=x.duration_days,
        times_per_day=x.times_per_day,
        every_days=x.every_days,
        per_dose=f"{format_number(x.dose)} {count_word(x.dose, units)}",
        note=x.note,
    )


def print_data(session: Session, prescription_id: int) -> PrescriptionPrint:
    """The blank's fields of a prescription, and which copy the next print is."""
    from services.printouts import next_copy  # the archive is the printouts module's

    rx = session.get(Prescription, prescription_id)
    if rx is None:
        raise NotFoundError("Рецепт не найден")
    p = session.get(Patient, rx.patient_id)
    assert p is not None
    org = session.get(Organisation, rx.organisation_id)
    doctor = session.get(Staff, rx.issued_by) if rx.issued_by else None
    age = age_on(p.birth_date, rx.issued_on)
    return PrescriptionPrint(
        prescription_id=rx.id,
        patient_id=p.id,
        document_id=rx.document_id,
        form=rx.form,
        form_number=rx.form.number,
        organisation_name=org.name if org else "",
        organisation_address=org.address if org else "",
        organisation_phone="",
        ogrn=org.ogrn if org else "",
        okpo="",
        series=rx.series or "",
        number=rx.number or "",
        issued_on=rx.issued_on,
        child=age < ADULT_AGE,
        patient_name=short_name(p.surname, p.name, p.patronymic),
        birth_date=p.birth_date,
        age_months=full_months(p.birth_date, rx.issued_on) if age < 1 else None,
        address=p.address,
        card_number=str(p.id),
        snils=format_snils(p.snils) if p.snils else "",
        policy_number=p.policy_number or "",
        doctor_name=doctor.short_name if doctor else "",
        doctor_position=doctor.position if doctor else "",
        items=tuple(_print_item(x) for x in rx.items),
        validity_days=rx.validity_days,
        valid_until=valid_until(rx),
        special_purpose=rx.special_purpose,
        dispense_interval=f"1 раз в {rx.dispense_every_days} "
        + count_word(rx.dispense_every_days, ("день", "дня", "дней"))
        if rx.special_purpose and rx.dispense_every_days
        else "",
        mkb_code=rx.mkb_code,
        benefit_category=rx.benefit_category,
        funding_source=rx.funding_source,
        payment_percent=rx.payment_percent,
        cancelled=rx.cancelled_at is not None,
        copy_no=next_copy(session, "prescription", rx.id),
    )
