"""The OMS policy reader against the emulator's applet, and against broken cards."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.card.oms import (
    NotOmsCard,
    OmsHolder,
    encode_holder,
    parse_holder,
    read_holder,
)
from services.card.oms_applet import OmsApplet
from services.card.session import CardError, applet_transmit
from services.models import Sex
from services.validation import make_policy, make_snils

HOLDER = OmsHolder(
    policy=make_policy(42),
    surname="Кораблёва",
    name="Нина",
    patronymic="Петровна",
    sex=Sex.FEMALE,
    birth_date=dt.date(1985, 3, 15),
    snils=make_snils(2_000_042),
)


def test_reads_the_holder_through_the_apdus_the_mis_use() -> None:
    sent: list[bytes] = []
    applet = OmsApplet(HOLDER)

    def transmit(c: bytes) -> tuple[bytes, int]:
        sent.append(c)
        r = applet.process(c)
        return r[:-2], int.from_bytes(r[-2:], "big")

    assert read_holder(transmit) == HOLDER
    assert sent[0] == bytes.fromhex("00A4040C09") + b"foms_root"
    assert sent[1] == bytes.fromhex("00A4040C07") + b"FOMS_ID"
    assert sent[2] == bytes.fromhex("00A4020C020201")
    assert sent[3] == bytes.fromhex("00B0000001")


def test_a_long_file_is_read_in_chunks() -> None:
    long = OmsHolder(HOLDER.policy, "Х" * 120, "Ю" * 100, "Я" * 90, Sex.MALE, None, "")
    applet = OmsApplet(long)
    got = read_holder(applet_transmit(applet.process))
    assert got.surname == "Х" * 120
    assert got.birth_date is None
    assert got.snils == ""


def test_a_staff_card_or_a_bank_card_is_not_a_policy() -> None:
    from services.card.applet import DoctorApplet, new_card

    staff = DoctorApplet(new_card("S-1", "1", "Петрова А. С.", "doctor"))
    with pytest.raises(NotOmsCard, match="не полис ОМС"):
        read_holder(applet_transmit(staff.process))


def test_the_birth_date_is_packed_bcd_day_month_century_year() -> None:
    data = encode_holder(HOLDER)
    assert bytes.fromhex("5F240415031985") in data
    assert "Кораблёва".encode() in data


def test_broken_files_raise_card_errors_never_crash() -> None:
    with pytest.raises(NotOmsCard):
        parse_holder(b"")
    with pytest.raises(NotOmsCard):
        parse_holder(bytes.fromhex("6205") + b"\x5f\x26\x10")  # truncated
    with pytest.raises(NotOmsCard):
        parse_holder(bytes.fromhex("62 06 5F26 03 313233".replace(" ", "")))  # 3 digits
    odd = encode_holder(HOLDER).replace(
        bytes.fromhex("5F240415031985"), bytes.fromhex("5F240499991985")
    )
    assert parse_holder(odd).birth_date is None  # 99.99: no date rather than an error

    card = OmsApplet(HOLDER)
    calls = 0

    def dying(c: bytes) -> tuple[bytes, int]:  # the card is pulled after the header
        nonlocal calls
        calls += 1
        if calls > 5:
            return b"", 0x6F00
        r = card.process(c)
        return r[:-2], int.from_bytes(r[-2:], "big")

    with pytest.raises(CardError, match="чтение данных владельца"):
        read_holder(dying)


@given(st.binary(max_size=600))
def test_parsing_garbage_is_an_error_or_a_holder(blob: bytes) -> None:
    try:
        h = parse_holder(blob)
    except NotOmsCard:
        return
    assert len(h.policy) == 16
