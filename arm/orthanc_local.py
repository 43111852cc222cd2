"""Debian's Orthanc as a real PACS for tests and benches: unprivileged, loopback, its own config.

Why a process of our own rather than a system service: the tests need free ports, a clean
database per session and the DICOM settings DICOM.md measured (``TCP_NODELAY=1`` in the
environment — Orthanc's ``TcpNoDelay`` key only reaches its HTTP side; C-GET and C-MOVE are off
by default).  Orthanc has no bind-address option, so it listens on every interface: we only
ever talk to it on 127.0.0.1.  If it is not installed this *fails* with the apt command — a PACS
test that skips proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
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


class OrthancMissing(RuntimeError):
    """Orthanc (or dcmtk) is not installed; the message says how to install it."""


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the kernel's pick, closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        nodelay: bool = True,
        timeout: float = 30.0,
    ) -> Orthanc:
        """Start Orthanc with its storage under ``root`` and wait until it answers.

        ``modalities`` are the C-MOVE destinations (``{"arm": ("ARMSCP", "127.0.0.1", 11113)}``).
        """
        exe = shutil.which("Orthanc")
        if exe is None:
            raise OrthancMissing(f"Orthanc is not installed; install it with:  {INSTALL}")
        root.mkdir(parents=True, exist_ok=True)
        dicom_port, http_port = free_port(), free_port()
        config = {
            "Name": "arm-test",
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
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True,
            "DicomAlwaysAllowMove": True,
            "DicomModalities": {k: list(v) for k, v in (modalities or {}).items()},
            "StorageCompression": False,
            "DefaultEncoding": "Utf8",
            "TcpNoDelay": True,
            "ConcurrentJobs": 2,
            "SaveJobs": False,
            "StableAge": 1,
        }
        cfg = root / "orthanc.json"
        cfg.write_text(json.dumps(config, indent=2), encoding="utf-8")
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
        server = cls(root, dicom_port, http_port, proc)
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

    def log_tail(self, n: int = 2000) -> str:
        try:
            return (self.root / "orthanc.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def rest(self, method: str, path: str, body: bytes | None = None) -> object:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", data=body, method=method
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = resp.read()
        return json.loads(data) if data else None

    def upload(self, files: Iterable[Path]) -> int:
        """Store files through the REST API (faster than storescu with Nagle, no dcmtk needed)."""
        n = 0
        for path in files:
            self.rest("POST", "/instances", path.read_bytes())
            n += 1
        return n

    def clear(self) -> None:
        for study in self.rest("GET", "/studies") or []:  # type: ignore[union-attr]
            self.rest("DELETE", f"/studies/{study}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def __enter__(self) -> Orthanc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
