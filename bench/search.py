"""Patient search over a city-sized registry on PostgreSQL: p50/p95 per kind, ORM vs raw SQL.

The anchor is the very same SELECT sent through psycopg directly (no SQLAlchemy), measured
side by side, interleaved, in the same run; the budget is p95 <= 50 ms and ORM <= 1.5x raw.

    .venv/bin/python bench/search.py [--patients 1000000] [--queries 300]

The database ``arm_bench`` on ARM_TEST_PG_URL's server is created, migrated and bulk-seeded on
the first run (a few minutes) and reused afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from services.bulk_seed import bulk_seed_patients
from services.db import create_db_engine, make_session_factory, upgrade_schema
from services.demo import seed_demo
from services.models import Patient
from services.patient_search import SearchQuery, parse_query, search_patients, search_statement

ADMIN = os.environ.get("ARM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _ensure_db(patients: int) -> str:
    admin_url = make_url(ADMIN).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.execute(text("SELECT 1 FROM pg_database WHERE datname='arm_bench'")).scalar():
            c.execute(text("CREATE DATABASE arm_bench"))
    admin.dispose()
    url = admin_url.set(database="arm_bench").render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade_schema(engine)
    with engine.connect() as c:
        have = c.execute(select(func.count()).select_from(Patient)).scalar() or 0
    if have < patients:
        print(f"seeding {patients - have:,} patients into arm_bench …", flush=True)
        t0 = time.monotonic()
        if not have:  # the demo polyclinic first: departments to attach to, real families
            have = seed_demo(engine, patients=5000).patients
        bulk_seed_patients(engine, patients - have)
        print(f"seeded in {time.monotonic() - t0:.0f} s", flush=True)
    engine.dispose()
    return url


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    url = _ensure_db(args.patients)
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    rnd = random.Random(5)
    with engine.connect() as c:
        total = c.execute(select(func.count()).select_from(Patient)).scalar()
        sample = c.execute(
            text(
                "SELECT surname, name, policy_number, snils FROM patient TABLESAMPLE SYSTEM (1) LIMIT 2000"
            )
        ).all()
    surnames = [r[0] for r in sample]
    queries: dict[str, list[SearchQuery]] = {
        "surname prefix (3 letters)": [
            parse_query(s[:3]) for s in rnd.choices(surnames, k=args.queries)
        ],
        "full surname + name prefix": [
            parse_query(f"{r[0]} {r[1][:2]}") for r in rnd.choices(sample, k=args.queries)
        ],
        "policy number": [
            SearchQuery(policy=r[2])
            for r in rnd.choices([r for r in sample if r[2]], k=args.queries)
        ],
        "СНИЛС": [
            SearchQuery(snils=r[3])
            for r in rnd.choices([r for r in sample if r[3]], k=args.queries)
        ],
    }
    raw = psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]

    def raw_sql(q: SearchQuery) -> tuple[str, dict[str, object]]:
        # The same SQL text and parameters the ORM path sends, compiled outside the timing
        # and run straight through psycopg (which prepares repeated statements for both).
        stmt, params = search_statement(q, limit=100)
        compiled = stmt.compile(dialect=dialect)
        return str(compiled), compiled.construct_params(params)

    print(f"patients in arm_bench: {total:,}; {args.queries} queries per kind; page = 100 rows")
    print(
        f"{'kind':30} {'ORM p50':>8} {'ORM p95':>8} {'raw p50':>8} {'raw p95':>8} {'p95 ratio':>9}"
    )
    with sessions() as s:
        for kind, qs in queries.items():
            orm_t: list[float] = []
            raw_t: list[float] = []
            for q in qs[:10]:  # warm-up
                search_patients(s, q)
            for q in qs:
                sql, params = raw_sql(q)
                timed: list[tuple[list[float], Callable[[], object]]] = [
                    (orm_t, lambda q=q: search_patients(s, q, limit=100)),
                    (raw_t, lambda sql=sql, p=params: raw.execute(sql, p).fetchall()),
                ]
                rnd.shuffle(timed)
                for bucket, fn in timed:
                    t0 = time.perf_counter()
                    fn()
                    bucket.append(time.perf_counter() - t0)
            print(
                f"{kind:30} {_pct(orm_t, 50):7.2f}ms {_pct(orm_t, 95):7.2f}ms "
                f"{_pct(raw_t, 50):7.2f}ms {_pct(raw_t, 95):7.2f}ms {_pct(orm_t, 95) / _pct(raw_t, 95):8.2f}x"
            )
            s.rollback()
    print("budget: p95 <= 50 ms; ORM <= 1.5x raw")
    raw.close()
    engine.dispose()


if __name__ == "__main__":
    main()
