"""The C-GET SCU receive loop over :mod:`dicom._ul`: commands parsed by hand, data streamed.

Each received instance goes to a :class:`Sink` fragment by fragment (128 KiB PDUs from Orthanc
land in the file without being joined in memory); the C-STORE response is sent as soon as the
last fragment is written, *before* the file is renamed and indexed, so the PACS is already
sending the next instance while we do our bookkeeping.
"""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from dicom._ul import (
    ABORT,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION,
    PDATA,
    RELEASE_RQ,
    Association,
    Command,
    decode_command,
    encode_command,
    pdvs,
)
from dicom.errors import PacsTimeout, TransferInterrupted

__all__ = ["CANCEL_GRACE_S", "GetOutcome", "Sink", "file_meta", "run_get"]

C_STORE_RQ, C_GET_RQ, C_GET_RSP, C_STORE_RSP, C_CANCEL_RQ = 0x0001, 0x0010, 0x8010, 0x8001, 0x0FFF
PENDING = (0xFF00, 0xFF01)
#: After C-CANCEL, how long the PACS gets to answer before we abort the association.
CANCEL_GRACE_S = 2.0


class Sink(Protocol):
    """Where received instances go (the cache writer, or a test's)."""

    def begin(self, sop_class: str, sop_uid: str, transfer_syntax: str) -> object:
        """Start an instance; returns a handle passed to ``write``/``end``."""

    def write(self, handle: object, data: memoryview) -> None: ...

    def end(self, handle: object, ok: bool) -> int:
        """Finish (``ok``) or discard an instance; returns the C-STORE status to answer."""


@dataclass
class GetOutcome:
    """Counts from the PACS's last C-GET response; ``status`` is its final status."""

    status: int = 0
    completed: int = 0
    failed: int = 0
    warning: int = 0
    remaining: int = -1
    received: int = 0
    cancelled: bool = False


def _ui(tag_elem: int, uid: str) -> bytes:
    v = uid.encode("ascii")
    if len(v) % 2:
        v += b"\0"
    return struct.pack("<HHHH", 2, tag_elem, 0x4955, len(v)) + v  # "UI"


def _text(tag_elem: int, vr: bytes, value: str) -> bytes:
    v = value.encode("ascii", "replace")
    if len(v) % 2:
        v += b" "
    return struct.pack("<HH2sH", 2, tag_elem, vr, len(v)) + v


def file_meta(sop_class: str, sop_uid: str, transfer_syntax: str, source_ae: str) -> bytes:
    """Preamble, ``DICM`` and the group-2 file meta information (PS3.10 7.1), Explicit VR LE."""
    elems = (
        struct.pack("<HH2s2xI", 2, 1, b"OB", 2)
        + b"\x00\x01"
        + _ui(2, sop_class)
        + _ui(3, sop_uid)
        + _ui(0x10, transfer_syntax)
        + _ui(0x12, IMPLEMENTATION_CLASS_UID)
        + _text(0x13, b"SH", IMPLEMENTATION_VERSION)
        + _text(0x16, b"AE", source_ae.strip() or "PACS")
    )
    group_len = struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(elems))
    return bytes(128) + b"DICM" + group_len + elems


def get_request(model: str, message_id: int) -> bytes:
    return encode_command(
        [(0x0002, model), (0x0100, C_GET_RQ), (0x0110, message_id), (0x0700, 0), (0x0800, 1)]
    )


def cancel_request(message_id: int) -> bytes:
    return encode_command([(0x0100, C_CANCEL_RQ), (0x0120, message_id), (0x0800, 0x0101)])


def store_response(cmd: Command, status: int) -> bytes:
    return encode_command(
        [
            (0x0002, cmd.sop_class),
            (0x0100, C_STORE_RSP),
            (0x0120, cmd.message_id),
            (0x0800, 0x0101),
            (0x0900, status),
            (0x1000, cmd.sop_instance),
        ]
    )


def run_get(
    assoc: Association,
    model: str,
    identifier: bytes,
    sink: Sink,
    cancel: threading.Event,
    *,
    message_id: int = 1,
) -> GetOutcome:
    """Send one C-GET and serve its C-STORE sub-operations until the final response.

    On ``cancel`` a C-CANCEL goes out; if the PACS has not finished within
    :data:`CANCEL_GRACE_S` the association is aborted.  The outcome says ``cancelled``.

    Raises:
        TransferInterrupted: The PACS aborted or closed the connection mid-transfer.
        PacsTimeout: The PACS went silent for longer than the DIMSE timeout.
    """
    qr_cid = assoc.context_for(model)
    if qr_cid is None:
        raise ValueError(f"query/retrieve model {model} not accepted")
    out = GetOutcome()
    assoc.send_message(qr_cid, get_request(model, message_id), identifier)
    cmd_buf = bytearray()
    store: Command | None = None
    handle: object = None
    final: Command | None = None
    cancel_deadline = 0.0
    try:
        while True:
            if cancel.is_set() and not out.cancelled:
                out.cancelled = True
                assoc.send_message(qr_cid, cancel_request(message_id))
                cancel_deadline = time.monotonic() + CANCEL_GRACE_S
                assoc.set_timeout(CANCEL_GRACE_S)
            if out.cancelled and time.monotonic() > cancel_deadline:
                assoc.abort()
                return out
            try:
                kind, body = assoc.read_pdu()
            except PacsTimeout:
                if out.cancelled:
                    assoc.abort()
                    return out
                raise
            if kind != PDATA:
                if kind == ABORT:
                    raise TransferInterrupted(assoc.pacs.name, 0, 0, "PACS прервал связь")
                if kind == RELEASE_RQ:
                    raise TransferInterrupted(assoc.pacs.name, 0, 0, "PACS закрыл связь")
                raise TransferInterrupted(assoc.pacs.name, 0, 0, f"неожиданный PDU {kind}")
            for cid, mch, frag in pdvs(body):
                if not mch & 1:  # a data fragment
                    if store is not None:
                        sink.write(handle, frag)
                        if mch & 2:
                            status = sink.end(handle, True)
                            assoc.send_message(cid, store_response(store, status))
                            out.received += 1
                            store, handle = None, None
                    elif final is not None and mch & 2:
                        return out  # the final response's identifier (failed UIDs): ignored
                    continue
                cmd_buf += frag
                if not mch & 2:
                    continue
                cmd = decode_command(cmd_buf)
                cmd_buf.clear()
                if cmd.field == C_STORE_RQ:
                    ts = assoc.accepted.get(cid, ("", ""))[1]
                    if not cmd.has_dataset:
                        assoc.send_message(cid, store_response(cmd, 0xC000))
                        continue
                    store = cmd
                    handle = sink.begin(cmd.sop_class, cmd.sop_instance, ts)
                    sink.write(
                        handle,
                        memoryview(
                            file_meta(cmd.sop_class, cmd.sop_instance, ts, assoc.pacs.ae_title)
                        ),
                    )
                elif cmd.field == C_GET_RSP:
                    out.status = cmd.status
                    out.completed, out.failed, out.warning = cmd.completed, cmd.failed, cmd.warning
                    out.remaining = cmd.remaining
                    if cmd.status not in PENDING:
                        if not cmd.has_dataset:
                            return out
                        final = cmd
    except BaseException:
        if store is not None:
            sink.end(handle, False)
        raise
