"""Import from a folder or a patient's CD (DICOMDIR) into the study cache, in two steps.

:func:`scan_media` finds what is there — patients, their studies, how many series and images —
without copying anything, so the UI can show it and ask the user to confirm the match with
the EMK patient (:func:`dicom.patient_match.compare_patient` says what differs).
:func:`import_scan` then copies the chosen studies into the cache.

A DICOMDIR is read with pydicom's ``FileSet`` (the disc's own index, fast even on a slow
drive); a folder without one, or with a broken one, is walked and every file's header read.
Files that are not DICOM (viewers, autorun, readme) are counted as skipped, not errors.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.fileset import FileSet

from dicom.cache import NewInstance, StudyCache, StudyRecord
from dicom.errors import ImportFailed
from dicom.progress import NullState, TaskState, raise_if_cancelled
from dicom.query import parse_da
from dicom.sorting import sort_key

__all__ = ["FoundPatient", "FoundStudy", "MediaScan", "import_scan", "scan_media"]

log = logging.getLogger(__name__)

_HEADER = [
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "SeriesInstanceUID",
    "Modality",
    "SOPInstanceUID",
    "InstanceNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "SpecificCharacterSet",
]


@dataclass(frozen=True)
class FoundStudy:
    study_uid: str
    study_date: dt.date | None
    description: str
    modalities: tuple[str, ...]
    series: int
    instances: int


@dataclass(frozen=True)
class FoundPatient:
    patient_id: str
    name: str
    """DICOM PN (``Family^Given^Middle``)."""
    birth_date: str
    """DICOM DA as on the disc (may be empty); compare with ``compare_patient``."""
    sex: str
    studies: tuple[FoundStudy, ...]


@dataclass(frozen=True)
class _File:
    path: Path
    record: StudyRecord
    series_uid: str
    sop_uid: str
    modality: str
    number: int | None
    position: float | None


@dataclass
class MediaScan:
    """What :func:`scan_media` found; pass it to :func:`import_scan`."""

    root: Path
    patients: tuple[FoundPatient, ...] = ()
    skipped: int = 0
    used_dicomdir: bool = False
    _files: list[_File] = field(default_factory=list, repr=False)


def _find_dicomdir(path: Path) -> Path | None:
    if path.is_file():
        return path if path.name.upper() == "DICOMDIR" else None
    try:
        for entry in path.iterdir():
            if entry.name.upper() == "DICOMDIR" and entry.is_file():
                return entry
    except OSError:
        return None
    return None


def _record(ds: Dataset) -> StudyRecord:
    return StudyRecord(
        study_uid=str(ds.get("StudyInstanceUID", "")),
        patient_id=str(ds.get("PatientID", "")),
        patient_name=str(ds.get("PatientName", "")),
        birth_date=str(ds.get("PatientBirthDate", "")),
        study_date=str(ds.get("StudyDate", "")),
        description=str(ds.get("StudyDescription", "")),
        modalities=str(ds.get("Modality", "")),
        accession=str(ds.get("AccessionNumber", "")),
        source="CD",
    )


def _read_header(path: Path) -> Dataset | None:
    for force in (False, True):
        try:
            ds = dcmread(path, stop_before_pixels=True, specific_tags=_HEADER, force=force)
        except InvalidDicomError:
            continue
        except (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, AttributeError):
            return None
        if ds.get("SOPInstanceUID") and ds.get("StudyInstanceUID") and ds.get("SeriesInstanceUID"):
            return ds
        return None
    return None


def _file(path: Path, ds: Dataset) -> _File:
    number, position = sort_key(ds)
    return _File(
        path,
        _record(ds),
        str(ds.SeriesInstanceUID),
        str(ds.SOPInstanceUID),
        str(ds.get("Modality", "")),
        number,
        position,
    )


def _from_dicomdir(dicomdir: Path, state: TaskState) -> tuple[list[_File], int]:
    fs = FileSet(dcmread(dicomdir))
    instances = list(fs)
    files: list[_File] = []
    skipped = 0
    for n, inst in enumerate(instances):
        if n % 50 == 0:
            state.report(n, len(instances), "")
            raise_if_cancelled(state)
        path = Path(inst.path)
        ds = _read_header(path)  # the disc's patient and study fields, not the DICOMDIR's copy
        if ds is None:
            skipped += 1
            continue
        files.append(_file(path, ds))
    return files, skipped


def _walk(root: Path, state: TaskState) -> tuple[list[_File], int]:
    paths: list[Path] = []
    for dirpath, _dirs, names in os.walk(root):
        paths.extend(Path(dirpath) / n for n in names if n.upper() != "DICOMDIR")
    files: list[_File] = []
    skipped = 0
    for n, path in enumerate(paths):
        if n % 50 == 0:
            state.report(n, len(paths), "")
            raise_if_cancelled(state)
        ds = _read_header(path)
        if ds is None:
            skipped += 1
        else:
            files.append(_file(path, ds))
    return files, skipped


def scan_media(path: Path, state: TaskState | None = None) -> MediaScan:
    """Find the patients and studies in a folder, a disc or a DICOMDIR; copies nothing.

    Raises:
        ImportFailed: Nothing DICOM is there (or the path cannot be read).
    """
    state = state or NullState()
    if not path.exists():
        raise ImportFailed(f"Папка не найдена: {path}")
    dicomdir = _find_dicomdir(path)
    used = False
    files: list[_File] = []
    skipped = 0
    if dicomdir is not None:
        try:
            files, skipped = _from_dicomdir(dicomdir, state)
            used = True
        except (InvalidDicomError, OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
            log.warning("DICOMDIR unreadable (%s), walking the folder instead", type(exc).__name__)
    if not used:
        files, skipped = _walk(path if path.is_dir() else path.parent, state)
    if not files:
        raise ImportFailed("На диске или в папке нет изображений DICOM")
    return MediaScan(path, _summarise(files), skipped, used, files)


def _summarise(files: list[_File]) -> tuple[FoundPatient, ...]:
    by_patient: dict[str, dict[str, list[_File]]] = {}
    for f in files:
        by_patient.setdefault(f.record.patient_id, {}).setdefault(f.record.study_uid, []).append(f)
    patients = []
    for pid, studies in by_patient.items():
        found = []
        for uid, members in studies.items():
            rec = members[0].record
            found.append(
                FoundStudy(
                    uid,
                    parse_da(rec.study_date),
                    rec.description,
                    tuple(sorted({m.modality for m in members if m.modality})),
                    len({m.series_uid for m in members}),
                    len({m.sop_uid for m in members}),
                )
            )
        first = next(iter(studies.values()))[0].record
        patients.append(FoundPatient(pid, first.patient_name, first.birth_date, "", tuple(found)))
    return tuple(patients)


def import_scan(
    scan: MediaScan,
    cache: StudyCache,
    state: TaskState | None = None,
    *,
    study_uids: set[str] | None = None,
) -> list[str]:
    """Copy the scanned studies (or only ``study_uids``) into the cache; returns their UIDs.

    The copies make the cache independent of the disc; a study imported from a disc counts
    as complete (the disc is all there is).
    """
    state = state or NullState()
    chosen = [f for f in scan._files if study_uids is None or f.record.study_uid in study_uids]
    done: dict[str, StudyRecord] = {}
    batch: list[NewInstance] = []
    with_pins = {f.record.study_uid for f in chosen}
    for uid in with_pins:
        cache.register_study(next(f.record for f in chosen if f.record.study_uid == uid))
    for uid in with_pins:
        cache.pin(uid)
    try:
        for n, f in enumerate(chosen):
            if n % 20 == 0:
                state.report(n, len(chosen), "")
                raise_if_cancelled(state)
            dst = cache.instance_path(f.record.study_uid, f.series_uid, f.sop_uid)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(f.path, dst)
            except OSError as exc:
                raise ImportFailed(f"Не удалось скопировать {f.path.name}: {exc.strerror}") from exc
            batch.append(
                NewInstance(
                    f.sop_uid, f.record.study_uid, f.series_uid, dst, dst.stat().st_size,
                    f.number, f.position,
                )
            )  # fmt: skip
            done[f.record.study_uid] = f.record
            if len(batch) >= 200:
                cache.add_instances(batch)
                batch.clear()
        cache.add_instances(batch)
        for uid in done:
            cache.set_complete(uid, True)
        state.report(len(chosen), len(chosen), "")
    finally:
        for uid in with_pins:
            cache.close_study(uid)
    cache.evict()
    return list(done)
