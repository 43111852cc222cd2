"""Generated DICOM studies with fake patients: CT, MR, CR and compressed series.

Why this is product code and not a test helper: the tests and benches need real DICOM files
of known content (every transfer syntax the viewer decodes, sizes from 16² to 512²), and the
demo (``arm --demo``, :mod:`arm.demo_pacs`) needs a PACS full of studies that look like
studies — no real patient's images may ever ship with ARM.  Only pydicom and numpy; no Qt.

Two kinds of pixels:

* :func:`phantom` — the tests' smooth slice (a body-shaped ellipse, two "lungs", a "spine" and
  a sine ripple): cheap, and what a lossless round trip must give back bit for bit.  A
  :class:`SeriesSpec` without ``anatomy`` uses it, exactly as before.
* ``anatomy="chest" | "head" | "spine" | "xray_chest" | "xray_spine"`` — a labelled body
  (fat, muscle, lungs with vessels, heart, aorta, ribs, vertebrae with discs; skull, grey and
  white matter, ventricles; a sagittal lumbar spine; projection radiographs) turned into
  realistic values: Hounsfield units for CT (air −1000, fat −100, soft tissue ~40, lung ~−850,
  bone +250…+1000, stored as HU + 1024 with Rescale Intercept −1024), T2-like signal for MR, a
  12-bit exposure for CR, with a reconstruction kernel's noise — so a screenshot at a lung,
  brain or bone window looks like one.  Noise is seeded from the study UID: a study's files
  are the same every time it is written.

Study UIDs are whatever the :class:`StudySpec` says (random by default); series and SOP
instance UIDs are new on every write.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import shutil
import subprocess
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

__all__ = [
    "ANATOMIES",
    "FakePatient",
    "SeriesSpec",
    "StudySpec",
    "phantom",
    "render",
    "today",
    "write_study",
]

# openjpeg logs "tile number 1 / 1" at INFO for every frame it encodes
logging.getLogger("openjpeg.encode").setLevel(logging.WARNING)

F32 = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FakePatient:
    patient_id: str
    name: str  # DICOM PN, "Family^Given^Middle"
    birth_date: str  # YYYYMMDD
    sex: str = "O"


@dataclass(frozen=True)
class SeriesSpec:
    modality: str = "CT"
    slices: int = 20
    rows: int = 128
    cols: int = 128
    description: str = ""
    #: Target transfer syntax; JPEG lossless and baseline go through dcmtk's dcmcjpeg.
    syntax: str = ExplicitVRLittleEndian
    bits: int = 16
    #: "" → the tests' :func:`phantom`; otherwise one of :data:`ANATOMIES`.
    anatomy: str = ""
    #: CT reconstruction kernel: "soft" (smooth, soft-tissue window) or "lung" (sharp, noisy,
    #: lung window).  Ignored by the other modalities.
    kernel: str = "soft"
    #: (center, width) of the default window; None → the anatomy's usual one.
    window: tuple[float, float] | None = None
    body_part: str = ""


@dataclass
class StudySpec:
    patient: FakePatient
    series: list[SeriesSpec]
    description: str = ""
    accession: str = ""
    date: str = "20240115"
    study_uid: str = field(default_factory=generate_uid)
    time: str = "101500"  # HHMMSS, the clinic's local time as the modality writes it
    institution: str = ""
    referring_physician: str = ""  # DICOM PN
    study_id: str = "1"


def phantom(rows: int, cols: int, z: float, *, bits: int = 16) -> np.ndarray:
    """A CT-like slice in stored values (HU + 1024): air, body, two lungs, a spine."""
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    cy, cx = rows / 2, cols / 2
    img = np.zeros((rows, cols), np.float32)  # air = -1024 HU → 0 stored
    body = ((x - cx) / (cols * 0.42)) ** 2 + ((y - cy) / (rows * 0.33)) ** 2 <= 1
    img[body] = 1024 + 40  # soft tissue
    for side in (-1, 1):
        lung = ((x - cx - side * cols * 0.18) / (cols * 0.13)) ** 2 + (
            (y - cy + rows * 0.03) / (rows * 0.2 * (0.8 + 0.2 * np.cos(z)))
        ) ** 2 <= 1
        img[lung] = 1024 - 850
    spine = (x - cx) ** 2 + (y - cy - rows * 0.22) ** 2 <= (rows * 0.06) ** 2
    img[spine] = 1024 + 700
    img += (np.sin(x / 7 + z) * 8).astype(np.float32)
    if bits == 8:
        return np.clip(img / 8, 0, 255).astype(np.uint8)
    return np.clip(img, 0, 4095).astype(np.int16)


# --- anatomy ---------------------------------------------------------------------------------
# Tissue labels; each modality maps them to its values (_HU for CT, _T2 for MR).
AIR, FAT, MUSCLE, SOFT, BLOOD, LUNG, CORTEX, MARROW, CSF, GREY, WHITE, LIVER, DISC, DISC_DRY = (
    range(14)
)
VITREOUS, CORD = 14, 15
_HU = np.array([-1000, -100, 50, 40, 42, -860, 900, 250, 8, 40, 28, 60, 80, 90, 12, 35], np.float32)
_T2 = np.array(
    [0, 760, 230, 380, 40, 20, 25, 470, 1000, 620, 460, 300, 820, 280, 980, 480], np.float32
)

#: anatomy → (field of view mm, axial/sagittal/projection, slice spacing mm or None = FOV/N)
ANATOMIES: dict[str, tuple[float, str, float | None]] = {
    "chest": (380.0, "axial", None),
    "head": (230.0, "axial", None),
    "spine": (300.0, "sagittal", 4.0),
    "xray_chest": (430.0, "projection", None),
    "xray_spine": (350.0, "projection", None),
}
#: scan length in mm of the axial anatomies (slice spacing = length / slices)
_LENGTH = {"chest": 300.0, "head": 140.0}


class _Canvas:
    """Normalised coordinates of one image: u left→right, v top→bottom, both in [-1, 1]."""

    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.u = ((np.arange(cols, dtype=np.float32) + 0.5) / cols * 2 - 1)[None, :]
        self.v = ((np.arange(rows, dtype=np.float32) + 0.5) / rows * 2 - 1)[:, None]
        self.labels = np.zeros((rows, cols), np.uint8)

    def _box(self, cu: float, cv: float, au: float, av: float) -> tuple[slice, slice]:
        """Rows and columns that an ellipse of these half-axes can touch."""
        r0 = max(int((cv - av + 1) / 2 * self.rows) - 1, 0)
        r1 = min(int((cv + av + 1) / 2 * self.rows) + 2, self.rows)
        c0 = max(int((cu - au + 1) / 2 * self.cols) - 1, 0)
        c1 = min(int((cu + au + 1) / 2 * self.cols) + 2, self.cols)
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    def _inside(self, rs: slice, cs: slice, cu: float, cv: float, au: float, av: float) -> Mask:
        m: Mask = ((self.u[:, cs] - cu) / au) ** 2 + ((self.v[rs, :] - cv) / av) ** 2 <= 1
        return m

    def ellipse(self, cu: float, cv: float, au: float, av: float) -> Mask:
        out = np.zeros((self.rows, self.cols), np.bool_)
        if au > 0 and av > 0:
            rs, cs = self._box(cu, cv, au, av)
            out[rs, cs] = self._inside(rs, cs, cu, cv, au, av)
        return out

    def oval(
        self, cu: float, cv: float, au: float, av: float, label: int, within: Mask | None = None
    ) -> None:
        """Paint an ellipse, computed in its bounding box only."""
        if au <= 0 or av <= 0:
            return
        rs, cs = self._box(cu, cv, au, av)
        m = self._inside(rs, cs, cu, cv, au, av)
        if within is not None:
            m &= within[rs, cs]
        self.labels[rs, cs][m] = label

    def rect(self, u0: float, u1: float, v0: float, v1: float) -> Mask:
        r: Mask = (self.u >= u0) & (self.u <= u1) & (self.v >= v0) & (self.v <= v1)
        return r

    def paint(self, mask: Mask, label: int, within: Mask | None = None) -> None:
        if within is not None:
            mask = mask & within
        self.labels[mask] = label

    def disc(self, cu: float, cv: float, r: float, label: int, within: int | None = None) -> None:
        """A small disc drawn in its bounding box only (vessels: hundreds per slice)."""
        c0 = max(int((cu - r + 1) / 2 * self.cols), 0)
        c1 = min(int((cu + r + 1) / 2 * self.cols) + 2, self.cols)
        r0 = max(int((cv - r + 1) / 2 * self.rows), 0)
        r1 = min(int((cv + r + 1) / 2 * self.rows) + 2, self.rows)
        if c0 >= c1 or r0 >= r1:
            return
        uu, vv = self.u[:, c0:c1], self.v[r0:r1, :]
        m = (uu - cu) ** 2 + (vv - cv) ** 2 <= r * r
        box = self.labels[r0:r1, c0:c1]
        if within is not None:
            m &= box == within
        box[m] = label


def _vessels(seed: int, n: int) -> npt.NDArray[np.float64]:
    """Vessel tracks in a lung: (ρ, φ, drift ρ, drift φ, radius) per vessel, fixed per study."""
    rng = np.random.default_rng(seed)
    rho = np.sqrt(rng.uniform(0.02, 0.9, n))
    phi = rng.uniform(0, 2 * math.pi, n)
    d_rho = rng.normal(0, 0.15, n)
    d_phi = rng.normal(0, 0.5, n)
    radius = 0.004 + 0.02 * (1 - rho) ** 2 + rng.uniform(0, 0.004, n)
    return np.stack([rho, phi, d_rho, d_phi, radius], axis=1)


def _chest(c: _Canvas, z: float, seed: int) -> None:
    """An axial chest slice; z runs from the lung apices (0) to the diaphragm domes (1)."""
    body = c.ellipse(0, 0.05, 0.9, 0.6)
    c.paint(body, FAT)
    c.oval(0, 0.05, 0.84, 0.54, MUSCLE)
    cavity = c.ellipse(0, 0.04, 0.74, 0.47)
    c.paint(cavity, SOFT)
    # ribs: cross-sections around the cavity, moving as the oblique ribs pass the slice
    for i in range(11):
        theta = -math.pi / 2 + (i + 1) * math.pi / 6 + 0.12 * math.sin(6 * z + i)
        for side in (-1, 1):
            a = math.pi / 2 - side * (theta + math.pi / 2)
            cu, cv = 0.79 * math.cos(a), 0.04 + 0.51 * math.sin(a)
            if -0.4 < cu < 0.4 and cv < 0:
                continue  # anterior midline: costal cartilage, not bone
            c.oval(cu, cv, 0.035, 0.022, CORTEX)
            c.oval(cu, cv, 0.02, 0.01, MARROW)
    # lungs
    grow = math.sqrt(min(max(z / 0.3, 0.08), 1.0))
    lungs = np.zeros_like(body)
    for side in (-1, 1):
        lungs |= c.ellipse(side * 0.37, 0.02, 0.31 * grow, 0.43 * grow)
    lungs &= c.ellipse(0, 0.04, 0.72, 0.45)
    lungs &= np.abs(c.u) > 0.1
    if 0.4 < z < 0.97:  # the heart, to the patient's left (image right)
        s = math.sin(math.pi * (z - 0.4) / 0.57)
        heart = c.ellipse(0.12, -0.1, 0.3 * s, 0.27 * s)
        lungs &= ~heart
    else:
        heart = None
    if z > 0.72:  # diaphragm domes: liver (right, higher) and stomach/spleen (left)
        t = (z - 0.72) / 0.28
        liver = c.ellipse(-0.32, 0.12, 0.45 * t, 0.5 * t)
        c.paint(liver, LIVER, cavity)
        lungs &= ~liver
        left = c.ellipse(0.35, 0.05, 0.35 * max(t - 0.25, 0), 0.45 * max(t - 0.25, 0))
        lungs &= ~left
        c.paint(left, SOFT, cavity)
        c.oval(0.3, -0.12, 0.18 * max(t - 0.5, 0), 0.1 * max(t - 0.5, 0), AIR)
    c.paint(lungs, LUNG)
    for side in (-1, 1):
        cu, au, av = side * 0.37, 0.31 * grow, 0.43 * grow
        tracks = _vessels(seed + (side > 0), 120)
        for rho, phi, d_rho, d_phi, r in tracks:
            rr = min(max(rho + d_rho * z, 0.0), 0.95)
            ph = phi + d_phi * z
            c.disc(cu + rr * au * math.cos(ph), 0.02 + rr * av * math.sin(ph), r, BLOOD, LUNG)
    if heart is not None:
        c.paint(heart, BLOOD)
        c.oval(0.16, -0.2, 0.1, 0.07, FAT)  # epicardial fat
    # great vessels, airway, oesophagus
    c.oval(0.1, 0.26, 0.055, 0.06, BLOOD)  # descending aorta
    if 0.22 < z < 0.5:
        c.oval(-0.02, -0.1, 0.065, 0.07, BLOOD)  # ascending aorta
        c.oval(-0.13, -0.1, 0.04, 0.045, BLOOD)  # superior vena cava
    elif 0.15 < z <= 0.22:
        c.oval(0.04, 0.08, 0.12, 0.2, BLOOD)  # the arch
    if 0.4 < z < 0.5:
        c.oval(0.1, -0.12, 0.06, 0.06, BLOOD)  # pulmonary trunk
    if z < 0.38:
        c.oval(0, -0.18 + 0.2 * z, 0.055, 0.05, SOFT)
        c.oval(0, -0.18 + 0.2 * z, 0.042, 0.038, AIR)  # trachea
    elif z < 0.5:
        for side in (-1, 1):
            c.oval(side * 0.09, -0.06, 0.03, 0.028, AIR)  # main bronchi
    c.oval(0.03, 0.19, 0.025, 0.022, SOFT)
    # spine: body (cortex, marrow, or a disc every vertebra), canal, arch, processes
    disc = (z * 11) % 1 < 0.16
    c.oval(0, 0.36, 0.095, 0.09, CORTEX)
    c.oval(0, 0.36, 0.08, 0.075, DISC if disc else MARROW)
    c.oval(0, 0.51, 0.075, 0.07, CORTEX)
    c.paint(c.rect(-0.018, 0.018, 0.5, 0.65), CORTEX)
    c.paint(c.rect(-0.17, 0.17, 0.47, 0.51), CORTEX, c.ellipse(0, 0.49, 0.17, 0.06))
    c.oval(0, 0.5, 0.045, 0.042, CSF)
    c.oval(0, 0.5, 0.022, 0.02, CORD)
    # sternum, scapulae
    if 0.1 < z < 0.85:
        c.oval(0, -0.5, 0.07, 0.028, CORTEX)
        c.oval(0, -0.5, 0.055, 0.016, MARROW)
    if z < 0.55:
        for side in (-1, 1):
            c.oval(side * 0.6, 0.42, 0.17, 0.022, CORTEX, body)


def _head(c: _Canvas, z: float, seed: int) -> None:
    """An axial head slice; z runs from the vertex (0) to the skull base (1)."""
    s = math.sqrt(max(1 - ((0.62 - z) / 0.66) ** 2, 0.05))
    au, av, cv = 0.74 * s, 0.88 * s, 0.0
    c.oval(0, cv, au, av, FAT)
    c.oval(0, cv, au - 0.03, av - 0.03, CORTEX)
    c.oval(0, cv, au - 0.055, av - 0.055, MARROW)
    c.oval(0, cv, au - 0.075, av - 0.075, CORTEX)
    brain = c.ellipse(0, cv, au - 0.1, av - 0.1)
    c.paint(brain, GREY)
    c.oval(0, cv, au - 0.2, av - 0.2, WHITE)
    rng = np.random.default_rng(seed)
    for ang in rng.uniform(0, 2 * math.pi, 36):  # sulci: CSF clefts at the surface
        depth = float(rng.uniform(0.82, 0.92))
        for t in np.linspace(depth, 1.0, 7):
            c.disc(t * (au - 0.1) * math.cos(ang), cv + t * (av - 0.1) * math.sin(ang), 0.007, CSF)
    c.paint(c.rect(-0.006, 0.006, -1, 1), SOFT, brain)  # falx
    if 0.3 < z < 0.62:  # lateral ventricles
        t = math.sin(math.pi * (z - 0.3) / 0.32)
        for side in (-1, 1):
            c.oval(side * 0.1, -0.08, 0.05 * t + 0.01, 0.3 * t, CSF)
            c.oval(side * 0.2, 0.3, 0.05 * t, 0.08 * t, CSF)  # occipital horns
        c.oval(0, 0.04, 0.015, 0.09 * t, CSF)  # third ventricle
    if z > 0.78:  # skull base: orbits, sinus, petrous bones, posterior fossa
        t = (z - 0.78) / 0.22
        for side in (-1, 1):
            c.oval(side * 0.3, -0.5, 0.15, 0.15, FAT)
            c.oval(side * 0.3, -0.53, 0.11 * (1 - t / 2), 0.11 * (1 - t / 2), VITREOUS)
            c.oval(side * 0.3, 0.12, 0.25 * t, 0.06, CORTEX)
        c.oval(0, -0.32, 0.1 * t, 0.08 * t, AIR)
        c.oval(0, 0.5, 0.4, 0.3, GREY, brain)
        c.oval(0, 0.36, 0.05, 0.04, CSF)  # fourth ventricle


def _spine(c: _Canvas, z: float, seed: int) -> None:
    """A sagittal lumbar spine; u anterior→posterior, v cranial→caudal, z right→left."""
    lateral = abs(z - 0.5)
    axis = 0.15 + 0.1 * np.cos(np.clip(c.v, -1, 1) * 1.4).astype(np.float32)  # lordosis
    c.paint(c.rect(-1, 0.92, -1, 1) & (c.u < axis + 0.78), FAT)
    c.paint((c.u < axis + 0.66) & (c.u > axis - 1.4), MUSCLE)
    c.paint((c.u < axis - 0.45), SOFT)
    if lateral < 0.12:
        c.paint((c.u > axis - 0.62) & (c.u < axis - 0.5), BLOOD)  # aorta/IVC: flow void
    height, gap = 0.245, 0.06
    top = -1.05
    for level in range(8):
        v0 = top + level * (height + gap)
        body = (c.u > axis - 0.42) & (c.u < axis - 0.04) & (c.v > v0) & (c.v < v0 + height)
        c.paint(body, CORTEX)
        inner = (c.u > axis - 0.4) & (c.u < axis - 0.06) & (c.v > v0 + 0.015)
        c.paint(inner & (c.v < v0 + height - 0.015), MARROW)
        d0, d1 = v0 + height, v0 + height + gap
        degenerated = level >= 5  # L4–L5, L5–S1: dark, with a protrusion at L4–L5
        bulge = 0.05 if level == 5 else 0.0
        disc = (c.u > axis - 0.41) & (c.u < axis - 0.05 + bulge) & (c.v > d0) & (c.v < d1)
        c.paint(disc, DISC_DRY if degenerated else DISC)
        if lateral < 0.1:  # the midline: spinous processes
            c.paint(c.rect(-1, 1, v0 + 0.02, v0 + height - 0.03) & (c.u > axis + 0.2)
                    & (c.u < axis + 0.48), CORTEX)  # fmt: skip
        else:  # off the midline: pedicles, the foramina with their fat
            c.paint((c.u > axis - 0.02) & (c.u < axis + 0.16) & (c.v > v0 + 0.02)
                    & (c.v < v0 + 0.14), CORTEX)  # fmt: skip
            c.paint((c.u > axis) & (c.u < axis + 0.1) & (c.v > v0 + 0.16) & (c.v < d1 + 0.02),
                    FAT)  # fmt: skip
    if lateral < 0.1:
        canal = (c.u > axis - 0.03) & (c.u < axis + 0.17)
        c.paint(canal, CSF)
        c.paint(canal & (c.v < -0.55) & (c.u > axis + 0.03) & (c.u < axis + 0.1), CORD)
        rng = np.random.default_rng(seed)
        for k in range(14):  # cauda equina roots
            v = -0.5 + 0.1 * k
            u = 0.15 + 0.1 * math.cos(v * 1.4) + float(rng.uniform(0.0, 0.12))
            c.disc(u, v, 0.006, CORD, CSF)


def _label_values(labels: npt.NDArray[np.uint8], modality: str) -> F32:
    table = _T2 if modality == "MR" else _HU
    out: F32 = table[labels]
    return out


def _blur(img: F32, passes: int = 1) -> F32:
    """A 3×3 box blur per pass (partial volume, detector blur); separable, edges repeated."""
    for _ in range(passes):
        p = np.pad(img, 1, mode="edge")
        rows = p[:-2] + p[1:-1] + p[2:]
        img = (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) * np.float32(1 / 9)
    return img


def _noise(rng: np.random.Generator, sigma: float, shape: tuple[int, ...]) -> F32:
    out: F32 = rng.standard_normal(shape, dtype=np.float32)
    out *= np.float32(sigma)
    return out


@functools.lru_cache(maxsize=4)
def _xray(rows: int, cols: int, spine_view: bool) -> F32:
    """A projection radiograph as attenuation along the beam: 0 outside, ~1 through soft tissue.

    Cached (read-only): every radiograph of a kind differs only in its noise.
    """
    c = _Canvas(rows, cols)
    u, v = c.u, c.v
    d = np.zeros((c.rows, c.cols), np.float32)
    torso = (np.abs(u) < 0.78 - 0.25 * np.clip(-0.55 - v, 0, 1)) & (v > -0.7)
    shoulders = c.ellipse(0, -0.45, 0.88, 0.22)
    neck = (np.abs(u) < 0.2) & (v <= -0.5)
    d += 1.0 * (torso | shoulders | neck)
    if spine_view:
        d += 0.4 * torso  # the abdomen is thicker than the chest
        for k in range(6):
            v0 = -0.9 + k * 0.3
            d += 0.45 * c.rect(-0.17, 0.17, v0, v0 + 0.22)  # vertebral bodies
            for side in (-1, 1):
                ring = c.ellipse(side * 0.11, v0 + 0.07, 0.04, 0.055)
                d += 0.35 * (ring & ~c.ellipse(side * 0.11, v0 + 0.07, 0.025, 0.035))
                lo, hi = sorted((side * 0.17, side * 0.32))
                d += 0.25 * c.rect(lo, hi, v0 + 0.06, v0 + 0.1)  # transverse processes
            d += 0.3 * c.ellipse(0, v0 + 0.16, 0.025, 0.06)  # spinous process
        for side in (-1, 1):
            d += 0.5 * c.ellipse(side * 0.52, 1.0, 0.3, 0.3)  # iliac wings
            d += 0.15 * ((np.abs(u - side * (0.12 + 0.25 * (v + 1) / 2)) < 0.08) & (v > -0.4))
    else:
        dome = 0.42 + 0.14 * np.abs(u) ** 1.5
        for side in (-1, 1):
            lung = c.ellipse(side * 0.36, 0.0, 0.3, 0.64) & (v < dome - 0.04 * (side < 0))
            lung &= np.abs(u) > 0.09
            d -= 0.62 * lung
        d += 0.55 * c.ellipse(0.1, 0.22, 0.32, 0.24)  # heart
        d += 0.3 * ((np.abs(u) < 0.13) & (v > -0.65))  # mediastinum, spine behind it
        d += 0.25 * c.ellipse(0.14, -0.27, 0.07, 0.06)  # aortic knob
        d += 0.45 * (v > dome) * torso  # below the diaphragm
        d -= 0.25 * c.ellipse(0.35, 0.58, 0.12, 0.06)  # gastric bubble
        for i in range(10):  # posterior ribs, then their anterior ends
            h = -0.62 + 0.115 * i
            f = h - 0.1 * np.sin(np.pi * np.clip(np.abs(u), 0, 0.85) / 0.85)
            rib = (np.abs(v - f) < 0.022 + 0.01 * np.abs(u)) & (np.abs(u) > 0.07)
            d += 0.22 * (rib & torso)
            g = h + 0.14 + 0.28 * (0.75 - np.abs(u))
            front = (np.abs(v - g) < 0.018) & (np.abs(u) > 0.18) & (np.abs(u) < 0.72)
            d += 0.1 * (front & torso)
        for side in (-1, 1):
            t = np.clip((side * u - 0.12) / 0.45, 0, 1)
            clav = (np.abs(v - (-0.52 - 0.1 * t)) < 0.028) & (side * u > 0.1) & (side * u < 0.6)
            d += 0.35 * clav
    d = _blur(np.maximum(d, 0).astype(np.float32), 2)
    d.flags.writeable = False
    return d


def _seed(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


@functools.lru_cache(maxsize=96)
def _labels(anatomy: str, rows: int, cols: int, z: float, seed: int) -> npt.NDArray[np.uint8]:
    """The tissue map of one slice; cached, so a study's second kernel costs only its noise."""
    c = _Canvas(rows, cols)
    if anatomy == "chest":
        _chest(c, z, seed)
    elif anatomy == "head":
        _head(c, z, seed)
    elif anatomy == "spine":
        _spine(c, z, seed)
    else:
        raise ValueError(f"unknown anatomy {anatomy!r}; known: {sorted(ANATOMIES)}")
    c.labels.flags.writeable = False
    return c.labels


def render(
    s: SeriesSpec, k: int, seed: int = 0, noise_seed: int | None = None
) -> npt.NDArray[np.uint16]:
    """Stored values of slice ``k`` of an anatomical series (12 bits in uint16).

    ``seed`` picks the anatomy's random details (vessels, sulci): the same for every series
    of one study; ``noise_seed`` (default: from ``seed``) the noise of this series.
    """
    z = k / max(s.slices - 1, 1)
    rng = np.random.default_rng(_seed(seed if noise_seed is None else noise_seed, s.kernel, k))
    if s.anatomy.startswith("xray"):
        att = _xray(s.rows, s.cols, s.anatomy == "xray_spine")
        img = 3600 * (1 - np.exp(-1.3 * att)) + 120
        img += _noise(rng, 18, img.shape)
        return _stored(img)
    # one spine for everybody (only its noise differs): the demo has dozens of spine MRIs and
    # the cache then makes them cheap; chests and heads keep their own vessels and sulci
    labels = _labels(s.anatomy, s.rows, s.cols, z, 0 if s.anatomy == "spine" else seed)
    img = _blur(_label_values(labels, s.modality))
    if s.modality == "MR":
        u = ((np.arange(s.cols, dtype=np.float32) + 0.5) / s.cols * 2 - 1)[None, :]
        v = ((np.arange(s.rows, dtype=np.float32) + 0.5) / s.rows * 2 - 1)[:, None]
        shade = 1.0 - 0.25 * (u**2 + v**2)  # coil sensitivity falls off from the centre
        img = img * shade + np.abs(_noise(rng, 12, img.shape))
        return _stored(img)
    if s.kernel == "lung":  # a sharp kernel: edges overshoot, noise is high
        img = img + 0.8 * (img - _blur(img)) + _noise(rng, 22, img.shape)
    else:
        sigma = 4 if s.anatomy == "head" else 7
        img = _blur(img) + _noise(rng, sigma, img.shape)
    return _stored(img + 1024)


def _stored(img: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.uint16]:
    out: npt.NDArray[np.uint16] = np.clip(img, 0, 4095).astype(np.uint16)
    return out


_SOP = {
    "CT": CTImageStorage,
    "MR": MRImageStorage,
    "CR": ComputedRadiographyImageStorage,
    "OT": SecondaryCaptureImageStorage,
}
_WINDOW = {
    ("CT", "chest", "lung"): (-600.0, 1500.0),
    ("CT", "chest", "soft"): (40.0, 400.0),
    ("CT", "head", "soft"): (40.0, 80.0),
    ("CT", "head", "lung"): (500.0, 2500.0),
    ("MR", "", ""): (520.0, 1000.0),
    ("CR", "", ""): (2200.0, 2800.0),
}
_BODY_PART = {
    "chest": "CHEST",
    "head": "HEAD",
    "spine": "LSPINE",
    "xray_chest": "CHEST",
    "xray_spine": "LSPINE",
}


def _window(s: SeriesSpec) -> tuple[float, float]:
    if s.window is not None:
        return s.window
    return (
        _WINDOW.get((s.modality, s.anatomy, s.kernel))
        or _WINDOW.get((s.modality, "", ""))
        or _WINDOW[("CT", "chest", "soft")]
    )


def _instance(
    spec: StudySpec, s: SeriesSpec, series_uid: str, series_no: int, k: int, for_uid: str
) -> Dataset:
    sop_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _SOP.get(s.modality, SecondaryCaptureImageStorage)
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = spec.study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = for_uid
    ds.PatientID = spec.patient.patient_id
    ds.PatientName = spec.patient.name
    ds.PatientBirthDate = spec.patient.birth_date
    ds.PatientSex = spec.patient.sex
    ds.StudyDate = spec.date
    ds.StudyTime = spec.time
    ds.SeriesDate = spec.date
    ds.AccessionNumber = spec.accession
    ds.StudyDescription = spec.description
    ds.SeriesDescription = s.description
    ds.StudyID = spec.study_id
    ds.Modality = s.modality
    ds.SeriesNumber = series_no
    ds.InstanceNumber = k + 1
    ds.ReferringPhysicianName = spec.referring_physician
    if spec.institution:
        ds.InstitutionName = spec.institution
    if s.anatomy:
        _anatomy_instance(ds, spec, s, series_no, k)
        return ds
    thickness = 2.5
    ds.SliceThickness = thickness
    ds.ImagePositionPatient = [-200.0, -200.0, -k * thickness]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceLocation = -k * thickness
    ds.PixelSpacing = [0.78125, 0.78125]
    ds.Rows, ds.Columns = s.rows, s.cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    pixels = phantom(s.rows, s.cols, k / 5, bits=s.bits)
    if s.bits == 8:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    else:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
    if s.modality == "CT":
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OB" if s.bits == 8 else "OW"
    return ds


def _anatomy_instance(ds: Dataset, spec: StudySpec, s: SeriesSpec, series_no: int, k: int) -> None:
    """Geometry, pixel module and values of an anatomical slice (see :func:`render`)."""
    fov, plane, spacing = ANATOMIES[s.anatomy]
    ds.BodyPartExamined = s.body_part or _BODY_PART[s.anatomy]
    ds.SeriesTime = spec.time
    ds.ContentDate, ds.ContentTime = spec.date, spec.time
    ds.PatientPosition = "HFS"
    pixel = fov / max(s.rows, s.cols)
    ds.PixelSpacing = [round(pixel, 6), round(pixel, 6)]
    if plane == "projection":
        ds.ImagerPixelSpacing = ds.PixelSpacing
        ds.ViewPosition = "PA" if s.anatomy == "xray_chest" else "AP"
        ds.ImageLaterality = "U"
    else:
        step = spacing or _LENGTH[s.anatomy] / max(s.slices, 1)
        ds.SliceThickness = round(step, 3)
        half = fov / 2
        if plane == "axial":
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            position = round(-k * step, 3)
            ds.ImagePositionPatient = [-half, -half, position]
        else:  # sagittal: rows run cranio-caudal, columns anterior→posterior
            ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
            position = round((k - (s.slices - 1) / 2) * step, 3)
            ds.ImagePositionPatient = [position, -half, half]
        ds.SliceLocation = position
    ds.Rows, ds.Columns = s.rows, s.cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if s.modality == "CT":
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.ConvolutionKernel = "B70f" if s.kernel == "lung" else "B30f"
        ds.KVP = 120
    elif s.modality == "MR":
        ds.ScanningSequence, ds.SequenceVariant = "SE", "SK"
        ds.EchoTime, ds.RepetitionTime, ds.MagneticFieldStrength = 100, 4000, 1.5
    center, width = _window(s)
    ds.WindowCenter, ds.WindowWidth = center, width
    pixels = render(s, k, _seed(spec.study_uid), _seed(spec.study_uid, series_no))
    ds.PixelData = pixels.tobytes()
    ds["PixelData"].VR = "OW"


def write_study(spec: StudySpec, folder: Path) -> list[Path]:
    """Write every instance of ``spec`` under ``folder``; returns the file paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for n, s in enumerate(spec.series, start=1):
        series_uid, for_uid = generate_uid(), generate_uid()
        for k in range(s.slices):
            ds = _instance(spec, s, series_uid, n, k, for_uid)
            path = folder / f"{spec.study_uid[-12:]}_{n:02d}_{k:04d}.dcm"
            if s.syntax in (JPEG2000Lossless, RLELossless):
                ds.compress(UID(s.syntax))
            ds.save_as(path, enforce_file_format=True)
            if s.syntax in (JPEGLosslessSV1, JPEGBaseline8Bit):
                _dcmcjpeg(path, s.syntax)
            paths.append(path)
    return paths


def _dcmcjpeg(path: Path, syntax: str) -> None:
    exe = shutil.which("dcmcjpeg")
    if exe is None:
        raise RuntimeError("dcmtk is missing: apt-get install dcmtk")
    flag = "+e1" if syntax == JPEGLosslessSV1 else "+eb"
    tmp = path.with_suffix(".jpg.dcm")
    subprocess.run([exe, flag, str(path), str(tmp)], check=True, capture_output=True, timeout=60)
    tmp.replace(path)


def today() -> str:
    return dt.date.today().strftime("%Y%m%d")
