"""An in-process pynetdicom Q/R SCP (C-FIND + C-GET) that can drop the association mid-transfer.

Orthanc cannot be told to die after the N-th instance; this SCP can, so the resume path is
tested against a real association abort rather than a mocked exception.  It serves the files
it is given, answers C-FIND at STUDY, SERIES and IMAGE level (with the counts our planner
reads), and counts every instance it sends so a test can assert that a retry sent only the
missing ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import AllTransferSyntaxes
from pynetdicom import AE, StoragePresentationContexts, evt
from pynetdicom.events import Event
from pynetdicom.transport import ThreadedAssociationServer

__all__ = ["FaultyPacs"]

FIND = "1.2.840.10008.5.1.4.1.2.2.1"
GET = "1.2.840.10008.5.1.4.1.2.2.3"


class FaultyPacs:
    """``abort_after`` = N drops the association after N instances of a C-GET (None: never)."""

    AET = "FAULTY"

    def __init__(self, files: list[Path]) -> None:
        self.datasets = [pydicom.dcmread(f) for f in files]
        self.abort_after: int | None = None
        self.sent = 0
        self._lock = threading.Lock()
        ae = AE(ae_title=self.AET)
        ae.maximum_pdu_size = 0
        ae.add_supported_context("1.2.840.10008.1.1")
        ae.add_supported_context(FIND)
        ae.add_supported_context(GET)
        for cx in StoragePresentationContexts:
            ae.add_supported_context(
                cx.abstract_syntax, list(AllTransferSyntaxes), scp_role=True, scu_role=False
            )
        self._server: ThreadedAssociationServer | None = ae.start_server(
            ("127.0.0.1", 0),
            block=False,
            evt_handlers=[(evt.EVT_C_FIND, self._find), (evt.EVT_C_GET, self._get)],
        )
        assert self._server is not None
        self.port = int(self._server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def _match(self, ident: Dataset) -> list[Dataset]:
        out = []
        for ds in self.datasets:
            ok = True
            for kw in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
                want = ident.get(kw)
                if want in (None, "", []):
                    continue
                wanted = (
                    [str(w) for w in want]
                    if isinstance(want, list | pydicom.multival.MultiValue)
                    else [str(want)]
                )
                if str(ds.get(kw)) not in wanted:
                    ok = False
            if ok:
                out.append(ds)
        return out

    def _find(self, event: Event) -> Iterator[tuple[int, Dataset | None]]:
        ident = event.identifier
        level = ident.QueryRetrieveLevel
        matches = self._match(ident)
        key = {
            "STUDY": "StudyInstanceUID",
            "SERIES": "SeriesInstanceUID",
            "IMAGE": "SOPInstanceUID",
        }[level]
        groups: dict[str, list[Dataset]] = {}
        for ds in matches:
            groups.setdefault(str(ds.get(key)), []).append(ds)
        for members in groups.values():
            first = members[0]
            rsp = Dataset()
            rsp.SpecificCharacterSet = "ISO_IR 192"
            rsp.QueryRetrieveLevel = level
            for elem in ident:
                if elem.keyword in ("QueryRetrieveLevel", "SpecificCharacterSet"):
                    continue
                if elem.keyword in first:
                    rsp[elem.keyword] = first[elem.keyword]
                else:
                    setattr(rsp, elem.keyword, elem.value)
            if level == "STUDY":
                rsp.NumberOfStudyRelatedSeries = len({str(d.SeriesInstanceUID) for d in members})
                rsp.NumberOfStudyRelatedInstances = len(members)
                rsp.ModalitiesInStudy = sorted({str(d.Modality) for d in members})
            if level == "SERIES":
                rsp.NumberOfSeriesRelatedInstances = len(members)
            yield 0xFF00, rsp
        yield 0x0000, None

    def _get(self, event: Event) -> Iterator[Any]:
        matches = self._match(event.identifier)
        yield len(matches)
        for n, ds in enumerate(matches):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            if self.abort_after is not None and n >= self.abort_after:
                event.assoc.abort()
                return
            with self._lock:
                self.sent += 1
            yield 0xFF00, ds
