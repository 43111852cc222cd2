"""Opening the database and deciding who is signed in — the start-up work off the GUI thread.

On the embedded default (SQLite) a fresh PC creates and migrates its database itself, and in
demo mode fills it with the demo polyclinic on first start.  A shared PostgreSQL is never
migrated by a workstation behind the administrator's back: an outdated schema is an error
that names the command to run.

Until the smart-card login lands, the session is a *demo sign-in* as the first therapist,
and the title bar says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from arm.settings import Settings
from services import secrets
from services.audit import Actor
from services.db import (
    create_db_engine,
    current_revision,
    describe_database,
    make_session_factory,
    upgrade_schema,
)
from services.demo import DEMO_WORKSTATION_CODE, demo_staff_id, seed_demo
from services.errors import ConflictError
from services.migrations import HEAD
from services.models import Patient, Staff, Workstation
from services.patients import list_departments
from services.registry import Registry
from services.tasks import TaskState

__all__ = ["Workspace", "open_database", "open_workspace"]

# No screen waits longer than this for one statement: past it, «нет связи» and «Повторить».
STATEMENT_TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workspace:
    """Everything a signed-in window needs, built once per sign-in."""

    engine: Engine
    registry: Registry
    staff_name: str
    staff_position: str
    workstation_code: str
    departments: list[tuple[int, str]]
    database: str
    demo_sign_in: bool


def open_database(settings: Settings) -> Engine:
    """Connect, and migrate when this PC owns the database (the embedded SQLite file)."""
    url = settings.effective_database_url
    engine = create_db_engine(
        url, password=secrets.db_password(url), statement_timeout_s=STATEMENT_TIMEOUT_S
    )
    try:
        current = current_revision(engine)
        if current != HEAD:
            if not settings.is_embedded:
                raise ConflictError(
                    "Схема базы данных не соответствует этой версии ARM. Администратору: "
                    "выполните «arm db upgrade», затем перезапустите программу."
                )
            upgrade_schema(engine)
    except Exception:
        engine.dispose()
        raise
    return engine


def open_workspace(settings: Settings, state: TaskState) -> Workspace:
    state.report(0, 0, "Подключение к базе данных…")
    engine = open_database(settings)
    sessions = make_session_factory(engine)
    with sessions() as s:
        empty = not s.scalar(select(func.count()).select_from(Patient))
    if settings.demo and empty:
        state.report(0, 0, "Создание демонстрационной поликлиники…")
        seed_demo(engine)
    with sessions() as s:
        staff_id = demo_staff_id(s)
        staff = s.get(Staff, staff_id)
        code = DEMO_WORKSTATION_CODE if settings.demo else settings.workstation_code
        ws_id = s.scalar(select(Workstation.id).where(Workstation.code == code))
        departments = list_departments(s)
        assert staff is not None
        name, position = staff.short_name, staff.position
    actor = Actor(staff_id=staff_id, workstation_id=ws_id)
    return Workspace(
        engine=engine,
        registry=Registry(sessions, actor),
        staff_name=name,
        staff_position=position,
        workstation_code=code,
        departments=departments,
        database=describe_database(settings.effective_database_url),
        demo_sign_in=True,
    )
