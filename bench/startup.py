"""Cold start of ARM to the first painted window (median of N runs) and peak RSS.

Anchor, measured side by side in the same run: a bare PySide6 script that shows an empty
QMainWindow — what Python + Qt cost before ARM adds anything.  Also reports the time until the
window is *usable* (database open, registry ready) on a seeded demo database.

    .venv/bin/python bench/startup.py [--runs 7]

Runs under Xvfb (started here) so the real xcb platform plugin paints, as on a clinic PC.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BARE = r"""
import resource, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1366, 768)
class P(QObject):
    done = False
    def eventFilter(self, o, e):
        if not self.done and e.type() == QEvent.Type.Paint:
            self.done = True
            def mark():
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"FIRST_PAINT {time.time():.6f} {rss:.1f}", flush=True); app.quit()
            QTimer.singleShot(0, mark)
        return False
p = P(); w.installEventFilter(p); w.show(); app.exec()
"""


def _start_xvfb() -> tuple[subprocess.Popen[bytes] | None, dict[str, str]]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    if shutil.which("Xvfb") is None:
        env["QT_QPA_PLATFORM"] = "offscreen"
        return None, env
    display = ":93"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    env["DISPLAY"] = display
    return proc, env


def _run(cmd: list[str], env: dict[str, str], want: str) -> tuple[float, float]:
    t0 = time.time()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    for line in out.stdout.splitlines():
        if line.startswith(want + " "):
            _, stamp, rss = line.split()
            return float(stamp) - t0, float(rss)
    raise RuntimeError(f"{cmd} did not report {want}:\n{out.stdout}\n{out.stderr}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    xvfb, env = _start_xvfb()
    data = Path(tempfile.mkdtemp(prefix="arm-bench-"))
    env.update(
        ARM_DATA_DIR=str(data),
        ARM_SITE_CONFIG=str(data / "none.toml"),
        ARM_USER_CONFIG=str(data / "none.toml"),
    )
    try:
        subprocess.run(
            [PY, "-m", "arm", "--demo", "demo", "seed"], env=env, check=True, capture_output=True
        )
        arm_cmd = [PY, "-m", "arm", "--demo"]
        bare_cmd = [PY, "-c", BARE]
        _run(
            arm_cmd, {**env, "ARM_BENCH_EXIT_ON": "paint"}, "FIRST_PAINT"
        )  # warm the page cache once
        runs: dict[str, list[tuple[float, float]]] = {"bare": [], "paint": [], "ready": []}
        for _ in range(args.runs):
            runs["bare"].append(_run(bare_cmd, env, "FIRST_PAINT"))
            runs["paint"].append(
                _run(arm_cmd, {**env, "ARM_BENCH_EXIT_ON": "paint"}, "FIRST_PAINT")
            )
            runs["ready"].append(_run(arm_cmd, {**env, "ARM_BENCH_EXIT_ON": "ready"}, "READY"))
        arm_paint = [t for t, _ in runs["paint"]]
        bare_paint = [t for t, _ in runs["bare"]]
        ready = [t for t, _ in runs["ready"]]
        arm_rss = [r for _, r in runs["paint"]]
        bare_rss = [r for _, r in runs["bare"]]
        ready_rss = [r for _, r in runs["ready"]]
        med = statistics.median
        platform = "xcb on Xvfb" if xvfb else "offscreen"
        print(f"platform: {platform}; runs: {args.runs}; demo database: 5,000 patients")
        print(
            f"ARM cold start to first painted window: median {med(arm_paint) * 1000:.0f} ms "
            f"(min {min(arm_paint) * 1000:.0f}, max {max(arm_paint) * 1000:.0f})  budget 1000 ms"
        )
        print(f"anchor, bare PySide6 window:             median {med(bare_paint) * 1000:.0f} ms")
        print(f"ratio ARM / bare Qt: {med(arm_paint) / med(bare_paint):.2f}x")
        print(f"ARM start to usable registry (DB open): median {med(ready) * 1000:.0f} ms")
        print(
            f"peak RSS: ARM at first paint {max(arm_rss):.0f} MB, ARM ready {max(ready_rss):.0f} MB "
            f"(budget 200 MB), bare Qt {max(bare_rss):.0f} MB"
        )
    finally:
        shutil.rmtree(data, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()


if __name__ == "__main__":
    main()
