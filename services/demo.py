"""The demo polyclinic: one organisation, its staff, 5,000 patients with families, a fortnight.

``arm --demo`` fills an empty embedded database with it on first start, so that a new user (or
a reviewer) sees a working day at once: a therapist's queue for today, last week's finished
visits, children with their mothers and fathers as legal representatives.  Everything is drawn
from one ``random.Random(seed)`` and a fixed ``today``, so a seed always gives the same data and
the tests can check properties of it.

Speed matters (the user is waiting on the splash screen): rows go in through SQLAlchemy 2's
ORM bulk ``insert(Model)`` with lists of dicts, in one transaction, and patient, slot and
appointment ids come back via ``RETURNING`` in parameter order instead of one flush per object.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from services.clock import moscow_tz
from services.demo_emk import HistoryPatient, seed_history
from services.demo_people import (
    ADULT_AGE,
    BULK_SNILS_BASE,
    DEMO_POLICY_BASE,
    DEMO_SNILS_LOW,
    STAFF_SNILS_BASE,
    MaleName,
    PeopleGenerator,
    Person,
    years_before,
)
from services.errors import ConflictError, NotFoundError
from services.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    Department,
    DepartmentKind,
    Encounter,
    FamilyRelation,
    Organisation,
    Patient,
    RelationKind,
    Role,
    Room,
    ScheduleSlot,
    Sex,
    Staff,
    StaffRole,
    VisitType,
    Workstation,
)
from services.validation import make_policy, make_snils

__all__ = [
    "DEMO_ORG_NAME",
    "DEMO_OGRN",
    "DEMO_WORKSTATION_CODE",
    "DemoSummary",
    "demo_staff_id",
    "moscow_tz",
    "seed_demo",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEMO_WORKSTATION_CODE: Final = "demo"
DEMO_ORG_NAME: Final = "ГБУЗ «Городская поликлиника № 12 ДЗМ»"
DEMO_OGRN: Final = "1037739518420"  # 13 digits, control digit = first 12 mod 11 mod 10
_ORG_ADDRESS: Final = "117335, г. Москва, ул. Гарибальди, д. 21"

CHILD_SHARE: Final = 0.20
SLOT_MINUTES: Final = 15
_SNILS_STEP: Final = 37  # ids spread out so neighbouring patients do not look sequential
_POLICY_STEP: Final = 53


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed_demo` created, for the CLI's report and for tests."""

    departments: int
    rooms: int
    workstations: int
    staff: int
    patients: int
    children: int
    family_relations: int
    slots: int
    appointments: int
    encounters: int
    documents: int  # EMK documents of the patients' medical history


# --- the organisation ----------------------------------------------------------------------
_DEPARTMENTS: Final = (
    (DepartmentKind.ADULT, "Взрослое отделение"),
    (DepartmentKind.CHILDREN, "Детское отделение (филиал № 1)"),
    (DepartmentKind.DIAGNOSTIC, "Отделение лучевой диагностики"),
)

_THERAPIST_ROOM = "Кабинет врача-терапевта участкового"
_PAEDIATRICIAN_ROOM = "Кабинет врача-педиатра участкового"
_ROOMS: Final = (
    (DepartmentKind.ADULT, "101", "Регистратура"),
    (DepartmentKind.ADULT, "108", "Отдел информационных технологий"),
    (DepartmentKind.ADULT, "201", _THERAPIST_ROOM),
    (DepartmentKind.ADULT, "203", _THERAPIST_ROOM),
    (DepartmentKind.ADULT, "205", _THERAPIST_ROOM),
    (DepartmentKind.ADULT, "207", _THERAPIST_ROOM),
    (DepartmentKind.ADULT, "209", _THERAPIST_ROOM),
    (DepartmentKind.ADULT, "210", "Процедурный кабинет"),
    (DepartmentKind.ADULT, "301", "Кабинет врача-невролога"),
    (DepartmentKind.ADULT, "302", "Кабинет врача-офтальмолога"),
    (DepartmentKind.ADULT, "303", "Кабинет врача-оториноларинголога"),
    (DepartmentKind.ADULT, "304", "Кабинет врача-хирурга"),
    (DepartmentKind.ADULT, "305", "Кабинет врача-кардиолога"),
    (DepartmentKind.CHILDREN, "10", "Регистратура филиала"),
    (DepartmentKind.CHILDREN, "11", _PAEDIATRICIAN_ROOM),
    (DepartmentKind.CHILDREN, "12", _PAEDIATRICIAN_ROOM),
    (DepartmentKind.CHILDREN, "13", _PAEDIATRICIAN_ROOM),
    (DepartmentKind.CHILDREN, "14", "Прививочный кабинет"),
    (DepartmentKind.DIAGNOSTIC, "020", "Рентгеновский кабинет"),
    (DepartmentKind.DIAGNOSTIC, "021", "Флюорографический кабинет"),
)

# How a doctor's day runs: district doctors alternate morning and evening weeks.
_DISTRICT = "district"
_SPECIALIST = "specialist"
_RADIOLOGY = "radiology"
# Whom a doctor sees.
_ADULTS = "adults"
_CHILDREN = "children"
_ANYONE = "anyone"


@dataclass(frozen=True)
class _StaffSpec:
    surname: str
    name: str
    patronymic: str
    position: str
    specialty: str
    role: Role
    department: DepartmentKind
    room: str
    schedule: str | None = None
    sees: str = _ADULTS


_TERAPEVT = "Врач-терапевт участковый"
_PEDIATR = "Врач-педиатр участковый"
_A, _C, _D = DepartmentKind.ADULT, DepartmentKind.CHILDREN, DepartmentKind.DIAGNOSTIC
# The first row becomes staff id 1: the therapist the demo signs in as.
_STAFF: Final = (
    _StaffSpec("Соколова", "Анна", "Сергеевна", _TERAPEVT, "Терапия", Role.DOCTOR, _A, "201", _DISTRICT),
    _StaffSpec("Морозов", "Дмитрий", "Александрович", _TERAPEVT, "Терапия", Role.DOCTOR, _A, "203", _DISTRICT),
    _StaffSpec("Кузнецова", "Елена", "Викторовна", _TERAPEVT, "Терапия", Role.DOCTOR, _A, "205", _DISTRICT),
    _StaffSpec("Лебедева", "Ольга", "Николаевна", _TERAPEVT, "Терапия", Role.DOCTOR, _A, "207", _DISTRICT),
    _StaffSpec("Григорьев", "Игорь", "Павлович", _TERAPEVT, "Терапия", Role.DOCTOR, _A, "209", _DISTRICT),
    _StaffSpec("Васильева", "Марина", "Андреевна", _PEDIATR, "Педиатрия", Role.DOCTOR, _C, "11", _DISTRICT, _CHILDREN),
    _StaffSpec("Никитина", "Татьяна", "Ильинична", _PEDIATR, "Педиатрия", Role.DOCTOR, _C, "12", _DISTRICT, _CHILDREN),
    _StaffSpec("Фёдоров", "Алексей", "Игоревич", _PEDIATR, "Педиатрия", Role.DOCTOR, _C, "13", _DISTRICT, _CHILDREN),
    _StaffSpec("Белых", "Светлана", "Юрьевна", "Врач-невролог", "Неврология", Role.DOCTOR, _A, "301", _SPECIALIST),
    _StaffSpec("Орлов", "Михаил", "Львович", "Врач-офтальмолог", "Офтальмология", Role.DOCTOR, _A, "302", _SPECIALIST),
    _StaffSpec("Ким", "Виктория", "Олеговна", "Врач-оториноларинголог", "Оториноларингология", Role.DOCTOR, _A, "303", _SPECIALIST),
    _StaffSpec("Волков", "Сергей", "Никитич", "Врач-хирург", "Хирургия", Role.DOCTOR, _A, "304", _SPECIALIST),
    _StaffSpec("Павлова", "Ирина", "Евгеньевна", "Врач-кардиолог", "Кардиология", Role.DOCTOR, _A, "305", _SPECIALIST),
    _StaffSpec("Достоевский", "Андрей", "Валерьевич", "Врач-рентгенолог", "Рентгенология", Role.RADIOLOGIST, _D, "020", _SPECIALIST, _ANYONE),
    _StaffSpec("Смирнова", "Наталья", "Петровна", "Медицинский регистратор", "", Role.REGISTRAR, _A, "101"),
    _StaffSpec("Титов", "Константин", "Яковлевич", "Системный администратор", "", Role.ADMIN, _A, "108"),
)  # fmt: skip

_CANCEL_REASONS: Final = (
    "Пациент отменил запись на портале",
    "Перенос по просьбе пациента",
    "Пациент госпитализирован",
    "Запись создана ошибочно",
    "Пациент записан повторно к другому врачу",
)
_CERT_SERIES: Final = ("IV", "V", "VI", "VII", "VIII", "IX", "X", "XI")


# --- generated people -----------------------------------------------------------------------
@dataclass
class _Pt:
    """A generated patient before insert: the person, contacts and household."""

    person: Person
    address: str
    phone: str = ""


@dataclass(frozen=True)
class _Rel:
    """A relation between two generated patients (indexes into the people list)."""

    patient: int
    relative: int
    kind: RelationKind
    legal: bool
    basis: str
    valid_from: dt.date


@dataclass
class _Population:
    people: list[_Pt] = field(default_factory=list)
    relations: list[_Rel] = field(default_factory=list)

    def add(self, pt: _Pt) -> int:
        self.people.append(pt)
        return len(self.people) - 1


def _age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _birth_certificate(rng: random.Random) -> str:
    return f"Свидетельство о рождении {rng.choice(_CERT_SERIES)}-МЮ № {rng.randint(100000, 999999)}"


def _maybe_phone(gen: PeopleGenerator, share: float) -> str:
    return gen.phone() if gen.rng.random() < share else ""


def _add_family(pop: _Population, gen: PeopleGenerator, today: dt.date, room: int) -> int:
    """Add one household with children; returns how many children it added.

    Mother 19–44 years older than each child, a father in ~70 % of families, siblings share
    both parents, the surname and the address; ~1 % of families are a guardian (a
    grandmother) instead of parents.  ``room`` caps how many people may still be added.
    """
    rng = gen.rng
    roll = rng.random()
    kids = 1 if roll < 0.5 else 2 if roll < 0.88 else 3
    week_ago = today - dt.timedelta(days=7)
    births = [gen.birth_date(today, rng.randint(0, 17))]
    for _ in range(kids - 1):
        nxt = births[-1] + dt.timedelta(days=rng.randint(400, 2600))
        if nxt > week_ago:
            break
        births.append(nxt)
    guardian = rng.random() < 0.01
    father_present = not guardian and rng.random() < 0.7
    adults = 1 + int(father_present)
    births = births[: max(0, room - adults)]
    if not births:
        return 0

    family = gen.family_name()
    address = gen.address()
    span = (births[-1] - births[0]).days // 365 + 1
    first_at = rng.randint(19, max(19, min(38, 44 - span)))
    mother_birth = years_before(births[0], first_at) - dt.timedelta(days=rng.randint(0, 300))
    bio_father = gen.male_name()

    if guardian:
        # A grandmother appointed by the guardianship authority (орган опеки и попечительства).
        g_birth = years_before(mother_birth, rng.randint(20, 28)) - dt.timedelta(
            days=rng.randint(0, 364)
        )
        g = pop.add(_Pt(gen.person(Sex.FEMALE, g_birth, family=family), address, gen.phone()))
        decided = gen.date_between(min(births[-1] + dt.timedelta(days=30), today), today)
        basis = (
            f"Распоряжение органа опеки и попечительства № {rng.randint(100, 9999)}-р "
            f"от {decided:%d.%m.%Y}"
        )
        for b in births:
            child = _add_child(pop, gen, b, family, bio_father, address, today)
            pop.relations.append(_Rel(child, g, RelationKind.GUARDIAN, True, basis, decided))
        return len(births)

    mother = pop.add(
        _Pt(gen.person(Sex.FEMALE, mother_birth, family=family), address, _maybe_phone(gen, 0.95))
    )
    father: int | None = None
    if father_present:
        f_birth = mother_birth + dt.timedelta(days=rng.randint(-8 * 365, 3 * 365))
        latest = years_before(births[0], 19)
        if f_birth > latest:
            f_birth = latest - dt.timedelta(days=rng.randint(0, 900))
        father = pop.add(
            _Pt(
                gen.person(Sex.MALE, f_birth, family=family, given=bio_father),
                address,
                _maybe_phone(gen, 0.85),
            )
        )
        married = max(
            years_before(births[0], rng.randint(0, 4)) - dt.timedelta(days=rng.randint(0, 200)),
            years_before(max(mother_birth, f_birth), -ADULT_AGE),
        )
        pop.relations.append(_Rel(mother, father, RelationKind.SPOUSE, False, "", married))
    for b in births:
        child = _add_child(pop, gen, b, family, bio_father, address, today)
        cert = _birth_certificate(rng)
        pop.relations.append(_Rel(child, mother, RelationKind.MOTHER, True, cert, b))
        if father is not None:
            pop.relations.append(_Rel(child, father, RelationKind.FATHER, True, cert, b))
    return len(births)


def _add_child(
    pop: _Population,
    gen: PeopleGenerator,
    birth: dt.date,
    family: str,
    father: MaleName,
    address: str,
    today: dt.date,
) -> int:
    sex = gen.sex(female_share=0.49)
    teen = _age_on(birth, today) >= 14
    phone = _maybe_phone(gen, 0.6) if teen else ""
    return pop.add(_Pt(gen.person(sex, birth, family=family, father=father), address, phone))


def _add_adults(pop: _Population, gen: PeopleGenerator, today: dt.date, count: int) -> None:
    """Adults without children in the registry: singles and married couples (~30 %)."""
    rng = gen.rng
    added = 0
    while added < count:
        address = gen.address()
        if count - added >= 2 and rng.random() < 0.3:
            wife_age = gen.adult_age(minimum=20)
            husband_age = min(96, max(20, wife_age + rng.randint(-3, 7)))
            wb, hb = gen.birth_date(today, wife_age), gen.birth_date(today, husband_age)
            family = gen.family_name()
            wife = pop.add(
                _Pt(gen.person(Sex.FEMALE, wb, family=family), address, _adult_phone(gen, wife_age))
            )
            husband = pop.add(
                _Pt(
                    gen.person(Sex.MALE, hb, family=family), address, _adult_phone(gen, husband_age)
                )
            )
            married = gen.date_between(years_before(max(wb, hb), -ADULT_AGE), today)
            pop.relations.append(_Rel(wife, husband, RelationKind.SPOUSE, False, "", married))
            added += 2
            continue
        age = gen.adult_age()
        sex = gen.sex(female_share=0.58)  # women outnumber men on a polyclinic's list
        pop.add(_Pt(gen.person(sex, gen.birth_date(today, age)), address, _adult_phone(gen, age)))
        added += 1


def _adult_phone(gen: PeopleGenerator, age: int) -> str:
    return _maybe_phone(gen, 0.6 if age >= 80 else 0.92)


def _population(gen: PeopleGenerator, today: dt.date, count: int) -> _Population:
    pop = _Population()
    target_children = round(count * CHILD_SHARE)
    children = 0
    while children < target_children and len(pop.people) < count:
        added = _add_family(pop, gen, today, count - len(pop.people))
        if not added:
            break
        children += added
    _add_adults(pop, gen, today, count - len(pop.people))
    return pop


# --- inserting ------------------------------------------------------------------------------
def _utc(day: dt.date, hour: int, minute: int, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).astimezone(dt.UTC)


def _insert_patients(
    s: Session,
    gen: PeopleGenerator,
    pop: _Population,
    depts: dict[DepartmentKind, int],
    today: dt.date,
    tz: dt.tzinfo,
) -> list[int]:
    """Insert in a shuffled order (families do not sit in consecutive ids); return db ids."""
    rng = gen.rng
    order = list(range(len(pop.people)))
    rng.shuffle(order)
    snils_base = rng.randrange(DEMO_SNILS_LOW, DEMO_SNILS_LOW + 50_000_000)
    policy_base = DEMO_POLICY_BASE + rng.randrange(10**11)
    if snils_base + _SNILS_STEP * len(order) >= BULK_SNILS_BASE:
        raise ValueError(f"too many demo patients for the СНИЛС range: {len(order)}")
    rows: list[dict[str, Any]] = []
    for k, i in enumerate(order):
        pt = pop.people[i]
        p = pt.person
        child = _age_on(p.birth_date, today) < ADULT_AGE
        since = gen.attached_since(p.birth_date, today)
        created = _utc(since, rng.randint(8, 19), rng.randint(0, 59), tz)
        snils_n = snils_base + _SNILS_STEP * k + rng.randrange(_SNILS_STEP)
        policy_n = policy_base + _POLICY_STEP * k + rng.randrange(_POLICY_STEP)
        rows.append(
            {
                "surname": p.surname,
                "name": p.name,
                "patronymic": p.patronymic,
                "sex": p.sex,
                "birth_date": p.birth_date,
                "snils": make_snils(snils_n) if rng.random() >= 0.02 else None,
                "policy_number": make_policy(policy_n) if rng.random() >= 0.01 else None,
                "phone": pt.phone,
                "address": pt.address,
                "attachment_department_id": depts[
                    DepartmentKind.CHILDREN if child else DepartmentKind.ADULT
                ],
                "attached_since": since,
                "search_key": p.search_key,
                "created_at": created,
                "updated_at": created,
                "version_id": 1,
            }
        )
    ids = _insert_returning_ids(s, Patient, rows)
    db_ids = [0] * len(order)
    for k, i in enumerate(order):
        db_ids[i] = ids[k]
    return db_ids


def _insert_returning_ids(
    s: Session, model: type[Any], rows: Sequence[dict[str, Any]]
) -> list[int]:
    """ORM bulk insert that hands back the new ids in the order of ``rows``."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(s.scalars(stmt, rows).all())


def _insert_relations(s: Session, pop: _Population, ids: list[int], created: dt.datetime) -> int:
    rows = [
        {
            "patient_id": ids[r.patient],
            "relative_id": ids[r.relative],
            "kind": r.kind,
            "is_legal_representative": r.legal,
            "basis_document": r.basis,
            "valid_from": r.valid_from,
            "valid_to": None,
            "created_at": created,
            "version_id": 1,
        }
        for r in pop.relations
    ]
    if rows:
        s.execute(insert(FamilyRelation), rows)
    return len(rows)


@dataclass(frozen=True)
class _Doctor:
    staff_id: int
    room_id: int
    workstation_id: int
    spec: _StaffSpec
    index: int


def _working_days(today: dt.date) -> list[dt.date]:
    days = (today + dt.timedelta(days=d) for d in range(-7, 8))
    return [d for d in days if d.weekday() < 5]


def _shift(doctor: _Doctor, day: dt.date) -> tuple[int, int]:
    """Working hours (local): district doctors alternate 08–14 and 14–20 by week."""
    if doctor.spec.schedule == _DISTRICT:
        morning = (day.isocalendar().week + doctor.index) % 2 == 0
        return (8, 14) if morning else (14, 20)
    return (9, 15)


# Visit types by kind of doctor: district doctors mostly see repeat visits, specialists and
# the radiologist mostly work by referral (направление) from a district doctor.
_VISIT_MIX: Final = {
    _DISTRICT: ((VisitType.FIRST, 0.33), (VisitType.REPEAT, 0.83), (VisitType.REFERRAL, 0.9),
                (VisitType.WALK_IN, 1.0)),
    _SPECIALIST: ((VisitType.REFERRAL, 0.65), (VisitType.REPEAT, 0.9), (VisitType.FIRST, 1.0)),
    _RADIOLOGY: ((VisitType.REFERRAL, 0.92), (VisitType.FIRST, 1.0)),
}  # fmt: skip
# Booking channels (cumulative): the ЕМИАС portal first, then infomats, the call centre.
_SOURCE_MIX: Final = (
    (BookingSource.PORTAL, 0.48),
    (BookingSource.INFOMAT, 0.68),
    (BookingSource.CALL_CENTRE, 0.85),
    (BookingSource.REGISTRY, 1.0),
)


def _cumulative_pick(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    r = rng.random()
    for value, upto in table:
        if r < upto:
            return value
    return table[-1][0]


def _visit(rng: random.Random, doctor: _Doctor) -> tuple[VisitType, BookingSource]:
    """A plausible visit type and booking channel for this kind of doctor.

    Walk-ins are put in by the registry; a repeat visit or a referral is often booked by the
    doctor at the end of the previous visit.
    """
    mix = _RADIOLOGY if doctor.spec.role == Role.RADIOLOGIST else doctor.spec.schedule
    vt = _cumulative_pick(rng, _VISIT_MIX[mix or _DISTRICT])
    if vt == VisitType.WALK_IN:
        return vt, BookingSource.REGISTRY
    if vt in (VisitType.REPEAT, VisitType.REFERRAL) and rng.random() < 0.4:
        return vt, BookingSource.DOCTOR
    return vt, _cumulative_pick(rng, _SOURCE_MIX)


def _pick_patient(rng: random.Random, sees: str, pools: dict[str, list[int]]) -> int | None:
    if sees == _ADULTS and pools["elderly"] and rng.random() < 0.5:
        return rng.choice(pools["elderly"])  # therapists' and specialists' lists run old
    pool = pools[sees]
    return rng.choice(pool) if pool else None


def _seed_schedule(
    s: Session,
    rng: random.Random,
    doctors: list[_Doctor],
    pools: dict[str, list[int]],
    today: dt.date,
    tz: dt.tzinfo,
) -> tuple[int, int, int]:
    """Slots for a fortnight around ``today``, bookings on most of them, visits for the past.

    Past days' bookings are mostly finished, some no-shows and cancellations; today's and
    future ones are still booked — today is the demo doctor's queue to work through.
    """
    slot_rows: list[dict[str, Any]] = []
    plans: list[tuple[_Doctor, dt.date]] = []
    for doc in doctors:
        for day in _working_days(today):
            start, end = _shift(doc, day)
            for minute in range(start * 60, end * 60, SLOT_MINUTES):
                begins = _utc(day, minute // 60, minute % 60, tz)
                slot_rows.append(
                    {
                        "staff_id": doc.staff_id,
                        "room_id": doc.room_id,
                        "starts_at": begins,
                        "ends_at": begins + dt.timedelta(minutes=SLOT_MINUTES),
                        "bookable": True,
                    }
                )
                plans.append((doc, day))
    slot_ids = _insert_returning_ids(s, ScheduleSlot, slot_rows)

    morning_today = _utc(today, 7, 30, tz)  # "now" for booking times: before today's first slot
    appt_rows: list[dict[str, Any]] = []
    visits: list[tuple[_Doctor, dt.datetime]] = []
    for slot_id, row, (doc, day) in zip(slot_ids, slot_rows, plans, strict=True):
        ahead = (day - today).days
        if rng.random() >= (0.8 if ahead <= 0 else 0.78 - 0.06 * ahead):
            continue
        patient = _pick_patient(rng, doc.spec.sees, pools)
        if patient is None:
            continue
        vt, source = _visit(rng, doc)
        if vt == VisitType.WALK_IN and ahead >= 0:
            continue  # nobody has walked in yet today: the slot stays free for them
        begins = row["starts_at"]
        if vt == VisitType.WALK_IN:
            booked = begins - dt.timedelta(minutes=rng.randint(5, 40))
        else:
            booked = begins - dt.timedelta(minutes=rng.randint(60, 14 * 24 * 60))
        booked = min(booked, morning_today - dt.timedelta(minutes=rng.randint(1, 600)))
        status, reason = AppointmentStatus.BOOKED, ""
        if ahead < 0:
            r = rng.random()
            if r < 0.85:
                status = AppointmentStatus.FINISHED
            elif r < 0.93:
                status = AppointmentStatus.NO_SHOW
            else:
                status, reason = AppointmentStatus.CANCELLED, rng.choice(_CANCEL_REASONS)
        appt_rows.append(
            {
                "slot_id": slot_id,
                "patient_id": patient,
                "visit_type": vt,
                "source": source,
                "status": status,
                "cancel_reason": reason,
                "created_at": booked,
                "version_id": 1,
            }
        )
        visits.append((doc, begins))
    appt_ids = _insert_returning_ids(s, Appointment, appt_rows)

    enc_rows: list[dict[str, Any]] = []
    for appt_id, appt, (doc, begins) in zip(appt_ids, appt_rows, visits, strict=True):
        if appt["status"] != AppointmentStatus.FINISHED:
            continue
        started = begins + dt.timedelta(minutes=rng.randint(-5, 10))
        enc_rows.append(
            {
                "appointment_id": appt_id,
                "patient_id": appt["patient_id"],
                "staff_id": doc.staff_id,
                "workstation_id": doc.workstation_id,
                "status": AppointmentStatus.FINISHED,
                "started_at": started,
                "finished_at": started + dt.timedelta(minutes=rng.randint(7, 22)),
                "version_id": 1,
            }
        )
    if enc_rows:
        s.execute(insert(Encounter), enc_rows)
    return len(slot_rows), len(appt_rows), len(enc_rows)


def _seed_org(s: Session) -> tuple[dict[DepartmentKind, int], dict[str, int], dict[str, int]]:
    """Organisation, departments, rooms, workstations; returns ids by kind / room number."""
    org = Organisation(
        name=DEMO_ORG_NAME, short_name="ГП № 12", ogrn=DEMO_OGRN, address=_ORG_ADDRESS
    )
    s.add(org)
    s.flush()
    depts = {
        kind: Department(organisation_id=org.id, name=name, kind=kind)
        for kind, name in _DEPARTMENTS
    }
    s.add_all(depts.values())
    s.flush()
    rooms = {
        number: Room(department_id=depts[kind].id, number=number, name=name)
        for kind, number, name in _ROOMS
    }
    s.add_all(rooms.values())
    s.flush()
    stations = {
        number: Workstation(room_id=room.id, code=f"ws-{number}", name=f"АРМ, каб. {number}")
        for number, room in rooms.items()
    }
    stations[DEMO_WORKSTATION_CODE] = Workstation(
        room_id=rooms[_STAFF[0].room].id,
        code=DEMO_WORKSTATION_CODE,
        name="Демонстрационный АРМ",
    )
    s.add_all(stations.values())
    s.flush()
    return (
        {k: d.id for k, d in depts.items()},
        {n: r.id for n, r in rooms.items()},
        {n: w.id for n, w in stations.items()},
    )


def _seed_staff(
    s: Session, depts: dict[DepartmentKind, int], rooms: dict[str, int], stations: dict[str, int]
) -> list[_Doctor]:
    """Staff in ``_STAFF`` order (the first therapist gets the lowest id); returns the doctors."""
    doctors: list[_Doctor] = []
    for i, spec in enumerate(_STAFF):
        member = Staff(
            surname=spec.surname,
            name=spec.name,
            patronymic=spec.patronymic,
            position=spec.position,
            specialty=spec.specialty,
            department_id=depts[spec.department],
            snils=make_snils(STAFF_SNILS_BASE + 1_013 * (i + 1)),
            active=True,
        )
        member.roles.append(StaffRole(role=spec.role))
        s.add(member)
        s.flush()  # one at a time: ids must follow _STAFF's order
        if spec.schedule is not None:
            doctors.append(
                _Doctor(member.id, rooms[spec.room], stations[spec.room], spec, len(doctors))
            )
    return doctors


def seed_demo(
    engine: Engine, *, patients: int = 5000, seed: int = 1, today: dt.date | None = None
) -> DemoSummary:
    """Fill an empty database with the demo polyclinic, in one transaction.

    Args:
        engine: A migrated database without patients.
        patients: How many patients, families included (about a fifth are children).
        seed: The same seed (and ``today``) gives the same data.
        today: The day the fortnight of schedules is centred on; Moscow's today by default.

    Returns:
        Counts of what was created.

    Raises:
        ConflictError: The database already has patients or the demo organisation — the demo
            never mixes with real data.
        ValueError: ``patients`` is negative or too large for the demo number ranges.
    """
    if patients < 0:
        raise ValueError(f"patients must be >= 0, got {patients}")
    t0 = time.monotonic()
    tz = moscow_tz()
    today = today or dt.datetime.now(tz).date()
    rng = random.Random(seed)
    gen = PeopleGenerator(rng)
    with Session(engine) as s, s.begin():
        if s.scalar(select(Patient.id).limit(1)) is not None:
            raise ConflictError(
                "В базе данных уже есть пациенты: демонстрационные данные "
                "создаются только в пустой базе"
            )
        if s.scalar(select(Organisation.id).where(Organisation.ogrn == DEMO_OGRN)) is not None:
            raise ConflictError("Демонстрационная поликлиника в этой базе уже создана")
        depts, rooms, stations = _seed_org(s)
        doctors = _seed_staff(s, depts, rooms, stations)
        pop = _population(gen, today, patients)
        ids = _insert_patients(s, gen, pop, depts, today, tz)
        relations = _insert_relations(s, pop, ids, _utc(today, 7, 0, tz))
        ages = [_age_on(pt.person.birth_date, today) for pt in pop.people]
        pools = {
            _ADULTS: [pid for pid, a in zip(ids, ages, strict=True) if a >= ADULT_AGE],
            _CHILDREN: [pid for pid, a in zip(ids, ages, strict=True) if a < ADULT_AGE],
            _ANYONE: list(ids),
            "elderly": [pid for pid, a in zip(ids, ages, strict=True) if a >= 55],
        }
        slots, appointments, encounters = _seed_schedule(s, rng, doctors, pools, today, tz)
        documents = seed_history(
            s,
            rng=rng,
            today=today,
            tz=tz,
            patients=[
                HistoryPatient(pid, pt.person.birth_date, pt.person.sex)
                for pid, pt in zip(ids, pop.people, strict=True)
            ],
            focus_staff_id=doctors[0].staff_id,
            organisation=DEMO_ORG_NAME,
        )
    summary = DemoSummary(
        departments=len(depts),
        rooms=len(rooms),
        workstations=len(stations),
        staff=len(_STAFF),
        patients=len(ids),
        children=len(pools[_CHILDREN]),
        family_relations=relations,
        slots=slots,
        appointments=appointments,
        encounters=encounters,
        documents=documents,
    )
    log.info("demo polyclinic seeded in %.1f s: %s", time.monotonic() - t0, summary)
    return summary


def demo_staff_id(session: Session) -> int:
    """The staff member the demo signs in as: the first active doctor by id.

    Raises:
        NotFoundError: There is no active doctor (the database was not seeded).
    """
    staff_id = session.scalar(
        select(Staff.id)
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(StaffRole.role == Role.DOCTOR, Staff.active.is_(True))
        .order_by(Staff.id)
        .limit(1)
    )
    if staff_id is None:
        raise NotFoundError("В базе нет ни одного активного врача")
    return staff_id
