"""A real PACS for the DICOM tests: Debian's Orthanc on 127.0.0.1, loaded with generated studies.

One Orthanc per test session (it is up in ~2 s; loading the studies takes well under a
second).  It knows ARM's C-MOVE destination (``ARMSCP`` at a free port), where a session-wide
storage SCP listens — kept running as the application keeps it (stopping one costs 0.5 s).
No Orthanc → the session fails with the apt command, never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLosslessSV1, RLELossless

from arm.orthanc_local import Orthanc, OrthancMissing, free_port
from dicom.cache import StudyCache
from dicom.config import PacsConfig, Timeouts
from dicom.query import PacsConnection
from dicom.storage_scp import StorageServer
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study

ARM_AE = "ARMSCP"

CT_PATIENT = FakePatient("CT-0001", "Иванов^Иван^Иванович", "19800512", "M")
MR_PATIENT = FakePatient("MR-0002", "Петрова^Анна^Сергеевна", "19921103", "F")
PACKED_PATIENT = FakePatient("PK-0003", "Сидоров^Пётр", "19550220", "M")


@dataclass
class PacsUnderTest:
    orthanc: Orthanc
    config: PacsConfig
    ct: StudySpec
    mr: StudySpec
    packed: StudySpec
    files: dict[str, list[Path]]
    scp_port: int

    @property
    def all_studies(self) -> list[StudySpec]:
        return [self.ct, self.mr, self.packed]


def _studies() -> tuple[StudySpec, StudySpec, StudySpec]:
    ct = StudySpec(
        CT_PATIENT,
        [
            SeriesSpec("CT", 20, description="Лёгкие"),
            SeriesSpec("CT", 20, description="Мягкие ткани"),
        ],
        description="КТ органов грудной клетки",
        accession="A-1001",
    )
    mr = StudySpec(
        MR_PATIENT,
        [SeriesSpec("MR", 12, 96, 96)],
        description="МРТ головного мозга",
        date="20240301",
    )
    packed = StudySpec(
        PACKED_PATIENT,
        [
            SeriesSpec("CT", 4, 64, 64, "J2K", syntax=JPEG2000Lossless),
            SeriesSpec("CT", 4, 64, 64, "RLE", syntax=RLELossless),
            SeriesSpec("CT", 4, 64, 64, "JPEG LL", syntax=JPEGLosslessSV1),
            SeriesSpec("OT", 3, 64, 64, "JPEG", syntax=JPEGBaseline8Bit, bits=8),
        ],
        description="Сжатые серии",
        date="20230610",
    )
    return ct, mr, packed


@pytest.fixture(scope="session")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PacsUnderTest]:
    root = tmp_path_factory.mktemp("orthanc")
    scp_port = free_port()
    try:
        orthanc = Orthanc.start(root / "server", {"arm": (ARM_AE, "127.0.0.1", scp_port)})
    except OrthancMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        files: dict[str, list[Path]] = {}
        studies = _studies()
        for spec in studies:
            files[spec.study_uid] = write_study(spec, root / "files" / spec.study_uid[-8:])
            orthanc.upload(files[spec.study_uid])
        config = PacsConfig(
            "Orthanc", orthanc.aet, "127.0.0.1", orthanc.dicom_port, timeouts=Timeouts(dimse=10)
        )
        yield PacsUnderTest(orthanc, config, *studies, files, scp_port)
    finally:
        orthanc.stop()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[StudyCache]:
    c = StudyCache(tmp_path / "cache", 1 << 40)
    yield c
    c.close()


@pytest.fixture
def connection(pacs: PacsUnderTest) -> Iterator[PacsConnection]:
    conn = PacsConnection(pacs.config, ARM_AE)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def _storage_server(
    pacs: PacsUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StorageServer]:
    server = StorageServer(
        StudyCache(tmp_path_factory.mktemp("scp-cache"), 1 << 40),
        ARM_AE,
        pacs.scp_port,
        "127.0.0.1",
    )
    server.start()
    yield server
    server.stop()
    server.cache.close()


@pytest.fixture
def storage(_storage_server: StorageServer, cache: StudyCache) -> Iterator[StorageServer]:
    """The session's storage SCP, filing into this test's cache."""
    previous = _storage_server.cache
    _storage_server.cache = cache
    yield _storage_server
    _storage_server.cache = previous


@pytest.fixture
def silent_peer() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung PACS)."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        yield int(srv.getsockname()[1])
    finally:
        srv.close()
