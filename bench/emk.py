"""The EMK's budgets on the 1M-patient PostgreSQL, each beside its anchor.

* open the record of a patient with 5,000 documents: first paint ≤ 300 ms — anchor: the
  timeline's SELECT through psycopg directly;
* full-text filter inside that record ≤ 200 ms (request → rows repainted) — anchor: the same
  LIKE through psycopg;
* МКБ-10 search as you type ≤ 30 ms per keystroke — anchor: a naive substring scan
  (bench/mkb10.py has the full table);
* sign a protocol ≤ 100 ms — anchor: the same INSERTs (document, two diagnoses, audit) sent
  through psycopg in one transaction.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/emk.py [--rounds 20]

``arm_bench`` is created by bench/search.py's loader; bench/emk_data.py gives one patient
5,000 documents (once).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.emk_data import ensure_rich_patient
from bench.search import _ensure_db
from services.audit import Actor
from services.db import create_db_engine, make_session_factory
from services.emk import TimelineFilter, fold
from services.emk_desk import EmkDesk
from services.mkb10 import catalog
from services.models import DiagnosisCharacter, DiagnosisRole, Role, Staff, StaffRole
from services.protocols import DiagnosisInput, ProtocolInput


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return (
        f"median {statistics.median(xs) * 1000:.1f} ms, "
        f"p95 {xs[int(0.95 * (len(xs) - 1))] * 1000:.1f} ms"
    )


def _ratio(a: list[float], b: list[float]) -> str:
    return f"{statistics.median(a) / statistics.median(b):.1f}×"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    url = _ensure_db(1_000_000)
    engine = create_db_engine(url)
    pid = ensure_rich_patient(engine, documents=5000)
    sessions = make_session_factory(engine)
    with engine.connect() as c:
        n_docs = c.execute(
            text("SELECT count(*) FROM emk_document WHERE patient_id = :p"), {"p": pid}
        ).scalar()
        other = c.execute(
            text("SELECT min(id) FROM patient WHERE id > :p + 1000"), {"p": pid}
        ).scalar()
    with sessions.begin() as s:
        st = Staff(surname="Замеров", name="Игорь", patronymic="Олегович",
                   position="Врач-терапевт участковый", specialty="Терапия")  # fmt: skip
        st.roles.append(StaffRole(role=Role.DOCTOR))
        s.add(st)
    actor = Actor(st.id, None, frozenset({Role.DOCTOR}))
    desk = EmkDesk(sessions, actor)
    raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    raw = psycopg.connect(raw_url)
    timeline_sql = (
        "SELECT d.id, d.patient_id, d.kind, d.occurred_at, d.title, d.summary, d.specialty, "
        "d.author_name, d.version, coalesce(x.code, '') FROM emk_document d "
        "LEFT JOIN document_diagnosis x ON x.document_id = d.id AND x.role = 'main' "
        "WHERE d.patient_id = %s AND NOT EXISTS (SELECT 1 FROM emk_document n "
        "WHERE n.supersedes_id = d.id) {extra} ORDER BY d.occurred_at DESC, d.id DESC"
    )
    print(f"patient {pid}: {n_docs:,} documents in a database of 1M patients")

    # --- 1. open the record: first paint ------------------------------------------------------
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from arm.errors import show_error
    from arm.style import STYLE_SHEET
    from arm.tasks import TaskRunner
    from services.local_drafts import LocalDrafts
    from widgets.emk.view import EmkView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(STYLE_SHEET)  # type: ignore[union-attr]
    runner = TaskRunner(show_error)
    cat = catalog()
    drafts = LocalDrafts(Path("/tmp/arm-bench-drafts"))
    view = EmkView(runner, desk, drafts, show_error, cat.search, cat.lookup, can_write=True)
    view.resize(1366, 768)
    view.show()

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

    paint: list[float] = []
    raw_open: list[float] = []
    for i in range(args.rounds + 2):
        view.open_patient(other)
        spin(lambda: view.patient_id == other)
        t0 = time.perf_counter()
        view.open_patient(pid)
        spin(lambda: view.patient_id == pid and view.model.rowCount() > 0)
        view.repaint()
        t1 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(timeline_sql.format(extra=""), (pid,))
            cur.fetchall()
        t2 = time.perf_counter()
        if i >= 2:  # warm-up
            paint.append(t1 - t0)
            raw_open.append(t2 - t1)
    print(f"open the EMK, {view.model.rowCount():,} rows → first paint:")
    print(f"  ARM  {_ms(paint)}   budget ≤ 300 ms")
    print(f"  raw  {_ms(raw_open)}  (anchor: the timeline SELECT through psycopg)")
    print(f"  ratio {_ratio(paint, raw_open)}")
    view.grab().save("/tmp/arm-bench-emk.png")

    # --- 2. the free-text filter ------------------------------------------------------------
    words = ["бронхит", "глюкоза", "гипертензия", "флюорография", "очаговых"]
    filt: list[float] = []
    raw_f: list[float] = []
    for i in range(args.rounds):
        word = words[i % len(words)]
        t0 = time.perf_counter()
        view.text.setText(word)
        view.apply_filter()
        spin(lambda: view.count_label.text().startswith("Найдено") or view.model.rowCount() == 0)
        view.repaint()
        t1 = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(timeline_sql.format(extra="AND d.search_text LIKE %s"),
                        (pid, f"%{fold(word)}%"))  # fmt: skip
            cur.fetchall()
        t2 = time.perf_counter()
        filt.append(t1 - t0)
        raw_f.append(t2 - t1)
        view.text.blockSignals(True)
        view.text.clear()
        view.text.blockSignals(False)
        view.apply_filter()
        spin(lambda: view.count_label.text().startswith("Документов"))
    print("full-text filter inside the record (typed → rows repainted):")
    print(f"  ARM  {_ms(filt)}   budget ≤ 200 ms")
    print(f"  raw  {_ms(raw_f)}  (anchor: the same LIKE through psycopg)")
    print(f"  ratio {_ratio(filt, raw_f)}")
    t_service = []
    for i in range(args.rounds):
        t0 = time.perf_counter()
        desk.timeline(pid, TimelineFilter(text=words[i % len(words)]))
        t_service.append(time.perf_counter() - t0)
    print(f"  (the service call alone: {_ms(t_service)})")

    # --- 3. МКБ-10 as you type -----------------------------------------------------------------
    from bench.mkb10 import _naive, _naive_rows

    names = _naive_rows()
    keys: list[float] = []
    naive: list[float] = []
    for query in ("острый бронхит", "j06.9", "сахарный диабет 2"):
        for n in range(1, len(query) + 1):
            q = query[:n]
            t0 = time.perf_counter()
            cat.search(q)
            keys.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _naive(names, q)
            naive.append(time.perf_counter() - t0)
    print(f"МКБ-10 search per keystroke ({len(keys)} keystrokes):")
    print(f"  ARM   {_ms(keys)}, max {max(keys) * 1000:.1f} ms   budget ≤ 30 ms")
    print(f"  naive {_ms(naive)}  (anchor: substring scan of every name)")

    # --- 4. signing ----------------------------------------------------------------------------
    inp = ProtocolInput(
        specialty="Терапия",
        sections={
            "complaints": "Кашель, температура 37,8",
            "objective": "Дыхание жёсткое, хрипов нет. ЧДД 18. SpO2 97 %.",
            "conclusion": "Острый бронхит",
        },
        diagnoses=(
            DiagnosisInput(DiagnosisRole.MAIN, "J20.9", DiagnosisCharacter.ACUTE),
            DiagnosisInput(DiagnosisRole.CONCOMITANT, "I10", DiagnosisCharacter.CHRONIC_KNOWN),
        ),
    )
    sign: list[float] = []
    raw_sign: list[float] = []
    for revision in range(1, args.rounds + 1):
        desk.save_draft(pid, inp.to_json(), revision)
        t0 = time.perf_counter()
        desk.sign(pid, inp)
        sign.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with raw.transaction(), raw.cursor() as cur:
            cur.execute(
                "INSERT INTO emk_document (patient_id, kind, occurred_at, specialty, title, "
                "summary, body, search_text, author_name, organisation, signed_at, signed_by, "
                "version, amend_reason) VALUES (%s, 'protocol', now(), 'Терапия', 'Протокол', "
                "'J20.9', %s, %s, 'Замеров И. О.', '', now(), %s, 1, '') RETURNING id",
                (pid, json.dumps(inp.to_json()), "кашель", st.id),
            )
            (doc_id,) = cur.fetchone()  # type: ignore[misc]
            cur.execute(
                "INSERT INTO document_diagnosis (document_id, position, role, code, character, "
                "note) VALUES (%s, 0, 'main', 'J20.9', 'acute', ''), (%s, 1, 'concomitant', "
                "'I10', 'chronic_known', '')",
                (doc_id, doc_id),
            )
            cur.execute(
                "INSERT INTO audit_event (at, staff_id, action, patient_id, object_type, "
                "object_id, details) VALUES (now(), %s, 'bench', %s, 'emk_document', %s, '')",
                (st.id, pid, doc_id),
            )
        raw_sign.append(time.perf_counter() - t0)
    print("sign a protocol (validate, document + 2 diagnoses, drop the draft, audit):")
    print(f"  ARM  {_ms(sign)}   budget ≤ 100 ms")
    print(f"  raw  {_ms(raw_sign)}  (anchor: the INSERTs through psycopg)")
    print(f"  ratio {_ratio(sign, raw_sign)}")
    runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
