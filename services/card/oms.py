"""The electronic OMS policy (электронный полис ОМС): its applet, files and data layout.

What existing Russian MIS send to the card (Vista-Med's ``ScardsModule/scard_reader.py``, and
SAMSON's ``Registry/IdentCard/PolicySmartCard.py``, whose constants came from the official
policy-reader libraries; no public ФОМС specification of the chip was found), re-implemented
here from those protocol facts:

====  ==========================================  ==============================================
step  command (CLA 00, SELECTs with P2 = 0C)        meaning
====  ==========================================  ==============================================
1     ``00 A4 04 0C 09 'foms_root'``               select the ФОМС root application by name
2     ``00 A4 04 0C 07 'FOMS_ID'``                 the card-holder application
3     ``00 A4 02 0C 02 02 01``                     its data file 0201
4     ``00 B0 00 00 01`` then ``00 B0 00 01 03``   the TLV tag, then its BER length
5     ``00 B0 <off_hi> <off_lo> <n ≤ 220>``         the value, in chunks of at most 220 bytes
====  ==========================================  ==============================================

Any status but ``90 00`` stops the read; a card that refuses step 1 is not an OMS policy (a
bank card, a staff card).  No PIN is asked: the holder's data is open, like the printed
policy.  The ATR of the cards in circulation is ``3B F7 13 00 00 81 31 FE 45 'FOMSOMS' A9``
(T=1).

File 0201 is BER-TLV: an outer tag ``62`` holding two-byte tags —

=======  ==========================================================================
``5F26``  ЕНП, the 16-digit policy number, as UTF-8 digits (no series)
``5F21``  surname, UTF-8            ``5F22`` name            ``5F23`` patronymic (optional)
``5F25``  sex, one byte: 1 male, 2 female
``5F24``  birth date, 4 bytes packed BCD: day, month, century, year (15 03 19 85)
``5F27``  СНИЛС (optional, 11 digits as text)
``5F28``  expiry date, ``5F2A`` issue date (BCD as above), ``5F29`` birth place
``7F30``  citizenship (``5F31`` country code, ``5F32`` name), ``7F40`` photo
=======  ==========================================================================

Fields are found by tag, in any order, with bounds checked (one MIS expected a fixed order and
read past the end of short files).  The insurer's records (``FOMS_INS``) are not read: the
registry keeps the policy number, not the insurer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from services.card.session import CardError, Transmit
from services.models import Sex

__all__ = [
    "ATR",
    "FOMS_ID",
    "FOMS_ROOT",
    "HOLDER_FILE",
    "NotOmsCard",
    "OmsHolder",
    "encode_holder",
    "parse_holder",
    "read_holder",
]

FOMS_ROOT = b"foms_root"
FOMS_ID = b"FOMS_ID"
HOLDER_FILE = b"\x02\x01"
ATR = bytes.fromhex("3BF71300008131FE45") + b"FOMSOMS" + b"\xa9"
CHUNK = 220
MAX_FILE = 16_384  # a photo fits; anything longer is not a policy file
SW_OK = 0x9000

TAG_HOLDER = 0x62
TAG_POLICY = 0x5F26
TAG_SURNAME = 0x5F21
TAG_NAME = 0x5F22
TAG_PATRONYMIC = 0x5F23
TAG_BIRTH = 0x5F24
TAG_SEX = 0x5F25
TAG_SNILS = 0x5F27


class NotOmsCard(CardError):
    """The card in the patient reader has no OMS application (a bank card, a staff card)."""


@dataclass(frozen=True)
class OmsHolder:
    """Who the policy belongs to, as the chip says (not yet checked against anything)."""

    policy: str
    surname: str
    name: str
    patronymic: str
    sex: Sex | None
    birth_date: dt.date | None
    snils: str  # "" when the card has none

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)


# --- BER-TLV -----------------------------------------------------------------------------------
def _tlv(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, value) pairs of one level; stops quietly at a truncated entry."""
    i = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:  # multi-byte tag: 5F26, 7F30 …
            while i < len(data):
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= len(data):
            return
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 3 or i + n > len(data):
                return
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        if i + length > len(data):
            return
        yield tag, data[i : i + length]
        i += length


def _length_bytes(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return b"\x81" + bytes([n])
    return b"\x82" + n.to_bytes(2, "big")


def _tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(2 if tag > 0xFF else 1, "big")


def _bcd_date(raw: bytes) -> dt.date | None:
    if len(raw) != 4:
        return None
    digits = raw.hex()
    try:
        day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:8])
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date_bcd(d: dt.date) -> bytes:
    return bytes.fromhex(f"{d.day:02d}{d.month:02d}{d.year:04d}")


def _text(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8", errors="replace").split())


def parse_holder(data: bytes) -> OmsHolder:
    """Decode file 0201; a file without a policy number is not a policy."""
    outer = dict(_tlv(data))
    fields = dict(_tlv(outer.get(TAG_HOLDER, b"")))
    policy = "".join(ch for ch in _text(fields.get(TAG_POLICY, b"")) if ch.isdigit())
    if len(policy) != 16:
        raise NotOmsCard("На карте нет номера полиса ОМС (16 цифр) — это не полис.")
    sex_raw = fields.get(TAG_SEX, b"")
    sex = {1: Sex.MALE, 2: Sex.FEMALE}.get(sex_raw[0]) if len(sex_raw) == 1 else None
    snils = "".join(ch for ch in _text(fields.get(TAG_SNILS, b"")) if ch.isdigit())
    return OmsHolder(
        policy=policy,
        surname=_text(fields.get(TAG_SURNAME, b"")),
        name=_text(fields.get(TAG_NAME, b"")),
        patronymic=_text(fields.get(TAG_PATRONYMIC, b"")),
        sex=sex,
        birth_date=_bcd_date(fields.get(TAG_BIRTH, b"")),
        snils=snils if len(snils) == 11 else "",
    )


def encode_holder(h: OmsHolder) -> bytes:
    """File 0201 for a holder — what the emulator's patient card carries."""
    body = b""
    for tag, value in (
        (TAG_POLICY, h.policy.encode()),
        (TAG_SURNAME, h.surname.encode()),
        (TAG_NAME, h.name.encode()),
        (TAG_PATRONYMIC, h.patronymic.encode()),
        (TAG_SEX, bytes([1 if h.sex == Sex.MALE else 2]) if h.sex else b""),
        (TAG_BIRTH, _date_bcd(h.birth_date) if h.birth_date else b""),
        (TAG_SNILS, h.snils.encode()),
    ):
        if value:
            body += _tag_bytes(tag) + _length_bytes(len(value)) + value
    return bytes([TAG_HOLDER]) + _length_bytes(len(body)) + body


# --- the conversation --------------------------------------------------------------------------
def _select_name(name: bytes) -> bytes:
    return bytes([0x00, 0xA4, 0x04, 0x0C, len(name)]) + name


def _select_file(fid: bytes) -> bytes:
    return bytes([0x00, 0xA4, 0x02, 0x0C, len(fid)]) + fid


def _read(offset: int, n: int) -> bytes:
    return bytes([0x00, 0xB0, (offset >> 8) & 0x7F, offset & 0xFF, n])


def read_holder(transmit: Transmit) -> OmsHolder:
    """Read the holder's data from an inserted card (raises :class:`NotOmsCard`)."""
    _data, sw = transmit(_select_name(FOMS_ROOT))
    if sw != SW_OK:
        raise NotOmsCard("Карта в считывателе пациента — не полис ОМС (нет приложения ФОМС).")

    def call(apdu: bytes, what: str) -> bytes:
        data, sw = transmit(apdu)
        if sw != SW_OK:
            raise CardError(f"Полис ОМС: ошибка при операции «{what}» (код {sw:04X})")
        return data

    call(_select_name(FOMS_ID), "выбор данных владельца")
    call(_select_file(HOLDER_FILE), "выбор файла 0201")
    head = call(_read(0, 1), "чтение заголовка")
    first = call(_read(1, 1), "чтение длины")
    if len(head) != 1 or len(first) != 1:
        raise CardError("Полис ОМС: файл данных владельца повреждён")
    extra = first[0] & 0x7F if first[0] & 0x80 else 0
    if extra > 2:
        raise CardError("Полис ОМС: файл данных владельца повреждён")
    more = call(_read(2, extra), "чтение длины") if extra else b""
    length = int.from_bytes(more, "big") if extra else first[0]
    if length > MAX_FILE:
        raise CardError("Полис ОМС: файл данных владельца слишком длинный")
    start = 2 + extra
    value = b""
    while len(value) < length:
        n = min(CHUNK, length - len(value))
        part = call(_read(start + len(value), n), "чтение данных владельца")
        if not part:
            raise CardError("Полис ОМС: файл данных владельца оборван")
        value += part
    return parse_holder(head + first + more + value[:length])
