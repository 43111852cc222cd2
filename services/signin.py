"""Signing in with the staff card: who the card belongs to, the PIN, and the proof.

The flow the login screen drives, each step one call off the GUI thread:

1. :meth:`SignIn.identify` — read the card (serial, holder record for display, PIN status) and
   look its serial up among enrolled cards.  Unknown card, revoked card, inactive staff member
   and a blocked PIN stop here with their own message and audit event; no PIN is asked for.
2. :meth:`SignIn.login` — VERIFY the PIN, then INTERNAL AUTHENTICATE: the card signs 32 fresh
   random bytes and the signature is checked against the public key enrolled for that serial.
   Only that proves the card: a copied serial or holder record cannot sign, and a recorded
   signature is for a challenge that will never be asked again.

Enrolment binds a card's public key to a staff member (``arm admin card enroll``).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services import audit
from services.audit import Actor
from services.card import apdu
from services.card.apdu import EmployeeRecord
from services.card.session import CardError, CardSession, PinBlocked, Transmit, WrongPin
from services.db import database_errors, describe_database
from services.errors import ArmError, ConflictError, NotFoundError, PeerUnavailable
from services.models import CardBinding, Role, Staff

__all__ = [
    "CardInfo",
    "CardRefused",
    "SignIn",
    "SignedIn",
    "StaffCard",
    "enroll_card",
    "revoke_card",
]


class CardRefused(ArmError):
    """The card is readable but does not let anyone in here (unknown, revoked, inactive…)."""


@dataclass(frozen=True)
class CardInfo:
    """What was read from the card before the PIN: for the PIN prompt, not for trust."""

    reader: str
    serial: str
    holder: EmployeeRecord
    tries_left: int | None


@dataclass(frozen=True)
class StaffCard:
    """The enrolled card and the staff member it opens, as the database says."""

    serial: str
    staff_id: int
    short_name: str
    position: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class SignedIn:
    staff_id: int
    short_name: str
    position: str
    roles: frozenset[Role]
    serial: str
    reader: str

    def actor(self, workstation_id: int | None) -> Actor:
        return Actor(self.staff_id, workstation_id, self.roles)


#: Opens the card in a reader: ``(transmit, close)``.  Production: pyscard through pcscd.
CardOpener = Callable[[str], tuple[Transmit, Callable[[], None]]]


class SignIn:
    """The sign-in use cases for one workstation; each call is its own transaction."""

    def __init__(
        self, sessions: sessionmaker[Session], workstation_id: int | None, open_card: CardOpener
    ) -> None:
        self._sessions = sessions
        self.workstation_id = workstation_id
        self._open_card = open_card
        bind = sessions.kw.get("bind")
        self._peer = describe_database(bind.engine.url) if bind is not None else "База данных"

    # --- audit ----------------------------------------------------------------------------
    def record(self, action: str, staff_id: int | None, details: str = "") -> None:
        """A session event (login, lock, unlock, switch, logout, refusals) with this PC's id."""
        with database_errors(self._peer), self._sessions.begin() as s:
            audit.record(
                s,
                Actor(staff_id, self.workstation_id),
                action,
                object_type="session",
                details=details,
            )

    # --- step 1 ---------------------------------------------------------------------------
    def identify(self, reader: str, *, settle_s: float = 2.0) -> tuple[CardInfo, StaffCard]:
        """Read the card just inserted.  A card's first moments in a reader are noisy (half
        inserted, powering up: "transaction failed"), so the link is retried for
        ``settle_s``; the card's own answers are never retried."""
        deadline = time.monotonic() + settle_s
        while True:
            try:
                return self._identify(reader)
            except PeerUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _identify(self, reader: str) -> tuple[CardInfo, StaffCard]:
        transmit, close = self._open_card(reader)
        try:
            card = CardSession(transmit)
            card.select()
            serial = card.serial()
            holder = card.employee()
            try:
                tries = card.pin_tries_left()
            except PinBlocked:
                tries = 0
        finally:
            close()
        info = CardInfo(reader, serial, holder, tries)
        staff = self._staff_card(serial)
        if tries == 0:
            self.record("session.pin_blocked", staff.staff_id, f"card {serial}")
            raise PinBlocked()
        return info, staff

    def _staff_card(self, serial: str) -> StaffCard:
        with database_errors(self._peer), self._sessions() as s:
            binding = s.scalar(select(CardBinding).where(CardBinding.card_serial == serial))
            refusal: tuple[str, int | None, str]
            if binding is None:
                refusal = (
                    "session.card_unknown",
                    None,
                    "Карта не зарегистрирована в ARM. "
                    "Обратитесь к администратору: «arm admin card enroll».",
                )
            elif binding.revoked_at is not None:
                refusal = (
                    "session.card_revoked",
                    binding.staff_id,
                    "Карта отозвана администратором и не может использоваться для входа.",
                )
            elif not binding.staff.active:
                refusal = (
                    "session.staff_inactive",
                    binding.staff_id,
                    "Сотрудник, которому выдана карта, не работает в организации "
                    "(учётная запись отключена).",
                )
            else:
                st = binding.staff
                return StaffCard(
                    serial, st.id, st.short_name, st.position, frozenset(r.role for r in st.roles)
                )
        action, staff_id, message = refusal
        self.record(action, staff_id, f"card {serial}")
        raise CardRefused(message)

    # --- step 2 ---------------------------------------------------------------------------
    def login(self, reader: str, expected: StaffCard, pin: str, *, purpose: str) -> SignedIn:
        """PIN, then challenge–response.  ``purpose`` names the audit event: ``login``,
        ``unlock`` or ``switch``."""
        transmit, close = self._open_card(reader)
        try:
            card = CardSession(transmit)
            card.select()
            serial = card.serial()
            if serial != expected.serial:
                raise CardError("В считывателе уже другая карта. Вставьте карту заново.")
            try:
                card.verify_pin(pin)
            except WrongPin as exc:
                self.record("session.pin_failed", expected.staff_id, f"tries left {exc.tries_left}")
                raise
            except PinBlocked:
                self.record("session.pin_blocked", expected.staff_id, f"card {serial}")
                raise
            challenge = os.urandom(apdu.CHALLENGE_LEN)
            signature = card.sign(challenge)
        finally:
            close()
        return self.check_proof(expected, challenge, signature, reader=reader, purpose=purpose)

    def check_proof(
        self, expected: StaffCard, challenge: bytes, signature: bytes, *, reader: str, purpose: str
    ) -> SignedIn:
        """Verify the card's signature of *our* challenge against the enrolled key (re-read
        now: a card revoked while the PIN was typed does not get in)."""
        staff = self._staff_card(expected.serial)
        with database_errors(self._peer), self._sessions() as s:
            key_bytes = s.scalar(
                select(CardBinding.public_key).where(CardBinding.card_serial == expected.serial)
            )
        assert key_bytes is not None
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_bytes)
            key.verify(signature, challenge, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            self.record("session.auth_failed", staff.staff_id, f"card {expected.serial}")
            raise CardRefused(
                "Карта не прошла проверку подлинности: подпись не совпадает с ключом, "
                "зарегистрированным для этой карты. Вход запрещён; событие записано."
            ) from None
        self.record(f"session.{purpose}", staff.staff_id, f"card {expected.serial}")
        return SignedIn(
            staff.staff_id, staff.short_name, staff.position, staff.roles, expected.serial, reader
        )


# --- administration ------------------------------------------------------------------------
def enroll_card(
    session: Session, actor: Actor, staff_id: int, serial: str, public_key: bytes
) -> CardBinding:
    """Bind a card to a staff member.  Re-enrolling a revoked serial is refused: a revoked
    card stays revoked; issue a new card instead."""
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFoundError(f"Сотрудник с номером {staff_id} не найден.")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    except ValueError:
        raise CardError("Открытый ключ карты не является ключом P-256.") from None
    existing = session.scalar(select(CardBinding).where(CardBinding.card_serial == serial))
    if existing is not None:
        if existing.revoked_at is not None:
            raise ConflictError(f"Карта {serial} отозвана; выдайте сотруднику новую карту.")
        if existing.staff_id != staff_id:
            raise ConflictError(f"Карта {serial} уже выдана другому сотруднику.")
        existing.public_key = public_key
        binding = existing
    else:
        binding = CardBinding(staff_id=staff_id, card_serial=serial, public_key=public_key)
        session.add(binding)
    session.flush()
    audit.record(
        session,
        actor,
        "card.enroll",
        object_type="card",
        object_id=binding.id,
        details=f"card {serial} → staff {staff_id}",
    )
    return binding


def revoke_card(session: Session, actor: Actor, *, serial: str) -> CardBinding:
    binding = session.scalar(select(CardBinding).where(CardBinding.card_serial == serial))
    if binding is None:
        raise NotFoundError(f"Карта {serial} не зарегистрирована.")
    if binding.revoked_at is None:
        binding.revoked_at = dt.datetime.now(dt.UTC)
        audit.record(
            session,
            actor,
            "card.revoke",
            object_type="card",
            object_id=binding.id,
            details=f"card {serial}",
        )
    return binding


def read_card_key(transmit: Transmit) -> tuple[str, EmployeeRecord, bytes]:
    """For enrolment: the serial, the holder record and the public key of the inserted card."""
    card = CardSession(transmit)
    card.select()
    return card.serial(), card.employee(), card.public_key()
