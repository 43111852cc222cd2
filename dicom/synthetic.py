"""Generated DICOM studies with fake patients: CT, MR and compressed series.

The pixels are a smooth phantom (a body-shaped ellipse with "lungs" and a "spine") rather than
noise, so compressed syntaxes compress and windowing shows something a person can judge.
Every UID is derived from a fixed root plus counters, so a run's files are reproducible.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
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

__all__ = ["FakePatient", "SeriesSpec", "StudySpec", "phantom", "write_study"]


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


@dataclass
class StudySpec:
    patient: FakePatient
    series: list[SeriesSpec]
    description: str = ""
    accession: str = ""
    date: str = "20240115"
    study_uid: str = field(default_factory=generate_uid)


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


_SOP = {"CT": CTImageStorage, "MR": MRImageStorage, "OT": SecondaryCaptureImageStorage}


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
    ds.StudyTime = "101500"
    ds.SeriesDate = spec.date
    ds.AccessionNumber = spec.accession
    ds.StudyDescription = spec.description
    ds.SeriesDescription = s.description
    ds.StudyID = "1"
    ds.Modality = s.modality
    ds.SeriesNumber = series_no
    ds.InstanceNumber = k + 1
    ds.ReferringPhysicianName = ""
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
