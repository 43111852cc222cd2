"""One engine factory for SQLite (the embedded default) and PostgreSQL (a polyclinic).

SQLite gets WAL (readers never block the single writer), foreign keys on (off by default in
SQLite!) and a busy timeout so that the DB lane and a CLI command can share the file.
PostgreSQL goes through psycopg 3; its password never sits in a URL in a config file: it is
fetched from the OS keyring by :mod:`services.secrets` and put into the URL in memory only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from services.errors import PeerUnavailable

__all__ = [
    "create_db_engine",
    "current_revision",
    "database_errors",
    "downgrade_schema",
    "head_revision",
    "make_session_factory",
    "sqlite_url",
    "upgrade_schema",
]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _json_dumps(value: Any) -> str:
    """JSON columns (EMK document bodies, drafts) keep Cyrillic as is: a third of the size of
    ``\\uXXXX`` escapes, and readable in a database console."""
    return json.dumps(value, ensure_ascii=False)


def create_db_engine(
    url: str | URL,
    *,
    password: str | None = None,
    echo: bool = False,
    statement_timeout_s: float | None = None,
) -> Engine:
    """Build the engine for ``url``; ``password`` (from the keyring) fills a PostgreSQL URL.

    ``statement_timeout_s`` is for the GUI: a statement stuck behind a lock or a dead link
    fails with «нет связи» instead of freezing every later search in the one DB lane.  The
    CLI's bulk loads leave it off.  Parameters are never put into error messages or logs:
    they are patients' names, СНИЛС and policy numbers.
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, echo=echo, hide_parameters=True, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if u.get_backend_name() == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        if password and not u.password:
            u = u.set(password=password)
        connect_args: dict[str, Any] = {
            "connect_timeout": 5,
            "application_name": "arm",
            # A pulled cable or a half-open link is noticed in ~15 s, not after TCP's minutes.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
            "tcp_user_timeout": 15_000,
        }
        if statement_timeout_s is not None:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
        return create_engine(
            u,
            echo=echo,
            hide_parameters=True,
            json_serializer=_json_dumps,
            pool_pre_ping=True,  # a restarted server costs one retry, not an error dialog
            pool_size=5,
            connect_args=connect_args,
        )
    raise ValueError(f"unsupported database backend: {u.get_backend_name()}")


def describe_database(url: str | URL) -> str:
    """The database as the status bar and error messages name it (never with the password)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return f"SQLite: {u.database}"
    return f"PostgreSQL: {u.host or 'localhost'}/{u.database}"


@contextmanager
def database_errors(peer: str = "База данных") -> Iterator[None]:
    """Turn "server gone / file locked" into the one transient error the UI offers to retry."""
    try:
        yield
    except OperationalError as exc:
        raise PeerUnavailable(peer, str(exc.orig).strip().splitlines()[0][:200]) from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` (what ``arm db upgrade`` and a fresh start do)."""
    from alembic import command

    with database_errors(describe_database(engine.url)):
        command.upgrade(_alembic_config(engine), revision)


def downgrade_schema(engine: Engine, revision: str) -> None:
    """Step the schema back (an administrator rolling back a release; tests of migrations)."""
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database; None for an empty database.

    Read with one SELECT rather than through Alembic: importing Alembic costs a fifth of a
    second at every start, and start-up only needs to compare this with :data:`HEAD`.
    """
    with database_errors(describe_database(engine.url)), engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        revs = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        return revs[0] if len(revs) == 1 else None


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    rev: str | None = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    return rev
