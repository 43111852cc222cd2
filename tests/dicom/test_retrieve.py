"""Retrieving studies from Orthanc by C-GET and C-MOVE: progress, cancel, compressed syntaxes."""

from __future__ import annotations

import pydicom
import pytest

from dicom.cache import NewInstance, StudyCache
from dicom.config import PacsConfig
from dicom.errors import RetrieveCancelled, RetrieveFailed, UnknownCalledAE
from dicom.progress import SimpleState
from dicom.query import PacsConnection
from dicom.retrieve import Method, Retriever
from dicom.storage_scp import StorageServer
from tests.dicom.conftest import ARM_AE, PacsUnderTest


class Progress:
    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int, text: str) -> None:
        self.reports.append((done, total))


@pytest.mark.parametrize("method", [Method.GET, Method.MOVE])
@pytest.mark.parametrize("associations", [1, 2])
def test_retrieve_a_study_with_progress(
    pacs: PacsUnderTest,
    connection: PacsConnection,
    cache: StudyCache,
    storage: StorageServer,
    method: Method,
    associations: int,
) -> None:
    progress = Progress()
    arrived: list[NewInstance] = []
    retriever = Retriever(connection, cache, storage=storage, associations=associations)
    result = retriever.retrieve(
        pacs.ct.study_uid, SimpleState(progress), method=method, on_instance=arrived.append
    )
    assert (result.expected, result.received, result.already_cached, result.missing) == (
        40,
        40,
        0,
        0,
    )
    assert result.complete
    assert cache.has_study(pacs.ct.study_uid)
    assert progress.reports[0] == (0, 40)
    assert progress.reports[-1] == (40, 40)
    dones = [d for d, _t in progress.reports]
    assert dones == sorted(dones)
    assert len(arrived) == 40
    opened = cache.open_study(pacs.ct.study_uid)
    assert sorted(len(v) for v in opened.series.values()) == [20, 20]
    # slices in order along the normal: instance numbers 1..20 in the generated series
    for paths in opened.series.values():
        numbers = [int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber) for p in paths]
        assert numbers == list(range(20, 0, -1)) or numbers == list(range(1, 21))
    ds = pydicom.dcmread(opened.series[next(iter(opened.series))][0])
    assert ds.PatientID == "CT-0001"
    assert ds.pixel_array.shape == (128, 128)
    listed = cache.study(pacs.ct.study_uid)
    assert listed is not None
    assert listed.record.patient_name == "Иванов^Иван^Иванович"
    assert listed.record.source == "Orthanc"


def test_a_cached_study_is_not_fetched_again(
    pacs: PacsUnderTest, connection: PacsConnection, cache: StudyCache
) -> None:
    retriever = Retriever(connection, cache)
    retriever.retrieve(pacs.mr.study_uid, SimpleState())
    again = retriever.retrieve(pacs.mr.study_uid, SimpleState())
    assert (again.received, again.already_cached, again.complete) == (0, 12, True)


def test_retrieve_one_series(
    pacs: PacsUnderTest, connection: PacsConnection, cache: StudyCache
) -> None:
    series = connection.find_series(pacs.ct.study_uid)[1]
    result = Retriever(connection, cache).retrieve(
        pacs.ct.study_uid, SimpleState(), series_uid=series.series_uid
    )
    assert (result.expected, result.received) == (20, 20)
    assert not cache.has_study(pacs.ct.study_uid)  # one series of two: incomplete
    assert cache.has_study(pacs.ct.study_uid, complete_only=False)
    assert list(cache.series_counts(pacs.ct.study_uid).values()) == [20]


@pytest.mark.parametrize("method", [Method.GET, Method.MOVE])
def test_compressed_series_arrive_as_stored(
    pacs: PacsUnderTest,
    connection: PacsConnection,
    cache: StudyCache,
    storage: StorageServer,
    method: Method,
) -> None:
    result = Retriever(connection, cache, storage=storage).retrieve(
        pacs.packed.study_uid, SimpleState(), method=method
    )
    assert result.complete
    assert result.received == 15
    syntaxes = set()
    for paths in cache.open_study(pacs.packed.study_uid).series.values():
        for path in paths:
            ds = pydicom.dcmread(path)
            syntaxes.add(ds.file_meta.TransferSyntaxUID.name)
            assert ds.pixel_array.shape == (64, 64)
    assert syntaxes == {
        "JPEG 2000 Image Compression (Lossless Only)",
        "RLE Lossless",
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        "JPEG Baseline (Process 1)",
    }


@pytest.mark.parametrize("method", [Method.GET, Method.MOVE])
def test_cancel_mid_transfer_then_resume(
    pacs: PacsUnderTest,
    connection: PacsConnection,
    cache: StudyCache,
    storage: StorageServer,
    method: Method,
) -> None:
    state = SimpleState()
    seen: list[NewInstance] = []

    def on_instance(item: NewInstance) -> None:
        seen.append(item)
        if len(seen) == 5:
            state.cancel()

    retriever = Retriever(connection, cache, storage=storage, associations=1)
    with pytest.raises(RetrieveCancelled):
        retriever.retrieve(pacs.ct.study_uid, state, method=method, on_instance=on_instance)
    kept = sum(cache.series_counts(pacs.ct.study_uid).values())
    assert 5 <= kept < 40
    assert not cache.has_study(pacs.ct.study_uid)
    assert not cache.is_pinned(pacs.ct.study_uid)
    result = retriever.retrieve(pacs.ct.study_uid, SimpleState(), method=method)
    assert result.already_cached == kept
    assert result.received == 40 - kept
    assert cache.has_study(pacs.ct.study_uid)


def test_move_to_an_unknown_destination_fails_with_the_reason(
    pacs: PacsUnderTest, cache: StudyCache, storage: StorageServer
) -> None:
    stranger = PacsConnection(pacs.config, "NOT_REGISTERED")
    try:
        with pytest.raises(RetrieveFailed) as info:
            Retriever(stranger, cache, storage=storage).retrieve(
                pacs.mr.study_uid, SimpleState(), method=Method.MOVE
            )
    finally:
        stranger.close()
    # Orthanc says 0xC000 (unable to process) where the standard has 0xA801: both are named
    assert info.value.status in (0xA801, 0xC000)
    assert "«NOT_REGISTERED» внесён в PACS как получатель" in str(info.value)


def test_unknown_study_fails(
    pacs: PacsUnderTest, connection: PacsConnection, cache: StudyCache
) -> None:
    with pytest.raises(RetrieveFailed, match="нет в PACS"):
        Retriever(connection, cache).retrieve("1.2.3.4.5.6.7", SimpleState())


def test_get_with_a_wrong_called_ae_is_rejected(pacs: PacsUnderTest, cache: StudyCache) -> None:
    bad = PacsConfig("Orthanc", "WRONG_AE", "127.0.0.1", pacs.config.port)
    with pytest.raises(UnknownCalledAE):
        Retriever(PacsConnection(bad, ARM_AE), cache).retrieve(pacs.ct.study_uid, SimpleState())
