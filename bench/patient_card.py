"""Identifying the patient by card or scan, on the 1M-patient PostgreSQL, in the real window.

* patient card inserted in the second reader → that patient's card painted ≤ 0.8 s (pcscd's
  polling of the virtual reader included: it finds a card 0–400 ms after it goes in);
* barcode scan (the Enter that ends the burst) → the card painted ≤ 0.3 s.

Anchors, same run: the card read alone (the OMS APDUs through pcscd) and the policy lookup
alone (the indexed SELECT through psycopg).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/patient_card.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search import _ensure_db


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return (
        f"median {statistics.median(xs) * 1000:.0f} ms, "
        f"p95 {xs[int(0.95 * (len(xs) - 1))] * 1000:.0f} ms"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="arm-bench-card-")
    os.environ.setdefault("ARM_DATA_DIR", tmp)
    os.environ.setdefault("ARM_USER_CONFIG", str(Path(tmp) / "none.toml"))
    os.environ.setdefault("ARM_SITE_CONFIG", str(Path(tmp) / "none.toml"))
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    url = _ensure_db(1_000_000)

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from arm.errors import show_error
    from arm.main_window import MainWindow
    from arm.settings import load_settings
    from arm.style import STYLE_SHEET
    from arm.tasks import TaskRunner
    from services.audit import Actor
    from services.card.applet import DoctorApplet, new_card
    from services.card.oms import OmsHolder, read_holder
    from services.card.oms_applet import OmsApplet
    from services.card.pcsc import open_card
    from services.card.pcscd import PrivatePcscd
    from services.card.vpcd import VirtualCard
    from services.db import create_db_engine, make_session_factory
    from services.models import Role, Staff, StaffRole
    from services.signin import enroll_card

    pcscd = PrivatePcscd()
    pcscd.start()
    pcscd.use()
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        st = Staff(surname="Замерова", name="Ольга", patronymic="Ивановна",
                   position="Медицинский регистратор")  # fmt: skip
        st.roles.append(StaffRole(role=Role.REGISTRAR))
        s.add(st)
    serial = f"BENCH-{st.id}"
    applet = DoctorApplet(new_card(serial, str(st.id), "Замерова О. И.", "registrar"))
    with sessions.begin() as s:
        enroll_card(s, Actor(None, None), st.id, serial, applet.public_point())
    staff_card = VirtualCard(applet, pcscd.port)
    with engine.connect() as c:
        people = c.execute(
            text(
                "SELECT id, policy_number, surname, name, patronymic, sex, birth_date, snils "
                "FROM patient TABLESAMPLE SYSTEM (0.1) WHERE policy_number IS NOT NULL "
                "LIMIT :n"
            ),
            {"n": args.rounds * 2},
        ).all()
    holders = [(r[0], OmsHolder(r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "")) for r in people]

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET)  # type: ignore[union-attr]
    runner = TaskRunner(show_error)
    settings = load_settings(
        database_url=url, workstation_code="bench", virtual_reader=True,
        patient_readers=("Virtual PCD * 01",),
    )  # fmt: skip
    win = MainWindow(settings, runner)
    win.resize(1366, 768)
    win.show()

    def spin(cond: Callable[[], bool], ms: int = 20_000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if cond() else None)
        timer.start(1)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()
        if not cond():
            raise SystemExit("timed out")

    win.connect_database()
    spin(lambda: win.session is not None)
    staff_card.insert()
    spin(lambda: win.gate.asking_pin and win.gate.pin.isEnabled())
    win.gate.pin.setText("1234")
    QTest.keyClick(win.gate.pin, Qt.Key.Key_Return)
    spin(lambda: win.patients is not None and win.work.isVisible())
    assert win.patients is not None
    view = win.patients.card_view

    inserted: list[float] = []
    read_alone: list[float] = []
    for pid, holder in holders[: args.rounds]:
        card = VirtualCard(OmsApplet(holder), pcscd.port + 1)
        t0 = time.perf_counter()
        card.insert()
        spin(lambda pid=pid: view.card is not None and view.card.id == pid)  # type: ignore[misc]
        win.repaint()
        inserted.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        conn, transmit = open_card(pcscd.readers[1])
        read_holder(transmit)
        conn.close()
        read_alone.append(time.perf_counter() - t0)
        card.remove()
        spin(lambda: True, 10)
        time.sleep(0.5)
    raw = psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    scans: list[float] = []
    lookups: list[float] = []
    for pid, holder in holders[args.rounds :]:
        t0 = time.perf_counter()
        win.scanned(holder.policy)
        spin(lambda pid=pid: view.card is not None and view.card.id == pid)  # type: ignore[misc]
        win.repaint()
        scans.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute("SELECT id FROM patient WHERE policy_number = %s", (holder.policy,))
            cur.fetchall()
        lookups.append(time.perf_counter() - t0)
    print(
        f"patient card inserted → card painted ({len(inserted)} cards, pcscd polls every 400 ms):"
    )
    print(f"  ARM  {_ms(inserted)}   budget ≤ 800 ms")
    print(f"  the card read alone (OMS APDUs through pcscd): {_ms(read_alone)}")
    print("scan (the closing Enter) → card painted:")
    print(f"  ARM  {_ms(scans)}   budget ≤ 300 ms")
    print(f"  the policy lookup alone (psycopg): {_ms(lookups)}")
    win.close()
    staff_card.remove()
    runner.shutdown(wait=True)
    pcscd.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
