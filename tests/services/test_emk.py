"""The EMK on both databases: signing and amending, immutability, drafts, the timeline's
filters, lab trends, signal data, access and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from services import emk, protocols, vitals
from services.emk import NewDiagnosis, NewLab, TimelineFilter
from services.emk_desk import EmkDesk
from services.errors import AccessDenied, ConflictError, ValidationError, ValidationErrors
from services.lab_types import LabFlag
from services.models import (
    AllergySeverity,
    AuditEvent,
    DiagnosisCharacter,
    DiagnosisRole,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    LabResult,
    Role,
)
from services.protocols import DiagnosisInput, ProtocolInput
from tests.factories import base_org, colleague, person

MAIN, COMP, CONC = DiagnosisRole.MAIN, DiagnosisRole.COMPLICATION, DiagnosisRole.CONCOMITANT
ACUTE = DiagnosisCharacter.ACUTE


def protocol(
    *dx: DiagnosisInput, objective: str = "Состояние удовлетворительное."
) -> ProtocolInput:
    return ProtocolInput(
        specialty="Терапия",
        sections={
            "complaints": "Кашель, температура 38",
            "objective": objective,
            "conclusion": "ОРВИ",
        },
        diagnoses=dx,
    )


class Record:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.doctor, self.dept = base_org(sessions)
        self.registrar = colleague(sessions, self.dept, "Смирнова", Role.REGISTRAR)
        self.a = person(sessions, self.doctor, "Абрамова", "Анна", "Петровна")
        self.b = person(sessions, self.doctor, "Борисов", "Борис", "Олегович")
        self.desk = EmkDesk(sessions, self.doctor)

    def sign(self, inp: ProtocolInput, patient_id: int | None = None, **kw: object) -> int:
        return self.desk.sign(patient_id or self.a.id, inp, **kw)  # type: ignore[arg-type]


@pytest.fixture
def rec(sessions: sessionmaker[Session]) -> Record:
    return Record(sessions)


def test_sign_writes_a_document_with_diagnoses_main_first_and_drops_the_draft(rec: Record) -> None:
    rec.desk.save_draft(rec.a.id, protocol().to_json(), 3)
    doc_id = rec.sign(
        protocol(
            DiagnosisInput(CONC, "I10"),
            DiagnosisInput(MAIN, "j06.9", ACUTE, "  лёгкое течение "),
        )
    )
    view = rec.desk.document(doc_id)
    assert view.patient_id == rec.a.id
    assert [(d.role, d.code) for d in view.diagnoses] == [(MAIN, "J06.9"), (CONC, "I10")]
    assert view.diagnoses[0].note == "лёгкое течение"
    assert view.diagnoses[0].name.startswith("Острая инфекция верхних дыхательных путей")
    assert ("Жалобы", "Кашель, температура 38") in view.sections
    assert "Петрова А. С." in view.author_name
    assert rec.desk.open(rec.a.id).draft is None
    with rec.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == rec.a.id))
        assert {"emk.protocol.sign", "emk.document.view", "emk.open"} <= set(actions)


def test_signing_names_every_broken_rule_at_once(rec: Record) -> None:
    bad = ProtocolInput(
        sections={"objective": "", "complaints": "x" * (protocols.MAX_SECTION + 1)},
        diagnoses=(
            DiagnosisInput(MAIN, "G01"),  # an asterisk code as main
            DiagnosisInput(MAIN, "A90", ACUTE),  # withdrawn, and a second main
            DiagnosisInput(CONC, "ZZZ"),
        ),
    )
    with pytest.raises(ValidationErrors) as e:
        rec.sign(bad)
    text_ = str(e.value)
    assert "Объективный статус: обязательное поле" in text_
    assert "Жалобы: не длиннее 20000" in text_
    assert "ровно один основной" in text_
    assert "звёздочк" in text_
    assert "исключ" in text_
    assert "Диагноз 3" in text_
    with rec.sessions() as s:
        assert s.scalar(select(EmkDocument.id)) is None


def test_main_diagnosis_needs_its_character(rec: Record) -> None:
    with pytest.raises(ValidationErrors, match="характер заболевания"):
        rec.sign(protocol(DiagnosisInput(MAIN, "J06.9")))


def test_signed_rows_cannot_be_changed_or_deleted_by_anyone(rec: Record) -> None:
    doc_id = rec.sign(protocol(DiagnosisInput(MAIN, "J06.9", ACUTE)))
    for stmt in (
        update(EmkDocument).where(EmkDocument.id == doc_id).values(title="подделка"),
        delete(EmkDocument).where(EmkDocument.id == doc_id),
        update(DocumentDiagnosis).values(code="A00"),
        delete(DocumentDiagnosis),
    ):
        with rec.sessions() as s:

            def attempt(s: Session = s, stmt: object = stmt) -> None:
                s.execute(stmt)  # type: ignore[call-overload]
                s.commit()

            with pytest.raises(DatabaseError, match="immutable"):
                attempt()
    assert rec.desk.document(doc_id).title.startswith("Протокол осмотра")


def test_amendment_is_a_new_version_pointing_at_the_old_one(rec: Record) -> None:
    first = rec.sign(protocol(DiagnosisInput(MAIN, "J06.9", ACUTE)))
    pid, inp = rec.desk.amendment_input(first)
    assert pid == rec.a.id
    assert inp.diagnoses[0].code == "J06.9"
    with pytest.raises(ValidationErrors, match="Причина исправления"):
        rec.sign(inp, amends_id=first)
    fixed = ProtocolInput(
        inp.specialty,
        inp.template,
        {**inp.sections, "conclusion": "Острый бронхит"},
        (DiagnosisInput(MAIN, "J20.9", ACUTE),),
        "ошибка в диагнозе",
    )
    second = rec.sign(fixed, amends_id=first)
    new = rec.desk.document(second)
    old = rec.desk.document(first)
    assert new.version == 2
    assert new.amend_reason == "ошибка в диагнозе"
    assert old.superseded_by == second
    assert old.diagnoses[0].code == "J06.9"
    assert [v.id for v in new.versions] == [first, second]
    assert new.occurred_at == old.occurred_at
    rows = rec.desk.timeline(rec.a.id, TimelineFilter())
    assert [r.id for r in rows] == [second]  # the timeline shows the newest version only
    assert rows[0].main_code == "J20.9"
    with pytest.raises(ConflictError, match="более новая версия"):
        rec.sign(fixed, amends_id=first)  # the old version can no longer be amended


def test_amending_another_patients_protocol_is_refused(rec: Record) -> None:
    first = rec.sign(protocol(DiagnosisInput(MAIN, "J06.9", ACUTE)))
    inp = ProtocolInput(sections={"objective": "норма", "conclusion": "x"}, amend_reason="опечатка")
    with pytest.raises(ConflictError, match="другого пациента"):
        rec.sign(inp, patient_id=rec.b.id, amends_id=first)


def test_a_late_draft_save_never_overwrites_a_newer_one(rec: Record) -> None:
    assert rec.desk.save_draft(rec.a.id, {"sections": {"complaints": "новое"}}, 7) == 7
    assert rec.desk.save_draft(rec.a.id, {"sections": {"complaints": "старое"}}, 5) == 7
    draft = rec.desk.open(rec.a.id).draft
    assert draft is not None
    assert draft.revision == 7
    assert draft.fields["sections"]["complaints"] == "новое"
    assert [d.patient_id for d in rec.desk.drafts()] == [rec.a.id]
    rec.desk.discard_draft(rec.a.id)
    assert rec.desk.drafts() == []


def test_draft_json_survives_garbage(rec: Record) -> None:
    inp = ProtocolInput.from_json(
        {
            "sections": {"complaints": "x", "evil": "y"},
            "diagnoses": [{"role": "nope"}, 5, {"role": "main", "code": "I10", "character": "bad"}],
        }
    )
    assert inp.sections == {"complaints": "x"}
    assert inp.diagnoses == (DiagnosisInput(MAIN, "I10", None, ""),)
    assert ProtocolInput.from_json({}) == ProtocolInput()


def _history(rec: Record) -> dict[str, int]:
    """A small mixed record for patient A and one document for B."""
    base = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    ids: dict[str, int] = {}
    with rec.sessions() as s:
        ids["lab1"] = emk.add_document(
            s,
            patient_id=rec.a.id,
            kind=DocKind.LAB,
            occurred_at=base,
            title="Биохимия крови",
            labs=[
                NewLab("GLU", "Глюкоза", 7.2, "ммоль/л", 3.9, 5.6),
                NewLab("CHOL", "Холестерин", 4.1, "ммоль/л", None, 5.2),
            ],
            organisation="КДЛ № 1",
        ).id
        ids["lab2"] = emk.add_document(
            s,
            patient_id=rec.a.id,
            kind=DocKind.LAB,
            occurred_at=base + dt.timedelta(days=200),
            title="Биохимия крови",
            labs=[NewLab("GLU", "Глюкоза", 3.1, "ммоль/л", 3.9, 5.6)],
        ).id
        ids["urine"] = emk.add_document(
            s,
            patient_id=rec.a.id,
            kind=DocKind.LAB,
            occurred_at=base + dt.timedelta(days=210),
            title="Общий анализ мочи",
            labs=[
                NewLab("UPRO", "Белок", None, "", None, None, "обнаружено"),
                NewLab("UGLU", "Глюкоза в моче", None, "", None, None, "не обнаружено"),
            ],
        ).id
        ids["ct"] = emk.add_document(
            s,
            patient_id=rec.a.id,
            kind=DocKind.IMAGING,
            occurred_at=base + dt.timedelta(days=400),
            title="КТ органов грудной клетки",
            specialty="Рентгенология",
            sections=[("Заключение", "Очаговых изменений в лёгких не выявлено")],
            study_uid="1.2.826.0.1.3680043.8.498.1",
        ).id
        ids["discharge"] = emk.add_document(
            s,
            patient_id=rec.a.id,
            kind=DocKind.DISCHARGE,
            occurred_at=base + dt.timedelta(days=500),
            title="Выписной эпикриз",
            organisation="ГКБ № 52",
            specialty="Кардиология",
            sections=[("Заключение", "Выписана в удовлетворительном состоянии")],
            diagnoses=[NewDiagnosis(MAIN, "I11.9", DiagnosisCharacter.CHRONIC_KNOWN)],
        ).id
        ids["other"] = emk.add_document(
            s,
            patient_id=rec.b.id,
            kind=DocKind.IMAGING,
            occurred_at=base,
            title="КТ органов грудной клетки",
        ).id
        s.commit()
    return ids


def test_timeline_filters_by_section_dates_specialty_and_text(rec: Record) -> None:
    ids = _history(rec)
    tl = lambda **kw: [r.id for r in rec.desk.timeline(rec.a.id, TimelineFilter(**kw))]  # noqa: E731
    everything = tl()
    assert everything == [ids["discharge"], ids["ct"], ids["urine"], ids["lab2"], ids["lab1"]]
    assert ids["other"] not in everything
    assert tl(kinds=frozenset({DocKind.LAB})) == [ids["urine"], ids["lab2"], ids["lab1"]]
    assert tl(date_from=dt.date(2024, 9, 1), date_to=dt.date(2025, 4, 30)) == [
        ids["ct"],
        ids["urine"],
        ids["lab2"],
    ]
    assert tl(specialty="Кардиология") == [ids["discharge"]]
    assert tl(text="ОЧАГОВЫХ лёгких") == [ids["ct"]]  # case and ё folded, every word
    assert tl(text="I11.9") == [ids["discharge"]]  # codes and their names are searchable
    assert tl(text="гипертензивная") == [ids["discharge"]]
    assert tl(text="КДЛ") == [ids["lab1"]]
    assert tl(text="100%_") == []  # LIKE wildcards are literal
    assert tl(text="x" * 10_000) == []
    assert tl(text="'; DROP TABLE emk_document; --") == []
    assert rec.desk.open(rec.a.id).specialties == ["Кардиология", "Рентгенология"]


def test_lab_trend_and_flags(rec: Record) -> None:
    _history(rec)
    tests = {t.code: t for t in rec.desk.lab_tests(rec.a.id)}
    assert tests["GLU"].last_flag == LabFlag.LOW
    assert tests["GLU"].unit == "ммоль/л"
    points = rec.desk.lab_trend(rec.a.id, "GLU")
    assert [(p.value, p.flag) for p in points] == [(7.2, LabFlag.HIGH), (3.1, LabFlag.LOW)]
    with rec.sessions() as s:
        flags = dict(s.execute(select(LabResult.test_code, LabResult.flag)).all())
    assert flags["UPRO"] == LabFlag.ABNORMAL
    assert flags["UGLU"] == LabFlag.NORMAL
    assert flags["CHOL"] == LabFlag.NORMAL
    assert rec.desk.lab_trend(rec.b.id, "GLU") == []
    doc = rec.desk.document(points[0].document_id)
    assert [(x.test_name, x.value_text, x.reference) for x in doc.labs][0] == (
        "Глюкоза",
        "7,2",
        "3,9–5,6",
    )


def test_signal_data_is_validated_kept_and_shown_in_the_header(rec: Record) -> None:
    with pytest.raises(ValidationErrors) as e:
        rec.desk.add_allergy(rec.a.id, "  ", "x" * 201, None)
    assert {x.key for x in e.value.errors} == {"substance", "reaction", "severity"}
    h = rec.desk.add_allergy(rec.a.id, "Пенициллин", "отёк Квинке", AllergySeverity.SEVERE)
    assert [(a.substance, a.severity) for a in h.allergies] == [
        ("Пенициллин", AllergySeverity.SEVERE)
    ]
    with pytest.raises(Exception, match="уже указан"):
        rec.desk.add_allergy(rec.a.id, "пенициллин", "", AllergySeverity.MILD)
    with pytest.raises(ValidationError, match="Причина: обязательное поле"):
        rec.desk.end_allergy(rec.a.id, h.allergies[0].id, "   ")
    h = rec.desk.end_allergy(rec.a.id, h.allergies[0].id, "ошибочная запись")
    assert h.allergies == []
    with pytest.raises(ValidationErrors, match="класс|блок|рубрик"):
        rec.desk.add_dispensary(rec.a.id, "I10-I15", dt.date(2020, 1, 1), "")
    with pytest.raises(ValidationErrors, match="будущем"):
        rec.desk.add_dispensary(rec.a.id, "I10", dt.date(2999, 1, 1), "")
    with pytest.raises(ValidationErrors, match="раньше даты рождения"):
        rec.desk.add_dispensary(rec.a.id, "I10", dt.date(1900, 1, 1), "")
    h = rec.desk.add_dispensary(rec.a.id, "i10", dt.date(2020, 1, 1), "Терапия")
    assert [(c.code, c.name) for c in h.chronic] == [
        ("I10", "Эссенциальная [первичная] гипертензия")
    ]
    with pytest.raises(ValidationErrors, match="Группа крови"):
        rec.desk.set_blood_type(rec.a.id, "C(V)", "+")
    h = rec.desk.set_blood_type(rec.a.id, "A(II)", "-")
    assert h.blood == "A(II) Rh-"
    assert "Абрамова Анна Петровна, 12.03.1985" in h.title


def test_a_registrar_cannot_read_the_record_and_the_refusal_is_audited(rec: Record) -> None:
    desk = EmkDesk(rec.sessions, rec.registrar)
    with pytest.raises(AccessDenied, match="чтение медицинской карты"):
        desk.open(rec.a.id)
    with pytest.raises(AccessDenied):
        desk.sign(rec.a.id, protocol(DiagnosisInput(MAIN, "J06.9", ACUTE)))
    with rec.sessions() as s:
        assert s.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "access.denied", AuditEvent.patient_id == rec.a.id
            )
        )


def test_previous_protocol_is_the_latest_version_of_the_specialty(rec: Record) -> None:
    first = rec.sign(protocol(DiagnosisInput(MAIN, "J06.9", ACUTE), objective="первый"))
    _pid, inp = rec.desk.amendment_input(first)
    rec.sign(
        ProtocolInput(
            inp.specialty,
            "",
            {**inp.sections, "objective": "исправленный"},
            inp.diagnoses,
            "уточнение",
        ),
        amends_id=first,
    )
    result = rec.desk.previous_protocol(rec.a.id, "Терапия")
    assert result is not None
    assert result[2].sections["objective"] == "исправленный"
    assert rec.desk.previous_protocol(rec.b.id, "") is None


def test_sqlite_trigger_text_is_in_the_schema(rec: Record) -> None:
    with rec.sessions() as s:
        if s.bind.dialect.name != "sqlite":  # type: ignore[union-attr]
            names = s.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).all()
            assert {"emk_document_immutable", "lab_result_immutable"} <= set(names)
            return
        names = s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
        assert {"emk_document_immutable_update", "document_diagnosis_immutable_delete"} <= set(
            names
        )


def test_header_without_data_and_vitals_validation_without_desk(rec: Record) -> None:
    with rec.sessions() as s:
        h = emk.header(s, rec.b.id)
        assert h.allergies == []
        assert h.chronic == []
        assert h.blood == ""
        with pytest.raises(ValidationErrors):
            vitals.set_blood_type(s, rec.doctor, rec.b.id, "", "?")
