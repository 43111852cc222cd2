"""Referrals (направления): issue, book by referral, cancel, and what the lists show.

A referral's status is derived from facts that are each written once (see
:mod:`services.models.referral`): a live appointment pointing at it makes it *booked*, that
visit having started makes it *used*, the date makes it *expired*, ``cancelled_at`` makes it
*cancelled*.  Booking takes the referral's row lock (PostgreSQL) and the database's unique index
on live appointments per referral settles any race that gets past it (SQLite, or a second
server), so a referral is never booked twice.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import secrets
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from services import audit, schedule
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.emk import NewDiagnosis, add_document
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.mkb10 import catalog
from services.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    DiagnosisRole,
    DocKind,
    Organisation,
    Patient,
    Referral,
    ReferralKind,
    ScheduleSlot,
    Staff,
    VisitType,
)
from services.schedule import DayRow, short_name

__all__ = [
    "KIND_TEXT",
    "MAX_JUSTIFICATION",
    "VALIDITY_DAYS",
    "BookingSlot",
    "ReferralInput",
    "ReferralPrint",
    "ReferralRow",
    "ReferralStatus",
    "ServiceItem",
    "book",
    "booking_slots",
    "cancel",
    "get",
    "imaging_worklist",
    "issue",
    "patient_referrals",
    "print_data",
    "service_catalog",
    "specialties",
    "validate",
]

K = ReferralKind
S = AppointmentStatus

KIND_TEXT: dict[ReferralKind, str] = {
    K.CONSULTATION: "Консультация специалиста",
    K.LAB: "Лабораторное исследование",
    K.INSTRUMENTAL: "Инструментальное исследование",
    K.IMAGING: "Лучевая диагностика",
    K.PROCEDURE: "Процедура",
    K.HOSPITALISATION: "Госпитализация",
}

#: Days a referral stays valid: (default, longest the doctor may set).  No federal order fixes
#: these for ОМС referrals inside a region; they are the common regional practice (30 days for
#: a consultation or a study, 14 for a lab test, whose result is wanted soon), and a polyclinic
#: may change them here.
VALIDITY_DAYS: dict[ReferralKind, tuple[int, int]] = {
    K.CONSULTATION: (30, 90),
    K.LAB: (14, 30),
    K.INSTRUMENTAL: (30, 60),
    K.IMAGING: (30, 60),
    K.PROCEDURE: (30, 60),
    K.HOSPITALISATION: (30, 90),
}
MAX_JUSTIFICATION = 800  # the 057/у blank's lines for «Обоснование»
MAX_REASON = 300
MAX_ORGANISATION = 300


class ReferralStatus(enum.StrEnum):
    ISSUED = "issued"
    BOOKED = "booked"
    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def text(self) -> str:
        return _STATUS_TEXT[self]


_STATUS_TEXT = {
    ReferralStatus.ISSUED: "выдано",
    ReferralStatus.BOOKED: "записан",
    ReferralStatus.USED: "использовано",
    ReferralStatus.EXPIRED: "истёк срок",
    ReferralStatus.CANCELLED: "аннулировано",
}
_USED = (S.IN_PROGRESS, S.PAUSED, S.FINISHED)


# --- the service catalogue ---------------------------------------------------------------------
class ServiceItem(NamedTuple):
    kind: ReferralKind
    code: str  # Номенклатура медицинских услуг (804н)
    name: str
    performer: str  # the specialty whose schedule takes the booking; "" — done elsewhere
    modality: str  # DICOM modality (imaging)


@functools.cache
def service_catalog() -> tuple[ServiceItem, ...]:
    """The services a referral may name (``resources/referrals/services.toml``)."""
    text = resources.files("resources").joinpath("referrals/services.toml").read_text("utf-8")
    return tuple(
        ServiceItem(
            ReferralKind(x["kind"]),
            x["code"],
            x["name"],
            x.get("performer", ""),
            x.get("modality", ""),
        )
        for x in tomllib.loads(text)["service"]
    )


def _service(code: str) -> ServiceItem | None:
    return next((x for x in service_catalog() if x.code == code), None)


def specialties(session: Session) -> list[str]:
    """Specialties of this polyclinic's active staff that see patients by appointment."""
    stmt = (
        select(Staff.specialty)
        .where(Staff.active.is_(True), Staff.specialty != "")
        .distinct()
        .order_by(Staff.specialty)
    )
    return list(session.scalars(stmt))


# --- input and its rules ------------------------------------------------------------------------
@dataclass(frozen=True)
class ReferralInput:
    """What the doctor fills for one referral (the dialog's fields)."""

    kind: ReferralKind
    mkb_code: str
    justification: str
    target_specialty: str = ""  # consultation: «Кардиология»
    service_code: str = ""  # lab, instrumental, imaging, procedure
    target_organisation: str = ""  # hospitalisation, or a service done elsewhere
    cito: bool = False
    valid_until: dt.date | None = None  # None: the default for the kind
    care_form: int | None = None  # None: 2 (неотложная) when cito, else 3 (плановая)
    care_kind: int | None = None
    care_conditions: int | None = None


def default_valid_until(kind: ReferralKind, issued_on: dt.date) -> dt.date:
    return issued_on + dt.timedelta(days=VALIDITY_DAYS[kind][0])


def validate(inp: ReferralInput, issued_on: dt.date) -> ReferralInput:
    """``inp`` with defaults filled and text tidied, or every broken rule at once.

    Raises:
        ValidationErrors: one :class:`ValidationError` per field, naming the rule.
    """
    errors: list[ValidationError] = []
    justification = " ".join(inp.justification.split())
    organisation = " ".join(inp.target_organisation.split())
    code = inp.mkb_code.strip().upper()
    try:
        code = catalog().check_new_diagnosis(code, main=True).code
    except ValidationError as e:
        errors.append(e)
    if not justification:
        errors.append(
            ValidationError("Обоснование", "обязательное поле (п. 9.8 формы 057/у)", key="reason")
        )
    elif len(justification) > MAX_JUSTIFICATION:
        errors.append(
            ValidationError(
                "Обоснование",
                f"не длиннее {MAX_JUSTIFICATION} символов (сейчас {len(justification)})",
                key="reason",
            )
        )
    if len(organisation) > MAX_ORGANISATION:
        errors.append(
            ValidationError(
                "Куда направлен", f"не длиннее {MAX_ORGANISATION} символов", key="organisation"
            )
        )
    service = _service(inp.service_code) if inp.service_code else None
    if inp.kind == K.CONSULTATION:
        if not inp.target_specialty.strip():
            errors.append(
                ValidationError("Специальность", "выберите, к какому специалисту", key="target")
            )
    elif inp.kind == K.HOSPITALISATION:
        if not organisation:
            errors.append(
                ValidationError(
                    "Куда направлен",
                    "укажите стационар (медицинскую организацию)",
                    key="organisation",
                )
            )
    elif service is None:
        errors.append(ValidationError("Услуга", "выберите услугу из списка", key="target"))
    elif service.kind != inp.kind:
        errors.append(
            ValidationError(
                "Услуга",
                f"«{service.name}» — это не {KIND_TEXT[inp.kind].lower()}",
                key="target",
            )
        )
    longest = VALIDITY_DAYS[inp.kind][1]
    until = inp.valid_until or default_valid_until(inp.kind, issued_on)
    if until < issued_on:
        errors.append(
            ValidationError("Действительно до", "не раньше даты выдачи", key="valid_until")
        )
    elif until > issued_on + dt.timedelta(days=longest):
        last = issued_on + dt.timedelta(days=longest)
        errors.append(
            ValidationError(
                "Действительно до",
                f"не дольше {longest} дней для этого вида направления (до {last:%d.%m.%Y})",
                key="valid_until",
            )
        )
    for label, value, top in (
        ("Форма помощи", inp.care_form, 3),
        ("Вид помощи", inp.care_kind, 4),
        ("Условия оказания", inp.care_conditions, 3),
    ):
        if value is not None and not 1 <= value <= top:
            errors.append(ValidationError(label, f"код от 1 до {top}", key="care"))
    if errors:
        raise ValidationErrors(errors)
    hospital = inp.kind == K.HOSPITALISATION
    return replace(
        inp,
        mkb_code=code,
        justification=justification,
        target_specialty=inp.target_specialty.strip(),
        target_organisation=organisation,
        valid_until=until,
        care_form=inp.care_form or (2 if inp.cito else 3),
        care_kind=inp.care_kind or (2 if hospital else 1),
        care_conditions=inp.care_conditions or (3 if hospital else 1),
    )


def purpose_of(kind: ReferralKind, specialty: str, service_name: str, organisation: str) -> str:
    """What the patient is referred for, as the 057/у line and the lists say it."""
    if kind == K.CONSULTATION:
        return f"консультация: {specialty.lower()}" if specialty else "консультация"
    if kind == K.HOSPITALISATION:
        return f"госпитализация: {organisation}" if organisation else "госпитализация"
    return service_name


# --- issuing ------------------------------------------------------------------------------------
def _number(issued_on: dt.date, referral_id: int) -> str:
    """«2026-0001234»: unique by the row id, readable aloud, and Code128-friendly."""
    return f"{issued_on.year}-{referral_id:07d}"


def issue(
    session: Session,
    actor: Actor,
    patient_id: int,
    inputs: Sequence[ReferralInput],
    *,
    encounter_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """Issue several referrals at once, each with its EMK document, in one transaction.

    Nothing is stored unless every referral passes: the doctor fixes the broken one and
    signs the batch again.

    Raises:
        ValidationErrors: the rules broken, per referral (field names say which one).
        NotFoundError: no such patient.
    """
    now = now or now_utc()
    today = local_day(now)
    if not inputs:
        raise ValidationErrors([ValidationError("Направления", "добавьте хотя бы одно")])
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFoundError("Пациент не найден")
    errors: list[ValidationError] = []
    checked: list[ReferralInput] = []
    if not patient.policy_number:
        errors.append(
            ValidationError(
                "Полис ОМС",
                "у пациента нет полиса ОМС (п. 9.3 формы 057/у) — внесите его в карту пациента",
                key="policy",
            )
        )
    for i, inp in enumerate(inputs, 1):
        try:
            checked.append(validate(inp, today))
        except ValidationErrors as e:
            prefix = f"Направление {i}: " if len(inputs) > 1 else ""
            errors += [ValidationError(prefix + x.field, x.rule, key=x.key) for x in e.errors]
    if errors:
        raise ValidationErrors(errors)
    staff = session.get(Staff, actor.staff_id) if actor.staff_id else None
    author = f"{staff.surname} {staff.name} {staff.patronymic}".strip() if staff else ""
    org = session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()
    ids: list[int] = []
    for inp in checked:
        service = _service(inp.service_code) if inp.service_code else None
        assert inp.valid_until is not None
        ref = Referral(
            number=f"~{secrets.token_hex(8)}",  # the id decides; unique until then
            patient_id=patient_id,
            kind=inp.kind,
            target_specialty=inp.target_specialty or (service.performer if service else ""),
            service_code=service.code if service else "",
            service_name=service.name if service else "",
            target_organisation=inp.target_organisation,
            modality=service.modality if service else "",
            mkb_code=inp.mkb_code,
            cito=inp.cito,
            justification=inp.justification,
            care_form=inp.care_form or 3,
            care_kind=inp.care_kind or 1,
            care_conditions=inp.care_conditions or 1,
            issued_on=today,
            valid_until=inp.valid_until,
            issued_at=now,
            issued_by=actor.staff_id,
            encounter_id=encounter_id,
        )
        session.add(ref)
        session.flush()
        ref.number = _number(today, ref.id)
        purpose = purpose_of(
            ref.kind, ref.target_specialty, ref.service_name, ref.target_organisation
        )
        where = ref.target_organisation or (
            f"{org.short_name}, {ref.target_specialty.lower()}"
            if org and ref.target_specialty
            else ""
        )
        doc = add_document(
            session,
            patient_id=patient_id,
            kind=DocKind.REFERRAL,
            occurred_at=now,
            title=f"Направление № {ref.number}: {purpose}"[:200],
            summary=("CITO. " if ref.cito else "") + ref.justification,
            sections=[
                ("Вид", KIND_TEXT[ref.kind]),
                ("Куда", where),
                ("Обоснование", ref.justification),
                ("Действительно до", f"{ref.valid_until:%d.%m.%Y}"),
            ],
            specialty=staff.specialty if staff else "",
            author_name=author,
            organisation=org.short_name if org else "",
            signed_by=actor.staff_id,
            signed_at=now,
            encounter_id=encounter_id,
            diagnoses=[NewDiagnosis(DiagnosisRole.MAIN, ref.mkb_code)],
            details={"referral_number": ref.number, "referral_kind": str(ref.kind)},
        )
        ref.document_id = doc.id
        audit.record(
            session,
            actor,
            "referral.issue",
            patient_id=patient_id,
            object_type="referral",
            object_id=ref.id,
            details=f"{ref.number} {ref.kind} {ref.service_code or ref.target_specialty}",
        )
        ids.append(ref.id)
    session.commit()
    return ids


# --- reading ------------------------------------------------------------------------------------
class ReferralRow(NamedTuple):
    """A referral as the EMK list and the booking dialog show it."""

    id: int
    number: str
    patient_id: int
    kind: ReferralKind
    purpose: str
    target_specialty: str
    target_organisation: str
    service_code: str
    modality: str
    mkb_code: str
    cito: bool
    justification: str
    issued_on: dt.date
    valid_until: dt.date
    issued_by: str
    status: ReferralStatus
    appointment_id: int | None
    booked_at: dt.datetime | None  # the booked slot's start
    booked_with: str  # «Павлова И. Е.»
    cancel_reason: str
    document_id: int | None

    @property
    def bookable(self) -> bool:
        return self.status == ReferralStatus.ISSUED and self.kind != K.HOSPITALISATION


def _status(
    cancelled: bool, appt_status: AppointmentStatus | None, valid_until: dt.date, today: dt.date
) -> ReferralStatus:
    if cancelled:
        return ReferralStatus.CANCELLED
    if appt_status in _USED:
        return ReferralStatus.USED
    if appt_status is not None:
        return ReferralStatus.BOOKED
    if today > valid_until:
        return ReferralStatus.EXPIRED
    return ReferralStatus.ISSUED


def _select() -> Any:  # a Select of ten columns; its exact type helps no one
    issuer = aliased(Staff)
    doctor = aliased(Staff)
    live = and_(
        Appointment.referral_id == Referral.id,
        Appointment.status.not_in((S.CANCELLED, S.NO_SHOW)),
    )
    return (
        select(
            Referral,
            issuer.surname,
            issuer.name,
            issuer.patronymic,
            Appointment.id,
            Appointment.status,
            ScheduleSlot.starts_at,
            doctor.surname,
            doctor.name,
            doctor.patronymic,
        )
        .outerjoin(issuer, issuer.id == Referral.issued_by)
        .outerjoin(Appointment, live)
        .outerjoin(ScheduleSlot, ScheduleSlot.id == Appointment.slot_id)
        .outerjoin(doctor, doctor.id == ScheduleSlot.staff_id)
    )


def _row(r: Any, today: dt.date) -> ReferralRow:
    ref: Referral = r[0]
    isn, inm, ipt, appt_id, appt_status, starts, dsn, dnm, dpt = r[1:]
    return ReferralRow(
        ref.id,
        ref.number,
        ref.patient_id,
        ref.kind,
        purpose_of(ref.kind, ref.target_specialty, ref.service_name, ref.target_organisation),
        ref.target_specialty,
        ref.target_organisation,
        ref.service_code,
        ref.modality,
        ref.mkb_code,
        ref.cito,
        ref.justification,
        ref.issued_on,
        ref.valid_until,
        short_name(isn, inm, ipt) if isn else "",
        _status(ref.cancelled_at is not None, appt_status, ref.valid_until, today),
        appt_id,
        starts,
        short_name(dsn, dnm, dpt) if dsn else "",
        ref.cancel_reason,
        ref.document_id,
    )


def patient_referrals(
    session: Session, patient_id: int, *, today: dt.date | None = None
) -> list[ReferralRow]:
    """The patient's referrals, newest first, each with its status and booking (one query)."""
    today = today or local_day(now_utc())
    stmt = (
        _select()
        .where(Referral.patient_id == patient_id)
        .order_by(Referral.issued_at.desc(), Referral.id.desc())
    )
    return [_row(r, today) for r in session.execute(stmt)]


def get(session: Session, referral_id: int, *, today: dt.date | None = None) -> ReferralRow:
    today = today or local_day(now_utc())
    r = session.execute(_select().where(Referral.id == referral_id)).first()
    if r is None:
        raise NotFoundError("Направление не найдено")
    return _row(r, today)


def imaging_worklist(
    session: Session, start: dt.date, end: dt.date, *, today: dt.date | None = None
) -> list[ReferralRow]:
    """Imaging referrals for the radiology worklist: issued in ``[start, end]`` or booked into
    that period, not cancelled; CITO first, then by booked time and issue date."""
    today = today or local_day(now_utc())
    tz = clinic_tz()
    lo = dt.datetime.combine(start, dt.time(), tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz)
    stmt = _select().where(
        Referral.kind == K.IMAGING,
        Referral.cancelled_at.is_(None),
        ((Referral.issued_on >= start) & (Referral.issued_on <= end))
        | ((ScheduleSlot.starts_at >= lo) & (ScheduleSlot.starts_at < hi)),
    )
    rows = [_row(r, today) for r in session.execute(stmt)]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda x: (not x.cito, x.booked_at or far, x.issued_on, x.id))


# --- booking ------------------------------------------------------------------------------------
class BookingSlot(NamedTuple):
    slot_id: int
    staff_id: int
    doctor: str  # «Павлова И. Е.»
    position: str
    starts_at: dt.datetime
    ends_at: dt.datetime


def _performers(session: Session, ref: Referral) -> list[Staff]:
    if not ref.target_specialty:
        return []
    stmt = (
        select(Staff)
        .where(Staff.active.is_(True), Staff.specialty == ref.target_specialty)
        .order_by(Staff.surname, Staff.id)
    )
    return list(session.scalars(stmt))


def _refusal(row: ReferralRow) -> str | None:
    """Why this referral cannot be booked now, in words, or None."""
    if row.status == ReferralStatus.CANCELLED:
        return f"Направление № {row.number} аннулировано: {row.cancel_reason}"
    if row.status == ReferralStatus.USED:
        return f"Направление № {row.number} уже использовано."
    if row.status == ReferralStatus.BOOKED:
        assert row.booked_at is not None
        when = row.booked_at.astimezone(clinic_tz())
        return (
            f"По направлению № {row.number} пациент уже записан: {when:%d.%m.%Y %H:%M}, "
            f"врач {row.booked_with}. Запись по одному направлению — одна."
        )
    if row.status == ReferralStatus.EXPIRED:
        return f"Срок действия направления № {row.number} истёк {row.valid_until:%d.%m.%Y}."
    if row.kind == K.HOSPITALISATION:
        return "Направление на госпитализацию не записывают в расписание поликлиники."
    return None


def booking_slots(
    session: Session, referral_id: int, *, now: dt.datetime | None = None, limit: int = 300
) -> list[BookingSlot]:
    """Free slots of the referral's target specialty from now until the referral expires.

    Raises:
        ConflictError: the referral cannot be booked (why, in words).
        ValidationError: no one in this polyclinic takes such bookings.
    """
    now = now or now_utc()
    row = get(session, referral_id, today=local_day(now))
    why = _refusal(row)
    if why:
        raise ConflictError(why)
    ref = session.get(Referral, referral_id)
    assert ref is not None
    staff = _performers(session, ref)
    if not staff:
        raise ValidationError(
            "Куда",
            f"в поликлинике нет расписания «{ref.target_specialty or row.purpose}» — "
            "распечатайте направление для другой организации",
        )
    end = dt.datetime.combine(ref.valid_until + dt.timedelta(days=1), dt.time(), clinic_tz())
    out: list[BookingSlot] = []
    for st in staff:
        rows: list[DayRow] = schedule.free_slots(session, st.id, now, end, limit=limit)
        out += [
            BookingSlot(r.slot_id, st.id, st.short_name, st.position, r.starts_at, r.ends_at)
            for r in rows
            if r.starts_at >= now
        ]
    out.sort(key=lambda b: (b.starts_at, b.doctor))
    return out[:limit]


def book(
    session: Session,
    actor: Actor,
    referral_id: int,
    slot_id: int,
    source: BookingSource,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Book the referral's patient into ``slot_id`` «по направлению»; returns the appointment.

    Raises:
        ConflictError: the referral is booked, used, expired or cancelled (also when another
            workstation booked it a moment ago), or the slot was taken.
        ValidationError: the slot is not the referral's specialty, or after its expiry.
    """
    now = now or now_utc()
    locked = session.scalar(select(Referral).where(Referral.id == referral_id).with_for_update())
    if locked is None:
        raise NotFoundError("Направление не найдено")
    row = get(session, referral_id, today=local_day(now))
    why = _refusal(row)
    if why:
        session.rollback()
        raise ConflictError(why)
    slot = session.get(ScheduleSlot, slot_id)
    if slot is None:
        raise NotFoundError("Этого времени в расписании больше нет. Обновите расписание.")
    staff = session.get(Staff, slot.staff_id)
    if staff is None or staff.specialty != locked.target_specialty:
        raise ValidationError(
            "Врач",
            f"направление — «{locked.target_specialty}», а это время врача "
            f"«{staff.specialty if staff else '?'}»",
        )
    if local_day(slot.starts_at) > locked.valid_until:
        raise ValidationError(
            "Время",
            f"позже срока действия направления (действительно до {locked.valid_until:%d.%m.%Y})",
        )
    appt_id = schedule.book(
        session,
        actor,
        slot_id,
        locked.patient_id,
        VisitType.REFERRAL,
        source,
        now=now,
        referral_id=referral_id,
    )
    return appt_id


# --- cancelling ---------------------------------------------------------------------------------
def cancel(
    session: Session,
    actor: Actor,
    referral_id: int,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Cancel (аннулировать) a referral with a reason; a booked visit is cancelled with it,
    which frees its slot for someone else.

    Raises:
        ValidationError: no reason, or too long.
        ConflictError: already used or cancelled.
    """
    now = now or now_utc()
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Причина аннулирования", "обязательное поле", key="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(
            "Причина аннулирования", f"не длиннее {MAX_REASON} символов", key="reason"
        )
    ref = session.scalar(select(Referral).where(Referral.id == referral_id).with_for_update())
    if ref is None:
        raise NotFoundError("Направление не найдено")
    row = get(session, referral_id, today=local_day(now))
    if row.status == ReferralStatus.CANCELLED:
        raise ConflictError(f"Направление № {ref.number} уже аннулировано.")
    if row.status == ReferralStatus.USED:
        raise ConflictError(
            f"Направление № {ref.number} уже использовано: приём по нему состоялся."
        )
    if row.appointment_id is not None:
        appt = session.get(Appointment, row.appointment_id)
        assert appt is not None
        appt.status = S.CANCELLED
        appt.cancel_reason = f"Направление № {ref.number} аннулировано: {reason}"[:300]
        audit.record(
            session,
            actor,
            "visit.cancel",
            patient_id=ref.patient_id,
            object_type="appointment",
            object_id=appt.id,
            details=appt.cancel_reason,
        )
    ref.cancelled_at = now
    ref.cancelled_by = actor.staff_id
    ref.cancel_reason = reason
    audit.record(
        session,
        actor,
        "referral.cancel",
        patient_id=ref.patient_id,
        object_type="referral",
        object_id=ref.id,
        details=reason,
    )
    session.commit()


# --- printing -----------------------------------------------------------------------------------
class AddressParts(NamedTuple):
    subject: str
    district: str
    locality: str
    street: str
    house: str
    building: str
    apartment: str


_FEDERAL_CITIES = ("г. Москва", "г. Санкт-Петербург", "г. Севастополь")
_STREET = re.compile(
    r"^(ул\.|улица|пр-т|просп\.|проспект|пер\.|переулок|б-р|бульвар|ш\.|шоссе|наб\.|"
    r"набережная|пл\.|площадь|проезд|аллея|тупик)\s|\s(ул\.|улица|пр-т|проспект|пер\.|"
    r"переулок|б-р|бульвар|шоссе|наб\.|набережная|проезд|аллея)$",
    re.IGNORECASE,
)


def split_address(text: str) -> AddressParts:
    """«г. Москва, ул. Профсоюзная, д. 12, корп. 2, кв. 45» → the 057/у blank's parts.

    Best effort over the registry's free text: what it cannot place goes to the street, so
    nothing the registrar typed is lost on paper.
    """
    subject = district = locality = street = house = building = apartment = ""
    rest: list[str] = []
    for raw in (p.strip() for p in text.split(",")):
        if not raw:
            continue
        low = raw.lower()
        if raw in _FEDERAL_CITIES:
            subject = locality = raw
        elif low.startswith(("д. ", "дом ")):
            house = raw.split(None, 1)[1] if " " in raw else raw
        elif low.startswith(("корп. ", "корпус ", "стр. ", "строение ", "к. ")):
            building = raw.split(None, 1)[1]
        elif low.startswith(("кв. ", "квартира ")):
            apartment = raw.split(None, 1)[1]
        elif low.startswith(("обл.", "область")) or low.endswith(("обл.", "область", "край")):
            subject = raw
        elif low.startswith(("р-н", "район")) or low.endswith(("р-н", "район")):
            district = raw
        elif low.startswith(("г. ", "пос. ", "п. ", "с. ", "д.п. ", "дер. ")) and not locality:
            locality = raw
        elif _STREET.search(raw) and not street:
            street = raw
        else:
            rest.append(raw)
    if rest:
        street = ", ".join([street, *rest]) if street else ", ".join(rest)
    return AddressParts(subject, district, locality, street, house, building, apartment)


@dataclass(frozen=True)
class ReferralPrint:
    """Everything form 057/у needs, read in one transaction (the widget maps it to the form)."""

    referral_id: int
    patient_id: int
    document_id: int | None
    organisation: str  # name and address
    ogrn: str
    number: str
    filled_on: dt.date
    destination: str
    policy_number: str
    patient_name: str
    birth_date: dt.date
    sex: int  # 1 муж, 2 жен
    residence: AddressParts
    locality_type: int | None
    diagnosis: str
    purpose: str
    care_form: int
    care_kind: int
    care_conditions: int
    justification: str
    referrer_position: str
    referrer_name: str
    cito: bool
    copy_no: int  # the copy this print will be: 1 the original, later ones are duplicates


def print_data(session: Session, referral_id: int) -> ReferralPrint:
    """The 057/у fields of a referral, and which copy the next print is."""
    from services.printouts import next_copy  # the archive is the printouts module's

    ref = session.get(Referral, referral_id)
    if ref is None:
        raise NotFoundError("Направление не найдено")
    p = session.get(Patient, ref.patient_id)
    assert p is not None
    org = session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()
    doctor = session.get(Staff, ref.issued_by) if ref.issued_by else None
    entry = catalog().lookup(ref.mkb_code)
    parts = split_address(p.address)
    where = ref.target_organisation or (
        f"{org.name}, {org.address} — {ref.target_specialty.lower()}"
        if org and ref.target_specialty
        else ""
    )
    position = ""
    if doctor is not None:
        position = doctor.position + (f", {doctor.specialty.lower()}" if doctor.specialty else "")
    return ReferralPrint(
        referral_id=ref.id,
        patient_id=p.id,
        document_id=ref.document_id,
        organisation=f"{org.name}, {org.address}" if org else "",
        ogrn=org.ogrn if org else "",
        number=ref.number,
        filled_on=ref.issued_on,
        destination=where,
        policy_number=p.policy_number or "",
        patient_name=f"{p.surname} {p.name} {p.patronymic}".strip(),
        birth_date=p.birth_date,
        sex=1 if p.sex == "M" else 2,
        residence=parts,
        locality_type=1 if parts.locality.startswith("г. ") else None,
        diagnosis=f"{ref.mkb_code} {entry.name}" if entry else ref.mkb_code,
        purpose=purpose_of(
            ref.kind, ref.target_specialty, ref.service_name, ref.target_organisation
        ),
        care_form=ref.care_form,
        care_kind=ref.care_kind,
        care_conditions=ref.care_conditions,
        justification=ref.justification,
        referrer_position=position,
        referrer_name=f"{doctor.surname} {doctor.name} {doctor.patronymic}".strip()
        if doctor
        else "",
        cito=ref.cito,
        copy_no=next_copy(session, "referral", ref.id),
    )
