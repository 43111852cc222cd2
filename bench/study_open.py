"""«Открыть» on an uncached study → first image on screen, through the real study window.

Budget (issue 8): ≤ 1.0 s.  The path measured is the application's: StudyWindows.open → the
window's retrieval in the IO lane (C-GET, two associations) → the first instance crossing to
the GUI thread → decode → paint (``sig_first_image_shown``).  Also printed: the whole study's
arrival, and the second opening from the cache.  Anchor: dcmtk's ``getscu`` on the same study
(the time until its *whole* study is on disk; it shows nothing).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.study_open [slices]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from arm.orthanc_local import Orthanc
from arm.tasks import TaskRunner
from dicom.cache import StudyCache
from dicom.config import DicomConfig, PacsConfig
from dicom.library import StudyLibrary
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from widgets.studies.windows import StudyWindows
from widgets.viewer.state import ViewerSubject


def main() -> None:
    slices = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    app = QApplication.instance() or QApplication([])
    root = Path(tempfile.mkdtemp(prefix="bench-open-"))
    orthanc = Orthanc.start(root / "server")
    try:
        spec = StudySpec(
            FakePatient("B-1", "Бенчев^Бенч", "19800101", "M"),
            [SeriesSpec("CT", slices, 512, 512, "Лёгкие")],
            description="КТ ОГК",
        )
        orthanc.upload(write_study(spec, root / "files"))
        pacs = PacsConfig("Orthanc", orthanc.aet, "127.0.0.1", orthanc.dicom_port)
        subject = ViewerSubject("B-1", "Бенчев Бенч", spec.study_uid, "20240115", "КТ ОГК")
        runner = TaskRunner(lambda *_a: None)
        for run in range(3):
            cache = StudyCache(root / f"cache{run}", 10**11)
            library = StudyLibrary(DicomConfig(ae_title="BENCH", pacs=(pacs,)), cache)
            windows = StudyWindows(runner, library, lambda *_a: None)
            t0 = time.perf_counter()
            marks: dict[str, float] = {}
            win = windows.open(subject, source="Orthanc", retrievable=True)
            win.viewer.sig_first_image_shown.connect(
                lambda m=marks, t=t0: m.setdefault("first", time.perf_counter() - t)
            )
            while "first" not in marks:
                app.processEvents()
            while win.loading:
                app.processEvents()
            marks["all"] = time.perf_counter() - t0
            win.close()
            app.processEvents()
            t1 = time.perf_counter()
            again = windows.open(subject, source="Orthanc", retrievable=True)
            again.viewer.sig_first_image_shown.connect(
                lambda m=marks, t=t1: m.setdefault("cached", time.perf_counter() - t)
            )
            while "cached" not in marks:
                app.processEvents()
            again.close()
            app.processEvents()
            library.close()
            print(
                f"run {run + 1}: first image {marks['first'] * 1000:.0f} ms (budget 1000), "
                f"whole study of {slices} × 512² {marks['all']:.2f} s, "
                f"from cache first image {marks['cached'] * 1000:.0f} ms"
            )
        getscu = shutil.which("getscu")
        if getscu:
            out = root / "getscu"
            out.mkdir()
            env = dict(os.environ, TCP_NODELAY="1")
            t0 = time.perf_counter()
            subprocess.run(
                [getscu, "-aec", orthanc.aet, "-od", str(out), "-k", "QueryRetrieveLevel=STUDY",
                 "-k", f"StudyInstanceUID={spec.study_uid}", "127.0.0.1", str(orthanc.dicom_port)],
                check=True, capture_output=True, env=env,
            )  # fmt: skip
            print(f"anchor: dcmtk getscu, whole study on disk {time.perf_counter() - t0:.2f} s")
        runner.shutdown(wait=True)
    finally:
        orthanc.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
