"""The demo's PACS: a real Orthanc seeded with the demo patients' studies, once.

One demo database and one Orthanc storage for the module, started three times (seeding on
the first start takes ~12 s on two cores); the tests query it as ARM does, over C-FIND.
No Orthanc → the tests fail with the apt command, never skip.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arm.demo_pacs import (
    DEMO_PACS_NAME,
    MARKER,
    DemoPacs,
    emk_studies,
    start_demo_pacs,
    worklist_studies,
)
from arm.orthanc_local import Orthanc, OrthancMissing, free_port
from dicom.errors import AssociationRejected
from dicom.query import PacsConnection
from dicom.reader import read_frame
from services.clock import clinic_tz
from services.db import create_db_engine, sqlite_url, upgrade_schema
from services.demo import seed_demo
from services.models import DocKind, EmkDocument, Patient
from services.studies import dicom_patient_id

TODAY = dt.date(2026, 11, 18)
TOMORROW = TODAY + dt.timedelta(days=1)
ARM_AE = "ARMDEMO"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(sqlite_url(tmp_path_factory.mktemp("demo-db") / "arm.sqlite3"))
    upgrade_schema(engine)
    seed_demo(engine, patients=150, seed=1, today=TODAY)
    yield sessionmaker(engine)
    engine.dispose()


def _start(root: Path, demo_db: sessionmaker[Session], today: dt.date = TODAY) -> DemoPacs:
    try:
        return start_demo_pacs(
            root, demo_db, arm_ae=ARM_AE, arm_host="127.0.0.1", arm_port=free_port(), today=today
        )
    except OrthancMissing as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass
class Runs:
    """Three starts on one storage: today (seeds), today again, tomorrow; the last runs on."""

    pacs: DemoPacs
    first_seconds: float
    first_uploaded: int
    first_studies: list[str]
    second_seconds: float
    second_uploaded: int
    second_studies: list[str]
    third_uploaded: int


@pytest.fixture(scope="module")
def demo(
    demo_db: sessionmaker[Session], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("demo-pacs")
    t0 = time.monotonic()
    first = _start(root, demo_db)
    first_seconds = time.monotonic() - t0
    try:
        assert (root / MARKER).exists()
        assert first.uploaded == len(first.studies) == len(first.orthanc.studies())
        first_studies = sorted(first.orthanc.studies())
    finally:
        first.stop()
    t0 = time.monotonic()
    second = _start(root, demo_db)
    second_seconds = time.monotonic() - t0
    try:
        assert second.studies == first.studies
        second_studies = sorted(second.orthanc.studies())
    finally:
        second.stop()
    third = _start(root, demo_db, TOMORROW)
    yield Runs(
        third,
        first_seconds,
        first.uploaded,
        first_studies,
        second_seconds,
        second.uploaded,
        second_studies,
        third.uploaded,
    )
    third.stop()


@pytest.fixture
def conn(demo: Runs) -> Iterator[PacsConnection]:
    c = PacsConnection(demo.pacs.config, ARM_AE)
    yield c
    c.close()


def test_the_config_names_the_demo_pacs(demo: Runs) -> None:
    config = demo.pacs.config
    assert config.name == DEMO_PACS_NAME
    assert (config.host, config.ae_title, config.port) == (
        "127.0.0.1",
        "ORTHANC",
        demo.pacs.orthanc.dicom_port,
    )
    assert demo.first_uploaded > 5
    assert demo.first_seconds < 60, f"first start took {demo.first_seconds:.1f} s"  # ~12 s


def test_a_second_start_reuses_the_storage(demo: Runs) -> None:
    assert demo.second_uploaded == 0
    assert demo.second_studies == demo.first_studies
    assert demo.second_seconds < 10, f"second start took {demo.second_seconds:.1f} s"  # ~0.2 s


def test_the_next_day_adds_its_worklist(demo: Runs, conn: PacsConnection) -> None:
    assert demo.third_uploaded == 5
    assert len(demo.pacs.orthanc.studies()) == len(demo.first_studies) + 5
    assert len(conn.find_studies(date_from=TOMORROW, date_to=TOMORROW)) == 5
    assert len(conn.find_studies(date_from=TODAY, date_to=TODAY)) == 5


def test_an_emk_document_s_study_is_found_by_the_patient_s_dicom_id(
    demo: Runs, demo_db: sessionmaker[Session], conn: PacsConnection
) -> None:
    with demo_db() as s:
        planned = emk_studies(s, today=TODAY)
        assert len({p.patient_id for p in planned}) == 12
        some = planned[len(planned) // 2]
        doc = s.get(EmkDocument, some.document_id)
        patient = s.get(Patient, some.patient_id)
        assert doc is not None
        assert patient is not None
        assert doc.kind == DocKind.IMAGING
        dicom_id = dicom_patient_id(patient.policy_number, patient.id)
        expected_date = doc.occurred_at.astimezone(clinic_tz()).date()
        own = set(
            s.scalars(
                select(EmkDocument.study_uid).where(
                    EmkDocument.patient_id == patient.id,
                    EmkDocument.kind == DocKind.IMAGING,
                    EmkDocument.study_uid.is_not(None),
                )
            )
        )
    found = {st.study_uid: st for st in conn.find_studies(patient_id=dicom_id)}
    assert doc.study_uid in found
    study = found[doc.study_uid]
    assert study.description == doc.title
    assert study.study_date == expected_date
    name = f"{patient.surname}^{patient.name}^{patient.patronymic}".rstrip("^")
    assert study.patient_name == name
    assert study.birth_date == patient.birth_date
    assert own <= set(found)  # every imaging document of the patient has its study


def test_today_s_worklist_has_five_unread_studies(
    demo: Runs, demo_db: sessionmaker[Session], conn: PacsConnection
) -> None:
    today = conn.find_studies(date_from=TODAY, date_to=TODAY)
    assert len(today) == 5
    assert len({st.accession for st in today}) == 5
    assert len({st.patient_id for st in today}) == 5
    with demo_db() as s:
        documented = s.scalars(
            select(EmkDocument.id).where(EmkDocument.study_uid.in_([st.study_uid for st in today]))
        ).all()
        assert documented == []
        planned = {p.spec.study_uid for p in worklist_studies(s, today=TODAY)}
    assert planned == {st.study_uid for st in today}
    by_name = {st.description: st for st in today}
    assert set(by_name) >= {
        "КТ органов грудной клетки",
        "МРТ головного мозга",
        "Рентгенография органов грудной клетки",
        "КТ головного мозга",
    }
    chest = conn.find_series(by_name["КТ органов грудной клетки"].study_uid)
    assert [(se.modality, se.instance_count) for se in chest] == [("CT", 80), ("CT", 80)]
    assert by_name["МРТ головного мозга"].modalities == ("MR",)
    assert by_name["Рентгенография органов грудной клетки"].instance_count == 1


def test_ct_values_are_hounsfield_units_and_the_head_is_jpeg_2000(
    demo: Runs, conn: PacsConnection
) -> None:
    orthanc = demo.pacs.orthanc
    today = {st.description: st for st in conn.find_studies(date_from=TODAY, date_to=TODAY)}
    chest = conn.find_instances(today["КТ органов грудной клетки"].study_uid)
    middle = sorted(
        (i for i in chest if i.instance_number), key=lambda i: (i.series_uid, i.instance_number)
    )[40]
    frame = read_frame(_file(orthanc, middle.sop_uid))
    g = frame.geometry
    hu = frame.pixels.astype(np.float32) * g.rescale_slope + g.rescale_intercept
    assert (g.rows, g.cols) == (512, 512)
    assert abs(float(hu[:8, :8].mean()) + 1000) < 40  # air
    assert ((hu > -950) & (hu < -750)).mean() > 0.08  # lungs
    assert ((hu > 0) & (hu < 100)).mean() > 0.08  # soft tissue
    assert ((hu > 400) & (hu < 1100)).mean() > 0.002  # bone
    head = conn.find_instances(today["КТ головного мозга"].study_uid)
    data = _file(orthanc, head[0].sop_uid)
    assert dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID == JPEG2000Lossless
    assert read_frame(data).pixels.shape == (512, 512)  # the viewer decodes it


def _orthanc_id(orthanc: Orthanc, sop_uid: str) -> str:
    found = orthanc.rest("POST", "/tools/lookup", sop_uid.encode())
    assert isinstance(found, list)
    assert len(found) == 1
    return str(found[0]["ID"])


def _file(orthanc: Orthanc, sop_uid: str) -> bytes:
    url = f"http://127.0.0.1:{orthanc.http_port}/instances/{_orthanc_id(orthanc, sop_uid)}/file"
    with urllib.request.urlopen(url, timeout=30) as resp:
        return bytes(resp.read())


def test_only_arm_may_ask(demo: Runs) -> None:
    with (
        PacsConnection(demo.pacs.config, "STRANGER") as stranger,
        pytest.raises(AssociationRejected),
    ):
        stranger.find_studies(date_from=TODAY, date_to=TODAY)
