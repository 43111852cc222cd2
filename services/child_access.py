"""«Доступ к ЭМК ребенка»: giving a parent access to a child's record on the city portal.

A registrar (or the paediatrician) picks the relative, checks the phone, makes sure the
paper application is signed, and presses «Отправить код»; the parent types the code on the
portal, which calls :func:`redeem`.  The rules live here, whatever the form does:

- the child is a minor (under 18) with an ОМС policy; access ends on the 18th birthday at
  the latest; from 15 a child may hold access to their own record (shown to the registrar,
  not enforced: the parent's access continues until 18);
- the relative is an adult in the child's relations as a parent or a legal representative
  (mother, father, adoptive parent, guardian, trustee), and the relation is in force today;
- one live grant per child and relative: a second «Отправить код» re-sends on it;
- the signed-application flag and a valid Russian mobile number are required;
- the code is random, one-time, stored only as a salted scrypt hash, expires after a
  configurable time; a re-send replaces it (and cancels the old SMS if it has not gone yet);
- redemption checks phone and code, locks the code after 5 wrong tries, and records the use;
- revocation ends access at once and keeps the row for the history.

Every action is an audit event naming the child and the relative.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import audit, printouts, sms
from services.audit import Actor
from services.clock import clinic_tz, local_day, now_utc
from services.errors import (
    ArmError,
    ConflictError,
    NotFoundError,
    ValidationError,
    ValidationErrors,
)
from services.models import (
    ChildAccessGrant,
    Department,
    FamilyRelation,
    Organisation,
    Patient,
    RelationKind,
    SmsMessage,
    SmsStatus,
)
from services.patients import age_on
from services.relations import KIND_LABELS
from services.validation import format_phone, normalize_phone

__all__ = [
    "ADULT_AGE",
    "DEFAULT_CODE_TTL",
    "MAX_TRIES",
    "SELF_ACCESS_AGE",
    "AccessForm",
    "ApplicationPrint",
    "Candidate",
    "ChildInfo",
    "CodeRejected",
    "CodeStatus",
    "GrantRow",
    "Redeemed",
    "application_data",
    "check",
    "form",
    "hash_code",
    "redeem",
    "revoke",
    "send_code",
    "verify_code",
]

ADULT_AGE = 18
SELF_ACCESS_AGE = 15  # from 15 a patient decides on their own care (323-ФЗ ст. 54 ч. 2)
MAX_TRIES = 5
CODE_DIGITS = 6
DEFAULT_CODE_TTL = dt.timedelta(hours=24)
MAX_REASON = 300

# Who may be given access: parents and legal representatives (ст. 64 СК РФ, ст. 20 323-ФЗ).
_PARENTS = frozenset({RelationKind.MOTHER, RelationKind.FATHER, RelationKind.ADOPTIVE_PARENT})
_REPRESENTATIVES = frozenset({RelationKind.GUARDIAN, RelationKind.TRUSTEE})

# scrypt at n=2**14, r=8 costs ~16 MiB and ~40 ms here: cheap for one redemption, ruinous for
# guessing a million codes from a stolen database.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class CodeRejected(ArmError):
    """The portal's redemption failed; the message is what the parent is told."""


class CodeStatus(enum.StrEnum):
    """What the history table's icon shows for a grant's current code."""

    QUEUED = "queued"  # in the outbox, not yet accepted by the gateway
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"  # the operator reported delivery
    UNDELIVERED = "undelivered"  # the operator failed it, or the sending is unconfirmed
    USED = "used"  # the parent entered it: access is on
    EXPIRED = "expired"  # not used in time
    LOCKED = "locked"  # 5 wrong tries
    REVOKED = "revoked"  # access ended by a registrar
    ENDED = "ended"  # the child turned 18


STATUS_LABELS: dict[CodeStatus, str] = {
    CodeStatus.QUEUED: "в очереди на отправку",
    CodeStatus.SENT: "отправлен",
    CodeStatus.DELIVERED: "доставлен",
    CodeStatus.UNDELIVERED: "не доставлен — отправьте код повторно",
    CodeStatus.USED: "использован, доступ открыт",
    CodeStatus.EXPIRED: "истёк — отправьте код повторно",
    CodeStatus.LOCKED: "заблокирован после 5 неверных попыток",
    CodeStatus.REVOKED: "доступ отозван",
    CodeStatus.ENDED: "доступ окончен: пациенту 18 лет",
}


# --- the code ----------------------------------------------------------------------------------
def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(code: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        code.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_code(code: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            code.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


# --- reading the form --------------------------------------------------------------------------
def _birthday(birth: dt.date, years: int) -> dt.date:
    """The day ``years`` after ``birth``; 29 February becomes 1 March in a common year."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def _name(p: Patient) -> str:
    return " ".join(x for x in (p.surname, p.name, p.patronymic) if x)


@dataclass(frozen=True)
class ChildInfo:
    id: int
    full_name: str
    birth_date: dt.date
    age: int
    policy_number: str | None
    adult_on: dt.date  # access ends on this day at the latest
    refusal: str  # why no access can be given to this patient at all, or ""

    @property
    def may_hold_own_access(self) -> bool:
        return self.age >= SELF_ACCESS_AGE

    @property
    def self_access_note(self) -> str:
        if not self.may_hold_own_access or self.refusal:
            return ""
        return (
            f"Пациенту {self.age} лет: с {SELF_ACCESS_AGE} лет он может сам получить доступ "
            "к своей ЭМК на портале. Доступ родителя действует до "
            f"{self.adult_on:%d.%m.%Y} (18 лет)."
        )


@dataclass(frozen=True)
class Candidate:
    """A person in the child's relations, as the «ФИО родственника» list offers them."""

    relation_id: int
    relative_id: int
    full_name: str
    birth_date: dt.date
    label: str  # «мать», «опекун»
    phone: str  # E.164 or ""
    refusal: str  # why this person cannot be given access, or ""


@dataclass(frozen=True)
class GrantRow:
    """One row of «История предоставления доступа»."""

    id: int
    relative_id: int
    relative_name: str
    relation_label: str
    phone: str
    status: CodeStatus
    granted_at: dt.datetime
    ends_on: dt.date
    ended_at: dt.datetime | None  # revoked, or None while live
    revoke_reason: str
    code_expires_at: dt.datetime
    version_id: int

    @property
    def live(self) -> bool:
        return self.status not in (CodeStatus.REVOKED, CodeStatus.ENDED)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class AccessForm:
    child: ChildInfo
    candidates: list[Candidate]
    history: list[GrantRow]


def _child(session: Session, child_id: int) -> Patient:
    child = session.get(Patient, child_id)
    if child is None:
        raise NotFoundError("Пациент не найден.")
    return child


def _child_info(child: Patient, today: dt.date) -> ChildInfo:
    age = age_on(child.birth_date, today)
    refusal = ""
    if age >= ADULT_AGE:
        refusal = (
            f"Пациенту {age} лет: доступ к ЭМК ребенка дают только до 18 лет; "
            "взрослый пациент получает доступ к своей ЭМК сам."
        )
    elif not child.policy_number:
        refusal = (
            "У ребенка нет полиса ОМС: внесите полис в карточку пациента, "
            "без него портал не найдёт ЭМК."
        )
    return ChildInfo(
        id=child.id,
        full_name=_name(child),
        birth_date=child.birth_date,
        age=age,
        policy_number=child.policy_number,
        adult_on=_birthday(child.birth_date, ADULT_AGE),
        refusal=refusal,
    )


def _relation_refusal(rel: FamilyRelation, relative: Patient, today: dt.date) -> str:
    label = KIND_LABELS[rel.kind]
    if rel.valid_from > today or (rel.valid_to is not None and rel.valid_to < today):
        return f"связь «{label}» не действует на сегодня"
    if rel.kind not in _PARENTS and not (
        rel.kind in _REPRESENTATIVES and rel.is_legal_representative
    ):
        return (
            f"{label} — не родитель и не законный представитель: доступ дают родителям, "
            "усыновителям, опекунам и попечителям"
        )
    if age_on(relative.birth_date, today) < ADULT_AGE:
        return "доступ получает только совершеннолетний"
    return ""


def _candidates(session: Session, child: Patient, today: dt.date) -> list[Candidate]:
    rels = session.scalars(
        select(FamilyRelation)
        .where(FamilyRelation.patient_id == child.id)
        .order_by(FamilyRelation.valid_to.is_not(None), FamilyRelation.id)
    )
    out = []
    for rel in rels:
        if rel.valid_to is not None and rel.valid_to < today:
            continue  # ended relations are history, not candidates
        relative = rel.relative
        out.append(
            Candidate(
                relation_id=rel.id,
                relative_id=relative.id,
                full_name=_name(relative),
                birth_date=relative.birth_date,
                label=KIND_LABELS[rel.kind],
                phone=relative.phone,
                refusal=_relation_refusal(rel, relative, today),
            )
        )
    return out


def _status(g: ChildAccessGrant, msg: SmsMessage | None, now: dt.datetime) -> CodeStatus:
    if g.revoked_at is not None:
        return CodeStatus.REVOKED
    if local_day(now) >= g.ends_on:
        return CodeStatus.ENDED
    if g.code_used_at is not None:
        return CodeStatus.USED
    if g.failed_attempts >= MAX_TRIES:
        return CodeStatus.LOCKED
    if now >= g.code_expires_at:
        return CodeStatus.EXPIRED
    if msg is None:
        return CodeStatus.QUEUED
    return {
        SmsStatus.PENDING: CodeStatus.QUEUED,
        SmsStatus.SENDING: CodeStatus.QUEUED,
        SmsStatus.SENT: CodeStatus.SENT,
        SmsStatus.DELIVERED: CodeStatus.DELIVERED,
        SmsStatus.FAILED: CodeStatus.UNDELIVERED,
        SmsStatus.UNCERTAIN: CodeStatus.UNDELIVERED,
        SmsStatus.EXPIRED: CodeStatus.EXPIRED,
        SmsStatus.CANCELLED: CodeStatus.QUEUED,
    }[msg.status]


def _row(session: Session, g: ChildAccessGrant, now: dt.datetime) -> GrantRow:
    relative = session.get(Patient, g.relative_id)
    rel = session.get(FamilyRelation, g.relation_id)
    msg = session.get(SmsMessage, g.sms_id) if g.sms_id is not None else None
    assert relative is not None
    assert rel is not None
    return GrantRow(
        id=g.id,
        relative_id=g.relative_id,
        relative_name=_name(relative),
        relation_label=KIND_LABELS[rel.kind],
        phone=g.phone,
        status=_status(g, msg, now),
        granted_at=g.granted_at,
        ends_on=g.ends_on,
        ended_at=g.revoked_at,
        revoke_reason=g.revoke_reason,
        code_expires_at=g.code_expires_at,
        version_id=g.version_id,
    )


def history(session: Session, child_id: int, now: dt.datetime | None = None) -> list[GrantRow]:
    """Everyone ever given access, live grants first, newest first within each."""
    now = now or now_utc()
    grants = session.scalars(
        select(ChildAccessGrant)
        .where(ChildAccessGrant.child_id == child_id)
        .order_by(ChildAccessGrant.revoked_at.is_not(None), ChildAccessGrant.granted_at.desc())
    )
    return [_row(session, g, now) for g in grants]


def form(session: Session, child_id: int, now: dt.datetime | None = None) -> AccessForm:
    now = now or now_utc()
    today = local_day(now)
    child = _child(session, child_id)
    return AccessForm(
        child=_child_info(child, today),
        candidates=_candidates(session, child, today),
        history=history(session, child_id, now),
    )


# --- giving access -----------------------------------------------------------------------------
def sms_text(code: str, expires_at: dt.datetime) -> str:
    """Short enough for one Cyrillic SMS (70 UCS-2 characters) would be ideal; two is fine."""
    until = expires_at.astimezone(clinic_tz())
    return (
        f"Код доступа к ЭМК ребенка: {code}. Действует до {until:%d.%m %H:%M}. "
        "Никому не сообщайте код."
    )


def send_code(
    session: Session,
    actor: Actor,
    child_id: int,
    relative_id: int | None,
    phone: str,
    application_signed: bool,
    *,
    ttl: dt.timedelta = DEFAULT_CODE_TTL,
    now: dt.datetime | None = None,
) -> GrantRow:
    """Give access (or re-send the code of a live grant) and queue the SMS, in one transaction.

    Raises:
        ValidationErrors: every broken rule, each naming its field.
        ConflictError: another workstation granted the same relative at the same moment.
    """
    now = now or now_utc()
    today = local_day(now)
    child = _child(session, child_id)
    info = _child_info(child, today)
    errors: list[ValidationError] = []
    if info.refusal:
        errors.append(ValidationError("Пациент", info.refusal, key="child"))
    rel = None
    if relative_id is None:
        errors.append(
            ValidationError("ФИО родственника", "выберите родственника из списка", key="relative")
        )
    else:
        rel = session.scalar(
            select(FamilyRelation)
            .where(
                FamilyRelation.patient_id == child_id,
                FamilyRelation.relative_id == relative_id,
                FamilyRelation.valid_to.is_(None) | (FamilyRelation.valid_to >= today),
            )
            .order_by(FamilyRelation.id.desc())
        )
        if rel is None:
            errors.append(
                ValidationError(
                    "ФИО родственника",
                    "этого человека нет в родственных связях ребенка — добавьте связь",
                    key="relative",
                )
            )
        else:
            why = _relation_refusal(rel, rel.relative, today)
            if why:
                errors.append(ValidationError("ФИО родственника", why, key="relative"))
    e164 = ""
    try:
        e164 = normalize_phone(phone)
    except ValidationError as exc:
        errors.append(exc)
    if not application_signed:
        errors.append(
            ValidationError(
                "Заявка",
                "отметьте, что заявка на предоставление доступа подписана — "
                "без подписанной заявки код не отправляют",
                key="signed",
            )
        )
    if errors:
        raise ValidationErrors(errors)
    assert rel is not None
    assert relative_id is not None

    code = new_code()
    expires = now + ttl
    msg = sms.enqueue(
        session, e164, sms_text(code, expires), purpose="child_access", expires_at=expires
    )
    grant = session.scalar(
        select(ChildAccessGrant)
        .where(
            ChildAccessGrant.child_id == child_id,
            ChildAccessGrant.relative_id == relative_id,
            ChildAccessGrant.revoked_at.is_(None),
        )
        .with_for_update()
    )
    resend = grant is not None
    if grant is None:
        grant = ChildAccessGrant(
            child_id=child_id,
            relative_id=relative_id,
            relation_id=rel.id,
            granted_at=now,
            granted_by=actor.staff_id,
            ends_on=info.adult_on,
        )
        session.add(grant)
    else:
        if grant.sms_id is not None:
            sms.supersede(session, grant.sms_id)
    grant.phone = e164
    grant.application_signed = True
    grant.relation_id = rel.id
    grant.code_hash = hash_code(code)
    grant.code_sent_at = now
    grant.code_expires_at = expires
    grant.code_used_at = None
    grant.failed_attempts = 0
    grant.sms_id = msg.id
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError(
            "Доступ этому родственнику только что предоставили на другом рабочем месте — "
            "обновите форму."
        ) from None
    audit.record(
        session,
        actor,
        "child_access.resend" if resend else "child_access.grant",
        patient_id=child_id,
        object_type="child_access_grant",
        object_id=grant.id,
        details=f"relative={relative_id} phone=…{e164[-4:]}",
    )
    session.commit()
    return _row(session, grant, now)


def revoke(
    session: Session,
    actor: Actor,
    grant_id: int,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> GrantRow:
    """End access at once; the row stays in the history with the reason.

    Raises:
        ValidationError: no reason, or a reason too long.
        ConflictError: already revoked.
    """
    now = now or now_utc()
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError(
            "Причина отзыва", "укажите причину отзыва права доступа", key="reason"
        )
    if len(reason) > MAX_REASON:
        raise ValidationError("Причина отзыва", f"не длиннее {MAX_REASON} символов", key="reason")
    grant = session.scalar(
        select(ChildAccessGrant).where(ChildAccessGrant.id == grant_id).with_for_update()
    )
    if grant is None:
        raise NotFoundError("Запись о доступе не найдена.")
    if grant.revoked_at is not None:
        raise ConflictError(f"Доступ уже отозван {local_day(grant.revoked_at):%d.%m.%Y}.")
    grant.revoked_at = now
    grant.revoked_by = actor.staff_id
    grant.revoke_reason = reason
    if grant.sms_id is not None:
        sms.supersede(session, grant.sms_id)  # a code not yet sent must not go out
    audit.record(
        session,
        actor,
        "child_access.revoke",
        patient_id=grant.child_id,
        object_type="child_access_grant",
        object_id=grant.id,
        details=f"relative={grant.relative_id} reason={reason}",
    )
    session.commit()
    return _row(session, grant, now)


# --- the portal's side -------------------------------------------------------------------------
PORTAL = Actor(staff_id=None, workstation_id=None)


@dataclass(frozen=True)
class Redeemed:
    grant_id: int
    child_id: int
    relative_id: int


def redeem(session: Session, phone: str, code: str, *, now: dt.datetime | None = None) -> Redeemed:
    """Check a code the parent typed on the portal; on success access is on.

    Wrong tries are counted against every open code sent to that phone (a parent may have
    codes for two children), and committed even though the call then fails.

    Raises:
        ValidationError: the phone is not a mobile number.
        CodeRejected: wrong, expired, used, locked or revoked — the message says which.
    """
    now = now or now_utc()
    e164 = normalize_phone(phone)
    code = code.strip()
    grants = list(
        session.scalars(
            select(ChildAccessGrant)
            .where(
                ChildAccessGrant.phone == e164,
                ChildAccessGrant.revoked_at.is_(None),
                ChildAccessGrant.code_used_at.is_(None),
            )
            .order_by(ChildAccessGrant.id)
            .with_for_update()
        )
    )
    today = local_day(now)
    open_codes = [
        g
        for g in grants
        if g.failed_attempts < MAX_TRIES and now < g.code_expires_at and today < g.ends_on
    ]
    wellformed = len(code) == CODE_DIGITS and code.isascii() and code.isdigit()
    for g in open_codes:
        if wellformed and verify_code(code, g.code_hash):
            g.code_used_at = now
            audit.record(
                session,
                PORTAL,
                "child_access.redeem",
                patient_id=g.child_id,
                object_type="child_access_grant",
                object_id=g.id,
                details=f"relative={g.relative_id}",
            )
            session.commit()
            return Redeemed(grant_id=g.id, child_id=g.child_id, relative_id=g.relative_id)
    # Not an open code: say why in the parent's terms, and count the try.
    for g in open_codes:
        g.failed_attempts += 1
        audit.record(
            session,
            PORTAL,
            "child_access.locked" if g.failed_attempts >= MAX_TRIES else "child_access.wrong_code",
            patient_id=g.child_id,
            object_type="child_access_grant",
            object_id=g.id,
            details=f"try={g.failed_attempts}",
        )
    session.commit()
    if open_codes:
        left = MAX_TRIES - max(g.failed_attempts for g in open_codes)
        if left <= 0:
            raise CodeRejected(
                "Неверный код. Код заблокирован после 5 неверных попыток — "
                "попросите в регистратуре отправить новый."
            )
        raise CodeRejected(f"Неверный код. Осталось попыток: {left}.")
    if any(g.failed_attempts >= MAX_TRIES for g in grants):
        raise CodeRejected(
            "Код заблокирован после 5 неверных попыток — попросите в регистратуре отправить новый."
        )
    if any(now >= g.code_expires_at for g in grants):
        raise CodeRejected("Срок действия кода истёк — попросите в регистратуре отправить новый.")
    raise CodeRejected("Для этого номера нет действующего кода.")


def check(session: Session, grant_id: int, *, now: dt.datetime | None = None) -> bool:
    """Is this access on right now?  What the portal asks on every visit: false after a
    revocation, after the child's 18th birthday, and before the code was redeemed."""
    now = now or now_utc()
    g = session.get(ChildAccessGrant, grant_id)
    return (
        g is not None
        and g.revoked_at is None
        and g.code_used_at is not None
        and local_day(now) < g.ends_on
    )


# --- the paper application ---------------------------------------------------------------------
APPLICATION = "child_access_application"  # the archive's object type; its id is the relation's


@dataclass(frozen=True)
class ApplicationPrint:
    """What the «Заявка на предоставление доступа к ЭМК ребенка» prints."""

    child_id: int
    relation_id: int
    copy_no: int  # the archive's copy number (the relation is the printed object)
    organisation: str
    organisation_address: str
    child_name: str
    child_birth_date: dt.date
    child_policy: str
    relative_name: str
    relative_birth_date: dt.date
    relation_label: str
    phone: str  # as printed: «+7 916 123-45-67», or "" for a line to write on
    address: str
    date: dt.date
    ends_on: dt.date


def application_data(
    session: Session, child_id: int, relative_id: int, phone: str = "", today: dt.date | None = None
) -> ApplicationPrint:
    """The application's data; the phone typed in the form wins over the card's.

    Raises:
        ValidationErrors: the child or the relative is not eligible (the paper would be
            signed for nothing).
    """
    today = today or local_day(now_utc())
    child = _child(session, child_id)
    info = _child_info(child, today)
    rel = session.scalar(
        select(FamilyRelation)
        .where(FamilyRelation.patient_id == child_id, FamilyRelation.relative_id == relative_id)
        .order_by(FamilyRelation.valid_to.is_not(None), FamilyRelation.id.desc())
    )
    errors = []
    if info.refusal:
        errors.append(ValidationError("Пациент", info.refusal, key="child"))
    if rel is None:
        errors.append(
            ValidationError("ФИО родственника", "нет в родственных связях ребенка", key="relative")
        )
    elif why := _relation_refusal(rel, rel.relative, today):
        errors.append(ValidationError("ФИО родственника", why, key="relative"))
    if errors:
        raise ValidationErrors(errors)
    assert rel is not None
    relative = rel.relative
    printed_phone = ""
    for candidate in (phone, relative.phone):
        try:
            printed_phone = format_phone(normalize_phone(candidate))
            break
        except ValidationError:
            continue
    org = None
    if child.attachment_department_id is not None:
        dep = session.get(Department, child.attachment_department_id)
        org = dep.organisation if dep is not None else None
    org = org or session.scalar(select(Organisation).order_by(Organisation.id))
    return ApplicationPrint(
        child_id=child_id,
        relation_id=rel.id,
        copy_no=printouts.next_copy(session, APPLICATION, rel.id),
        organisation=org.name if org else "",
        organisation_address=org.address if org else "",
        child_name=_name(child),
        child_birth_date=child.birth_date,
        child_policy=child.policy_number or "",
        relative_name=_name(relative),
        relative_birth_date=relative.birth_date,
        relation_label=KIND_LABELS[rel.kind],
        phone=printed_phone,
        address=relative.address,
        date=today,
        ends_on=info.adult_on,
    )
