"""A patient with a thick medical record in the bench database, for the EMK screen's budgets.

The worst record a polyclinic keeps is a pensioner with half a dozen chronic conditions seen
every week or two for fifteen years: ~5,000 documents, ~1,500 of them lab results with values,
allergies and dispensary conditions in the header.  :func:`ensure_rich_patient` gives one
fixed patient of ``arm_bench`` such a record — from the demo's generator
(:mod:`services.demo_emk`), in bulk, in one transaction — and later calls find it and return
at once.

    .venv/bin/python -m bench.emk_data [--documents 5000]

``arm_bench`` (1M patients) is created and seeded by bench/search.py's loader on first use
(a few minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bench.search import _ensure_db
from services.clock import clinic_tz, now_utc
from services.db import create_db_engine
from services.demo import DEMO_ORG_NAME
from services.demo_emk import HistoryPatient, load_authors, patient_history, write_histories
from services.models import (
    Allergy,
    BloodType,
    DispensaryCondition,
    DocKind,
    EmkDocument,
    LabResult,
    Organisation,
    Patient,
)

__all__ = ["ensure_rich_patient", "rich_patient_id"]

# The patient: the lowest id among those born before this date — old enough for fifteen years
# of adult history, and the same patient whenever the script runs.
BORN_BEFORE = dt.date(1960, 1, 1)
YEARS = 15
CONDITIONS = ("I11.9", "I25.1", "E11.9", "E03.9", "K29.5", "M42.1")
# How eventful the years are (1: an ordinary patient) for ~5,000 documents in fifteen years.
DENSITY_PER_DOCUMENT = 13 / 5000
SEED = 5000


def rich_patient_id(session: Session) -> int:
    pid = session.scalar(select(func.min(Patient.id)).where(Patient.birth_date < BORN_BEFORE))
    if pid is None:
        raise LookupError(f"no patient born before {BORN_BEFORE:%d.%m.%Y} in the database")
    return pid


def _count(session: Session, patient_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(EmkDocument)
            .where(EmkDocument.patient_id == patient_id)
        )
        or 0
    )


def ensure_rich_patient(engine: Engine, *, documents: int = 5000) -> int:
    """The id of the bench's thick-record patient, after giving them ``documents`` documents.

    Idempotent: a patient who has that many already is returned untouched; otherwise the
    missing documents are added (over the last fifteen years), with allergies, dispensary
    conditions and blood group where the patient has none yet.
    """
    with Session(engine) as s, s.begin():
        pid = rich_patient_id(s)
        need = documents - _count(s, pid)
        if need <= 0:
            return pid
        patient = s.get(Patient, pid)
        assert patient is not None
        organisation = s.scalar(
            select(Organisation.name).order_by(Organisation.name != DEMO_ORG_NAME, Organisation.id)
        )
        tz = clinic_tz()
        history = patient_history(
            random.Random(SEED),
            HistoryPatient(pid, patient.birth_date, patient.sex),
            today=now_utc().astimezone(tz).date(),
            tz=tz,
            authors=load_authors(s),
            organisation=organisation or DEMO_ORG_NAME,
            years=YEARS,
            density=max(1.0, DENSITY_PER_DOCUMENT * need),
            sizes=(need, need),
            conditions=CONDITIONS,
            allergy_share=1.0,
        )
        # Signal data the patient has already (from the demo) is not written twice.
        allergies = set(
            s.scalars(
                select(Allergy.substance).where(
                    Allergy.patient_id == pid, Allergy.ended_at.is_(None)
                )
            )
        )
        codes = set(
            s.scalars(
                select(DispensaryCondition.code).where(
                    DispensaryCondition.patient_id == pid, DispensaryCondition.ended_on.is_(None)
                )
            )
        )
        history.allergies = [a for a in history.allergies if a[0] not in allergies]
        history.conditions = [c for c in history.conditions if c[0] not in codes]
        if s.get(BloodType, pid) is not None:
            history.blood = None
        write_histories(s, [history])
    return pid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=int, default=5000)
    ap.add_argument("--patients", type=int, default=1_000_000)
    args = ap.parse_args()
    engine = create_db_engine(_ensure_db(args.patients))
    t0 = time.monotonic()
    pid = ensure_rich_patient(engine, documents=args.documents)
    took = time.monotonic() - t0
    with Session(engine) as s:
        kinds = dict(
            s.execute(
                select(EmkDocument.kind, func.count())
                .where(EmkDocument.patient_id == pid)
                .group_by(EmkDocument.kind)
            ).all()
        )
        values = s.scalar(
            select(func.count()).select_from(LabResult).where(LabResult.patient_id == pid)
        )
        allergies = s.scalar(
            select(func.count()).select_from(Allergy).where(Allergy.patient_id == pid)
        )
        conditions = s.scalars(
            select(DispensaryCondition.code).where(DispensaryCondition.patient_id == pid)
        ).all()
        first = s.scalar(
            select(func.min(EmkDocument.occurred_at)).where(EmkDocument.patient_id == pid)
        )
    engine.dispose()
    print(f"patient id {pid} (ensured in {took:.1f} s)")
    print(f"documents: {sum(kinds.values()):,}, since {first:%d.%m.%Y}" if first else "none")
    for kind in DocKind:
        print(f"  {kind.value:13} {kinds.get(kind, 0):6,}")
    print(f"lab values: {values:,}; allergies: {allergies}; dispensary: {', '.join(conditions)}")


if __name__ == "__main__":
    main()
