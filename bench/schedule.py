"""The day screen's budgets on the 1M-patient PostgreSQL, each beside its anchor.

* the day's query (40 slots, with patients and visits) ≤ 20 ms — anchor: the same two
  SELECTs sent through psycopg directly;
* a day of 40 slots painted ≤ 50 ms after the data arrives — anchor: a QTableWidget filled
  cell by cell (the naive way) and painted the same way;
* a status change round trip, key → stored → repainted, ≤ 50 ms — anchor: the bare UPDATE
  and SELECT through psycopg.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/schedule.py [--rounds 40]

``arm_bench`` is created and seeded by bench/search.py's loader on first use; this script adds
300 doctors with 60 working days of 40 slots each (720 000 slots, ~80 % booked by random
patients of the million) once, so the schedule tables are city-sized too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search import _ensure_db
from services.audit import Actor
from services.clock import clinic_tz, day_bounds, now_utc
from services.db import create_db_engine, make_session_factory
from services.errors import ConflictError
from services.models import (
    BookingSource,
    Role,
    ScheduleSlot,
    Staff,
    StaffRole,
    VisitType,
)
from services.schedule import book
from services.schedule_desk import ScheduleDesk

LOAD_SURNAME = "Нагрузочный"


def _ensure_schedules(engine: object) -> None:
    with engine.begin() as c:  # type: ignore[attr-defined]
        have = c.execute(
            text("SELECT count(*) FROM staff WHERE surname = :s"), {"s": LOAD_SURNAME}
        ).scalar()
        if have:
            return
        print("adding 300 doctors × 60 days × 40 slots to arm_bench …", flush=True)
        t0 = time.monotonic()
        c.execute(
            text(
                "INSERT INTO staff (surname, name, patronymic, position, specialty, active) "
                "SELECT :s, 'Врач', g::text, 'Врач-терапевт участковый', 'Терапия', true "
                "FROM generate_series(1, 300) g"
            ),
            {"s": LOAD_SURNAME},
        )
        c.execute(
            text(
                "INSERT INTO staff_role (staff_id, role) SELECT id, 'doctor' FROM staff WHERE surname = :s"
            ),
            {"s": LOAD_SURNAME},
        )
        c.execute(
            text(
                "INSERT INTO schedule_slot (staff_id, starts_at, ends_at, bookable) "
                "SELECT s.id, d + make_interval(mins => 15 * k), d + make_interval(mins => 15 * k + 15), true "
                "FROM staff s, generate_series(now()::date - 30, now()::date + 55, '1 day') d0, "
                "LATERAL (SELECT d0 + interval '5 hours' AS d) dd(d), generate_series(0, 39) k "
                "WHERE s.surname = :s AND extract(isodow from d0) < 6"
            ),
            {"s": LOAD_SURNAME},
        )
        c.execute(
            text(
                "INSERT INTO appointment (slot_id, patient_id, visit_type, source, status, "
                "cancel_reason, created_at, version_id) "
                "SELECT sl.id, p.lo + floor(random() * (p.hi - p.lo))::int, 'repeat', 'portal', "
                "CASE WHEN sl.starts_at < now() THEN 'finished' ELSE 'booked' END, '', now(), 1 "
                "FROM schedule_slot sl JOIN staff s ON s.id = sl.staff_id, "
                "(SELECT min(id) lo, max(id) hi FROM patient) p "
                "WHERE s.surname = :s AND random() < 0.8"
            ),
            {"s": LOAD_SURNAME},
        )
        c.execute(text("ANALYZE"))
        print(f"  done in {time.monotonic() - t0:.0f} s", flush=True)


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.2f} ms, p95 {xs[int(0.95 * (len(xs) - 1))] * 1000:.2f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--trace", action="store_true", help="split the round trip into its parts")
    args = ap.parse_args()
    url = _ensure_db(1_000_000)
    engine = create_db_engine(url)
    _ensure_schedules(engine)
    sessions = make_session_factory(engine)

    # A doctor of today's: 40 slots from now − 2 h, 36 of them booked.
    with sessions.begin() as s:
        st = Staff(
            surname="Замерова",
            name="Ирина",
            patronymic="Олеговна",
            position="Врач-терапевт участковый",
        )
        st.roles.append(StaffRole(role=Role.DOCTOR))
        s.add(st)
    actor = Actor(st.id, None, frozenset({Role.DOCTOR}))
    now = now_utc()
    first = now - dt.timedelta(hours=2)
    day = first.astimezone(clinic_tz()).date()
    first = max(first, day_bounds(day)[0])
    with sessions.begin() as s:
        rows = [
            ScheduleSlot(
                staff_id=st.id,
                starts_at=first + dt.timedelta(minutes=15 * k),
                ends_at=first + dt.timedelta(minutes=15 * k + 15),
                bookable=True,
            )
            for k in range(40)
        ]
        s.add_all(rows)
    slots = [r.id for r in rows]
    with engine.connect() as c:
        pids = [
            r[0] for r in c.execute(text("SELECT id FROM patient TABLESAMPLE SYSTEM (1) LIMIT 200"))
        ]
    candidates = iter(pids)
    with sessions() as s:
        for slot in slots[:36]:
            for pid in candidates:
                try:  # a random patient may be booked elsewhere at that hour: the next one
                    book(
                        s,
                        actor,
                        slot,
                        pid,
                        VisitType.REPEAT,
                        BookingSource.PORTAL,
                        now=first - dt.timedelta(days=1),
                    )
                except ConflictError:
                    s.rollback()
                    continue
                break
    desk = ScheduleDesk(sessions, actor)

    # --- 1. the query, ORM vs raw ---------------------------------------------------------
    start, end = day_bounds(day)
    raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    raw = psycopg.connect(raw_url)
    main_sql = (
        "SELECT s.id, s.staff_id, s.starts_at, s.ends_at, s.bookable, a.id, a.patient_id, p.surname, "
        "p.name, p.patronymic, p.birth_date, a.visit_type, a.source, a.status, a.arrived_at, "
        "e.started_at, e.finished_at, e.id FROM schedule_slot s "
        "LEFT JOIN appointment a ON a.slot_id = s.id AND a.status != 'cancelled' "
        "LEFT JOIN patient p ON p.id = a.patient_id LEFT JOIN encounter e ON e.appointment_id = a.id "
        "WHERE s.staff_id = %s AND s.starts_at >= %s AND s.starts_at < %s ORDER BY s.starts_at, s.id"
    )
    orm_t: list[float] = []
    raw_t: list[float] = []
    for _ in range(3):
        desk.snapshot(st.id, day)
    for _ in range(args.rounds * 5):
        t0 = time.perf_counter()
        snap = desk.snapshot(st.id, day)
        orm_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(main_sql, (st.id, start, end))
            rows = cur.fetchall()
            cur.execute(
                "SELECT encounter_id, started_at, ended_at, reason, recheck_at FROM visit_pause "
                "WHERE encounter_id = ANY(%s)",
                ([r[-1] for r in rows if r[-1] is not None] or [0],),
            )
            cur.fetchall()
            cur.execute(
                "SELECT count(*) FROM walk_in WHERE staff_id = %s AND status = 'waiting'", (st.id,)
            )
        raw_t.append(time.perf_counter() - t0)
    print(f"day query ({len(snap.rows)} slots, snapshot = rows + queue + closed + fingerprint):")
    print(f"  ARM  {_ms(orm_t)}")
    print(f"  raw  {_ms(raw_t)}  (anchor: psycopg, same SELECTs)")
    print(f"  ratio {statistics.median(orm_t) / statistics.median(raw_t):.2f}×   budget ≤ 20 ms")

    # --- 2. painting the day, and 3. a status change round trip -------------------------------
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QTableWidget, QTableWidgetItem

    from arm.errors import show_error
    from arm.style import STYLE_SHEET
    from arm.tasks import TaskRunner
    from services.registry import Registry
    from services.visits import Move
    from widgets.schedule.model import DAY_COLUMNS
    from widgets.schedule.view import ScheduleView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET)  # type: ignore[union-attr]
    runner = TaskRunner(show_error)
    view = ScheduleView(
        runner, desk, Registry(sessions, actor).search, show_error,
        own_staff_id=st.id, can_treat=True, poll_ms=3_600_000,
    )  # fmt: skip
    view.resize(1366, 740)
    view.show()

    def spin(cond: object, ms: int = 10_000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if cond() else None)  # type: ignore[operator]
        timer.start(1)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    spin(lambda: view.model.snapshot is not None and not view.model.loading)
    paint_t: list[float] = []
    naive_t: list[float] = []
    naive = QTableWidget()
    naive.resize(1000, 700)
    naive.show()
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        view.model.show_snapshot(snap)
        view.repaint()  # synchronous: the table, the panels, the counters, on screen
        paint_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive.clear()
        naive.setRowCount(len(snap.rows))
        naive.setColumnCount(len(DAY_COLUMNS))
        for i, r in enumerate(snap.rows):
            for j, col in enumerate(DAY_COLUMNS):
                naive.setItem(i, j, QTableWidgetItem(col.text(r)))
        naive.repaint()
        naive_t.append(time.perf_counter() - t0)
    print(f"day painted after its data arrived ({len(snap.rows)} rows, 1366×740):")
    print(f"  ARM    {_ms(paint_t)}")
    print(f"  naive  {_ms(naive_t)}  (anchor: QTableWidget filled cell by cell)")
    print("  budget ≤ 50 ms")

    # Round trip: select a booked visit, F3 (arrived) / F9 later … here ARRIVE on each booked row.
    booked = [
        i
        for i, r in enumerate(view.model.rows)
        if r.status is not None and r.status.value == "booked"
    ]
    trip_t: list[float] = []
    raw_trip: list[float] = []
    marks: dict[str, list[float]] = {"db": [], "patched": [], "repaint": []}
    if "--trace" in sys.argv:
        real_move, real_patched = desk.move, view._patched

        def traced_move(*a: object, **k: object) -> object:
            t = time.perf_counter()
            try:
                return real_move(*a, **k)  # type: ignore[arg-type]
            finally:
                marks["db"].append(time.perf_counter() - t)

        def traced_patched(rows: object) -> None:
            t = time.perf_counter()
            real_patched(rows)  # type: ignore[arg-type]
            marks["patched"].append(time.perf_counter() - t)

        desk.move = traced_move  # type: ignore[method-assign]
        view._patched = traced_patched  # type: ignore[method-assign]
    for i in booked[: args.rounds]:
        view.table.selectRow(i)
        appt = view.model.rows[i].appointment_id
        act = view.actions_by_move[Move.ARRIVE]
        t0 = time.perf_counter()
        act.trigger()
        spin(lambda i=i: view.model.rows[i].status.value == "arrived", 5000)  # type: ignore[union-attr]
        t1 = time.perf_counter()
        view.table.viewport().repaint()
        marks["repaint"].append(time.perf_counter() - t1)
        trip_t.append(time.perf_counter() - t0)
        # anchor: the bare change and read-back through psycopg (undone right after)
        t0 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(
                "UPDATE appointment SET status = 'arrived', version_id = version_id + 1 WHERE id = %s",
                (appt,),
            )
            cur.execute("SELECT status FROM appointment WHERE id = %s", (appt,))
            cur.fetchall()
        raw.commit()
        raw_trip.append(time.perf_counter() - t0)
    print(f"status change round trip, F3 → stored → repainted ({len(trip_t)} visits):")
    print(f"  ARM  {_ms(trip_t)}")
    print(f"  raw  {_ms(raw_trip)}  (anchor: psycopg UPDATE + SELECT, no checks, no audit)")
    print("  budget ≤ 50 ms")
    for name, xs in marks.items():
        if xs:
            print(f"    of which {name}: {_ms(xs)}")
    runner.shutdown(wait=True)
    raw.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
