"""Debian's Orthanc as a local PACS process: for the tests, the benches and the demo.

Unprivileged, its own config and storage under ``root``, free ports unless told otherwise.
The tests get a real PACS with a clean database per session; the demo (:mod:`arm.demo_pacs`)
gets a persistent one that ``arm --demo`` starts with itself.  Like
:class:`arm.kannel_local.LocalKannel`, a started Orthanc is stopped at interpreter exit, and
one left behind by a killed process (its pid is kept in ``root/orthanc.pid``) is ended before
a new one opens the same storage.

Why a process of our own rather than a system service: free ports, a database we own and the
DICOM settings DICOM.md measured (``TCP_NODELAY=1`` in the environment — Orthanc's
``TcpNoDelay`` key only reaches its HTTP side; C-GET and C-MOVE are off by default).  Orthanc
1.10 has no bind-address option, so it listens on every interface: we only ever talk to it on
127.0.0.1, and ``known_peers_only=True`` (the demo) answers nobody but the registered
modalities from their own addresses.  If it is not installed this *fails* with the apt
command — a PACS test that skips proves nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INSTALL", "Orthanc", "OrthancMissing", "free_port"]

INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends orthanc dcmtk"
AET = "ORTHANC"
PID_FILE = "orthanc.pid"
# Straight to 127.0.0.1: a clinic PC's http_proxy must not carry our REST calls away.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class OrthancMissing(RuntimeError):
    """Orthanc (or dcmtk) is not installed; the message says how to install it."""


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the kernel's pick, closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _end_stale(pid_file: Path, cfg: Path) -> None:
    """End an Orthanc a killed process left running on this storage (Linux: /proc).

    Only a process whose command line names this very config file: a pid reused by something
    else is left alone.  Two Orthancs on one index would corrupt it.
    """
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if str(cfg).encode() not in cmdline:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)


@dataclass
class Orthanc:
    """One running Orthanc; ``stop()`` (or the context manager) ends it."""

    root: Path
    dicom_port: int
    http_port: int
    process: subprocess.Popen[bytes]
    aet: str = AET

    @classmethod
    def start(
        cls,
        root: Path,
        modalities: Mapping[str, tuple[str, str, int]] | None = None,
        *,
        dicom_port: int | None = None,
        http_port: int | None = None,
        name: str = "arm-test",
        known_peers_only: bool = False,
        nodelay: bool = True,
        timeout: float = 30.0,
    ) -> Orthanc:
        """Start Orthanc with its storage under ``root`` and wait until it answers.

        ``modalities`` are the C-MOVE destinations (``{"arm": ("ARMSCP", "127.0.0.1", 11113)}``).
        Ports default to free ones.  ``known_peers_only`` refuses C-FIND/GET/MOVE/STORE (and
        C-ECHO) from anyone but ``modalities``, checking their address too.  The storage is
        kept between starts with the same ``root``.

        Raises:
            OrthancMissing: Orthanc is not installed (the message has the apt command).
            RuntimeError: It exited or did not answer within ``timeout`` (the log's tail).
        """
        # /usr/sbin is where Debian puts it and is not on a desktop user's PATH
        search = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/sbin", "/usr/bin"])
        exe = shutil.which("Orthanc", path=search)
        if exe is None:
            raise OrthancMissing(f"Orthanc is not installed; install it with:  {INSTALL}")
        root.mkdir(parents=True, exist_ok=True)
        cfg = root / "orthanc.json"
        _end_stale(root / PID_FILE, cfg)
        dicom_port = dicom_port or free_port()
        http_port = http_port or free_port()
        open_door = not known_peers_only
        config = {
            "Name": name,
            "StorageDirectory": str(root / "storage"),
            "IndexDirectory": str(root / "index"),
            "Plugins": [],
            "HttpPort": http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "HttpServerEnabled": True,
            "DicomServerEnabled": True,
            "DicomAet": AET,
            "DicomPort": dicom_port,
            "DicomCheckCalledAet": True,
            "DicomAlwaysAllowEcho": open_door,
            "DicomAlwaysAllowStore": open_door,
            "DicomAlwaysAllowFind": open_door,
            "DicomAlwaysAllowGet": open_door,
            "DicomAlwaysAllowMove": open_door,
            "DicomCheckModalityHost": known_peers_only,
            "DicomModalities": {k: list(v) for k, v in (modalities or {}).items()},
            "StorageCompression": False,
            # Every file stored here can be generated again (tests, benches, the demo's seed,
            # which re-seeds when its marker is missing): no fsync per instance.
            "SyncStorageArea": False,
            "DefaultEncoding": "Utf8",
            "TcpNoDelay": True,
            "ConcurrentJobs": 2,
            "SaveJobs": False,
            "StableAge": 1,
        }
        cfg.write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ)
        if nodelay:
            env["TCP_NODELAY"] = "1"
        else:
            env.pop("TCP_NODELAY", None)
        log = (root / "orthanc.log").open("wb")
        proc = subprocess.Popen(
            [exe, str(cfg)], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root
        )
        log.close()
        (root / PID_FILE).write_text(str(proc.pid), encoding="ascii")
        server = cls(root, dicom_port, http_port, proc)
        atexit.register(server.stop)  # never leave a PACS behind a crashed demo or test
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {proc.returncode}: {server.log_tail()}")
            try:
                server.rest("GET", "/system")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"Orthanc did not start: {server.log_tail()}") from None
                time.sleep(0.05)
        return server

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, n: int = 2000) -> str:
        try:
            return (self.root / "orthanc.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def rest(self, method: str, path: str, body: bytes | None = None) -> object:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", data=body, method=method
        )
        with _LOOPBACK.open(req, timeout=30) as resp:
            data = resp.read()
        return json.loads(data) if data else None

    def upload(self, files: Iterable[Path]) -> int:
        """Store files through the REST API (faster than storescu with Nagle, no dcmtk needed)."""
        n = 0
        for path in files:
            self.rest("POST", "/instances", path.read_bytes())
            n += 1
        return n

    def studies(self) -> list[str]:
        """Orthanc's ids of every stored study."""
        found = self.rest("GET", "/studies")
        return [str(s) for s in found] if isinstance(found, list) else []

    def clear(self) -> None:
        for study in self.studies():
            self.rest("DELETE", f"/studies/{study}")

    def stop(self) -> None:
        """Terminate (SIGKILL after 10 s); idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        with contextlib.suppress(OSError):
            pid = (self.root / PID_FILE).read_text(encoding="ascii").strip()
            if pid == str(self.process.pid):
                (self.root / PID_FILE).unlink()
        atexit.unregister(self.stop)

    def __enter__(self) -> Orthanc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
