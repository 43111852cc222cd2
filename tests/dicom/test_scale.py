"""Benchmark-scale retrieval (pytest -m slow): a 400-slice 512×512 CT, whole and resumed.

No timings are asserted here (bench/dicom_get.py measures against getscu); this checks that
the fast path stays correct at the size it is tuned for: every instance arrives intact, in
slice order, over one and two associations.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicom.cache import StudyCache
from dicom.progress import SimpleState
from dicom.query import PacsConnection
from dicom.reader import read_frame
from dicom.retrieve import Retriever
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, phantom, write_study
from tests.dicom.conftest import PacsUnderTest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_study(pacs: PacsUnderTest, tmp_path_factory: pytest.TempPathFactory) -> StudySpec:
    spec = StudySpec(
        FakePatient("BIG-1", "Большой^Тест", "19600101"),
        [SeriesSpec("CT", 200, 512, 512), SeriesSpec("CT", 200, 512, 512)],
    )
    pacs.orthanc.upload(write_study(spec, tmp_path_factory.mktemp("big")))
    return spec


@pytest.mark.parametrize("associations", [1, 2])
def test_400_slices_arrive_intact_and_in_order(
    big_study: StudySpec, connection: PacsConnection, tmp_path: Path, associations: int
) -> None:
    cache = StudyCache(tmp_path / "c", 1 << 40)
    result = Retriever(connection, cache, associations=associations).retrieve(
        big_study.study_uid, SimpleState()
    )
    assert (result.received, result.complete) == (400, True)
    for paths in cache.open_study(big_study.study_uid).series.values():
        assert len(paths) == 200
        positions = [read_frame(p).geometry.slice_position for p in paths[::37]]
        assert positions == sorted(positions)  # type: ignore[type-var]
        frame = read_frame(paths[-1])  # highest position: the first slice generated, z = 0
        np.testing.assert_array_equal(frame.pixels, phantom(512, 512, 0.0))
    cache.close()
