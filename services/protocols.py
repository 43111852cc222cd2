"""The examination protocol (протокол осмотра): templates, the draft as it is typed, signing,
amending.

A protocol is written as a *draft* — the editor's whole state, saved by the editor about once
a second both to a local file and, through here, to the database — and becomes a record
document only when signed.  Signing validates everything at once (every broken rule named),
writes the immutable document with its diagnoses, and drops the draft, in one transaction.

An amendment starts from a signed document, is a draft like any other, and on signing becomes
the next version pointing at the one it replaces; only the newest version can be amended, so
two doctors correcting the same protocol cannot fork it.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from services import audit, emk
from services.audit import Actor
from services.clock import now_utc
from services.emk import NewDiagnosis
from services.errors import ConflictError, NotFoundError, ValidationError, ValidationErrors
from services.mkb10 import catalog
from services.models import (
    AppointmentStatus,
    DiagnosisCharacter,
    DiagnosisRole,
    DocKind,
    DocumentDiagnosis,
    EmkDocument,
    Encounter,
    Patient,
    ProtocolDraft,
    Staff,
)

__all__ = [
    "SECTIONS",
    "DiagnosisInput",
    "DraftInfo",
    "ProtocolInput",
    "Template",
    "amendment_input",
    "current_encounter",
    "discard_draft",
    "drafts_of",
    "load_draft",
    "previous_protocol",
    "save_draft",
    "sign",
    "templates_for",
    "validate",
]

# The protocol's sections in reading order: (key, title as printed).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("complaints", "Жалобы"),
    ("anamnesis", "Анамнез"),
    ("objective", "Объективный статус"),
    ("conclusion", "Заключение"),
    ("recommendations", "Рекомендации"),
)
_SECTION_TITLE = dict(SECTIONS)
MAX_SECTION = 20_000  # characters; a protocol page is ~3,000
MAX_DIAGNOSES = 12
MAX_NOTE = 300


@dataclass(frozen=True)
class DiagnosisInput:
    role: DiagnosisRole
    code: str
    character: DiagnosisCharacter | None = None
    note: str = ""


@dataclass(frozen=True)
class ProtocolInput:
    """The editor's state: plain values, round-tripped through JSON for the drafts."""

    specialty: str = ""
    template: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    diagnoses: tuple[DiagnosisInput, ...] = ()
    amend_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)  # the diagnoses below replace asdict's
        out["diagnoses"] = [
            {
                "role": str(d.role),
                "code": d.code,
                "character": str(d.character) if d.character else None,
                "note": d.note,
            }
            for d in self.diagnoses
        ]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProtocolInput:
        """Tolerant: a draft written by an older version or cut short still loads."""
        sections = data.get("sections") if isinstance(data.get("sections"), dict) else {}
        diagnoses: list[DiagnosisInput] = []
        for d in data.get("diagnoses") or []:
            if not isinstance(d, dict):
                continue
            try:
                role = DiagnosisRole(str(d.get("role")))
            except ValueError:
                continue
            ch = str(d.get("character"))
            diagnoses.append(
                DiagnosisInput(
                    role,
                    str(d.get("code") or ""),
                    DiagnosisCharacter(ch) if ch in DiagnosisCharacter._value2member_map_ else None,
                    str(d.get("note") or ""),
                )
            )
        return cls(
            specialty=str(data.get("specialty") or ""),
            template=str(data.get("template") or ""),
            sections={str(k): str(v) for k, v in (sections or {}).items() if k in _SECTION_TITLE},
            diagnoses=tuple(diagnoses),
            amend_reason=str(data.get("amend_reason") or ""),
        )


# --- templates -------------------------------------------------------------------------------
class Template(NamedTuple):
    name: str
    specialty: str
    sections: dict[str, str]


TEMPLATES_FILE = (
    Path(__file__).resolve().parent.parent / "resources" / "emk" / "protocol_templates.toml"
)


@cache
def _all_templates(path: Path = TEMPLATES_FILE) -> tuple[Template, ...]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Template(
            str(t["name"]),
            str(t.get("specialty", "")),
            {k: str(t.get(k, "")).strip() for k, _title in SECTIONS},
        )
        for t in data.get("template", [])
    )


def templates_for(specialty: str) -> list[Template]:
    """The doctor's own specialty's templates first, then the general ones."""
    own = [t for t in _all_templates() if specialty and t.specialty == specialty]
    general = [t for t in _all_templates() if not t.specialty]
    return own + general


# --- validation ------------------------------------------------------------------------------
def _clean_text(text: str) -> str:
    """Keep line breaks and tabs, drop other control characters (a paste from a PDF)."""
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " ").strip()


def validate(inp: ProtocolInput, *, amending: bool = False) -> ProtocolInput:
    """Check a protocol for signing; every broken rule is reported at once, by field."""
    errors: list[ValidationError] = []
    sections = {k: _clean_text(inp.sections.get(k, "")) for k, _t in SECTIONS}
    for key, title in SECTIONS:
        if len(sections[key]) > MAX_SECTION:
            errors.append(
                ValidationError(
                    title,
                    f"не длиннее {MAX_SECTION} символов (сейчас {len(sections[key])})",
                    key=key,
                )
            )
    if not sections["objective"]:
        errors.append(ValidationError("Объективный статус", "обязательное поле", key="objective"))
    if not (sections["conclusion"] or inp.diagnoses):
        errors.append(
            ValidationError("Заключение", "укажите заключение или диагноз", key="conclusion")
        )
    diagnoses = [d for d in inp.diagnoses if d.code.strip() or d.note.strip()]
    mains = [d for d in diagnoses if d.role == DiagnosisRole.MAIN]
    if diagnoses and len(mains) != 1:
        errors.append(
            ValidationError(
                "Диагнозы",
                "должен быть ровно один основной диагноз"
                + (f" (указано {len(mains)})" if mains else ""),
                key="diagnoses",
            )
        )
    if len(diagnoses) > MAX_DIAGNOSES:
        errors.append(ValidationError("Диагнозы", f"не больше {MAX_DIAGNOSES}", key="diagnoses"))
    cleaned: list[DiagnosisInput] = []
    seen: set[str] = set()
    mkb = catalog()
    for i, d in enumerate(diagnoses, 1):
        label = f"Диагноз {i}"
        try:
            entry = mkb.check_new_diagnosis(d.code, main=d.role == DiagnosisRole.MAIN)
        except ValidationError as e:
            errors.append(ValidationError(f"{label}: {e.field}", e.rule, key=f"diagnosis.{i}"))
            continue
        if entry.code in seen:
            errors.append(
                ValidationError(label, f"{entry.code} указан дважды", key=f"diagnosis.{i}")
            )
        seen.add(entry.code)
        if d.role == DiagnosisRole.MAIN and d.character is None:
            errors.append(
                ValidationError(
                    f"{label}: характер заболевания",
                    "укажите: острое, хроническое впервые или хроническое известное",
                    key=f"diagnosis.{i}",
                )
            )
        note = _clean_text(d.note)
        if len(note) > MAX_NOTE:
            errors.append(
                ValidationError(
                    f"{label}: уточнение", f"не длиннее {MAX_NOTE} символов", key=f"diagnosis.{i}"
                )
            )
        cleaned.append(DiagnosisInput(d.role, entry.code, d.character, note[:MAX_NOTE]))
    # The main diagnosis goes first whatever order it was typed in: the printout reads so.
    cleaned.sort(key=lambda d: list(DiagnosisRole).index(d.role))
    reason = " ".join(inp.amend_reason.split())
    if amending and not reason:
        errors.append(
            ValidationError("Причина исправления", "обязательное поле", key="amend_reason")
        )
    if len(reason) > 300:
        errors.append(
            ValidationError("Причина исправления", "не длиннее 300 символов", key="amend_reason")
        )
    if errors:
        raise ValidationErrors(errors)
    return ProtocolInput(inp.specialty, inp.template, sections, tuple(cleaned), reason)


# --- drafts ----------------------------------------------------------------------------------
class DraftInfo(NamedTuple):
    patient_id: int
    patient_name: str
    revision: int
    saved_at: dt.datetime
    encounter_id: int | None
    amends_id: int | None
    fields: dict[str, Any]


def save_draft(
    session: Session,
    actor: Actor,
    patient_id: int,
    fields: dict[str, Any],
    revision: int,
    *,
    encounter_id: int | None = None,
    amends_id: int | None = None,
) -> int:
    """Store the editor's state if it is newer than what is stored; return the stored revision.

    The editor numbers its saves; a save that arrives late (a retry after the network came
    back) never overwrites a newer one.  No audit event: the signing is the event.
    """
    assert actor.staff_id is not None
    row = session.scalar(
        select(ProtocolDraft)
        .where(ProtocolDraft.staff_id == actor.staff_id, ProtocolDraft.patient_id == patient_id)
        .with_for_update()
    )
    if row is None:
        row = ProtocolDraft(staff_id=actor.staff_id, patient_id=patient_id, revision=-1)
        session.add(row)
    if revision <= row.revision:
        session.rollback()
        return row.revision
    row.fields = fields
    row.revision = revision
    row.encounter_id = encounter_id
    row.amends_id = amends_id
    row.saved_at = now_utc()
    session.commit()
    return revision


def _info(session: Session, row: ProtocolDraft) -> DraftInfo:
    p = session.get(Patient, row.patient_id)
    name = f"{p.surname} {p.name} {p.patronymic}".strip() if p else ""
    return DraftInfo(
        row.patient_id,
        name,
        row.revision,
        row.saved_at,
        row.encounter_id,
        row.amends_id,
        dict(row.fields or {}),
    )


def load_draft(session: Session, staff_id: int, patient_id: int) -> DraftInfo | None:
    row = session.scalar(
        select(ProtocolDraft).where(
            ProtocolDraft.staff_id == staff_id, ProtocolDraft.patient_id == patient_id
        )
    )
    return _info(session, row) if row is not None else None


def drafts_of(session: Session, staff_id: int) -> list[DraftInfo]:
    """The doctor's unsigned protocols, newest first (offered back at the next sign-in)."""
    rows = session.scalars(
        select(ProtocolDraft)
        .where(ProtocolDraft.staff_id == staff_id)
        .order_by(ProtocolDraft.saved_at.desc())
    ).all()
    return [_info(session, r) for r in rows]


def discard_draft(session: Session, actor: Actor, patient_id: int) -> None:
    row = session.scalar(
        select(ProtocolDraft).where(
            ProtocolDraft.staff_id == actor.staff_id, ProtocolDraft.patient_id == patient_id
        )
    )
    if row is not None:
        session.delete(row)
        audit.record(session, actor, "emk.protocol.discard", patient_id=patient_id)
    session.commit()


# --- the visit a protocol belongs to ---------------------------------------------------------
def current_encounter(session: Session, staff_id: int, patient_id: int) -> int | None:
    """The doctor's visit with this patient now under way (in progress or paused), if any."""
    return session.scalar(
        select(Encounter.id)
        .where(
            Encounter.staff_id == staff_id,
            Encounter.patient_id == patient_id,
            Encounter.status.in_([AppointmentStatus.IN_PROGRESS, AppointmentStatus.PAUSED]),
        )
        .order_by(Encounter.id.desc())
        .limit(1)
    )


# --- signing ---------------------------------------------------------------------------------
def _current_version(session: Session, doc_id: int) -> EmkDocument:
    doc = session.get(EmkDocument, doc_id)
    if doc is None:
        raise NotFoundError("Исправляемый документ не найден")
    newer = session.scalar(select(EmkDocument.id).where(EmkDocument.supersedes_id == doc.id))
    if newer is not None:
        raise ConflictError(
            "Этот протокол уже исправлен (есть более новая версия): откройте её и исправляйте её"
        )
    return doc


def sign(
    session: Session,
    actor: Actor,
    patient_id: int,
    inp: ProtocolInput,
    *,
    encounter_id: int | None = None,
    amends_id: int | None = None,
) -> int:
    """Sign: validate, write the immutable document, drop the draft — one transaction."""
    clean = validate(inp, amending=amends_id is not None)
    staff = session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    if staff is None:
        raise NotFoundError("Подписывающий сотрудник не найден")
    if session.get(Patient, patient_id) is None:
        raise NotFoundError("Пациент не найден")
    old: EmkDocument | None = None
    if amends_id is not None:
        old = _current_version(session, amends_id)
        if old.patient_id != patient_id or old.kind != DocKind.PROTOCOL:
            raise ConflictError("Исправление относится к протоколу другого пациента")
        if encounter_id is None:
            encounter_id = old.encounter_id
    elif encounter_id is None:
        encounter_id = current_encounter(session, staff.id, patient_id)
    sections = [(title, clean.sections[k]) for k, title in SECTIONS if clean.sections[k]]
    main = next((d for d in clean.diagnoses if d.role == DiagnosisRole.MAIN), None)
    specialty = clean.specialty or staff.specialty
    summary = ""
    if main is not None:
        summary = f"{main.code} {catalog().name(main.code)}"
    elif clean.sections["conclusion"]:
        summary = clean.sections["conclusion"].splitlines()[0]
    now = now_utc()
    doc = emk.add_document(
        session,
        patient_id=patient_id,
        kind=DocKind.PROTOCOL,
        occurred_at=old.occurred_at if old is not None else now,
        title=f"Протокол осмотра: {staff.position.lower()}"
        if staff.position
        else "Протокол осмотра",
        summary=summary,
        sections=sections,
        specialty=specialty,
        author_name=emk.author_line(staff),
        signed_by=staff.id,
        signed_at=now,
        encounter_id=encounter_id,
        diagnoses=[NewDiagnosis(d.role, d.code, d.character, d.note) for d in clean.diagnoses],
        supersedes=old,
        amend_reason=clean.amend_reason,
        details={"template": clean.template} if clean.template else None,
    )
    draft = session.scalar(
        select(ProtocolDraft).where(
            ProtocolDraft.staff_id == staff.id, ProtocolDraft.patient_id == patient_id
        )
    )
    if draft is not None:
        session.delete(draft)
    audit.record(
        session,
        actor,
        "emk.protocol.amend" if old is not None else "emk.protocol.sign",
        patient_id=patient_id,
        object_type="emk_document",
        object_id=doc.id,
        details=f"версия {doc.version}" + (f": {clean.amend_reason}" if old is not None else ""),
    )
    session.commit()
    return doc.id


def _input_of(session: Session, doc: EmkDocument) -> ProtocolInput:
    by_title = {title: key for key, title in SECTIONS}
    sections = {by_title[t]: v for t, v in (doc.body or {}).get("sections", []) if t in by_title}
    diagnoses = tuple(
        DiagnosisInput(x.role, x.code, x.character, x.note)
        for x in session.scalars(
            select(DocumentDiagnosis)
            .where(DocumentDiagnosis.document_id == doc.id)
            .order_by(DocumentDiagnosis.position)
        )
    )
    return ProtocolInput(
        specialty=doc.specialty,
        template=str((doc.body or {}).get("template", "")),
        sections=sections,
        diagnoses=diagnoses,
    )


def amendment_input(session: Session, document_id: int) -> tuple[int, ProtocolInput]:
    """The editor's starting state for amending a protocol: (its patient, its content)."""
    doc = _current_version(session, document_id)
    if doc.kind != DocKind.PROTOCOL:
        raise ConflictError("Исправлять в АРМ можно только протоколы осмотра")
    return doc.patient_id, _input_of(session, doc)


def previous_protocol(
    session: Session, patient_id: int, specialty: str = ""
) -> tuple[dt.datetime, str, ProtocolInput] | None:
    """The latest protocol of this patient (of this specialty when there is one) to copy from.

    Returns its date, author and content.  Withdrawn codes are copied as they were: signing
    then names each one, so the doctor sees what changed in the catalog since that visit.
    """
    newer = aliased(EmkDocument)
    base = (
        select(EmkDocument)
        .where(EmkDocument.patient_id == patient_id, EmkDocument.kind == DocKind.PROTOCOL)
        .where(~select(newer.id).where(newer.supersedes_id == EmkDocument.id).exists())
        .order_by(EmkDocument.occurred_at.desc(), EmkDocument.id.desc())
        .limit(1)
    )
    doc = None
    if specialty:
        doc = session.scalar(base.where(EmkDocument.specialty == specialty))
    if doc is None:
        doc = session.scalar(base)
    if doc is None:
        return None
    return doc.occurred_at, doc.author_name, _input_of(session, doc)
