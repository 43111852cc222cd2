"""Studies and conclusions: matching PACS studies to patients, the worklist, drafts, signing
into the EMK, corrections, concurrent edits and permissions — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services import referrals, studies
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.emk import add_document
from services.errors import AccessDenied, ConflictError, ValidationError, ValidationErrors
from services.models import (
    AuditEvent,
    DocKind,
    EmkDocument,
    Patient,
    ReadingStatus,
    ReferralKind,
    Role,
    StudyReading,
)
from services.referrals import ReferralInput
from services.studies import StudyFacts
from services.study_desk import StudyDesk
from tests.factories import base_org, colleague, person

DAY = local_day(now_utc())
NOW = dt.datetime.combine(DAY, dt.time(8), clinic_tz()).astimezone(dt.UTC)


class World:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.radio = colleague(sessions, self.dept, "Достоевский", Role.RADIOLOGIST)
        self.radio2 = colleague(sessions, self.dept, "Рентгенова", Role.RADIOLOGIST)
        self.registrar = colleague(sessions, self.dept, "Смирнова", Role.REGISTRAR)
        self.patient = person(sessions, self.doctor, "Иванова", "Мария", "Петровна").id
        self.no_policy = person(sessions, self.doctor, "Петров", "Олег", with_ids=False).id
        self.third = person(sessions, self.doctor, "Сидорова", "Анна").id
        with sessions() as s:
            p = s.get(Patient, self.patient)
            assert p is not None
            self.pid = studies.dicom_patient_id(p.policy_number, p.id)
        self.desk = StudyDesk(sessions, self.radio)
        self.doctor_desk = StudyDesk(sessions, self.doctor)

    def facts(self, uid: str, pid: str | None = None, **kw: object) -> StudyFacts:
        base: dict[str, object] = {
            "study_date": DAY,
            "modalities": ("CT",),
            "description": "КТ органов грудной клетки",
            "accession": "A-1",
            "source": "Orthanc",
            "images": 120,
        }
        base.update(kw)
        return StudyFacts(uid, pid or self.pid, **base)  # type: ignore[arg-type]


@pytest.fixture
def w(sessions: sessionmaker[Session]) -> World:
    return World(sessions)


def test_dicom_patient_id_is_the_policy_or_arm_id() -> None:
    assert studies.dicom_patient_id("7700000000000001", 5) == "7700000000000001"
    assert studies.dicom_patient_id(None, 5) == "ARM5"
    assert studies.dicom_patient_id("", 5) == "ARM5"


def test_studies_of_known_patients_are_kept_strangers_are_not(w: World) -> None:
    new = w.desk.record(
        [
            w.facts("1.2.3.1"),
            w.facts("1.2.3.2", f"ARM{w.no_policy}", modalities=("MR",), description="МРТ"),
            w.facts("1.2.3.3", "SOMEONE-ELSE"),
            # A patient with a policy is known by it only: ARM<id> is not theirs.
            w.facts("1.2.3.4", f"ARM{w.patient}"),
        ]
    )
    assert new == 2
    mine = w.doctor_desk.of_patient(w.patient)
    assert [r.study_uid for r in mine] == ["1.2.3.1"]
    assert mine[0].status == ReadingStatus.UNREAD
    assert mine[0].status_text == "не описано"
    assert mine[0].images == 120
    other = w.doctor_desk.of_patient(w.no_policy)
    assert [r.modality for r in other] == ["MR"]
    # Found again with a new series: refreshed, not duplicated.
    assert w.desk.record([w.facts("1.2.3.1", modalities=("CT", "SR"), images=121)]) == 0
    assert w.doctor_desk.of_patient(w.patient)[0].modality == "CT\\SR"
    with w.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StudyReading)) == 2
        assert s.scalar(select(func.count()).where(AuditEvent.action == "study.found")) == 1


def test_a_cd_study_is_attached_to_the_confirmed_patient(w: World) -> None:
    w.desk.record([w.facts("9.9.1", "CD-PATIENT-7", source="CD")], patient_id=w.no_policy)
    rows = w.doctor_desk.of_patient(w.no_policy)
    assert [(r.study_uid, r.pacs) for r in rows] == [("9.9.1", "CD")]


def test_a_study_whose_conclusion_is_in_the_record_is_signed(w: World) -> None:
    with w.sessions() as s:
        doc = add_document(
            s,
            patient_id=w.patient,
            kind=DocKind.IMAGING,
            occurred_at=NOW,
            title="КТ ОГК",
            summary="Без патологии",
            sections=[("Описание", "Лёгкие без очагов"), ("Заключение", "Без патологии")],
            study_uid="1.2.3.7",
        )
        s.commit()
        doc_id = doc.id
    w.desk.record([w.facts("1.2.3.7")])
    row = w.desk.get("1.2.3.7")
    assert row.status == ReadingStatus.SIGNED
    assert row.document_id == doc_id
    assert row.conclusion == "Без патологии"
    assert row.findings == "Лёгкие без очагов"


def test_a_study_is_linked_to_the_imaging_referral_it_fulfils(w: World) -> None:
    ct = ReferralInput(
        ReferralKind.IMAGING, "J18.9", "Пневмония?", service_code="A06.09.005", cito=True
    )
    with w.sessions() as s:
        (rid,) = referrals.issue(s, w.doctor, w.patient, [ct], now=NOW)
    w.desk.record([w.facts("1.2.3.8")])
    row = w.desk.get("1.2.3.8")
    assert row.referral_id == rid
    assert row.cito
    assert "CITO" in row.referral_text
    # The referral is used up: a second study does not take it.
    w.desk.record([w.facts("1.2.3.9")])
    assert w.desk.get("1.2.3.9").referral_id is None


def test_worklist_by_date_modality_status_cito_first(w: World) -> None:
    ct = ReferralInput(
        ReferralKind.IMAGING, "J18.9", "Пневмония?", service_code="A06.09.005", cito=True
    )
    with w.sessions() as s:
        referrals.issue(s, w.doctor, w.third, [ct], now=NOW)
        third = s.get(Patient, w.third)
        assert third is not None
        third_pid = studies.dicom_patient_id(third.policy_number, third.id)
    w.desk.record(
        [
            w.facts("5.1", study_date=DAY - dt.timedelta(days=1)),
            w.facts("5.2", modalities=("MR",), description="МРТ"),
            w.facts("5.3", third_pid),  # CITO by its referral
            w.facts("5.4", study_date=DAY - dt.timedelta(days=30)),
        ]
    )
    row = w.desk.get("5.1")
    w.desk.save_draft("5.1", "Описание", "", row.version_id)
    week = w.desk.worklist(DAY - dt.timedelta(days=7), DAY)
    assert [r.study_uid for r in week] == ["5.3", "5.2", "5.1"]
    assert [r.study_uid for r in w.desk.worklist(DAY - dt.timedelta(7), DAY, modality="MR")] == [
        "5.2"
    ]
    drafts = w.desk.worklist(DAY - dt.timedelta(7), DAY, status=ReadingStatus.DRAFT)
    assert [(r.study_uid, r.radiologist) for r in drafts] == [("5.1", "Достоевский М. И.")]


def test_draft_then_sign_writes_one_emk_document_with_the_study_uid(w: World) -> None:
    w.desk.record([w.facts("7.1")])
    row = w.desk.get("7.1")
    row = w.desk.save_draft("7.1", "Лёгкие без очагов.", "", row.version_id)
    assert row.status == ReadingStatus.DRAFT
    assert row.draft_saved_at is not None
    row = w.desk.sign("7.1", "Лёгкие без очагов.", "Патологии не выявлено.", row.version_id)
    assert row.status == ReadingStatus.SIGNED
    with w.sessions() as s:
        doc = s.get(EmkDocument, row.document_id)
        assert doc is not None
        assert doc.kind == DocKind.IMAGING
        assert doc.study_uid == "7.1"
        assert doc.patient_id == w.patient
        assert doc.signed_by == w.radio.staff_id
        assert doc.body["sections"] == [
            ["Описание", "Лёгкие без очагов."],
            ["Заключение", "Патологии не выявлено."],
        ]
        assert doc.summary == "Патологии не выявлено."
        assert doc.title == "КТ органов грудной клетки"
        assert s.scalar(select(func.count()).where(AuditEvent.action == "study.sign")) == 1


def test_signing_names_every_missing_field_and_keeps_the_text(w: World) -> None:
    w.desk.record([w.facts("7.2")])
    row = w.desk.get("7.2")
    with pytest.raises(ValidationErrors) as e:
        w.desk.sign("7.2", "  ", "", row.version_id)
    assert {x.key for x in e.value.errors} == {"findings", "conclusion"}
    assert all("обязательно" in x.rule for x in e.value.errors)
    huge = "х" * (studies.MAX_TEXT + 1)
    with pytest.raises(ValidationErrors) as e:
        w.desk.save_draft("7.2", huge, "ok", row.version_id)
    assert e.value.errors[0].field == "Описание"
    assert str(studies.MAX_TEXT) in e.value.errors[0].rule
    assert w.desk.get("7.2").status == ReadingStatus.UNREAD  # nothing written


def test_a_correction_supersedes_with_a_reason(w: World) -> None:
    w.desk.record([w.facts("7.3")])
    row = w.desk.get("7.3")
    row = w.desk.sign("7.3", "Описание", "Пневмония справа", row.version_id)
    first = row.document_id
    with pytest.raises(ValidationError) as e:
        w.desk.sign("7.3", "Описание", "Пневмония слева", row.version_id)
    assert e.value.key == "amend_reason"
    row = w.desk.sign("7.3", "Описание", "Пневмония слева", row.version_id, amend_reason="сторона")
    assert row.document_id != first
    assert row.conclusion == "Пневмония слева"
    with w.sessions() as s:
        doc = s.get(EmkDocument, row.document_id)
        assert doc is not None
        assert doc.supersedes_id == first
        assert doc.amend_reason == "сторона"
        assert s.scalar(select(func.count()).where(AuditEvent.action == "study.amend")) == 1


def test_two_radiologists_on_one_study_the_second_is_told_not_overwritten(w: World) -> None:
    w.desk.record([w.facts("7.4")])
    row = w.desk.get("7.4")
    other = StudyDesk(w.sessions, w.radio2)
    other.save_draft("7.4", "Её описание", "", row.version_id)
    with pytest.raises(ConflictError) as e:
        w.desk.sign("7.4", "Моё описание", "Моё заключение", row.version_id)
    assert "Рентгенова" in str(e.value)
    assert w.desk.get("7.4").findings == "Её описание"


def test_permissions(w: World) -> None:
    w.desk.record([w.facts("8.1")])
    row = w.desk.get("8.1")
    with pytest.raises(AccessDenied):
        StudyDesk(w.sessions, w.registrar).of_patient(w.patient)
    with pytest.raises(AccessDenied):
        w.doctor_desk.sign("8.1", "a", "b", row.version_id)  # a treating doctor reads only
    assert w.doctor_desk.of_patient(w.patient)[0].study_uid == "8.1"


def test_templates_of_the_modality_come_first() -> None:
    from services.conclusion_templates import BLANK, templates_for

    ct = templates_for("CT\\SR")
    assert ct[0].modalities == ("CT",)
    assert {t.title for t in ct} == {t.title for t in templates_for("MR")}
    assert any(BLANK in t.conclusion for t in ct)
    assert templates_for("MR")[0].title.startswith("МРТ")


def test_actor_without_staff_cannot_sign(w: World) -> None:
    desk = StudyDesk(w.sessions, Actor(None, None, frozenset()))
    with pytest.raises(AccessDenied):
        desk.worklist(DAY, DAY)
