"""The doctor-card applet as software: the card inside the emulator and fast unit tests.

It implements :mod:`.apdu` exactly, with the state a real card keeps in its EEPROM (PIN, PUK,
retry counter, key pair, employee file) persisted to a JSON file after every change, so a
blocked card stays blocked across re-insertion and restarts.  Unexpected exceptions answer
``6F00`` rather than crash: a crash would look like the card being pulled.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.card import apdu
from services.card.apdu import SW, EmployeeRecord

__all__ = ["CardState", "DoctorApplet", "new_card"]

log = logging.getLogger(__name__)

MAX_TRIES = 3
#: A fixed, plausible ATR: T=1 offered, no historical bytes (3B 80 01 81 — TCK included).
ATR = bytes.fromhex("3B800181")


@dataclass
class CardState:
    """Everything a card remembers when powered off."""

    serial: str
    employee_id: str
    name: str
    role: str
    pin: str
    puk: str
    tries_left: int
    private_key_pem: str


def new_card(
    serial: str, employee_id: str, name: str, role: str, *, pin: str = "1234", puk: str = "12345678"
) -> CardState:
    """A freshly personalised card with its own EC P-256 key pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return CardState(serial, employee_id, name, role, pin, puk, MAX_TRIES, pem)


class DoctorApplet:
    """``process(apdu) -> response‖SW``, as the card's chip would."""

    def __init__(self, state: CardState, path: Path | None = None) -> None:
        self._state = state
        self._path = path
        key = serialization.load_pem_private_key(state.private_key_pem.encode(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("a doctor card holds an EC key")
        self._key: ec.EllipticCurvePrivateKey = key
        self._selected = False
        self._verified = False
        self._lock = threading.Lock()
        self.atr = ATR

    # --- persistence ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> DoctorApplet:
        return cls(CardState(**json.loads(path.read_text(encoding="utf-8"))), path)

    def save(self, path: Path | None = None) -> None:
        target = path or self._path
        if target is None:
            return
        self._path = target
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self._state), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)  # a crash mid-write never leaves a half-written card

    @property
    def state(self) -> CardState:
        return self._state

    def public_point(self) -> bytes:
        pub = self._key.public_key()
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        return pub.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    # --- power ----------------------------------------------------------------------------
    def power_on(self) -> None:
        """Power-up and reset forget the selection and the verified PIN."""
        with self._lock:
            self._selected = False
            self._verified = False

    power_off = reset = power_on

    # --- APDUs ----------------------------------------------------------------------------
    def process(self, command: bytes) -> bytes:
        with self._lock:
            try:
                data, sw = self._dispatch(command)
            except Exception:
                log.exception("applet error")
                data, sw = b"", SW.UNKNOWN
        return data + sw.to_bytes(2, "big")

    def _dispatch(self, c: bytes) -> tuple[bytes, int]:
        if len(c) < 4:
            return b"", SW.WRONG_LENGTH
        cla, ins, p1, p2 = c[0], c[1], c[2], c[3]
        body = b""
        if len(c) > 5:
            lc = c[4]
            body = c[5 : 5 + lc]
            if len(body) != lc:
                return b"", SW.WRONG_LENGTH
        if cla != 0x00:
            return b"", SW.CLA_NOT_SUPPORTED
        if ins == 0xA4:
            return self._select(p1, body)
        if not self._selected:
            return b"", SW.CONDITIONS_NOT_SATISFIED
        s = self._state
        if ins == 0xB0 and p1 == 0x81:
            rec = EmployeeRecord(s.employee_id, s.name, s.role)
            return apdu.encode_employee(rec), SW.OK
        if ins == 0xCA and (p1, p2) == (0x00, 0x5A):
            return s.serial.encode(), SW.OK
        if ins == 0xCA and (p1, p2) == (0x7F, 0x49):
            return apdu.encode_public_key(self.public_point()), SW.OK
        if ins == 0x20 and p2 == apdu.PIN_REF:
            return self._verify(body)
        if ins == 0x2C and p2 == apdu.PIN_REF:
            return self._reset_retry(body)
        if ins == 0x88:
            return self._sign(body)
        return b"", SW.INS_NOT_SUPPORTED

    def _select(self, p1: int, aid: bytes) -> tuple[bytes, int]:
        self._verified = False
        if p1 != 0x04 or aid != apdu.AID:
            self._selected = False
            return b"", SW.FILE_NOT_FOUND
        self._selected = True
        return apdu.tlv(0x6F, apdu.tlv(0x84, apdu.AID)), SW.OK

    def _verify(self, pin: bytes) -> tuple[bytes, int]:
        s = self._state
        if s.tries_left <= 0:
            return b"", SW.PIN_BLOCKED
        if not pin:  # status query: costs nothing
            return b"", SW.OK if self._verified else SW.WRONG_PIN_MASK | s.tries_left
        if pin == s.pin.encode():
            s.tries_left = MAX_TRIES
            self._verified = True
            self.save()
            return b"", SW.OK
        self._verified = False
        s.tries_left -= 1
        self.save()
        return b"", SW.PIN_BLOCKED if s.tries_left == 0 else SW.WRONG_PIN_MASK | s.tries_left

    def _reset_retry(self, body: bytes) -> tuple[bytes, int]:
        s = self._state
        if len(body) < 8 + 4 or body[:8] != s.puk.encode():
            return b"", SW.SECURITY_NOT_SATISFIED
        s.pin = body[8:].decode("ascii")
        s.tries_left = MAX_TRIES
        self.save()
        return b"", SW.OK

    def _sign(self, challenge: bytes) -> tuple[bytes, int]:
        if not self._verified:
            return b"", SW.SECURITY_NOT_SATISFIED
        if not challenge:
            return b"", SW.WRONG_DATA
        return self._key.sign(challenge, ec.ECDSA(hashes.SHA256())), SW.OK
