"""``arm sms dispatch`` and ``arm access redeem/check`` as real processes, against the embedded
database and a real Kannel: the code the registrar sent reaches the fake SMSC once, and the
portal's redemption of it (wrong, right, then the check) answers with exit codes and words."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from arm.kannel_local import LocalKannel
from services import child_access, relations
from services.db import create_db_engine, make_session_factory, sqlite_url, upgrade_schema
from services.models import RelationKind, Sex
from services.relations import RelationInput
from tests.factories import base_org, person


def _arm(
    tmp_path: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ARM_DATA_DIR": str(tmp_path / "data"),
        "ARM_SITE_CONFIG": str(tmp_path / "site.toml"),
        "ARM_USER_CONFIG": str(tmp_path / "user.toml"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    env.pop("ARM_SMS_PASSWORD", None)
    if password is not None:
        env["ARM_SMS_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "arm", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dispatch_and_redeem_from_the_command_line(tmp_path: Path, kannel: LocalKannel) -> None:
    (tmp_path / "data").mkdir()
    engine = create_db_engine(sqlite_url(tmp_path / "data" / "arm.sqlite3"))
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    doctor, _dept = base_org(sessions)
    today = dt.date.today()
    child = person(sessions, doctor, "Кузнецов", "Артём", sex=Sex.MALE,
                   birth=today.replace(year=today.year - 8, day=min(today.day, 28)))  # fmt: skip
    mother = person(sessions, doctor, "Кузнецова", "Ольга", birth=dt.date(1988, 7, 1))
    with sessions() as s:
        relations.add_relation(
            s,
            doctor,
            child.id,
            RelationInput(relative_id=mother.id, kind=RelationKind.MOTHER,
                          is_legal_representative=True, valid_from=dt.date(2020, 1, 1)),
        )  # fmt: skip
        grant = child_access.send_code(s, doctor, child.id, mother.id, "+79161234567", True)
    engine.dispose()

    # No gateway configured: said so, nothing sent.
    out = _arm(tmp_path, "sms", "dispatch", "--once")
    assert out.returncode == 2
    assert "шлюз SMS не настроен" in out.stderr
    (tmp_path / "site.toml").write_text(
        f'[sms]\ngateway_url = "{kannel.sendsms_url}"\nusername = "{kannel.username}"\n',
        encoding="utf-8",
    )
    # A gateway without a stored password: the command that fixes it is named.
    out = _arm(tmp_path, "sms", "dispatch", "--once")
    assert out.returncode == 1
    assert "arm sms set-password" in out.stderr
    out = _arm(tmp_path, "sms", "dispatch", "--once", password=kannel.password)
    assert out.returncode == 0, out.stderr
    assert "отправлено 1" in out.stdout
    out = _arm(tmp_path, "sms", "dispatch", "--once", password=kannel.password)
    assert "отправлено 0" in out.stdout  # never twice

    from tests.services.test_sms_kannel import wait_for

    wait_for(lambda: len(kannel.delivered()) == 1)
    ((phone, text),) = kannel.delivered()
    assert phone == "+79161234567"
    m = re.search(r"\b(\d{6})\b", text)
    assert m is not None, text
    code = m.group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    out = _arm(tmp_path, "access", "redeem", "--phone", "8 916 123-45-67", "--code", wrong)
    assert out.returncode == 1
    assert "Неверный код. Осталось попыток: 4." in out.stderr
    out = _arm(tmp_path, "access", "check", "--grant", str(grant.id))
    assert (out.returncode, out.stdout.strip()) == (1, "доступа нет")
    out = _arm(tmp_path, "access", "redeem", "--phone", "+7 916 123 45 67", "--code", code)
    assert out.returncode == 0, out.stderr
    assert f"код принят: доступ открыт (grant {grant.id})" in out.stdout
    out = _arm(tmp_path, "access", "check", "--grant", str(grant.id))
    assert (out.returncode, out.stdout.strip()) == (0, "доступ открыт")
    out = _arm(tmp_path, "access", "redeem", "--phone", "garbage", "--code", code)
    assert out.returncode == 1
    assert "Телефон" in out.stderr
