"""The viewer's budgets (issue 8) on a 400-slice 512×512 CT, each beside its anchor.

(a) *Scrolling a loaded series*: ≥ 100 slices/s painted, ≤ 10 ms a step.  A step is the whole
    path: a Right-arrow key event sent to the canvas (it propagates to the viewer, which moves
    the stack and hands the canvas the slice), then ``repaint()`` — stored values through the
    window's table into the one reused 32-bit buffer, a QImage over it, Qt scaling it
    (smoothly) into a 1920×1080 (or ``--size``) window, the overlay — and ``processEvents()``.  The anchor is the
    naive way with the same pixels already in memory: pydicom's ``apply_modality_lut`` +
    ``apply_voi_lut``, scaled to 8 bits, a new QImage per slice, painted in the same size.
(b) *First image*: from ``add_instance`` of a study's first file (a fresh viewer, so nothing
    decoded) to the first slice painted; also with all 400 handed in at once, and through
    ``open_cached``.  Files are in the OS page cache, as they are right after a retrieval
    wrote them.  The issue's "≤ 1 s after «Открыть»" adds the retrieval's first-instance
    latency (bench/dicom_get.py prints it) to this.
(c) *Memory* with the series loaded: ≤ 1.5× the raw pixel size (400 × 512 × 512 × 2 bytes).
    Two figures: the RSS growth of the process from before the viewer to after the load
    (allocator slack included), and the bytes of the arrays the viewer holds.  For context,
    the naive path's holdings (datasets with their pixel bytes + arrays + a QImage per slice).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.viewer [--slices 400] [--size 1920x1080]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut
from PySide6.QtCore import QEvent, QEventLoop, QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QWidget

from arm.tasks import TaskRunner
from dicom.cache import OpenedStudy
from dicom.synthetic import FakePatient, SeriesSpec, StudySpec, write_study
from widgets.viewer import StudyViewer, ViewerSubject

PATIENT = FakePatient("BENCH-1", "Бенчмарк^Вьюер", "19700101", "M")


def rss() -> int:
    """Resident set size of this process, bytes (from /proc: no psutil needed)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def study(slices: int, size: int) -> tuple[str, list[Path]]:
    """A generated CT series, written once and reused (its UID is kept beside it)."""
    root = Path(tempfile.gettempdir()) / f"arm-bench-viewer-{slices}x{size}"
    uid_file = root / "study_uid"
    files = sorted(root.glob("*.dcm"))
    if uid_file.exists() and len(files) == slices:
        return uid_file.read_text(), files
    print(f"writing {slices} slices of {size}×{size} into {root} …", flush=True)
    spec = StudySpec(PATIENT, [SeriesSpec("CT", slices, size, size, "Грудь")], "КТ")
    files = write_study(spec, root)
    uid_file.write_text(spec.study_uid)
    return spec.study_uid, files


def pump_until(app: QApplication, done: Callable[[], bool], limit_s: float = 120.0) -> None:
    """Run the event loop as the application does — asleep until something arrives."""
    deadline = time.monotonic() + limit_s
    tick = QTimer()  # wakes the loop now and then, so a missed condition cannot hang it
    tick.start(50)
    try:
        while not done():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for the viewer")
    finally:
        tick.stop()


def make_viewer(subject: ViewerSubject, runner: TaskRunner, w: int, h: int) -> StudyViewer:
    v = StudyViewer(subject, runner)
    v.resize(w, h)
    v.show()  # a top-level window of the offscreen platform: paints into its backing store
    return v


def stats(name: str, times_s: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times_s)
    out = {
        "median": statistics.median(ms),
        "p95": ms[int(0.95 * (len(ms) - 1))],
        "max": ms[-1],
        "per_s": len(ms) / (sum(ms) / 1000),
    }
    print(
        f"  {name:<34} {out['median']:6.2f} ms median  {out['p95']:6.2f} p95  "
        f"{out['max']:6.2f} max   {out['per_s']:7.0f} slices/s"
    )
    return out


# --- (a) scrolling ----------------------------------------------------------------------------
def scroll_viewer(app: QApplication, v: StudyViewer, rounds: int) -> list[float]:
    canvas = v.canvas
    times: list[float] = []
    for r in range(rounds):
        direction = Qt.Key.Key_Right if r % 2 == 0 else Qt.Key.Key_Left
        for _ in range(len(v.current_series or ()) - 1):
            t = time.perf_counter()
            press = QKeyEvent(QEvent.Type.KeyPress, direction, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(canvas, press)
            canvas.repaint()
            app.processEvents()
            times.append(time.perf_counter() - t)
    return times


class NaiveCanvas(QWidget):
    """What a first viewer does: a new QImage per slice from pydicom's VOI output."""

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None

    def show_slice(self, ds: Dataset, pixels: np.ndarray) -> None:
        values = apply_voi_lut(apply_modality_lut(pixels, ds), ds)
        lo, hi = float(values.min()), float(values.max())
        grey = ((values - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
        rows, cols = grey.shape
        self.image = QImage(grey.data, cols, rows, cols, QImage.Format.Format_Grayscale8).copy()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.black)
        if self.image is not None:
            s = min(self.width() / self.image.width(), self.height() / self.image.height())
            w, h = self.image.width() * s, self.image.height() * s
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), self.image)
        p.end()


def scroll_naive(
    app: QApplication, files: list[Path], w: int, h: int, rounds: int
) -> tuple[list[float], int]:
    loaded = []
    for f in files:
        ds = dcmread(f)
        loaded.append((ds, ds.pixel_array))
    held = sum(len(ds.PixelData) + px.nbytes + px.size for ds, px in loaded)  # + a QImage each
    canvas = NaiveCanvas()
    canvas.resize(w, h)
    canvas.show()
    times: list[float] = []
    for r in range(rounds):
        order = range(1, len(loaded)) if r % 2 == 0 else range(len(loaded) - 2, -1, -1)
        for i in order:
            t = time.perf_counter()
            canvas.show_slice(*loaded[i])
            canvas.repaint()
            app.processEvents()
            times.append(time.perf_counter() - t)
    canvas.close()
    return times, held


# --- (b) first image --------------------------------------------------------------------------
def first_image(
    app: QApplication,
    subject: ViewerSubject,
    runner: TaskRunner,
    start: Callable[[StudyViewer], None],
    w: int,
    h: int,
    runs: int,
) -> list[float]:
    times = []
    for _ in range(runs):
        v = make_viewer(subject, runner, w, h)
        app.processEvents()
        shown: list[float] = []

        def painted(shown: list[float] = shown) -> None:
            shown.append(time.perf_counter())

        def seen(shown: list[float] = shown) -> bool:
            return bool(shown)

        v.sig_first_image_shown.connect(painted)
        t = time.perf_counter()
        start(v)
        pump_until(app, seen)
        times.append(shown[0] - t)
        v.close()
        runner.wait_idle()
        app.processEvents()
        v.deleteLater()
        app.processEvents()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slices", type=int, default=400)
    ap.add_argument("--matrix", type=int, default=512)
    ap.add_argument("--size", default="1920x1080", help="the viewer's window, WxH")
    ap.add_argument("--rounds", type=int, default=3, help="passes through the stack")
    ap.add_argument("--runs", type=int, default=7, help="first-image repetitions")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    study_uid, files = study(args.slices, args.matrix)
    subject = ViewerSubject(PATIENT.patient_id, "Бенчмарк Вьюер", study_uid)
    runner = TaskRunner(lambda _p, exc, _r: print(f"error: {exc!r}"))
    raw = args.slices * args.matrix * args.matrix * 2
    print(f"{args.slices} slices {args.matrix}×{args.matrix} int16 = {raw / 2**20:.0f} MiB raw; "
          f"window {w}×{h}")  # fmt: skip

    # warm-up: imports, decoder, fonts, the first paint — none of it is the viewer's steady cost
    warm = make_viewer(subject, runner, w, h)
    warm.add_instance(files[0])
    pump_until(app, lambda: warm.pending == 0 and warm.canvas.painted_key is not None)
    warm.close()
    runner.wait_idle()
    app.processEvents()
    warm.deleteLater()
    app.processEvents()
    gc.collect()

    # (c) memory, and the loaded series for (a)
    before = rss()
    t = time.perf_counter()
    v = make_viewer(subject, runner, w, h)
    for f in files:
        v.add_instance(f)
    pump_until(app, lambda: v.pending == 0)
    load_s = time.perf_counter() - t
    gc.collect()
    grown = rss() - before
    held = v.resident_bytes
    print(f"\n(c) memory with the series loaded (loaded in {load_s:.2f} s, "
          f"{load_s / args.slices * 1000:.2f} ms a slice over the I/O lane)")  # fmt: skip
    print(
        f"  RSS growth          {grown / 2**20:7.1f} MiB   {grown / raw:5.2f}× raw   (budget ≤ 1.5×)"
    )
    print(f"  arrays held         {held / 2**20:7.1f} MiB   {held / raw:5.2f}× raw")

    print("\n(a) scrolling the loaded series, a key press → repainted")
    arm = stats("ARM viewer", scroll_viewer(app, v, args.rounds))
    v.close()
    runner.wait_idle()
    app.processEvents()
    v.deleteLater()
    app.processEvents()
    naive_times, naive_held = scroll_naive(app, files, w - 160, h - 30, args.rounds)
    naive = stats("naive apply_voi_lut + QImage", naive_times)
    print(f"  ratio ARM/naive per step: {arm['median'] / naive['median']:.2f} "
          f"(budget: ≥ 100 slices/s, ≤ 10 ms a step — "
          f"{'met' if arm['per_s'] >= 100 and arm['p95'] <= 10 else 'NOT met'})")  # fmt: skip
    print(f"  naive holdings: {naive_held / 2**20:.0f} MiB = {naive_held / raw:.2f}× raw "
          "(dataset bytes + pixel arrays + a QImage per slice)")  # fmt: skip

    print("\n(b) first image on screen, fresh viewer (median of runs)")
    series_uid = str(dcmread(files[0], stop_before_pixels=True).SeriesInstanceUID)
    opened = OpenedStudy(study_uid, True, {series_uid: list(reversed(files))})  # cache order

    def add_first(x: StudyViewer) -> None:
        x.add_instance(files[0])

    def add_all(x: StudyViewer) -> None:
        for f in files:
            x.add_instance(f)

    def open_cached(x: StudyViewer) -> None:
        x.open_cached(opened)

    one = first_image(app, subject, runner, add_first, w, h, args.runs)
    every = first_image(app, subject, runner, add_all, w, h, args.runs)
    cached = first_image(app, subject, runner, open_cached, w, h, args.runs)
    for name, times in (
        ("add_instance(first file)", one),
        (f"add_instance × {args.slices} at once", every),
        ("open_cached (plan + decode)", cached),
    ):
        ms = [t * 1000 for t in times]
        print(f"  {name:<34} {statistics.median(ms):6.1f} ms median  {max(ms):6.1f} max")
    runner.shutdown()


if __name__ == "__main__":
    main()
