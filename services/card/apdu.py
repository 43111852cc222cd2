"""The doctor-card applet: every command ARM sends and every answer it understands.

This is the one definition of the card's protocol, shared by the host (:mod:`.session`) and
the emulator (:mod:`.applet`).  It follows ISO/IEC 7816-4 and what was measured on this
machine (``shared/CARDS.md``):

=====================================  ============================================================
command                                answer
=====================================  ============================================================
SELECT by AID ``00 A4 04 00 Lc AID``   ``9000`` + FCI, ``6A82`` for any other AID
READ BINARY SFI 1 ``00 B0 81 00 00``   employee record ``E1{80 id, 81 ФИО UTF-8, 82 role}``;
                                       readable without a PIN — for display only, never trusted
GET DATA ``00 CA 00 5A 00``            the card's serial number (ASCII)
GET DATA ``00 CA 7F 49 00``            EC P-256 public key ``7F49{86 04‖X‖Y}``
VERIFY ``00 20 00 81 Lc PIN``          ``9000``; ``63Cx`` wrong, x tries left; ``6983`` blocked.
                                       Without data: the PIN status, no try spent.
RESET RETRY ``00 2C 00 81 Lc PUK‖PIN``  unblocks with the 8-digit PUK and sets a new PIN
INTERNAL AUTHENTICATE                  DER ECDSA-SHA256 signature of the challenge by the card's
``00 88 00 00 Lc challenge 00``        private key; ``6982`` until the PIN is verified
=====================================  ============================================================

Power-up, reset and re-SELECT clear the "PIN verified" state.  Identity is proven only by
INTERNAL AUTHENTICATE against the public key enrolled in ARM's database for the card's serial
(:mod:`services.signin`): a copied serial or employee record, or a replayed signature of an
old challenge, proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "AID",
    "CHALLENGE_LEN",
    "EmployeeRecord",
    "SW",
    "decode_employee",
    "decode_public_key",
    "encode_employee",
    "encode_public_key",
    "get_public_key",
    "get_serial",
    "internal_authenticate",
    "read_employee",
    "reset_retry",
    "select_applet",
    "tlv",
    "verify_pin",
]

#: The applet's AID: F0 (proprietary) ‖ "DOCTOR" ‖ version 01.
AID: Final = bytes.fromhex("F0444F43544F5201")
#: Bytes of fresh randomness the workstation asks the card to sign.
CHALLENGE_LEN: Final = 32
PIN_REF: Final = 0x81
MAX_PIN_LEN: Final = 12


class SW:
    """Status words (ISO 7816-4) the applet answers with."""

    OK: Final = 0x9000
    WRONG_PIN_MASK: Final = 0x63C0  # 63Cx: x tries left
    SECURITY_NOT_SATISFIED: Final = 0x6982
    PIN_BLOCKED: Final = 0x6983
    WRONG_DATA: Final = 0x6A80
    FILE_NOT_FOUND: Final = 0x6A82
    WRONG_LENGTH: Final = 0x6700
    INS_NOT_SUPPORTED: Final = 0x6D00
    CLA_NOT_SUPPORTED: Final = 0x6E00
    WRONG_P1P2: Final = 0x6B00
    CONDITIONS_NOT_SATISFIED: Final = 0x6985
    UNKNOWN: Final = 0x6F00


def _case3(ins: int, p1: int, p2: int, data: bytes, *, le: bool = False) -> bytes:
    if not 0 < len(data) < 256:
        raise ValueError("short APDU data must be 1..255 bytes")
    return bytes([0x00, ins, p1, p2, len(data)]) + data + (b"\x00" if le else b"")


def select_applet() -> bytes:
    return _case3(0xA4, 0x04, 0x00, AID, le=True)


def read_employee() -> bytes:
    return bytes([0x00, 0xB0, 0x81, 0x00, 0x00])  # READ BINARY, SFI 1, offset 0, Le 256


def get_serial() -> bytes:
    return bytes([0x00, 0xCA, 0x00, 0x5A, 0x00])


def get_public_key() -> bytes:
    return bytes([0x00, 0xCA, 0x7F, 0x49, 0x00])


def verify_pin(pin: str | None) -> bytes:
    """VERIFY; ``None`` asks for the PIN status without spending a try."""
    if pin is None:
        return bytes([0x00, 0x20, 0x00, PIN_REF])
    return _case3(0x20, 0x00, PIN_REF, pin.encode("ascii"))


def reset_retry(puk: str, new_pin: str) -> bytes:
    return _case3(0x2C, 0x00, PIN_REF, puk.encode("ascii") + new_pin.encode("ascii"))


def internal_authenticate(challenge: bytes) -> bytes:
    return _case3(0x88, 0x00, 0x00, challenge, le=True)


# --- TLV ---------------------------------------------------------------------------------
def tlv(tag: int, value: bytes) -> bytes:
    """BER-TLV with one- or two-byte tags and definite lengths up to 65535."""
    t = tag.to_bytes(2, "big") if tag > 0xFF else bytes([tag])
    n = len(value)
    if n < 0x80:
        ln = bytes([n])
    elif n < 0x100:
        ln = bytes([0x81, n])
    else:
        ln = bytes([0x82]) + n.to_bytes(2, "big")
    return t + ln + value


def _parse(data: bytes) -> dict[int, bytes]:
    """One level of BER-TLV; raises ValueError on anything malformed (a card is input)."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:  # two-byte tag
            if i >= len(data):
                raise ValueError("truncated tag")
            tag = (tag << 8) | data[i]
            i += 1
        if i >= len(data):
            raise ValueError("truncated length")
        n = data[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            if k not in (1, 2) or i + k > len(data):
                raise ValueError("bad length")
            n = int.from_bytes(data[i : i + k], "big")
            i += k
        if i + n > len(data):
            raise ValueError("value runs past the end")
        out[tag] = data[i : i + n]
        i += n
    return out


@dataclass(frozen=True)
class EmployeeRecord:
    """What the card says about its holder — shown while asking the PIN, never trusted."""

    employee_id: str
    name: str
    role: str


def encode_employee(rec: EmployeeRecord) -> bytes:
    body = (
        tlv(0x80, rec.employee_id.encode())
        + tlv(0x81, rec.name.encode())
        + tlv(0x82, rec.role.encode())
    )
    return tlv(0xE1, body)


def decode_employee(data: bytes) -> EmployeeRecord:
    outer = _parse(data)
    if 0xE1 not in outer:
        raise ValueError("no employee template E1")
    inner = _parse(outer[0xE1])
    try:
        return EmployeeRecord(
            employee_id=inner.get(0x80, b"").decode()[:64],
            name=inner.get(0x81, b"").decode()[:200],
            role=inner.get(0x82, b"").decode()[:32],
        )
    except UnicodeDecodeError as exc:
        raise ValueError("employee record is not UTF-8") from exc


def encode_public_key(point: bytes) -> bytes:
    return tlv(0x7F49, tlv(0x86, point))


def decode_public_key(data: bytes) -> bytes:
    """The uncompressed P-256 point (65 bytes, ``04‖X‖Y``)."""
    outer = _parse(data)
    point = _parse(outer.get(0x7F49, b"")).get(0x86, b"")
    if len(point) != 65 or point[0] != 0x04:
        raise ValueError("not an uncompressed P-256 point")
    return point
