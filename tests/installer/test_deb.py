"""The package on this machine, as IT staff use it: build, apt-get install, start, upgrade,
remove, purge — the site config and users' data surviving what they must survive.

It installs a real package system-wide, so it needs root and apt (CI has both); without
them it fails with the command to run, it does not skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.deb

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path("/etc/arm/arm.toml")


def _run(*cmd: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} → {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _apt(*args: str) -> None:
    _run("apt-get", "-y", "-q", "--no-install-recommends", *args,
         env={"DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip


def _installed_version() -> str | None:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}|${Version}", "arm"], capture_output=True, text=True
    )
    status, _, version = done.stdout.partition("|")
    return version if status.endswith("install ok installed") else None


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The package as built from this checkout, and the next version's."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.fail(
            "the package test installs a .deb system-wide: run the suite as root on Debian "
            "(bash installer/bootstrap.sh test does)",
            pytrace=False,
        )
    if _installed_version() is not None:
        _apt("purge", "arm")  # a left-over from an interrupted run
    out = tmp_path_factory.mktemp("dist")
    first = Path(
        _run(str(ROOT / "installer/build-deb"), str(out), env={"ARM_DEB_COMPRESS": "zstd"}).strip()
    )
    # The next release: this checkout with its version bumped, built the same way.
    version = first.name.split("_")[1]
    tree = out / "next"
    shutil.copytree(
        ROOT,
        tree,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "dist", "build", "*.egg-info", "__pycache__", ".*_cache", "out"
        ),
    )
    init = tree / "arm/__init__.py"
    init.write_text(init.read_text().replace(f'"{version}"', f'"{version}+1"'))
    second = Path(
        _run(str(tree / "installer/build-deb"), str(out), env={"ARM_DEB_COMPRESS": "zstd"}).strip()
    )
    shutil.rmtree(tree)
    yield first, second
    if _installed_version() is not None:
        _apt("purge", "arm")


def test_install_start_upgrade_remove_purge(packages: tuple[Path, Path], tmp_path: Path) -> None:
    first, second = packages
    _apt("install", str(first))
    try:
        version = _installed_version()
        assert version is not None
        assert _run("arm", "--version").strip() == f"arm {version}"
        assert Path("/usr/share/applications/arm.desktop").is_file()
        assert "Exec=arm" in Path("/usr/share/applications/arm.desktop").read_text()
        assert CONFIG.is_file()

        # A doctor starts it (offscreen): the window comes up and waits at the sign-in gate,
        # its embedded database made in the user's own data dir.
        home = tmp_path / "home"
        home.mkdir()
        env = {"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "ARM_BENCH_EXIT_ON": "ready"}
        for var in ("ARM_SITE_CONFIG", "ARM_USER_CONFIG", "ARM_DATA_DIR"):
            env[var] = ""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ARM_")}
        started = subprocess.run(
            ["arm"], capture_output=True, text=True, timeout=120,
            env={**clean, **{k: v for k, v in env.items() if v}},
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        assert "READY" in started.stdout
        data = home / ".local/share/arm/arm.sqlite3"
        assert data.is_file()

        # IT edits the site config; the upgrade keeps the edit and the user's data.
        CONFIG.write_text(CONFIG.read_text() + '\n[workstation]\ncode = "ws-upgrade-test"\n')
        _apt("install", str(second))
        assert _installed_version() == f"{version}+1"
        assert 'code = "ws-upgrade-test"' in CONFIG.read_text()
        assert data.is_file()
        assert _run("arm", "--version").strip() == f"arm {version}+1"

        # remove: the program goes, the config and the data stay.
        _apt("remove", "arm")
        assert _installed_version() is None
        assert not Path("/usr/bin/arm").exists()
        assert not Path("/opt/arm").exists()
        assert 'code = "ws-upgrade-test"' in CONFIG.read_text()
        assert data.is_file()

        # purge: the config goes too; a user's data never does.
        _apt("purge", "arm")
        assert not CONFIG.exists()
        assert not Path("/etc/arm").exists()
        assert data.is_file()
    finally:
        if _installed_version() is not None:
            _apt("purge", "arm")
