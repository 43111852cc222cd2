"""Reading one instance for the viewer: a frame of stored values and its geometry, or a typed error.

The viewer paints whatever comes back and shows an error tile for a :class:`ReadError`; a
corrupt file from a CD or a half-written cache file must never take the window down.  So this
module's promise is strict: :func:`read_frame` returns a :class:`Frame` or raises
:class:`~dicom.errors.CorruptInstance` / :class:`~dicom.errors.UnsupportedInstance` — nothing
else, whatever the bytes (tests/dicom/test_reader_fuzz.py throws mutated files at it).  pydicom
and its decoder plugins can fail in many ways on hostile input (``ValueError``, ``KeyError``,
``struct.error``, ``RuntimeError`` from a C decoder, a Rust panic from the RLE plugin,
``RecursionError`` on nested sequences…),
so the boundary catches broadly and names the failure; sizes are checked before decoding so a
header that claims a 60 000 × 60 000 image cannot exhaust memory.

Pixels are returned as *stored* values (int16 for most CT): the window/level lookup table in
:mod:`dicom.windowing` folds the rescale into the table, which is cheaper than rescaling every
pixel of every slice.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import config as pydicom_config
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.processing import apply_color_lut
from pydicom.pixels.utils import pixel_array

from dicom.errors import CorruptInstance, ReadError, UnsupportedInstance
from dicom.sorting import slice_position

__all__ = ["Frame", "Geometry", "read_frame"]

# Invalid values in old or foreign files are common and harmless to display; pydicom's
# per-value warnings would flood the log of a viewer scrolling 400 slices.
pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE

MAX_SIDE = 16384
MAX_PIXEL_BYTES = 1 << 30
_PHOTOMETRIC = {
    "MONOCHROME1",
    "MONOCHROME2",
    "RGB",
    "YBR_FULL",
    "YBR_FULL_422",
    "YBR_ICT",
    "YBR_RCT",
    "PALETTE COLOR",
}


@dataclass(frozen=True)
class Geometry:
    """What the viewer needs besides the pixels: size, spacing, position, defaults."""

    rows: int
    cols: int
    frames: int
    photometric: str
    """After decoding: YBR data come back as RGB, so this says ``RGB`` for them."""
    pixel_spacing: tuple[float, float] | None
    """(row spacing, column spacing) in mm — distance measurement needs it."""
    image_position: tuple[float, float, float] | None
    orientation: tuple[float, float, float, float, float, float] | None
    slice_position: float | None
    """Position along the slice normal (mm): the stack order."""
    slice_thickness: float | None
    rescale_slope: float
    rescale_intercept: float
    window_center: float | None
    window_width: float | None
    instance_number: int | None

    @property
    def is_color(self) -> bool:
        return self.photometric in ("RGB", "PALETTE COLOR")


@dataclass(frozen=True)
class Frame:
    pixels: np.ndarray
    """Stored values, ``(rows, cols)``, or ``(rows, cols, 3)`` uint8 for colour."""
    geometry: Geometry
    sop_uid: str
    series_uid: str
    study_uid: str


def _floats(value: object, n: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    seq = [value] if isinstance(value, str | bytes | int | float) else value
    try:
        out = tuple(float(v) for v in seq)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    if len(out) != n or not all(math.isfinite(v) for v in out):
        return None
    return out


def _float(value: object, default: float | None) -> float | None:
    if value is None or value == "":
        return default
    try:
        if not isinstance(value, str | int | float) and hasattr(value, "__getitem__"):
            value = value[0]  # multi-valued window: the first is the default
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, IndexError):
        return default
    return x if math.isfinite(x) else default


def _int(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _geometry(ds: Dataset, photometric: str) -> Geometry:
    rows, cols = int(ds.Rows), int(ds.Columns)
    frames = _int(ds.get("NumberOfFrames")) or 1
    spacing = _floats(ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing"), 2)
    ipp = _floats(ds.get("ImagePositionPatient"), 3)
    iop = _floats(ds.get("ImageOrientationPatient"), 6)
    return Geometry(
        rows=rows,
        cols=cols,
        frames=frames,
        photometric=photometric,
        pixel_spacing=(spacing[0], spacing[1]) if spacing and min(spacing) > 0 else None,
        image_position=(ipp[0], ipp[1], ipp[2]) if ipp else None,
        orientation=iop if iop else None,  # type: ignore[arg-type]
        slice_position=slice_position(ipp, iop) if ipp else None,
        slice_thickness=_float(ds.get("SliceThickness"), None),
        rescale_slope=_float(ds.get("RescaleSlope"), 1.0) or 1.0,
        rescale_intercept=_float(ds.get("RescaleIntercept"), 0.0) or 0.0,
        window_center=_float(ds.get("WindowCenter"), None),
        window_width=_float(ds.get("WindowWidth"), None),
        instance_number=_int(ds.get("InstanceNumber")),
    )


def _check(ds: Dataset) -> str:
    """Validate what decoding relies on; returns the photometric interpretation."""
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise UnsupportedInstance("В файле нет изображения (это отчёт или служебный объект)")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        bits = int(ds.BitsAllocated)
        samples = int(ds.get("SamplesPerPixel", 1))
    except (AttributeError, TypeError, ValueError) as exc:
        raise CorruptInstance("В заголовке изображения нет размеров") from exc
    frames = _int(ds.get("NumberOfFrames")) or 1
    if not (0 < rows <= MAX_SIDE and 0 < cols <= MAX_SIDE and 0 < frames <= 100_000):
        raise UnsupportedInstance(f"Неподдерживаемый размер изображения {cols}×{rows}×{frames}")
    if bits not in (1, 8, 16, 32, 64) or samples not in (1, 3):
        raise UnsupportedInstance(
            f"Неподдерживаемый формат пикселей ({bits} бит, {samples} канала)"
        )
    if rows * cols * samples * max(bits // 8, 1) > MAX_PIXEL_BYTES:
        raise UnsupportedInstance("Изображение слишком велико для просмотра")
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric not in _PHOTOMETRIC:
        raise UnsupportedInstance(f"Неподдерживаемое цветовое пространство {photometric[:20]}")
    return photometric


def read_frame(source: Path | str | bytes, frame: int = 0) -> Frame:
    """Read frame ``frame`` of an instance (a path, or the file's bytes).

    Raises:
        CorruptInstance: Not DICOM, truncated, or pixel data that do not fit the header.
        UnsupportedInstance: Valid DICOM that cannot be shown (no image, unknown
            compression or colour space, absurd size).
    """
    try:
        return _read(source, frame)
    except ReadError:
        raise
    except (InvalidDicomError, EOFError) as exc:
        raise CorruptInstance("Файл повреждён или не является DICOM") from exc
    except NotImplementedError as exc:
        raise UnsupportedInstance("Сжатие изображения не поддерживается") from exc
    except MemoryError as exc:
        raise UnsupportedInstance("Изображение слишком велико для просмотра") from exc
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # the viewer's contract: a typed error, never a crash
        # BaseException, not Exception: pylibjpeg-rle (Rust, via pyo3) *panics* on a malformed
        # RLE segment, and pyo3's PanicException derives from BaseException (found by the fuzz
        # test).  A panic inside a decoder leaves no state behind, so it is a corrupt file.
        raise CorruptInstance(f"Файл повреждён ({type(exc).__name__})") from exc


def _read(source: Path | str | bytes, frame: int) -> Frame:
    if isinstance(source, bytes):
        size = len(source)
        stream: io.BytesIO | str = io.BytesIO(source)
    else:
        size = os.stat(source).st_size
        stream = str(source)
    ds = dcmread(stream, force=True)
    photometric = _check(ds)
    geometry = _geometry(ds, photometric)
    if not 0 <= frame < geometry.frames:
        raise UnsupportedInstance(f"Кадра {frame + 1} нет (кадров: {geometry.frames})")
    samples, bits = int(ds.get("SamplesPerPixel", 1)), int(ds.BitsAllocated)
    expected = geometry.rows * geometry.cols * samples * max(bits // 8, 1)
    syntax = ds.file_meta.get("TransferSyntaxUID") if "file_meta" in ds.__dict__ else None
    if syntax is not None and not syntax.is_compressed and bits >= 8 and expected > size:
        raise CorruptInstance("Файл обрезан: данных меньше, чем размер изображения")
    pixels = pixel_array(ds, index=frame if geometry.frames > 1 else None)
    if pixels.ndim == 3 and geometry.frames > 1 and pixels.shape[-1] != 3:
        pixels = pixels[0]
    if photometric == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
        if pixels.dtype != np.uint8:
            pixels = (pixels >> 8).astype(np.uint8)
    elif photometric.startswith("YBR") or photometric == "RGB":
        photometric = "RGB"
        geometry = _geometry(ds, photometric)
    if pixels.shape[:2] != (geometry.rows, geometry.cols):
        raise CorruptInstance("Размер декодированного изображения не совпадает с заголовком")
    return Frame(
        pixels=pixels,
        geometry=geometry,
        sop_uid=str(ds.get("SOPInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        study_uid=str(ds.get("StudyInstanceUID", "")),
    )
