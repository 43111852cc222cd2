"""The admin command line, run as a user runs it: a real ``arm`` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from arm import __version__
from services.db import create_db_engine, sqlite_url
from services.migrations import HEAD
from services.models import Patient


def _arm(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ARM_DATA_DIR": str(tmp_path / "data"),
        "ARM_SITE_CONFIG": str(tmp_path / "site.toml"),
        "ARM_USER_CONFIG": str(tmp_path / "user.toml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "arm", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_version_and_help(tmp_path: Path) -> None:
    out = _arm(tmp_path, "--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"arm {__version__}"
    out = _arm(tmp_path, "--help")
    assert out.returncode == 0
    for word in ("db", "demo", "admin", "--demo", "--database-url"):
        assert word in out.stdout


def test_db_upgrade_then_demo_seed_then_refuse_second_seed(tmp_path: Path) -> None:
    out = _arm(tmp_path, "db", "upgrade")
    assert out.returncode == 0, out.stderr
    assert f"schema: {HEAD} (latest {HEAD})" in out.stdout
    out = _arm(tmp_path, "demo", "seed", "--patients", "300")
    assert out.returncode == 0, out.stderr
    engine = create_db_engine(sqlite_url(tmp_path / "data" / "arm.sqlite3"))
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Patient)).scalar() == 300
    engine.dispose()
    out = _arm(tmp_path, "demo", "seed", "--patients", "300")
    assert out.returncode == 1
    assert out.stderr.startswith("arm: ")
    assert "Traceback" not in out.stderr


def test_unreachable_database_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    out = _arm(tmp_path, "--database-url", "postgresql://nobody@127.0.0.1:1/none", "db", "upgrade")
    assert out.returncode == 1
    assert "PostgreSQL: 127.0.0.1/none — нет связи" in out.stderr
    assert "Traceback" not in out.stderr


def test_password_in_site_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(
        '[database]\nurl = "postgresql://arm:pw@db/arm"\n', encoding="utf-8"
    )
    out = _arm(tmp_path, "db", "current")
    assert out.returncode == 1
    assert "пароль базы данных в файле настроек запрещён" in out.stderr
