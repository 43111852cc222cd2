"""``arm admin workstation register`` against a real PostgreSQL: the room, the site config
(IT's own lines kept), the password in the keyring, and the refusals."""

from __future__ import annotations

import io
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select

from arm.cli import main
from arm.settings import load_settings
from services.db import create_db_engine, make_session_factory
from services.models import Room, Workstation
from services.secrets import SERVICE, db_secret_name
from tests.factories import base_org

pytestmark = pytest.mark.pg


def _register(
    monkeypatch: pytest.MonkeyPatch, url: str, *args: str, password: str = "s3cret"
) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(
        ["--database-url", url, "admin", "workstation", "register", "--password-stdin", *args]
    )


def test_register_writes_config_keyring_and_the_room(
    fresh_pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = create_db_engine(fresh_pg_url)
    sessions = make_session_factory(engine)
    _actor, dept = base_org(sessions)
    with sessions.begin() as s:
        s.add(Room(department_id=dept, number="214", name="Кабинет терапевта"))
    site = tmp_path / "site.toml"
    site.write_text("# IT: this PC is a kiosk\n[cards]\nidle_lock_minutes = 5\n", encoding="utf-8")

    assert _register(monkeypatch, fresh_pg_url, "--room", "214", "--code", "ws-214") == 0
    out = capsys.readouterr().out
    assert "АРМ «ws-214» записан: кабинет 214" in out
    text = site.read_text(encoding="utf-8")
    assert "# IT: this PC is a kiosk" in text  # IT's own lines stay
    assert "s3cret" not in text  # the password never lands in a file
    settings = load_settings()
    assert settings.database_url == fresh_pg_url
    assert settings.workstation_code == "ws-214"
    assert settings.idle_lock_minutes == 5
    assert keyring.get_password(SERVICE, db_secret_name(fresh_pg_url)) == "s3cret"
    with sessions() as s:
        ws = s.scalars(select(Workstation).where(Workstation.code == "ws-214")).one()
        room = s.get(Room, ws.room_id)
        assert room is not None
        assert room.number == "214"
        assert ws.name == "АРМ, каб. 214"

    # Again, with a new name: the same workstation is updated, not a second one made.
    assert (
        _register(
            monkeypatch,
            fresh_pg_url,
            "--room",
            "214",
            "--code",
            "ws-214",
            "--name",
            "АРМ терапевта",
        )
        == 0
    )
    with sessions() as s:
        rows = s.scalars(select(Workstation).where(Workstation.code == "ws-214")).all()
        assert [w.name for w in rows] == ["АРМ терапевта"]
    engine.dispose()


def test_register_refuses_unknown_room_and_a_password_in_the_url(
    fresh_pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = create_db_engine(fresh_pg_url)
    base_org(make_session_factory(engine))
    engine.dispose()
    assert _register(monkeypatch, fresh_pg_url, "--room", "999") == 2
    assert "кабинет «999» не найден" in capsys.readouterr().err
    assert not (tmp_path / "site.toml").exists()  # nothing written on a refusal
    with_password = fresh_pg_url.replace("postgres@", "postgres:pw@")
    assert _register(monkeypatch, with_password, "--room", "214") == 2
    assert "пароль" in capsys.readouterr().err
