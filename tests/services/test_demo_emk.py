"""The demo's medical history: full records where the demo looks, consistent and valid.

Properties, not snapshots: who has how many documents, every code a doctor could pick today,
chronic conditions told in order, lab values that tell a story and carry the flags
:func:`services.emk.add_document` would give them, and the same search text.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import services.demo_emk
from services import emk
from services.db import create_db_engine, upgrade_schema
from services.demo import DemoSummary, seed_demo
from services.emk import NewDiagnosis, NewLab, number_ru
from services.lab_types import LabFlag, flag_for
from services.mkb10 import catalog
from services.models import (
    Allergy,
    AllergySeverity,
    Appointment,
    AppointmentStatus,
    BloodType,
    DiagnosisCharacter,
    DiagnosisRole,
    DispensaryCondition,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    Encounter,
    LabResult,
    Patient,
    ScheduleSlot,
)

TODAY = dt.date(2026, 11, 18)
MSK = zoneinfo.ZoneInfo("Europe/Moscow")
PATIENTS = 500
FOCUS_STAFF = 1
UID = re.compile(r"1\.2\.826\.0\.1\.3680043\.8\.498(\.(0|[1-9][0-9]*))+")


def _age(birth: dt.date, on: dt.date = TODAY) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _local(when: dt.datetime) -> dt.datetime:
    return when.astimezone(MSK)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    engine = create_db_engine(f"sqlite+pysqlite:///{tmp_path_factory.mktemp('emk') / 't.db'}")
    upgrade_schema(engine)
    summary = seed_demo(engine, patients=PATIENTS, seed=1, today=TODAY)
    yield engine, summary
    engine.dispose()


@pytest.fixture
def session(demo: tuple[Engine, DemoSummary]) -> Iterator[Session]:
    with Session(demo[0]) as s:
        yield s


def _documents_by_patient(s: Session) -> Counter[int]:
    return Counter(dict(s.execute(select(EmkDocument.patient_id, func.count()).group_by(
        EmkDocument.patient_id)).all()))  # fmt: skip


def _scheduled(s: Session) -> set[int]:
    return set(s.scalars(select(Appointment.patient_id)))


def _focus(s: Session) -> set[int]:
    """Today's patients of the doctor the demo signs in as."""
    day_start = dt.datetime.combine(TODAY, dt.time(), MSK)
    rows = s.scalars(
        select(Appointment.patient_id)
        .join(ScheduleSlot, ScheduleSlot.id == Appointment.slot_id)
        .where(
            ScheduleSlot.staff_id == FOCUS_STAFF,
            ScheduleSlot.starts_at >= day_start,
            ScheduleSlot.starts_at < day_start + dt.timedelta(days=1),
        )
    )
    return set(rows)


# --- who has a record ------------------------------------------------------------------------
def test_documents_match_the_summary(demo: tuple[Engine, DemoSummary], session: Session) -> None:
    assert demo[1].documents == session.scalar(select(func.count()).select_from(EmkDocument))
    assert demo[1].documents > 10 * len(_scheduled(session))


def test_every_kind_of_document_is_there(session: Session) -> None:
    kinds = Counter(session.scalars(select(EmkDocument.kind)))
    assert set(kinds) == set(DocKind)
    assert kinds[DocKind.PROTOCOL] == max(kinds.values())


def test_scheduled_patients_have_rich_records(session: Session) -> None:
    counts = _documents_by_patient(session)
    births = dict(session.execute(select(Patient.id, Patient.birth_date)).all())
    focus = _focus(session)
    assert 10 <= len(focus) <= 40
    for pid in _scheduled(session) - focus:
        if _age(births[pid]) >= 2:  # a baby's record cannot hold ten documents yet
            assert 10 <= counts[pid] <= 40, (pid, counts[pid])
    sizes = [counts[pid] for pid in _scheduled(session) - focus]
    assert statistics.median(sizes) < 20 < max(sizes)  # most modest, some thick


def test_the_demo_doctors_patients_of_today_have_years_of_history(session: Session) -> None:
    counts = _documents_by_patient(session)
    for pid in _focus(session):
        assert 60 <= counts[pid] <= 150, (pid, counts[pid])
        first = session.scalar(
            select(func.min(EmkDocument.occurred_at)).where(EmkDocument.patient_id == pid)
        )
        assert first is not None
        assert (TODAY - _local(first).date()).days > 4.5 * 365


def test_others_have_a_few_documents_or_none(session: Session) -> None:
    counts = _documents_by_patient(session)
    others = set(session.scalars(select(Patient.id))) - _scheduled(session)
    assert others
    assert all(counts[pid] <= 6 for pid in others)
    assert sum(1 for pid in others if counts[pid]) <= 0.3 * len(others)


# --- diagnoses --------------------------------------------------------------------------------
def test_every_code_is_valid_for_a_new_diagnosis(session: Session) -> None:
    mkb = catalog()
    for code, role in session.execute(
        select(DocumentDiagnosis.code, DocumentDiagnosis.role).distinct()
    ):
        mkb.check_new_diagnosis(code, main=role == DiagnosisRole.MAIN)
    for code in session.scalars(select(DispensaryCondition.code).distinct()):
        mkb.check_new_diagnosis(code, main=True)


def test_every_code_the_generator_can_write_is_valid() -> None:
    """Also the codes this seed happened not to draw: every code literal in the module."""
    source = Path(services.demo_emk.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'"([A-Z][0-9]{2}(?:\.[0-9]{1,2})?)"', source))
    assert {"J06.9", "I10", "I11.9", "E11.9", "M42.1", "M54.5", "K29.5", "J20.9", "J40",
            "H10.9", "H66.9", "I25.1", "E03.9", "L20.8", "Z00.1"} <= codes  # fmt: skip
    for code in sorted(codes):
        catalog().check_new_diagnosis(code, main=True)


def test_each_document_has_one_main_diagnosis_at_most(session: Session) -> None:
    mains = Counter(
        session.scalars(
            select(DocumentDiagnosis.document_id).where(
                DocumentDiagnosis.role == DiagnosisRole.MAIN
            )
        )
    )
    assert mains
    assert max(mains.values()) == 1
    protocols = set(
        session.scalars(select(EmkDocument.id).where(EmkDocument.kind == DocKind.PROTOCOL))
    )
    assert protocols <= set(mains)  # every protocol states its main diagnosis


def test_chronic_conditions_are_told_in_order(session: Session) -> None:
    """Diagnosed once («впервые»), known afterwards, on the dispensary list from that day."""
    rows = session.execute(
        select(
            EmkDocument.patient_id, EmkDocument.occurred_at, DocumentDiagnosis.code,
            DocumentDiagnosis.character,
        ).join(DocumentDiagnosis, DocumentDiagnosis.document_id == EmkDocument.id)
    ).all()  # fmt: skip
    told: dict[tuple[int, str], list[tuple[dt.datetime, DiagnosisCharacter | None]]]
    told = defaultdict(list)
    for pid, at, code, character in rows:
        told[pid, code].append((at, character))
    news = 0
    for (pid, code), events in told.items():
        events.sort(key=lambda e: e[0])
        new = [at for at, c in events if c == DiagnosisCharacter.CHRONIC_NEW]
        assert len(new) <= 1, (pid, code)
        if new:
            news += 1
            assert all(at >= new[0] for at, c in events if c == DiagnosisCharacter.CHRONIC_KNOWN)
    assert news > 0
    births = dict(session.execute(select(Patient.id, Patient.birth_date)).all())
    conditions = session.scalars(select(DispensaryCondition)).all()
    assert {c.code for c in conditions} >= {"I10", "I11.9", "E11.9"}
    for c in conditions:
        events = told[c.patient_id, c.code]
        assert events, f"{c.code} on the list of {c.patient_id} but in no document"
        assert births[c.patient_id] <= c.since < TODAY
        first = next((at for at, ch in events if ch == DiagnosisCharacter.CHRONIC_NEW), None)
        if first is not None:  # diagnosed within the record: on the list from that visit
            assert abs((_local(first).date() - c.since).days) <= 3
        assert c.ended_on is None


# --- labs -------------------------------------------------------------------------------------
def test_lab_flags_and_texts_are_what_add_document_derives(session: Session) -> None:
    results = session.scalars(select(LabResult)).all()
    flags = Counter(r.flag for r in results)
    assert flags[LabFlag.HIGH]
    assert flags[LabFlag.LOW]
    assert flags[LabFlag.ABNORMAL]
    assert flags[LabFlag.NORMAL] > 0.6 * len(results)
    negative = {"не обнаружено", "отрицательно", "отр.", "норма", "нет", "abs"}
    for r in results:
        if r.value is None:
            expected = LabFlag.ABNORMAL if r.value_text.casefold() not in negative else ""
            assert r.flag == expected, r.value_text
        else:
            assert r.flag == flag_for(r.value, r.ref_low, r.ref_high)
            assert r.value_text == number_ru(r.value)


def test_lab_trends_tell_a_story(session: Session) -> None:
    focus = _focus(session)
    longest = max(
        len(emk.lab_trend(session, pid, t.code)) for pid in focus
        for t in emk.lab_tests(session, pid)
    )  # fmt: skip
    assert longest >= 6
    # Diabetics: HbA1c high at first and better under treatment.
    diabetics = set(
        session.scalars(select(DispensaryCondition.patient_id).where(
            DispensaryCondition.code == "E11.9"))
    )  # fmt: skip
    improving = total = 0
    for pid in diabetics:
        trend = emk.lab_trend(session, pid, "HBA1C")
        if len(trend) >= 3:
            total += 1
            values = [p.value for p in trend if p.value is not None]
            assert max(values) > 6.0  # above the reference range at some point
            improving += values[-1] < values[0]
    assert total
    assert improving >= 0.7 * total


def test_the_tsh_reference_range_changed_once(session: Session) -> None:
    rows = session.execute(
        select(LabResult.taken_at, LabResult.ref_low, LabResult.ref_high)
        .where(LabResult.test_code == "TSH")
        .order_by(LabResult.taken_at)
    ).all()
    ranges = [(lo, hi) for _, lo, hi in rows]
    assert set(ranges) == {(0.4, 4.0), (0.27, 4.2)}
    changes = sum(1 for a, b in zip(ranges, ranges[1:], strict=False) if a != b)
    assert changes == 1
    assert ranges[0] == (0.4, 4.0)


# --- documents as add_document writes them ----------------------------------------------------
def _rewrite(s: Session, doc: EmkDocument) -> EmkDocument:
    """The same document written again through :func:`services.emk.add_document`."""
    body = dict(doc.body)
    sections = [(str(t), str(v)) for t, v in body.pop("sections")]
    diagnoses = [
        NewDiagnosis(x.role, x.code, x.character, x.note)
        for x in s.scalars(select(DocumentDiagnosis).where(
            DocumentDiagnosis.document_id == doc.id).order_by(DocumentDiagnosis.position))
    ]  # fmt: skip
    labs = [
        NewLab(r.test_code, r.test_name, r.value, r.unit, r.ref_low, r.ref_high,
               r.value_text if r.value is None else "")
        for r in s.scalars(select(LabResult).where(LabResult.document_id == doc.id)
                           .order_by(LabResult.id))
    ]  # fmt: skip
    return emk.add_document(
        s, patient_id=doc.patient_id, kind=doc.kind, occurred_at=doc.occurred_at,
        title=doc.title, summary=doc.summary, sections=sections, specialty=doc.specialty,
        author_name=doc.author_name, organisation=doc.organisation, signed_by=doc.signed_by,
        signed_at=doc.signed_at, encounter_id=doc.encounter_id, diagnoses=diagnoses, labs=labs,
        study_uid=doc.study_uid, details=body or None,
    )  # fmt: skip


def _columns(row: Any, model: type[Any], skip: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in model.__table__.columns if c.key not in skip}


def test_documents_are_what_add_document_would_have_written(session: Session) -> None:
    s = session
    sample: list[EmkDocument] = []
    for kind in DocKind:
        sample += s.scalars(
            select(EmkDocument).where(EmkDocument.kind == kind).order_by(EmkDocument.id).limit(15)
        ).all()
    try:
        for doc in sample:
            again = _rewrite(s, doc)
            assert _columns(again, EmkDocument, {"id"}) == _columns(doc, EmkDocument, {"id"})
            old = s.scalars(select(LabResult).where(LabResult.document_id == doc.id)
                            .order_by(LabResult.id)).all()  # fmt: skip
            new = s.scalars(select(LabResult).where(LabResult.document_id == again.id)
                            .order_by(LabResult.id)).all()  # fmt: skip
            skip = {"id", "document_id"}
            assert [_columns(r, LabResult, skip) for r in new] == [
                _columns(r, LabResult, skip) for r in old
            ]
    finally:
        s.rollback()


def test_imaging_studies_have_well_formed_uids(session: Session) -> None:
    rows = session.execute(select(EmkDocument.kind, EmkDocument.study_uid)).all()
    uids = [uid for kind, uid in rows if kind == DocKind.IMAGING]
    assert uids
    assert all(uid is not None for uid in uids)
    assert all(UID.fullmatch(uid) and len(uid) <= 64 for uid in uids if uid), uids[:3]
    assert len(set(uids)) == len(uids)
    assert all(uid is None for kind, uid in rows if kind != DocKind.IMAGING)


def test_vaccinations_name_vaccine_series_and_dose(session: Session) -> None:
    for doc in session.scalars(select(EmkDocument).where(EmkDocument.kind == DocKind.VACCINATION)):
        assert doc.body["vaccine"]
        assert doc.body["series"]
        assert doc.body["dose"] == "0,5 мл"
    texts = set(session.scalars(select(EmkDocument.title)))
    assert "Вакцинация против гриппа" in texts
    assert any("COVID-19" in t for t in texts)
    assert "Ревакцинация АДС-М" in texts


def test_discharges_come_from_a_city_hospital_with_a_diagnosis(session: Session) -> None:
    docs = session.scalars(select(EmkDocument).where(EmkDocument.kind == DocKind.DISCHARGE)).all()
    assert docs
    for doc in docs:
        assert re.search(r"(ГКБ|больница) № \d+", doc.organisation), doc.organisation
        assert session.scalar(
            select(func.count()).where(
                DocumentDiagnosis.document_id == doc.id,
                DocumentDiagnosis.role == DiagnosisRole.MAIN,
            )
        )


# --- time ------------------------------------------------------------------------------------
def test_documents_lie_in_the_patients_past(session: Session) -> None:
    births = dict(session.execute(select(Patient.id, Patient.birth_date)).all())
    today_start = dt.datetime.combine(TODAY, dt.time(), MSK)
    rows = session.execute(
        select(EmkDocument.patient_id, EmkDocument.kind, EmkDocument.occurred_at,
               EmkDocument.signed_at, EmkDocument.organisation, EmkDocument.encounter_id)
    ).all()  # fmt: skip
    for pid, kind, at, signed, organisation, encounter in rows:
        assert births[pid] <= _local(at).date()
        assert at < today_start
        assert at <= signed
        if kind == DocKind.PROTOCOL and "поликлиника" in organisation and encounter is None:
            local = _local(at)  # (a visit of the schedule starts when the doctor calls)
            assert local.weekday() < 5, local
            assert 8 <= local.hour < 20, local


def test_sick_leaves_are_for_working_age_adults(session: Session) -> None:
    births = dict(session.execute(select(Patient.id, Patient.birth_date)).all())
    leaves = session.execute(
        select(EmkDocument.patient_id, EmkDocument.occurred_at).where(
            EmkDocument.kind == DocKind.SICK_LEAVE)
    ).all()  # fmt: skip
    assert leaves
    assert all(18 <= _age(births[pid], _local(at).date()) < 66 for pid, at in leaves)


def test_the_fortnights_visits_have_their_documents(session: Session) -> None:
    """A held visit has its doctor's document, at the visit's time, linked to it."""
    encounters = session.scalars(
        select(Encounter).where(Encounter.status == AppointmentStatus.FINISHED)
    ).all()
    assert encounters
    docs = defaultdict(list)
    for doc in session.scalars(select(EmkDocument).where(EmkDocument.encounter_id.is_not(None))):
        docs[doc.encounter_id].append(doc)
    for enc in encounters:
        mine = docs.pop(enc.id, [])
        assert mine, enc.id
        for doc in mine:
            assert (doc.patient_id, doc.signed_by) == (enc.patient_id, enc.staff_id)
            assert doc.occurred_at == enc.started_at
    assert not docs


# --- signal information ------------------------------------------------------------------------
def test_allergies_and_blood_groups(session: Session) -> None:
    patients = session.scalar(select(func.count()).select_from(Patient)) or 0
    allergies = session.scalars(select(Allergy)).all()
    allergic = {a.patient_id for a in allergies}
    assert 0.08 * patients <= len(allergic) <= 0.22 * patients
    assert any(a.severity == AllergySeverity.SEVERE for a in allergies)
    assert all(a.ended_at is None and a.reaction for a in allergies)
    groups = session.scalars(select(BloodType)).all()
    assert 0.5 * patients <= len(groups) <= 0.7 * patients
    assert {g.abo for g in groups} == {"0(I)", "A(II)", "B(III)", "AB(IV)"}
    assert {g.rh for g in groups} == {"+", "-"}


# --- PostgreSQL -------------------------------------------------------------------------------
@pytest.mark.pg
def test_history_on_postgresql(fresh_pg_url: str) -> None:
    """The same writer on PostgreSQL: ids from the sequence, which later inserts continue."""
    engine = create_db_engine(fresh_pg_url)
    try:
        summary = seed_demo(engine, patients=150, seed=3, today=TODAY)
        with Session(engine) as s:
            assert summary.documents == s.scalar(select(func.count()).select_from(EmkDocument))
            doc = s.scalars(
                select(EmkDocument).where(EmkDocument.kind == DocKind.PROTOCOL).limit(1)
            ).one()
            assert doc.body["sections"][0][0] == "Жалобы"
            assert s.scalar(select(func.count()).select_from(LabResult))
            again = _rewrite(s, doc)  # through the ORM, after the bulk insert
            assert again.id > s.scalar(select(func.max(EmkDocument.id)).where(
                EmkDocument.id != again.id))  # fmt: skip
            assert again.search_text == doc.search_text
            s.rollback()
    finally:
        engine.dispose()
