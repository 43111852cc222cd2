"""Fixtures for service tests that need a database of their own.

The session-wide ``pg_url`` in ``tests/conftest.py`` is shared and every test on it is rolled
back; a bulk load commits (COPY runs in its own transaction), so it gets an empty, freshly
migrated database that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.db import create_db_engine, upgrade_schema

_ADMIN_URL = os.environ.get("ARM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_START_PG = "pg_ctlcluster --skip-systemctl-redirect 15 main start"


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """The URL of a new, migrated, empty PostgreSQL database ``arm_test_<random>``.

    Fails (never skips) when the server is down: a silently skipped PostgreSQL test is how
    a backend-specific bug ships.
    """
    admin_url = make_url(_ADMIN_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"arm_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 — turned into a loud, actionable failure
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {_ADMIN_URL}: {exc}\nStart it with:  {_START_PG}",
            pytrace=False,
        )
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_db_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
