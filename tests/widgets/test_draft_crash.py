"""SIGKILL in the middle of typing a protocol: at most the last two seconds are lost, and the
draft comes back when the record is opened again — from the local file, and from the
database on another workstation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from arm.tasks import TaskRunner
from services.db import make_session_factory
from services.emk_desk import EmkDesk
from services.local_drafts import LocalDrafts
from services.mkb10 import catalog
from tests.factories import base_org, person
from tests.widgets.conftest import ErrorLog
from widgets.emk.view import EmkView

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Боль в горле и кашель в течение трёх дней, температура до 38,2 по вечерам. " * 3
LOSS_BUDGET_S = 2.0
TYPE_FOR_S = 4.0


def _type_then_kill(db_url: str, drafts: Path, staff: int, patient: int) -> list[tuple[int, float]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.widgets._typist",
            db_url,
            str(drafts),
            str(staff),
            str(patient),
            TEXT,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.stdout is not None
    typed: list[tuple[int, float]] = []
    started: float | None = None
    try:
        for line in proc.stdout:
            assert not line.startswith("error"), line
            _word, n, t = line.split()
            typed.append((int(n), float(t)))
            started = started or float(t)
            if float(t) - started >= TYPE_FOR_S:
                break
        else:
            pytest.fail("the typist stopped before it was killed")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    return typed


def _reopen(qtbot: QtBot, sessions, actor, drafts: Path, patient: int) -> str:  # type: ignore[no-untyped-def]
    errors = ErrorLog()
    runner = TaskRunner(errors)
    cat = catalog()
    view = EmkView(
        runner,
        EmkDesk(sessions, actor),
        LocalDrafts(drafts),
        errors,
        cat.search,
        cat.lookup,
        can_write=True,
    )
    qtbot.addWidget(view)
    try:
        view.open_patient(patient)
        assert view.editor is not None
        qtbot.waitUntil(
            lambda: view.editor is not None and view.editor.patient_id == patient, timeout=5000
        )
        assert errors.errors == []
        return view.editor.sections["complaints"].toPlainText()
    finally:
        runner.shutdown(wait=True)


def test_sigkill_mid_typing_loses_at_most_two_seconds(
    qtbot: QtBot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    sessions = make_session_factory(sqlite_engine)
    doctor, dept = base_org(sessions)
    patient = person(sessions, doctor, "Абрамова", "Анна", "Петровна", dept_id=dept)
    drafts = tmp_path / "drafts"
    url = sqlite_engine.url.render_as_string(hide_password=False)
    typed = _type_then_kill(url, drafts, doctor.staff_id or 0, patient.id)
    killed_at = time.monotonic()
    must_have = max((n for n, t in typed if t <= killed_at - LOSS_BUDGET_S), default=0)
    assert must_have > 20  # the test typed long enough to mean something

    # Another workstation (no local file): the database copy.  First, so that reopening
    # here with the local file (which updates the database) cannot hide a lagging copy.
    from_db = _reopen(qtbot, sessions, doctor, tmp_path / "elsewhere", patient.id)
    assert TEXT.startswith(from_db)
    assert len(from_db) >= must_have, (len(from_db), must_have)

    # The same workstation: the local copy.
    restored = _reopen(qtbot, sessions, doctor, drafts, patient.id)
    assert TEXT.startswith(restored)
    assert len(restored) >= must_have, (len(restored), must_have, len(typed))
