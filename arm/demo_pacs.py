"""The demo's PACS: a local Orthanc holding generated studies of the demo's own patients.

``arm --demo`` has a database of invented patients whose records mention X-rays and MRIs
(EMK documents of kind IMAGING with a Study Instance UID); here those studies exist, so
«Открыть снимки» opens images.  Besides them, five studies dated today have no document yet:
the radiologist's unread worklist.  Every image comes from :mod:`dicom.synthetic` — no real
patient's pixels ship with ARM.

The storage lives under ``root`` and is kept between runs.  The first start uploads everything
(~90 studies, ~550 instances, 10–12 s on two cores); later starts only start Orthanc
(~0.2 s).  What was
uploaded is written to ``root/seeded-v1`` (JSON): the EMK studies once, the worklist once per
day the demo is started on.  If the database has none of the recorded studies any more (the
demo database was deleted and seeded again), the storage is emptied and seeded anew.

Orthanc answers only ARM's AE title from ARM's address (``known_peers_only``), and is
stopped with :meth:`DemoPacs.stop` or at interpreter exit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.uid import JPEG2000Lossless, generate_uid
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from arm.orthanc_local import Orthanc
from dicom.config import PacsConfig
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from services.clock import clinic_tz, day_bounds
from services.demo import DEMO_ORG_NAME, demo_staff_id
from services.errors import NotFoundError
from services.models import Appointment, DocKind, EmkDocument, Patient, ScheduleSlot
from services.studies import dicom_patient_id

__all__ = [
    "DEMO_PACS_NAME",
    "DemoPacs",
    "PlannedStudy",
    "emk_studies",
    "start_demo_pacs",
    "worklist_studies",
]

log = logging.getLogger(__name__)

DEMO_PACS_NAME = "Демо-PACS (Orthanc)"
MARKER = "seeded-v1"
EMK_PATIENTS = 12
"""Patients whose EMK imaging documents get their studies (keeps the first start ~10 s)."""
_XRAY = {"RG", "CR", "DX", "DR", "RF", "PX"}


@dataclass
class DemoPacs:
    """The running demo PACS and the entry ARM's config needs for it."""

    orthanc: Orthanc
    config: PacsConfig
    uploaded: int = 0
    """Studies this start uploaded (0 when the storage was already seeded)."""
    studies: list[str] = field(default_factory=list)
    """Study Instance UIDs of everything the demo put into this PACS."""

    def stop(self) -> None:
        self.orthanc.stop()


@dataclass(frozen=True)
class PlannedStudy:
    spec: StudySpec
    patient_id: int
    document_id: int | None
    """The EMK document the study belongs to; None for the unread worklist."""


# --- what to generate ------------------------------------------------------------------------
def _fake_patient(p: Patient) -> FakePatient:
    name = "^".join(part for part in (p.surname, p.name, p.patronymic))
    return FakePatient(
        dicom_patient_id(p.policy_number, p.id),
        name.rstrip("^"),
        p.birth_date.strftime("%Y%m%d"),
        str(p.sex.value),
    )


def _emk_series(modality: str, title: str) -> list[SeriesSpec]:
    """Images that fit the document: its modality and, from the title, the body part."""
    t = title.lower()
    spine = "позвоноч" in t
    if modality in _XRAY or "рентген" in t or "флюорограф" in t:
        anatomy = "xray_spine" if spine else "xray_chest"
        return [SeriesSpec("CR", 1, 512, 512, "Прямая проекция", anatomy=anatomy)]
    if modality == "MR":
        if spine:
            return [SeriesSpec("MR", 20, 256, 256, "T2 TSE сагиттальная", anatomy="spine")]
        if "головн" in t:
            return [SeriesSpec("MR", 24, 256, 256, "T2 TSE аксиальная", anatomy="head")]
        return [SeriesSpec("MR", 20, 256, 256, "T2 TSE аксиальная", anatomy="chest")]
    if modality == "CT":
        if "головн" in t:
            return [SeriesSpec("CT", 24, 256, 256, "Головной мозг, 5 мм", anatomy="head")]
        return [SeriesSpec("CT", 40, 256, 256, "Мягкие ткани, 7,5 мм", anatomy="chest")]
    return [SeriesSpec("CT", 10, 256, 256, "Обзорная серия", anatomy="chest")]


def _focus_patients(session: Session, today: dt.date) -> list[int]:
    """Today's patients of the doctor the demo signs in as, in appointment order."""
    try:
        staff = demo_staff_id(session)
    except NotFoundError:
        return []
    start, end = day_bounds(today)
    rows = session.scalars(
        select(Appointment.patient_id)
        .join(ScheduleSlot, ScheduleSlot.id == Appointment.slot_id)
        .where(ScheduleSlot.staff_id == staff)
        .where(ScheduleSlot.starts_at >= start, ScheduleSlot.starts_at < end)
        .order_by(ScheduleSlot.starts_at)
    )
    return list(dict.fromkeys(rows))


def emk_studies(
    session: Session, *, today: dt.date, patients: int = EMK_PATIENTS
) -> list[PlannedStudy]:
    """A study for every IMAGING document with a Study UID of the first ``patients`` patients.

    Today's patients of the demo doctor come first (they are who the demo opens), then the
    rest by id.
    """
    with_images = set(
        session.scalars(
            select(EmkDocument.patient_id)
            .where(EmkDocument.kind == DocKind.IMAGING, EmkDocument.study_uid.is_not(None))
            .distinct()
        )
    )
    focus = [p for p in _focus_patients(session, today) if p in with_images]
    chosen = (focus + sorted(with_images - set(focus)))[:patients]
    if not chosen:
        return []
    people = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(chosen)))}
    docs = session.scalars(
        select(EmkDocument)
        .where(EmkDocument.kind == DocKind.IMAGING, EmkDocument.study_uid.is_not(None))
        .where(EmkDocument.patient_id.in_(chosen))
        .order_by(EmkDocument.patient_id, EmkDocument.occurred_at, EmkDocument.id)
    )
    tz = clinic_tz()
    out: dict[str, PlannedStudy] = {}
    for doc in docs:
        assert doc.study_uid is not None
        when = doc.occurred_at.astimezone(tz)
        modality = str((doc.body or {}).get("modality", "")).upper()
        spec = StudySpec(
            _fake_patient(people[doc.patient_id]),
            _emk_series(modality, doc.title),
            description=doc.title,
            accession=f"E{doc.id:08d}",
            date=when.strftime("%Y%m%d"),
            study_uid=doc.study_uid,
            time=when.strftime("%H%M%S"),
            institution=doc.organisation or DEMO_ORG_NAME,
        )
        out[doc.study_uid] = PlannedStudy(spec, doc.patient_id, doc.id)  # newest version wins
    return list(out.values())


# (description, local time, series): today's unread studies
_WORKLIST: list[tuple[str, str, list[SeriesSpec]]] = [
    (
        "КТ органов грудной клетки",
        "084000",
        [
            SeriesSpec("CT", 80, 512, 512, "Лёгкие, 3,75 мм B70f", anatomy="chest", kernel="lung"),
            SeriesSpec("CT", 80, 512, 512, "Мягкие ткани, 3,75 мм B30f", anatomy="chest"),
        ],
    ),
    (
        "МРТ головного мозга",
        "092500",
        [SeriesSpec("MR", 24, 256, 256, "T2 TSE аксиальная", anatomy="head")],
    ),
    (
        "Рентгенография органов грудной клетки",
        "101000",
        [SeriesSpec("CR", 1, 512, 512, "Прямая проекция", anatomy="xray_chest")],
    ),
    (
        "КТ головного мозга",
        "110500",
        [
            SeriesSpec(
                "CT",
                28,
                512,
                512,
                "Головной мозг, 5 мм (JPEG 2000 без потерь)",
                anatomy="head",
                syntax=JPEG2000Lossless,
            )
        ],
    ),  # fmt: skip
    (
        "МРТ пояснично-крестцового отдела позвоночника",
        "123000",
        [SeriesSpec("MR", 20, 256, 256, "T2 TSE сагиттальная", anatomy="spine")],
    ),
]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def worklist_studies(session: Session, *, today: dt.date) -> list[PlannedStudy]:
    """Five studies dated ``today`` of five different adults (30–80), none with a document.

    The same ``today`` and database give the same patients and Study UIDs.
    """
    oldest, youngest = _years_before(today, 80), _years_before(today, 30)
    adults = list(
        session.scalars(
            select(Patient.id)
            .where(Patient.birth_date > oldest, Patient.birth_date <= youngest)
            .order_by(Patient.id)
        )
    )
    if len(adults) < len(_WORKLIST):
        return []
    picked = random.Random(today.toordinal()).sample(adults, len(_WORKLIST))
    people = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(picked)))}
    out = []
    for n, (pid, (description, hhmmss, series)) in enumerate(
        zip(picked, _WORKLIST, strict=True), start=1
    ):
        uid = generate_uid(entropy_srcs=["arm-demo-worklist", today.isoformat(), str(pid), str(n)])
        spec = StudySpec(
            _fake_patient(people[pid]),
            series,
            description=description,
            accession=f"A{today:%y%m%d}{n:02d}",
            date=today.strftime("%Y%m%d"),
            study_uid=uid,
            time=hhmmss,
            institution=DEMO_ORG_NAME,
        )
        out.append(PlannedStudy(spec, pid, None))
    return out


# --- seeding ----------------------------------------------------------------------------------
def _read_marker(root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("days"), dict):
        return None
    if not isinstance(data.get("emk"), list):
        return None
    return data


def _write_marker(root: Path, marker: dict[str, Any]) -> None:
    tmp = root / f"{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(root / MARKER)


def _same_database(session: Session, marker: dict[str, Any]) -> bool:
    """Does the database still have the EMK studies this storage was seeded for?"""
    uids = [str(u) for u in marker["emk"][:20]]
    if not uids:
        return True
    found = session.scalar(
        select(func.count()).select_from(EmkDocument).where(EmkDocument.study_uid.in_(uids))
    )
    return bool(found)


def _upload(orthanc: Orthanc, planned: Sequence[PlannedStudy], scratch: Path) -> list[str]:
    """Generate and upload; the upload of one study overlaps the generation of the next."""
    done: list[str] = []
    with ThreadPoolExecutor(1, thread_name_prefix="demo-pacs-upload") as pool:
        pending: list[Future[None]] = []

        def send(uid: str, folder: Path, files: list[Path]) -> None:
            for found in _lookup(orthanc, uid):  # a half-uploaded study of a crashed start
                orthanc.rest("DELETE", f"/studies/{found}")
            orthanc.upload(files)
            shutil.rmtree(folder, ignore_errors=True)

        for n, item in enumerate(planned):
            folder = scratch / f"{n:03d}"
            files = write_study(item.spec, folder)
            pending.append(pool.submit(send, item.spec.study_uid, folder, files))
            if len(pending) > 2:
                pending.pop(0).result()
            done.append(item.spec.study_uid)
        for f in pending:
            f.result()
    return done


def _lookup(orthanc: Orthanc, study_uid: str) -> list[str]:
    found = orthanc.rest("POST", "/tools/lookup", study_uid.encode())
    if not isinstance(found, list):
        return []
    return [str(x["ID"]) for x in found if isinstance(x, dict) and x.get("Type") == "Study"]


def start_demo_pacs(
    root: Path,
    sessions: sessionmaker[Session],
    *,
    arm_ae: str,
    arm_host: str,
    arm_port: int,
    today: dt.date,
) -> DemoPacs:
    """Start the demo PACS on free ports with its storage under ``root``; seed what is missing.

    ``(arm_ae, arm_host, arm_port)`` is ARM's C-MOVE destination (its storage SCP), and the
    only peer Orthanc answers: connect from ``arm_host`` (127.0.0.1) calling as ``arm_ae``.

    Raises:
        OrthancMissing: Orthanc is not installed (the message has the apt command).
        RuntimeError: Orthanc did not start (the message has its log's tail).
    """
    t0 = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    orthanc = Orthanc.start(
        root,
        {"arm": (arm_ae, arm_host, arm_port)},
        name="ARM demo PACS",
        known_peers_only=True,
    )
    try:
        config = PacsConfig(DEMO_PACS_NAME, orthanc.aet, "127.0.0.1", orthanc.dicom_port)
        pacs = DemoPacs(orthanc, config)
        t_seed = time.monotonic()
        with sessions() as session:
            marker = _read_marker(root)
            if marker is not None and not _same_database(session, marker):
                log.info("demo PACS: the database was seeded again; emptying the storage")
                marker = None
            with tempfile.TemporaryDirectory(prefix="seed-", dir=root) as tmp:
                if marker is None:
                    orthanc.clear()
                    marker = {"version": 1, "emk": [], "days": {}}
                    planned = emk_studies(session, today=today)
                    marker["emk"] = _upload(orthanc, planned, Path(tmp))
                    pacs.uploaded += len(planned)
                    _write_marker(root, marker)
                day = today.isoformat()
                if day not in marker["days"]:
                    planned = worklist_studies(session, today=today)
                    marker["days"][day] = _upload(orthanc, planned, Path(tmp))
                    pacs.uploaded += len(planned)
                    _write_marker(root, marker)
        pacs.studies = [*marker["emk"], *(u for uids in marker["days"].values() for u in uids)]
    except BaseException:
        with contextlib.suppress(Exception):
            orthanc.stop()
        raise
    log.info(
        "demo PACS on 127.0.0.1:%d (%s): %d studies uploaded in %.1f s, started in %.1f s",
        orthanc.dicom_port,
        root,
        pacs.uploaded,
        time.monotonic() - t_seed,
        time.monotonic() - t0,
    )
    return pacs
