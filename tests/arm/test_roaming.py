"""The workspace follows the doctor: lock at workstation A, sign in at workstation B (another
process, another workstation id, the same PostgreSQL) and the unsaved draft is there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from arm.errors import show_error
from arm.main_window import MainWindow
from arm.settings import load_settings
from arm.tasks import TaskRunner
from services.card.pcscd import PrivatePcscd
from services.db import create_db_engine, make_session_factory
from services.models import AuditEvent, Workstation
from tests.cards import add_staff_card
from tests.factories import base_org, person
from tests.widgets.keys import type_text

pytestmark = pytest.mark.pg

ROOT = Path(__file__).resolve().parents[2]


def test_draft_roams_to_another_workstation_process(
    qtbot: QtBot, fresh_pg_url: str, pcscd: PrivatePcscd, tmp_path: Path
) -> None:
    engine = create_db_engine(fresh_pg_url)
    sessions = make_session_factory(engine)
    actor, dept = base_org(sessions)
    with sessions.begin() as s:
        s.add(Workstation(code="ws-b", name="АРМ, каб. 305"))
    patient = person(sessions, actor, "Кораблёва", "Нина", "Петровна", dept_id=dept)
    doctor = add_staff_card(sessions, pcscd, tmp_path / "cards", surname="Странствующая")

    runner = TaskRunner(show_error)
    win = MainWindow(
        load_settings(database_url=fresh_pg_url, workstation_code="ws-test", virtual_reader=True),
        runner,
    )
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.sig_ready, timeout=30_000):
        win.connect_database()
    doctor.card.insert()
    qtbot.waitUntil(lambda: win.gate.asking_pin and win.gate.pin.isEnabled(), timeout=5_000)
    type_text(win.gate.pin, "1234")
    qtbot.keyClick(win.gate.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.patients is not None, timeout=5_000)
    assert win.patients is not None
    win.open_card(patient.id)  # as Enter on a search result does
    card = win.patients.card_view
    qtbot.waitUntil(lambda: card.card is not None, timeout=10_000)
    card.form.address.selectAll()
    type_text(card.form.address, "Черновик: ул. Дальняя, 7")
    doctor.card.remove()
    qtbot.waitUntil(lambda: win.locked, timeout=3_000)
    assert win.station is not None
    station = win.station
    qtbot.waitUntil(
        lambda: "Дальняя" in json.dumps(station.load_state(doctor.staff_id), ensure_ascii=False),
        timeout=5_000,
    )

    env = {
        **os.environ,
        "ARM_DATABASE_URL": fresh_pg_url,
        "ARM_WORKSTATION_CODE": "ws-b",
        "ARM_VIRTUAL_READER": "1",
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    peer = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "arm" / "roaming_peer.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "READY"
        time.sleep(0.2)
        doctor.card.insert()  # the doctor walks into room 305 with the card
        out, err = peer.communicate(timeout=60)
    finally:
        if peer.poll() is None:
            peer.kill()
        doctor.card.remove()
    assert peer.returncode == 0, err
    shown = json.loads(out.strip().splitlines()[-1])
    assert shown["address"] == "Черновик: ул. Дальняя, 7"
    assert "Кораблёва" in shown["title"]
    with sessions() as s:
        ws_b = s.scalar(select(Workstation.id).where(Workstation.code == "ws-b"))
        logins = (
            s.execute(select(AuditEvent.workstation_id).where(AuditEvent.action == "session.login"))
            .scalars()
            .all()
        )
    assert ws_b in logins
    win.close()
    runner.shutdown(wait=True)
    engine.dispose()
