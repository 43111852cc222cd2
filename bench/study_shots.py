"""Screenshots of the EMK's «Исследования» tab and the study viewer (CT at lung and bone
windows), at 1920×1080 and 1366×768, over a real Orthanc with a generated chest CT.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.study_shots /tmp/shots
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTabWidget
from sqlalchemy import create_engine

from arm.orthanc_local import Orthanc
from arm.tasks import TaskRunner
from dicom.cache import StudyCache
from dicom.config import DicomConfig, PacsConfig
from dicom.library import StudyLibrary
from dicom.patient_match import EmkPatient
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from services.db import make_session_factory, upgrade_schema
from services.models import Patient, Role
from services.study_desk import StudyDesk
from tests.factories import base_org, colleague, person
from widgets.studies.list_view import StudyList
from widgets.studies.windows import StudyWindows

POLICY = "7700000000000123"


def wait(app: QApplication, cond: object, limit: int = 200_000) -> None:
    for _ in range(limit):
        if cond():  # type: ignore[operator]
            return
        app.processEvents()
    raise TimeoutError


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    root = Path(tempfile.mkdtemp(prefix="study-shots-"))
    orthanc = Orthanc.start(root / "server")
    try:
        pt = FakePatient(POLICY, "Иванова^Мария^Петровна", "19620312", "F")
        specs = [
            StudySpec(pt, [SeriesSpec("CT", 60, 512, 512, "Лёгочное ядро"),
                           SeriesSpec("CT", 30, 512, 512, "Мягкие ткани")],
                      description="КТ органов грудной клетки", date="20261120"),
            StudySpec(pt, [SeriesSpec("MR", 20, 256, 256, "T2 FLAIR")],
                      description="МРТ головного мозга", date="20250914"),
            StudySpec(pt, [SeriesSpec("CT", 20, 256, 256, "Аксиальные")],
                      description="КТ головного мозга", date="20240302"),
        ]  # fmt: skip
        for spec in specs:
            orthanc.upload(write_study(spec, root / spec.study_uid[-8:]))
        engine = create_engine(f"sqlite:///{root / 'arm.sqlite3'}")
        upgrade_schema(engine)
        sessions = make_session_factory(engine)
        doctor, dept = base_org(sessions)
        radio = colleague(sessions, dept, "Достоевский", Role.RADIOLOGIST)
        card = person(sessions, doctor, "Иванова", "Мария", "Петровна", birth=dt.date(1962, 3, 12))
        with sessions() as s:
            p = s.get(Patient, card.id)
            assert p is not None
            p.policy_number = POLICY
            s.commit()
        runner = TaskRunner(lambda *_a: None)
        cache = StudyCache(root / "cache", 10**11)
        pacs = PacsConfig("ЕРИС (Orthanc)", orthanc.aet, "127.0.0.1", orthanc.dicom_port)
        library = StudyLibrary(DicomConfig(ae_title="ARMSHOTS", pacs=(pacs,)), cache)
        windows = StudyWindows(runner, library, lambda *_a: None)
        # The older MR was read and signed by the radiologist.
        desk = StudyDesk(sessions, radio)
        tabs = QTabWidget()
        view = StudyList(runner, StudyDesk(sessions, doctor), windows, lambda *_a: None)
        for title in ("Документы", "Анализы (динамика)", "Протокол осмотра", "Направления"):
            tabs.addTab(QApplication.instance() and type(view.detail)(), title)
        tabs.addTab(view, "Исследования")
        tabs.setCurrentWidget(view)
        emk = EmkPatient("Иванова", "Мария", "Петровна", dt.date(1962, 3, 12))
        view.set_patient(card.id, emk, POLICY)
        wait(app, lambda: view.lookup is not None and view.model.rowCount() == 3)
        mr = desk.get(specs[1].study_uid)
        desk.sign(
            mr.study_uid,
            "На серии МР-томограмм срединные структуры не смещены. Очаговых изменений сигнала "
            "от вещества головного мозга не выявлено. Желудочковая система не расширена.",
            "МР-признаков очаговых изменений головного мозга не выявлено.",
            mr.version_id,
        )
        head = desk.get(specs[2].study_uid)
        desk.save_draft(head.study_uid, "Срединные структуры не смещены.", "", head.version_id)
        view.reload()
        wait(app, lambda: any(x.row.status.value == "signed" for x in view.model.rows))
        view.table.selectRow(1)
        for w, h in ((1920, 1080), (1366, 768)):
            tabs.resize(w - 240, h - 200)  # the EMK header and the section list take the rest
            tabs.show()
            app.processEvents()
            tabs.grab().save(str(out / f"studies_tab_{w}.png"))
            print(out / f"studies_tab_{w}.png", tabs.width())
        view.table.selectRow(0)
        view.open_selected()
        (win,) = windows.windows.values()
        wait(app, lambda: not win.loading and win.viewer.pending == 0)
        for w, h in ((1920, 1080), (1366, 768)):
            win.resize(w, h - 60)
            app.processEvents()
            win.viewer.go_to(30)
            for key, name in ((Qt.Key.Key_1, "lung"), (Qt.Key.Key_3, "bone")):
                win.viewer.apply_preset(name)
                del key
                app.processEvents()
                win.grab().save(str(out / f"viewer_{name}_{w}.png"))
                print(out / f"viewer_{name}_{w}.png", win.width())
        win.close()
        app.processEvents()
        runner.shutdown(wait=True)
        library.close()
        cache.close()
    finally:
        orthanc.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
