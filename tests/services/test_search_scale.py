"""City scale: a million patients on PostgreSQL, searched the way the registry searches.

Slow (a bulk load of 1M rows, about a minute): ``pytest -m slow``.  It checks behaviour at
scale — the right rows, in order, paged without gaps — and that each kind of search is served
by an index, never by reading the whole table.  Timings are bench/search.py's job.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from services.bulk_seed import bulk_seed_patients
from services.db import create_db_engine
from services.demo import seed_demo
from services.models import Patient
from services.patient_search import SearchQuery, parse_query, search_patients, search_statement


@pytest.mark.slow
@pytest.mark.pg
def test_a_million_patients_are_searched_by_index(fresh_pg_url: str) -> None:
    engine = create_db_engine(fresh_pg_url)
    try:
        seed_demo(engine, patients=200)
        assert bulk_seed_patients(engine, 1_000_000) == 1_000_000
        with engine.begin() as conn:
            conn.execute(text("ANALYZE patient"))
        with Session(engine) as s:
            one = s.execute(
                select(Patient.surname, Patient.policy_number, Patient.snils)
                .where(Patient.policy_number.is_not(None), Patient.snils.is_not(None))
                .order_by(Patient.id.desc())
                .limit(1)
            ).one()
            queries = {
                "prefix": parse_query(one.surname[:3]),
                "policy": SearchQuery(policy=one.policy_number),
                "snils": SearchQuery(snils=one.snils),
            }
            for kind, q in queries.items():
                stmt, params = search_statement(q)
                sql = stmt.params(**params).compile(
                    dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                )
                plan = "\n".join(r[0] for r in s.execute(text(f"EXPLAIN {sql}")))
                assert "Seq Scan on patient" not in plan, f"{kind}: {plan}"
                assert "Index" in plan, f"{kind}: {plan}"

            assert [r.surname for r in search_patients(s, queries["policy"])] == [one.surname]
            assert [r.surname for r in search_patients(s, queries["snils"])] == [one.surname]
            # Keyset paging through a common prefix: ordered, no duplicates, no gaps.
            q = queries["prefix"]
            pages, after = [], None
            for _ in range(5):
                page = search_patients(s, q, after=after, limit=100)
                pages.extend(page)
                after = page[-1].cursor
            keys = [r.cursor for r in pages]
            assert keys == sorted(keys)
            assert len(set(keys)) == len(keys) == 500
            assert keys == [r.cursor for r in search_patients(s, q, limit=500)]
    finally:
        engine.dispose()
