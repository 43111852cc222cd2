"""pynetdicom, set up once the way ARM needs it: quiet, Nagle off, failures typed.

Three things DICOM.md measured or warned about, done here for every pynetdicom association:

* patient identifiers must not reach the log: pynetdicom logs C-FIND/GET/MOVE identifiers by
  default, so ``LOG_REQUEST_IDENTIFIERS``/``LOG_RESPONSE_IDENTIFIERS`` go off and the standard
  per-event log handlers are disabled (they also cost CPU per message);
* Nagle's algorithm adds ~40 ms to every small DIMSE exchange on loopback: ``TCP_NODELAY`` is
  set on the socket in ``EVT_CONN_OPEN`` (pynetdicom has no option for it);
* a failed ``associate()`` only says "not established": :func:`associate` turns it into
  :class:`~dicom.errors.PacsUnavailable`, :class:`~dicom.errors.PacsTimeout` or
  :class:`~dicom.errors.AssociationRejected` (with the reason, in words).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence

from pynetdicom import AE, _config, evt
from pynetdicom.association import Association
from pynetdicom.events import Event

from dicom._ul import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION
from dicom.config import PacsConfig
from dicom.errors import (
    AssociationRejected,
    PacsTimeout,
    PacsUnavailable,
    rejection,
)

__all__ = ["associate", "make_ae", "nodelay_handler", "quiet_pynetdicom"]


def quiet_pynetdicom() -> None:
    """No identifiers and no per-message chatter from pynetdicom in our logs."""
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False
    _config.LOG_HANDLER_LEVEL = "none"
    # Its remaining warnings (e.g. "Association Rejected") carry no patient data but would
    # duplicate our typed errors; errors still get through.
    logging.getLogger("pynetdicom").setLevel(logging.ERROR)


quiet_pynetdicom()


def _set_nodelay(event: Event) -> None:
    sock = event.assoc.dul.socket
    if sock is not None and sock.socket is not None:
        sock.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: ``evt_handlers`` entry that turns Nagle off on every pynetdicom connection.
nodelay_handler = (evt.EVT_CONN_OPEN, _set_nodelay)


def make_ae(ae_title: str, pacs: PacsConfig | None = None) -> AE:
    """An AE with ARM's identity and the PACS's timeouts; contexts are the caller's."""
    ae = AE(ae_title=ae_title)
    ae.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    ae.implementation_version_name = IMPLEMENTATION_VERSION
    ae.maximum_pdu_size = 0
    if pacs is not None:
        t = pacs.timeouts
        ae.connection_timeout = t.connect
        ae.acse_timeout = t.acse
        ae.dimse_timeout = t.dimse
        ae.network_timeout = t.network
    return ae


def associate(
    ae: AE, pacs: PacsConfig, *, ext_neg: Sequence[object] = (), handlers: Sequence[object] = ()
) -> Association:
    """Open an association to ``pacs`` or raise the typed error that says why not."""
    opened: list[bool] = []
    heard: list[bool] = []

    def on_open(event: Event) -> None:
        opened.append(True)
        _set_nodelay(event)

    def on_pdu(event: Event) -> None:
        heard.append(True)

    tls = None
    if pacs.tls is not None:
        try:
            tls = (pacs.tls.client_context(), pacs.host)
        except OSError as exc:
            raise PacsUnavailable(pacs.name, f"TLS: {exc}") from None
    assoc = ae.associate(
        pacs.host,
        pacs.port,
        ae_title=pacs.ae_title,
        max_pdu=0,
        ext_neg=list(ext_neg) or None,  # type: ignore[arg-type]
        tls_args=tls,
        evt_handlers=[
            (evt.EVT_CONN_OPEN, on_open),
            (evt.EVT_PDU_RECV, on_pdu),
            *handlers,  # type: ignore[list-item]
        ],
    )
    if assoc.is_established:
        assoc.unbind(evt.EVT_PDU_RECV, on_pdu)  # only needed to read a failure
        return assoc
    if assoc.is_rejected:
        rsp = assoc.acceptor.primitive
        result = int(getattr(rsp, "result", 1) or 1)
        source = int(getattr(rsp, "result_source", 1) or 1)
        reason = int(getattr(rsp, "diagnostic", 1) or 1)
        raise rejection(pacs.name, result, source, reason)
    if not opened:
        raise _why_no_connection(pacs)
    if assoc.is_aborted and heard:
        raise AssociationRejected(pacs.name, "PACS прервал подключение")
    raise PacsTimeout(pacs.name, "согласование подключения")


def _why_no_connection(pacs: PacsConfig) -> Exception:
    """pynetdicom only logs why the TCP connect failed; try once more to learn it."""
    try:
        with socket.create_connection((pacs.host, pacs.port), timeout=pacs.timeouts.connect):
            pass
    except TimeoutError:
        return PacsTimeout(pacs.name, "подключение")
    except OSError as exc:
        return PacsUnavailable(pacs.name, exc.strerror or type(exc).__name__)
    return PacsUnavailable(pacs.name, "подключение не установлено")
