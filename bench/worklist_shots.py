"""Screenshots of «Рабочий список рентгенолога» for review (not a benchmark: no figures).

Builds a throw-away SQLite world — a radiologist, eight studies of today and yesterday (CT,
MR, X-ray; two CITO by their referrals, a draft, two signed; Cyrillic names) — shows the
worklist with the app's style sheet at the two resolutions the polyclinics have, opens an
unread CT study, fills the editor from the pneumonia template and fills the first blank from
the keyboard; then once more at 1366×768 with the PACS down and a refused signature.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.worklist_shots [out_dir]
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy.orm import Session, sessionmaker

from arm.errors import show_error
from arm.style import STYLE_SHEET
from arm.tasks import TaskRunner
from services import referrals
from services.clock import local_day, now_utc
from services.conclusion_templates import templates_for
from services.db import create_db_engine, make_session_factory, sqlite_url, upgrade_schema
from services.errors import PeerUnavailable
from services.models import Patient, ReferralKind, Role, Sex
from services.referrals import ReferralInput
from services.studies import StudyFacts, StudyRow, dicom_patient_id
from services.study_desk import StudyDesk
from tests.factories import base_org, colleague, person
from widgets.worklist import WorklistView

SIZES = ((1920, 1080), (1366, 768))
DAY = local_day(now_utc())

# surname, name, patronymic, sex, birth, modality, description, images, yesterday, cito
PEOPLE = [
    ("Иванова", "Мария", "Петровна", Sex.FEMALE, dt.date(1956, 4, 2), "CT",
     "КТ органов грудной клетки", 312, False, True),
    ("Константинопольский", "Вячеслав", "Аркадьевич", Sex.MALE, dt.date(1948, 11, 30), "CT",
     "КТ головного мозга без контрастирования", 188, False, True),
    ("Щербакова", "Ёлка", "Юрьевна", Sex.FEMALE, dt.date(1990, 7, 14), "MR",
     "МРТ головного мозга", 640, False, False),
    ("Жуков", "Фёдор", "Ильич", Sex.MALE, dt.date(1971, 1, 9), "DX",
     "Рентгенография органов грудной клетки, 2 проекции", 2, False, False),
    ("Соколова", "Ирина", "Андреевна", Sex.FEMALE, dt.date(1983, 3, 3), "CR",
     "Рентгенография левого коленного сустава", 3, False, False),
    ("Абдурахманов", "Шамиль", "Магомедович", Sex.MALE, dt.date(1965, 9, 21), "CT",
     "КТ органов брюшной полости с контрастированием", 1024, True, False),
    ("Петров", "Олег", "", Sex.MALE, dt.date(2001, 12, 1), "MR",
     "МРТ пояснично-крестцового отдела позвоночника", 410, True, False),
    ("Васильева", "Анна", "Сергеевна", Sex.FEMALE, dt.date(1978, 6, 17), "DX",
     "Рентгенография органов грудной клетки", 1, True, False),
]  # fmt: skip
SERVICE = {"CT": "A06.09.005", "MR": "A05.23.009", "DX": "A06.09.007", "CR": "A06.03.036"}


def build_world(sessions: sessionmaker[Session]) -> StudyDesk:
    doctor, dept = base_org(sessions)
    radio = colleague(sessions, dept, "Достоевский", Role.RADIOLOGIST)
    colleague2 = colleague(sessions, dept, "Рентгенова", Role.RADIOLOGIST)
    desk = StudyDesk(sessions, radio)
    facts = []
    for i, (sn, n, p, sex, birth, mod, desc, images, yesterday, cito) in enumerate(PEOPLE):
        card = person(sessions, doctor, sn, n, p, sex=sex, birth=birth, dept_id=dept)
        with sessions() as s:
            pat = s.get(Patient, card.id)
            assert pat is not None
            pid = dicom_patient_id(pat.policy_number, pat.id)
            inp = ReferralInput(
                ReferralKind.IMAGING, "J18.9", "Кашель, лихорадка", service_code=SERVICE[mod],
                cito=cito,
            )  # fmt: skip
            if i % 3 != 2:  # some come without a referral in ARM (another clinic's)
                referrals.issue(s, doctor, card.id, [inp])
        day = DAY - dt.timedelta(days=1) if yesterday else DAY
        facts.append(
            StudyFacts(
                f"1.2.826.0.1.3680043.8.498.{100 + i}", pid, day, (mod,), desc,
                f"RAD-{2026_0412 + i}", "Orthanc", images,
            )
        )  # fmt: skip
    desk.record(facts)
    rows = {r.description: r for r in desk.worklist(DAY - dt.timedelta(days=7), DAY)}
    mr = rows["МРТ головного мозга"]
    StudyDesk(sessions, colleague2).save_draft(
        mr.study_uid, "Срединные структуры не смещены. Очаговых изменений не выявлено.", "",
        mr.version_id,
    )  # fmt: skip
    t = templates_for("CT")[0]
    for desc in ("КТ органов брюшной полости с контрастированием",
                 "Рентгенография органов грудной клетки"):  # fmt: skip
        r = rows[desc]
        desk.sign(r.study_uid, t.findings, t.conclusion, r.version_id)
    return desk


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/worklist")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    app.setStyleSheet(STYLE_SHEET)
    runner = TaskRunner(show_error)

    def wait_for(cond: Callable[[], bool], ms: int = 10_000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if cond() else None)
        timer.start(20)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()
        if not cond():
            raise SystemExit(f"screen did not reach its state in {ms} ms")

    def settle() -> None:
        wait_for(lambda: not runner.busy)
        loop = QEventLoop()
        QTimer.singleShot(150, loop.quit)
        loop.exec()

    def shoot(widget: QWidget, name: str) -> None:
        settle()
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    def pacs_up(_start: dt.date, _end: dt.date) -> object:
        return 0

    def pacs_down(_start: dt.date, _end: dt.date) -> object:
        raise PeerUnavailable("PACS", "ORTHANC 10.0.0.5:4242 не ответил за 10 с")

    def take(w: int, h: int, sync: Callable[[dt.date, dt.date], object]) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="arm-worklist-"))
        engine = create_db_engine(sqlite_url(tmp / "arm.sqlite3"))
        upgrade_schema(engine)
        desk = build_world(make_session_factory(engine))
        opened: list[StudyRow] = []
        view = WorklistView(
            runner, desk, sync=sync, open_images=opened.append, show_error=show_error
        )
        view.setWindowTitle("ARM — Рабочий список рентгенолога")
        view.resize(w, h)
        view.show()
        view.activateWindow()
        wait_for(lambda: view.model.rowCount() == 5)  # today's
        QTest.mouseClick(view.week_button, Qt.MouseButton.LeftButton)
        wait_for(lambda: view.model.rowCount() == 8)
        settle()
        hint = view.minimumSizeHint()
        print(f"{w}×{h}: minimum size {hint.width()}×{hint.height()}, now {view.width()}")
        # The pneumonia CT: Enter, then the template, F3, the blanks typed.
        table = view.table
        table.setFocus()
        row = next(i for i, r in enumerate(view.model.rows) if r.description.startswith("КТ орг"))
        table.selectRow(row)
        QTest.keyClick(table, Qt.Key.Key_Return)
        ed = view.editor
        wait_for(lambda: ed.row is not None and not ed.busy)
        settle()
        ed.apply_template(next(t for t in templates_for("CT") if "пневмония" in t.title))
        settle()
        for text in ("нижней", "правого"):
            QTest.keyClick(ed.findings, Qt.Key.Key_F3)
            ed.findings.insertPlainText(text)
        if sync is pacs_down:
            # Sign with the conclusion left empty: refused, the rule under the field.
            QTest.keyClick(ed.findings, Qt.Key.Key_F3)
            ed.findings.insertPlainText("25")
            ed.conclusion.clear()
            QTest.keyClick(ed.findings, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            wait_for(lambda: ed.confirm_box is not None)
            box = ed.confirm_box
            assert box is not None
            shoot(box, "worklist_sign_confirm")
            QTest.keyClick(box, Qt.Key.Key_Return)
            wait_for(lambda: bool(ed.errors.shown))
            shoot(view, f"worklist_{w}_pacs_down_refused")
        else:
            shoot(view, f"worklist_{w}")
        ed._autosave.stop()
        view.close()
        settle()  # the draft saved on hiding is in before the widget goes
        view.deleteLater()
        engine.dispose()

    for w, h in SIZES:
        take(w, h, pacs_up)
    take(1366, 768, pacs_down)
    runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
