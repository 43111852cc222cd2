"""Studies of ARM's patients and their reading: the worklist, the draft and the signed conclusion.

The PACS knows pixels and DICOM identifiers; the record knows patients.  ``record()`` is where
the two meet: a study the PACS (or a patient's CD) reports is kept here once, under the EMK
patient whose DICOM Patient ID it carries (:func:`dicom_patient_id`), and linked to the
imaging referral it fulfils.  From then on its reading status is a database fact every
workstation sees: unread, a radiologist's draft, or signed.

Signing writes the conclusion as an EMK document (kind IMAGING, the Study Instance UID in
``study_uid``) through the record's one writer, ``emk.add_document``; a correction supersedes
the signed document with a reason, as every document of the record is corrected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from services import audit
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.emk import add_document
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.models import (
    DocKind,
    EmkDocument,
    Organisation,
    Patient,
    ReadingStatus,
    Referral,
    ReferralKind,
    Staff,
    StudyReading,
)
from services.schedule import short_name

__all__ = [
    "MAX_TEXT",
    "STATUS_TEXT",
    "StudyFacts",
    "StudyRow",
    "dicom_patient_id",
    "get",
    "patient_studies",
    "record",
    "save_draft",
    "sign",
    "worklist",
]

MAX_TEXT = 20_000  # characters per field: a long CT description is ~4,000
MAX_AMEND_REASON = 300

STATUS_TEXT = {
    ReadingStatus.UNREAD: "не описано",
    ReadingStatus.DRAFT: "черновик",
    ReadingStatus.SIGNED: "подписано",
}


def dicom_patient_id(policy_number: str | None, patient_id: int) -> str:
    """The Patient ID (0010,0020) ARM's patients carry in the PACS.

    The ЕНП (the 16-digit OMS policy number) identifies a person across the city's
    polyclinics and the radiology archive; a patient without one gets ``ARM<id>``, which is
    what ARM sends in the modality worklist for them.
    """
    return policy_number or f"ARM{patient_id}"


@dataclass(frozen=True)
class StudyFacts:
    """What the PACS or a CD says about one study (the DICOM side, no pixels)."""

    study_uid: str
    dicom_patient_id: str
    study_date: dt.date | None = None
    modalities: tuple[str, ...] = ()
    description: str = ""
    accession: str = ""
    source: str = ""  # the PACS's name, «CD» for an import
    images: int | None = None


@dataclass(frozen=True)
class StudyRow:
    """A study as the «Исследования» tab and the worklist show it."""

    study_uid: str
    patient_id: int
    patient_name: str  # «Иванов И. И.»
    patient_full_name: str
    birth_date: dt.date
    dicom_patient_id: str
    study_date: dt.date | None
    modality: str
    description: str
    accession: str
    pacs: str
    images: int | None
    status: ReadingStatus
    radiologist: str  # who drafted or signed, «Достоевский А. В.»
    findings: str
    conclusion: str
    draft_saved_at: dt.datetime | None
    signed_at: dt.datetime | None
    document_id: int | None
    referral_id: int | None
    referral_text: str  # «№ 0001-23 от 12.11.2026, CITO»
    cito: bool
    version_id: int

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]


def _patient_map(session: Session, ids: set[str]) -> dict[str, int]:
    """DICOM Patient IDs → EMK patient ids (by ЕНП, or the ``ARM<id>`` form)."""
    out: dict[str, int] = {}
    by_policy = {i for i in ids if i.isdigit() and len(i) == 16}
    if by_policy:
        for pid, pol in session.execute(
            select(Patient.id, Patient.policy_number).where(Patient.policy_number.in_(by_policy))
        ):
            if pol:
                out[pol] = pid
    own = {int(i[3:]): i for i in ids if i.startswith("ARM") and i[3:].isdigit()}
    if own:
        for pid, pol in session.execute(
            select(Patient.id, Patient.policy_number).where(Patient.id.in_(own))
        ):
            if not pol:  # a patient with a policy is known to the PACS by it only
                out[own[pid]] = pid
    return out


def record(
    session: Session,
    actor: Actor,
    facts: Sequence[StudyFacts],
    *,
    patient_id: int | None = None,
) -> int:
    """Keep the studies that belong to ARM's patients; returns how many were new.

    ``patient_id`` attaches every study to that patient whatever its Patient ID says: the
    user has confirmed a CD's patient as this one.  A study already kept gets its
    descriptive fields refreshed (a PACS adds series), never its reading.  A study whose
    signed conclusion is already in the record (a document with its UID) is signed.
    """
    if not facts:
        return 0
    pmap = (
        {} if patient_id is not None else _patient_map(session, {f.dicom_patient_id for f in facts})
    )
    uids = [f.study_uid for f in facts]
    have = {
        r.study_uid: r
        for r in session.scalars(select(StudyReading).where(StudyReading.study_uid.in_(uids)))
    }
    signed_docs = _newest_docs(session, uids)
    new = 0
    for f in facts:
        row = have.get(f.study_uid)
        pid = patient_id if patient_id is not None else pmap.get(f.dicom_patient_id)
        if row is None:
            if pid is None:
                continue
            row = StudyReading(study_uid=f.study_uid[:64], patient_id=pid)
            session.add(row)
            have[f.study_uid] = row
            new += 1
        row.study_date = f.study_date or row.study_date
        row.modality = "\\".join(f.modalities)[:32] or row.modality
        row.description = f.description[:200] or row.description
        row.accession = f.accession[:64] or row.accession
        row.pacs = f.source[:64] or row.pacs
        row.images = f.images if f.images is not None else row.images
        doc = signed_docs.get(f.study_uid)
        if doc is not None and row.document_id != doc.id:
            row.document_id = doc.id
            row.status = ReadingStatus.SIGNED
            row.signed_at = doc.signed_at
            row.radiologist_id = row.radiologist_id or doc.signed_by
        if row.referral_id is None and row.status != ReadingStatus.SIGNED:
            row.referral_id = _open_referral(session, row)
    session.flush()
    if new:
        audit.record(session, actor, "study.found", object_type="study", details=f"{new} new")
    return new


def _newest_docs(session: Session, uids: Sequence[str]) -> dict[str, EmkDocument]:
    superseded = select(EmkDocument.supersedes_id).where(EmkDocument.supersedes_id.is_not(None))
    docs = session.scalars(
        select(EmkDocument).where(
            EmkDocument.study_uid.in_(uids),
            EmkDocument.kind == DocKind.IMAGING,
            EmkDocument.id.not_in(superseded),
        )
    )
    return {d.study_uid: d for d in docs if d.study_uid}


def _open_referral(session: Session, row: StudyReading) -> int | None:
    """The imaging referral this study fulfils: the patient's oldest uncancelled one issued on
    or before the study date, of the study's modality if it names one, not yet linked."""
    taken = select(StudyReading.referral_id).where(StudyReading.referral_id.is_not(None))
    stmt = (
        select(Referral)
        .where(
            Referral.patient_id == row.patient_id,
            Referral.kind == ReferralKind.IMAGING,
            Referral.cancelled_at.is_(None),
            Referral.id.not_in(taken),
        )
        .order_by(Referral.issued_on, Referral.id)
    )
    if row.study_date is not None:
        stmt = stmt.where(
            Referral.issued_on <= row.study_date, Referral.valid_until >= row.study_date
        )
    modalities = set(row.modality.split("\\")) - {""}
    for ref in session.scalars(stmt):
        if not ref.modality or not modalities or ref.modality in modalities:
            return ref.id
    return None


def _rows(session: Session, stmt: object) -> list[StudyRow]:
    out: list[StudyRow] = []
    for r, p, staff, ref in session.execute(stmt):  # type: ignore[call-overload]
        out.append(_row(r, p, staff, ref))
    return out


def _base_select() -> object:
    return (
        select(StudyReading, Patient, Staff, Referral)
        .join(Patient, Patient.id == StudyReading.patient_id)
        .outerjoin(Staff, Staff.id == StudyReading.radiologist_id)
        .outerjoin(Referral, Referral.id == StudyReading.referral_id)
    )


def _row(r: StudyReading, p: Patient, staff: Staff | None, ref: Referral | None) -> StudyRow:
    ref_text = ""
    if ref is not None:
        ref_text = f"№ {ref.number} от {ref.issued_on:%d.%m.%Y}" + (", CITO" if ref.cito else "")
    return StudyRow(
        study_uid=r.study_uid,
        patient_id=p.id,
        patient_name=short_name(p.surname, p.name, p.patronymic),
        patient_full_name=f"{p.surname} {p.name} {p.patronymic}".strip(),
        birth_date=p.birth_date,
        dicom_patient_id=dicom_patient_id(p.policy_number, p.id),
        study_date=r.study_date,
        modality=r.modality,
        description=r.description,
        accession=r.accession,
        pacs=r.pacs,
        images=r.images,
        status=r.status,
        radiologist=short_name(staff.surname, staff.name, staff.patronymic) if staff else "",
        findings=r.findings,
        conclusion=r.conclusion,
        draft_saved_at=r.draft_saved_at,
        signed_at=r.signed_at,
        document_id=r.document_id,
        referral_id=r.referral_id,
        referral_text=ref_text,
        cito=bool(ref is not None and ref.cito),
        version_id=r.version_id,
    )


def patient_studies(session: Session, patient_id: int) -> list[StudyRow]:
    """The patient's studies, newest first; conclusions come with them."""
    stmt = _base_select().where(StudyReading.patient_id == patient_id)  # type: ignore[attr-defined]
    rows = _rows(session, stmt.order_by(StudyReading.study_date.desc(), StudyReading.id.desc()))
    return _with_signed_text(session, rows)


def _with_signed_text(session: Session, rows: list[StudyRow]) -> list[StudyRow]:
    """A signed study shows the conclusion as signed in the record (the document's text)."""
    ids = [r.document_id for r in rows if r.document_id is not None]
    if not ids:
        return rows
    docs = {d.id: d for d in session.scalars(select(EmkDocument).where(EmkDocument.id.in_(ids)))}
    out = []
    for r in rows:
        d = docs.get(r.document_id) if r.document_id is not None else None
        if d is not None and r.status == ReadingStatus.SIGNED:
            sections = dict((t, v) for t, v in d.body.get("sections", []))
            findings = sections.get("Описание", r.findings)
            conclusion = sections.get("Заключение", d.summary)
            r = replace(r, findings=findings, conclusion=conclusion)
        out.append(r)
    return out


def worklist(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    modality: str = "",
    status: ReadingStatus | None = None,
) -> list[StudyRow]:
    """Studies dated in ``[start, end]`` for the radiologist: CITO referrals first, then unread
    before drafts before signed, then by date (oldest first: the longest-waiting first)."""
    stmt = _base_select().where(  # type: ignore[attr-defined]
        StudyReading.study_date >= start, StudyReading.study_date <= end
    )
    if modality:
        stmt = stmt.where(StudyReading.modality.contains(modality))
    if status is not None:
        stmt = stmt.where(StudyReading.status == status)
    rows = _with_signed_text(session, _rows(session, stmt))
    order = {ReadingStatus.UNREAD: 0, ReadingStatus.DRAFT: 1, ReadingStatus.SIGNED: 2}
    return sorted(
        rows,
        key=lambda r: (
            r.status == ReadingStatus.SIGNED or not r.cito,
            order[r.status],
            r.study_date or dt.date.min,
            r.study_uid,
        ),
    )


def get(session: Session, study_uid: str) -> StudyRow:
    stmt = _base_select().where(StudyReading.study_uid == study_uid)  # type: ignore[attr-defined]
    rows = _with_signed_text(session, _rows(session, stmt))
    if not rows:
        raise NotFoundError("Исследование не найдено в ARM.")
    return rows[0]


def _check_texts(findings: str, conclusion: str, *, signing: bool) -> None:
    errors: list[ValidationError] = []
    for key, field, text in (
        ("findings", "Описание", findings),
        ("conclusion", "Заключение", conclusion),
    ):
        if len(text) > MAX_TEXT:
            rule = f"не больше {MAX_TEXT} символов (сейчас {len(text)})"
            errors.append(ValidationError(field, rule, key=key))
        elif signing and not text.strip():
            errors.append(ValidationError(field, "обязательно для подписи", key=key))
    if errors:
        raise ValidationErrors(errors)


def _reading(session: Session, study_uid: str, version_id: int) -> StudyReading:
    row = session.scalar(select(StudyReading).where(StudyReading.study_uid == study_uid))
    if row is None:
        raise NotFoundError("Исследование не найдено в ARM.")
    if row.version_id != version_id:
        who = ""
        if row.radiologist_id is not None:
            st = session.get(Staff, row.radiologist_id)
            who = f" ({short_name(st.surname, st.name, st.patronymic)})" if st else ""
        raise ConflictError(
            f"Заключение по этому исследованию уже изменено{who}. "
            "Ваш текст сохранён в окне — обновите исследование и перенесите правки."
        )
    return row


def save_draft(
    session: Session,
    actor: Actor,
    study_uid: str,
    findings: str,
    conclusion: str,
    version_id: int,
) -> None:
    """Keep the radiologist's text as a draft (a signed conclusion stays signed: a draft on
    it is a correction in progress, which the record does not see until signed)."""
    _check_texts(findings, conclusion, signing=False)
    row = _reading(session, study_uid, version_id)
    row.findings = findings
    row.conclusion = conclusion
    row.draft_saved_at = now_utc()
    if row.status == ReadingStatus.UNREAD:
        row.status = ReadingStatus.DRAFT
    if row.status != ReadingStatus.SIGNED or row.radiologist_id is None:
        row.radiologist_id = actor.staff_id
    audit.record(
        session,
        actor,
        "study.draft",
        object_type="study",
        object_id=row.id,
        patient_id=row.patient_id,
    )
    session.flush()


def sign(
    session: Session,
    actor: Actor,
    study_uid: str,
    findings: str,
    conclusion: str,
    version_id: int,
    *,
    amend_reason: str = "",
) -> int:
    """Sign the conclusion into the record; returns the EMK document's id.

    A study signed before needs ``amend_reason``: the new document supersedes the old.
    """
    _check_texts(findings, conclusion, signing=True)
    row = _reading(session, study_uid, version_id)
    previous = session.get(EmkDocument, row.document_id) if row.document_id else None
    if previous is not None and not amend_reason.strip():
        raise ValidationError(
            "Причина исправления",
            "заключение уже подписано — укажите, что исправлено",
            key="amend_reason",
        )
    if len(amend_reason) > MAX_AMEND_REASON:
        raise ValidationError(
            "Причина исправления", f"не больше {MAX_AMEND_REASON} символов", key="amend_reason"
        )
    staff = session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    org = session.scalar(select(Organisation).limit(1))
    now = now_utc()
    occurred = (
        dt.datetime.combine(row.study_date, dt.time(12), clinic_tz()).astimezone(dt.UTC)
        if row.study_date is not None
        else now
    )
    title = row.description or f"Исследование {row.modality}".strip()
    author = ""
    if staff is not None:
        author = f"{staff.surname} {staff.name} {staff.patronymic}".strip()
        if staff.position:
            author += f", {staff.position.lower()}"
    doc = add_document(
        session,
        patient_id=row.patient_id,
        kind=DocKind.IMAGING,
        occurred_at=occurred,
        title=title,
        summary=" ".join(conclusion.split())[:500],
        sections=[("Описание", findings.strip()), ("Заключение", conclusion.strip())],
        specialty="Рентгенология",
        author_name=author,
        organisation=org.short_name if org is not None else "",
        signed_by=actor.staff_id,
        signed_at=now,
        study_uid=row.study_uid,
        supersedes=previous,
        amend_reason=amend_reason.strip(),
        details={"modality": row.modality, "accession": row.accession},
    )
    row.findings = findings
    row.conclusion = conclusion
    row.status = ReadingStatus.SIGNED
    row.document_id = doc.id
    row.signed_at = now
    row.radiologist_id = actor.staff_id
    audit.record(
        session,
        actor,
        "study.sign" if previous is None else "study.amend",
        object_type="study",
        object_id=row.id,
        patient_id=row.patient_id,
        details=f"document {doc.id}",
    )
    session.flush()
    return doc.id


def today() -> dt.date:
    return local_day(now_utc())
