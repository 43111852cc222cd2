"""Reading instances for the viewer, window/level presets, and a fuzz test of the reader.

The fuzz test's only assertion is the reader's contract: for any bytes, a Frame or a
ReadError — never any other exception (which in the viewer would be a crash, not a tile).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLosslessSV1, RLELossless

from dicom.errors import CorruptInstance, ReadError, UnsupportedInstance
from dicom.reader import Frame, read_frame
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, phantom, write_study
from dicom.windowing import PRESETS, Window, WindowLevel, default_window, voi_linear

PATIENT = FakePatient("R-1", "Ридер^Тест", "19700101")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reader")
    spec = StudySpec(
        PATIENT,
        [
            SeriesSpec("CT", 1, 64, 48),
            SeriesSpec("CT", 1, 64, 48, syntax=JPEG2000Lossless),
            SeriesSpec("CT", 1, 64, 48, syntax=RLELossless),
            SeriesSpec("CT", 1, 64, 48, syntax=JPEGLosslessSV1),
            SeriesSpec("OT", 1, 64, 48, syntax=JPEGBaseline8Bit, bits=8),
        ],
    )
    files = write_study(spec, root)
    return dict(zip(["plain", "j2k", "rle", "jpegll", "jpeg"], files, strict=True))


@pytest.mark.parametrize("kind", ["plain", "j2k", "rle", "jpegll"])
def test_read_frame_and_geometry(samples: dict[str, Path], kind: str) -> None:
    frame = read_frame(samples[kind])
    g = frame.geometry
    assert frame.pixels.shape == (64, 48)
    assert (g.rows, g.cols, g.frames) == (64, 48, 1)
    assert g.pixel_spacing == (0.78125, 0.78125)
    assert g.image_position == (-200.0, -200.0, -0.0)
    assert g.slice_position == 0.0
    assert (g.rescale_slope, g.rescale_intercept) == (1.0, -1024.0)
    assert (g.window_center, g.window_width) == (40.0, 400.0)
    assert g.photometric == "MONOCHROME2"
    assert g.instance_number == 1
    # lossless syntaxes give back exactly the generated phantom
    np.testing.assert_array_equal(frame.pixels, phantom(64, 48, 0.0))


def test_read_lossy_jpeg_baseline(samples: dict[str, Path]) -> None:
    frame = read_frame(samples["jpeg"])
    assert frame.pixels.dtype == np.uint8
    assert np.abs(frame.pixels.astype(int) - phantom(64, 48, 0.0, bits=8)).mean() < 3


def test_read_from_bytes(samples: dict[str, Path]) -> None:
    frame = read_frame(samples["plain"].read_bytes())
    assert isinstance(frame, Frame)
    assert frame.pixels.shape == (64, 48)


def test_truncated_file_is_corrupt(samples: dict[str, Path]) -> None:
    data = samples["plain"].read_bytes()
    with pytest.raises(CorruptInstance):
        read_frame(data[: len(data) // 2])


def test_not_dicom_and_no_image(tmp_path: Path, samples: dict[str, Path]) -> None:
    with pytest.raises(ReadError):
        read_frame(b"\x89PNG\r\n\x1a\n" + bytes(100))
    import pydicom

    ds = pydicom.dcmread(samples["plain"])
    del ds.PixelData
    ds.save_as(tmp_path / "sr.dcm")
    with pytest.raises(UnsupportedInstance, match="нет изображения"):
        read_frame(tmp_path / "sr.dcm")
    with pytest.raises(ReadError):
        read_frame(tmp_path / "missing.dcm")


def test_window_presets() -> None:
    assert PRESETS["lung"] == Window(-600, 1500)
    assert PRESETS["mediastinum"] == Window(50, 350)
    assert PRESETS["bone"] == Window(400, 1800)
    assert PRESETS["brain"] == Window(40, 80)
    assert PRESETS["abdomen"] == Window(40, 400)


def test_window_level_lut_matches_the_dicom_formula() -> None:
    rng = np.random.default_rng(1)
    stored = rng.integers(-1024, 3072, (32, 32)).astype(np.int16)
    wl = WindowLevel()
    for window in PRESETS.values():
        out = wl.render(stored, window, intercept=-1024)
        ref = np.rint(voi_linear(stored.astype(np.float32) - 1024, window)).astype(np.uint8)
        np.testing.assert_array_equal(out, ref)
    buf = wl.render(stored, PRESETS["lung"], intercept=-1024)
    assert wl.render(stored, PRESETS["bone"], intercept=-1024) is buf  # one buffer, reused
    # air is black and bone white in the brain window; MONOCHROME1 inverts
    hu = np.array([[-1000 + 1024, 1000 + 1024]], np.int16)
    assert wl.render(hu, PRESETS["brain"], intercept=-1024).tolist() == [[0, 255]]
    assert wl.render(hu, PRESETS["brain"], intercept=-1024, invert=True).tolist() == [[255, 0]]
    floats = np.array([[-1000.0, 1000.0]], np.float32)
    assert wl.render(floats, PRESETS["brain"]).tolist() == [[0, 255]]


def test_default_window() -> None:
    px = np.array([[0, 100]], np.int16)
    assert default_window(40, 400, px, 1, 0) == Window(40, 400)
    assert default_window(None, None, px, 2, -10) == Window(90, 200)


# --- fuzz ------------------------------------------------------------------------------------
def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    n = len(data)
    truncate = st.integers(0, n).map(lambda k: data[:k])
    flips = st.lists(
        st.tuples(st.integers(0, n - 1), st.integers(0, 255)), min_size=1, max_size=20
    ).map(lambda edits: _apply(data, edits))
    # rewrite a VR code somewhere in the explicit-VR header
    vrs = st.tuples(
        st.integers(132, min(n - 2, 1200)),
        st.sampled_from([b"SQ", b"OB", b"UN", b"XX", b"US", b"FD", b"UT"]),
    ).map(lambda t: data[: t[0]] + t[1] + data[t[0] + 2 :])
    # a huge 16- or 32-bit length at an arbitrary header offset
    huge = st.tuples(
        st.integers(132, min(n - 4, 1200)),
        st.sampled_from([0xFFFFFFFF, 0x7FFFFFF0, 0xFFFF, 1 << 30]),
    ).map(lambda t: data[: t[0]] + struct.pack("<I", t[1]) + data[t[0] + 4 :])
    return st.one_of(truncate, flips, vrs, huge)


def _apply(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    b = bytearray(data)
    for pos, value in edits:
        b[pos] = value
    return bytes(b)


@pytest.mark.parametrize("kind", ["plain", "j2k", "rle", "jpegll", "jpeg"])
def test_fuzzed_files_give_a_frame_or_a_read_error(samples: dict[str, Path], kind: str) -> None:
    data = samples[kind].read_bytes()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations(data))
    def check(mutated: bytes) -> None:
        try:
            frame = read_frame(mutated)
        except ReadError:
            return
        assert frame.pixels.shape[:2] == (frame.geometry.rows, frame.geometry.cols)

    check()
