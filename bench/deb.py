"""The package as IT staff get it: build time, .deb size, installed size, install time.

    sudo .venv/bin/python bench/deb.py [arm_X_amd64.deb]   (root: installs, then purges it)

Without an argument it builds the package first (and reports the build time).

The anchor for the install time is dpkg itself unpacking the same archive (``dpkg -i``),
measured in the same run; ``apt-get install ./arm_*.deb`` adds dependency resolution.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*cmd: str) -> str:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def timed(*cmd: str) -> float:
    t0 = time.monotonic()
    run(*cmd)
    return time.monotonic() - t0


def main() -> int:
    if os.geteuid() != 0:
        print("run as root: it installs and purges the package")
        return 2
    if len(sys.argv) > 1:
        deb = Path(sys.argv[1])
    else:
        out = Path(tempfile.mkdtemp(prefix="arm-deb-"))
        t0 = time.monotonic()
        deb = Path(run(str(ROOT / "installer/build-deb"), str(out)).strip())
        print(f"build (xz):            {time.monotonic() - t0:.0f} s")
    print(f"package:               {deb.name}, {deb.stat().st_size / 1e6:.1f} MB")
    run("dpkg", "--purge", "arm")  # nothing to do when it is not installed
    apt_s = timed("apt-get", "-y", "--no-install-recommends", "install", str(deb))
    size = run("dpkg-query", "-W", "-f=${Installed-Size}", "arm")
    print(f"installed size:        {int(size) / 1024:.0f} MB")
    print(f"apt-get install:       {apt_s:.1f} s")
    remove_s = timed("dpkg", "--purge", "arm")
    dpkg_s = timed("dpkg", "-i", str(deb))
    print(f"dpkg -i (anchor):      {dpkg_s:.1f} s   ratio {apt_s / dpkg_s:.2f}×")
    print(f"dpkg --purge:          {remove_s:.1f} s")
    run("dpkg", "--purge", "arm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
