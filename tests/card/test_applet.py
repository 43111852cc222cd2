"""The applet and the host session against each other in memory: the protocol's rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from services.card import apdu
from services.card.applet import DoctorApplet, new_card
from services.card.session import CardError, CardSession, PinBlocked, WrongPin, applet_transmit


def _card(tmp_path: Path) -> tuple[DoctorApplet, CardSession]:
    applet = DoctorApplet(new_card("S-1", "42", "Петрова А. С.", "doctor"))
    applet.save(tmp_path / "card.json")
    applet.power_on()
    session = CardSession(applet_transmit(applet.process))
    session.select()
    return applet, session


def test_reads_identity_and_signs_only_after_pin(tmp_path: Path) -> None:
    applet, card = _card(tmp_path)
    assert card.serial() == "S-1"
    assert card.employee() == apdu.EmployeeRecord("42", "Петрова А. С.", "doctor")
    assert card.pin_tries_left() == 3
    with pytest.raises(CardError, match="без проверенного PIN"):
        card.sign(os.urandom(32))
    card.verify_pin("1234")
    assert card.pin_tries_left() is None  # verified; the status query spent nothing
    challenge = os.urandom(32)
    sig = card.sign(challenge)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), card.public_key())
    key.verify(sig, challenge, ec.ECDSA(hashes.SHA256()))
    # Power-up and re-SELECT forget the PIN.
    applet.power_on()
    card.select()
    with pytest.raises(CardError):
        card.sign(challenge)


def test_three_wrong_pins_block_and_stay_blocked_across_reload(tmp_path: Path) -> None:
    applet, card = _card(tmp_path)
    with pytest.raises(WrongPin) as e1:
        card.verify_pin("0000")
    assert e1.value.tries_left == 2
    assert "Осталось 2 попытки" in str(e1.value)
    with pytest.raises(WrongPin) as e2:
        card.verify_pin("0000")
    assert e2.value.tries_left == 1
    with pytest.raises(PinBlocked):
        card.verify_pin("0000")
    with pytest.raises(PinBlocked):
        card.verify_pin("1234")  # the right PIN no longer helps
    reloaded = DoctorApplet.load(tmp_path / "card.json")
    again = CardSession(applet_transmit(reloaded.process))
    again.select()
    with pytest.raises(PinBlocked):
        again.pin_tries_left()
    # The PUK unblocks and sets a new PIN.
    assert reloaded.process(apdu.reset_retry("12345678", "4321"))[-2:] == b"\x90\x00"
    again.verify_pin("4321")


def test_a_correct_pin_resets_the_counter(tmp_path: Path) -> None:
    _applet, card = _card(tmp_path)
    with pytest.raises(WrongPin):
        card.verify_pin("9999")
    card.verify_pin("1234")
    assert card.pin_tries_left() is None


def test_another_aid_is_not_a_staff_card(tmp_path: Path) -> None:
    applet, _card_ = _card(tmp_path)
    other = bytes([0x00, 0xA4, 0x04, 0x00, 0x05]) + b"\xa0\x00\x00\x00\x03" + b"\x00"
    assert applet.process(other)[-2:] == b"\x6a\x82"

    def foreign(command: bytes) -> tuple[bytes, int]:
        return b"", 0x6A82

    with pytest.raises(CardError, match="не карта сотрудника"):
        CardSession(foreign).select()


def test_pin_input_rules_are_checked_before_the_card(tmp_path: Path) -> None:
    _applet, card = _card(tmp_path)
    for bad in ("", "12ab", "1" * 13):
        with pytest.raises(CardError, match="PIN-код"):
            card.verify_pin(bad)
    assert card.pin_tries_left() == 3  # nothing was spent


@given(st.binary(max_size=300))
def test_hostile_apdus_never_crash_the_card(data: bytes) -> None:
    applet = DoctorApplet(_STATE)
    applet.power_on()
    applet.process(apdu.select_applet())
    resp = applet.process(data)
    assert len(resp) >= 2


@given(st.binary(max_size=200))
def test_hostile_records_are_refused_cleanly(data: bytes) -> None:
    for decode in (apdu.decode_employee, apdu.decode_public_key):
        try:
            decode(data)
        except ValueError:
            pass


def test_tlv_round_trip_with_long_values() -> None:
    rec = apdu.EmployeeRecord("1" * 10, "Я" * 150, "doctor")
    assert apdu.decode_employee(apdu.encode_employee(rec)) == rec


_STATE = new_card("H-1", "1", "Тест", "doctor")
