"""The production link to cards: pyscard over pcscd, and the watcher of readers and cards.

Every call here may block (a frozen card makes ``SCardConnect`` hang), so none of it runs on
the GUI thread: the watcher is its own thread and card I/O runs in the task runner's IO lane.
The watcher uses ``SCardGetStatusChange`` directly rather than pyscard's ``CardMonitor``: the
monitor is a process-wide singleton that dies for good when pcscd restarts and can miss a fast
pull-and-reinsert of the same card (``shared/CARDS.md``).  Here a lost service is reported as
"every card removed", and the watcher reconnects by itself.
"""

from __future__ import annotations

import enum
import fnmatch
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from smartcard import scard

from services.card.session import Transmit, card_gone
from services.errors import PeerUnavailable

__all__ = [
    "CardEvent",
    "EventKind",
    "PcscCard",
    "ReaderWatcher",
    "list_readers_with_cards",
    "open_card",
    "reader_allowed",
]

log = logging.getLogger(__name__)

PNP = "\\\\?PnP?\\Notification"
VIRTUAL_READER = "Virtual PCD"
SERVICE = "Служба смарт-карт (pcscd)"


def reader_allowed(name: str, patterns: Sequence[str], *, allow_virtual: bool) -> bool:
    """The reader is on the workstation's allow-list (shell patterns); the emulator's virtual
    reader only where the demo or the tests said so — never by a pattern like ``*``."""
    if name.startswith(VIRTUAL_READER) and not allow_virtual:
        return False
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


class EventKind(enum.Enum):
    READERS = "readers"  # the set of readers changed: ``readers`` allowed, ``refused`` not
    INSERTED = "inserted"
    REMOVED = "removed"
    SERVICE_LOST = "service_lost"  # pcscd gone: every card counts as removed


@dataclass(frozen=True)
class CardEvent:
    kind: EventKind
    reader: str = ""
    readers: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    at: float = 0.0  # time.monotonic() when pcscd reported it
    detail: str = ""


_GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_W_RESET_CARD,
}
_NO_SERVICE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
}


class PcscCard:
    """An open connection to the card in one reader."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        hr, self._ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != scard.SCARD_S_SUCCESS:
            raise PeerUnavailable(SERVICE, scard.SCardGetErrorMessage(hr))
        hr, self._card, self._proto = scard.SCardConnect(
            self._ctx,
            reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hr != scard.SCARD_S_SUCCESS:
            scard.SCardReleaseContext(self._ctx)
            raise self._error(hr)

    def _error(self, hr: int) -> Exception:
        if hr in _GONE:
            return card_gone(self.reader)
        if hr in _NO_SERVICE:
            return PeerUnavailable(SERVICE, scard.SCardGetErrorMessage(hr))
        return PeerUnavailable("Считыватель карт", scard.SCardGetErrorMessage(hr))

    def transmit(self, command: bytes) -> tuple[bytes, int]:
        hr, resp = scard.SCardTransmit(self._card, self._proto, list(command))
        if hr == scard.SCARD_W_RESET_CARD:
            # Another connection reset the card in shared mode (the previous user's session
            # closing with a reset, right as this one opened): the card is still there.
            # PC/SC wants the reset acknowledged by a reconnect; whatever the card had
            # verified is forgotten, so a PIN-protected command is simply refused by the card.
            hr, self._proto = scard.SCardReconnect(
                self._card,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
                scard.SCARD_LEAVE_CARD,
            )
            if hr == scard.SCARD_S_SUCCESS:
                hr, resp = scard.SCardTransmit(self._card, self._proto, list(command))
        if hr != scard.SCARD_S_SUCCESS:
            raise self._error(hr)
        if len(resp) < 2:
            return b"", 0x6F00
        raw = bytes(resp)
        return raw[:-2], int.from_bytes(raw[-2:], "big")

    def close(self) -> None:
        """Disconnect with a reset: the card forgets its verified PIN at once."""
        scard.SCardDisconnect(self._card, scard.SCARD_RESET_CARD)
        scard.SCardReleaseContext(self._ctx)


def list_readers_with_cards(patterns: Sequence[str], *, allow_virtual: bool) -> list[str]:
    """Allowed readers that hold a card now (for the enrolment command)."""
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise PeerUnavailable(SERVICE, scard.SCardGetErrorMessage(hr))
    try:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr != scard.SCARD_S_SUCCESS:
            return []
        allowed = [n for n in names if reader_allowed(n, patterns, allow_virtual=allow_virtual)]
        hr, states = scard.SCardGetStatusChange(
            ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in allowed]
        )
        if hr != scard.SCARD_S_SUCCESS:
            return []
        return [n for n, st, _a in states if st & scard.SCARD_STATE_PRESENT]
    finally:
        scard.SCardReleaseContext(ctx)


def open_card(reader: str) -> tuple[PcscCard, Transmit]:
    card = PcscCard(reader)
    return card, card.transmit


@dataclass
class _State:
    present: dict[str, bool] = field(default_factory=dict)


class ReaderWatcher:
    """Reports readers appearing and going, and cards inserted and removed, from a thread.

    ``on_event`` is called on the watcher's thread; the GUI bridge re-posts it to the GUI.
    """

    def __init__(
        self,
        on_event: Callable[[CardEvent], None],
        *,
        patterns: Sequence[str] = ("*",),
        allow_virtual: bool = False,
        retry_s: float = 0.5,
    ) -> None:
        self._on_event = on_event
        self._patterns = tuple(patterns)
        self._allow_virtual = allow_virtual
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._ctx: int | None = None
        self._ctx_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="arm-card-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._ctx_lock:
            if self._ctx is not None:
                scard.SCardCancel(self._ctx)
        self._thread.join(timeout=3)

    # --- the thread ------------------------------------------------------------------------
    def _emit(self, event: CardEvent) -> None:
        import time

        if not event.at:
            event = CardEvent(
                event.kind,
                event.reader,
                event.readers,
                event.refused,
                time.monotonic(),
                event.detail,
            )
        try:
            self._on_event(event)
        except Exception:
            log.exception("card event listener failed")

    def _run(self) -> None:
        lost_reported = False
        present: dict[str, bool] = {}
        while not self._stop.is_set():
            hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr != scard.SCARD_S_SUCCESS:
                if not lost_reported:
                    self._service_lost(present, scard.SCardGetErrorMessage(hr))
                    lost_reported = True
                self._stop.wait(self._retry_s)
                continue
            with self._ctx_lock:
                self._ctx = ctx
            try:
                self._watch(ctx, present)
            finally:
                with self._ctx_lock:
                    self._ctx = None
                scard.SCardReleaseContext(ctx)
            if not self._stop.is_set():
                self._service_lost(present, "служба pcscd перезапускается")
                lost_reported = True
                self._stop.wait(self._retry_s)

    def _service_lost(self, present: dict[str, bool], detail: str) -> None:
        for reader, has_card in list(present.items()):
            if has_card:
                self._emit(CardEvent(EventKind.REMOVED, reader))
        present.clear()
        self._emit(CardEvent(EventKind.SERVICE_LOST, detail=detail))

    def _list(self, ctx: int) -> tuple[list[str], list[str]] | None:
        hr, names = scard.SCardListReaders(ctx, [])
        if hr == scard.SCARD_E_NO_READERS_AVAILABLE:
            names = []
        elif hr != scard.SCARD_S_SUCCESS:
            return None
        allowed = [
            n for n in names if reader_allowed(n, self._patterns, allow_virtual=self._allow_virtual)
        ]
        refused = [n for n in names if n not in allowed]
        return allowed, refused

    def _watch(self, ctx: int, present: dict[str, bool]) -> None:
        """Until the service goes or we are stopped: one blocking GetStatusChange at a time."""
        listed = self._list(ctx)
        if listed is None:
            return
        allowed, refused = listed
        self._emit(CardEvent(EventKind.READERS, readers=tuple(allowed), refused=tuple(refused)))
        states: list[tuple[str, int]] = [(PNP, scard.SCARD_STATE_UNAWARE)]
        states += [(r, scard.SCARD_STATE_UNAWARE) for r in allowed]
        while not self._stop.is_set():
            hr, result = scard.SCardGetStatusChange(ctx, scard.INFINITE, states)
            if hr == scard.SCARD_E_CANCELLED or self._stop.is_set():
                return
            if hr == scard.SCARD_E_TIMEOUT:
                continue
            if hr != scard.SCARD_S_SUCCESS:
                log.info("SCardGetStatusChange: %s", scard.SCardGetErrorMessage(hr))
                return
            readers_changed = False
            new_states: list[tuple[str, int]] = []
            for reader, event_state, _atr in result:
                state = event_state & ~scard.SCARD_STATE_CHANGED
                if reader == PNP:
                    if event_state & scard.SCARD_STATE_CHANGED:
                        readers_changed = True
                    new_states.append((reader, state))
                    continue
                if state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                    readers_changed = True
                has_card = bool(state & scard.SCARD_STATE_PRESENT) and not (
                    state & scard.SCARD_STATE_MUTE
                )
                was = present.get(reader, False)
                if has_card != was:
                    present[reader] = has_card
                    kind = EventKind.INSERTED if has_card else EventKind.REMOVED
                    self._emit(CardEvent(kind, reader))
                elif has_card and _count(event_state) != _count(dict(states).get(reader, 0)):
                    # Pulled and reinserted between two polls: the event counter moved.
                    self._emit(CardEvent(EventKind.REMOVED, reader))
                    self._emit(CardEvent(EventKind.INSERTED, reader))
                new_states.append((reader, state))
            states = new_states
            if readers_changed:
                listed = self._list(ctx)
                if listed is None:
                    return
                allowed, refused = listed
                for r in list(present):
                    if r not in allowed:
                        if present.pop(r):
                            self._emit(CardEvent(EventKind.REMOVED, r))
                self._emit(
                    CardEvent(EventKind.READERS, readers=tuple(allowed), refused=tuple(refused))
                )
                known = {r for r, _ in states}
                states = [(r, s) for r, s in states if r == PNP or r in allowed]
                states += [(r, scard.SCARD_STATE_UNAWARE) for r in allowed if r not in known]


def _count(event_state: int) -> int:
    """pcsc-lite keeps a per-reader event counter in the high 16 bits of the state."""
    return (event_state >> 16) & 0xFFFF
