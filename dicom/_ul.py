"""A lean DICOM upper layer (PS3.8) for the one hot path: receiving a C-GET.

Why not pynetdicom here: measured on this machine (DICOM.md), pynetdicom spends 4–8 ms of
pure-Python work per received instance — it builds and encodes pydicom ``Dataset`` objects for
every C-STORE command and response, and hands each PDU between two threads — so a 400-slice CT
takes 3.4 s where dcmtk's ``getscu`` takes 0.8 s, and two cores cannot close that gap.  The
wire protocol for a C-GET SCU is small: one association negotiation, a handful of fixed-shape
command sets in Implicit VR Little Endian, and data PDVs that we stream straight into the
cache file without copying.  pynetdicom remains the implementation of everything else
(C-ECHO, C-FIND, C-MOVE and our storage SCP), and the tests drive this layer against both
Orthanc and a pynetdicom C-GET SCP, so two independent peers check it.

Everything here is blocking and owned by one thread per association.
"""

from __future__ import annotations

import io
import socket
import ssl
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dicom.config import PacsConfig
from dicom.errors import (
    AssociationRejected,
    PacsTimeout,
    PacsUnavailable,
    TransferInterrupted,
    rejection,
)

__all__ = [
    "IMPLEMENTATION_CLASS_UID",
    "IMPLEMENTATION_VERSION",
    "Association",
    "Command",
    "ProposedContext",
    "decode_command",
    "encode_command",
]

#: ARM's implementation class UID (a UUID-derived 2.25 UID, fixed for the product).
IMPLEMENTATION_CLASS_UID = "2.25.134634900375229634487656533804581389426"
IMPLEMENTATION_VERSION = "ARM_1"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"

# PDU types
_ASSOC_RQ, _ASSOC_AC, _ASSOC_RJ, _PDATA, _RELEASE_RQ, _RELEASE_RP, _ABORT = 1, 2, 3, 4, 5, 6, 7
_HDR = struct.Struct(">BxI")
_PDV = struct.Struct(">IBB")
_ITEM = struct.Struct(">BxH")
_ELEM = struct.Struct("<HHI")


@dataclass(frozen=True)
class ProposedContext:
    """One presentation context we propose: an abstract syntax and its transfer syntaxes."""

    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]
    scp_role: bool = False
    """Ask for the SCP role for this SOP class (C-GET: the PACS sends us C-STORE requests)."""


@dataclass(frozen=True)
class Command:
    """The fields of a DIMSE command set (PS3.7 E.1) the C-GET path reads."""

    field: int
    message_id: int = 0
    responded_to: int = 0
    sop_class: str = ""
    sop_instance: str = ""
    has_dataset: bool = False
    status: int = 0
    remaining: int = -1
    completed: int = 0
    failed: int = 0
    warning: int = 0


def _uid_value(uid: str) -> bytes:
    b = uid.encode("ascii")
    return b + b"\0" if len(b) % 2 else b


def encode_command(elements: Sequence[tuple[int, int | str]]) -> bytes:
    """Encode ``(element, value)`` pairs of group 0000 in Implicit VR LE with group length.

    ``int`` values are US (2 bytes) — every integer a C-GET SCU sends is US; ``str`` values are
    UIs (NUL padded).  Elements must come in ascending order.
    """
    body = bytearray()
    for elem, value in elements:
        v = struct.pack("<H", value) if isinstance(value, int) else _uid_value(value)
        body += _ELEM.pack(0, elem, len(v)) + v
    return _ELEM.pack(0, 0, 4) + struct.pack("<I", len(body)) + bytes(body)


def decode_command(data: bytes | bytearray | memoryview) -> Command:
    """Decode the command-set fields the C-GET SCU needs; unknown elements are skipped."""
    mv = memoryview(data)
    pos, end = 0, len(mv)
    f: dict[int, int | str] = {}
    while pos + 8 <= end:
        group, elem, length = _ELEM.unpack_from(mv, pos)
        pos += 8
        if group != 0 or pos + length > end:
            raise ValueError("malformed command set")
        raw = mv[pos : pos + length]
        pos += length
        if elem in (0x0002, 0x1000):
            f[elem] = bytes(raw).rstrip(b"\0 ").decode("ascii", "replace")
        elif length == 2:
            f[elem] = struct.unpack("<H", raw)[0]
        elif length == 4 and elem != 0:
            f[elem] = struct.unpack("<I", raw)[0]

    def num(e: int, default: int = 0) -> int:
        v = f.get(e, default)
        return v if isinstance(v, int) else default

    return Command(
        field=num(0x0100),
        message_id=num(0x0110),
        responded_to=num(0x0120),
        sop_class=str(f.get(0x0002, "")),
        sop_instance=str(f.get(0x1000, "")),
        has_dataset=num(0x0800, 0x0101) != 0x0101,
        status=num(0x0900),
        remaining=num(0x1020, -1),
        completed=num(0x1021),
        failed=num(0x1022),
        warning=num(0x1023),
    )


def _item(kind: int, payload: bytes) -> bytes:
    return _ITEM.pack(kind, len(payload)) + payload


def _ae(title: str) -> bytes:
    return title.encode("ascii")[:16].ljust(16, b" ")


class Association:
    """One association: negotiation, PDU framing, release and abort.

    ``accepted`` maps an accepted presentation context id to ``(abstract, transfer syntax)``.
    """

    def __init__(self, pacs: PacsConfig, calling_ae: str) -> None:
        self.pacs = pacs
        self.calling_ae = calling_ae
        self.accepted: dict[int, tuple[str, str]] = {}
        self.peer_max_pdu = 16384
        self._sock: socket.socket | None = None
        self._rfile: io.BufferedReader | None = None
        self._buf = bytearray(1 << 18)

    # --- opening --------------------------------------------------------------------------
    def open(self, contexts: Iterable[ProposedContext]) -> None:
        """Connect and negotiate; raises a typed error for every way that can fail."""
        proposed = list(contexts)
        if not 0 < len(proposed) <= 128:
            raise ValueError("1..128 presentation contexts")
        t = self.pacs.timeouts
        try:
            sock = socket.create_connection((self.pacs.host, self.pacs.port), timeout=t.connect)
        except TimeoutError:
            raise PacsTimeout(self.pacs.name, "подключение") from None
        except OSError as exc:
            raise PacsUnavailable(self.pacs.name, exc.strerror or type(exc).__name__) from None
        # Nagle + delayed ACK costs ~40 ms per small command on loopback (DICOM.md).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        if self.pacs.tls is not None:
            try:
                sock = self.pacs.tls.client_context().wrap_socket(
                    sock, server_hostname=self.pacs.host
                )
            except (ssl.SSLError, OSError) as exc:
                sock.close()
                raise PacsUnavailable(self.pacs.name, f"TLS: {exc}") from None
        self._sock = sock
        self._rfile = sock.makefile("rb", buffering=1 << 18)  # type: ignore[assignment]
        sock.settimeout(t.acse)
        try:
            self._send(self._associate_rq(proposed))
            kind, body = self.read_pdu()
        except BaseException:
            self.close()
            raise
        if kind == _ASSOC_AC:
            self._parse_ac(body, proposed)
            sock.settimeout(t.dimse)
            return
        self.close()
        if kind == _ASSOC_RJ and len(body) >= 4:
            raise rejection(self.pacs.name, body[1], body[2], body[3])
        if kind == _ABORT:
            raise AssociationRejected(self.pacs.name, "подключение прервано PACS")
        raise AssociationRejected(self.pacs.name, f"неожиданный ответ (PDU {kind})")

    def _associate_rq(self, proposed: list[ProposedContext]) -> bytes:
        items = [_item(0x10, APPLICATION_CONTEXT.encode())]
        roles = []
        for i, cx in enumerate(proposed):
            sub = _item(0x30, cx.abstract_syntax.encode()) + b"".join(
                _item(0x40, ts.encode()) for ts in cx.transfer_syntaxes
            )
            items.append(_item(0x20, bytes([2 * i + 1, 0, 0, 0]) + sub))
            if cx.scp_role and cx.abstract_syntax not in roles:
                roles.append(cx.abstract_syntax)
        user = _item(0x51, struct.pack(">I", 0))  # 0 = no limit: the PACS sends big PDUs
        user += _item(0x52, IMPLEMENTATION_CLASS_UID.encode())
        for uid in roles:
            u = uid.encode()
            user += _item(0x54, struct.pack(">H", len(u)) + u + b"\x00\x01")
        user += _item(0x55, IMPLEMENTATION_VERSION.encode())
        items.append(_item(0x50, user))
        body = (
            struct.pack(">H2x", 1)
            + _ae(self.pacs.ae_title)
            + _ae(self.calling_ae)
            + bytes(32)
            + b"".join(items)
        )
        return _HDR.pack(_ASSOC_RQ, len(body)) + body

    def _parse_ac(self, body: memoryview, proposed: list[ProposedContext]) -> None:
        pos = 68
        while pos + 4 <= len(body):
            kind, length = _ITEM.unpack_from(body, pos)
            value = body[pos + 4 : pos + 4 + length]
            pos += 4 + length
            if kind == 0x21 and len(value) >= 4:
                cid, result = value[0], value[2]
                ts = ""
                if len(value) >= 8 and value[4] == 0x40:
                    (n,) = struct.unpack_from(">H", value, 6)
                    ts = bytes(value[8 : 8 + n]).rstrip(b"\0").decode("ascii")
                idx = (cid - 1) // 2
                if result == 0 and 0 <= idx < len(proposed):
                    self.accepted[cid] = (proposed[idx].abstract_syntax, ts)
            elif kind == 0x50:
                sp = 0
                while sp + 4 <= len(value):
                    sk, sl = _ITEM.unpack_from(value, sp)
                    if sk == 0x51 and sl == 4:
                        (mx,) = struct.unpack_from(">I", value, sp + 4)
                        self.peer_max_pdu = mx or (1 << 31) - 1
                    sp += 4 + sl

    def context_for(self, abstract_syntax: str) -> int | None:
        for cid, (abstract, _ts) in self.accepted.items():
            if abstract == abstract_syntax:
                return cid
        return None

    # --- framing --------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise PacsTimeout(self.pacs.name, "передача") from None
        except OSError as exc:
            raise TransferInterrupted(self.pacs.name, 0, 0, str(exc)) from None

    def send_message(self, context_id: int, command: bytes, dataset: bytes | None = None) -> None:
        """Send a command (and its dataset) as P-DATA-TF PDUs within the peer's PDU limit."""
        out = bytearray()
        for payload, is_command in ((command, True), (dataset, False)):
            if payload is None:
                continue
            room = max(self.peer_max_pdu - 12, 256)
            for start in range(0, len(payload), room):
                chunk = payload[start : start + room]
                last = start + room >= len(payload)
                mch = (1 if is_command else 0) | (2 if last else 0)
                pdv = _PDV.pack(len(chunk) + 2, context_id, mch) + chunk
                out += _HDR.pack(_PDATA, len(pdv)) + pdv
        self._send(bytes(out))

    def read_pdu(self) -> tuple[int, memoryview]:
        """Read one whole PDU into the reusable buffer; the view is valid until the next call.

        Raises:
            TransferInterrupted: The peer closed or reset the connection.
            PacsTimeout: Nothing arrived within the current timeout.
        """
        assert self._rfile is not None
        try:
            hdr = self._rfile.read(6)
            if len(hdr) < 6:
                raise TransferInterrupted(self.pacs.name, 0, 0, "соединение закрыто")
            kind, length = _HDR.unpack(hdr)
            if length > len(self._buf):
                if length > 1 << 28:
                    raise TransferInterrupted(self.pacs.name, 0, 0, "неверный PDU")
                self._buf = bytearray(length)
            view = memoryview(self._buf)[:length]
            got = 0
            while got < length:
                n = self._rfile.readinto(view[got:])
                if not n:
                    raise TransferInterrupted(self.pacs.name, 0, 0, "соединение закрыто")
                got += n
        except TimeoutError:
            raise PacsTimeout(self.pacs.name, "ожидание данных") from None
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise PacsTimeout(self.pacs.name, "ожидание данных") from None
            raise TransferInterrupted(self.pacs.name, 0, 0, str(exc)) from None
        return kind, view

    # --- closing --------------------------------------------------------------------------
    def release(self) -> None:
        """Orderly A-RELEASE; falls back to closing if the peer does not answer in time."""
        if self._sock is None:
            return
        try:
            self._send(_HDR.pack(_RELEASE_RQ, 4) + bytes(4))
            self._sock.settimeout(self.pacs.timeouts.acse)
            while True:
                kind, _ = self.read_pdu()
                if kind in (_RELEASE_RP, _ABORT):
                    break
        except (PacsTimeout, TransferInterrupted):
            pass
        finally:
            self.close()

    def abort(self) -> None:
        """A-ABORT (service-user) and close; never raises."""
        if self._sock is not None:
            try:
                self._sock.sendall(_HDR.pack(_ABORT, 4) + bytes(4))
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        for closable in (self._rfile, self._sock):
            if closable is not None:
                try:
                    closable.close()
                except OSError:
                    pass
        self._rfile = None
        self._sock = None

    def set_timeout(self, seconds: float | None) -> None:
        if self._sock is not None:
            self._sock.settimeout(seconds)


def pdvs(body: memoryview) -> Iterable[tuple[int, int, memoryview]]:
    """Split a P-DATA-TF body into ``(context id, control header, fragment)``."""
    pos, end = 0, len(body)
    while pos + 6 <= end:
        length, cid, mch = _PDV.unpack_from(body, pos)
        if length < 2 or pos + 4 + length > end:
            raise ValueError("malformed PDV")
        yield cid, mch, body[pos + 6 : pos + 4 + length]
        pos += 4 + length


PDATA, RELEASE_RQ, ABORT = _PDATA, _RELEASE_RQ, _ABORT
