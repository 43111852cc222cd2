"""Sick-leave certificates (ЭЛН): open, extend, close, regime violations, duplicates, the number.

The rules are those of Order 1089н of 23.11.2021 as amended by 790н («Условия и порядок
формирования листков нетрудоспособности…») and 255-ФЗ; the data set and the codes are the
Social Fund's exchange model (FileOperationsLnPort.xsd; FORMS.md §2).  What ARM keeps is the
record and its lifecycle; signing with УКЭП and sending to the fund are left to an integration.

Duration (1089н ch. II, as FORMS.md §2 summarises it from [L4][P5]; the paragraph numbers of the
order were not verified here, so the comments name the chapter):

* one release period (TREAT_PERIOD) given by a doctor alone is at most 15 calendar days, by a
  фельдшер or a зубной врач at most 10.  Staff rows have no structured qualification, so it is
  read from the position and specialty text («Фельдшер», «Зубной врач»); a врач-стоматолог is a
  physician and gets the doctor's 15 (the order names «зубной врач», the mid-level
  qualification);
* once the whole case (this certificate and the ones it continues) passes 15 days, every
  period is the medical commission's decision: the VK chair (a staff member) is on it, and
  the commission extends at most 15 days at a time;
* the whole case is at most 10 months, 12 for tuberculosis (reason 11); then the patient goes
  to МСЭ;
* days in the past (a period starting before the visit) are the commission's decision too;
* maternity leave (reason 05) is one period of up to 194 days and none of the above applies.

A period starts the day after the previous one ends: no gap (the patient came late — that is
a regime violation, code 24, and the late days need the commission) and no overlap.  A
certificate for the same patient and employer may not overlap another live one.  Closing is a
return to work the day after the last period, or an outcome code 31–37 with its date; nothing
is added after that, except that code 31 («продолжает болеть») lets a continuation be opened.

The 12-digit number comes from the fund's service (getNewLNNum / getNewLNNumRange); here it
is behind :class:`LnNumberSource`.  The fund's published schema types LN_CODE as a plain
``xs:string`` with no pattern, and no public description of a check digit was found (the
FssInfo exchange code, the SAMSON ЭЛН client), so none is computed or checked: a number is 12
ASCII digits, and the local source hands out a range that starts with zeros so a demo number
reads as one.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import audit
from services.audit import Actor
from services.clock import local_day, now_utc
from services.emk import NewDiagnosis, add_document
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.mkb10 import catalog
from services.models import (
    DiagnosisRole,
    DocKind,
    ElnNumber,
    EmkDocument,
    Employment,
    NumberSequence,
    Organisation,
    Patient,
    SickLeave,
    SickLeaveKind,
    SickLeavePeriod,
    Staff,
)
from services.validation import format_snils

__all__ = [
    "ADDITIONAL_CODES",
    "OUTCOMES",
    "REASONS",
    "RELATIONS",
    "VIOLATIONS",
    "CaredPerson",
    "CaredPrint",
    "CloseInput",
    "LnNumberSource",
    "LocalLnNumberSource",
    "PeriodInput",
    "PeriodPrint",
    "PeriodRow",
    "SickLeaveInput",
    "SickLeavePrint",
    "SickLeaveRow",
    "SickLeaveStatus",
    "cancel",
    "close",
    "duplicate",
    "extend",
    "get",
    "open_sick_leave",
    "patient_sick_leaves",
    "print_data",
    "record_violation",
    "reserve_numbers",
    "solo_limit",
]

K = SickLeaveKind

# --- the fund's codes (FORMS.md §2 [L5]) -----------------------------------------------------
REASONS: dict[str, str] = {
    "01": "заболевание",
    "02": "травма",
    "03": "карантин",
    "04": "несчастный случай на производстве или его последствия",
    "05": "отпуск по беременности и родам",
    "06": "протезирование в стационаре",
    "07": "профессиональное заболевание или его обострение",
    "08": "долечивание в санатории",
    "09": "уход за больным членом семьи",
    "10": "иное состояние (отравление, проведение манипуляций и др.)",
    "11": "заболевание туберкулезом",
    "12": "заболевание ребенка из перечня Минздрава",
    "13": "ребенок-инвалид",
    "14": "поствакцинальное осложнение или злокачественное новообразование у ребенка",
    "15": "ВИЧ-инфицированный ребенок",
}
#: Additional codes (REASON2).  Stored as two digits as the exchange model has them; the paper
#: 347н blank prints them as 017–021 (FORMS.md marks the three-digit form unverified).
ADDITIONAL_CODES: dict[str, str] = {
    "17": "лечение в специализированном санатории",
    "18": "санаторно-курортное лечение в связи с несчастным случаем на производстве в период "
    "ежегодного оплачиваемого отпуска",
    "19": "лечение в клинике научно-исследовательского учреждения курортологии, физиотерапии "
    "и реабилитации",
    "20": "дополнительный отпуск по беременности и родам",
    "21": "заболевание или травма вследствие алкогольного, наркотического, токсического "
    "опьянения или действий, связанных с ним",
}
VIOLATIONS: dict[str, str] = {
    "23": "несоблюдение предписанного режима, самовольный уход из стационара, выезд на лечение "
    "в другой административный район без разрешения лечащего врача",
    "24": "несвоевременная явка на прием к врачу",
    "25": "выход на работу без выписки",
    "26": "отказ от направления в учреждение медико-социальной экспертизы",
    "27": "несвоевременная явка в учреждение медико-социальной экспертизы",
    "28": "другие нарушения",
}
OUTCOMES: dict[str, str] = {
    "31": "продолжает болеть",
    "32": "установлена инвалидность",
    "33": "изменена группа инвалидности",
    "34": "умер",
    "35": "отказ от проведения медико-социальной экспертизы",
    "36": "явился трудоспособным",
    "37": "долечивание",
}
RELATIONS: dict[str, str] = {
    "38": "мать",
    "39": "отец",
    "40": "опекун",
    "41": "попечитель",
    "42": "иной родственник",
}
CARE_REASONS = frozenset({"09", "12", "13", "14", "15"})  # SERV1/SERV2 are filled
CHILD_REASONS = frozenset({"12", "13", "14", "15"})
MATERNITY = "05"
TUBERCULOSIS = "11"
CONTINUES_ILL = "31"

SOLO_DAYS = 15  # a doctor alone, per period
SOLO_DAYS_MID = 10  # a фельдшер or a зубной врач alone
VK_FROM_DAYS = 15  # past this the commission decides every period
VK_PERIOD_DAYS = 15  # the commission extends at most this much at a time
MAX_MONTHS = 10
MAX_MONTHS_TB = 12
MATERNITY_MAX_DAYS = 194  # 140 / 156 / 194 by the case
MAX_EMPLOYER = 255  # LPU_EMPLOYER
MAX_NAME = 180
MAX_REASON = 300
MAX_CARED = 2  # SERV1, SERV2
MAX_RANGE = 1000  # numbers per getNewLNNumRange call ARM asks for
NUMBER_LENGTH = 12
LOCAL_SEQUENCE = "eln:local"

_NUMBER = re.compile(r"[0-9]{12}")


# --- the number -----------------------------------------------------------------------------
class LnNumberSource(Protocol):
    """Where ЭЛН numbers come from.

    In production: the Social Fund's FileOperationsLnService, ``getNewLNNum(ogrn)`` (one
    number) and ``getNewLNNumRange(ogrn, cntLnNumbers)`` (several, kept for later), signed
    with the organisation's key; ARM's integration implements this protocol over it.  The
    demo and the tests use :class:`LocalLnNumberSource`.
    """

    def new_number(self) -> str:
        """One new 12-digit number (getNewLNNum)."""
        ...

    def new_numbers(self, count: int) -> list[str]:
        """``count`` new numbers (getNewLNNumRange)."""
        ...


class LocalLnNumberSource:
    """A database-backed range for the demo and the tests: never hands out a number twice.

    Numbers are taken from :class:`~services.models.NumberSequence` «eln:local» inside the
    caller's transaction (the row lock serialises two workstations) and each is recorded in
    ``eln_number``, whose primary key would refuse a repeat.  The range starts at
    000000000001: leading zeros mark a number as local at a glance.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def new_number(self) -> str:
        return self.new_numbers(1)[0]

    def new_numbers(self, count: int) -> list[str]:
        if not 1 <= count <= MAX_RANGE:
            raise ValidationError("Количество номеров", f"от 1 до {MAX_RANGE}", key="count")
        last = NumberSequence.take(self._session, LOCAL_SEQUENCE, count)
        numbers = [f"{v:0{NUMBER_LENGTH}d}" for v in range(last - count + 1, last + 1)]
        self._session.add_all(ElnNumber(number=n, source="local") for n in numbers)
        self._session.flush()
        return numbers


def reserve_numbers(
    session: Session, actor: Actor, source: LnNumberSource, count: int
) -> list[str]:
    """Obtain ``count`` numbers ahead (getNewLNNumRange) and keep them; returns them."""
    numbers = source.new_numbers(count)
    for n in numbers:
        if session.get(ElnNumber, n) is None:
            session.add(ElnNumber(number=n, source="fss"))
    audit.record(
        session,
        actor,
        "sick_leave.numbers",
        object_type="eln_number",
        details=f"{len(numbers)}: {numbers[0]}…{numbers[-1]}" if numbers else "0",
    )
    session.commit()
    return numbers


def _claim_number(session: Session, source: LnNumberSource) -> str:
    number = source.new_number()
    if not _NUMBER.fullmatch(number):
        raise ConflictError(f"Сервис номеров ЭЛН вернул не 12 цифр: «{number[:20]}»")
    row = session.get(ElnNumber, number)
    if row is None:
        session.add(ElnNumber(number=number, source="fss"))
    elif row.sick_leave_id is not None:
        raise ConflictError(f"Номер ЭЛН {number} уже использован — запросите новый.")
    return number


# --- input ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaredPerson:
    """A family member cared for (SERV1/SERV2): reasons 09 and 12–15."""

    relation: str  # 38–42, what the patient is to them
    name: str  # ФИО
    age_years: int
    age_months: int = 0


@dataclass(frozen=True)
class PeriodInput:
    """One release from work, both days included."""

    starts_on: dt.date
    ends_on: dt.date
    doctor_id: int | None = None  # None: the signed-in doctor
    chair_id: int | None = None  # the VK chair, when the medical commission decided


@dataclass(frozen=True)
class SickLeaveInput:
    """What the doctor fills to open a certificate."""

    reason_code: str  # 01–15
    mkb_code: str
    first_period: PeriodInput
    employer: str = ""
    employment: Employment = Employment.MAIN
    main_job_number: str = ""  # a second job's certificate: the main job's ЭЛН number
    unemployed_registered: bool = False  # BOZ_FLAG: на учёте в службе занятости
    kind: SickLeaveKind = SickLeaveKind.PRIMARY
    previous_number: str = ""  # continuation: the one continued; duplicate: the one replaced
    additional_code: str = ""  # 17–21
    change_code: str = ""  # a later reason (01–15) differing from the first
    cared: Sequence[CaredPerson] = ()
    vk_chair_id: int | None = None  # the commission's decision (a duplicate: required)


@dataclass(frozen=True)
class CloseInput:
    """Either the return to work (default: the day after the last period) or an outcome."""

    return_to_work_on: dt.date | None = None
    outcome_code: str = ""  # 31–37
    outcome_date: dt.date | None = None


# --- status and reading ---------------------------------------------------------------------
class SickLeaveStatus(enum.StrEnum):
    """Derived, like the fund's LN_STATE (010 открыт, 020 продлён, 030 закрыт)."""

    OPEN = "open"
    EXTENDED = "extended"
    CLOSED = "closed"
    REPLACED = "replaced"  # a duplicate was issued in its place
    CANCELLED = "cancelled"

    @property
    def text(self) -> str:
        return _STATUS_TEXT[self]


_STATUS_TEXT = {
    SickLeaveStatus.OPEN: "открыт",
    SickLeaveStatus.EXTENDED: "продлён",
    SickLeaveStatus.CLOSED: "закрыт",
    SickLeaveStatus.REPLACED: "заменён дубликатом",
    SickLeaveStatus.CANCELLED: "аннулирован",
}


class PeriodRow(NamedTuple):
    starts_on: dt.date
    ends_on: dt.date
    days: int
    doctor: str  # «Петрова А. С.»
    doctor_role: str
    chair: str
    chair_role: str


class SickLeaveRow(NamedTuple):
    """A certificate as the EMK's list shows it."""

    id: int
    number: str
    patient_id: int
    kind: SickLeaveKind
    previous_number: str
    next_number: str  # the continuation issued after it, if any
    replaced_by: str  # the duplicate issued in its place, if any
    issued_on: dt.date
    reason_code: str
    reason: str
    mkb_code: str
    employer: str
    employment: Employment
    periods: tuple[PeriodRow, ...]
    days: int
    return_to_work_on: dt.date | None
    outcome_code: str
    outcome_date: dt.date | None
    violation_code: str
    violation_date: dt.date | None
    status: SickLeaveStatus
    cancel_reason: str
    document_id: int | None


def _days(starts: dt.date, ends: dt.date) -> int:
    return (ends - starts).days + 1


def _total(sl: SickLeave) -> int:
    return sum(_days(p.starts_on, p.ends_on) for p in sl.periods)


def _by_number(session: Session, number: str) -> SickLeave | None:
    if not number:
        return None
    return session.scalar(select(SickLeave).where(SickLeave.number == number))


def _follower(session: Session, sl: SickLeave, kind: SickLeaveKind) -> SickLeave | None:
    """The live continuation of ``sl``, or the live duplicate that replaced it."""
    return session.scalar(
        select(SickLeave).where(
            SickLeave.previous_number == sl.number,
            SickLeave.kind == kind,
            SickLeave.cancelled_at.is_(None),
        )
    )


def _status(sl: SickLeave, replaced: bool) -> SickLeaveStatus:
    if sl.cancelled_at is not None:
        return SickLeaveStatus.CANCELLED
    if replaced:
        return SickLeaveStatus.REPLACED
    if sl.closed_at is not None:
        return SickLeaveStatus.CLOSED
    return SickLeaveStatus.EXTENDED if len(sl.periods) > 1 else SickLeaveStatus.OPEN


def _staff_names(session: Session, ids: set[int]) -> dict[int, Staff]:
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Staff).where(Staff.id.in_(ids)))}


def _rows(session: Session, leaves: Sequence[SickLeave]) -> list[SickLeaveRow]:
    numbers = [sl.number for sl in leaves]
    followers: dict[tuple[str, SickLeaveKind], str] = {}
    if numbers:
        stmt = select(SickLeave.previous_number, SickLeave.kind, SickLeave.number).where(
            SickLeave.previous_number.in_(numbers), SickLeave.cancelled_at.is_(None)
        )
        for prev, kind, num in session.execute(stmt):
            followers[(prev, kind)] = num
    staff = _staff_names(
        session,
        {p.doctor_id for sl in leaves for p in sl.periods}
        | {p.chair_id for sl in leaves for p in sl.periods if p.chair_id},
    )
    out = []
    for sl in leaves:
        replaced_by = followers.get((sl.number, K.DUPLICATE), "")
        periods = tuple(
            PeriodRow(
                p.starts_on,
                p.ends_on,
                _days(p.starts_on, p.ends_on),
                staff[p.doctor_id].short_name if p.doctor_id in staff else "",
                p.doctor_role,
                staff[p.chair_id].short_name if p.chair_id in staff else "",
                p.chair_role,
            )
            for p in sl.periods
        )
        out.append(
            SickLeaveRow(
                id=sl.id,
                number=sl.number,
                patient_id=sl.patient_id,
                kind=sl.kind,
                previous_number=sl.previous_number,
                next_number=followers.get((sl.number, K.CONTINUATION), ""),
                replaced_by=replaced_by,
                issued_on=sl.issued_on,
                reason_code=sl.reason_code,
                reason=REASONS.get(sl.reason_code, ""),
                mkb_code=sl.mkb_code,
                employer=sl.employer,
                employment=sl.employment,
                periods=periods,
                days=_total(sl),
                return_to_work_on=sl.return_to_work_on,
                outcome_code=sl.outcome_code,
                outcome_date=sl.outcome_date,
                violation_code=sl.violation_code,
                violation_date=sl.violation_date,
                status=_status(sl, bool(replaced_by)),
                cancel_reason=sl.cancel_reason,
                document_id=sl.document_id,
            )
        )
    return out


def patient_sick_leaves(session: Session, patient_id: int) -> list[SickLeaveRow]:
    """The patient's certificates, newest first, each with its periods and derived status."""
    stmt = (
        select(SickLeave)
        .where(SickLeave.patient_id == patient_id)
        .order_by(SickLeave.issued_at.desc(), SickLeave.id.desc())
    )
    return _rows(session, list(session.scalars(stmt)))


def get(session: Session, sick_leave_id: int) -> SickLeaveRow:
    sl = session.get(SickLeave, sick_leave_id)
    if sl is None:
        raise NotFoundError("Листок нетрудоспособности не найден")
    return _rows(session, [sl])[0]


# --- rules ----------------------------------------------------------------------------------
def solo_limit(staff: Staff) -> int:
    """The longest period this staff member gives alone: 10 days for a фельдшер or a зубной
    врач, 15 for a doctor (1089н ch. II; see the module docstring for how it is read)."""
    text = f"{staff.position} {staff.specialty}".casefold()
    return SOLO_DAYS_MID if "фельдшер" in text or "зубной врач" in text else SOLO_DAYS


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _chain_before(session: Session, sl: SickLeave | None) -> tuple[int, dt.date | None]:
    """Days of the case before ``sl`` (the certificates it continues, here), and the case's
    first day.  A duplicate stands in its original's place in the chain."""
    days = 0
    first: dt.date | None = None
    seen: set[int] = set()
    cur = sl
    while cur is not None and cur.id not in seen and cur.kind != K.PRIMARY:
        seen.add(cur.id)
        prev = _by_number(session, cur.previous_number)
        if prev is None:
            break
        if cur.kind == K.CONTINUATION:
            days += _total(prev)
            if prev.periods:
                first = prev.periods[0].starts_on
        cur = prev
    return days, first


@dataclass
class _Check:
    """Collects the broken rules of one call, so every one is reported at once."""

    errors: list[ValidationError] = field(default_factory=list)

    def add(self, field_: str, rule: str, key: str) -> None:
        self.errors.append(ValidationError(field_, rule, key=key))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationErrors(self.errors)


def _staff(session: Session, staff_id: int | None) -> Staff | None:
    if staff_id is None:
        return None
    st = session.get(Staff, staff_id)
    return st if st is not None and st.active else None


def _check_period(
    session: Session,
    check: _Check,
    actor: Actor,
    sl: SickLeave | None,
    p: PeriodInput,
    *,
    reason_code: str,
    days_before: int,
    case_start: dt.date,
    today: dt.date,
    previous_end: dt.date | None,
) -> tuple[Staff | None, Staff | None]:
    """The rules of one release period; returns its doctor and chair when they exist."""
    doctor = _staff(session, p.doctor_id if p.doctor_id is not None else actor.staff_id)
    if doctor is None:
        check.add("Врач", "укажите врача, выдающего освобождение от работы", "doctor")
    chair = _staff(session, p.chair_id)
    if p.chair_id is not None and chair is None:
        check.add("Председатель ВК", "нет такого действующего сотрудника", "chair")
    if p.ends_on < p.starts_on:
        check.add("Период", "окончание раньше начала", "period")
        return doctor, chair
    if previous_end is not None:
        expected = previous_end + dt.timedelta(days=1)
        if p.starts_on <= previous_end:
            check.add(
                "Период",
                f"пересекается с предыдущим периодом (до {previous_end:%d.%m.%Y}): "
                f"новый начинается {expected:%d.%m.%Y}",
                "period",
            )
        elif p.starts_on != expected:
            check.add(
                "Период",
                f"должен начинаться {expected:%d.%m.%Y} — на следующий день после предыдущего "
                f"периода, без разрыва",
                "period",
            )
    days = _days(p.starts_on, p.ends_on)
    if reason_code == MATERNITY:
        if days > MATERNITY_MAX_DAYS:
            check.add(
                "Период",
                f"отпуск по беременности и родам — не больше {MATERNITY_MAX_DAYS} дней",
                "period",
            )
        return doctor, chair
    if chair is None:
        limit = solo_limit(doctor) if doctor is not None else SOLO_DAYS
        if days > limit:
            who = "врач" if limit == SOLO_DAYS else "фельдшер (зубной врач)"
            check.add(
                "Период",
                f"{who} единолично освобождает не больше чем на {limit} календарных дней "
                f"за раз (1089н), а здесь {days}",
                "period",
            )
        if days_before + days > VK_FROM_DAYS:
            check.add(
                "Председатель ВК",
                f"освобождение сверх {VK_FROM_DAYS} дней — только по решению врачебной "
                f"комиссии (1089н): с этим периодом {days_before + days} дней",
                "chair",
            )
        if p.starts_on < today:
            check.add(
                "Председатель ВК",
                f"освобождение за прошедшие дни (с {p.starts_on:%d.%m.%Y}) — только по решению "
                "врачебной комиссии (1089н)",
                "chair",
            )
    elif days > VK_PERIOD_DAYS:
        check.add(
            "Период",
            f"врачебная комиссия продлевает не больше чем на {VK_PERIOD_DAYS} дней за раз "
            f"(1089н), а здесь {days}",
            "period",
        )
    months = MAX_MONTHS_TB if reason_code == TUBERCULOSIS else MAX_MONTHS
    last = _add_months(case_start, months) - dt.timedelta(days=1)
    if p.ends_on > last:
        check.add(
            "Период",
            f"весь случай — не больше {months} месяцев (до {last:%d.%m.%Y}"
            f"{', туберкулёз' if months == MAX_MONTHS_TB else ''}); "
            "направьте пациента на медико-социальную экспертизу",
            "period",
        )
    return doctor, chair


def _employer_key(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class _Owner:
    patient_id: int
    employer: str


def _check_overlap(
    session: Session, check: _Check, sl: SickLeave | None, p: PeriodInput, owner: _Owner
) -> None:
    """Another live certificate of the patient for the same employer may not cover these days
    (a second job gets its own certificate for the same days: «по совместительству»)."""
    stmt = (
        select(SickLeave, SickLeavePeriod)
        .join(SickLeavePeriod, SickLeavePeriod.sick_leave_id == SickLeave.id)
        .where(
            SickLeave.patient_id == owner.patient_id,
            SickLeave.cancelled_at.is_(None),
            SickLeavePeriod.starts_on <= p.ends_on,
            SickLeavePeriod.ends_on >= p.starts_on,
        )
    )
    if sl is not None:
        stmt = stmt.where(SickLeave.id != sl.id)
    key = _employer_key(owner.employer)
    for other, op in session.execute(stmt):
        if _employer_key(other.employer) != key:
            continue
        if _follower(session, other, K.DUPLICATE) is not None:
            continue  # replaced: its duplicate is the live one
        check.add(
            "Период",
            f"пересекается с ЭЛН № {other.number} ({op.starts_on:%d.%m.%Y}–{op.ends_on:%d.%m.%Y}) "
            "по тому же месту работы",
            "period",
        )
        return


# --- the EMK document -----------------------------------------------------------------------
def _document(session: Session, actor: Actor, sl: SickLeave, now: dt.datetime, action: str) -> None:
    """Write the certificate's current state as a new version of its EMK document."""
    staff = _staff(session, actor.staff_id)
    org = session.get(Organisation, sl.organisation_id)
    previous = session.get(EmkDocument, sl.document_id) if sl.document_id else None
    replaced = _follower(session, sl, K.DUPLICATE) is not None
    status = _status(sl, replaced)
    lines = [
        f"{p.starts_on:%d.%m.%Y}–{p.ends_on:%d.%m.%Y} ({_days(p.starts_on, p.ends_on)} дн.)"
        + (", по решению ВК" if p.chair_id else "")
        for p in sl.periods
    ]
    kind = {K.PRIMARY: "первичный", K.CONTINUATION: "продолжение", K.DUPLICATE: "дубликат"}
    sections = [
        ("Номер", sl.number),
        ("Вид", kind[sl.kind] + (f" (к № {sl.previous_number})" if sl.previous_number else "")),
        ("Причина", f"{sl.reason_code} {REASONS.get(sl.reason_code, '')}"),
        (
            "Место работы",
            "состоит на учёте в службе занятости"
            if sl.unemployed_registered
            else f"{sl.employer}, "
            + ("основное" if sl.employment == Employment.MAIN else "по совместительству"),
        ),
        ("Освобождение от работы", "\n".join(lines)),
        ("Состояние", status.text),
    ]
    if sl.violation_code:
        sections.append(("Нарушение режима", f"{sl.violation_code} с {sl.violation_date:%d.%m.%Y}"))
    if sl.return_to_work_on:
        sections.append(("Приступить к работе", f"{sl.return_to_work_on:%d.%m.%Y}"))
    if sl.outcome_code:
        when = f" {sl.outcome_date:%d.%m.%Y}" if sl.outcome_date else ""
        sections.append(("Иное", f"{sl.outcome_code} {OUTCOMES.get(sl.outcome_code, '')}{when}"))
    span = f"{sl.periods[0].starts_on:%d.%m.%Y}–{sl.periods[-1].ends_on:%d.%m.%Y}"
    doc = add_document(
        session,
        patient_id=sl.patient_id,
        kind=DocKind.SICK_LEAVE,
        occurred_at=now,
        title=f"ЭЛН № {sl.number}: {REASONS.get(sl.reason_code, '')}"[:200],
        summary=f"{status.text}; {span}, {_total(sl)} дн.",
        sections=sections,
        specialty=staff.specialty if staff else "",
        author_name=f"{staff.surname} {staff.name} {staff.patronymic}".strip() if staff else "",
        organisation=org.short_name if org else "",
        signed_by=actor.staff_id,
        signed_at=now,
        encounter_id=sl.encounter_id,
        diagnoses=[NewDiagnosis(DiagnosisRole.MAIN, sl.mkb_code)],
        supersedes=previous,
        amend_reason=action if previous is not None else "",
        details={"eln_number": sl.number, "sick_leave_kind": str(sl.kind)},
    )
    sl.document_id = doc.id


# --- opening --------------------------------------------------------------------------------
def _check_cared(check: _Check, reason: str, cared: Sequence[CaredPerson]) -> None:
    if reason in CARE_REASONS and not cared:
        check.add(
            "Уход",
            "укажите, за кем ухаживает пациент: код родства 38–42, ФИО и возраст",
            "cared",
        )
    if reason not in CARE_REASONS and cared:
        check.add("Уход", "заполняют только для причин 09, 12–15", "cared")
    if len(cared) > MAX_CARED:
        check.add("Уход", f"не больше {MAX_CARED} человек на одном ЭЛН", "cared")
    for i, c in enumerate(cared[:MAX_CARED], 1):
        label = f"Уход {i}"
        if c.relation not in RELATIONS:
            check.add(
                f"{label}: Родство",
                "код 38 мать, 39 отец, 40 опекун, 41 попечитель, 42 иной родственник",
                "cared",
            )
        name = " ".join(c.name.split())
        if not name:
            check.add(f"{label}: ФИО", "обязательное поле", "cared")
        elif len(name) > MAX_NAME:
            check.add(f"{label}: ФИО", f"не длиннее {MAX_NAME} символов", "cared")
        if not 0 <= c.age_years <= 120 or not 0 <= c.age_months <= 11:
            check.add(f"{label}: Возраст", "лет 0–120, месяцев 0–11", "cared")
        elif reason in CHILD_REASONS and c.age_years >= 18:
            check.add(
                f"{label}: Возраст",
                f"причина {reason} — уход за ребёнком до 18 лет",
                "cared",
            )


def open_sick_leave(
    session: Session,
    actor: Actor,
    patient_id: int,
    inp: SickLeaveInput,
    *,
    numbers: LnNumberSource | None = None,
    encounter_id: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Open a certificate with its first period; returns its id.

    The number is asked for only after every rule has passed, so a refused certificate costs
    the fund no number.

    Raises:
        ValidationErrors: every broken rule, naming its field.
        ConflictError: the number source gave a used number.
        NotFoundError: no such patient.
    """
    now = now or now_utc()
    today = local_day(now)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("Пациент не найден")
    check = _Check()
    if not patient.snils:
        check.add(
            "СНИЛС",
            "у пациента нет СНИЛС — без него ЭЛН не сформировать; внесите его в карту пациента",
            "snils",
        )
    reason = inp.reason_code.strip()
    if reason not in REASONS:
        check.add("Причина нетрудоспособности", "код от 01 до 15", "reason")
    additional = inp.additional_code.strip()
    if additional and additional not in ADDITIONAL_CODES:
        check.add("Дополнительный код", "17–21 или пусто", "additional")
    change = inp.change_code.strip()
    if change and (change not in REASONS or change == reason):
        check.add("Код изменения", "код причины 01–15, отличный от первоначального", "change")
    code = inp.mkb_code.strip()
    try:
        code = catalog().check_new_diagnosis(code, main=True).code
    except ValidationError as e:
        check.errors.append(e)
    employer = " ".join(inp.employer.split())
    if not inp.unemployed_registered and not employer:
        check.add(
            "Место работы",
            "укажите работодателя: ЭЛН формируют работающему (255-ФЗ ст. 2); безработному — "
            "отметьте «состоит на учёте в службе занятости»",
            "employer",
        )
    elif len(employer) > MAX_EMPLOYER:
        check.add("Место работы", f"не длиннее {MAX_EMPLOYER} символов", "employer")
    main_job_number = inp.main_job_number.strip()
    if main_job_number and inp.employment != Employment.SECONDARY:
        check.add("ЭЛН по основному месту работы", "только для работы по совместительству", "main")
    elif main_job_number and not _NUMBER.fullmatch(main_job_number):
        check.add("ЭЛН по основному месту работы", "номер из 12 цифр", "main")
    _check_cared(check, reason, inp.cared)
    chair_of_case = _staff(session, inp.vk_chair_id)
    if inp.vk_chair_id is not None and chair_of_case is None:
        check.add("Председатель ВК", "нет такого действующего сотрудника", "chair")
    previous_number = inp.previous_number.strip()
    previous: SickLeave | None = None
    previous_end: dt.date | None = None
    days_before = 0
    case_start = inp.first_period.starts_on
    if inp.kind == K.PRIMARY:
        if previous_number:
            check.add(
                "Предыдущий ЭЛН", "указывают только для продолжения или дубликата", "previous"
            )
    elif not _NUMBER.fullmatch(previous_number):
        check.add("Предыдущий ЭЛН", "номер из 12 цифр", "previous")
    else:
        previous = _by_number(session, previous_number)
        if previous is not None and previous.patient_id != patient_id:
            check.add("Предыдущий ЭЛН", f"№ {previous_number} выдан другому пациенту", "previous")
            previous = None
    if inp.kind == K.CONTINUATION and previous is not None:
        follower = _follower(session, previous, K.CONTINUATION)
        if previous.cancelled_at is not None:
            check.add("Предыдущий ЭЛН", f"№ {previous.number} аннулирован", "previous")
        elif previous.outcome_code != CONTINUES_ILL:
            check.add(
                "Предыдущий ЭЛН",
                f"№ {previous.number} не закрыт с кодом 31 «продолжает болеть» — продолжение "
                "выдают к такому листку",
                "previous",
            )
        elif follower is not None:
            check.add(
                "Предыдущий ЭЛН",
                f"к № {previous.number} уже выдано продолжение № {follower.number}",
                "previous",
            )
        before, first = _chain_before(session, previous)
        days_before = before + _total(previous)
        case_start = first or (previous.periods[0].starts_on if previous.periods else case_start)
        previous_end = previous.periods[-1].ends_on if previous.periods else None
    if inp.kind == K.DUPLICATE:
        if inp.vk_chair_id is None:
            check.add(
                "Председатель ВК",
                "дубликат формируют по решению врачебной комиссии (1089н п. 67)",
                "chair",
            )
        if previous is not None:
            # A certificate held here is duplicated from itself (:func:`duplicate`), which
            # copies every period; this path is for one ARM does not hold (a paper
            # certificate of before 2022 continues electronically, and so does its duplicate).
            check.add(
                "Предыдущий ЭЛН",
                f"№ {previous.number} выдан здесь — дубликат оформляют из самого листка",
                "previous",
            )
    p = inp.first_period
    if inp.kind != K.DUPLICATE and p.starts_on > today + dt.timedelta(days=1):
        check.add(
            "Период",
            "ЭЛН открывают с дня приёма (после окончания рабочего дня — со следующего дня)",
            "period",
        )
    doctor, chair = _check_period(
        session,
        check,
        actor,
        None,
        replace(p, chair_id=p.chair_id or (inp.vk_chair_id if inp.kind == K.DUPLICATE else None)),
        reason_code=reason,
        days_before=days_before,
        case_start=case_start,
        today=today,
        previous_end=previous_end,
    )
    _check_overlap(session, check, None, p, _Owner(patient_id, employer))
    check.raise_if_any()
    org = session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()
    if org is None:
        raise ValidationError("Медицинская организация", "не заведена в справочнике")
    assert doctor is not None
    number = _claim_number(session, numbers or LocalLnNumberSource(session))
    cared = list(inp.cared) + [CaredPerson("", "", -1)] * (MAX_CARED - len(inp.cared))
    sl = SickLeave(
        number=number,
        patient_id=patient_id,
        organisation_id=org.id,
        kind=inp.kind,
        previous_number=previous_number,
        issued_on=today,
        employer=employer,
        employment=inp.employment,
        main_job_number=main_job_number,
        unemployed_registered=inp.unemployed_registered,
        reason_code=reason,
        additional_code=additional,
        change_code=change,
        mkb_code=code,
        carer1_relation=cared[0].relation,
        carer1_age_years=cared[0].age_years if cared[0].relation else None,
        carer1_age_months=cared[0].age_months if cared[0].relation else None,
        carer1_name=" ".join(cared[0].name.split()),
        carer2_relation=cared[1].relation,
        carer2_age_years=cared[1].age_years if cared[1].relation else None,
        carer2_age_months=cared[1].age_months if cared[1].relation else None,
        carer2_name=" ".join(cared[1].name.split()),
        vk_chair_id=inp.vk_chair_id,
        issued_at=now,
        issued_by=actor.staff_id,
        encounter_id=encounter_id,
    )
    sl.periods.append(_period(0, p, doctor, chair, actor))
    session.add(sl)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"Номер ЭЛН {number} уже использован — запросите новый.") from None
    row = session.get(ElnNumber, number)
    assert row is not None
    row.sick_leave_id = sl.id
    action = {K.PRIMARY: "open", K.CONTINUATION: "continue", K.DUPLICATE: "duplicate"}[inp.kind]
    _document(session, actor, sl, now, "Открытие")
    audit.record(
        session,
        actor,
        f"sick_leave.{action}",
        patient_id=patient_id,
        object_type="sick_leave",
        object_id=sl.id,
        details=f"{sl.number} причина {reason}"
        + (f", к № {previous_number}" if previous_number else "")
        + f", {p.starts_on:%d.%m.%Y}–{p.ends_on:%d.%m.%Y}",
    )
    session.commit()
    return sl.id


def _period(
    position: int, p: PeriodInput, doctor: Staff, chair: Staff | None, actor: Actor
) -> SickLeavePeriod:
    return SickLeavePeriod(
        position=position,
        starts_on=p.starts_on,
        ends_on=p.ends_on,
        doctor_id=doctor.id,
        doctor_role=doctor.position[:120],
        chair_id=chair.id if chair else None,
        chair_role="председатель врачебной комиссии" if chair else "",
        created_by=actor.staff_id,
    )


# --- the lifecycle --------------------------------------------------------------------------
def _locked(session: Session, sick_leave_id: int) -> SickLeave:
    sl = session.scalar(select(SickLeave).where(SickLeave.id == sick_leave_id).with_for_update())
    if sl is None:
        raise NotFoundError("Листок нетрудоспособности не найден")
    return sl


def _refuse_unless_open(session: Session, sl: SickLeave, what: str) -> None:
    if sl.cancelled_at is not None:
        raise ConflictError(f"ЭЛН № {sl.number} аннулирован — {what} нельзя.")
    dup = _follower(session, sl, K.DUPLICATE)
    if dup is not None:
        raise ConflictError(
            f"ЭЛН № {sl.number} заменён дубликатом № {dup.number} — {what} дубликат."
        )
    if sl.closed_at is not None:
        raise ConflictError(f"ЭЛН № {sl.number} закрыт — {what} нельзя.")


def extend(
    session: Session,
    actor: Actor,
    sick_leave_id: int,
    period: PeriodInput,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Add the next release period (продление) with its doctor and, past 15 days, its chair.

    Raises:
        ConflictError: the certificate is closed, replaced or cancelled.
        ValidationErrors: a gap or overlap, a period too long, the commission missing, the
            case past 10 (12) months, or another certificate covering these days.
    """
    now = now or now_utc()
    sl = _locked(session, sick_leave_id)
    _refuse_unless_open(session, sl, "продлить")
    check = _Check()
    before, first = _chain_before(session, sl)
    doctor, chair = _check_period(
        session,
        check,
        actor,
        sl,
        period,
        reason_code=sl.reason_code,
        days_before=before + _total(sl),
        case_start=first or sl.periods[0].starts_on,
        today=local_day(now),
        previous_end=sl.periods[-1].ends_on,
    )
    _check_overlap(session, check, sl, period, _Owner(sl.patient_id, sl.employer))
    check.raise_if_any()
    assert doctor is not None
    sl.periods.append(_period(len(sl.periods), period, doctor, chair, actor))
    session.flush()
    _document(session, actor, sl, now, "Продление")
    audit.record(
        session,
        actor,
        "sick_leave.extend",
        patient_id=sl.patient_id,
        object_type="sick_leave",
        object_id=sl.id,
        details=f"{sl.number} {period.starts_on:%d.%m.%Y}–{period.ends_on:%d.%m.%Y}"
        + (" по решению ВК" if chair else ""),
    )
    session.commit()


def close(
    session: Session,
    actor: Actor,
    sick_leave_id: int,
    inp: CloseInput,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Close the certificate: back to work the day after the last period, or an outcome.

    Raises:
        ConflictError: already closed, replaced or cancelled.
        ValidationErrors: a wrong return date, an unknown outcome code, a date outside the
            case, or closing before the last day of release.
    """
    now = now or now_utc()
    today = local_day(now)
    sl = _locked(session, sick_leave_id)
    _refuse_unless_open(session, sl, "закрыть повторно" if sl.closed_at else "закрыть")
    check = _Check()
    last = sl.periods[-1].ends_on
    first = sl.periods[0].starts_on
    back = last + dt.timedelta(days=1)
    code = inp.outcome_code.strip()
    if code:
        if inp.return_to_work_on is not None:
            check.add("Приступить к работе", "или дата выхода на работу, или иной исход", "return")
        if code not in OUTCOMES:
            check.add("Иное", "код от 31 до 37", "outcome")
        if inp.outcome_date is None:
            check.add("Иное: дата", "обязательное поле", "outcome_date")
        elif not first <= inp.outcome_date <= back:
            check.add(
                "Иное: дата",
                f"в пределах случая: {first:%d.%m.%Y}–{back:%d.%m.%Y}",
                "outcome_date",
            )
    else:
        when = inp.return_to_work_on or back
        if when != back:
            check.add(
                "Приступить к работе",
                f"на следующий день после последнего дня освобождения: {back:%d.%m.%Y}",
                "return",
            )
        if today < last:
            check.add(
                "Приступить к работе",
                f"освобождение выдано по {last:%d.%m.%Y}: закрывают на приёме в последний "
                "день освобождения или позже",
                "return",
            )
    check.raise_if_any()
    if code:
        sl.outcome_code = code
        sl.outcome_date = inp.outcome_date
    else:
        sl.return_to_work_on = back
    sl.closed_at = now
    sl.closed_by = actor.staff_id
    session.flush()
    _document(session, actor, sl, now, "Закрытие")
    audit.record(
        session,
        actor,
        "sick_leave.close",
        patient_id=sl.patient_id,
        object_type="sick_leave",
        object_id=sl.id,
        details=f"{sl.number} "
        + (f"исход {code} {inp.outcome_date:%d.%m.%Y}" if code and inp.outcome_date else "")
        + (f"к работе {back:%d.%m.%Y}" if not code else ""),
    )
    session.commit()


def record_violation(
    session: Session,
    actor: Actor,
    sick_leave_id: int,
    code: str,
    on: dt.date,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Mark a regime violation (отметка о нарушении режима, codes 23–28) with its date.

    Raises:
        ConflictError: the certificate is closed, replaced or cancelled.
        ValidationErrors: an unknown code, a date outside the certificate, or a violation
            already marked (the certificate holds one, as the blank has one row for it).
    """
    now = now or now_utc()
    sl = _locked(session, sick_leave_id)
    _refuse_unless_open(session, sl, "отметить нарушение")
    check = _Check()
    code = code.strip()
    if code not in VIOLATIONS:
        check.add("Нарушение режима", "код от 23 до 28", "violation")
    if sl.violation_code:
        check.add(
            "Нарушение режима",
            f"уже отмечено: {sl.violation_code} с {sl.violation_date:%d.%m.%Y}"
            if sl.violation_date
            else "уже отмечено",
            "violation",
        )
    first, last = sl.periods[0].starts_on, sl.periods[-1].ends_on
    latest = max(last + dt.timedelta(days=1), local_day(now))
    if not first <= on <= latest:
        check.add(
            "Дата нарушения",
            f"в пределах листка: {first:%d.%m.%Y}–{latest:%d.%m.%Y}",
            "violation_date",
        )
    check.raise_if_any()
    sl.violation_code = code
    sl.violation_date = on
    session.flush()
    _document(session, actor, sl, now, "Нарушение режима")
    audit.record(
        session,
        actor,
        "sick_leave.violation",
        patient_id=sl.patient_id,
        object_type="sick_leave",
        object_id=sl.id,
        details=f"{sl.number} код {code} с {on:%d.%m.%Y}",
    )
    session.commit()


def duplicate(
    session: Session,
    actor: Actor,
    sick_leave_id: int,
    chair_id: int,
    *,
    numbers: LnNumberSource | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Issue a duplicate in place of a certificate of this organisation (by VK decision,
    1089н p. 67): a new number with the same data and periods; the original becomes
    «заменён дубликатом».  Returns the duplicate's id.

    Raises:
        ConflictError: the original is cancelled or already replaced.
        ValidationErrors: no chair.
    """
    now = now or now_utc()
    orig = _locked(session, sick_leave_id)
    if orig.cancelled_at is not None:
        raise ConflictError(f"ЭЛН № {orig.number} аннулирован — дубликат не выдают.")
    dup = _follower(session, orig, K.DUPLICATE)
    if dup is not None:
        raise ConflictError(f"ЭЛН № {orig.number} уже заменён дубликатом № {dup.number}.")
    chair = _staff(session, chair_id)
    if chair is None:
        raise ValidationErrors(
            [
                ValidationError(
                    "Председатель ВК",
                    "дубликат формируют по решению врачебной комиссии (1089н п. 67)",
                    key="chair",
                )
            ]
        )
    org = session.get(Organisation, orig.organisation_id)
    assert org is not None
    number = _claim_number(session, numbers or LocalLnNumberSource(session))
    copy = SickLeave(
        number=number,
        patient_id=orig.patient_id,
        organisation_id=orig.organisation_id,
        kind=K.DUPLICATE,
        previous_number=orig.number,
        issued_on=local_day(now),
        employer=orig.employer,
        employment=orig.employment,
        main_job_number=orig.main_job_number,
        unemployed_registered=orig.unemployed_registered,
        reason_code=orig.reason_code,
        additional_code=orig.additional_code,
        change_code=orig.change_code,
        mkb_code=orig.mkb_code,
        carer1_relation=orig.carer1_relation,
        carer1_age_years=orig.carer1_age_years,
        carer1_age_months=orig.carer1_age_months,
        carer1_name=orig.carer1_name,
        carer2_relation=orig.carer2_relation,
        carer2_age_years=orig.carer2_age_years,
        carer2_age_months=orig.carer2_age_months,
        carer2_name=orig.carer2_name,
        vk_chair_id=chair.id,
        violation_code=orig.violation_code,
        violation_date=orig.violation_date,
        return_to_work_on=orig.return_to_work_on,
        outcome_code=orig.outcome_code,
        outcome_date=orig.outcome_date,
        closed_at=orig.closed_at,
        closed_by=orig.closed_by,
        issued_at=now,
        issued_by=actor.staff_id,
        encounter_id=orig.encounter_id,
    )
    for p in orig.periods:
        copy.periods.append(
            SickLeavePeriod(
                position=p.position,
                starts_on=p.starts_on,
                ends_on=p.ends_on,
                doctor_id=p.doctor_id,
                doctor_role=p.doctor_role,
                chair_id=p.chair_id,
                chair_role=p.chair_role,
                created_by=actor.staff_id,
            )
        )
    session.add(copy)
    session.flush()
    row = session.get(ElnNumber, number)
    assert row is not None
    row.sick_leave_id = copy.id
    _document(session, actor, copy, now, "Дубликат")
    audit.record(
        session,
        actor,
        "sick_leave.duplicate",
        patient_id=orig.patient_id,
        object_type="sick_leave",
        object_id=copy.id,
        details=f"{copy.number} взамен {orig.number}, председатель ВК {chair.short_name}",
    )
    session.commit()
    return copy.id


def cancel(
    session: Session,
    actor: Actor,
    sick_leave_id: int,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Cancel (аннулировать, the fund's disableLn) a certificate issued in error, with a reason.

    Raises:
        ValidationError: no reason, or too long.
        ConflictError: already cancelled, or continued by a live certificate.
    """
    now = now or now_utc()
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Причина аннулирования", "обязательное поле", key="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(
            "Причина аннулирования", f"не длиннее {MAX_REASON} символов", key="reason"
        )
    sl = _locked(session, sick_leave_id)
    if sl.cancelled_at is not None:
        raise ConflictError(f"ЭЛН № {sl.number} уже аннулирован.")
    nxt = _follower(session, sl, K.CONTINUATION)
    if nxt is not None:
        raise ConflictError(
            f"К ЭЛН № {sl.number} выдано продолжение № {nxt.number}: сначала аннулируйте его."
        )
    sl.cancelled_at = now
    sl.cancelled_by = actor.staff_id
    sl.cancel_reason = reason
    session.flush()
    _document(session, actor, sl, now, "Аннулирование")
    audit.record(
        session,
        actor,
        "sick_leave.cancel",
        patient_id=sl.patient_id,
        object_type="sick_leave",
        object_id=sl.id,
        details=f"{sl.number}: {reason}",
    )
    session.commit()


# --- printing -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaredPrint:
    """A family member cared for (SERV1/SERV2)."""

    name: str
    relation_code: str  # 38–42
    relation: str  # «мать»
    age_years: int
    age_months: int


@dataclass(frozen=True)
class PeriodPrint:
    """A release period (TREAT_PERIOD) with the doctor's and the VK chair's position and ФИО."""

    start: dt.date
    end: dt.date
    days: int
    doctor_position: str  # «Врач-терапевт участковый»
    doctor_name: str  # «Петрова Анна Сергеевна»
    chair_position: str
    chair_name: str


@dataclass(frozen=True)
class SickLeavePrint:
    """What the informational sheet for the patient and the 347н overlay print.

    The names follow the fund's model (in brackets in the comments) and the printing side's
    data class, so the screen maps one onto the other field by field.
    """

    sick_leave_id: int
    patient_id: int
    document_id: int | None
    status: SickLeaveStatus
    status_text: str
    number: str  # 12 digits (LN_CODE)
    issued_on: dt.date  # LN_DATE
    organisation_name: str  # LPU_NAME
    organisation_address: str  # LPU_ADDRESS
    organisation_ogrn: str  # LPU_OGRN
    patient_name: str  # surname, name, patronymic in full
    birth_date: dt.date
    sex: int  # 1 male, 2 female (the 347н blank's «м»/«ж»)
    snils: str  # «112-233-445 95»
    employer: str  # LPU_EMPLOYER
    main_job: bool  # LPU_EMPL_FLAG: True «основное», False «по совместительству»
    main_job_number: str  # a second job's certificate: the main job's number
    unemployed_registered: bool  # BOZ_FLAG
    reason_code: str  # REASON1
    reason: str  # its words
    additional_code: str  # REASON2, two digits
    change_code: str  # REASON3
    mkb_code: str  # DIAGNOS (the patient's sheet leaves it out unless asked)
    periods: tuple[PeriodPrint, ...]
    primary: bool  # PRIMARY_FLAG
    continuation: bool
    duplicate: bool  # DUPLICATE_FLAG
    previous_number: str  # PREV_LN_CODE: the one continued, or the one a duplicate replaces
    next_number: str  # NEXT_LN_CODE: the continuation issued after it
    cared: tuple[CaredPrint, ...]
    violation_code: str  # 23–28
    violation: str
    violation_date: dt.date | None
    return_to_work: dt.date | None  # RETURN_DATE_LPU
    outcome_code: str  # MSE_RESULT 31–37
    outcome: str
    outcome_date: dt.date | None  # OTHER_STATE_DT
    doctor_position: str  # who signs the sheet: the last period's doctor
    doctor_name: str
    copy_no: int  # 1 the original; later ones are printed «Дубликат»


def _full_name(st: Staff | None) -> str:
    return " ".join(p for p in (st.surname, st.name, st.patronymic) if p) if st else ""


def print_data(session: Session, sick_leave_id: int) -> SickLeavePrint:
    """The certificate's fields for the patient's sheet and the 347н overlay."""
    from services.printouts import next_copy  # the archive is the printouts module's

    sl = session.get(SickLeave, sick_leave_id)
    if sl is None:
        raise NotFoundError("Листок нетрудоспособности не найден")
    row = _rows(session, [sl])[0]
    p = session.get(Patient, sl.patient_id)
    assert p is not None
    org = session.get(Organisation, sl.organisation_id)
    staff = _staff_names(
        session,
        {x.doctor_id for x in sl.periods} | {x.chair_id for x in sl.periods if x.chair_id},
    )
    cared = tuple(
        CaredPrint(name, rel, RELATIONS.get(rel, ""), years or 0, months or 0)
        for rel, name, years, months in (
            (sl.carer1_relation, sl.carer1_name, sl.carer1_age_years, sl.carer1_age_months),
            (sl.carer2_relation, sl.carer2_name, sl.carer2_age_years, sl.carer2_age_months),
        )
        if rel
    )
    periods = tuple(
        PeriodPrint(
            x.starts_on,
            x.ends_on,
            _days(x.starts_on, x.ends_on),
            x.doctor_role,
            _full_name(staff.get(x.doctor_id)),
            x.chair_role,
            _full_name(staff.get(x.chair_id)) if x.chair_id else "",
        )
        for x in sl.periods
    )
    return SickLeavePrint(
        sick_leave_id=sl.id,
        patient_id=p.id,
        document_id=sl.document_id,
        status=row.status,
        status_text=row.status.text,
        number=sl.number,
        issued_on=sl.issued_on,
        organisation_name=org.name if org else "",
        organisation_address=org.address if org else "",
        organisation_ogrn=org.ogrn if org else "",
        patient_name=" ".join(x for x in (p.surname, p.name, p.patronymic) if x),
        birth_date=p.birth_date,
        sex=1 if p.sex == "M" else 2,
        snils=format_snils(p.snils) if p.snils else "",
        employer=sl.employer,
        main_job=sl.employment == Employment.MAIN,
        main_job_number=sl.main_job_number,
        unemployed_registered=sl.unemployed_registered,
        reason_code=sl.reason_code,
        reason=REASONS.get(sl.reason_code, ""),
        additional_code=sl.additional_code,
        change_code=sl.change_code,
        mkb_code=sl.mkb_code,
        periods=periods,
        primary=sl.kind == K.PRIMARY,
        continuation=sl.kind == K.CONTINUATION,
        duplicate=sl.kind == K.DUPLICATE,
        previous_number=sl.previous_number,
        next_number=row.next_number,
        cared=cared,
        violation_code=sl.violation_code,
        violation=VIOLATIONS.get(sl.violation_code, ""),
        violation_date=sl.violation_date,
        return_to_work=sl.return_to_work_on,
        outcome_code=sl.outcome_code,
        outcome=OUTCOMES.get(sl.outcome_code, ""),
        outcome_date=sl.outcome_date,
        doctor_position=periods[-1].doctor_position if periods else "",
        doctor_name=periods[-1].doctor_name if periods else "",
        copy_no=next_copy(session, "sick_leave", sl.id),
    )
