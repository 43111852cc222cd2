"""The emulator's patient card: an OMS policy applet answering what :mod:`.oms` sends.

For the demo's tray and the tests, on the virtual reader's second slot.  It keeps to the
real card's ways that matter to a reader: SELECT by name with P2 = 0C and no data back,
offsets above 7FFF refused, a READ past the end answered with what is there (6282).
"""

from __future__ import annotations

from services.card.oms import ATR, FOMS_ID, FOMS_ROOT, HOLDER_FILE, OmsHolder, encode_holder

__all__ = ["OmsApplet"]

_OK = b"\x90\x00"
_NOT_FOUND = b"\x6a\x82"
_NOT_SELECTED = b"\x69\x86"
_WRONG_P1P2 = b"\x6b\x00"
_END_REACHED = b"\x62\x82"
_UNKNOWN = b"\x6d\x00"


class OmsApplet:
    atr = ATR

    def __init__(self, holder: OmsHolder) -> None:
        self.holder = holder
        self.file = encode_holder(holder)
        self._root = False
        self._app = False
        self._selected = False

    def power_on(self) -> None:
        self._root = self._app = self._selected = False

    def power_off(self) -> None:
        self.power_on()

    def process(self, c: bytes) -> bytes:
        try:
            return self._dispatch(c)
        except Exception:  # noqa: BLE001  (a card answers 6F00; it never "falls out")
            return b"\x6f\x00"

    def _dispatch(self, c: bytes) -> bytes:
        if len(c) < 4:
            return b"\x67\x00"
        ins, p1, p2 = c[1], c[2], c[3]
        body = c[5 : 5 + c[4]] if len(c) > 5 else b""
        if ins == 0xA4 and p1 == 0x04:
            if body == FOMS_ROOT:
                self._root, self._app, self._selected = True, False, False
                return _OK
            if body == FOMS_ID and self._root:
                self._app, self._selected = True, False
                return _OK
            return _NOT_FOUND
        if ins == 0xA4 and p1 == 0x02:
            if body == HOLDER_FILE and self._app:
                self._selected = True
                return _OK
            return _NOT_FOUND
        if ins == 0xB0:
            if not self._selected:
                return _NOT_SELECTED
            if p1 & 0x80:
                return _WRONG_P1P2
            offset = (p1 << 8) | p2
            n = c[4] if len(c) > 4 else 0
            if offset > len(self.file):
                return _WRONG_P1P2
            data = self.file[offset : offset + (n or 256)]
            return data + (_END_REACHED if len(data) < n else _OK)
        return _UNKNOWN
