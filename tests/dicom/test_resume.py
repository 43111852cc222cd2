"""A PACS that vanishes mid-transfer: the study is kept as incomplete, a retry fetches the rest.

The peer is an in-process pynetdicom SCP that aborts the association after N instances — a
real A-ABORT on a real socket, and a second, independent implementation of the other side of
our C-GET receiver.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dicom.cache import StudyCache
from dicom.config import PacsConfig
from dicom.errors import TransferInterrupted
from dicom.progress import SimpleState
from dicom.query import PacsConnection
from dicom.retrieve import Retriever
from tests.dicom.conftest import ARM_AE, PacsUnderTest
from tests.dicom.fault_scp import FaultyPacs


@pytest.fixture
def faulty(pacs: PacsUnderTest) -> Iterator[FaultyPacs]:
    server = FaultyPacs(pacs.files[pacs.ct.study_uid])
    yield server
    server.stop()


@pytest.mark.parametrize("associations", [1, 2])
def test_dropped_association_then_retry_fetches_only_the_missing(
    pacs: PacsUnderTest, faulty: FaultyPacs, cache: StudyCache, associations: int
) -> None:
    config = PacsConfig("Архив", FaultyPacs.AET, "127.0.0.1", faulty.port)
    conn = PacsConnection(config, ARM_AE)
    retriever = Retriever(conn, cache, associations=associations)
    faulty.abort_after = 7
    with pytest.raises(TransferInterrupted) as info:
        retriever.retrieve(pacs.ct.study_uid, SimpleState())
    kept = sum(cache.series_counts(pacs.ct.study_uid).values())
    # each association's C-GET stops after 7 of its series' 20
    assert kept == 7 * associations
    assert info.value.received == kept
    assert info.value.expected == 40
    assert info.value.transient
    assert "7" in str(info.value) or str(kept) in str(info.value)
    assert not cache.has_study(pacs.ct.study_uid)
    assert cache.has_study(pacs.ct.study_uid, complete_only=False)

    faulty.abort_after = None
    faulty.sent = 0
    result = retriever.retrieve(pacs.ct.study_uid, SimpleState())
    assert result.already_cached == kept
    assert result.received == 40 - kept
    assert faulty.sent == 40 - kept  # the PACS sent only what was missing
    assert result.complete
    assert cache.has_study(pacs.ct.study_uid)
    conn.close()
