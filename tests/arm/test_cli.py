"""The admin command line: a real ``arm`` process as a user runs it, and ``main()`` in-process
for the commands that need prepared data."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from arm import __version__
from arm.cli import main
from services.clock import clinic_tz
from services.db import create_db_engine, make_session_factory, sqlite_url
from services.migrations import HEAD
from services.models import AuditEvent, Department, DepartmentKind, Patient, Room, ScheduleSlot
from tests.factories import base_org


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


# --- arm admin schedule generate (in-process, on a migrated SQLite copy) ---------------------
MONDAY = dt.date(2026, 11, 23)
WEEK = "пн-пт 08:00-14:00; сб 09:00-13:00"


class Clinic:
    """A doctor in department A; room 305 exists in department A and in department B."""

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url.render_as_string(hide_password=False)
        self.sessions = make_session_factory(engine)
        actor, dept = base_org(self.sessions)
        self.staff_id = actor.staff_id or 0
        with self.sessions.begin() as s:
            other = Department(
                organisation_id=s.get_one(Department, dept).organisation_id,
                name="Детское отделение",
                kind=DepartmentKind.CHILDREN,
            )
            s.add(other)
            s.flush()
            own = Room(department_id=dept, number="305", name="Терапевт")
            s.add_all(
                [
                    own,
                    Room(department_id=other.id, number="305"),
                    Room(department_id=other.id, number="410"),
                ]
            )
            s.flush()
            self.room_305 = own.id

    def generate(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        code = main(["--database-url", self.url, "admin", "schedule", "generate", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    def slots(self) -> list[ScheduleSlot]:
        with self.sessions() as s:
            return list(s.scalars(select(ScheduleSlot).order_by(ScheduleSlot.starts_at)))


@pytest.fixture
def clinic(sqlite_engine: Engine) -> Clinic:
    return Clinic(sqlite_engine)


def _week_args(clinic: Clinic, *extra: str) -> list[str]:
    return [
        "--staff",
        str(clinic.staff_id),
        "--from",
        MONDAY.isoformat(),
        "--to",
        (MONDAY + dt.timedelta(days=6)).isoformat(),
        "--week",
        WEEK,
        *extra,
    ]


def test_schedule_generate_opens_a_week_of_slots(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = clinic.generate(capsys, *_week_args(clinic, "--room", "305"))
    assert (code, err) == (0, "")
    # Mon-Fri 08:00-14:00 is 24 quarter-hours a day, Saturday 09:00-13:00 is 16; Sunday off.
    assert "создано слотов: 136" in out
    assert "Петрова А. С." in out
    assert "пропущено" not in out
    slots = clinic.slots()
    assert len(slots) == 136
    local = [sl.starts_at.astimezone(clinic_tz()) for sl in slots]
    assert local[0] == dt.datetime.combine(MONDAY, dt.time(8, 0), clinic_tz())
    assert local[-1] == dt.datetime.combine(
        MONDAY + dt.timedelta(days=5), dt.time(12, 45), clinic_tz()
    )
    assert {t.date().weekday() for t in local} == {0, 1, 2, 3, 4, 5}
    assert all(sl.ends_at - sl.starts_at == dt.timedelta(minutes=15) for sl in slots)
    # Room 305 of the doctor's own department, not the children's room with the same number.
    assert {sl.room_id for sl in slots} == {clinic.room_305}
    assert {sl.staff_id for sl in slots} == {clinic.staff_id}
    with clinic.sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "schedule.generate")).one()
    assert (event.object_type, event.object_id) == ("staff", clinic.staff_id)
    assert "136 slots" in event.details


def test_schedule_generate_twice_creates_nothing_and_names_skipped_days(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    assert clinic.generate(capsys, *_week_args(clinic, "--slot-minutes", "20"))[0] == 0
    assert len(clinic.slots()) == 5 * 18 + 12
    code, out, err = clinic.generate(capsys, *_week_args(clinic, "--slot-minutes", "20"))
    assert (code, err) == (0, "")
    assert "создано слотов: 0" in out
    assert (
        "пропущено дней (слоты уже были): 6: 23.11.2026, 24.11.2026, 25.11.2026, 26.11.2026, "
        "27.11.2026, 28.11.2026"
    ) in out
    assert len(clinic.slots()) == 5 * 18 + 12


def test_schedule_generate_bad_pattern_says_what_is_wrong(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _week_args(clinic)
    for week, message in [
        ("пн-пт 8 до 14", "Шаблон недели: не понят фрагмент «пн-пт 8 до 14»"),
        ("пн-пт 14:00-08:00", "Шаблон недели: конец раньше начала в «пн-пт 14:00-08:00»"),
        ("пн-xx 08:00-14:00", "Шаблон недели: неизвестный день недели: «пн-xx»"),
        ("", "Шаблон недели: пустой шаблон"),
    ]:
        args[args.index("--week") + 1] = week
        code, out, err = clinic.generate(capsys, *args)
        assert code == 2, week
        assert err.startswith(f"arm: {message}"), err
        assert out == ""
    code, _out, err = clinic.generate(capsys, *_week_args(clinic, "--slot-minutes", "3"))
    assert code == 2
    assert err.startswith("arm: Длительность приёма: от 5 до 120 минут")
    assert clinic.slots() == []


def test_schedule_generate_unknown_staff_or_room_is_a_clear_error(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _week_args(clinic)
    args[args.index("--staff") + 1] = "9999"
    code, out, err = clinic.generate(capsys, *args)
    assert (code, out) == (2, "")
    assert err == "arm: сотрудник с id 9999 не найден\n"
    code, out, err = clinic.generate(capsys, *_week_args(clinic, "--room", "999"))
    assert (code, out) == (2, "")
    assert err == "arm: кабинет «999» не найден\n"
    # Room 410 is in another department, but the only one with that number: it is used.
    assert clinic.generate(capsys, *_week_args(clinic, "--room", "410"))[0] == 0
    assert len(clinic.slots()) == 136
    with pytest.raises(SystemExit) as exc:
        main(["admin", "schedule", "generate", "--staff", "1", "--from", "23.11.2026",
              "--to", "2026-11-29", "--week", WEEK])  # fmt: skip
    assert exc.value.code == 2
    assert "неверная дата «23.11.2026»: нужен формат ГГГГ-ММ-ДД" in capsys.readouterr().err


def test_schedule_generate_help(tmp_path: Path) -> None:
    out = _arm(tmp_path, "admin", "schedule", "generate", "--help")
    assert out.returncode == 0, out.stderr
    for word in ("--staff", "--from", "--to", "--week", "--slot-minutes", "--room"):
        assert word in out.stdout
    out = _arm(tmp_path, "admin", "--help")
    assert out.returncode == 0
    assert "schedule" in out.stdout


def test_print_calibration_and_offset(tmp_path: Path) -> None:
    """The offset is measured on the calibration sheet, set once in the site config, and the
    next sheet is drawn with it (its cross moves by exactly that much)."""
    out = _arm(tmp_path, "admin", "print", "offset", "1.5", "-0.8")
    assert out.returncode == 0, out.stderr
    assert "1.5; -0.8" in out.stdout
    assert 'offset_mm = "1.5,-0.8"' in (tmp_path / "site.toml").read_text(encoding="utf-8")
    out = _arm(tmp_path, "admin", "print", "calibration", "--out", str(tmp_path / "c.pdf"))
    assert out.returncode == 0, out.stderr
    assert "смещение сейчас 1.5; -0.8 мм" in out.stdout
    from printing.calibration import render_calibration_sheet

    (tmp_path / "plain.pdf").write_bytes(render_calibration_sheet())

    def cross_a(pdf: Path) -> tuple[float, float]:
        bbox = subprocess.run(
            ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>А</word>', bbox)
        assert m is not None, bbox[:500]
        return float(m.group(1)), float(m.group(2))

    (x0, y0), (x1, y1) = cross_a(tmp_path / "plain.pdf"), cross_a(tmp_path / "c.pdf")
    mm = 72 / 25.4
    assert abs((x1 - x0) - 1.5 * mm) < 0.05
    assert abs((y1 - y0) - -0.8 * mm) < 0.05
    out = _arm(tmp_path, "admin", "print", "offset", "30", "0")
    assert out.returncode == 1
    assert "не больше 20 мм" in out.stderr
    (tmp_path / "site.toml").write_text('[printing]\noffset_mm = "a,b"\n', encoding="utf-8")
    out = _arm(tmp_path, "admin", "print", "calibration", "--out", str(tmp_path / "d.pdf"))
    assert out.returncode == 1
    assert "Смещение печати" in out.stderr
