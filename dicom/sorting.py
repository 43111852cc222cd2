"""Slice order: where a slice lies along its series' normal, and its Instance Number.

Instance Number alone is not a safe order (scanners restart it, reconstructions reverse it);
the position of Image Position (Patient) projected on the normal of Image Orientation
(Patient) is.  Both are cheap to read from a header with ``stop_before_pixels``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

__all__ = ["slice_position", "sort_key", "sort_key_from_file"]

_TAGS = ["InstanceNumber", "ImagePositionPatient", "ImageOrientationPatient"]


def slice_position(ipp: Sequence[float], iop: Sequence[float] | None) -> float:
    """Distance along the slice normal (mm); the z coordinate when orientation is unknown."""
    if iop is not None and len(iop) == 6:
        r, c = iop[:3], iop[3:]
        n = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
        if any(n):
            return float(sum(p * q for p, q in zip(ipp, n, strict=True)))
    return float(ipp[2])


def sort_key(ds: Dataset) -> tuple[int | None, float | None]:
    """``(instance number, position)`` from a dataset; either may be None."""
    number: int | None = None
    position: float | None = None
    try:
        v = ds.get("InstanceNumber")
        number = int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    try:
        ipp = ds.get("ImagePositionPatient")
        if ipp is not None and len(ipp) == 3:
            iop = ds.get("ImageOrientationPatient")
            pos = slice_position(
                [float(x) for x in ipp], [float(x) for x in iop] if iop is not None else None
            )
            position = pos if math.isfinite(pos) else None
    except (TypeError, ValueError, IndexError):
        position = None
    return number, position


def sort_key_from_file(path: Path) -> tuple[int | None, float | None]:
    """The sort key from a file's header; ``(None, None)`` for an unreadable file."""
    try:
        ds = dcmread(path, stop_before_pixels=True, specific_tags=_TAGS, force=True)
        return sort_key(ds)
    except (InvalidDicomError, OSError, ValueError, TypeError, KeyError, IndexError, EOFError):
        return None, None
