"""Append synthetic patients in bulk: a city-sized registry for benchmarks and load tests.

``arm admin seed --patients 1000000`` and ``bench/search.py`` need a million patients in
PostgreSQL in minutes, not hours, so rows are streamed with ``COPY … FROM STDIN`` through
psycopg 3 (one COPY, one transaction) instead of INSERTs; SQLite, which has no COPY, gets
``executemany`` in batches inside one transaction.  The people come from the same generator
as the demo polyclinic (:mod:`services.demo_people`).

СНИЛС and ЕНП numbers stay unique when the loader runs again, or on top of the demo: new rows
are numbered after the highest patient id and after the highest number already issued in the
bulk range, and that range lies above the demo's.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import Connection, Engine, func, insert, select, text

from services.demo_people import (
    ADULT_AGE,
    BULK_POLICY_BASE,
    BULK_SNILS_BASE,
    STAFF_SNILS_BASE,
    PeopleGenerator,
)
from services.models import Department, DepartmentKind, Patient, Sex
from services.validation import make_policy, make_snils

if TYPE_CHECKING:
    import psycopg

__all__ = ["bulk_seed_patients"]

log = logging.getLogger(__name__)

#: Column order of the rows the generator yields; the COPY statement names them in this order.
COLUMNS: Final = (
    "surname",
    "name",
    "patronymic",
    "sex",
    "birth_date",
    "snils",
    "policy_number",
    "phone",
    "address",
    "attachment_department_id",
    "attached_since",
    "search_key",
    "created_at",
    "updated_at",
    "version_id",
)
_POLICY_SPAN: Final = 10**12  # the bulk ЕНП range: BULK_POLICY_BASE .. + _POLICY_SPAN

Row = tuple[Any, ...]
Progress = Callable[[int, int], None]


def _start_index(conn: Connection) -> int:
    """The number after which new rows are numbered, so that no СНИЛС or ЕНП repeats.

    The highest id covers earlier bulk loads (each row's numbers derive from its position);
    the highest numbers already in the bulk ranges cover anything else that put them there.
    """
    max_id = conn.scalar(select(func.max(Patient.id))) or 0
    hi_snils = conn.scalar(
        select(func.max(Patient.snils)).where(
            Patient.snils >= f"{BULK_SNILS_BASE:09d}00", Patient.snils < f"{STAFF_SNILS_BASE:09d}00"
        )
    )
    hi_policy = conn.scalar(
        select(func.max(Patient.policy_number)).where(
            Patient.policy_number >= f"{BULK_POLICY_BASE:015d}0",
            Patient.policy_number < f"{BULK_POLICY_BASE + _POLICY_SPAN:015d}0",
        )
    )
    snils_used = int(hi_snils[:9]) - BULK_SNILS_BASE if hi_snils else 0
    policy_used = int(hi_policy[:15]) - BULK_POLICY_BASE if hi_policy else 0
    return max(max_id, snils_used, policy_used)


def _departments(conn: Connection) -> dict[DepartmentKind, int]:
    """The first department of each kind (children go to the children's one, if there is one)."""
    found: dict[DepartmentKind, int] = {}
    for dept_id, kind in conn.execute(
        select(Department.id, Department.kind).order_by(Department.id)
    ):
        found.setdefault(kind, dept_id)
    return found


def _rows(
    rng: random.Random, start: int, count: int, depts: dict[DepartmentKind, int]
) -> Iterator[Row]:
    """Yield ``count`` patient rows in :data:`COLUMNS` order, numbered from ``start + 1``.

    ``sex`` is yielded as the plain string value ("M"/"F"): COPY writes it as text, and
    ``Sex`` members would be adapted by psycopg's enum support by *name*.
    """
    gen = PeopleGenerator(rng)
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    adult_dept = depts.get(DepartmentKind.ADULT)
    child_dept = depts.get(DepartmentKind.CHILDREN, adult_dept)
    random_ = rng.random
    for n in range(start + 1, start + count + 1):
        age = gen.age()
        child = age < ADULT_AGE
        sex = Sex.FEMALE if random_() < (0.49 if child else 0.56) else Sex.MALE
        p = gen.person(sex, gen.birth_date(today, age))
        phone = gen.phone() if (age >= 14 and random_() < 0.9) else ""
        yield (
            p.surname,
            p.name,
            p.patronymic,
            sex.value,
            p.birth_date,
            make_snils(BULK_SNILS_BASE + n) if random_() >= 0.02 else None,
            make_policy(BULK_POLICY_BASE + n) if random_() >= 0.01 else None,
            phone,
            gen.address(),
            child_dept if child else adult_dept,
            gen.attached_since(p.birth_date, today),
            p.search_key,
            now,
            now,
            1,
        )


def _copy_postgresql(
    engine: Engine, rows: Iterator[Row], count: int, batch: int, progress: Progress | None
) -> None:
    """Stream all rows through one ``COPY patient (…) FROM STDIN`` in one transaction."""
    raw = engine.raw_connection()
    try:
        pg = cast("psycopg.Connection[Any]", raw.driver_connection)
        sql = f"COPY patient ({', '.join(COLUMNS)}) FROM STDIN"
        with pg.cursor() as cur, cur.copy(sql) as copy:
            for done, row in enumerate(rows, start=1):
                copy.write_row(row)
                if progress is not None and (done % batch == 0 or done == count):
                    progress(done, count)
        pg.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        t0 = time.monotonic()
        conn.execute(text("ANALYZE patient"))  # the planner must see a million rows, not zero
        log.info("ANALYZE patient: %.1f s", time.monotonic() - t0)


def _executemany(
    engine: Engine, rows: Iterator[Row], count: int, batch: int, progress: Progress | None
) -> None:
    """Insert in ``batch``-sized executemany calls inside one transaction (SQLite and others)."""
    done = 0
    with engine.begin() as conn:
        while done < count:
            chunk = []
            for row in rows:
                values = dict(zip(COLUMNS, row, strict=True))
                values["sex"] = Sex(values["sex"])
                chunk.append(values)
                if len(chunk) == batch:
                    break
            if not chunk:
                break
            conn.execute(insert(Patient), chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, count)


def bulk_seed_patients(
    engine: Engine,
    count: int,
    *,
    seed: int = 7,
    batch: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Append ``count`` synthetic patients to a migrated database.

    Args:
        engine: A migrated database (PostgreSQL via psycopg 3, or SQLite).
        count: How many patients to add.
        seed: Seeds the generator together with where numbering starts, so a repeated load
            adds different people rather than the same names again.
        batch: Rows per executemany call on SQLite; how often ``progress`` is called.
        progress: Called with (rows done, ``count``) after each batch.

    Returns:
        The number of patients added.

    Raises:
        ValueError: ``count`` or ``batch`` is negative / zero, or the bulk СНИЛС range
            would run out.
    """
    if count < 0 or batch <= 0:
        raise ValueError(f"count must be >= 0 and batch > 0, got {count}, {batch}")
    if count == 0:
        return 0
    with engine.connect() as conn:
        start = _start_index(conn)
        depts = _departments(conn)
    if BULK_SNILS_BASE + start + count >= STAFF_SNILS_BASE:
        raise ValueError(f"the bulk СНИЛС range cannot hold {count} more patients")
    rng = random.Random(seed * 1_000_003 + start)
    rows = _rows(rng, start, count, depts)
    t0 = time.monotonic()
    if engine.dialect.name == "postgresql":
        _copy_postgresql(engine, rows, count, batch, progress)
    else:
        _executemany(engine, rows, count, batch, progress)
    # Fresh statistics now, not when autovacuum gets round to it: a planner that still
    # believes the table is empty picks plans that are fine for ten rows and awful for 1M.
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    log.info(
        "bulk seed: %d patients into %s in %.1f s",
        count,
        engine.dialect.name,
        time.monotonic() - t0,
    )
    return count
