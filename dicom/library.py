"""Every study a workstation can reach — each configured PACS and the local cache — as one.

The screens ask questions in the user's terms ("this patient's studies", "today's CT"), not
per PACS: this module asks every PACS, adds what only the cache holds (a CD import, a study
the PACS has since archived away), and reports a PACS that did not answer *beside* the
results instead of failing the whole list — a treating doctor still sees the studies the
cache has when the archive is down.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dicom.cache import CachedStudy, NewInstance, OpenedStudy, StudyCache
from dicom.config import DicomConfig, PacsConfig
from dicom.errors import ConfigError, DicomError
from dicom.progress import TaskState
from dicom.query import PacsConnection, StudyInfo, parse_da
from dicom.retrieve import Method, Retriever, RetrieveResult
from dicom.storage_scp import StorageServer

__all__ = ["CACHE_SOURCE", "FoundStudy", "Lookup", "StudyLibrary"]

CACHE_SOURCE = "кэш"


@dataclass(frozen=True)
class FoundStudy:
    source: str
    """The PACS's name it can be retrieved from, or the cache's record of where it came from."""
    info: StudyInfo
    cached: bool
    """Complete in the local cache: opens without the network."""
    retrievable: bool
    """A configured PACS has it (a CD import has nowhere to be fetched from)."""


@dataclass
class Lookup:
    studies: list[FoundStudy] = field(default_factory=list)
    failures: list[tuple[str, DicomError]] = field(default_factory=list)
    """PACS that did not answer, with why (the list is still what the others returned)."""


def _info(c: CachedStudy) -> StudyInfo:
    r = c.record
    return StudyInfo(
        study_uid=r.study_uid,
        patient_id=r.patient_id,
        patient_name=r.patient_name,
        birth_date=parse_da(r.birth_date),
        study_date=parse_da(r.study_date),
        study_time=None,
        description=r.description,
        modalities=tuple(m for m in r.modalities.split("\\") if m),
        accession=r.accession,
        series_count=None,
        instance_count=c.expected or c.instances,
    )


class StudyLibrary:
    """Thread-safe: every PACS has one :class:`PacsConnection` (which serialises queries)."""

    def __init__(
        self,
        config: DicomConfig,
        cache: StudyCache,
        *,
        storage: StorageServer | None = None,
        method: Method = Method.GET,
        associations: int = 2,
    ) -> None:
        self.config = config
        self.cache = cache
        self.storage = storage
        self.method = method
        self.associations = associations
        self._connections: dict[str, PacsConnection] = {}
        self._lock = threading.Lock()

    @property
    def has_pacs(self) -> bool:
        return bool(self.config.pacs)

    def connection(self, pacs: PacsConfig) -> PacsConnection:
        with self._lock:
            conn = self._connections.get(pacs.name)
            if conn is None:
                conn = PacsConnection(pacs, self.config.ae_title)
                self._connections[pacs.name] = conn
            return conn

    def close(self) -> None:
        with self._lock:
            conns, self._connections = list(self._connections.values()), {}
        for c in conns:
            c.close()

    # --- queries ----------------------------------------------------------------------------
    def _ask(self, query: Callable[[PacsConnection], list[StudyInfo]]) -> Lookup:
        out = Lookup()
        seen: set[str] = set()
        for pacs in self.config.pacs:
            try:
                found = query(self.connection(pacs))
            except DicomError as exc:
                out.failures.append((pacs.name, exc))
                continue
            for info in found:
                if info.study_uid in seen:
                    continue
                seen.add(info.study_uid)
                cached = self.cache.has_study(info.study_uid)
                out.studies.append(FoundStudy(pacs.name, info, cached, True))
        return out

    def patient_studies(self, dicom_patient_id: str, also: Sequence[str] = ()) -> Lookup:
        """The patient's studies in every PACS, then those only the cache has; newest first.

        ``also``: study UIDs the record files under this patient whatever their Patient ID
        (a CD the user matched to them), looked up in the cache.
        """
        out = self._ask(lambda c: c.find_studies(patient_id=dicom_patient_id))
        seen = {s.info.study_uid for s in out.studies}
        extra = [c for uid in also if (c := self.cache.study(uid)) is not None]
        for c in [*self.cache.studies(patient_id=dicom_patient_id), *extra]:
            if c.record.study_uid not in seen:
                seen.add(c.record.study_uid)
                out.studies.append(
                    FoundStudy(c.record.source or CACHE_SOURCE, _info(c), c.complete, False)
                )
        out.studies.sort(key=lambda s: s.info.study_date or dt.date.min, reverse=True)
        return out

    def studies_between(self, start: dt.date, end: dt.date, modality: str = "") -> Lookup:
        """Every PACS's studies dated in ``[start, end]`` (the radiologist's worklist)."""
        return self._ask(lambda c: c.find_studies(date_from=start, date_to=end, modality=modality))

    # --- images -----------------------------------------------------------------------------
    def is_cached(self, study_uid: str) -> bool:
        return self.cache.has_study(study_uid)

    def retrieve(
        self,
        source: str,
        study_uid: str,
        state: TaskState,
        *,
        on_instance: Callable[[NewInstance], None] | None = None,
    ) -> RetrieveResult:
        """Fetch what the cache lacks of the study from the PACS named ``source``."""
        try:
            pacs = self.config.find_pacs(source)
        except ConfigError:
            if len(self.config.pacs) != 1:
                raise
            pacs = self.config.pacs[0]  # a study cached from a PACS renamed since
        retriever = Retriever(
            self.connection(pacs),
            self.cache,
            storage=self.storage,
            associations=self.associations,
        )
        method = self.method if self.storage is not None else Method.GET
        return retriever.retrieve(study_uid, state, method=method, on_instance=on_instance)

    def open_cached(self, study_uid: str) -> OpenedStudy:
        """The cached study, pinned against eviction until :meth:`close_study`."""
        return self.cache.open_study(study_uid, pin=True)

    def close_study(self, study_uid: str) -> None:
        self.cache.close_study(study_uid)
