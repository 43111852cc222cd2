"""A private pcscd with the virtual reader, for the test suite and the demo.

pcscd's socket path is compiled in (``/run/pcscd/pcscd.comm``) and a second daemon on it
refuses to start, so ours runs in its own mount namespace (``unshare -m`` as root,
``unshare -Urm`` otherwise) with a temporary directory bound over ``/run/pcscd``; clients
find it through ``PCSCLITE_CSOCK_NAME``, which libpcsclite reads once, before the first PC/SC
call of the process.  The vpcd driver gets its own pair of TCP ports so runs never collide.

Never on a production workstation: vpcd listens on every interface, and anyone who reaches
the port can "insert" a card (``shared/CARDS.md``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from services.errors import PeerUnavailable

__all__ = ["PrivatePcscd", "free_port_pair", "INSTALL_HINT"]

INSTALL_HINT = "apt-get install pcscd vsmartcard-vpcd libpcsclite-dev swig gcc"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_NAME = "Virtual PCD"


def free_port_pair() -> int:
    """A port P with P and P+1 both free (vpcd's two slots)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65535:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("0.0.0.0", port + 1))
            return port
        except OSError:
            continue
    raise OSError("no free pair of TCP ports for vpcd")


class PrivatePcscd:
    """``start()`` → readers ``Virtual PCD 00 00`` (``port``) and ``... 00 01`` (``port+1``)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port_pair()
        self.dir = Path(tempfile.mkdtemp(prefix="arm-pcscd-"))
        self.socket_path = self.dir / "pcscd.comm"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "pcscd.log"

    @property
    def readers(self) -> tuple[str, str]:
        return (f"{READER_NAME} 00 00", f"{READER_NAME} 00 01")

    def start(self, timeout: float = 5.0) -> None:
        pcscd = shutil.which("pcscd") or (
            "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None
        )
        if pcscd is None or not VPCD_DRIVER.exists():
            raise PeerUnavailable(
                "Считыватель карт", f"нет pcscd или vpcd; установите: {INSTALL_HINT}"
            )
        if shutil.which("unshare") is None:
            raise PeerUnavailable("Считыватель карт", "нет unshare (util-linux)")
        run_dir = self.dir / "run"
        run_dir.mkdir()
        conf = self.dir / "reader.conf"
        conf.write_text(
            f'FRIENDLYNAME "{READER_NAME}"\n'
            f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    0x{self.port:04X}\n"
        )
        flags = "-m" if os.geteuid() == 0 else "-Urm"
        # /run/pcscd must exist to be bound over; inside the namespace nothing leaks out.
        script = (
            "mkdir -p /run/pcscd 2>/dev/null; "
            f'mount --bind "{run_dir}" /run/pcscd && exec "{pcscd}" -f -c "{conf}"'
        )
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                ["unshare", flags, "sh", "-c", script],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.socket_path = run_dir / "pcscd.comm"
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PeerUnavailable(
                    "Служба смарт-карт (pcscd)",
                    "не запустилась: " + self.log_path.read_text(errors="replace")[-400:],
                )
            time.sleep(0.01)
        self._wait_port(deadline)

    def _wait_port(self, deadline: float) -> None:
        """vpcd opens its listening ports once the reader is loaded; look, don't connect
        (a connection would be a card insertion)."""
        want = {f"{self.port:04X}", f"{self.port + 1:04X}"}
        while True:
            listening = set()
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    lines = Path(table).read_text().splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    cols = line.split()
                    if len(cols) > 3 and cols[3] == "0A":  # LISTEN
                        listening.add(cols[1].rsplit(":", 1)[1])
            if want <= listening:
                return
            if time.monotonic() > deadline:
                raise PeerUnavailable(
                    "Служба смарт-карт (pcscd)", "виртуальный считыватель не открылся"
                )
            time.sleep(0.01)

    def use(self) -> None:
        """Point this process's PC/SC clients at this daemon (before the first PC/SC call)."""
        os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=3)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivatePcscd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
