"""The patient's record as the EMK screen reads it: header, timeline, a document, lab trends.

Every value returned names the patient it belongs to (``patient_id``), so a screen can refuse
what arrives for a patient it no longer shows.  Opening the record and reading a document are
audit events written before the data is returned.

Documents enter the record through :func:`add_document` (protocols when signed, lab and
hospital documents when imported), which derives the search text and the lab flags; the
demo's bulk writer derives them with the same functions.  The diagnoses' rules are checked
before: by :func:`services.protocols.validate` for what a doctor signs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from services import audit
from services.audit import Actor
from services.clock import clinic_tz, now_utc
from services.errors import NotFoundError
from services.lab_types import LabFlag, LabPoint, LabTest, flag_for
from services.mkb10 import catalog
from services.models import (
    Allergy,
    AllergySeverity,
    BloodType,
    Department,
    DiagnosisCharacter,
    DiagnosisRole,
    DispensaryCondition,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    LabResult,
    Patient,
    Staff,
)
from services.patients import age_on

__all__ = [
    "DIAGNOSIS_ROLE_TEXT",
    "KIND_TEXT",
    "AllergyRow",
    "ChronicRow",
    "DiagnosisLine",
    "DocumentView",
    "EmkHeader",
    "LabLine",
    "NewDiagnosis",
    "NewLab",
    "TimelineFilter",
    "TimelineRow",
    "add_document",
    "author_line",
    "fold",
    "lab_flag",
    "lab_tests",
    "lab_trend",
    "open_emk",
    "read_document",
    "specialties",
    "timeline",
]

KIND_TEXT: dict[DocKind, str] = {
    DocKind.PROTOCOL: "Протоколы осмотров",
    DocKind.LAB: "Анализы",
    DocKind.IMAGING: "Лучевая диагностика",
    DocKind.INSTRUMENTAL: "Функциональная диагностика",
    DocKind.DISCHARGE: "Выписки из стационара",
    DocKind.VACCINATION: "Прививки",
    DocKind.PRESCRIPTION: "Рецепты",
    DocKind.SICK_LEAVE: "Больничные листы",
    DocKind.REFERRAL: "Направления",
}

DIAGNOSIS_ROLE_TEXT: dict[DiagnosisRole, str] = {
    DiagnosisRole.MAIN: "Основной",
    DiagnosisRole.COMPLICATION: "Осложнение",
    DiagnosisRole.CONCOMITANT: "Сопутствующий",
}

CHARACTER_TEXT: dict[DiagnosisCharacter, str] = {
    DiagnosisCharacter.ACUTE: "острое",
    DiagnosisCharacter.CHRONIC_NEW: "хроническое, впервые",
    DiagnosisCharacter.CHRONIC_KNOWN: "хроническое, известное",
}

# The free-text filter looks at this many words; a longer query is someone pasting a letter.
MAX_FILTER_WORDS = 8
MAX_FILTER_CHARS = 200


def fold(text: str) -> str:
    """Lower case with ё folded to е: how both the stored search text and a query compare."""
    return text.casefold().replace("ё", "е")


def author_line(staff: Staff) -> str:
    return f"{staff.short_name}, {staff.position.lower()}" if staff.position else staff.short_name


# --- the header ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AllergyRow:
    id: int
    substance: str
    reaction: str
    severity: AllergySeverity


@dataclass(frozen=True)
class ChronicRow:
    id: int
    code: str
    name: str
    since: dt.date
    specialty: str


@dataclass(frozen=True)
class EmkHeader:
    """The signal information shown above everything of this patient."""

    patient_id: int
    surname: str
    name: str
    patronymic: str
    birth_date: dt.date
    age: int
    policy: str
    attachment: str
    allergies: list[AllergyRow]
    chronic: list[ChronicRow]
    blood: str  # «A(II) Rh+», or "" when not known

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)

    @property
    def title(self) -> str:
        """«Иванов Иван Иванович, 12.03.1980 (45 лет)» — the patient named on every view."""
        return f"{self.full_name}, {self.birth_date:%d.%m.%Y} ({years_text(self.age)})"


def years_text(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        word = "год"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "года"
    else:
        word = "лет"
    return f"{n} {word}"


def _header(session: Session, p: Patient) -> EmkHeader:
    dept = (
        session.get(Department, p.attachment_department_id) if p.attachment_department_id else None
    )
    allergies = session.scalars(
        select(Allergy)
        .where(Allergy.patient_id == p.id, Allergy.ended_at.is_(None))
        .order_by(Allergy.id)
    ).all()
    chronic = session.scalars(
        select(DispensaryCondition)
        .where(DispensaryCondition.patient_id == p.id, DispensaryCondition.ended_on.is_(None))
        .order_by(DispensaryCondition.since, DispensaryCondition.id)
    ).all()
    blood = session.get(BloodType, p.id)
    mkb = catalog()
    today = now_utc().astimezone(clinic_tz()).date()
    attachment = ""
    if dept is not None:
        attachment = dept.name + (f" с {p.attached_since:%d.%m.%Y}" if p.attached_since else "")
    return EmkHeader(
        patient_id=p.id,
        surname=p.surname,
        name=p.name,
        patronymic=p.patronymic,
        birth_date=p.birth_date,
        age=age_on(p.birth_date, today),
        policy=p.policy_number or "",
        attachment=attachment,
        allergies=[AllergyRow(a.id, a.substance, a.reaction, a.severity) for a in allergies],
        chronic=[ChronicRow(c.id, c.code, mkb.name(c.code), c.since, c.specialty) for c in chronic],
        blood=f"{blood.abo} Rh{blood.rh}" if blood is not None else "",
    )


def _patient(session: Session, patient_id: int) -> Patient:
    p = session.get(Patient, patient_id)
    if p is None:
        raise NotFoundError("Пациент не найден (возможно, карта удалена или объединена)")
    return p


def open_emk(session: Session, actor: Actor, patient_id: int) -> EmkHeader:
    """The header of a patient's record; opening the record is an audit event."""
    header = _header(session, _patient(session, patient_id))
    audit.record(
        session,
        actor,
        "emk.open",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
    )
    session.commit()
    return header


def header(session: Session, patient_id: int) -> EmkHeader:
    """The header again after the signal data changed (no new audit event: same opening)."""
    return _header(session, _patient(session, patient_id))


# --- the timeline ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineFilter:
    kinds: frozenset[DocKind] = frozenset()  # empty: every section
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    specialty: str = ""
    text: str = ""

    @property
    def words(self) -> list[str]:
        return fold(self.text[:MAX_FILTER_CHARS]).split()[:MAX_FILTER_WORDS]

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.date_from or self.date_to or self.specialty or self.words)


class TimelineRow(NamedTuple):
    id: int
    patient_id: int
    kind: DocKind
    occurred_at: dt.datetime
    title: str
    summary: str
    specialty: str
    author_name: str
    version: int
    main_code: str  # the main diagnosis' МКБ-10 code, "" when the document states none


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), clinic_tz())


def timeline(session: Session, patient_id: int, flt: TimelineFilter) -> list[TimelineRow]:
    """The newest version of each document of the patient, newest first, filtered.

    One statement: the documents no amendment replaced, with their main diagnosis.
    """
    newer = aliased(EmkDocument)
    dx = aliased(DocumentDiagnosis)
    d = EmkDocument
    stmt = (
        select(
            d.id,
            d.patient_id,
            d.kind,
            d.occurred_at,
            d.title,
            d.summary,
            d.specialty,
            d.author_name,
            d.version,
            func.coalesce(dx.code, ""),
        )
        .outerjoin(dx, and_(dx.document_id == d.id, dx.role == DiagnosisRole.MAIN))
        .where(d.patient_id == patient_id)
        .where(~select(newer.id).where(newer.supersedes_id == d.id).exists())
        .order_by(d.occurred_at.desc(), d.id.desc())
    )
    if flt.kinds:
        stmt = stmt.where(d.kind.in_(sorted(flt.kinds)))
    if flt.date_from is not None:
        stmt = stmt.where(d.occurred_at >= _local_start(flt.date_from))
    if flt.date_to is not None:
        stmt = stmt.where(d.occurred_at < _local_start(flt.date_to + dt.timedelta(days=1)))
    if flt.specialty:
        stmt = stmt.where(d.specialty == flt.specialty)
    for word in flt.words:
        stmt = stmt.where(d.search_text.contains(word, autoescape=True))
    return [TimelineRow._make(row) for row in session.execute(stmt)]


def specialties(session: Session, patient_id: int) -> list[str]:
    """The specialties present in this patient's record, for the filter's drop-down."""
    rows = session.scalars(
        select(EmkDocument.specialty)
        .where(EmkDocument.patient_id == patient_id, EmkDocument.specialty != "")
        .distinct()
    ).all()
    return sorted(rows)


# --- one document ----------------------------------------------------------------------------
class DiagnosisLine(NamedTuple):
    role: DiagnosisRole
    code: str
    name: str  # from the catalog, withdrawn codes included
    character: DiagnosisCharacter | None
    note: str


class LabLine(NamedTuple):
    test_code: str
    test_name: str
    value_text: str
    unit: str
    reference: str  # «3,9–5,6»
    flag: LabFlag


class VersionRef(NamedTuple):
    id: int
    version: int
    signed_at: dt.datetime
    author_name: str


@dataclass(frozen=True)
class DocumentView:
    id: int
    patient_id: int
    kind: DocKind
    title: str
    occurred_at: dt.datetime
    specialty: str
    author_name: str
    organisation: str
    signed_at: dt.datetime
    version: int
    amend_reason: str
    sections: list[tuple[str, str]]
    diagnoses: list[DiagnosisLine]
    labs: list[LabLine]
    study_uid: str | None
    versions: list[VersionRef]  # every version of this document, oldest first
    superseded_by: int | None  # the newer version's id, when this one was amended
    details: dict[str, Any] = field(default_factory=dict)  # kind-specific (vaccine, series…)


def number_ru(value: float) -> str:
    """A lab value as printed in Russia: decimal comma, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def reference_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{number_ru(low)}–{number_ru(high)}"
    if low is not None:
        return f"> {number_ru(low)}"
    if high is not None:
        return f"< {number_ru(high)}"
    return ""


def _versions(session: Session, doc: EmkDocument) -> tuple[list[VersionRef], int | None]:
    """Walk the amendment chain both ways (chains are short: a handful of corrections)."""
    chain: list[EmkDocument] = [doc]
    cur = doc
    while cur.supersedes_id is not None:
        older = session.get(EmkDocument, cur.supersedes_id)
        if older is None:
            break
        chain.insert(0, older)
        cur = older
    cur = doc
    superseded_by: int | None = None
    while True:
        newer = session.scalar(select(EmkDocument).where(EmkDocument.supersedes_id == cur.id))
        if newer is None:
            break
        if cur is doc:
            superseded_by = newer.id
        chain.append(newer)
        cur = newer
    refs = [VersionRef(x.id, x.version, x.signed_at, x.author_name) for x in chain]
    return refs, superseded_by


def read_document(session: Session, actor: Actor, document_id: int) -> DocumentView:
    """A document as the reading pane shows it; reading it is an audit event."""
    doc = session.get(EmkDocument, document_id)
    if doc is None:
        raise NotFoundError("Документ не найден")
    mkb = catalog()
    diagnoses = [
        DiagnosisLine(x.role, x.code, mkb.name(x.code), x.character, x.note)
        for x in session.scalars(
            select(DocumentDiagnosis)
            .where(DocumentDiagnosis.document_id == doc.id)
            .order_by(DocumentDiagnosis.position)
        )
    ]
    labs = [
        LabLine(
            r.test_code,
            r.test_name,
            r.value_text or (number_ru(r.value) if r.value is not None else ""),
            r.unit,
            reference_text(r.ref_low, r.ref_high),
            LabFlag(r.flag),
        )
        for r in session.scalars(
            select(LabResult).where(LabResult.document_id == doc.id).order_by(LabResult.id)
        )
    ]
    versions, superseded_by = _versions(session, doc)
    body = dict(doc.body or {})
    sections = [(str(t), str(v)) for t, v in body.pop("sections", [])]
    view = DocumentView(
        id=doc.id,
        patient_id=doc.patient_id,
        kind=doc.kind,
        title=doc.title,
        occurred_at=doc.occurred_at,
        specialty=doc.specialty,
        author_name=doc.author_name,
        organisation=doc.organisation,
        signed_at=doc.signed_at,
        version=doc.version,
        amend_reason=doc.amend_reason,
        sections=sections,
        diagnoses=diagnoses,
        labs=labs,
        study_uid=doc.study_uid,
        versions=versions,
        superseded_by=superseded_by,
        details=body,
    )
    audit.record(
        session,
        actor,
        "emk.document.view",
        patient_id=doc.patient_id,
        object_type="emk_document",
        object_id=doc.id,
    )
    session.commit()
    return view


# --- lab trends ------------------------------------------------------------------------------
def lab_tests(session: Session, patient_id: int) -> list[LabTest]:
    """The tests this patient has results of, most recently taken first."""
    last = (
        select(
            LabResult.test_code,
            func.max(LabResult.taken_at).label("last"),
            func.count().label("n"),
        )
        .where(LabResult.patient_id == patient_id)
        .group_by(LabResult.test_code)
        .subquery()
    )
    rows = session.execute(
        select(
            LabResult.test_code,
            LabResult.test_name,
            LabResult.unit,
            last.c.n,
            last.c.last,
            LabResult.flag,
        )
        .join(
            last, and_(last.c.test_code == LabResult.test_code, last.c.last == LabResult.taken_at)
        )
        .where(LabResult.patient_id == patient_id)
        .order_by(last.c.last.desc(), LabResult.test_name)
    ).all()
    seen: set[str] = set()
    out: list[LabTest] = []
    for code, name, unit, n, taken, flag in rows:
        if code in seen:
            continue
        seen.add(code)
        out.append(LabTest(code, name, unit, n, taken, LabFlag(flag)))
    return out


def lab_trend(session: Session, patient_id: int, test_code: str) -> list[LabPoint]:
    """One test's values over time, oldest first (the order a plot draws them)."""
    rows = session.scalars(
        select(LabResult)
        .where(LabResult.patient_id == patient_id, LabResult.test_code == test_code)
        .order_by(LabResult.taken_at, LabResult.id)
    )
    return [
        LabPoint(
            r.taken_at, r.value, r.value_text, r.ref_low, r.ref_high, LabFlag(r.flag), r.document_id
        )
        for r in rows
    ]


# --- writing a document ----------------------------------------------------------------------
class NewDiagnosis(NamedTuple):
    role: DiagnosisRole
    code: str
    character: DiagnosisCharacter | None = None
    note: str = ""


class NewLab(NamedTuple):
    test_code: str
    test_name: str
    value: float | None
    unit: str
    ref_low: float | None
    ref_high: float | None
    value_text: str = ""


def search_text_of(
    title: str,
    summary: str,
    sections: Sequence[tuple[str, str]],
    diagnoses: Iterable[NewDiagnosis],
    extra: Iterable[str],
) -> str:
    mkb = catalog()
    parts = [title, summary]
    parts += [f"{t} {v}" for t, v in sections]
    parts += [f"{x.code} {mkb.name(x.code)} {x.note}" for x in diagnoses]
    parts += list(extra)
    return fold("\n".join(p for p in parts if p))


def add_document(
    session: Session,
    *,
    patient_id: int,
    kind: DocKind,
    occurred_at: dt.datetime,
    title: str,
    summary: str = "",
    sections: Sequence[tuple[str, str]] = (),
    specialty: str = "",
    author_name: str = "",
    organisation: str = "",
    signed_by: int | None = None,
    signed_at: dt.datetime | None = None,
    encounter_id: int | None = None,
    diagnoses: Sequence[NewDiagnosis] = (),
    labs: Sequence[NewLab] = (),
    study_uid: str | None = None,
    supersedes: EmkDocument | None = None,
    amend_reason: str = "",
    details: dict[str, Any] | None = None,
) -> EmkDocument:
    """Add a signed document (flushed, not committed: the caller's transaction holds it)."""
    body: dict[str, Any] = dict(details or {})
    body["sections"] = [[t, v] for t, v in sections]
    lab_words = [f"{x.test_name} {x.value_text}" for x in labs]
    doc = EmkDocument(
        patient_id=patient_id,
        kind=kind,
        occurred_at=occurred_at,
        specialty=specialty,
        title=title[:200],
        summary=summary[:500],
        body=body,
        search_text=search_text_of(
            title,
            summary,
            sections,
            diagnoses,
            [author_name, organisation, *lab_words, *(str(v) for v in (details or {}).values())],
        ),
        author_name=author_name[:160],
        organisation=organisation[:200],
        encounter_id=encounter_id,
        signed_at=signed_at or now_utc(),
        signed_by=signed_by,
        version=supersedes.version + 1 if supersedes is not None else 1,
        supersedes_id=supersedes.id if supersedes is not None else None,
        amend_reason=amend_reason[:300],
        study_uid=study_uid,
    )
    session.add(doc)
    session.flush()
    for i, x in enumerate(diagnoses):
        session.add(
            DocumentDiagnosis(
                document_id=doc.id,
                position=i,
                role=x.role,
                code=x.code,
                character=x.character,
                note=x.note[:300],
            )
        )
    for lab in labs:
        flag = lab_flag(lab)
        session.add(
            LabResult(
                document_id=doc.id,
                patient_id=patient_id,
                test_code=lab.test_code,
                test_name=lab.test_name,
                value=lab.value,
                value_text=lab.value_text
                or (number_ru(lab.value) if lab.value is not None else ""),
                unit=lab.unit,
                ref_low=lab.ref_low,
                ref_high=lab.ref_high,
                flag=flag,
                taken_at=occurred_at,
            )
        )
    session.flush()
    return doc


# Text results that mean "normal" (anything else in a text-only result is flagged «!»).
_NEGATIVE = {"не обнаружено", "отрицательно", "отр.", "норма", "нет", "abs"}


def lab_flag(lab: NewLab) -> LabFlag:
    """The flag a lab value is stored with: against its range, or by its words when textual."""
    flag = flag_for(lab.value, lab.ref_low, lab.ref_high)
    if lab.value is None and lab.value_text and lab.value_text.casefold() not in _NEGATIVE:
        flag = LabFlag.ABNORMAL
    return flag
