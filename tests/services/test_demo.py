"""The demo polyclinic and the bulk loader produce data that the rest of ARM can trust.

Properties, not snapshots: identifiers validate, children have adult legal representatives,
names agree with sex, schedules do not overlap, bookings sit on the right doctor's slots, the
same seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.bulk_seed import bulk_seed_patients
from services.db import create_db_engine, upgrade_schema
from services.demo import DEMO_WORKSTATION_CODE, DemoSummary, demo_staff_id, seed_demo
from services.demo_people import female_surname, load_name_data, years_before
from services.errors import ConflictError
from services.models import (
    Allergy,
    Appointment,
    AppointmentStatus,
    BloodType,
    Department,
    DepartmentKind,
    DispensaryCondition,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    Encounter,
    FamilyRelation,
    LabResult,
    Patient,
    RelationKind,
    Role,
    Room,
    ScheduleSlot,
    Sex,
    Staff,
    StaffRole,
    Workstation,
)
from services.search_keys import make_search_key
from services.validation import normalize_phone, normalize_policy, normalize_snils

TODAY = dt.date(2026, 11, 18)  # a Wednesday: the fortnight has past, today and future days
MSK = zoneinfo.ZoneInfo("Europe/Moscow")
PATIENTS = 500
MALE_SURNAME_ENDINGS = ("ов", "ев", "ёв", "ин", "ын", "ский", "цкий", "ской", "цкой")
FEMALE_SURNAME_ENDINGS = ("ова", "ева", "ёва", "ина", "ына", "ская", "цкая")


def _age(birth: dt.date, on: dt.date = TODAY) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _engine(path: Path) -> Engine:
    engine = create_db_engine(f"sqlite+pysqlite:///{path}")
    upgrade_schema(engine)
    return engine


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    """One 500-patient demo database shared by the read-only tests below."""
    engine = _engine(tmp_path_factory.mktemp("demo") / "t.db")
    summary = seed_demo(engine, patients=PATIENTS, seed=1, today=TODAY)
    yield engine, summary
    engine.dispose()


@pytest.fixture
def session(demo: tuple[Engine, DemoSummary]) -> Iterator[Session]:
    with Session(demo[0]) as s:
        yield s


def _count(s: Session, model: type[Any]) -> int:
    return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("male", "female"),
    [
        ("Иванов", "Иванова"),
        ("Соловьёв", "Соловьёва"),
        ("Ильин", "Ильина"),
        ("Синицын", "Синицына"),
        ("Достоевский", "Достоевская"),
        ("Трубецкой", "Трубецкая"),
        ("Толстой", "Толстая"),
        ("Белых", "Белых"),
        ("Шевчук", "Шевчук"),
        ("Бондаренко", "Бондаренко"),
        ("Ким", "Ким"),
        ("Цой", "Цой"),
    ],
)
def test_female_surname(male: str, female: str) -> None:
    assert female_surname(male) == female


def test_patronymics_in_the_name_data() -> None:
    forms = {m.name: (m.patronymic_male, m.patronymic_female) for m in load_name_data().male_names}
    assert forms["Иван"] == ("Иванович", "Ивановна")
    assert forms["Никита"] == ("Никитич", "Никитична")
    assert forms["Илья"] == ("Ильич", "Ильинична")
    assert forms["Лев"] == ("Львович", "Львовна")
    assert forms["Игорь"] == ("Игоревич", "Игоревна")
    assert forms["Андрей"] == ("Андреевич", "Андреевна")
    assert forms["Алексей"] == ("Алексеевич", "Алексеевна")
    assert forms["Яков"] == ("Яковлевич", "Яковлевна")
    assert all(m.endswith("ич") and f.endswith("на") for m, f in forms.values())
    assert len(forms) >= 60
    assert len(load_name_data().female_names) >= 60
    assert len(load_name_data().surnames) >= 150


def test_counts_match_the_summary(demo: tuple[Engine, DemoSummary], session: Session) -> None:
    _, summary = demo
    s = session
    assert summary.patients == _count(s, Patient) == PATIENTS
    assert summary.staff == _count(s, Staff) >= 15
    assert summary.rooms == _count(s, Room) == 20
    assert summary.workstations == _count(s, Workstation) == 21
    assert summary.family_relations == _count(s, FamilyRelation)
    assert summary.slots == _count(s, ScheduleSlot)
    assert summary.appointments == _count(s, Appointment)
    assert summary.encounters == _count(s, Encounter)
    assert summary.documents == _count(s, EmkDocument) > summary.appointments
    kinds = set(s.scalars(select(Department.kind)))
    assert kinds == {DepartmentKind.ADULT, DepartmentKind.CHILDREN, DepartmentKind.DIAGNOSTIC}
    children = [b for b in s.scalars(select(Patient.birth_date)) if _age(b) < 18]
    assert summary.children == len(children)
    assert 0.17 * PATIENTS <= len(children) <= 0.23 * PATIENTS


def test_demo_signs_in_as_the_first_therapist(session: Session) -> None:
    first = session.get(Staff, 1)
    assert first is not None
    assert first.position.startswith("Врач-терапевт")
    assert [r.role for r in first.roles] == [Role.DOCTOR]
    assert demo_staff_id(session) == 1
    ws = session.scalars(select(Workstation).where(Workstation.code == DEMO_WORKSTATION_CODE))
    assert ws.one().room_id is not None
    roles = list(session.scalars(select(StaffRole.role)))
    assert roles.count(Role.RADIOLOGIST) == roles.count(Role.REGISTRAR) == 1
    assert roles.count(Role.ADMIN) == 1
    for staff in session.scalars(select(Staff)):
        assert staff.snils is not None
        assert normalize_snils(staff.snils) == staff.snils


def test_identifiers_and_phones_validate(session: Session) -> None:
    rows = session.execute(select(Patient.snils, Patient.policy_number, Patient.phone)).all()
    snils = [r.snils for r in rows if r.snils is not None]
    policies = [r.policy_number for r in rows if r.policy_number is not None]
    assert all(normalize_snils(x) == x for x in snils)
    assert all(normalize_policy(x) == x for x in policies)
    assert len(set(snils)) == len(snils) >= 0.95 * len(rows)
    assert len(set(policies)) == len(policies) >= 0.97 * len(rows)
    phones = [r.phone for r in rows if r.phone]
    assert all(normalize_phone(p) == p for p in phones)
    assert len(phones) >= 0.6 * len(rows)


def test_names_agree_with_sex_and_search_key(session: Session) -> None:
    for p in session.scalars(select(Patient)):
        if p.sex == Sex.FEMALE:
            assert p.patronymic.endswith(("на", "кызы")), p.patronymic
            assert not p.surname.endswith(MALE_SURNAME_ENDINGS), p.surname
        else:
            assert p.patronymic.endswith(("ич", "оглы")), p.patronymic
            assert not p.surname.endswith(FEMALE_SURNAME_ENDINGS), p.surname
        assert p.search_key == make_search_key(p.surname, p.name, p.patronymic)
        assert p.created_at.tzinfo is not None
        assert p.address.startswith("г. Москва, ")
        assert p.attached_since is not None
        assert p.birth_date <= p.attached_since <= TODAY


def test_children_are_attached_to_the_childrens_department(session: Session) -> None:
    depts = dict(session.execute(select(Department.id, Department.kind)).all())
    for p in session.scalars(select(Patient)):
        kind = depts[p.attachment_department_id] if p.attachment_department_id else None
        assert kind == (
            DepartmentKind.CHILDREN if _age(p.birth_date) < 18 else DepartmentKind.ADULT
        )


def test_every_child_has_an_adult_legal_representative(session: Session) -> None:
    patients = {p.id: p for p in session.scalars(select(Patient))}
    reps: dict[int, list[FamilyRelation]] = defaultdict(list)
    for rel in session.scalars(select(FamilyRelation)):
        if rel.is_legal_representative:
            reps[rel.patient_id].append(rel)
    children = [p for p in patients.values() if _age(p.birth_date) < 18]
    assert children
    guardians = 0
    for child in children:
        assert reps[child.id], f"{child.search_key} has no legal representative"
        for rel in reps[child.id]:
            rep = patients[rel.relative_id]
            assert _age(rep.birth_date) >= 18
            assert years_before(rep.birth_date, -16) <= child.birth_date
            if rel.kind in (RelationKind.MOTHER, RelationKind.FATHER):
                expected = Sex.FEMALE if rel.kind == RelationKind.MOTHER else Sex.MALE
                assert rep.sex == expected
                assert rel.valid_from == child.birth_date
                assert rel.basis_document.startswith("Свидетельство о рождении ")
                assert rep.address == child.address
                # Same family surname, in the representative's own form.
                male_form = child.surname if child.sex == Sex.MALE else None
                if male_form is not None:
                    want = female_surname(male_form) if rep.sex == Sex.FEMALE else male_form
                    assert rep.surname == want
            else:
                assert rel.kind == RelationKind.GUARDIAN
                assert rel.basis_document.startswith("Распоряжение органа опеки")
                assert child.birth_date <= rel.valid_from <= TODAY
                guardians += 1
    assert guardians <= 0.05 * len(children)
    kinds = {r.kind for rs in reps.values() for r in rs}
    assert {RelationKind.MOTHER, RelationKind.FATHER} <= kinds
    spouses = session.scalars(
        select(FamilyRelation).where(FamilyRelation.kind == RelationKind.SPOUSE)
    ).all()
    assert spouses
    for rel in spouses:
        a, b = patients[rel.patient_id], patients[rel.relative_id]
        assert {a.sex, b.sex} == {Sex.MALE, Sex.FEMALE}
        assert _age(a.birth_date, rel.valid_from) >= 18
        assert _age(b.birth_date, rel.valid_from) >= 18


def test_slots_do_not_overlap_and_follow_working_hours(session: Session) -> None:
    roles = dict(session.execute(select(StaffRole.staff_id, StaffRole.role)).all())
    by_staff: dict[int, list[ScheduleSlot]] = defaultdict(list)
    for slot in session.scalars(select(ScheduleSlot)):
        by_staff[slot.staff_id].append(slot)
    assert set(by_staff) == {
        sid for sid, r in roles.items() if r in (Role.DOCTOR, Role.RADIOLOGIST)
    }
    for slots in by_staff.values():
        slots.sort(key=lambda x: x.starts_at)
        for a, b in zip(slots, slots[1:], strict=False):
            assert a.ends_at <= b.starts_at
        for slot in slots:
            local = slot.starts_at.astimezone(MSK)
            assert slot.ends_at - slot.starts_at == dt.timedelta(minutes=15)
            assert local.weekday() < 5
            assert abs((local.date() - TODAY).days) <= 7
            assert dt.time(8) <= local.time()
            assert slot.ends_at.astimezone(MSK).time() <= dt.time(20)
            assert slot.room_id is not None


def test_appointments_sit_on_the_right_doctors_slots(session: Session) -> None:
    patients = {p.id: p for p in session.scalars(select(Patient))}
    staff = {st.id: st for st in session.scalars(select(Staff))}
    slots = {sl.id: sl for sl in session.scalars(select(ScheduleSlot))}
    encounters = {e.appointment_id: e for e in session.scalars(select(Encounter))}
    statuses: set[AppointmentStatus] = set()
    for appt in session.scalars(select(Appointment)):
        slot = slots[appt.slot_id]
        doctor = staff[slot.staff_id]
        child = _age(patients[appt.patient_id].birth_date) < 18
        if doctor.position.startswith("Врач-педиатр"):
            assert child
        elif doctor.position != "Врач-рентгенолог":
            assert not child
        day = slot.starts_at.astimezone(MSK).date()
        statuses.add(appt.status)
        if day >= TODAY:
            assert appt.status == AppointmentStatus.BOOKED
        else:
            assert appt.status in (
                AppointmentStatus.FINISHED,
                AppointmentStatus.NO_SHOW,
                AppointmentStatus.CANCELLED,
            )
        assert bool(appt.cancel_reason) == (appt.status == AppointmentStatus.CANCELLED)
        assert appt.created_at <= slot.starts_at
        enc = encounters.pop(appt.id, None)
        assert (enc is not None) == (appt.status == AppointmentStatus.FINISHED)
        if enc is not None:
            assert (enc.staff_id, enc.patient_id) == (slot.staff_id, appt.patient_id)
            assert enc.started_at is not None
            assert enc.finished_at is not None
            assert enc.started_at < enc.finished_at
    assert not encounters
    assert statuses == {
        AppointmentStatus.BOOKED,
        AppointmentStatus.FINISHED,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.CANCELLED,
    }
    booked_past = [
        a
        for a in session.scalars(select(Appointment))
        if slots[a.slot_id].starts_at.astimezone(MSK).date() < TODAY
    ]
    past_slots = [sl for sl in slots.values() if sl.starts_at.astimezone(MSK).date() < TODAY]
    assert 0.65 <= len(booked_past) / len(past_slots) <= 0.9


def test_patients_on_the_schedules_have_a_medical_history(session: Session) -> None:
    """Details in test_demo_emk.py; here: the demo's day opens on full records."""
    docs = dict(
        session.execute(
            select(EmkDocument.patient_id, func.count()).group_by(EmkDocument.patient_id)
        ).all()
    )
    births = dict(session.execute(select(Patient.id, Patient.birth_date)).all())
    scheduled = set(session.scalars(select(Appointment.patient_id)))
    assert all(docs.get(pid, 0) >= 10 for pid in scheduled if _age(births[pid]) >= 2)
    assert set(session.scalars(select(EmkDocument.kind).distinct())) == set(DocKind)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, type[Any]] = {
        "patient": Patient,
        "relation": FamilyRelation,
        "slot": ScheduleSlot,
        "appointment": Appointment,
        "encounter": Encounter,
        "document": EmkDocument,
        "diagnosis": DocumentDiagnosis,
        "lab": LabResult,
        "allergy": Allergy,
        "dispensary": DispensaryCondition,
        "blood": BloodType,
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    with Session(engine) as s:
        for key, model in tables.items():
            cols = list(model.__table__.columns)
            key_col = model.__table__.primary_key.columns.values()[0]
            out[key] = [tuple(r) for r in s.execute(select(*cols).order_by(key_col))]
    return out


def test_same_seed_gives_same_data(demo: tuple[Engine, DemoSummary], tmp_path: Path) -> None:
    again = _engine(tmp_path / "again.db")
    other = _engine(tmp_path / "other.db")
    try:
        assert seed_demo(again, patients=PATIENTS, seed=1, today=TODAY) == demo[1]
        seed_demo(other, patients=PATIENTS, seed=2, today=TODAY)
        first = _snapshot(demo[0])
        assert _snapshot(again) == first
        assert first["document"]
        assert _snapshot(other)["patient"] != first["patient"]
        assert _snapshot(other)["document"] != first["document"]
    finally:
        again.dispose()
        other.dispose()


def test_second_seed_is_refused(demo: tuple[Engine, DemoSummary]) -> None:
    with pytest.raises(ConflictError, match="уже есть пациенты"):
        seed_demo(demo[0], patients=10, today=TODAY)


# --- bulk loader ------------------------------------------------------------------------------
def _check_bulk(engine: Engine, expected: int) -> None:
    with Session(engine) as s:
        rows = s.execute(
            select(Patient.snils, Patient.policy_number, Patient.search_key, Patient.surname,
                   Patient.name, Patient.patronymic, Patient.sex, Patient.created_at)
        ).all()  # fmt: skip
    assert len(rows) == expected
    snils = [r.snils for r in rows if r.snils is not None]
    policies = [r.policy_number for r in rows if r.policy_number is not None]
    assert len(set(snils)) == len(snils) >= 0.95 * expected
    assert len(set(policies)) == len(policies) >= 0.97 * expected
    assert all(normalize_snils(x) == x for x in snils)
    assert all(normalize_policy(x) == x for x in policies)
    for r in rows:
        assert r.search_key == make_search_key(r.surname, r.name, r.patronymic)
        assert r.patronymic.endswith("на" if r.sex == Sex.FEMALE else "ич")
        assert r.created_at.tzinfo is not None


def _seed_and_bulk(engine: Engine) -> None:
    """Bulk patients on top of the demo's, twice: numbers must not collide with either."""
    seed_demo(engine, patients=200, today=TODAY)
    calls: list[tuple[int, int]] = []
    assert (
        bulk_seed_patients(engine, 20_000, batch=5_000, progress=lambda d, t: calls.append((d, t)))
        == 20_000
    )
    assert calls[-1] == (20_000, 20_000)
    assert len(calls) == 4
    assert bulk_seed_patients(engine, 1_000) == 1_000
    _check_bulk(engine, 21_200)


def test_bulk_seed_on_sqlite(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "bulk.db")
    try:
        _seed_and_bulk(engine)
    finally:
        engine.dispose()


@pytest.mark.pg
def test_bulk_seed_on_postgresql(fresh_pg_url: str) -> None:
    engine = create_db_engine(fresh_pg_url)
    try:
        _seed_and_bulk(engine)
        with Session(engine) as s:
            # COPY used the id sequence: the next ordinary insert does not collide.
            assert s.scalar(select(func.max(Patient.id))) == 21_200
            assert (s.scalar(select(func.count()).select_from(Department))) == 3
    finally:
        engine.dispose()
