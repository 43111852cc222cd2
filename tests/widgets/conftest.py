"""Widget tests drive real screens over a real SQLite database through the real task runner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from arm.tasks import TaskRunner
from services.audit import Actor
from services.db import make_session_factory
from services.models import Sex
from services.patients import PatientCard
from services.registry import Registry
from tests.factories import base_org, person


class ErrorLog:
    """The error presenter for tests: records instead of opening message boxes."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def __call__(self, parent: object, exc: BaseException, retry: object) -> None:
        self.errors.append(exc)


class RetryLog:
    """Error presenter that keeps the retry callback, as the «Повторить» button would."""

    def __init__(self) -> None:
        self.calls: list[tuple[BaseException, object]] = []

    def __call__(self, parent: object, exc: BaseException, retry: object) -> None:
        self.calls.append((exc, retry))


@dataclass
class World:
    runner: TaskRunner
    registry: Registry
    errors: ErrorLog
    actor: Actor
    dept_id: int
    child: PatientCard
    mother: PatientCard
    people: list[PatientCard]


@pytest.fixture
def world(qtbot: QtBot, sqlite_engine: Engine) -> Iterator[World]:
    sessions = make_session_factory(sqlite_engine)
    actor, dept = base_org(sessions)
    today = dt.date.today()
    people = [
        person(sessions, actor, sn, n, p, sex=sex, birth=b, dept_id=dept, phone=ph)
        for sn, n, p, sex, b, ph in [
            ("Иванова", "Анна", "Петровна", Sex.FEMALE, dt.date(1980, 1, 1), "+79161234567"),
            ("Иванов", "Пётр", "Ильич", Sex.MALE, dt.date(1975, 5, 5), ""),
            ("Иванов", "Алексей", "Петрович", Sex.MALE, dt.date(1990, 2, 1), ""),
            ("Соколова", "Ирина", "Петровна", Sex.FEMALE, dt.date(1988, 4, 2), "+79031112233"),
            ("Соколов", "Миша", "Андреевич", Sex.MALE, today.replace(year=today.year - 7), ""),
        ]
    ]
    errors = ErrorLog()
    runner = TaskRunner(errors)
    yield World(
        runner, Registry(sessions, actor), errors, actor, dept, people[4], people[3], people
    )
    runner.shutdown(wait=True)
