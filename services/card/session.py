"""The workstation's side of the doctor-card applet, over any ``transmit``.

``transmit(apdu) -> (data, sw)`` is the only thing it needs, so the same code runs against a
real reader through pcscd (:mod:`.pcsc`), the emulator through pcscd, and the in-memory
applet in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable

from services.card import apdu
from services.card.apdu import SW, EmployeeRecord
from services.errors import ArmError, PeerUnavailable

__all__ = [
    "CARD_PEER",
    "CardError",
    "CardSession",
    "PinBlocked",
    "Transmit",
    "WrongPin",
    "applet_transmit",
    "card_gone",
]

Transmit = Callable[[bytes], tuple[bytes, int]]


class CardError(ArmError):
    """The card answered something the applet does not allow — not a doctor card, or broken."""


class WrongPin(CardError):
    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        word = {1: "попытка", 2: "попытки"}.get(tries_left, "попыток")
        super().__init__(f"PIN-код: неверный. Осталось {tries_left} {word}.")


class PinBlocked(CardError):
    def __init__(self) -> None:
        super().__init__(
            "PIN-код заблокирован после трёх неверных попыток. Карту разблокирует администратор "
            "(PUK-код)."
        )


def applet_transmit(process: Callable[[bytes], bytes]) -> Transmit:
    """Adapt an applet's ``process(apdu) -> data‖SW`` to ``transmit``."""

    def transmit(command: bytes) -> tuple[bytes, int]:
        resp = process(command)
        return resp[:-2], int.from_bytes(resp[-2:], "big")

    return transmit


class CardSession:
    """One conversation with one inserted card."""

    def __init__(self, transmit: Transmit) -> None:
        self._transmit = transmit

    def _call(self, command: bytes, what: str) -> bytes:
        data, sw = self._transmit(command)
        if sw != SW.OK:
            raise CardError(f"Карта: ошибка при операции «{what}» (код {sw:04X})")
        return data

    def select(self) -> None:
        data, sw = self._transmit(apdu.select_applet())
        if sw == SW.FILE_NOT_FOUND:
            raise CardError("Это не карта сотрудника: на ней нет приложения ARM.")
        if sw != SW.OK:
            raise CardError(f"Карта не отвечает как карта сотрудника (код {sw:04X}).")
        del data

    def serial(self) -> str:
        raw = self._call(apdu.get_serial(), "чтение номера")
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise CardError("Карта: номер карты не читается.") from None
        if not text or len(text) > 64 or not text.isprintable():
            raise CardError("Карта: номер карты не читается.")
        return text

    def employee(self) -> EmployeeRecord:
        raw = self._call(apdu.read_employee(), "чтение владельца")
        try:
            return apdu.decode_employee(raw)
        except ValueError:
            raise CardError("Карта: запись о владельце повреждена.") from None

    def public_key(self) -> bytes:
        raw = self._call(apdu.get_public_key(), "чтение ключа")
        try:
            return apdu.decode_public_key(raw)
        except ValueError:
            raise CardError("Карта: открытый ключ повреждён.") from None

    def pin_tries_left(self) -> int | None:
        """Tries left (None when the PIN is already verified); :class:`PinBlocked` at zero."""
        _, sw = self._transmit(apdu.verify_pin(None))
        if sw == SW.OK:
            return None
        if sw == SW.PIN_BLOCKED:
            raise PinBlocked()
        if sw & 0xFFF0 == SW.WRONG_PIN_MASK:
            return sw & 0x0F
        raise CardError(f"Карта: состояние PIN-кода не читается (код {sw:04X}).")

    def verify_pin(self, pin: str) -> None:
        if not pin or not pin.isdigit() or len(pin) > apdu.MAX_PIN_LEN:
            raise CardError(f"PIN-код: от 1 до {apdu.MAX_PIN_LEN} цифр.")
        _, sw = self._transmit(apdu.verify_pin(pin))
        if sw == SW.OK:
            return
        if sw == SW.PIN_BLOCKED:
            raise PinBlocked()
        if sw & 0xFFF0 == SW.WRONG_PIN_MASK:
            tries = sw & 0x0F
            if tries == 0:
                raise PinBlocked()
            raise WrongPin(tries)
        raise CardError(f"Карта: проверка PIN-кода не удалась (код {sw:04X}).")

    def sign(self, challenge: bytes) -> bytes:
        data, sw = self._transmit(apdu.internal_authenticate(challenge))
        if sw == SW.SECURITY_NOT_SATISFIED:
            raise CardError("Карта: подпись без проверенного PIN-кода невозможна.")
        if sw != SW.OK:
            raise CardError(f"Карта: подпись не получена (код {sw:04X}).")
        return data


CARD_PEER = "Карта"


def card_gone(reader: str) -> PeerUnavailable:
    """The error every card operation ends with when the card is pulled mid-way."""
    return PeerUnavailable(CARD_PEER, f"извлечена из считывателя «{reader}»")
