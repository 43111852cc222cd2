"""One instance file → what the viewer may show: the frame, the header fields it checks, or why not.

Runs in the runner's I/O lane, never on the GUI thread (about 1.2 ms for a 512×512 slice
here: the bytes are read once and parsed twice — :func:`dicom.reader.read_frame` for the
pixels, a header-only parse of the same bytes (~0.35 ms) for the Patient ID the viewer checks
and the series fields it shows).  Qt-free, so it is a plain work function.

The promise mirrors the reader's: :func:`decode` returns a :class:`Decoded` whatever the
file holds — a frame, or an ``error`` in words for the error tile.  Whether the frame belongs
to the patient and study on screen is *not* decided here but on the GUI thread, in one place
(:meth:`widgets.viewer.state.ViewerSubject.refusal`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from pydicom import dcmread

from dicom.errors import ReadError
from dicom.reader import Frame, read_frame

__all__ = ["Decoded", "Header", "decode", "decode_many", "plan_cached"]

_HEADER_TAGS = [
    "SpecificCharacterSet",
    "PatientID",
    "StudyDate",
    "StudyDescription",
    "SeriesNumber",
    "SeriesDescription",
    "Modality",
]


class _Cancellable(Protocol):
    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class Header:
    """The header fields the viewer checks (patient) and shows (study, series)."""

    patient_id: str
    study_date: str
    study_description: str
    series_number: int | None
    series_description: str
    modality: str


@dataclass(frozen=True)
class Decoded:
    """The outcome for one file: ``frame`` and ``header``, or ``error`` (never both)."""

    path: Path
    frame: Frame | None = None
    header: Header | None = None
    error: str | None = None
    series_hint: str | None = None
    """The series the caller said the file belongs to: where an error tile goes."""


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def read_header(data: bytes) -> Header | None:
    """The checked and shown fields from a file's bytes; None if the header cannot be parsed."""
    try:
        ds = dcmread(
            io.BytesIO(data), stop_before_pixels=True, specific_tags=_HEADER_TAGS, force=True
        )
        number_value = ds.get("SeriesNumber")
        try:
            number = int(number_value) if number_value not in (None, "") else None
        except (TypeError, ValueError):
            number = None
        return Header(
            patient_id=_text(ds.get("PatientID")),
            study_date=_text(ds.get("StudyDate"))[:8],
            study_description=_text(ds.get("StudyDescription"))[:200],
            series_number=number,
            series_description=_text(ds.get("SeriesDescription"))[:200],
            modality=_text(ds.get("Modality"))[:16],
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 — any parse failure means "cannot verify": refused
        return None


def _fit_pixels(pixels: np.ndarray) -> np.ndarray | None:
    """The array the canvas can paint (grey 2-D, or RGB uint8), contiguous and owning its data."""
    if pixels.ndim == 3 and pixels.shape[-1] == 3 and pixels.dtype != np.uint8:
        pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] == 3)):
        return None
    if pixels.dtype.kind not in "biuf" or pixels.size == 0:
        return None
    if pixels.dtype.kind == "f" and pixels.dtype.itemsize > 4:
        pixels = pixels.astype(np.float32)  # half the memory; a display needs no more
    # A view into a bigger buffer (the file's bytes) would keep that buffer alive.
    if not pixels.flags.c_contiguous or pixels.base is not None:
        pixels = np.array(pixels, order="C", copy=True)
    return pixels


def decode(path: Path, series_hint: str | None = None) -> Decoded:
    """Read and decode one file; a :class:`Decoded` with an ``error`` instead of raising."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Decoded(path, error=f"Файл недоступен ({exc.strerror or type(exc).__name__})")
    try:
        frame = read_frame(data)
    except ReadError as exc:
        return Decoded(path, error=str(exc), series_hint=series_hint)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 — the reader promises ReadError; a tile if not
        return Decoded(path, error=f"Ошибка чтения ({type(exc).__name__})", series_hint=series_hint)
    header = read_header(data)
    if header is None:
        return Decoded(path, error="Не читается заголовок файла", series_hint=series_hint)
    pixels = _fit_pixels(frame.pixels)
    if pixels is None:
        return Decoded(path, error="Неподдерживаемая раскладка пикселей", series_hint=series_hint)
    if pixels is not frame.pixels:
        frame = Frame(pixels, frame.geometry, frame.sop_uid, frame.series_uid, frame.study_uid)
    return Decoded(path, frame, header, series_hint=series_hint)


def decode_many(
    items: Sequence[tuple[Path, str | None]], state: _Cancellable | None = None
) -> list[Decoded]:
    """Decode a chunk in order; stops early (returning what is done) when ``state`` is cancelled."""
    out: list[Decoded] = []
    for path, hint in items:
        if state is not None and state.cancelled():
            break
        out.append(decode(path, hint))
    return out


def _numbers(path: Path) -> tuple[int | None, int | None]:
    """(Instance Number, Series Number) from a header; Nones when unreadable."""
    try:
        ds = dcmread(
            path,
            stop_before_pixels=True,
            specific_tags=["InstanceNumber", "SeriesNumber"],
            force=True,
        )
        out: list[int | None] = []
        for tag in ("InstanceNumber", "SeriesNumber"):
            value = ds.get(tag)
            out.append(int(value) if value not in (None, "") else None)
        return out[0], out[1]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 — only an order hint: unknown is fine
        return None, None


def plan_cached(series: dict[str, list[Path]]) -> list[tuple[str, list[Path]]]:
    """A cached study's series in series-number order, each in display order.

    The cache lists slices ascending along the normal; the viewer shows them in the order the
    scanner numbered them (see :mod:`widgets.viewer.state`).  Feeding the files in that order
    makes the first image slice 1 of series 1 and lets the rest arrive *after* it, so the
    current slice never has to move.  Two header reads per series decide it.
    """
    planned: list[tuple[int, int, str, list[Path]]] = []
    for k, (uid, paths) in enumerate(series.items()):
        if not paths:
            continue
        first_number, series_number = _numbers(paths[0])
        last_number, _ = _numbers(paths[-1]) if len(paths) > 1 else (None, None)
        ordered = list(paths)
        if first_number is not None and last_number is not None and first_number > last_number:
            ordered.reverse()
        planned.append((series_number if series_number is not None else 1 << 30, k, uid, ordered))
    planned.sort(key=lambda t: (t[0], t[1]))
    return [(uid, ordered) for _n, _k, uid, ordered in planned]
