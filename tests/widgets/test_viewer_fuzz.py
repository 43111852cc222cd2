"""Mutated DICOM files thrown at the viewer: an image, an error tile or a refusal — never a crash.

The reader's own fuzz test (tests/dicom/test_reader.py) holds it to "a Frame or a ReadError";
this one follows the bytes all the way to the screen: decoding in the (synchronous) runner,
the patient check, the stack, the thumbnail, and painting at several zooms and windows — the
places where a frame the reader accepted can still have absurd geometry (zero spacing, a NaN
window, a slope of 1e30, a colour image with odd strides).  Besides raw byte damage, the
mutations rewrite single header values the viewer relies on.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import numpy as np
import pytest
import shiboken6
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLosslessSV1, RLELossless
from pytestqt.qtbot import QtBot

from arm.tasks import TaskRunner
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from tests.widgets.conftest import ErrorLog
from widgets.viewer import StudyViewer, ViewerSubject

PATIENT = FakePatient("F-1", "Фазз^Тест", "19700101")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, bytes]]:
    """One small file per pixel path the viewer has: plain, compressed, 8-bit, colour."""
    root = tmp_path_factory.mktemp("viewer_fuzz")
    spec = StudySpec(
        PATIENT,
        [
            SeriesSpec("CT", 1, 48, 64),
            SeriesSpec("CT", 1, 48, 64, syntax=RLELossless),
            SeriesSpec("CT", 1, 48, 64, syntax=JPEG2000Lossless),
            SeriesSpec("CT", 1, 48, 64, syntax=JPEGLosslessSV1),
            SeriesSpec("OT", 1, 48, 64, syntax=JPEGBaseline8Bit, bits=8),
        ],
    )
    files = write_study(spec, root)
    out = dict(
        zip(["plain", "rle", "j2k", "jpegll", "jpeg"], (f.read_bytes() for f in files), strict=True)
    )
    ds = dcmread(files[0])
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[..., 0] = np.arange(64, dtype=np.uint8)[None, :] * 4
    rgb[10:30, 20:40, 1] = 200
    ds.PixelData = rgb.tobytes()
    ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf)
    out["rgb"] = buf.getvalue()
    return spec.study_uid, out


# --- mutations ----------------------------------------------------------------------------------
def _flip(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, value in edits:
        b[pos % len(b)] = value
    return bytes(b)


_FIELDS: dict[str, st.SearchStrategy[object]] = {
    "Rows": st.integers(0, 65535),
    "Columns": st.integers(0, 65535),
    "PixelSpacing": st.sampled_from(["0\\0", "-1\\1", "1e308\\1e-308", "nan\\1", "abc", "0.5"]),
    "WindowCenter": st.sampled_from(["nan", "1e40", "-3e38", "40\\80", "", "x"]),
    "WindowWidth": st.sampled_from(["0", "-400", "inf", "1e-30", "400\\800", ""]),
    "RescaleSlope": st.sampled_from(["0", "1e30", "-1", "nan", "1e-30"]),
    "RescaleIntercept": st.sampled_from(["1e30", "-inf", "x"]),
    "BitsAllocated": st.sampled_from([1, 8, 12, 32, 64, 0]),
    "BitsStored": st.integers(0, 64),
    "PixelRepresentation": st.integers(0, 2),
    "SamplesPerPixel": st.integers(0, 4),
    "PhotometricInterpretation": st.sampled_from(
        ["MONOCHROME1", "RGB", "PALETTE COLOR", "YBR_FULL", "HSV", ""]
    ),
    "NumberOfFrames": st.sampled_from(["0", "2", "-1", "100000000", "x"]),
    "ImagePositionPatient": st.sampled_from(["nan\\0\\0", "1\\2", "1e308\\1e308\\1e308"]),
    "ImageOrientationPatient": st.sampled_from(["0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0", "nan"]),
    "InstanceNumber": st.sampled_from(["-5", "99999999999999", "x"]),
    "PatientID": st.sampled_from(["", "F-2", "F-1 "]),
    "StudyInstanceUID": st.sampled_from(["", "1.2.3"]),
}


def _rewrite(data: bytes, name: str, value: object) -> bytes:
    """``data`` with one element's value replaced (the file stays well-formed DICOM)."""
    ds = dcmread(io.BytesIO(data), force=True)
    try:
        setattr(ds, name, value)
        buf = io.BytesIO()
        ds.save_as(buf)
    except (ValueError, TypeError, OverflowError, struct.error, OSError):
        return data  # a value pydicom refuses to write: the original is as good an example
    return buf.getvalue()


def mutations(data: bytes) -> st.SearchStrategy[bytes]:
    n = len(data)
    truncate = st.integers(0, n).map(lambda k: data[:k])
    flips = st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 255)), min_size=1, max_size=12)
    header_flips = st.lists(
        st.tuples(st.integers(128, min(n - 1, 1400)), st.integers(0, 255)), min_size=1, max_size=6
    )
    huge = st.tuples(
        st.integers(132, min(n - 4, 1200)), st.sampled_from([0xFFFFFFFF, 0x7FFFFFF0, 1 << 30])
    ).map(lambda t: data[: t[0]] + struct.pack("<I", t[1]) + data[t[0] + 4 :])
    fields = st.sampled_from(sorted(_FIELDS)).flatmap(
        lambda name: _FIELDS[name].map(lambda value: _rewrite(data, name, value))
    )
    two_fields = st.tuples(fields, st.sampled_from(sorted(_FIELDS))).flatmap(
        lambda t: _FIELDS[t[1]].map(lambda value: _rewrite(t[0], t[1], value))
    )
    return st.one_of(
        truncate,
        flips.map(lambda e: _flip(data, e)),
        header_flips.map(lambda e: _flip(data, e)),
        huge,
        fields,
        two_fields,
    )


# --- the test -----------------------------------------------------------------------------------
@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    errors = ErrorLog()
    r = TaskRunner(errors, synchronous=True)  # decode inline: one example, one outcome
    yield r
    r.shutdown(wait=True)
    assert errors.errors == []


@pytest.mark.parametrize("kind", ["plain", "rle", "j2k", "jpegll", "jpeg", "rgb"])
def test_mutated_files_show_an_image_a_tile_or_nothing(
    samples: tuple[str, dict[str, bytes]],
    kind: str,
    runner: TaskRunner,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    study_uid, files = samples
    folder = tmp_path_factory.mktemp(f"fuzz_{kind}")
    subject = ViewerSubject(PATIENT.patient_id, "Фазз Тест", study_uid)
    counter = iter(range(1 << 30))

    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutations(files[kind]))
    def check(mutated: bytes) -> None:
        path = folder / f"{next(counter)}.dcm"
        path.write_bytes(mutated)
        viewer = StudyViewer(subject, runner)
        try:
            viewer.resize(640, 420)
            viewer.add_instance(path)
            state = viewer.state
            slices = [e for s in state.series.values() for e in s.slices]
            assert len(slices) + state.rejected == 1  # exactly one outcome
            viewer.grab()
            entry = viewer.current_slice
            event(
                "refused" if entry is None else "error tile" if entry.error is not None else "image"
            )
            if entry is not None and entry.pixels is not None:
                assert entry.geometry is not None
                assert entry.pixels.shape[:2] == (entry.geometry.rows, entry.geometry.cols)
                viewer.canvas.zoom_by(6.0)  # nearest-neighbour path
                viewer.apply_preset("lung")
                viewer.canvas.grab()
                viewer.canvas.zoom_by(0.05)
                viewer.apply_preset("default")
                viewer.canvas.grab()
            viewer.overlay_lines()
        finally:
            viewer.shutdown()
            shiboken6.delete(viewer)
            path.unlink()

    check()
