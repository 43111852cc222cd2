"""Shared fixtures: fresh settings and keyring per test, SQLite and PostgreSQL databases.

The PostgreSQL server is a real peer: the README's test command starts it and creates the
``arm_test`` role; if it is not reachable the fixture fails with the command that fixes it —
it never skips.  Each test session migrates one throw-away database from empty; each test
runs inside a transaction that is rolled back (service commits become savepoints).
SQLite is migrated once per session and copied per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keyring
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from services.db import create_db_engine, sqlite_url, upgrade_schema
from services.secrets import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PG_ADMIN_URL = os.environ.get("ARM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HELP = (
    "PostgreSQL is needed for the tests and is not reachable at {url}: {err}\n"
    "Start it with:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "or run the README's test command (bash installer/bootstrap.sh test), which sets it up."
)


@pytest.fixture(autouse=True)
def _fresh_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the real user's config, data dir or keyring."""
    monkeypatch.setenv("ARM_SITE_CONFIG", str(tmp_path / "site.toml"))
    monkeypatch.setenv("ARM_USER_CONFIG", str(tmp_path / "user.toml"))
    monkeypatch.setenv("ARM_DATA_DIR", str(tmp_path / "data"))
    # The demo's own Orthanc seeds for ten seconds in a thread; a test of the demo window
    # must not pay for it (tests/arm/test_demo_pacs.py starts it deliberately).
    monkeypatch.setenv("ARM_DEMO_PACS", "0")
    for var in ("ARM_DATABASE_URL", "ARM_DEMO", "ARM_WORKSTATION_CODE"):
        monkeypatch.delenv(var, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


# --- SQLite --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    engine = create_db_engine(sqlite_url(path))
    upgrade_schema(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "arm.sqlite3"
    shutil.copyfile(sqlite_template, path)
    engine = create_db_engine(sqlite_url(path))
    yield engine
    engine.dispose()


# --- PostgreSQL ----------------------------------------------------------------------------
def _pg_admin_engine() -> Engine:
    engine = create_engine(
        make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 — turned into a loud, actionable failure
        pytest.fail(PG_HELP.format(url=PG_ADMIN_URL, err=exc), pytrace=False)
    return engine


@contextmanager
def _throwaway_pg_database() -> Iterator[str]:
    """Create ``arm_test_<random>``, migrate it, yield its URL, drop it whatever happened."""
    admin = _pg_admin_engine()
    name = f"arm_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    url_str = url.render_as_string(hide_password=False)
    try:
        engine = create_db_engine(url_str)
        upgrade_schema(engine)
        engine.dispose()
        yield url_str
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A freshly migrated PostgreSQL database shared by the session; tests roll back in it."""
    with _throwaway_pg_database() as url:
        yield url


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A database of the test's own, for work that commits (bulk COPY, several connections)."""
    with _throwaway_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_db_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def sessions(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """A session factory on each backend; on PostgreSQL everything is rolled back afterwards."""
    if request.param == "sqlite":
        engine: Engine = request.getfixturevalue("sqlite_engine")
        yield sessionmaker(engine, expire_on_commit=False)
        return
    engine = request.getfixturevalue("pg_engine")
    conn = engine.connect()
    outer = conn.begin()
    yield sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
    outer.rollback()
    conn.close()


# --- PC/SC ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pcscd() -> Iterator[object]:
    """A private pcscd with the vpcd virtual reader (two slots) for the whole session.

    Missing pcscd/vpcd/pyscard fails loudly with the command that installs them; it never
    skips.  The daemon lives in its own mount namespace, so a system pcscd does not matter.
    """
    from services.card.pcscd import INSTALL_HINT, PrivatePcscd
    from services.errors import ArmError

    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"pyscard is not installed ({exc}); run: {INSTALL_HINT} && pip install pyscard")
    daemon = PrivatePcscd()
    try:
        daemon.start()
    except ArmError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"cannot start a private pcscd: {exc}\nInstall: {INSTALL_HINT}")
    daemon.use()
    yield daemon
    daemon.stop()


# --- Kannel --------------------------------------------------------------------------------
@pytest.fixture
def kannel(tmp_path: Path) -> Iterator[object]:
    """A private Kannel (bearerbox, smsbox) with the fake SMSC on free loopback ports.

    Missing Kannel fails loudly with the command that installs it; it never skips.
    """
    from arm.kannel_local import INSTALL, KannelMissing, LocalKannel

    k = LocalKannel(tmp_path / "kannel")
    try:
        k.start()
    except KannelMissing as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"{exc}\nInstall: {INSTALL} (or run the README's test command)")
    yield k
    k.stop()
