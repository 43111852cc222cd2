"""Import from a patient's CD (a DICOMDIR made by dcmtk's dcmmkdir) and from a plain folder;
the check of the disc's patient against the EMK patient."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from arm.orthanc_local import INSTALL
from dicom.cache import StudyCache
from dicom.errors import ImportFailed
from dicom.importer import import_scan, scan_media
from dicom.patient_match import EmkPatient, compare_patient, split_dicom_name
from dicom.progress import SimpleState
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study

PATIENT = FakePatient("CD-1", "Кузнецов^Олег^Петрович", "19671230", "M")


def _disc(root: Path) -> StudySpec:
    """A disc as a clinic burns it: DICOM/ST1/IM000001…, a DICOMDIR, and some non-DICOM files."""
    spec = StudySpec(PATIENT, [SeriesSpec("CT", 3, 16, 16), SeriesSpec("MR", 2, 16, 16)])
    files = write_study(spec, root / "src")
    target = root / "cd" / "DICOM" / "ST1"
    target.mkdir(parents=True)
    for i, f in enumerate(files):
        f.rename(target / f"IM{i:06d}")
    shutil.rmtree(root / "src")
    (root / "cd" / "AUTORUN.INF").write_text("[autorun]\nopen=viewer.exe\n")
    (root / "cd" / "README.TXT").write_text("Диск пациента")
    return spec


def _dcmmkdir(cd: Path) -> None:
    exe = shutil.which("dcmmkdir")
    if exe is None:
        pytest.fail(f"dcmtk is missing: {INSTALL}", pytrace=False)
    subprocess.run(
        [exe, "+r", "+I", "+D", "DICOMDIR", "DICOM"],
        cwd=cd,
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_import_a_dicomdir_made_by_dcmmkdir(tmp_path: Path) -> None:
    spec = _disc(tmp_path)
    _dcmmkdir(tmp_path / "cd")
    scan = scan_media(tmp_path / "cd")
    assert scan.used_dicomdir
    (patient,) = scan.patients
    assert (patient.patient_id, patient.name, patient.birth_date) == (
        "CD-1",
        PATIENT.name,
        "19671230",
    )
    (study,) = patient.studies
    assert (study.study_uid, study.series, study.instances, study.modalities) == (
        spec.study_uid, 2, 5, ("CT", "MR"),
    )  # fmt: skip
    assert study.study_date == dt.date(2024, 1, 15)
    cache = StudyCache(tmp_path / "cache", 1 << 30)
    reports: list[tuple[int, int]] = []
    imported = import_scan(scan, cache, SimpleState(lambda d, t, _s: reports.append((d, t))))
    assert imported == [spec.study_uid]
    assert reports[-1] == (5, 5)
    assert cache.has_study(spec.study_uid)
    opened = cache.open_study(spec.study_uid)
    assert sorted(len(p) for p in opened.series.values()) == [2, 3]
    listed = cache.study(spec.study_uid)
    assert listed is not None
    assert listed.record.source == "CD"
    # the copies are independent of the disc
    shutil.rmtree(tmp_path / "cd")
    assert all(p.exists() for paths in opened.series.values() for p in paths)
    cache.close()


def test_import_a_folder_without_dicomdir(tmp_path: Path) -> None:
    _disc(tmp_path)
    scan = scan_media(tmp_path / "cd")
    assert not scan.used_dicomdir
    assert scan.skipped == 2  # AUTORUN.INF, README.TXT
    assert scan.patients[0].studies[0].instances == 5


def test_a_folder_with_nothing_dicom_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("не DICOM")
    with pytest.raises(ImportFailed, match="нет изображений DICOM"):
        scan_media(tmp_path)


EMK = EmkPatient("Кузнецов", "Олег", "Петрович", dt.date(1967, 12, 30))


@pytest.mark.parametrize(
    "name",
    [
        "Кузнецов^Олег^Петрович",
        "КУЗНЕЦОВ^ОЛЕГ^ПЕТРОВИЧ",
        "Кузнецов Олег Петрович",
        "Кузнецов^Олег",  # no patronymic on the disc: not a conflict
        "KUZNETSOV^OLEG^PETROVICH",
        "KUZNECOV^OLEG",
    ],
)
def test_same_patient_has_no_differences(name: str) -> None:
    assert compare_patient(name, "19671230", EMK) == []


def test_transliteration_variants() -> None:
    emk = EmkPatient("Соловьёва", "Юлия", "Андреевна", dt.date(1990, 1, 2))
    assert compare_patient("SOLOVEVA^IULIIA", "19900102", emk) == []
    assert compare_patient("SOLOVYOVA^YULIYA^ANDREEVNA", "19900102", emk) == []
    assert compare_patient("Соловьева^Юлия^Андреевна", dt.date(1990, 1, 2), emk) == []


def test_differences_are_named_in_words() -> None:
    diffs = compare_patient("Кузнецова^Ольга^Петровна", "19671231", EMK)
    assert diffs == [
        "фамилия: на диске «Кузнецова», в ЭМК «Кузнецов»",
        "имя: на диске «Ольга», в ЭМК «Олег»",
        "отчество: на диске «Петровна», в ЭМК «Петрович»",
        "дата рождения: на диске 31.12.1967, в ЭМК 30.12.1967",
    ]


def test_missing_birth_date_needs_confirmation() -> None:
    assert compare_patient("Кузнецов^Олег^Петрович", "", EMK) == [
        "дата рождения на диске не указана"
    ]
    assert compare_patient("^Олег", "19671230", EMK) == ["фамилия на диске не указана"]


def test_split_dicom_name() -> None:
    assert split_dicom_name("Иванов^Иван^Иванович") == ("Иванов", "Иван", "Иванович")
    assert split_dicom_name("Иванов Иван Иванович") == ("Иванов", "Иван", "Иванович")
    assert split_dicom_name("IVANOV^IVAN=Иванов^Иван") == ("IVANOV", "IVAN", "")
    assert split_dicom_name("") == ("", "", "")
