"""``arm admin workstation register`` against a real PostgreSQL: the room, the site config
(IT's own lines kept), the password in the keyring, and the refusals."""

from __future__ import annotations

import io
from pathlib import Path

import keyring
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from arm.cli import main
from arm.settings import load_settings
from services.db import create_db_engine, make_session_factory
from services.models import Room, Workstation
from services.secrets import SERVICE, db_secret_name
from tests.factories import base_org

pytestmark = pytest.mark.pg


def _split(url: str) -> tuple[str, str]:
    """The URL as IT gives it (no password) and the password typed separately; the test
    server may or may not want one (CI's role has a password, a local trust setup not)."""
    u = make_url(url)
    bare = u._replace(password=None)  # URL.set() ignores None
    return bare.render_as_string(hide_password=False), u.password or "s3cret"


def _register(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> int:
    bare, password = _split(url)
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(
        ["--database-url", bare, "admin", "workstation", "register", "--password-stdin", *args]
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
    bare, password = _split(fresh_pg_url)
    assert f":{password}@" not in text  # the password never lands in a file
    assert make_url(load_settings().database_url).password is None
    settings = load_settings()
    assert settings.database_url == bare
    assert settings.workstation_code == "ws-214"
    assert settings.idle_lock_minutes == 5
    assert keyring.get_password(SERVICE, db_secret_name(bare)) == password
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
    with_password = make_url(fresh_pg_url).set(password="pw").render_as_string(hide_password=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    argv = ["--database-url", with_password, "admin", "workstation", "register", "--room", "214"]
    assert main(argv) == 2
    assert "пароль" in capsys.readouterr().err
