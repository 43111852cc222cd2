"""Settings precedence, and that no password ever comes from a file."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from arm.settings import load_settings
from services.errors import ValidationError
from services.secrets import db_password, set_db_password


def test_precedence_defaults_site_user_env_overrides(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    user = tmp_path / "user.toml"
    site.write_text(
        '[database]\nurl = "postgresql://arm@db.site/arm"\n[workstation]\ncode = "ws-site"\n[ui]\nsearch_page_size = 50\n',
        encoding="utf-8",
    )
    user.write_text('[workstation]\ncode = "ws-user"\n', encoding="utf-8")
    s = load_settings(env={}, site_config=site, user_config=user)
    assert (s.database_url, s.workstation_code, s.search_page_size, s.language) == (
        "postgresql://arm@db.site/arm",
        "ws-user",
        50,
        "ru",
    )
    s = load_settings(
        env={"ARM_WORKSTATION_CODE": "ws-env", "ARM_DEMO": "yes"},
        site_config=site,
        user_config=user,
    )
    assert (s.workstation_code, s.demo) == ("ws-env", True)
    s = load_settings(
        env={"ARM_WORKSTATION_CODE": "ws-env"},
        site_config=site,
        user_config=user,
        workstation_code="ws-cli",
    )
    assert s.workstation_code == "ws-cli"
    assert not s.is_embedded


def test_embedded_default_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    s = load_settings(
        env={"ARM_DATA_DIR": str(tmp_path / "d")},
        site_config=tmp_path / "none.toml",
        user_config=tmp_path / "none2.toml",
    )
    assert s.is_embedded
    assert s.effective_database_url.endswith(str(tmp_path / "d" / "arm.sqlite3"))


def test_password_in_config_file_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[database]\nurl = "postgresql://arm:secret@db/arm"\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="пароль базы данных в файле настроек запрещён"):
        load_settings(env={}, site_config=site, user_config=tmp_path / "u.toml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[database\nurl=1", "ошибка формата"),
        ('[ui]\nsearch_page_size = "много"\n', "неверное значение"),
    ],
)
def test_broken_config_names_the_file_or_setting(
    tmp_path: Path, content: str, message: str
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        load_settings(env={}, site_config=site, user_config=tmp_path / "u.toml")


def test_db_password_lives_in_the_keyring() -> None:
    url = "postgresql://arm@db.gp12.local:5432/arm"
    assert db_password(url) is None
    set_db_password(url, "s3cret")
    assert db_password(url) == "s3cret"
    assert keyring.get_password("arm", "db:arm@db.gp12.local:5432/arm") == "s3cret"
    assert db_password("sqlite:////tmp/x.sqlite3") is None
