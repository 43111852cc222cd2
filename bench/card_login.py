"""Card budgets through pcscd + vpcd + the emulator, on the 1M-patient PostgreSQL.

* card inserted + PIN accepted → start screen painted (budget ≤ 1.0 s), split into the
  insertion's detection by pcscd (the virtual reader is polled every 400 ms) and the app's own
  part: Enter on the PIN → work painted;
* card removed → lock screen painted (budget ≤ 0.5 s median over 20 cycles), and the app's own
  part, removal event → lock painted (budget ≤ 100 ms).  The anchor is pcscd's own detection
  time (removal → event), measured in the same run.

Run: ``.venv/bin/python bench/card_login.py [--cycles 20]`` (root or unprivileged userns).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from bench.search import _ensure_db
from services.card.pcscd import PrivatePcscd


class PaintClock(QObject):
    """Records the time of the next paint of a widget."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.at: float | None = None
        widget.installEventFilter(self)

    def arm(self) -> None:
        self.at = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.monotonic()
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--patients", type=int, default=1_000_000)
    args = ap.parse_args()
    url = _ensure_db(args.patients)
    pcscd = PrivatePcscd()
    pcscd.start()
    pcscd.use()

    from arm.errors import show_error
    from arm.main_window import MainWindow
    from arm.settings import load_settings
    from arm.style import STYLE_SHEET
    from arm.tasks import TaskRunner
    from services.db import create_db_engine, make_session_factory
    from tests.cards import add_staff_card

    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    doctor = add_staff_card(sessions, pcscd, Path(tempfile.mkdtemp()), surname="Бенчмарков")
    app = QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET)
    runner = TaskRunner(show_error)
    win = MainWindow(
        load_settings(
            database_url=url, workstation_code="demo", virtual_reader=True, idle_lock_minutes=0
        ),
        runner,
    )
    win.resize(1920, 1080)
    win.show()
    win.connect_database()

    def wait(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not cond():
            app.processEvents()
            time.sleep(0.0005)
            if time.monotonic() > end:
                raise SystemExit(f"timeout: {win.gate.headline.text()} {win.gate.error.text()}")

    wait(lambda: win.session is not None, 60)
    locked_at: list[float] = []
    win.session.sig_locked.connect(lambda at: locked_at.append(at))  # type: ignore[union-attr]
    gate_clock, work_clock = PaintClock(win.gate), PaintClock(win.work)
    login_total, login_app, detect_in = [], [], []
    lock_total, lock_app, detect_out = [], [], []
    for i in range(args.cycles):
        t_insert = time.monotonic()
        doctor.card.insert()
        wait(lambda: win.gate.asking_pin and win.gate.pin.isEnabled())
        t_asked = time.monotonic()
        win.gate.pin.setText("1234")
        work_clock.arm()
        t_enter = time.monotonic()
        win.gate.pin.returnPressed.emit()
        wait(lambda: work_clock.at is not None)
        assert work_clock.at is not None
        detect_in.append(t_asked - t_insert)
        login_app.append(work_clock.at - t_enter)
        login_total.append(work_clock.at - t_enter + (t_asked - t_insert))
        time.sleep(0.05)
        gate_clock.arm()
        n = len(locked_at)
        t_remove = time.monotonic()
        doctor.card.remove()
        wait(lambda n=n: len(locked_at) > n and gate_clock.at is not None)
        assert gate_clock.at is not None
        event_at = locked_at[-1]
        detect_out.append(event_at - t_remove)
        lock_app.append(gate_clock.at - event_at)
        lock_total.append(gate_clock.at - t_remove)
        print(
            f"cycle {i + 1}: login {login_total[-1] * 1000:.0f} ms, lock {lock_total[-1] * 1000:.0f} ms",
            flush=True,
        )
    ms = lambda xs: f"median {statistics.median(xs) * 1000:7.1f} ms  max {max(xs) * 1000:7.1f} ms"  # noqa: E731
    print(f"\n{args.patients:,}-patient PostgreSQL, {args.cycles} cycles through pcscd + vpcd")
    print(f"insert → PIN asked (pcscd detection + card read)   {ms(detect_in)}")
    print(f"Enter on PIN → start screen painted (app)           {ms(login_app)}")
    print(f"card in + PIN → start screen (excl. typing)         {ms(login_total)}   budget 1000 ms")
    print(f"removal → event (pcscd poll, the anchor)            {ms(detect_out)}")
    print(f"removal event → lock painted (app)                  {ms(lock_app)}   budget 100 ms")
    print(f"removal → lock painted                              {ms(lock_total)}   budget 500 ms")
    win.close()
    runner.shutdown(wait=True)
    pcscd.stop()


if __name__ == "__main__":
    main()
