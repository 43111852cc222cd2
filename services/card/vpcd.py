"""The card emulator's link: a virtual card plugged into pcscd through vsmartcard-vpcd.

vpcd (the reader driver inside pcscd) listens on a TCP port per slot; a card *is* a client
connection: connecting inserts it, closing the socket pulls it.  Each message either way is a
2-byte big-endian length and a payload.  A 1-byte payload from vpcd is a control code
(power off/on, reset, "send your ATR"); anything longer is an APDU to answer.

We speak that protocol ourselves rather than run Debian's ``vicc``, which cannot start here
(``shared/CARDS.md``).  Every send is one ``sendall`` with ``TCP_NODELAY``, and every read
acknowledges at once (``TCP_QUICKACK``), so a round trip through pcscd stays near 0.2 ms
instead of the 40 ms of Nagle meeting delayed ACKs.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Protocol

__all__ = ["VirtualCard"]

log = logging.getLogger(__name__)

_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0, 1, 2, 4


class Applet(Protocol):
    """What a virtual card runs: the doctor's applet, or a patient's OMS policy."""

    atr: bytes

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def process(self, command: bytes) -> bytes: ...


class VirtualCard:
    """One card in one virtual slot; ``insert()`` and ``remove()`` as often as you like."""

    def __init__(self, applet: Applet, port: int, host: str = "127.0.0.1") -> None:
        self.applet = applet
        self.port = port
        self.host = host
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to the slot; retried while pcscd's driver is still coming up."""
        with self._lock:
            if self._sock is not None:
                return
            deadline = time.monotonic() + timeout
            while True:
                try:
                    sock = socket.create_connection((self.host, self.port), timeout=1.0)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.applet.power_on()
            self._sock = sock
            self._thread = threading.Thread(
                target=self._serve, args=(sock,), name=f"vcard-{self.port}", daemon=True
            )
            self._thread.start()

    def remove(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
            thread, self._thread = self._thread, None
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        if thread is not None:
            thread.join(timeout=2.0)
        self.applet.power_off()

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                head = _recv_exact(sock, 2)
                if head is None:
                    return
                (n,) = struct.unpack(">H", head)
                msg = _recv_exact(sock, n)
                if msg is None:
                    return
                if n == 1:
                    code = msg[0]
                    if code == _GET_ATR:
                        reply = self.applet.atr
                    else:
                        if code in (_POWER_ON, _RESET):
                            self.applet.power_on()
                        elif code == _POWER_OFF:
                            self.applet.power_off()
                        continue
                else:
                    reply = self.applet.process(msg)
                sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            return  # removed, or pcscd went away: either way the card is out
        finally:
            log.debug("virtual card on port %s disconnected", self.port)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        # Debian's vpcd sends the length and the APDU in two send() calls (fixed upstream in
        # 2023): without an immediate ACK, Nagle on its side holds the APDU for ~40 ms.
        # Linux clears QUICKACK after a while, so it is set before every read.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)
