"""ARM's own C-STORE SCP: where a PACS delivers the instances of a C-MOVE.

Started once with the application and kept running: stopping a pynetdicom server takes up to
0.5 s (DICOM.md), and a PACS may also push studies on its own.  The handler only writes the
received bytes raw into the cache (``event.encoded_dataset()``, no decode and re-encode) and
tells whoever is waiting for that study; it never touches Qt.  It reads the few header
elements it needs to file the instance (study, series, SOP instance) — C-MOVE is not the
benchmarked path, and this way instances of concurrent moves and unsolicited pushes land in
the right place without bookkeeping by message id.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import threading
from typing import Any

from pydicom import dcmread
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, AllTransferSyntaxes
from pynetdicom import AllStoragePresentationContexts, evt
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event
from pynetdicom.presentation import build_context
from pynetdicom.transport import ThreadedAssociationServer

from dicom._net import make_ae, nodelay_handler
from dicom.cache import NewInstance, StudyCache, StudyRecord
from dicom.errors import PacsUnavailable
from dicom.sorting import sort_key

__all__ = ["StorageServer"]

log = logging.getLogger(__name__)

_HEADER_TAGS = [
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "PatientID",
    "InstanceNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
]
_OUT_OF_RESOURCES = 0xA700
_CANNOT_UNDERSTAND = 0xC000


class StorageServer:
    """A C-STORE SCP filing every instance into ``cache``; ``watch`` a study to hear of them."""

    def __init__(self, cache: StudyCache, ae_title: str, port: int, bind: str = "") -> None:
        self.cache = cache
        self.ae_title = ae_title
        self.port = port
        self.bind = bind
        self._server: ThreadedAssociationServer | None = None
        self._watchers: dict[str, queue.Queue[tuple[str, Any]]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen; raises :class:`PacsUnavailable` naming the port if it is taken."""
        if self._server is not None:
            return
        ae = make_ae(self.ae_title)
        ae.supported_contexts = [
            build_context(str(cx.abstract_syntax), list[str | UID](AllTransferSyntaxes))
            for cx in AllStoragePresentationContexts
        ]
        ae.require_called_aet = True
        try:
            server = ae.start_server(
                (self.bind, self.port),
                block=False,
                evt_handlers=[(evt.EVT_C_STORE, self._on_store), nodelay_handler],
            )
        except OSError as exc:
            raise PacsUnavailable(
                f"приём изображений, порт {self.port}", exc.strerror or str(exc)
            ) from None
        assert server is not None  # block=False always returns the server
        self._server = server
        self.port = int(server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def watch(self, study_uid: str, q: queue.Queue[tuple[str, Any]]) -> None:
        """Send ``("instance", NewInstance)`` to ``q`` for each instance of the study."""
        with self._lock:
            self._watchers[study_uid] = q

    def unwatch(self, study_uid: str) -> None:
        with self._lock:
            self._watchers.pop(study_uid, None)

    def _on_store(self, event: Event) -> int:
        try:
            raw = event.encoded_dataset()
            ds = dcmread(io.BytesIO(raw), stop_before_pixels=True, specific_tags=_HEADER_TAGS)
            study, series = str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)
            request: C_STORE = event.request  # type: ignore[assignment]
            sop = str(request.AffectedSOPInstanceUID or ds.SOPInstanceUID)
        except (InvalidDicomError, AttributeError, ValueError, TypeError, KeyError, EOFError):
            log.warning("C-STORE with an unreadable header refused")
            return _CANNOT_UNDERSTAND
        path = self.cache.instance_path(study, series, sop)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_suffix(".part")
            with open(part, "wb") as f:
                f.write(raw)
            os.replace(part, path)
        except OSError as exc:
            log.error("cannot write a received instance: %s", exc.strerror)
            return _OUT_OF_RESOURCES
        number, position = sort_key(ds)
        item = NewInstance(sop, study, series, path, len(raw), number, position)
        with self._lock:
            q = self._watchers.get(study)
        if q is not None:
            q.put(("instance", item))
        else:  # pushed without our asking: file it so the study list shows it
            self.cache.register_study(
                StudyRecord(study, patient_id=str(ds.get("PatientID", "")), source="push")
            )
            self.cache.add_instances([item])
        return 0
