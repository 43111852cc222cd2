"""The schema comes from migrations only, and the migrations match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from services.db import (
    create_db_engine,
    current_revision,
    downgrade_schema,
    head_revision,
    sqlite_url,
    upgrade_schema,
)
from services.migrations import HEAD
from services.models import Base

TABLES = {
    "organisation",
    "department",
    "room",
    "workstation",
    "staff",
    "staff_role",
    "card_binding",
    "patient",
    "family_relation",
    "schedule_slot",
    "appointment",
    "encounter",
    "audit_event",
    "visit_pause",
    "walk_in",
    "day_closure",
}


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_sqlite_migrates_from_empty_and_matches_models(tmp_path: Path) -> None:
    engine = create_db_engine(sqlite_url(tmp_path / "fresh.sqlite3"))
    assert current_revision(engine) is None
    upgrade_schema(engine)
    assert current_revision(engine) == head_revision(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert _diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    downgrade_schema(engine, "base")  # downgrade runs too
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_postgresql_migrated_schema_matches_models(pg_engine: Engine) -> None:
    assert current_revision(pg_engine) == head_revision(pg_engine)
    assert TABLES <= set(inspect(pg_engine).get_table_names())
    assert _diff(pg_engine) == []
    with pg_engine.connect() as conn:
        collation = conn.execute(
            text(
                "SELECT collation_name FROM information_schema.columns WHERE table_name='patient' AND column_name='search_key'"
            )
        ).scalar()
    assert collation == "C"


def test_head_constant_matches_the_migration_scripts(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    assert HEAD == head_revision(sqlite_engine)
